//! The gRPC face of the front door: the tonic implementation, which only converts (`convert`),
//! calls the store or the domain, and converts back.

mod convert;

use csc_proto::{common as cpb, frontdoor as pb};
use csc_runtime::coverage;
use csc_runtime::rpc::{self};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

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
    csc_runtime::record_rpcs!(Contact;
        batch_upsert_contacts(pb::BatchUpsertContactsRequest) = "BatchUpsertContacts",
        get_contact, list_contacts(pb::ListContactsResponse), delete_contact
    );
    csc_runtime::record_rpcs!(Referral;
        batch_upsert_referrals(pb::BatchUpsertReferralsRequest) = "BatchUpsertReferrals",
        get_referral, list_referrals(pb::ListReferralsResponse), delete_referral
    );
    csc_runtime::record_rpcs!(Assessment;
        batch_upsert_assessments(pb::BatchUpsertAssessmentsRequest) = "BatchUpsertAssessments",
        get_assessment, list_assessments(pb::ListAssessmentsResponse), delete_assessment;
        check = |r| rpc::keep_stored_if(r.keep_stored)
    );
    csc_runtime::record_rpcs!(Section47Enquiry;
        batch_upsert_section47_enquiries(pb::BatchUpsertSection47EnquiriesRequest) = "BatchUpsertSection47Enquiries",
        get_section47_enquiry, list_section47_enquiries(pb::ListSection47EnquiriesResponse), delete_section47_enquiry;
        check = |r| rpc::keep_stored_if(r.keep_stored)
    );
    csc_runtime::record_rpcs!(StrategyDiscussion;
        batch_upsert_strategy_discussions(pb::BatchUpsertStrategyDiscussionsRequest) = "BatchUpsertStrategyDiscussions",
        get_strategy_discussion, list_strategy_discussions(pb::ListStrategyDiscussionsResponse), delete_strategy_discussion
    );
    csc_runtime::record_rpcs!(Icpc;
        batch_upsert_icpcs(pb::BatchUpsertIcpcsRequest) = "BatchUpsertIcpcs",
        get_icpc, list_icpcs(pb::ListIcpcsResponse), delete_icpc
    );

    csc_runtime::record_rpcs!(EarlyHelpAssessment;
        batch_upsert_early_help_assessments(pb::BatchUpsertEarlyHelpAssessmentsRequest) = "BatchUpsertEarlyHelpAssessments",
        get_early_help_assessment, list_early_help_assessments(pb::ListEarlyHelpAssessmentsResponse), delete_early_help_assessment
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
