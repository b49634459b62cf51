//! Natural keys shared by several services' records.

use chrono::NaiveDate;

use crate::LaCode;

/// The natural key of most child-level records: LA, child and a date (a referral date, an
/// assessment or plan start, an episode start).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ChildDateKey {
    pub la_code: LaCode,
    pub child_id: String,
    pub date: NaiveDate,
}
