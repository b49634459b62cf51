//! Storage of finance records: entities, table mappings, and the loads the API and the measures
//! need. Upsert, get, list and delete are the suite's generic store (`csc_runtime::store`).

pub mod entities;
mod records;

use csc_core::{LaCode, Period, Span};
use csc_runtime::Error;
use csc_runtime::store::load;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};

use crate::domain::{
    Category, CategoryMapping, Commitment, effective_categories, effective_mappings,
};
use entities::commitment;

pub use csc_runtime::store::{
    BatchOutcome, StoredRecord, batch_upsert, dedupe_batch, delete, get, list,
};

/// The LA's effective catalogue and mapping rules: built-in, overlaid by its own.
pub async fn catalogue(
    db: &impl ConnectionTrait,
    la: LaCode,
) -> Result<(Vec<Category>, Vec<CategoryMapping>), Error> {
    let own_categories: Vec<Category> = load(db, la, Condition::all()).await?;
    let own_mappings: Vec<CategoryMapping> = load(db, la, Condition::all()).await?;
    Ok((
        effective_categories(la, &own_categories),
        effective_mappings(la, &own_mappings),
    ))
}

/// Stored commitments of these children (for the overlap rule), in chunks within the bound
/// parameter limits.
pub async fn commitments_of(
    db: &impl ConnectionTrait,
    la: LaCode,
    children: &[&str],
) -> Result<Vec<Commitment>, Error> {
    let mut out = Vec::new();
    for chunk in children.chunks(10_000) {
        let cond = Condition::all().add(commitment::Column::ChildId.is_in(chunk.iter().copied()));
        out.extend(load::<Commitment>(db, la, cond).await?);
    }
    Ok(out)
}

/// What the finance measures of `periods` need: the LA's effective catalogue, and the
/// commitments that run on some day of a period or are active at its end (started on or before
/// its end, and not ended by its start). Several periods are read as their span, once: a
/// superset of each one's commitments.
pub async fn load_for_measures(
    db: &impl ConnectionTrait,
    la: LaCode,
    periods: &[Period],
) -> Result<crate::domain::FinanceData, Error> {
    let (categories, _) = catalogue(db, la).await?;
    let commitments = match Span::of(periods) {
        Some(span) => {
            let cond = Condition::all()
                .add(commitment::Column::StartDate.lte(span.end))
                .add(
                    Condition::any()
                        .add(commitment::Column::EndDate.is_null())
                        .add(commitment::Column::EndDate.gt(span.start)),
                );
            load(db, la, cond).await?
        }
        None => Vec::new(),
    };
    Ok(crate::domain::FinanceData {
        categories,
        commitments,
    })
}
