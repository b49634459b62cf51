//! The gRPC face of the finance service: the tonic implementation, which only converts
//! (`convert`), calls the store or the domain, and converts back; the rules that need the
//! stored catalogue run inside the write transaction.

mod convert;

use std::collections::BTreeSet;

use csc_core::{LaCode, Violations};
use csc_proto::{common as cpb, finance as pb};
use csc_runtime::rpc::{self, WireRecord as _};
use csc_runtime::{Error, coverage};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use crate::domain::{self, Category, CategoryMapping, Commitment, rules};
use crate::store;
use convert::la_only;

#[derive(Clone)]
pub struct Finance {
    db: DatabaseConnection,
}

impl Finance {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

// ---- rules needing stored data, run inside the write transaction --------------------------------

fn las<T>(batch: &[(usize, T)], la: impl Fn(&T) -> LaCode) -> BTreeSet<LaCode> {
    batch.iter().map(|(_, r)| la(r)).collect()
}

/// Parents exist (in the catalogue or the batch), and sit at the top level.
async fn check_categories(
    txn: &csc_runtime::writer::WriteTxn<'_>,
    batch: &[(usize, Category)],
) -> Result<(), Error> {
    let mut v = Violations::new();
    for la in las(batch, |c| c.la_code) {
        let (mut catalogue, _) = store::catalogue(txn, la).await?;
        for (_, c) in batch.iter().filter(|(_, c)| c.la_code == la) {
            catalogue.retain(|k| k.key != c.key);
            catalogue.push(c.clone());
        }
        for (i, c) in batch.iter().filter(|(_, c)| c.la_code == la) {
            let Some(parent) = &c.parent_key else {
                continue;
            };
            match catalogue.iter().find(|k| &k.key == parent) {
                None => v.add(
                    format!("records[{i}].parent_key"),
                    format!("unknown category {parent:?} in LA {la}'s catalogue"),
                ),
                Some(p) if p.parent_key.is_some() => v.add(
                    format!("records[{i}].parent_key"),
                    format!(
                        "{parent:?} is itself under {:?}: categories nest one level",
                        p.parent_key.as_deref().unwrap_or("")
                    ),
                ),
                Some(_) => {}
            }
        }
    }
    v.into_result(()).map_err(Error::Invalid)
}

async fn check_mappings(
    txn: &csc_runtime::writer::WriteTxn<'_>,
    batch: &[(usize, CategoryMapping)],
) -> Result<(), Error> {
    let mut v = Violations::new();
    for la in las(batch, |m| m.la_code) {
        let (catalogue, _) = store::catalogue(txn, la).await?;
        for (i, m) in batch.iter().filter(|(_, m)| m.la_code == la) {
            if !catalogue.iter().any(|c| c.key == m.category_key) {
                v.add(
                    format!("records[{i}].category_key"),
                    format!(
                        "unknown category {:?} in LA {la}'s catalogue",
                        m.category_key
                    ),
                );
            }
        }
    }
    v.into_result(()).map_err(Error::Invalid)
}

/// Categories resolve, and no two commitments of one placement share a day.
async fn check_commitments(
    txn: &csc_runtime::writer::WriteTxn<'_>,
    batch: &mut Vec<(usize, Commitment)>,
) -> Result<(), Error> {
    let mut v = Violations::new();
    for la in las(batch, |c| c.la_code) {
        let (categories, mappings) = store::catalogue(txn, la).await?;
        let mut of_la: Vec<(usize, Commitment)> = Vec::new();
        batch.retain(|(i, c)| {
            if c.la_code == la {
                of_la.push((*i, c.clone()));
                false
            } else {
                true
            }
        });
        rules::resolve_categories(&mut of_la, &categories, &mappings, &mut v);
        let children: BTreeSet<&str> = of_la.iter().map(|(_, c)| c.child_id.as_str()).collect();
        let stored =
            store::commitments_of(txn, la, &children.into_iter().collect::<Vec<_>>()).await?;
        rules::overlaps(&of_la, &stored, &mut v);
        batch.extend(of_la);
    }
    batch.sort_by_key(|(i, _)| *i);
    v.into_result(()).map_err(Error::Invalid)
}

/// The record kinds `GetCoverage` reports, with their dates (docs/coverage.md).
const KINDS: &[coverage::Kind] = &[coverage::Kind::new(
    "commitments",
    "commitment",
    "start_date",
    &["start_date", "end_date"],
)];

#[tonic::async_trait]
impl pb::finance_service_server::FinanceService for Finance {
    async fn batch_upsert_categories(
        &self,
        req: Request<pb::BatchUpsertCategoriesRequest>,
    ) -> Result<Response<cpb::BatchUpsertResponse>, Status> {
        let r = req.get_ref();
        rpc::upsert::<Category, _>(
            &self.db,
            Category::BATCH_UPSERT,
            r,
            &r.request_id,
            &r.records,
            |txn, batch| Box::pin(check_categories(txn, batch)),
        )
        .await
    }
    async fn list_categories(
        &self,
        req: Request<pb::ListCategoriesRequest>,
    ) -> Result<Response<pb::ListCategoriesResponse>, Status> {
        let r = req.get_ref();
        let la = la_only(&r.la_code)?;
        let (categories, _) = store::catalogue(&self.db, la).await?;
        let (records, next_page_token) = csc_runtime::paging::page_of(
            &categories,
            r.page_size,
            &r.page_token,
            Category::to_proto,
        )?;
        Ok(Response::new(pb::ListCategoriesResponse {
            records,
            next_page_token,
        }))
    }
    async fn get_category(
        &self,
        req: Request<pb::CategoryKey>,
    ) -> Result<Response<pb::Category>, Status> {
        let key = Category::key_from_proto(req.get_ref())?;
        let (categories, _) = store::catalogue(&self.db, key.la_code).await?;
        match categories.iter().find(|c| c.key == key.key) {
            Some(c) => Ok(Response::new(c.to_proto())),
            None => Err(Error::NotFound(format!(
                "LA {} has no category {:?}",
                key.la_code, key.key
            ))
            .into()),
        }
    }
    async fn delete_category(
        &self,
        req: Request<pb::CategoryKey>,
    ) -> Result<Response<cpb::DeleteResponse>, Status> {
        rpc::delete::<Category>(&self.db, req.get_ref()).await.map_err(|s| {
            if s.code() == tonic::Code::NotFound {
                Status::not_found("the LA has no category of its own with that key (built-in categories cannot be deleted; rename them instead)")
            } else {
                s
            }
        })
    }

