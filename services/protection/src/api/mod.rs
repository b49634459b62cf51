//! The gRPC face of the protection service: the tonic implementation, which only converts
//! (`convert`), calls the store or the domain, and converts back. The one rule needing stored
//! data — review dates accumulate across writes — runs inside the write transaction.

mod convert;

use std::collections::HashMap;

use csc_core::{ChildDateKey, Violations};
use csc_proto::protection as pb;
use csc_runtime::rpc;
use csc_runtime::{Error, coverage, store::Indexed};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::domain::{self, CinPlan, CpPlan, Feedback, MissingEpisode, QUESTIONS};
use crate::store;
use convert::respondent_to;

/// The service implementation, holding its database.
#[derive(Clone)]
pub struct Protection {
    db: DatabaseConnection,
}

impl Protection {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

// ---- rules needing stored data, run inside the write transaction --------------------------------

/// A batch of CP plans inside its write transaction: with `keep`, empty fields keep what is
/// stored; unless `replace`, each plan's review dates add to the stored ones. The plans' stored
/// versions are read once for both.
async fn merge_cp_plans(
    txn: &csc_runtime::writer::WriteTxn<'_>,
    batch: &mut Indexed<CpPlan>,
    replace: bool,
    keep: bool,
) -> Result<(), Error> {
    if !keep {
        require_category(batch)?;
        if replace {
            return Ok(());
        }
    }
    let held = csc_runtime::store::stored_for(txn, batch).await?;
    if keep {
        csc_runtime::store::fill_from(batch, &held);
    }
    if replace {
        return Ok(());
    }
    merge_reviews(batch, &held)
}

/// Every plan names its initial category of abuse. Only a batch that keeps stored values may
/// leave it out (a source without it, as the DfE CSC API payload): the stored category stays,
/// and a plan first known from such a source is held with its category not recorded.
fn require_category(batch: &Indexed<CpPlan>) -> Result<(), Error> {
    let mut v = Violations::new();
    for (i, p) in batch.iter().filter(|(_, p)| p.initial_category.is_empty()) {
        v.add(
            format!("records[{i}].initial_category"),
            format!(
                "required: category of abuse (expected NEG, PHY, SAB, EMO or MUL) for the plan \
                 of {} starting {}",
                p.child_id, p.start_date
            ),
        );
    }
    v.into_result(()).map_err(Error::Invalid)
}

/// Adds the review dates already held for each plan (`held`, the plans' stored versions) to the
/// batch's, so that a census listing only its own year's reviews does not lose the earlier ones;
/// then checks that no review held falls after a plan's (new) end date.
fn merge_reviews(
    batch: &mut Indexed<CpPlan>,
    held: &HashMap<ChildDateKey, CpPlan>,
) -> Result<(), Error> {
    let mut v = Violations::new();
    for (i, p) in batch.iter_mut() {
        if let Some(stored) = held.get(&p.key()) {
            p.add_reviews(stored.review_dates.iter().copied());
            if let (Some(end), Some(last)) = (p.end_date, p.review_dates.last())
                && *last > end
            {
                v.add(
                    format!("records[{i}].end_date"),
                    format!(
                        "{end} is before the review held on {last}; if that review was recorded in error, resend the plan with replace_reviews"
                    ),
                );
            }
        }
    }
    v.into_result(()).map_err(Error::Invalid)
}

/// The record kinds `GetCoverage` reports, with their dates (docs/coverage.md).
const KINDS: &[coverage::Kind] = &[
    coverage::Kind::new(
        "cin_plans",
        "cin_plan",
        "start_date",
        &["start_date", "end_date"],
    ),
    coverage::Kind::new(
        "cp_plans",
        "cp_plan",
        "start_date",
        &["start_date", "end_date"],
    ),
    coverage::Kind::new(
        "missing_episodes",
        "missing_episode",
        "start_date",
        &["start_date", "end_date"],
    ),
    coverage::Kind::new("feedback", "feedback", "response_date", &["response_date"]),
];

#[tonic::async_trait]
impl pb::protection_service_server::ProtectionService for Protection {
    csc_runtime::record_rpcs!(CinPlan:
        batch_upsert_cin_plans, get_cin_plan, list_cin_plans, delete_cin_plan;
        check = |r| rpc::keep_stored_if(r.keep_stored)
    );

    csc_runtime::record_rpcs!(CpPlan:
        batch_upsert_cp_plans, get_cp_plan, list_cp_plans, delete_cp_plan;
        check = |r| merge_cp_plans(r.replace_reviews, r.keep_stored)
    );

    csc_runtime::record_rpcs!(MissingEpisode:
        batch_upsert_missing_episodes, get_missing_episode, list_missing_episodes,
        delete_missing_episode
    );
    csc_runtime::record_rpcs!(Feedback:
        batch_upsert_feedback, get_feedback, list_feedback, delete_feedback
    );

    async fn list_feedback_questions(
        &self,
        _req: Request<pb::ListFeedbackQuestionsRequest>,
    ) -> Result<Response<pb::ListFeedbackQuestionsResponse>, Status> {
        Ok(Response::new(pb::ListFeedbackQuestionsResponse {
            questions: QUESTIONS
                .iter()
                .map(|q| pb::FeedbackQuestion {
                    key: q.key.to_owned(),
                    text: q.text.to_owned(),
                    respondent: respondent_to(q.respondent),
                })
                .collect(),
        }))
    }

    csc_runtime::measure_rpcs!(KINDS; store::load_for_periods => domain::compute);
}
