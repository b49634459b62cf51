//! A PostgreSQL write transaction on a connection of its own, and the batch upsert through binary
//! `COPY` it makes possible (issue 23).
//!
//! `COPY … FROM STDIN` needs the connection itself (`PgConnection::copy_in_raw`), which sea-orm
//! keeps private under its `DatabaseTransaction`. So a PostgreSQL write begins its transaction
//! on a connection taken from the same pool with sqlx, and [`PgTxn`] is a sea-orm
//! [`ConnectionTrait`] over it: the request-log lookup, the services' checks and the audit rows
//! run in it unchanged, sea-orm's statements bound and run exactly as sea-orm runs them
//! (`sea_query_sqlx`'s values, sea-orm's own error conversions), and the batch's rows go in by
//! `COPY` in the same transaction.

use std::fmt::Write as _;

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, DbErr, EntityName, ExecResult, IdenStatic,
    QueryResult, Statement, Value,
    sqlx::{self, Executor, Postgres},
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Mutex;

use crate::store::StoredRecord;

/// A write transaction begun with sqlx on a pooled connection ([`crate::db::begin_write_pg`]).
/// Dropped without [`PgTxn::commit`], it rolls back.
pub struct PgTxn {
    tx: Mutex<sqlx::Transaction<'static, Postgres>>,
}

impl PgTxn {
    pub(crate) fn new(tx: sqlx::Transaction<'static, Postgres>) -> Self {
        Self { tx: Mutex::new(tx) }
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.into_inner().commit().await.map_err(exec_err)
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.tx.into_inner().rollback().await.map_err(exec_err)
    }
}

/// sqlx's errors as sea-orm makes them (so that [`crate::Error::from_db`] reads them the same).
pub(crate) fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e.into()))
}

fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(sea_orm::RuntimeErr::SqlxError(e.into()))
}

pub(crate) fn conn_err(e: sqlx::Error) -> DbErr {
    DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into()))
}

/// A sea-orm statement as sqlx runs it: what sea-orm's own driver does.
fn query(stmt: &Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(sea_orm::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

#[async_trait::async_trait]
impl ConnectionTrait for PgTxn {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let mut tx = self.tx.lock().await;
        query(&stmt)
            .execute(&mut **tx)
            .await
            .map(Into::into)
            .map_err(exec_err)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let mut tx = self.tx.lock().await;
        (&mut **tx)
            .execute(sqlx::AssertSqlSafe(sql.to_owned()))
            .await
            .map(Into::into)
            .map_err(exec_err)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut tx = self.tx.lock().await;
        query(&stmt)
            .fetch_optional(&mut **tx)
            .await
            .map(|row| row.map(Into::into))
            .map_err(query_err)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut tx = self.tx.lock().await;
        query(&stmt)
            .fetch_all(&mut **tx)
            .await
            .map(|rows| rows.into_iter().map(Into::into).collect())
            .map_err(query_err)
    }
}

/// The PostgreSQL type a column's values are copied as, and so its staging column's type; the
/// `INSERT … SELECT` casts it to the table's own column type as an `INSERT … VALUES` would.
fn copy_type(v: &Value) -> Option<&'static str> {
    Some(match v {
        Value::String(_) => "text",
        Value::ChronoDate(_) => "date",
        Value::Bool(_) => "boolean",
        Value::Int(_) => "int4",
        Value::BigInt(_) => "int8",
        _ => return None,
    })
}

/// Days from PostgreSQL's epoch, 2000-01-01, as its binary `date` is.
fn pg_days(d: NaiveDate) -> i32 {
    const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date");
    (d - EPOCH).num_days() as i32
}

/// One field of a binary `COPY` row: its length (-1 for NULL) and its bytes in PostgreSQL's
/// binary format. False for a value of a type [`copy_type`] does not name.
fn encode(buf: &mut Vec<u8>, v: &Value) -> bool {
    fn field(buf: &mut Vec<u8>, bytes: &[u8]) {
        buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        buf.extend_from_slice(bytes);
    }
    match v {
        Value::String(Some(s)) => field(buf, s.as_bytes()),
        Value::ChronoDate(Some(d)) => field(buf, &pg_days(*d).to_be_bytes()),
        Value::Bool(Some(b)) => field(buf, &[u8::from(*b)]),
        Value::Int(Some(i)) => field(buf, &i.to_be_bytes()),
        Value::BigInt(Some(i)) => field(buf, &i.to_be_bytes()),
        Value::String(None)
        | Value::ChronoDate(None)
        | Value::Bool(None)
        | Value::Int(None)
        | Value::BigInt(None) => buf.extend_from_slice(&(-1i32).to_be_bytes()),
        _ => return false,
    }
    true
}

