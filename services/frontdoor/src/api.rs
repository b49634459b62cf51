//! The gRPC face of the service: proto ↔ domain conversion (validation happens here, once) and the
//! tonic implementation, which only converts, calls the store or the domain, and converts back.

use csc_core::{ChildDateKey, FieldCheck, Violations, codes};
use csc_proto::{common as cpb, frontdoor as pb};
use csc_runtime::rpc::{self, child_date_key};
use csc_runtime::{Error, coverage};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::domain::{
    self, Agency, Assessment, AssessmentOutcome, Contact, ContactKey, EarlyHelpAssessment, Icpc,
    Referral, Section47Enquiry, StrategyDiscussion, referral_source,
};
use crate::store;

/// The service implementation, holding its database.
#[derive(Clone)]
pub struct FrontDoor {
    db: DatabaseConnection,
}

impl FrontDoor {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

// ---- proto → domain -------------------------------------------------------------------------

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn contact_from(p: &pb::Contact, prefix: &str) -> Result<Contact, Violations> {
    let mut c = FieldCheck::new(prefix);
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

fn referral_from(p: &pb::Referral, prefix: &str) -> Result<Referral, Violations> {
    let mut c = FieldCheck::new(prefix);
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

fn assessment_from(p: &pb::Assessment, prefix: &str) -> Result<Assessment, Violations> {
    let mut c = FieldCheck::new(prefix);
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

fn s47_from(p: &pb::Section47Enquiry, prefix: &str) -> Result<Section47Enquiry, Violations> {
    let mut c = FieldCheck::new(prefix);
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

fn strategy_from(
    p: &pb::StrategyDiscussion,
    prefix: &str,
) -> Result<StrategyDiscussion, Violations> {
    let mut c = FieldCheck::new(prefix);
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

fn icpc_from(p: &pb::Icpc, prefix: &str) -> Result<Icpc, Violations> {
    let mut c = FieldCheck::new(prefix);
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

/// Longest organisation name kept for an early help assessment.
const MAX_ORGANISATION_CHARS: usize = 200;

fn early_help_from(
    p: &pb::EarlyHelpAssessment,
    prefix: &str,
) -> Result<EarlyHelpAssessment, Violations> {
    let mut c = FieldCheck::new(prefix);
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

fn early_help_key(k: &pb::EarlyHelpAssessmentKey) -> Result<ChildDateKey, Error> {
    child_date_key(&k.la_code, &k.child_id, "start_date", &k.start_date)
}

fn early_help_to(r: &EarlyHelpAssessment) -> pb::EarlyHelpAssessment {
    pb::EarlyHelpAssessment {
        la_code: r.la_code.to_string(),
        child_id: r.child_id.clone(),
        start_date: r.start_date.to_string(),
        completion_date: date_str(r.completion_date),
        organisation: r.organisation.clone().unwrap_or_default(),
    }
}

fn contact_key(p: &pb::ContactKey) -> Result<ContactKey, Error> {
    let (la_code, contact_id) = rpc::la_id_key(&p.la_code, "contact_id", &p.contact_id)?;
    Ok(ContactKey {
        la_code,
        contact_id,
    })
}

fn referral_key(k: &pb::ReferralKey) -> Result<ChildDateKey, Error> {
    child_date_key(&k.la_code, &k.child_id, "referral_date", &k.referral_date)
}

fn assessment_key(k: &pb::AssessmentKey) -> Result<ChildDateKey, Error> {
    child_date_key(&k.la_code, &k.child_id, "start_date", &k.start_date)
}

fn s47_key(k: &pb::Section47EnquiryKey) -> Result<ChildDateKey, Error> {
    child_date_key(&k.la_code, &k.child_id, "start_date", &k.start_date)
}

fn strategy_key(k: &pb::StrategyDiscussionKey) -> Result<ChildDateKey, Error> {
    child_date_key(
        &k.la_code,
        &k.child_id,
        "discussion_date",
        &k.discussion_date,
    )
}

fn icpc_key(k: &pb::IcpcKey) -> Result<ChildDateKey, Error> {
    child_date_key(&k.la_code, &k.child_id, "icpc_date", &k.icpc_date)
}

// ---- domain → proto -------------------------------------------------------------------------

fn date_str(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn contact_to(r: &Contact) -> pb::Contact {
    pb::Contact {
        la_code: r.la_code.to_string(),
        contact_id: r.contact_id.clone(),
        child_id: r.child_id.clone(),
        contact_date: r.contact_date.to_string(),
        source: r.source.clone(),
        became_referral: r.became_referral,
    }
}

fn referral_to(r: &Referral) -> pb::Referral {
    pb::Referral {
        la_code: r.la_code.to_string(),
        child_id: r.child_id.clone(),
        referral_date: r.referral_date.to_string(),
        source: r.source.clone(),
        nfa: r.nfa,
    }
}

fn assessment_to(r: &Assessment) -> pb::Assessment {
    pb::Assessment {
        la_code: r.la_code.to_string(),
        child_id: r.child_id.clone(),
        start_date: r.start_date.to_string(),
        referral_date: r.referral_date.to_string(),
        authorisation_date: date_str(r.authorisation_date),
        factors: r.factors.clone(),
        outcome: match r.outcome {
            AssessmentOutcome::Unspecified => pb::AssessmentOutcome::Unspecified,
            AssessmentOutcome::Nfa => pb::AssessmentOutcome::Nfa,
            AssessmentOutcome::FurtherAction => pb::AssessmentOutcome::FurtherAction,
        } as i32,
        closure_reason: r.closure_reason.clone().unwrap_or_default(),
    }
}

fn s47_to(r: &Section47Enquiry) -> pb::Section47Enquiry {
    pb::Section47Enquiry {
        la_code: r.la_code.to_string(),
        child_id: r.child_id.clone(),
        start_date: r.start_date.to_string(),
        referral_date: date_str(r.referral_date),
        icpc_target_date: date_str(r.icpc_target_date),
        icpc_date: date_str(r.icpc_date),
        icpc_not_required: r.icpc_not_required,
    }
}

fn agency_to(a: &Agency) -> i32 {
    (match a {
        Agency::Police => pb::Agency::Police,
        Agency::Health => pb::Agency::Health,
        Agency::Education => pb::Agency::Education,
        Agency::Other => pb::Agency::Other,
    }) as i32
}

fn strategy_to(r: &StrategyDiscussion) -> pb::StrategyDiscussion {
    pb::StrategyDiscussion {
        la_code: r.la_code.to_string(),
        child_id: r.child_id.clone(),
        discussion_date: r.discussion_date.to_string(),
        invited: r.invited.iter().map(agency_to).collect(),
        attended: r.attended.iter().map(agency_to).collect(),
    }
}

fn icpc_to(r: &Icpc) -> pb::Icpc {
    pb::Icpc {
        la_code: r.la_code.to_string(),
        child_id: r.child_id.clone(),
        icpc_date: r.icpc_date.to_string(),
        s47_start_date: date_str(r.s47_start_date),
    }
}

/// The record kinds `GetCoverage` reports, with their dates (docs/coverage.md).
const KINDS: &[coverage::Kind] = &[
    coverage::Kind {
        kind: "contacts",
        table: "contact",
        start: "contact_date",
        latest: &["contact_date"],
    },
    coverage::Kind {
        kind: "referrals",
        table: "referral",
        start: "referral_date",
        latest: &["referral_date"],
    },
    coverage::Kind {
        kind: "assessments",
        table: "assessment",
        start: "start_date",
        latest: &["start_date", "authorisation_date"],
    },
    coverage::Kind {
        kind: "section47_enquiries",
        table: "section47_enquiry",
        start: "start_date",
        latest: &["start_date", "icpc_date"],
    },
    coverage::Kind {
        kind: "strategy_discussions",
        table: "strategy_discussion",
        start: "discussion_date",
        latest: &["discussion_date"],
    },
    coverage::Kind {
        kind: "early_help_assessments",
        table: "early_help_assessment",
        start: "start_date",
        latest: &["start_date", "completion_date"],
    },
    coverage::Kind {
        kind: "icpcs",
        table: "icpc",
        start: "icpc_date",
        latest: &["icpc_date"],
    },
];

#[tonic::async_trait]
impl pb::front_door_service_server::FrontDoorService for FrontDoor {
    csc_runtime::record_rpcs!(
        batch_upsert_contacts,
        pb::BatchUpsertContactsRequest,
        "BatchUpsertContacts",
        contact_from,
        get_contact,
        list_contacts,
        pb::ListContactsResponse,
        delete_contact,
        pb::ContactKey,
        contact_key,
        Contact,
        pb::Contact,
        contact_to
    );
    csc_runtime::record_rpcs!(
        batch_upsert_referrals,
        pb::BatchUpsertReferralsRequest,
        "BatchUpsertReferrals",
        referral_from,
        get_referral,
        list_referrals,
        pb::ListReferralsResponse,
        delete_referral,
        pb::ReferralKey,
        referral_key,
        Referral,
        pb::Referral,
        referral_to
    );
    csc_runtime::record_rpcs!(
        keep_stored;
        batch_upsert_assessments,
        pb::BatchUpsertAssessmentsRequest,
        "BatchUpsertAssessments",
        assessment_from,
        get_assessment,
        list_assessments,
        pb::ListAssessmentsResponse,
        delete_assessment,
        pb::AssessmentKey,
        assessment_key,
        Assessment,
        pb::Assessment,
        assessment_to
    );
    csc_runtime::record_rpcs!(
        keep_stored;
        batch_upsert_section47_enquiries,
        pb::BatchUpsertSection47EnquiriesRequest,
        "BatchUpsertSection47Enquiries",
        s47_from,
        get_section47_enquiry,
        list_section47_enquiries,
        pb::ListSection47EnquiriesResponse,
        delete_section47_enquiry,
        pb::Section47EnquiryKey,
        s47_key,
        Section47Enquiry,
        pb::Section47Enquiry,
        s47_to
    );
    csc_runtime::record_rpcs!(
        batch_upsert_strategy_discussions,
        pb::BatchUpsertStrategyDiscussionsRequest,
        "BatchUpsertStrategyDiscussions",
        strategy_from,
        get_strategy_discussion,
        list_strategy_discussions,
        pb::ListStrategyDiscussionsResponse,
        delete_strategy_discussion,
        pb::StrategyDiscussionKey,
        strategy_key,
        StrategyDiscussion,
        pb::StrategyDiscussion,
        strategy_to
    );
    csc_runtime::record_rpcs!(
        batch_upsert_icpcs,
        pb::BatchUpsertIcpcsRequest,
        "BatchUpsertIcpcs",
        icpc_from,
        get_icpc,
        list_icpcs,
        pb::ListIcpcsResponse,
        delete_icpc,
        pb::IcpcKey,
        icpc_key,
        Icpc,
        pb::Icpc,
        icpc_to
    );

    csc_runtime::record_rpcs!(
        batch_upsert_early_help_assessments,
        pb::BatchUpsertEarlyHelpAssessmentsRequest,
        "BatchUpsertEarlyHelpAssessments",
        early_help_from,
        get_early_help_assessment,
        list_early_help_assessments,
        pb::ListEarlyHelpAssessmentsResponse,
        delete_early_help_assessment,
        pb::EarlyHelpAssessmentKey,
        early_help_key,
        EarlyHelpAssessment,
        pb::EarlyHelpAssessment,
        early_help_to
    );

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
        let v = assessment_from(&p, "records[0]").unwrap_err();
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
        let v = strategy_from(&p, "records[2]").unwrap_err();
        assert_eq!(v.0[0].field, "records[2].attended[0]");
        let ok = strategy_from(
            &pb::StrategyDiscussion {
                attended: vec![1],
                ..p
            },
            "",
        )
        .unwrap();
        assert_eq!(ok.invited, vec![Agency::Police, Agency::Education]);
    }
}
