//! The gRPC face of the finance service: proto ↔ domain conversion (static validation, once), and
//! the rules that need the LA's catalogue or stored commitments, checked inside the write
//! transaction so that nothing of an invalid batch is applied.

use std::collections::BTreeSet;

use csc_core::{FieldCheck, LaCode, Violations, codes};
use csc_proto::{common as cpb, finance as pb};
use csc_runtime::{Error, coverage, rpc};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use tonic::{Request, Response, Status};

use crate::domain::{
    self, Category, CategoryKey, CategoryMapping, CategoryMappingKey, Commitment, CommitmentKey,
    GROUPS, MAX_WEEKLY_PENCE, rules,
};
use crate::store;

#[derive(Clone)]
pub struct Finance {
    db: DatabaseConnection,
}

impl Finance {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

// ---- field checks ------------------------------------------------------------------------------

/// A category key: lower-case letters, digits and underscores. `Some(None)` when empty and not
/// required; `None` when invalid (reported).
fn category_key_field(
    c: &mut FieldCheck<'_>,
    field: &str,
    v: &str,
    required: bool,
) -> Option<Option<String>> {
    let t = v.trim();
    if t.is_empty() {
        if required {
            c.fail(field, "required");
            return None;
        }
        return Some(None);
    }
    if t.len() > 64
        || !t
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        c.fail(field, format!("{t:?} is not a category key (lower-case letters, digits and _, e.g. \"agency_residential\")"));
        return None;
    }
    Some(Some(t.to_owned()))
}

// ---- proto → domain ----------------------------------------------------------------------------

fn category_from(p: &pb::Category, prefix: &str) -> Result<Category, Violations> {
    let mut c = FieldCheck::new(prefix);
    let la_code = c.la_code("la_code", &p.la_code);
    let key = category_key_field(&mut c, "key", &p.key, true);
    let name = c.text("name", &p.name, true, 100);
    let group = p.group.trim().to_owned();
    if !GROUPS.contains(&group.as_str()) {
        c.fail(
            "group",
            format!("{group:?} is not one of {}", GROUPS.join(", ")),
        );
    }
    let parent_key = category_key_field(&mut c, "parent_key", &p.parent_key, false);
    if let (Some(Some(k)), Some(Some(parent))) = (&key, &parent_key)
        && k == parent
    {
        c.fail("parent_key", "a category cannot be its own parent");
    }
    let r = (|| {
        Some(Category {
            la_code: la_code?,
            key: key??,
            name: name??,
            group,
            parent_key: parent_key?,
            built_in: false,
        })
    })();
    c.done(r)
}

fn mapping_from(p: &pb::CategoryMapping, prefix: &str) -> Result<CategoryMapping, Violations> {
    let mut c = FieldCheck::new(prefix);
    let la_code = c.la_code("la_code", &p.la_code);
    let place = c.required_code(
        "place",
        &p.place,
        codes::is_placement_type,
        "903 placement type (PLACE)",
    );
    let provider = c.code(
        "place_provider",
        &p.place_provider,
        codes::is_placement_provider,
        "903 placement provider (PR0-PR5)",
    );
    let category_key = category_key_field(&mut c, "category_key", &p.category_key, true);
    let r = (|| {
        Some(CategoryMapping {
            la_code: la_code?,
            place: place?,
            place_provider: provider?.unwrap_or_default(),
            category_key: category_key??,
            built_in: false,
        })
    })();
    c.done(r)
}

