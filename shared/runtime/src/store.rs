//! Storage written once for every service, generically over [`StoredRecord`]: an atomic,
//! idempotent batch upsert that writes only rows that differ (so replays and re-imports change
//! nothing, and "unchanged" is exact), get, keyset-paged list, delete and filtered loads.

use std::collections::HashMap;
use std::hash::Hash;

use chrono::NaiveDate;
use csc_core::{ChildDateKey, LaCode, Violations};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityName,
    EntityTrait, IdenStatic, IntoActiveModel, ModelTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, OnConflict},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    Error, audit, idempotency,
    writer::{Work, WriteTxn},
};

/// A record kind the store can keep.
pub trait StoredRecord: Sized + Send + Sync + 'static {
    type Entity: EntityTrait<Model = Self::Model> + Default;
    type Model: IntoActiveModel<Self::Active> + ModelTrait<Entity = Self::Entity> + Send + Sync;
    type Active: ActiveModelTrait<Entity = Self::Entity> + Send;
    type Key: Serialize + DeserializeOwned + Clone + Eq + std::hash::Hash + Send + Sync;

    /// The key's columns, in the order records are listed: the entity's primary key, as
    /// declared.
    fn key_columns() -> Vec<<Self::Entity as EntityTrait>::Column> {
        <<Self::Entity as EntityTrait>::PrimaryKey as sea_orm::Iterable>::iter()
            .map(sea_orm::PrimaryKeyToColumn::into_column)
            .collect()
    }
    /// Every other column: what an upsert compares and updates.
    fn value_columns() -> Vec<<Self::Entity as EntityTrait>::Column> {
        let keys: Vec<&str> = Self::key_columns().iter().map(|c| c.as_str()).collect();
        <<Self::Entity as EntityTrait>::Column as sea_orm::Iterable>::iter()
            .filter(|c| !keys.contains(&c.as_str()))
            .collect()
    }
    fn la_column() -> <Self::Entity as EntityTrait>::Column;
    fn child_column() -> <Self::Entity as EntityTrait>::Column;
    fn key(&self) -> Self::Key;
    /// Equality on every key column.
    fn key_filter(key: &Self::Key) -> Condition;
    /// Strictly after `key` in key order, within its LA.
    fn after(key: &Self::Key) -> Condition;
    fn to_active(&self) -> Self::Active;
    fn from_model(m: Self::Model) -> Result<Self, Error>;
}

/// An LA code read back from a table (an invalid one there is our fault, not the caller's).
pub fn stored_la(code: &str) -> Result<LaCode, Error> {
    LaCode::parse_held(code).map_err(|e| Error::Internal(format!("stored record: {e}")))
}

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

/// A batch's records, each with its position in the request (for `records[i]` in errors).
pub type Indexed<R> = Vec<(usize, R)>;

/// Records that repeat a key earlier in the same batch: identical repeats are dropped (they
/// change nothing); a repeat with other content is an error, since which one is meant is unclear.
/// The records kept carry their position in the request.
pub fn dedupe_batch<R, K>(records: Vec<R>, key: impl Fn(&R) -> K) -> Result<Indexed<R>, Violations>
where
    R: PartialEq,
    K: Eq + Hash,
{
    let mut first: HashMap<K, usize> = HashMap::with_capacity(records.len());
    let mut keep: Indexed<R> = Vec::with_capacity(records.len());
    let mut v = Violations::new();
    for (i, r) in records.into_iter().enumerate() {
        match first.entry(key(&r)) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(keep.len());
                keep.push((i, r));
            }
            std::collections::hash_map::Entry::Occupied(e) => {
                let (j, earlier) = &keep[*e.get()];
                if *earlier != r {
                    v.add(
                        format!("records[{i}]"),
                        format!("same key as records[{j}] but different content"),
                    );
                }
            }
        }
    }
    v.into_result(keep)
}

