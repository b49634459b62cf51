//! Storage of protection records: the entities, how each record kind maps to its table, and what
//! the measures of a period load. Upsert, get, list and delete are the suite's generic store
//! (`csc_runtime::store`), the same for every service.

pub mod entities;
mod records;

use csc_core::{LaCode, Period, Span};
use csc_runtime::Error;
use csc_runtime::store::{between, load};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};

use crate::domain::{CpPlan, ProtectionData};

pub use csc_runtime::store::{
    BatchOutcome, StoredRecord, batch_upsert, dedupe_batch, delete, get, list,
};

/// Loads what the measures of `periods` need: plans open at some time in the periods or started
/// in them, plus the earlier history of every child who started a CP plan in them; CIN plans open
/// at a period's end; missing episodes starting or ending in the periods; their feedback. The
/// four kinds are read at once, each on its own pooled connection. Several periods are read as
/// their span, once: a superset of each one's records.
pub async fn load_for_periods<C: ConnectionTrait + Sync>(
    db: &C,
    la: LaCode,
    periods: &[Period],
) -> Result<ProtectionData, Error> {
    use entities::*;
    let Some(Span {
        start,
        end,
        earliest_end,
        ..
    }) = Span::of(periods)
    else {
        return Ok(ProtectionData::default());
    };
    let cp = async {
        // Not ended before the period: open at some time in it, or started in it.
        let mut cp_plans: Vec<CpPlan> = load(
            db,
            la,
            Condition::all()
                .add(cp_plan::Column::StartDate.lte(end))
                .add(
                    Condition::any()
                        .add(cp_plan::Column::EndDate.is_null())
                        .add(cp_plan::Column::EndDate.gte(start)),
                ),
        )
        .await?;
        // The plans that ended before the period, of the children who started one in it: one
        // statement with a sub-select, which both backends run as a join whatever their
        // statistics say (an `IN` list of children was planned as a scan of the whole table on
        // PostgreSQL while a fresh import had not yet been analysed).
        let starters = sea_orm::sea_query::Query::select()
            .column(cp_plan::Column::ChildId)
            .from(cp_plan::Entity)
            .and_where(cp_plan::Column::LaCode.eq(la.as_str()))
            .and_where(cp_plan::Column::StartDate.between(start, end))
            .to_owned();
        let history: Vec<CpPlan> = load(
            db,
            la,
            Condition::all()
                .add(cp_plan::Column::EndDate.lt(start))
                .add(cp_plan::Column::ChildId.in_subquery(starters)),
        )
        .await?;
        cp_plans.extend(history);
        Ok::<_, Error>(cp_plans)
    };
    let cin = load(
        db,
        la,
        Condition::all()
            .add(cin_plan::Column::StartDate.lte(end))
            .add(
                Condition::any()
                    .add(cin_plan::Column::EndDate.is_null())
                    .add(cin_plan::Column::EndDate.gt(earliest_end)),
            ),
    );
    let missing = load(
        db,
        la,
        Condition::any()
            .add(between(missing_episode::Column::StartDate, start, end))
            .add(between(missing_episode::Column::EndDate, start, end)),
    );
    let feedback = load(db, la, between(feedback::Column::ResponseDate, start, end));
    let (cp_plans, cin_plans, missing, feedback) = tokio::try_join!(cp, cin, missing, feedback)?;
    Ok(ProtectionData {
        cin_plans,
        cp_plans,
        missing,
        feedback,
    })
}
