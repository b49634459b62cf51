//! Proto ↔ domain for every placements record kind ([`WireRecord`]): validation happens here,
//! once, each problem named by its field within the record.

use csc_core::{FieldCheck, Violations, codes, format_optional_date};
use csc_proto::placements as pb;
use csc_runtime::Error;
use csc_runtime::rpc::{self, WireRecord, child_date_key};

use crate::domain::{
    CareSummary, Child, ChildKey, ClaReview, Episode, History, Sex, SwAllocation, SwAllocationKey,
    Warning,
};

// ---- shared by the conversions ---------------------------------------------------------------

fn sex_from(v: i32) -> Option<Sex> {
    match pb::Sex::try_from(v) {
        Ok(pb::Sex::Male) => Some(Sex::Male),
        Ok(pb::Sex::Female) => Some(Sex::Female),
        Ok(pb::Sex::Unknown) => Some(Sex::Unknown),
        _ => None,
    }
}

fn text(t: &Option<String>) -> String {
    t.clone().unwrap_or_default()
}

pub(super) fn warning_to(w: &Warning) -> pb::HistoryWarning {
    pb::HistoryWarning {
        child_id: w.child_id.clone(),
        date: w.date.to_string(),
        message: w.message.clone(),
        kind: w.kind.to_owned(),
    }
}

pub(super) fn history_to(key: &ChildKey, h: &History<'_>) -> pb::CareHistory {
    pb::CareHistory {
        la_code: key.la_code.to_string(),
        child_id: key.child_id.clone(),
        periods: h
            .periods
            .iter()
            .map(|p| pb::PeriodOfCare {
                start_date: p.start.to_string(),
                end_date: format_optional_date(p.end),
                placements: p
                    .placements
                    .iter()
                    .map(|pl| pb::Placement {
                        start_date: pl.start.to_string(),
                        end_date: format_optional_date(pl.end),
                        place: pl.first.place.clone(),
                        ended_with_move: pl.ended_with_move,
                        end_reason: pl.end_reason().unwrap_or_default().to_owned(),
                    })
                    .collect(),
            })
            .collect(),
        warnings: h.warnings.iter().map(warning_to).collect(),
    }
}

// ---- the record kinds ------------------------------------------------------------------------

impl WireRecord for Child {
    type Proto = pb::Child;
    type ProtoKey = pb::ChildKey;
    type Batch = pb::BatchUpsertChildrenRequest;
    type List = pb::ListChildrenResponse;
    const BATCH_UPSERT: &str = "BatchUpsertChildren";