/// The upsert's `WHERE`: some value column differs from the row stored under the same key. A row
/// is updated only then, so that "unchanged" is exact and replays write nothing, whichever path
/// writes the batch ([`upsert`], [`crate::pgtxn::copy_upsert`]).
pub(crate) fn changed_condition<R: StoredRecord>(table: &str) -> String {
    R::value_columns()
        .iter()
        .map(|col| {
            let name = col.as_str();
            format!("\"{table}\".\"{name}\" IS DISTINCT FROM excluded.\"{name}\"")
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// Inserts new records and updates changed ones, in statements of up to
/// [`PARAMS_PER_STATEMENT`] bound values; a row identical to the stored one is not touched.
/// Returns the number of rows written.
async fn upsert<R: StoredRecord>(db: &impl ConnectionTrait, records: &[R]) -> Result<u64, Error> {
    let table = <R::Entity as Default>::default().table_name().to_owned();
    let (keys, values) = (R::key_columns(), R::value_columns());
    let changed = changed_condition::<R>(&table);
    let on_conflict = OnConflict::columns(keys.iter().copied())
        .update_columns(values.iter().copied())
        .action_and_where(Expr::cust(format!("({changed})")))
        .to_owned();
    let mut written = 0;
    for chunk in records.chunks(PARAMS_PER_STATEMENT / (keys.len() + values.len())) {
        written += R::Entity::insert_many(chunk.iter().map(R::to_active))
            .on_conflict(on_conflict.clone())
            .exec_without_returning(db)
            .await?;
    }
    Ok(written)
}

/// Batches of at least this many records are loaded by `COPY` on PostgreSQL
/// ([`crate::pgtxn::copy_upsert`]). Smaller ones (a calling system's few records) go by one
/// `INSERT … VALUES`, which needs no staging table and three statements fewer. The threshold is
/// a judgement, not a measurement: the benchmarks measured full batches (docs/performance.md).
const COPY_FROM_RECORDS: usize = 100;

/// How PostgreSQL batches are written: by `COPY` (the default, from [`COPY_FROM_RECORDS`]
/// records), or always by `INSERT … VALUES` with `CSC_PG_UPSERT=insert`, to measure one against
/// the other on the same build.
fn copy_on_postgres() -> bool {
    static COPY: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| {
        std::env::var("CSC_PG_UPSERT").map_or(true, |v| v.trim() != "insert")
    });
    *COPY
}

/// Upserts a batch's records in its write transaction: by `COPY` on PostgreSQL (for a batch
/// large enough), otherwise by `INSERT … VALUES`. Either counts the rows written the same way.
async fn write_batch<R: StoredRecord>(txn: &WriteTxn<'_>, records: &[R]) -> Result<u64, Error> {
    if let WriteTxn::Pg(pg) = txn
        && records.len() >= COPY_FROM_RECORDS
        && copy_on_postgres()
        && let Some(written) = crate::pgtxn::copy_upsert(pg, records).await?
    {
        return Ok(written);
    }
    upsert(txn, records).await
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
    let records = records.into_iter().enumerate().collect();
    batch_upsert_checked(db, method, request_id, digest, received, records, |_, _| {
        Box::pin(async { Ok(()) })
    })
    .await
}

/// As [`batch_upsert`], with `check` run inside the write transaction before anything is written:
/// for rules that need stored data (a catalogue lookup, overlaps with stored records). An error
/// from `check` undoes the batch.
///
/// The batch is written by the database's writer ([`crate::writer`]), with the call's audit
/// entry, perhaps in one transaction with other calls' batches, and the outcome returned once
/// that transaction has committed.
pub async fn batch_upsert_checked<R, C>(
    db: &DatabaseConnection,
    method: &str,
    request_id: &str,
    digest: &str,
    received: usize,
    mut records: Indexed<R>,
    check: C,
) -> Result<BatchOutcome, Error>
where
    R: StoredRecord,
    C: for<'t> FnOnce(&'t WriteTxn<'t>, &'t mut Indexed<R>) -> Work<'t, ()> + Send + 'static,
{
    let (method, request_id, digest) =
        (method.to_owned(), request_id.to_owned(), digest.to_owned());
    let pending = audit::pending();
    let entry = pending.clone();
    let outcome = crate::writer::write(db, move |txn| {
        Box::pin(async move {
            if let Some(previous) = idempotency::lookup(txn, &request_id, &method, &digest).await? {
                let outcome = serde_json::from_str(&previous)
                    .map_err(|e| Error::Internal(format!("stored response: {e}")))?;
                // A replay writes no records, but it is a call: its audit row commits with it.
                audit::append(txn, entry.as_deref(), &request_id, &[]).await?;
                return Ok(outcome);
            }
            check(txn, &mut records).await?;
            let records: Vec<R> = records.into_iter().map(|(_, r)| r).collect();
            let written = write_batch(txn, &records).await?;
            let outcome = BatchOutcome {
                received: received as u64,
                written,
                unchanged: received as u64 - written,
            };
            let response = serde_json::to_string(&outcome).expect("serialisable");
            idempotency::record(txn, &request_id, &method, &digest, &response).await?;
            audit::append(txn, entry.as_deref(), &request_id, &[]).await?;
            Ok(outcome)
        })
    })
    .await?;
    if let Some(p) = pending {
        p.mark_committed();
    }
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

/// Deletes the record with `key`, and appends the call's audit entry (naming the record's child,
/// which a key such as a contact's id does not) in the same transaction.
pub async fn delete<R: StoredRecord>(db: &DatabaseConnection, key: &R::Key) -> Result<bool, Error> {
    let (txn, _turn) = crate::db::begin_write(db).await?;
    let found: Vec<<R::Entity as EntityTrait>::Model> = R::Entity::find()
        .filter(R::key_filter(key))
        .all(&txn)
        .await?;
    let touched: Vec<(String, String)> = found
        .iter()
        .map(|m| {
            (
                text_of(ModelTrait::get(m, R::la_column())),
                text_of(ModelTrait::get(m, R::child_column())),
            )
        })
        .collect();
    if touched.is_empty() {
        return Ok(false);
    }
    R::Entity::delete_many()
        .filter(R::key_filter(key))
        .exec(&txn)
        .await?;
    audit::commit(txn, "", &touched).await?;
    Ok(true)
}

/// A text column's value as text (empty when NULL).
fn text_of(v: sea_orm::Value) -> String {
    match v {
        sea_orm::Value::String(Some(s)) => s,
        _ => String::new(),
    }
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

/// An LA's records matching `cond`.
pub async fn load<R: StoredRecord>(
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

/// Equality on a [`ChildDateKey`]'s three columns.
pub fn child_date_filter<C: ColumnTrait>(la: C, child: C, date: C, k: &ChildDateKey) -> Condition {
    Condition::all()
        .add(la.eq(k.la_code.as_str()))
        .add(child.eq(k.child_id.as_str()))
        .add(date.eq(k.date))
}

/// Strictly after `k` in the order LA, date, child (tables keyed for reading by date).
pub fn after_date_child<C: ColumnTrait>(child: C, date: C, k: &ChildDateKey) -> Condition {
    Condition::any().add(date.gt(k.date)).add(
        Condition::all()
            .add(date.eq(k.date))
            .add(child.gt(k.child_id.as_str())),
    )
}

/// Strictly after `k` in the order LA, child, date (tables keyed for reading a child's history).
pub fn after_child_date<C: ColumnTrait>(child: C, date: C, k: &ChildDateKey) -> Condition {
    Condition::any().add(child.gt(k.child_id.as_str())).add(
        Condition::all()
            .add(child.eq(k.child_id.as_str()))
            .add(date.gt(k.date)),
    )
}

/// `from <= col <= to`.
pub fn between<C: ColumnTrait>(col: C, from: NaiveDate, to: NaiveDate) -> Condition {
    Condition::all().add(col.gte(from)).add(col.lte(to))
}

/// A record kind that a source holding less than another may update without erasing what the
/// other stored (the `keep_stored` flag of a batch: Ofsted Annex A beside the CIN census).
pub trait KeepStored: StoredRecord {
    /// The record's LA and child, to find its stored version.
    fn la_child(&self) -> (LaCode, &str);
    /// Fills what this record leaves empty from its stored version.
    fn keep_stored(&mut self, stored: &Self);
}

/// Children per `IN (…)` list: a whole batch, well under every backend's bound-parameter limit.
const CHILDREN_PER_QUERY: usize = crate::MAX_BATCH;

/// Every stored record of these children of one LA.
pub async fn of_children<R: StoredRecord>(
    db: &impl ConnectionTrait,
    la: LaCode,
    children: &[&str],
) -> Result<Vec<R>, Error> {
    let mut out = Vec::new();
    for chunk in children.chunks(CHILDREN_PER_QUERY) {
        let cond = Condition::all().add(R::child_column().is_in(chunk.iter().copied()));
        out.extend(load::<R>(db, la, cond).await?);
    }
    Ok(out)
}

/// The stored versions of a batch's records, by key: what the write would replace. Read inside
/// the write transaction, so it is what the write replaces.
pub async fn stored_for<R: KeepStored>(
    db: &impl ConnectionTrait,
    batch: &Indexed<R>,
) -> Result<HashMap<R::Key, R>, Error> {
    let mut children: HashMap<LaCode, Vec<&str>> = HashMap::new();
    for (_, r) in batch.iter() {
        let (la, child) = r.la_child();
        children.entry(la).or_default().push(child);
    }
    let mut held = HashMap::new();
    for (la, mut ids) in children {
        ids.sort_unstable();
        ids.dedup();
        for r in of_children::<R>(db, la, &ids).await? {
            held.insert(r.key(), r);
        }
    }
    Ok(held)
}

/// Fills each record of `batch` from its stored version in `held`, where one is held
/// ([`KeepStored`]).
pub fn fill_from<R: KeepStored>(batch: &mut Indexed<R>, held: &HashMap<R::Key, R>) {
    for (_, r) in batch.iter_mut() {
        if let Some(stored) = held.get(&r.key()) {
            r.keep_stored(stored);
        }
    }
}

/// Fills each record of `batch` from its stored version, where one is held ([`KeepStored`]).
/// Runs inside the write transaction, so what it reads is what the write replaces.
pub async fn keep_stored<R: KeepStored>(
    db: &impl ConnectionTrait,
    batch: &mut Indexed<R>,
) -> Result<(), Error> {
    let held = stored_for(db, batch).await?;
    fill_from(batch, &held);
    Ok(())
}