/// The records' rows in PostgreSQL's binary `COPY` format, their columns in `columns`' order,
/// with each column's type: `None` if a value is of a type not handled here (the caller then
/// writes the batch by `INSERT`).
fn binary_rows<R: StoredRecord>(
    records: &[R],
    columns: &[<R::Entity as sea_orm::EntityTrait>::Column],
) -> Option<(Vec<u8>, Vec<&'static str>)> {
    let mut buf = Vec::with_capacity(64 + records.len() * columns.len() * 16);
    buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    buf.extend_from_slice(&0i32.to_be_bytes()); // flags: no OIDs
    buf.extend_from_slice(&0i32.to_be_bytes()); // no header extension
    let mut types: Vec<Option<&'static str>> = vec![None; columns.len()];
    for r in records {
        let active = r.to_active();
        buf.extend_from_slice(&(columns.len() as i16).to_be_bytes());
        for (c, t) in columns.iter().zip(types.iter_mut()) {
            let v = active.get(*c).into_value()?;
            let ty = copy_type(&v)?;
            if t.replace(ty).is_some_and(|was| was != ty) || !encode(&mut buf, &v) {
                return None;
            }
        }
    }
    buf.extend_from_slice(&(-1i16).to_be_bytes());
    Some((buf, types.into_iter().collect::<Option<_>>()?))
}

/// Upserts `records` by binary `COPY` into a session's temporary table of the batch's columns
/// and one `INSERT … SELECT … ON CONFLICT … DO UPDATE … WHERE … IS DISTINCT FROM …`, which writes
/// exactly the rows that are new or differ, as the `INSERT … VALUES` path does: the count it
/// returns is the same. `None` (nothing written) when a column's type is not one
/// [`copy_type`] handles. The records' keys must be distinct (the batch is deduplicated).
///
/// The temporary table is made once per connection and emptied at every commit
/// (`ON COMMIT DELETE ROWS`): a batch's rows never outlive its transaction, and a rolled-back
/// batch leaves none.
pub(crate) async fn copy_upsert<R: StoredRecord>(
    txn: &PgTxn,
    records: &[R],
) -> Result<Option<u64>, DbErr> {
    let table = <R::Entity as Default>::default().table_name().to_owned();
    let (keys, values) = (R::key_columns(), R::value_columns());
    let columns: Vec<_> = keys.iter().chain(values.iter()).copied().collect();
    let Some((rows, types)) = binary_rows::<R>(records, &columns) else {
        return Ok(None);
    };
    let quoted = |cs: &[<R::Entity as sea_orm::EntityTrait>::Column]| {
        cs.iter()
            .map(|c| format!("\"{}\"", c.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let staging = format!("csc_copy_{table}");
    let mut create = format!("CREATE TEMPORARY TABLE IF NOT EXISTS \"{staging}\" (");
    for (i, (c, t)) in columns.iter().zip(&types).enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        write!(create, "{sep}\"{}\" {t}", c.as_str()).expect("a string");
    }
    create.push_str(") ON COMMIT DELETE ROWS");
    let all = quoted(&columns);
    let action = if values.is_empty() {
        "NOTHING".to_owned()
    } else {
        let set = values
            .iter()
            .map(|c| format!("\"{0}\" = excluded.\"{0}\"", c.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let changed = crate::store::changed_condition::<R>(&table);
        format!("UPDATE SET {set} WHERE {changed}")
    };
    let insert = format!(
        "INSERT INTO \"{table}\" ({all}) SELECT {all} FROM \"{staging}\" \
         ON CONFLICT ({}) DO {action}",
        quoted(&keys)
    );
    let mut tx = txn.tx.lock().await;
    let conn: &mut sqlx::PgConnection = &mut tx;
    conn.execute(sqlx::AssertSqlSafe(create))
        .await
        .map_err(exec_err)?;
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY \"{staging}\" ({all}) FROM STDIN (FORMAT binary)"
        ))
        .await
        .map_err(exec_err)?;
    copy.send(rows).await.map_err(exec_err)?;
    copy.finish().await.map_err(exec_err)?;
    let written = conn
        .execute(sqlx::AssertSqlSafe(insert))
        .await
        .map_err(exec_err)?
        .rows_affected();
    // Emptied at commit too; emptied now so that a second batch in this transaction finds
    // only its own rows.
    conn.execute(sqlx::AssertSqlSafe(format!("DELETE FROM \"{staging}\"")))
        .await
        .map_err(exec_err)?;
    Ok(Some(written))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_2000() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(pg_days(d(2000, 1, 1)), 0);
        assert_eq!(pg_days(d(1999, 12, 31)), -1);
        assert_eq!(pg_days(d(2024, 3, 1)), 8826);
    }

    #[test]
    fn fields_are_length_prefixed_and_null_is_minus_one() {
        let mut buf = Vec::new();
        assert!(encode(&mut buf, &Value::String(Some("ab".into()))));
        assert!(encode(&mut buf, &Value::String(None)));
        assert!(encode(&mut buf, &Value::Bool(Some(true))));
        assert!(encode(&mut buf, &Value::BigInt(Some(-2))));
        assert_eq!(
            buf,
            [
                &[0, 0, 0, 2, b'a', b'b'][..],
                &[0xff, 0xff, 0xff, 0xff],
                &[0, 0, 0, 1, 1],
                &[0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe],
            ]
            .concat()
        );
        assert!(!encode(&mut buf, &Value::Double(Some(1.0))));
        assert_eq!(copy_type(&Value::Double(None)), None);
    }
}