fn commitment_from(p: &pb::Commitment, prefix: &str) -> Result<Commitment, Violations> {
    let mut c = FieldCheck::new(prefix);
    let la_code = c.la_code("la_code", &p.la_code);
    let child_id = c.id("child_id", &p.child_id);
    let placement_start = c.date("placement_start", &p.placement_start).map(Some);
    let start_date = c.date("start_date", &p.start_date).map(Some);
    let end_date = c.optional_date("end_date", &p.end_date);
    if let (Some(Some(ps)), Some(Some(s))) = (placement_start, start_date)
        && s < ps
    {
        c.fail(
            "start_date",
            format!("{s} is before the placement started ({ps})"),
        );
    }
    if let (Some(Some(s)), Some(Some(e))) = (start_date, end_date)
        && e < s
    {
        c.fail("end_date", format!("{e} is before the start date {s}"));
    }
    if p.weekly_cost_pence < 0 {
        c.fail(
            "weekly_cost_pence",
            format!("{} is negative", p.weekly_cost_pence),
        );
    } else if p.weekly_cost_pence > MAX_WEEKLY_PENCE {
        c.fail(
            "weekly_cost_pence",
            format!(
                "{} pence (£{}) a week is more than any placement costs (at most £{})",
                p.weekly_cost_pence,
                p.weekly_cost_pence / 100,
                MAX_WEEKLY_PENCE / 100
            ),
        );
    }
    let category_key = category_key_field(&mut c, "category_key", &p.category_key, false);
    let place = c.code(
        "place",
        &p.place,
        codes::is_placement_type,
        "903 placement type (PLACE)",
    );
    let place_provider = c.code(
        "place_provider",
        &p.place_provider,
        codes::is_placement_provider,
        "903 placement provider (PR0-PR5)",
    );
    if p.category_key.trim().is_empty() && p.place.trim().is_empty() {
        c.fail("category_key", "required: give category_key, or place (and place_provider) to map it through the catalogue");
    }
    let provider_name = c.text("provider_name", &p.provider_name, false, 200);
    let provider_urn = c.text("provider_urn", &p.provider_urn, false, 20);
    let r = (|| {
        Some(Commitment {
            la_code: la_code?,
            child_id: child_id?,
            placement_start: placement_start??,
            start_date: start_date??,
            end_date: end_date?,
            weekly_cost_pence: p.weekly_cost_pence,
            category_key: category_key?.unwrap_or_default(),
            place: place?,
            place_provider: place_provider?,
            provider_name: provider_name?,
            provider_urn: provider_urn?,
        })
    })();
    c.done(r)
}

fn la_only(v: &str) -> Result<LaCode, Error> {
    LaCode::parse(v).map_err(|e| Error::invalid("la_code", e))
}

fn category_key(p: &pb::CategoryKey) -> Result<CategoryKey, Error> {
    let mut c = FieldCheck::new("");
    let la_code = c.la_code("la_code", &p.la_code);
    let key = category_key_field(&mut c, "key", &p.key, true);
    Ok(c.done((|| {
        Some(CategoryKey {
            la_code: la_code?,
            key: key??,
        })
    })())?)
}

fn mapping_key(p: &pb::CategoryMappingKey) -> Result<CategoryMappingKey, Error> {
    let mut c = FieldCheck::new("");
    let la_code = c.la_code("la_code", &p.la_code);
    let place = c.text("place", &p.place, true, 4);
    Ok(c.done((|| {
        Some(CategoryMappingKey {
            la_code: la_code?,
            place: place??,
            place_provider: p.place_provider.trim().to_owned(),
        })
    })())?)
}

fn commitment_key(p: &pb::CommitmentKey) -> Result<CommitmentKey, Error> {
    let mut c = FieldCheck::new("");
    let la_code = c.la_code("la_code", &p.la_code);
    let child_id = c.id("child_id", &p.child_id);
    let placement_start = c.date("placement_start", &p.placement_start).map(Some);
    let start_date = c.date("start_date", &p.start_date).map(Some);
    Ok(c.done((|| {
        Some(CommitmentKey {
            la_code: la_code?,
            child_id: child_id?,
            placement_start: placement_start??,
            start_date: start_date??,
        })
    })())?)
}

// ---- domain → proto ----------------------------------------------------------------------------

fn category_to(c: &Category) -> pb::Category {
    pb::Category {
        la_code: c.la_code.to_string(),
        key: c.key.clone(),
        name: c.name.clone(),
        group: c.group.clone(),
        parent_key: c.parent_key.clone().unwrap_or_default(),
        built_in: c.built_in,
    }
}

fn mapping_to(m: &CategoryMapping) -> pb::CategoryMapping {
    pb::CategoryMapping {
        la_code: m.la_code.to_string(),
        place: m.place.clone(),
        place_provider: m.place_provider.clone(),
        category_key: m.category_key.clone(),
        built_in: m.built_in,
    }
}

fn commitment_to(c: &Commitment) -> pb::Commitment {
    pb::Commitment {
        la_code: c.la_code.to_string(),
        child_id: c.child_id.clone(),
        placement_start: c.placement_start.to_string(),
        start_date: c.start_date.to_string(),
        end_date: c.end_date.map(|d| d.to_string()).unwrap_or_default(),
        weekly_cost_pence: c.weekly_cost_pence,
        category_key: c.category_key.clone(),
        place: c.place.clone().unwrap_or_default(),
        place_provider: c.place_provider.clone().unwrap_or_default(),
        provider_name: c.provider_name.clone().unwrap_or_default(),
        provider_urn: c.provider_urn.clone().unwrap_or_default(),
    }
}

fn las<T>(batch: &[(usize, T)], la: impl Fn(&T) -> LaCode) -> BTreeSet<LaCode> {
    batch.iter().map(|(_, r)| la(r)).collect()
}

// ---- rules needing stored data, run inside the write transaction --------------------------------

