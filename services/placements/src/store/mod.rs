//! Storage of looked-after children's records: the entities, how each record kind maps to its
//! table, and what the measures of a period load. Upsert, get, list and delete are the suite's
//! generic store (`csc_runtime::store`), the same for every service.

pub mod entities;
mod records;

use chrono::NaiveDate;
use csc_core::{LaCode, Period, Span, sub_months};
use csc_runtime::Error;
use csc_runtime::store::load;
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait};

use crate::domain::{Episode, PlacementsData};

pub use csc_runtime::store::{
    BatchOutcome, StoredRecord, batch_upsert, dedupe_batch, delete, get, list,
};

/// The children with an episode that had not ended by `from` and had started by `to`: everyone
/// whose history can reach a measure of a period (looked after at its end, or starting or ending
/// a period of care, or moving, within its 12 months).
fn children_active(la: LaCode, from: NaiveDate, to: NaiveDate) -> SelectStatement {
    use entities::episode::Column::*;
    Query::select()
        .column(ChildId)
        .from(entities::episode::Entity)
        .and_where(LaCode.eq(la.as_str()))
        .and_where(Decom.lte(to))
        .cond_where(Condition::any().add(Dec.is_null()).add(Dec.gte(from)))
        .to_owned()
}

/// Loads what the measures of `periods` need: the whole episode history and the header of every
/// child active in the 12 months to a period's end (or in the period, for a whole year), and
/// social worker allocations that had not ended two years before a period's end. Several periods
/// are read as their span, once: a superset of each one's records.
pub async fn load_for_periods<C: ConnectionTrait + Sync>(
    db: &C,
    la: LaCode,
    periods: &[Period],
) -> Result<PlacementsData, Error> {
    use entities::*;
    let Some(Span {
        end,
        earliest_end,
        w12_start: from,
        ..
    }) = Span::of(periods)
    else {
        return Ok(PlacementsData::default());
    };
    let episodes = episodes_for_measures(db, la, from, end);
    let children = load(
        db,
        la,
        Condition::all().add(child::Column::ChildId.in_subquery(children_active(la, from, end))),
    );
    let sw_allocations = load(
        db,
        la,
        Condition::all()
            .add(sw_allocation::Column::StartDate.lte(end))
            .add(
                Condition::any()
                    .add(sw_allocation::Column::EndDate.is_null())
                    .add(
                        sw_allocation::Column::EndDate.gte(sub_months(earliest_end, 24).min(from)),
                    ),
            ),
    );
    let (episodes, children, sw_allocations) =
        tokio::try_join!(episodes, children, sw_allocations)?;
    Ok(PlacementsData {
        children,
        episodes,
        sw_allocations,
    })
}

/// The episodes of the children active in `[from, to]` that started by `to`, with only the
/// columns the measures read (postcodes, URN, provider and need are left empty): decoding rows
/// is most of a measure's time, and this halves it.
async fn episodes_for_measures(
    db: &impl ConnectionTrait,
    la: LaCode,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Episode>, Error> {
    use entities::episode::{Column::*, Entity};
    use sea_orm::{EntityTrait, QueryFilter, QuerySelect};
    type Row = (
        String,
        NaiveDate,
        String,
        String,
        String,
        Option<NaiveDate>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = Entity::find()
        .select_only()
        .columns([
            ChildId,
            Decom,
            Rne,
            LegalStatus,
            Place,
            Dec,
            Rec,
            ReasonPlaceChange,
        ])
        .filter(LaCode.eq(la.as_str()))
        .filter(Decom.lte(to))
        .filter(ChildId.in_subquery(children_active(la, from, to)))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(child_id, decom, rne, legal_status, place, dec, rec, reason_place_change)| Episode {
                la_code: la,
                child_id,
                decom,
                rne,
                legal_status,
                cin: None,
                place,
                place_provider: None,
                dec,
                rec,
                reason_place_change,
                home_post: None,
                pl_post: None,
                urn: None,
            },
        )
        .collect())
}

/// One child's episodes.
pub async fn episodes_of(
    db: &impl ConnectionTrait,
    la: LaCode,
    child_id: &str,
) -> Result<Vec<Episode>, Error> {
    load(
        db,
        la,
        Condition::all().add(entities::episode::Column::ChildId.eq(child_id)),
    )
    .await
}

/// Every episode of an LA.
pub async fn all_episodes(db: &impl ConnectionTrait, la: LaCode) -> Result<Vec<Episode>, Error> {
    load(db, la, Condition::all()).await
}