    fn from_proto(p: &pb::Child) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let sex = sex_from(p.sex);
        if sex.is_none() {
            c.fail("sex", "required: MALE, FEMALE or UNKNOWN");
        }
        let date_of_birth = c.date("date_of_birth", &p.date_of_birth);
        let ethnicity = c.text("ethnicity", &p.ethnicity, false, 8);
        let upn = c.text("upn", &p.upn, false, 16);
        let r = (|| {
            Some(Child {
                la_code: la_code?,
                child_id: child_id?,
                sex: sex?,
                date_of_birth: date_of_birth?,
                ethnicity: ethnicity?,
                upn: upn?,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::Child {
        pb::Child {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            sex: (match self.sex {
                Sex::Male => pb::Sex::Male,
                Sex::Female => pb::Sex::Female,
                Sex::Unknown => pb::Sex::Unknown,
            }) as i32,
            date_of_birth: self.date_of_birth.to_string(),
            ethnicity: text(&self.ethnicity),
            upn: text(&self.upn),
        }
    }

    fn key_from_proto(p: &pb::ChildKey) -> Result<Self::Key, Error> {
        let (la_code, child_id) = rpc::la_id_key(&p.la_code, "child_id", &p.child_id)?;
        Ok(ChildKey { la_code, child_id })
    }
}

impl WireRecord for Episode {
    type Proto = pb::Episode;
    type ProtoKey = pb::EpisodeKey;
    type Batch = pb::BatchUpsertEpisodesRequest;
    type List = pb::ListEpisodesResponse;
    const BATCH_UPSERT: &str = "BatchUpsertEpisodes";

    fn from_proto(p: &pb::Episode) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let decom = c.date("decom", &p.decom);
        let rne = c.required_code(
            "rne",
            &p.rne.trim().to_ascii_uppercase(),
            codes::is_reason_new_episode,
            "903 reason for new episode (RNE: S, L, P, T, U or B)",
        );
        // Required unless the batch keeps stored values (`check_episodes`), as is `place`.
        let legal_status = c.code(
            "legal_status",
            &p.legal_status.trim().to_ascii_uppercase(),
            codes::is_legal_status,
            "903 legal status (LS)",
        );
        let cin = c.code(
            "cin",
            &p.cin.trim().to_ascii_uppercase(),
            |x| x.len() == 2 && x.starts_with('N') && x.as_bytes()[1].is_ascii_digit(),
            "903 category of need (CIN: N1-N9)",
        );
        let place = c.code(
            "place",
            &p.place.trim().to_ascii_uppercase(),
            codes::is_placement_type,
            "903 placement type (PLACE)",
        );
        let place_provider = c.code(
            "place_provider",
            &p.place_provider.trim().to_ascii_uppercase(),
            codes::is_placement_provider,
            "903 placement provider (PR0-PR5)",
        );
        let dec = c.optional_date("dec", &p.dec);
        c.not_before("dec", dec.flatten(), decom, "episode's start (DECOM)");
        let rec = c.code(
            "rec",
            &p.rec.trim().to_ascii_uppercase(),
            codes::is_reason_episode_ceased,
            "903 reason episode ceased (REC: X1 or an E code)",
        );
        let reason_place_change = c.text(
            "reason_place_change",
            &p.reason_place_change.trim().to_ascii_uppercase(),
            false,
            16,
        );
        let home_post = c.text("home_post", &p.home_post, false, 10);
        let pl_post = c.text("pl_post", &p.pl_post, false, 10);
        let urn = c.text("urn", &p.urn, false, 20);
        let r = (|| {
            Some(Episode {
                la_code: la_code?,
                child_id: child_id?,
                decom: decom?,
                rne: rne?,
                legal_status: legal_status?.unwrap_or_default(),
                cin: cin?,
                place: place?.unwrap_or_default(),
                place_provider: place_provider?,
                dec: dec?,
                rec: rec?,
                reason_place_change: reason_place_change?,
                home_post: home_post?,
                pl_post: pl_post?,
                urn: urn?,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::Episode {
        pb::Episode {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            decom: self.decom.to_string(),
            rne: self.rne.clone(),
            legal_status: self.legal_status.clone(),
            cin: text(&self.cin),
            place: self.place.clone(),
            place_provider: text(&self.place_provider),
            dec: format_optional_date(self.dec),
            rec: text(&self.rec),
            reason_place_change: text(&self.reason_place_change),
            home_post: text(&self.home_post),
            pl_post: text(&self.pl_post),
            urn: text(&self.urn),
        }
    }

    fn key_from_proto(k: &pb::EpisodeKey) -> Result<Self::Key, Error> {
        child_date_key(&k.la_code, &k.child_id, "decom", &k.decom)
    }
}

impl WireRecord for SwAllocation {
    type Proto = pb::SocialWorkerAllocation;
    type ProtoKey = pb::SocialWorkerAllocationKey;
    type Batch = pb::BatchUpsertSocialWorkerAllocationsRequest;
    type List = pb::ListSocialWorkerAllocationsResponse;
    const BATCH_UPSERT: &str = "BatchUpsertSocialWorkerAllocations";

    fn from_proto(p: &pb::SocialWorkerAllocation) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let sw_id = c.id("sw_id", &p.sw_id);
        let start_date = c.date("start_date", &p.start_date);
        let end_date = c.optional_date("end_date", &p.end_date);
        c.not_before(
            "end_date",
            end_date.flatten(),
            start_date,
            "allocation's start",
        );
        let reason = c.text("reason", &p.reason, false, 16);
        let r = (|| {
            Some(SwAllocation {
                la_code: la_code?,
                child_id: child_id?,
                sw_id: sw_id?,
                start_date: start_date?,
                end_date: end_date?,
                reason: reason?,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::SocialWorkerAllocation {
        pb::SocialWorkerAllocation {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            sw_id: self.sw_id.clone(),
            start_date: self.start_date.to_string(),
            end_date: format_optional_date(self.end_date),
            reason: text(&self.reason),
        }
    }

    fn key_from_proto(p: &pb::SocialWorkerAllocationKey) -> Result<Self::Key, Error> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let sw_id = c.id("sw_id", &p.sw_id);
        let start_date = c.date("start_date", &p.start_date);
        let k = (|| {
            Some(SwAllocationKey {
                la_code: la_code?,
                child_id: child_id?,
                sw_id: sw_id?,
                start_date: start_date?,
            })
        })();
        Ok(c.done(k)?)
    }
}

impl WireRecord for CareSummary {
    type Proto = pb::CareSummary;
    type ProtoKey = pb::CareSummaryKey;
    type Batch = pb::BatchUpsertCareSummariesRequest;
    type List = pb::ListCareSummariesResponse;
    const BATCH_UPSERT: &str = "BatchUpsertCareSummaries";

    fn from_proto(p: &pb::CareSummary) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let care_start_date = c.date("care_start_date", &p.care_start_date);
        let legal_status = c.code(
            "legal_status",
            &p.legal_status.trim().to_ascii_uppercase(),
            codes::is_legal_status,
            "903 legal status (LS)",
        );
        let legal_status_start_date =
            c.optional_date("legal_status_start_date", &p.legal_status_start_date);
        let last_visit_date = c.optional_date("last_visit_date", &p.last_visit_date);
        let ceased_date = c.optional_date("ceased_date", &p.ceased_date);
        c.not_before(
            "ceased_date",
            ceased_date.flatten(),
            care_start_date,
            "date care started",
        );
        let reason_ceased = c.code(
            "reason_ceased",
            &p.reason_ceased.trim().to_ascii_uppercase(),
            codes::is_reason_episode_ceased,
            "903 reason episode ceased (REC: X1 or an E code)",
        );
        let r = (|| {
            Some(CareSummary {
                la_code: la_code?,
                child_id: child_id?,
                care_start_date: care_start_date?,
                legal_status: legal_status?,
                legal_status_start_date: legal_status_start_date?,
                last_visit_date: last_visit_date?,
                ceased_date: ceased_date?,
                reason_ceased: reason_ceased?,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::CareSummary {
        pb::CareSummary {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            care_start_date: self.care_start_date.to_string(),
            legal_status: text(&self.legal_status),
            legal_status_start_date: format_optional_date(self.legal_status_start_date),
            last_visit_date: format_optional_date(self.last_visit_date),
            ceased_date: format_optional_date(self.ceased_date),
            reason_ceased: text(&self.reason_ceased),
        }
    }

    fn key_from_proto(k: &pb::CareSummaryKey) -> Result<Self::Key, Error> {
        child_date_key(
            &k.la_code,
            &k.child_id,
            "care_start_date",
            &k.care_start_date,
        )
    }
}

impl WireRecord for ClaReview {
    type Proto = pb::Review;
    type ProtoKey = pb::ReviewKey;
    type Batch = pb::BatchUpsertReviewsRequest;
    type List = pb::ListReviewsResponse;
    const BATCH_UPSERT: &str = "BatchUpsertReviews";

    fn from_proto(p: &pb::Review) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let review_date = c.date("review_date", &p.review_date);
        let review_code = c.text("review_code", &p.review_code, false, 8);
        let r = (|| {
            Some(ClaReview {
                la_code: la_code?,
                child_id: child_id?,
                review_date: review_date?,
                review_code: review_code?,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::Review {
        pb::Review {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            review_date: self.review_date.to_string(),
            review_code: text(&self.review_code),
        }
    }

    fn key_from_proto(k: &pb::ReviewKey) -> Result<Self::Key, Error> {
        child_date_key(&k.la_code, &k.child_id, "review_date", &k.review_date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn episode() -> pb::Episode {
        pb::Episode {
            la_code: "885".into(),
            child_id: "C1".into(),
            decom: "2018-04-01".into(),
            rne: "S".into(),
            legal_status: "C2".into(),
            cin: "N1".into(),
            place: "U4".into(),
            place_provider: "PR1".into(),
            dec: "2018-06-01".into(),
            rec: "X1".into(),
            reason_place_change: "CREQB".into(),
            home_post: "AB1 2CD".into(),
            pl_post: "AB3 4EF".into(),
            urn: "SC123456".into(),
        }
    }

    #[test]
    fn a_valid_episode_round_trips() {
        let e = Episode::from_proto(&episode()).unwrap();
        assert_eq!(e.to_proto(), episode());
    }

    #[test]
    fn every_placement_code_of_2017_to_2027_is_accepted() {
        for place in ["H5", "P2", "K3", "Z1", "Z11", "Z14", "A3", "T4", "R3", "P3"] {
            let p = pb::Episode {
                place: place.into(),
                ..episode()
            };
            assert!(Episode::from_proto(&p).is_ok(), "{place}");
        }
    }

    #[test]
    fn each_bad_episode_field_is_named() {
        let p = pb::Episode {
            rne: "X".into(),
            legal_status: "Z9".into(),
            place: "Q9".into(),
            dec: "2018-03-01".into(),
            rec: "E99X".into(),
            ..episode()
        };
        let v = Episode::from_proto(&p)
            .map_err(|v| v.under("records[2]"))
            .unwrap_err();
        let fields: Vec<_> = v.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "records[2].rne",
                "records[2].legal_status",
                "records[2].place",
                "records[2].dec",
                "records[2].rec"
            ]
        );
    }

    /// An empty legal status or placement type passes here: whether the batch may leave them
    /// out (`keep_stored`) is the write's check (`check_episodes`).
    #[test]
    fn an_episode_without_legal_status_or_placement_converts_as_not_recorded() {
        let p = pb::Episode {
            legal_status: "".into(),
            place: "".into(),
            ..episode()
        };
        let e = Episode::from_proto(&p).unwrap();
        assert_eq!((e.legal_status.as_str(), e.place.as_str()), ("", ""));
        assert!(!e.is_short_break());
    }
}
