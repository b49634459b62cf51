//! The gRPC face of the looked-after children service: proto ↔ domain conversion (validation
//! happens here, once) and the tonic implementation, which only converts, calls the store or the
//! domain, and converts back.

use chrono::NaiveDate;
use csc_core::{ChildDateKey, FieldCheck, Violations, codes};
use csc_proto::{common as cpb, placements as pb};
use csc_runtime::rpc::{self, child_date_key};
use csc_runtime::{Error, coverage, paging};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::domain::{
    self, CareSummary, Child, ChildKey, ClaReview, Episode, History, Sex, SwAllocation,
    SwAllocationKey, Warning,
};
use crate::store;

/// The service implementation, holding its database.
#[derive(Clone)]
pub struct Placements {
    db: DatabaseConnection,
}

impl Placements {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

// ---- proto → domain -------------------------------------------------------------------------

fn sex_from(v: i32) -> Option<Sex> {
    match pb::Sex::try_from(v) {
        Ok(pb::Sex::Male) => Some(Sex::Male),
        Ok(pb::Sex::Female) => Some(Sex::Female),
        Ok(pb::Sex::Unknown) => Some(Sex::Unknown),
        _ => None,
    }
}

/// A wire child as a domain child, each problem named under `prefix`.
pub fn child_from(p: &pb::Child, prefix: &str) -> Result<Child, Violations> {
    let mut c = FieldCheck::new(prefix);
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

/// A wire episode as a domain episode, each problem named under `prefix`.
pub fn episode_from(p: &pb::Episode, prefix: &str) -> Result<Episode, Violations> {
    let mut c = FieldCheck::new(prefix);
    let la_code = c.la_code("la_code", &p.la_code);
    let child_id = c.id("child_id", &p.child_id);
    let decom = c.date("decom", &p.decom);
    let rne = c.required_code(
        "rne",
        &p.rne.trim().to_ascii_uppercase(),
        codes::is_reason_new_episode,
        "903 reason for new episode (RNE: S, L, P, T, U or B)",
    );
    let legal_status = c.required_code(
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
    let place = c.required_code(
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
            legal_status: legal_status?,
            cin: cin?,
            place: place?,
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

fn allocation_from(
    p: &pb::SocialWorkerAllocation,
    prefix: &str,
) -> Result<SwAllocation, Violations> {
    let mut c = FieldCheck::new(prefix);
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

fn review_from(p: &pb::Review, prefix: &str) -> Result<ClaReview, Violations> {
    let mut c = FieldCheck::new(prefix);
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

fn child_key(p: &pb::ChildKey) -> Result<ChildKey, Error> {
    let (la_code, child_id) = rpc::la_id_key(&p.la_code, "child_id", &p.child_id)?;
    Ok(ChildKey { la_code, child_id })
}

fn episode_key(k: &pb::EpisodeKey) -> Result<ChildDateKey, Error> {
    child_date_key(&k.la_code, &k.child_id, "decom", &k.decom)
}

fn care_summary_from(p: &pb::CareSummary, prefix: &str) -> Result<CareSummary, Violations> {
    let mut c = FieldCheck::new(prefix);
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

fn care_summary_key(k: &pb::CareSummaryKey) -> Result<ChildDateKey, Error> {
    child_date_key(
        &k.la_code,
        &k.child_id,
        "care_start_date",
        &k.care_start_date,
    )
}

fn care_summary_to(r: &CareSummary) -> pb::CareSummary {
    pb::CareSummary {
        la_code: r.la_code.to_string(),
        child_id: r.child_id.clone(),
        care_start_date: r.care_start_date.to_string(),
        legal_status: text(&r.legal_status),
        legal_status_start_date: date_str(r.legal_status_start_date),
        last_visit_date: date_str(r.last_visit_date),
        ceased_date: date_str(r.ceased_date),
        reason_ceased: text(&r.reason_ceased),
    }
}

fn review_key(k: &pb::ReviewKey) -> Result<ChildDateKey, Error> {
    child_date_key(&k.la_code, &k.child_id, "review_date", &k.review_date)
}

fn allocation_key(p: &pb::SocialWorkerAllocationKey) -> Result<SwAllocationKey, Error> {
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

// ---- domain → proto -------------------------------------------------------------------------

fn date_str(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn text(t: &Option<String>) -> String {
    t.clone().unwrap_or_default()
}

fn child_to(r: &Child) -> pb::Child {
    pb::Child {
        la_code: r.la_code.to_string(),
        child_id: r.child_id.clone(),
        sex: (match r.sex {
            Sex::Male => pb::Sex::Male,
            Sex::Female => pb::Sex::Female,
            Sex::Unknown => pb::Sex::Unknown,
        }) as i32,
        date_of_birth: r.date_of_birth.to_string(),
        ethnicity: text(&r.ethnicity),
        upn: text(&r.upn),
    }
}

fn episode_to(r: &Episode) -> pb::Episode {
    pb::Episode {
        la_code: r.la_code.to_string(),
        child_id: r.child_id.clone(),
        decom: r.decom.to_string(),
        rne: r.rne.clone(),
        legal_status: r.legal_status.clone(),
        cin: text(&r.cin),
        place: r.place.clone(),
        place_provider: text(&r.place_provider),
        dec: date_str(r.dec),
        rec: text(&r.rec),
        reason_place_change: text(&r.reason_place_change),
        home_post: text(&r.home_post),
        pl_post: text(&r.pl_post),
        urn: text(&r.urn),
    }
}

fn allocation_to(r: &SwAllocation) -> pb::SocialWorkerAllocation {
    pb::SocialWorkerAllocation {
        la_code: r.la_code.to_string(),
        child_id: r.child_id.clone(),
        sw_id: r.sw_id.clone(),
        start_date: r.start_date.to_string(),
        end_date: date_str(r.end_date),
        reason: text(&r.reason),
    }
}

fn review_to(r: &ClaReview) -> pb::Review {
    pb::Review {
        la_code: r.la_code.to_string(),
        child_id: r.child_id.clone(),
        review_date: r.review_date.to_string(),
        review_code: text(&r.review_code),
    }
}

fn warning_to(w: &Warning) -> pb::HistoryWarning {
    pb::HistoryWarning {
        child_id: w.child_id.clone(),
        date: w.date.to_string(),
        message: w.message.clone(),
        kind: w.kind.to_owned(),
    }
}

fn history_to(key: &ChildKey, h: &History<'_>) -> pb::CareHistory {
    pb::CareHistory {
        la_code: key.la_code.to_string(),
        child_id: key.child_id.clone(),
        periods: h
            .periods
            .iter()
            .map(|p| pb::PeriodOfCare {
                start_date: p.start.to_string(),
                end_date: date_str(p.end),
                placements: p
                    .placements
                    .iter()
                    .map(|pl| pb::Placement {
                        start_date: pl.start.to_string(),
                        end_date: date_str(pl.end),
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

/// The record kinds `GetCoverage` reports, with their dates (docs/coverage.md).
const KINDS: &[coverage::Kind] = &[
    coverage::Kind {
        kind: "episodes",
        table: "episode",
        start: "decom",
        latest: &["decom", "dec"],
    },
    coverage::Kind {
        kind: "social_worker_allocations",
        table: "sw_allocation",
        start: "start_date",
        latest: &["start_date", "end_date"],
    },
    coverage::Kind {
        kind: "care_summaries",
        table: "care_summary",
        start: "care_start_date",
        latest: &["care_start_date", "last_visit_date", "ceased_date"],
    },
    coverage::Kind {
        kind: "reviews",
        table: "cla_review",
        start: "review_date",
        latest: &["review_date"],
    },
];

#[tonic::async_trait]
impl pb::placements_service_server::PlacementsService for Placements {
    csc_runtime::record_rpcs!(
        batch_upsert_children,
        pb::BatchUpsertChildrenRequest,
        "BatchUpsertChildren",
        child_from,
        get_child,
        list_children,
        pb::ListChildrenResponse,
        delete_child,
        pb::ChildKey,
        child_key,
        Child,
        pb::Child,
        child_to
    );
    csc_runtime::record_rpcs!(
        batch_upsert_episodes,
        pb::BatchUpsertEpisodesRequest,
        "BatchUpsertEpisodes",
        episode_from,
        get_episode,
        list_episodes,
        pb::ListEpisodesResponse,
        delete_episode,
        pb::EpisodeKey,
        episode_key,
        Episode,
        pb::Episode,
        episode_to
    );
    csc_runtime::record_rpcs!(
        batch_upsert_social_worker_allocations,
        pb::BatchUpsertSocialWorkerAllocationsRequest,
        "BatchUpsertSocialWorkerAllocations",
        allocation_from,
        get_social_worker_allocation,
        list_social_worker_allocations,
        pb::ListSocialWorkerAllocationsResponse,
        delete_social_worker_allocation,
        pb::SocialWorkerAllocationKey,
        allocation_key,
        SwAllocation,
        pb::SocialWorkerAllocation,
        allocation_to
    );
    csc_runtime::record_rpcs!(
        batch_upsert_care_summaries,
        pb::BatchUpsertCareSummariesRequest,
        "BatchUpsertCareSummaries",
        care_summary_from,
        get_care_summary,
        list_care_summaries,
        pb::ListCareSummariesResponse,
        delete_care_summary,
        pb::CareSummaryKey,
        care_summary_key,
        CareSummary,
        pb::CareSummary,
        care_summary_to
    );
    csc_runtime::record_rpcs!(
        keep_stored;
        batch_upsert_reviews,
        pb::BatchUpsertReviewsRequest,
        "BatchUpsertReviews",
        review_from,
        get_review,
        list_reviews,
        pb::ListReviewsResponse,
        delete_review,
        pb::ReviewKey,
        review_key,
        ClaReview,
        pb::Review,
        review_to
    );

    async fn get_care_history(
        &self,
        req: Request<pb::ChildKey>,
    ) -> Result<Response<pb::CareHistory>, Status> {
        let key = child_key(req.get_ref())?;
        let episodes = store::episodes_of(&self.db, key.la_code, &key.child_id).await?;
        if episodes.is_empty() {
            return Err(Error::NotFound(format!(
                "LA {} has no episodes for child {:?}",
                key.la_code, key.child_id
            ))
            .into());
        }
        let refs: Vec<&Episode> = episodes.iter().collect();
        Ok(Response::new(history_to(&key, &domain::derive(&refs))))
    }

    async fn list_history_warnings(
        &self,
        req: Request<cpb::ListRequest>,
    ) -> Result<Response<pb::ListHistoryWarningsResponse>, Status> {
        let r = req.get_ref();
        let la = csc_core::LaCode::parse(&r.la_code).map_err(|e| Error::invalid("la_code", e))?;
        let child = r.child_id.trim();
        let episodes = if child.is_empty() {
            store::all_episodes(&self.db, la).await?
        } else {
            store::episodes_of(&self.db, la, child).await?
        };
        let warnings = domain::warnings(&episodes);
        let (warnings, next_page_token) =
            paging::page_of(&warnings, r.page_size, &r.page_token, warning_to)?;
        Ok(Response::new(pb::ListHistoryWarningsResponse {
            warnings,
            next_page_token,
        }))
    }

    csc_runtime::coverage_rpcs!(KINDS);

    async fn compute_measures(
        &self,
        req: Request<cpb::ComputeMeasuresRequest>,
    ) -> Result<Response<cpb::ComputeMeasuresResponse>, Status> {
        rpc::compute_measures(
            req.get_ref(),
            async |la, period| store::load_for_period(&self.db, la, period).await,
            domain::compute,
        )
        .await
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
        let e = episode_from(&episode(), "").unwrap();
        assert_eq!(episode_to(&e), episode());
    }

    #[test]
    fn every_placement_code_of_2017_to_2027_is_accepted() {
        for place in ["H5", "P2", "K3", "Z1", "Z11", "Z14", "A3", "T4", "R3", "P3"] {
            let p = pb::Episode {
                place: place.into(),
                ..episode()
            };
            assert!(episode_from(&p, "").is_ok(), "{place}");
        }
    }

    #[test]
    fn each_bad_episode_field_is_named() {
        let p = pb::Episode {
            rne: "X".into(),
            legal_status: "".into(),
            place: "Q9".into(),
            dec: "2018-03-01".into(),
            rec: "E99X".into(),
            ..episode()
        };
        let v = episode_from(&p, "records[2]").unwrap_err();
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
}
