//! Storage of front-door records: written once, generically, over [`StoredRecord`], so that every
//! record kind gets the same atomic idempotent batch upsert, get, keyset-paged list, delete and
//! date-range load.

pub mod entities;
mod records;

use std::collections::HashMap;
use std::hash::Hash;

use chrono::NaiveDate;
use csc_core::{LaCode, Period, Violations, sub_months};
use csc_runtime::{Error, idempotency};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityName, EntityTrait,
    IdenStatic, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, OnConflict},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::domain::FrontDoorData;

pub use records::StoredRecord;

/// Bound parameters per INSERT statement: under SQLite's limit of 32,766 (PostgreSQL's is
/// 65,535). Fewer, larger statements are faster; a full batch of referrals is one statement.
const PARAMS_PER_STATEMENT: usize = 32_000;

/// What a batch write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchOutcome {
    pub received: u64,
    pub written: u64,
    pub unchanged: u64,
}

/// Records that repeat a key earlier in the same batch: identical repeats are dropped (they
/// change nothing); a repeat with other content is an error, since which one is meant is unclear.
pub fn dedupe_batch<R, K>(records: Vec<R>, key: impl Fn(&R) -> K) -> Result<Vec<R>, Violations>
where
    R: PartialEq,
    K: Eq + Hash,
{
    let mut first: HashMap<K, usize> = HashMap::with_capacity(records.len());
    let mut keep = Vec::with_capacity(records.len());
    let mut v = Violations::new();
    for (i, r) in records.into_iter().enumerate() {
        match first.get(&key(&r)) {
            None => {
                first.insert(key(&r), i);
                keep.push((i, r));
            }
            Some(&j) => {
                let earlier = &keep.iter().find(|(k, _)| *k == j).expect("kept").1;
                if *earlier != r {
                    v.add(
                        format!("records[{i}]"),
                        format!("same key as records[{j}] but different content"),
                    );
                }
            }
        }
    }
    v.into_result(keep.into_iter().map(|(_, r)| r).collect())
}

/// Inserts new records and updates changed ones, in statements of up to
/// [`PARAMS_PER_STATEMENT`] bound values; a row identical to the stored one is not touched.
/// Returns the number of rows written.
async fn upsert<R: StoredRecord>(db: &impl ConnectionTrait, records: &[R]) -> Result<u64, Error> {
    let table = <R::Entity as Default>::default().table_name().to_owned();
    // Update only when some column differs, so that "unchanged" is exact and replays write nothing.
    let changed = R::value_columns()
        .into_iter()
        .map(|col| {
            let name = col.as_str();
            format!("\"{table}\".\"{name}\" IS DISTINCT FROM excluded.\"{name}\"")
        })
        .collect::<Vec<_>>()
        .join(" OR ");
    let mut written = 0;
    let columns = R::key_columns().len() + R::value_columns().len();
    for chunk in records.chunks(PARAMS_PER_STATEMENT / columns) {
        let on_conflict = OnConflict::columns(R::key_columns())
            .update_columns(R::value_columns())
            .action_and_where(Expr::cust(format!("({changed})")))
            .to_owned();
        written += R::Entity::insert_many(chunk.iter().map(R::to_active))
            .on_conflict(on_conflict)
            .exec_without_returning(db)
            .await?;
    }
    Ok(written)
}

/// An atomic, idempotent batch write: all records or none, and a replay of the same `request_id`
/// returns the first outcome without writing.
pub async fn batch_upsert<R: StoredRecord>(
    db: &DatabaseConnection,
    method: &str,
    request_id: &str,
    digest: &str,
    received: usize,
    records: Vec<R>,
) -> Result<BatchOutcome, Error> {
    let txn = csc_runtime::db::begin_write(db).await?;
    if let Some(previous) = idempotency::lookup(&txn, request_id, method, digest).await? {
        return serde_json::from_str(&previous)
            .map_err(|e| Error::Internal(format!("stored response: {e}")));
    }
    let written = upsert(&txn, &records).await?;
    let outcome = BatchOutcome {
        received: received as u64,
        written,
        unchanged: received as u64 - written,
    };
    let response = serde_json::to_string(&outcome).expect("serialisable");
    idempotency::record(&txn, request_id, method, digest, &response).await?;
    txn.commit().await?;
    Ok(outcome)
}

pub async fn get<R: StoredRecord>(
    db: &impl ConnectionTrait,
    key: &R::Key,
) -> Result<Option<R>, Error> {
    R::Entity::find()
        .filter(R::key_filter(key))
        .one(db)
        .await?
        .map(R::from_model)
        .transpose()
}

pub async fn delete<R: StoredRecord>(
    db: &impl ConnectionTrait,
    key: &R::Key,
) -> Result<bool, Error> {
    let res = R::Entity::delete_many()
        .filter(R::key_filter(key))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// One page of an LA's records (optionally one child's) in key order, after `after`; with the key
/// to resume from when more remain.
pub async fn list<R: StoredRecord>(
    db: &impl ConnectionTrait,
    la: LaCode,
    child_id: Option<&str>,
    page_size: u64,
    after: Option<R::Key>,
) -> Result<(Vec<R>, Option<R::Key>), Error> {
    let mut q = R::Entity::find().filter(R::la_column().eq(la.as_str()));
    if let Some(c) = child_id {
        q = q.filter(R::child_column().eq(c));
    }
    if let Some(k) = &after {
        q = q.filter(R::after(k));
    }
    for c in R::key_columns() {
        q = q.order_by_asc(c);
    }
    let mut models = q.limit(page_size + 1).all(db).await?;
    let more = models.len() as u64 > page_size;
    models.truncate(page_size as usize);
    let records: Vec<R> = models
        .into_iter()
        .map(R::from_model)
        .collect::<Result<_, _>>()?;
    let next = if more {
        records.last().map(R::key)
    } else {
        None
    };
    Ok((records, next))
}

async fn load<R: StoredRecord>(
    db: &impl ConnectionTrait,
    la: LaCode,
    cond: Condition,
) -> Result<Vec<R>, Error> {
    R::Entity::find()
        .filter(R::la_column().eq(la.as_str()))
        .filter(cond)
        .all(db)
        .await?
        .into_iter()
        .map(R::from_model)
        .collect()
}

fn between<C: ColumnTrait>(col: C, from: NaiveDate, to: NaiveDate) -> Condition {
    Condition::all().add(col.gte(from)).add(col.lte(to))
}

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

/// Decodes a page token into a record kind's key.
pub fn decode_page_token<R: StoredRecord>(token: &str) -> Result<Option<R::Key>, Error>
where
    R::Key: DeserializeOwned,
{
    csc_runtime::paging::decode(token)
}
