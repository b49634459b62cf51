//! Storage of front-door records: the entities, how each record kind maps to its table, and the
//! date windows the measures load. Upsert, get, list and delete are the suite's generic store
//! (`csc_runtime::store`), the same for every service.

pub mod entities;
mod records;

use csc_core::{LaCode, Period, sub_months};
use csc_runtime::Error;
use csc_runtime::store::{between, load};
use sea_orm::{Condition, ConnectionTrait};

use crate::domain::FrontDoorData;

pub use csc_runtime::store::{
    BatchOutcome, StoredRecord, batch_upsert, dedupe_batch, delete, get, list,
};

/// Loads what the measures of `period` need: the period's events, and the 12 months of referral
/// and contact history before every referral that an NFA assessment in the period follows.
pub async fn load_for_period(
    db: &impl ConnectionTrait,
    la: LaCode,
    period: &Period,
) -> Result<FrontDoorData, Error> {
    use entities::*;
    let (start, end) = (period.start(), period.end());
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
    Ok(FrontDoorData {
        contacts: load(
            db,
            la,
            between(contact::Column::ContactDate, history_from, end),
        )
        .await?,
        referrals: load(
            db,
            la,
            between(referral::Column::ReferralDate, history_from, end),
        )
        .await?,
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
    })
}