    async fn batch_upsert_category_mappings(
        &self,
        req: Request<pb::BatchUpsertCategoryMappingsRequest>,
    ) -> Result<Response<cpb::BatchUpsertResponse>, Status> {
        let r = req.get_ref();
        rpc::upsert::<CategoryMapping, _>(
            &self.db,
            CategoryMapping::BATCH_UPSERT,
            r,
            &r.request_id,
            &r.records,
            |txn, batch| Box::pin(check_mappings(txn, batch)),
        )
        .await
    }
    async fn list_category_mappings(
        &self,
        req: Request<pb::ListCategoriesRequest>,
    ) -> Result<Response<pb::ListCategoryMappingsResponse>, Status> {
        let r = req.get_ref();
        let la = la_only(&r.la_code)?;
        let (_, mappings) = store::catalogue(&self.db, la).await?;
        let (records, next_page_token) = csc_runtime::paging::page_of(
            &mappings,
            r.page_size,
            &r.page_token,
            CategoryMapping::to_proto,
        )?;
        Ok(Response::new(pb::ListCategoryMappingsResponse {
            records,
            next_page_token,
        }))
    }
    async fn get_category_mapping(
        &self,
        req: Request<pb::CategoryMappingKey>,
    ) -> Result<Response<pb::CategoryMapping>, Status> {
        let key = CategoryMapping::key_from_proto(req.get_ref())?;
        let (_, mappings) = store::catalogue(&self.db, key.la_code).await?;
        match mappings
            .iter()
            .find(|m| m.place == key.place && m.place_provider == key.place_provider)
        {
            Some(m) => Ok(Response::new(m.to_proto())),
            None => Err(Error::NotFound(format!(
                "LA {} has no rule for PLACE {:?} with provider {:?}",
                key.la_code, key.place, key.place_provider
            ))
            .into()),
        }
    }
    async fn delete_category_mapping(
        &self,
        req: Request<pb::CategoryMappingKey>,
    ) -> Result<Response<cpb::DeleteResponse>, Status> {
        rpc::delete::<CategoryMapping>(&self.db, req.get_ref()).await
    }

    csc_runtime::record_rpcs!(Commitment:
        batch_upsert_commitments, get_commitment, list_commitments, delete_commitment;
        check = |_r| check_commitments()
    );

    csc_runtime::measure_rpcs!(KINDS; store::load_for_measures => domain::compute_for);
}
