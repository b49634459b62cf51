//! The gRPC face of the front door: the tonic implementation, which only converts (`convert`),
//! calls the store or the domain, and converts back.

mod convert;

use csc_proto::frontdoor as pb;
use csc_runtime::{coverage, rpc};
use sea_orm::DatabaseConnection;

use crate::domain::{
    self, Assessment, Contact, EarlyHelpAssessment, Icpc, Referral, Section47Enquiry,
    StrategyDiscussion,
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

/// The record kinds `GetCoverage` reports, with their dates (docs/coverage.md).
const KINDS: &[coverage::Kind] = &[
    coverage::Kind::new("contacts", "contact", "contact_date", &["contact_date"]),
    coverage::Kind::new("referrals", "referral", "referral_date", &["referral_date"]),
    coverage::Kind::new(
        "assessments",
        "assessment",
        "start_date",
        &["start_date", "authorisation_date"],
    ),
    coverage::Kind::new(
        "section47_enquiries",
        "section47_enquiry",
        "start_date",
        &["start_date", "icpc_date"],
    ),
    coverage::Kind::new(
        "strategy_discussions",
        "strategy_discussion",
        "discussion_date",
        &["discussion_date"],
    ),
    coverage::Kind::new(
        "early_help_assessments",
        "early_help_assessment",
        "start_date",
        &["start_date", "completion_date"],
    ),
    coverage::Kind::new("icpcs", "icpc", "icpc_date", &["icpc_date"]),
];

#[tonic::async_trait]
impl pb::front_door_service_server::FrontDoorService for FrontDoor {
    csc_runtime::record_rpcs!(Contact:
        batch_upsert_contacts, get_contact, list_contacts, delete_contact
    );
    csc_runtime::record_rpcs!(Referral:
        batch_upsert_referrals, get_referral, list_referrals, delete_referral
    );
    csc_runtime::record_rpcs!(Assessment:
        batch_upsert_assessments, get_assessment, list_assessments, delete_assessment;
        check = |r| rpc::keep_stored_if(r.keep_stored)
    );
    csc_runtime::record_rpcs!(Section47Enquiry:
        batch_upsert_section47_enquiries, get_section47_enquiry, list_section47_enquiries,
        delete_section47_enquiry;
        check = |r| rpc::keep_stored_if(r.keep_stored)
    );
    csc_runtime::record_rpcs!(StrategyDiscussion:
        batch_upsert_strategy_discussions, get_strategy_discussion, list_strategy_discussions,
        delete_strategy_discussion
    );
    csc_runtime::record_rpcs!(Icpc: batch_upsert_icpcs, get_icpc, list_icpcs, delete_icpc);

    csc_runtime::record_rpcs!(EarlyHelpAssessment:
        batch_upsert_early_help_assessments, get_early_help_assessment,
        list_early_help_assessments, delete_early_help_assessment
    );

    csc_runtime::measure_rpcs!(KINDS; store::load_for_periods => domain::compute);
}
