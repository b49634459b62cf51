//! Storage of front-door records: the entities, how each record kind maps to its table, and the
//! date windows the measures load. Upsert, get, list and delete are the suite's generic store
//! (`csc_runtime::store`), the same for every service.

pub mod entities;
mod records;

use csc_core::{LaCode, Period, Span, sub_months};
use csc_runtime::Error;
use csc_runtime::store::{between, load};
use sea_orm::{Condition, ConnectionTrait};

use crate::domain::FrontDoorData;

pub use csc_runtime::store::{
    BatchOutcome, StoredRecord, batch_upsert, dedupe_batch, delete, get, list,
};

/// Loads what the measures of `periods` need: the periods' events, and the 12 months of history
/// the measures look back over, for the children they look back for — those referred or
/// assessed in the periods. Each history is one query with a sub-select of those children, so
/// the database reads the 15 months and sends only the rows the measures use (at the scale of a
/// region, a tenth of them; docs/performance.md). Several periods are read as their span, once:
/// a superset of each one's records.
pub async fn load_for_periods(
    db: &impl ConnectionTrait,
    la: LaCode,
    periods: &[Period],
) -> Result<FrontDoorData, Error> {
    use entities::*;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};
    let Some(Span { start, end, .. }) = Span::of(periods) else {
        return Ok(FrontDoorData::default());
    };
    let assessments: Vec<crate::domain::Assessment> = load(
        db,
        la,
        between(assessment::Column::AuthorisationDate, start, end),
    )
    .await?;
    let earliest_referral = assessments
        .iter()
        .filter(|a| a.is_nfa())
        .map(|a| a.referral_date)
        .min()
        .map_or(start, |d| d.min(start));
    let history_from = sub_months(earliest_referral, 12);
    let before_start = start.pred_opt().unwrap_or(start);
    let referred_in_p = || {
        referral::Entity::find()
            .select_only()
            .column(referral::Column::ChildId)
            .filter(referral::Column::LaCode.eq(la.as_str()))
            .filter(between(referral::Column::ReferralDate, start, end))
            .into_query()
    };
    let assessed_in_p = || {
        assessment::Entity::find()
            .select_only()
            .column(assessment::Column::ChildId)
            .filter(assessment::Column::LaCode.eq(la.as_str()))
            .filter(between(assessment::Column::AuthorisationDate, start, end))
            .into_query()
    };
    // Every referral of the period (its children are referred in it), and the 12 months before
    // for the children referred or assessed in it.
    let referrals = load(
        db,
        la,
        Condition::all()
            .add(between(referral::Column::ReferralDate, history_from, end))
            .add(
                Condition::any()
                    .add(referral::Column::ChildId.in_subquery(referred_in_p()))
                    .add(referral::Column::ChildId.in_subquery(assessed_in_p())),
            ),
    )
    .await?;
    // Every contact of the period (they are counted), and before it those of the children
    // assessed in it (the NFA children are among them).
    let mut contacts = load(db, la, between(contact::Column::ContactDate, start, end)).await?;
    contacts.extend(
        load::<crate::domain::Contact>(
            db,
            la,
            Condition::all()
                .add(between(
                    contact::Column::ContactDate,
                    history_from,
                    before_start,
                ))
                .add(contact::Column::ChildId.in_subquery(assessed_in_p())),
        )
        .await?,
    );
    Ok(FrontDoorData {
        contacts,
        referrals,
        assessments,
        s47s: load(
            db,
            la,
            Condition::any()
                .add(between(section47_enquiry::Column::StartDate, start, end))
                .add(between(section47_enquiry::Column::IcpcDate, start, end)),
        )
        .await?,
        strategy_discussions: load(
            db,
            la,
            between(strategy_discussion::Column::DiscussionDate, start, end),
        )
        .await?,
        icpcs: load(db, la, between(icpc::Column::IcpcDate, start, end)).await?,
        early_help: load(
            db,
            la,
            between(early_help_assessment::Column::StartDate, start, end),
        )
        .await?,
    })
}
