//! The gRPC face of the placements service: the tonic implementation, which only converts
//! (`convert`), calls the store or the domain, and converts back.

mod convert;

use csc_proto::{common as cpb, placements as pb};
use csc_runtime::rpc::{self, WireRecord as _};
use csc_runtime::{Error, coverage, paging};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::domain::{self, CareSummary, Child, ClaReview, Episode, SwAllocation};
use crate::store;
use convert::{history_to, warning_to};

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

/// The record kinds `GetCoverage` reports, with their dates (docs/coverage.md).
const KINDS: &[coverage::Kind] = &[
    coverage::Kind::new("episodes", "episode", "decom", &["decom", "dec"]),
    coverage::Kind::new(
        "social_worker_allocations",
        "sw_allocation",
        "start_date",
        &["start_date", "end_date"],
    ),
    coverage::Kind::new(
        "care_summaries",
        "care_summary",
        "care_start_date",
        &["care_start_date", "last_visit_date", "ceased_date"],
    ),
    coverage::Kind::new("reviews", "cla_review", "review_date", &["review_date"]),
];

/// With `keep` (a source that holds less than the 903), empty fields keep what is stored;
/// otherwise every episode names its legal status and placement type.
async fn check_episodes(
    txn: &csc_runtime::writer::WriteTxn<'_>,
    batch: &mut csc_runtime::store::Indexed<Episode>,
    keep: bool,
) -> Result<(), Error> {
    if keep {
        return csc_runtime::store::keep_stored(txn, batch).await;
    }
    let mut v = csc_core::Violations::new();
    for (i, e) in batch.iter() {
        if e.legal_status.is_empty() {
            v.add(
                format!("records[{i}].legal_status"),
                "required: 903 legal status (LS)",
            );
        }
        if e.place.is_empty() {
            v.add(
                format!("records[{i}].place"),
                "required: 903 placement type (PLACE)",
            );
        }
    }
    v.into_result(()).map_err(Error::Invalid)
}

#[tonic::async_trait]
impl pb::placements_service_server::PlacementsService for Placements {
    csc_runtime::record_rpcs!(Child: batch_upsert_children, get_child, list_children, delete_child);
    csc_runtime::record_rpcs!(Episode:
        batch_upsert_episodes, get_episode, list_episodes, delete_episode;
        check = |r| check_episodes(r.keep_stored)
    );
    csc_runtime::record_rpcs!(SwAllocation:
        batch_upsert_social_worker_allocations, get_social_worker_allocation,
        list_social_worker_allocations, delete_social_worker_allocation
    );
    csc_runtime::record_rpcs!(CareSummary:
        batch_upsert_care_summaries, get_care_summary, list_care_summaries, delete_care_summary
    );
    csc_runtime::record_rpcs!(ClaReview:
        batch_upsert_reviews, get_review, list_reviews, delete_review;
        check = |r| rpc::keep_stored_if(r.keep_stored)
    );

    async fn get_care_history(
        &self,
        req: Request<pb::ChildKey>,
    ) -> Result<Response<pb::CareHistory>, Status> {
        let key = Child::key_from_proto(req.get_ref())?;
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

    csc_runtime::measure_rpcs!(KINDS; store::load_for_periods => domain::compute);
}
