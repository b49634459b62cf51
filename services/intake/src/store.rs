//! What the intake holds for each child: one row, its merged record as JSON.

use csc_runtime::Error;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value as SqlValue};
use serde_json::Value;

fn statement(backend: DbBackend, sqlite: &str, values: Vec<SqlValue>) -> Statement {
    // The one placeholder spelling that differs: `?` on SQLite, `$n` on PostgreSQL.
    let sql = match backend {
        DbBackend::Postgres => {
            let mut out = String::with_capacity(sqlite.len() + 8);
            let mut n = 0;
            for ch in sqlite.chars() {
                if ch == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(ch);
                }
            }
            out
        }
        _ => sqlite.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// What is held for each of `children` of LA `la` (absent when nothing is).
pub async fn load(
    db: &impl ConnectionTrait,
    la: &str,
    child: &str,
) -> Result<Option<Value>, Error> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(statement(
            backend,
            "SELECT doc FROM dfe_child WHERE la_code = ? AND child_id = ?",
            vec![la.into(), child.into()],
        ))
        .await
        .map_err(|e| Error::from_db(&e))?;
    let Some(row) = row else { return Ok(None) };
    let text: String = row.try_get("", "doc").map_err(|e| Error::from_db(&e))?;
    serde_json::from_str(&text).map(Some).map_err(|e| {
        Error::Internal(format!(
            "the intake's record of {child} does not parse: {e}"
        ))
    })
}

/// Holds `doc` for the child (or nothing, when `None`: purged).
pub async fn save(
    db: &impl ConnectionTrait,
    la: &str,
    child: &str,
    doc: Option<&Value>,
    version: &str,
    at: &str,
) -> Result<(), Error> {
    let backend = db.get_database_backend();
    let stmt = match doc {
        None => statement(
            backend,
            "DELETE FROM dfe_child WHERE la_code = ? AND child_id = ?",
            vec![la.into(), child.into()],
        ),
        Some(doc) => statement(
            backend,
            "INSERT INTO dfe_child (la_code, child_id, doc, schema_version, received_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (la_code, child_id) DO UPDATE SET \
             doc = excluded.doc, schema_version = excluded.schema_version, \
             received_at = excluded.received_at",
            vec![
                la.into(),
                child.into(),
                doc.to_string().into(),
                version.into(),
                at.into(),
            ],
        ),
    };
    db.execute_raw(stmt)
        .await
        .map(|_| ())
        .map_err(|e| Error::from_db(&e))
}
