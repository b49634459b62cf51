//! Proto ↔ domain for every front-door record kind ([`WireRecord`]): validation happens here,
//! once, each problem named by its field within the record.

use csc_core::{FieldCheck, Violations, codes, format_optional_date};
use csc_proto::frontdoor as pb;
use csc_runtime::Error;
use csc_runtime::rpc::{self, WireRecord, child_date_key};

use crate::domain::{
    Agency, Assessment, AssessmentOutcome, Contact, ContactKey, EarlyHelpAssessment, Icpc,
    Referral, Section47Enquiry, StrategyDiscussion, referral_source,
};

// ---- shared by the conversions ---------------------------------------------------------------

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn agencies_from(c: &mut FieldCheck<'_>, field: &str, values: &[i32]) -> Vec<Agency> {
    let mut out = Vec::with_capacity(values.len());
    for (j, v) in values.iter().enumerate() {
        match pb::Agency::try_from(*v) {
            Ok(pb::Agency::Police) => out.push(Agency::Police),
            Ok(pb::Agency::Health) => out.push(Agency::Health),
            Ok(pb::Agency::Education) => out.push(Agency::Education),
            Ok(pb::Agency::Other) => out.push(Agency::Other),
            _ => c.fail(&format!("{field}[{j}]"), format!("unknown agency {v}")),
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Longest organisation name kept for an early help assessment.
const MAX_ORGANISATION_CHARS: usize = 200;

fn agency_to(a: &Agency) -> i32 {
    (match a {
        Agency::Police => pb::Agency::Police,
        Agency::Health => pb::Agency::Health,
        Agency::Education => pb::Agency::Education,
        Agency::Other => pb::Agency::Other,
    }) as i32
}

// ---- the record kinds ------------------------------------------------------------------------

impl WireRecord for Contact {
    type Proto = pb::Contact;
    type ProtoKey = pb::ContactKey;
    type Batch = pb::BatchUpsertContactsRequest;
    type List = pb::ListContactsResponse;
    const BATCH_UPSERT: &str = "BatchUpsertContacts";

    fn from_proto(p: &pb::Contact) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let contact_id = c.id("contact_id", &p.contact_id);
        let child_id = c.id("child_id", &p.child_id);
        let contact_date = c.date("contact_date", &p.contact_date);
        let source = referral_source(&mut c, "source", &p.source);
        let r = (|| {
            Some(Contact {
                la_code: la_code?,
                contact_id: contact_id?,
                child_id: child_id?,
                contact_date: contact_date?,
                source: source?,
                became_referral: p.became_referral,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::Contact {
        pb::Contact {
            la_code: self.la_code.to_string(),
            contact_id: self.contact_id.clone(),
            child_id: self.child_id.clone(),
            contact_date: self.contact_date.to_string(),
            source: self.source.clone(),
            became_referral: self.became_referral,
        }
    }

    fn key_from_proto(p: &pb::ContactKey) -> Result<Self::Key, Error> {
        let (la_code, contact_id) = rpc::la_id_key(&p.la_code, "contact_id", &p.contact_id)?;
        Ok(ContactKey {
            la_code,
            contact_id,
        })
    }
}

impl WireRecord for Referral {
    type Proto = pb::Referral;
    type ProtoKey = pb::ReferralKey;
    type Batch = pb::BatchUpsertReferralsRequest;
    type List = pb::ListReferralsResponse;
    const BATCH_UPSERT: &str = "BatchUpsertReferrals";

    fn from_proto(p: &pb::Referral) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let referral_date = c.date("referral_date", &p.referral_date);
        let source = referral_source(&mut c, "source", &p.source);
        let r = (|| {
            Some(Referral {
                la_code: la_code?,
                child_id: child_id?,
                referral_date: referral_date?,
                source: source?,
                nfa: p.nfa,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::Referral {
        pb::Referral {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            referral_date: self.referral_date.to_string(),
            source: self.source.clone(),
            nfa: self.nfa,
        }
    }

    fn key_from_proto(k: &pb::ReferralKey) -> Result<Self::Key, Error> {
        child_date_key(&k.la_code, &k.child_id, "referral_date", &k.referral_date)
    }
}

impl WireRecord for Assessment {
    type Proto = pb::Assessment;
    type ProtoKey = pb::AssessmentKey;
    type Batch = pb::BatchUpsertAssessmentsRequest;
    type List = pb::ListAssessmentsResponse;
    const BATCH_UPSERT: &str = "BatchUpsertAssessments";

    fn from_proto(p: &pb::Assessment) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let start_date = c.date("start_date", &p.start_date);
        let referral_date = c.date("referral_date", &p.referral_date);
        let authorisation_date = c.optional_date("authorisation_date", &p.authorisation_date);
        c.not_before(
            "authorisation_date",
            authorisation_date.flatten(),
            start_date,
            "assessment's start date",
        );
        let mut factors = Vec::with_capacity(p.factors.len());
        for (j, f) in p.factors.iter().enumerate() {
            let f = f.trim();
            if codes::is_assessment_factor(f) {
                factors.push(f.to_owned());
            } else {
                c.fail(
                    &format!("factors[{j}]"),
                    format!("unknown assessment factor code {f:?}"),
                );
            }
        }
        let outcome = match pb::AssessmentOutcome::try_from(p.outcome) {
            Ok(pb::AssessmentOutcome::Unspecified) => Some(AssessmentOutcome::Unspecified),
            Ok(pb::AssessmentOutcome::Nfa) => Some(AssessmentOutcome::Nfa),
            Ok(pb::AssessmentOutcome::FurtherAction) => Some(AssessmentOutcome::FurtherAction),
            Err(_) => {
                c.fail("outcome", format!("unknown outcome {}", p.outcome));
                None
            }
        };
        let closure_reason = opt(&p.closure_reason);
        if let Some(rc) = &closure_reason
            && !codes::is_closure_reason(rc)
        {
            c.fail(
                "closure_reason",
                format!("unknown reason for closure {rc:?}: expected RC1-RC9"),
            );
        }
        let r = (|| {
            Some(Assessment {
                la_code: la_code?,
                child_id: child_id?,
                start_date: start_date?,
                referral_date: referral_date?,
                authorisation_date: authorisation_date?,
                factors,
                outcome: outcome?,
                closure_reason,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::Assessment {
        pb::Assessment {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            start_date: self.start_date.to_string(),
            referral_date: self.referral_date.to_string(),
            authorisation_date: format_optional_date(self.authorisation_date),
            factors: self.factors.clone(),
            outcome: match self.outcome {
                AssessmentOutcome::Unspecified => pb::AssessmentOutcome::Unspecified,
                AssessmentOutcome::Nfa => pb::AssessmentOutcome::Nfa,
                AssessmentOutcome::FurtherAction => pb::AssessmentOutcome::FurtherAction,
            } as i32,
            closure_reason: self.closure_reason.clone().unwrap_or_default(),
        }
    }

    fn key_from_proto(k: &pb::AssessmentKey) -> Result<Self::Key, Error> {
        child_date_key(&k.la_code, &k.child_id, "start_date", &k.start_date)
    }
}

impl WireRecord for Section47Enquiry {
    type Proto = pb::Section47Enquiry;
    type ProtoKey = pb::Section47EnquiryKey;
    type Batch = pb::BatchUpsertSection47EnquiriesRequest;
    type List = pb::ListSection47EnquiriesResponse;
    const BATCH_UPSERT: &str = "BatchUpsertSection47Enquiries";

    fn from_proto(p: &pb::Section47Enquiry) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let start_date = c.date("start_date", &p.start_date);
        let referral_date = c.optional_date("referral_date", &p.referral_date);
        let icpc_target_date = c.optional_date("icpc_target_date", &p.icpc_target_date);
        let icpc_date = c.optional_date("icpc_date", &p.icpc_date);
        c.not_before(
            "icpc_date",
            icpc_date.flatten(),
            start_date,
            "enquiry's start date",
        );
        let r = (|| {
            Some(Section47Enquiry {
                la_code: la_code?,
                child_id: child_id?,
                start_date: start_date?,
                referral_date: referral_date?,
                icpc_target_date: icpc_target_date?,
                icpc_date: icpc_date?,
                icpc_not_required: p.icpc_not_required,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::Section47Enquiry {
        pb::Section47Enquiry {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            start_date: self.start_date.to_string(),
            referral_date: format_optional_date(self.referral_date),
            icpc_target_date: format_optional_date(self.icpc_target_date),
            icpc_date: format_optional_date(self.icpc_date),
            icpc_not_required: self.icpc_not_required,
        }
    }

    fn key_from_proto(k: &pb::Section47EnquiryKey) -> Result<Self::Key, Error> {
        child_date_key(&k.la_code, &k.child_id, "start_date", &k.start_date)
    }
}

impl WireRecord for StrategyDiscussion {
    type Proto = pb::StrategyDiscussion;
    type ProtoKey = pb::StrategyDiscussionKey;
    type Batch = pb::BatchUpsertStrategyDiscussionsRequest;
    type List = pb::ListStrategyDiscussionsResponse;
    const BATCH_UPSERT: &str = "BatchUpsertStrategyDiscussions";

    fn from_proto(p: &pb::StrategyDiscussion) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let discussion_date = c.date("discussion_date", &p.discussion_date);
        let invited = agencies_from(&mut c, "invited", &p.invited);
        let attended = agencies_from(&mut c, "attended", &p.attended);
        let r = (|| {
            Some(StrategyDiscussion {
                la_code: la_code?,
                child_id: child_id?,
                discussion_date: discussion_date?,
                invited,
                attended,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::StrategyDiscussion {
        pb::StrategyDiscussion {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            discussion_date: self.discussion_date.to_string(),
            invited: self.invited.iter().map(agency_to).collect(),
            attended: self.attended.iter().map(agency_to).collect(),
        }
    }

    fn key_from_proto(k: &pb::StrategyDiscussionKey) -> Result<Self::Key, Error> {
        child_date_key(
            &k.la_code,
            &k.child_id,
            "discussion_date",
            &k.discussion_date,
        )
    }
}

impl WireRecord for Icpc {
    type Proto = pb::Icpc;
    type ProtoKey = pb::IcpcKey;
    type Batch = pb::BatchUpsertIcpcsRequest;
    type List = pb::ListIcpcsResponse;
    const BATCH_UPSERT: &str = "BatchUpsertIcpcs";

    fn from_proto(p: &pb::Icpc) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let icpc_date = c.date("icpc_date", &p.icpc_date);
        let s47_start_date = c.optional_date("s47_start_date", &p.s47_start_date);
        c.not_before(
            "icpc_date",
            icpc_date,
            s47_start_date.flatten(),
            "section 47 enquiry's start date",
        );
        let r = (|| {
            Some(Icpc {
                la_code: la_code?,
                child_id: child_id?,
                icpc_date: icpc_date?,
                s47_start_date: s47_start_date?,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::Icpc {
        pb::Icpc {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            icpc_date: self.icpc_date.to_string(),
            s47_start_date: format_optional_date(self.s47_start_date),
        }
    }

    fn key_from_proto(k: &pb::IcpcKey) -> Result<Self::Key, Error> {
        child_date_key(&k.la_code, &k.child_id, "icpc_date", &k.icpc_date)
    }
}

impl WireRecord for EarlyHelpAssessment {
    type Proto = pb::EarlyHelpAssessment;
    type ProtoKey = pb::EarlyHelpAssessmentKey;
    type Batch = pb::BatchUpsertEarlyHelpAssessmentsRequest;
    type List = pb::ListEarlyHelpAssessmentsResponse;
    const BATCH_UPSERT: &str = "BatchUpsertEarlyHelpAssessments";

    fn from_proto(p: &pb::EarlyHelpAssessment) -> Result<Self, Violations> {
        let mut c = FieldCheck::new("");
        let la_code = c.la_code("la_code", &p.la_code);
        let child_id = c.id("child_id", &p.child_id);
        let start_date = c.date("start_date", &p.start_date);
        let completion_date = c.optional_date("completion_date", &p.completion_date);
        c.not_before(
            "completion_date",
            completion_date.flatten(),
            start_date,
            "assessment's start date",
        );
        let organisation = c.text(
            "organisation",
            &p.organisation,
            false,
            MAX_ORGANISATION_CHARS,
        );
        let r = (|| {
            Some(EarlyHelpAssessment {
                la_code: la_code?,
                child_id: child_id?,
                start_date: start_date?,
                completion_date: completion_date?,
                organisation: organisation?,
            })
        })();
        c.done(r)
    }

    fn to_proto(&self) -> pb::EarlyHelpAssessment {
        pb::EarlyHelpAssessment {
            la_code: self.la_code.to_string(),
            child_id: self.child_id.clone(),
            start_date: self.start_date.to_string(),
            completion_date: format_optional_date(self.completion_date),
            organisation: self.organisation.clone().unwrap_or_default(),
        }
    }

    fn key_from_proto(k: &pb::EarlyHelpAssessmentKey) -> Result<Self::Key, Error> {
        child_date_key(&k.la_code, &k.child_id, "start_date", &k.start_date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assessment_authorised_before_start_and_unknown_factor_are_named() {
        let p = pb::Assessment {
            la_code: "201".into(),
            child_id: "C1".into(),
            start_date: "2028-04-28".into(),
            referral_date: "2022-10-06".into(),
            authorisation_date: "2020-09-19".into(),
            factors: vec!["1C".into(), "RB".into()],
            outcome: 0,
            closure_reason: "RC1".into(),
        };
        let v = Assessment::from_proto(&p)
            .map_err(|v| v.under("records[0]"))
            .unwrap_err();
        let fields: Vec<_> = v.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["records[0].authorisation_date", "records[0].factors[1]"]
        );
    }

    #[test]
    fn strategy_agencies_are_sorted_and_unspecified_is_rejected() {
        let p = pb::StrategyDiscussion {
            la_code: "885".into(),
            child_id: "C".into(),
            discussion_date: "2018-04-03".into(),
            invited: vec![3, 1, 1],
            attended: vec![0],
        };
        let v = StrategyDiscussion::from_proto(&p)
            .map_err(|v| v.under("records[2]"))
            .unwrap_err();
        assert_eq!(v.0[0].field, "records[2].attended[0]");
        let ok = StrategyDiscussion::from_proto(&pb::StrategyDiscussion {
            attended: vec![1],
            ..p
        })
        .unwrap();
        assert_eq!(ok.invited, vec![Agency::Police, Agency::Education]);
    }
}