/// Parents exist (in the catalogue or the batch), and sit at the top level.
async fn check_categories(
    txn: &DatabaseTransaction,
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
    txn: &DatabaseTransaction,
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
    txn: &DatabaseTransaction,
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
const KINDS: &[coverage::Kind] = &[coverage::Kind {
    kind: "commitments",
    table: "commitment",
    start: "start_date",
    latest: &["start_date", "end_date"],
}];

#[tonic::async_trait]
impl pb::finance_service_server::FinanceService for Finance {
    async fn batch_upsert_categories(
        &self,
        req: Request<pb::BatchUpsertCategoriesRequest>,
    ) -> Result<Response<cpb::BatchUpsertResponse>, Status> {
        let r = req.get_ref();
        rpc::upsert_checked(
            &self.db,
            "BatchUpsertCategories",
            r,
            &r.request_id,
            &r.records,
            category_from,
            async |txn, batch| check_categories(txn, batch).await,
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
        let (records, next_page_token) =
            csc_runtime::paging::page_of(&categories, r.page_size, &r.page_token, category_to)?;
        Ok(Response::new(pb::ListCategoriesResponse {
            records,
            next_page_token,
        }))
    }
    async fn get_category(
        &self,
        req: Request<pb::CategoryKey>,
    ) -> Result<Response<pb::Category>, Status> {
        let key = category_key(req.get_ref())?;
        let (categories, _) = store::catalogue(&self.db, key.la_code).await?;
        match categories.iter().find(|c| c.key == key.key) {
            Some(c) => Ok(Response::new(category_to(c))),
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
        rpc::delete::<Category>(&self.db, category_key(req.get_ref())).await.map_err(|s| {
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
        rpc::upsert_checked(
            &self.db,
            "BatchUpsertCategoryMappings",
            r,
            &r.request_id,
            &r.records,
            mapping_from,
            async |txn, batch| check_mappings(txn, batch).await,
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
        let (records, next_page_token) =
            csc_runtime::paging::page_of(&mappings, r.page_size, &r.page_token, mapping_to)?;
        Ok(Response::new(pb::ListCategoryMappingsResponse {
            records,
            next_page_token,
        }))
    }
    async fn get_category_mapping(
        &self,
        req: Request<pb::CategoryMappingKey>,
    ) -> Result<Response<pb::CategoryMapping>, Status> {
        let key = mapping_key(req.get_ref())?;
        let (_, mappings) = store::catalogue(&self.db, key.la_code).await?;
        match mappings
            .iter()
            .find(|m| m.place == key.place && m.place_provider == key.place_provider)
        {
            Some(m) => Ok(Response::new(mapping_to(m))),
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
        rpc::delete::<CategoryMapping>(&self.db, mapping_key(req.get_ref())).await
    }

    async fn batch_upsert_commitments(
        &self,
        req: Request<pb::BatchUpsertCommitmentsRequest>,
    ) -> Result<Response<cpb::BatchUpsertResponse>, Status> {
        let r = req.get_ref();
        rpc::upsert_checked(
            &self.db,
            "BatchUpsertCommitments",
            r,
            &r.request_id,
            &r.records,
            commitment_from,
            check_commitments,
        )
        .await
    }
    async fn get_commitment(
        &self,
        req: Request<pb::CommitmentKey>,
    ) -> Result<Response<pb::Commitment>, Status> {
        rpc::get::<Commitment, _>(&self.db, commitment_key(req.get_ref()), commitment_to).await
    }
    async fn list_commitments(
        &self,
        req: Request<cpb::ListRequest>,
    ) -> Result<Response<pb::ListCommitmentsResponse>, Status> {
        let (records, next_page_token) =
            rpc::list::<Commitment, _>(&self.db, req.get_ref(), commitment_to).await?;
        Ok(Response::new(pb::ListCommitmentsResponse {
            records,
            next_page_token,
        }))
    }
    async fn delete_commitment(
        &self,
        req: Request<pb::CommitmentKey>,
    ) -> Result<Response<cpb::DeleteResponse>, Status> {
        rpc::delete::<Commitment>(&self.db, commitment_key(req.get_ref())).await
    }

    csc_runtime::coverage_rpcs!(KINDS);

    async fn compute_measures(
        &self,
        req: Request<cpb::ComputeMeasuresRequest>,
    ) -> Result<Response<cpb::ComputeMeasuresResponse>, Status> {
        rpc::compute_measures(
            req.get_ref(),
            async |la, period| {
                let (categories, _) = store::catalogue(&self.db, la).await?;
                let commitments = store::load_for_period(&self.db, la, period).await?;
                Ok((categories, commitments))
            },
            |period, (categories, commitments)| domain::compute(period, categories, commitments),
        )
        .await
    }
}
