//! The audit log: every call that reads or writes child-level records appends who made it (the
//! token's subject), the method, the LA, the children touched, the request id, the time and the
//! outcome, in the service's own database. `csc audit --la CODE --child ID` answers "who looked
//! at this child's record".
//!
//! No RPC reads or changes it, and the database refuses to: triggers make both tables
//! append-only (an UPDATE or DELETE aborts), so a retention purge is a deliberate act of the
//! database owner (docs/security.md), not something a service or a caller can do.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    sea_query::{ColumnDef, Expr, Order, Query, Table},
};
use sea_orm_migration::prelude::*;

/// Every service's migrator includes this migration.
pub struct CreateAuditLog;

impl MigrationName for CreateAuditLog {
    fn name(&self) -> &str {
        "m20261127_000001_audit_log"
    }
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    At,
    Subject,
    Method,
    LaCodes,
    RequestId,
    Outcome,
    Children,
}

#[derive(DeriveIden)]
enum AuditChild {
    Table,
    LaCode,
    ChildId,
    EventId,
}

const SQLITE_APPEND_ONLY: &str = "
CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_event
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_event
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_child_no_update BEFORE UPDATE ON audit_child
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_child_no_delete BEFORE DELETE ON audit_child
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
";

const POSTGRES_APPEND_ONLY: &str = "
CREATE OR REPLACE FUNCTION csc_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION csc_audit_append_only();
CREATE TRIGGER audit_child_append_only BEFORE UPDATE OR DELETE ON audit_child
  FOR EACH ROW EXECUTE FUNCTION csc_audit_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION csc_audit_append_only();
CREATE TRIGGER audit_child_no_truncate BEFORE TRUNCATE ON audit_child
  FOR EACH STATEMENT EXECUTE FUNCTION csc_audit_append_only();
";

#[async_trait::async_trait]
impl MigrationTrait for CreateAuditLog {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditEvent::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(AuditEvent::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(AuditEvent::At).string().not_null())
                .col(ColumnDef::new(AuditEvent::Subject).string().not_null())
                .col(ColumnDef::new(AuditEvent::Method).string().not_null())
                .col(ColumnDef::new(AuditEvent::LaCodes).string().not_null())
                .col(ColumnDef::new(AuditEvent::RequestId).string().not_null())
                .col(ColumnDef::new(AuditEvent::Outcome).string().not_null())
                .col(
                    ColumnDef::new(AuditEvent::Children)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        crate::schema::create_keyed_table(
            m,
            "audit_child",
            vec![
                crate::schema::text("la_code"),
                crate::schema::text("child_id"),
                crate::schema::big_int("event_id"),
            ],
            &["la_code", "child_id", "event_id"],
        )
        .await?;
        let sql = match m.get_database_backend() {
            DbBackend::Postgres => POSTGRES_APPEND_ONLY,
            _ => SQLITE_APPEND_ONLY,
        };
        m.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::schema::drop_tables(m, &["audit_child", "audit_event"]).await
    }
}

/// One audited call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// The token's subject (who), or `-` when the server runs without authentication.
    pub subject: String,
    /// `/package.Service/Method`.
    pub method: String,
    pub la_codes: Vec<String>,
    /// The caller's `x-request-id`, else the batch's `request_id`; empty when neither was sent.
    pub request_id: String,
    /// The gRPC code the call ended with (`OK`, `PermissionDenied`, `NotFound`, ...).
    pub outcome: String,
    /// (LA, child id) of every child whose records the call asked for, sent or returned.
    pub children: Vec<(String, String)>,
}

/// Children per insert statement: 3 parameters each, well inside both databases' limits.
const CHILD_ROWS_PER_INSERT: usize = 1_000;

/// Appends `event` to the log, in one transaction: for calls that wrote nothing (reads, and
/// writes that were refused or failed). A write that commits records its entry in its own
/// transaction instead ([`commit`]). The entry is a write: on SQLite it takes its turn with the
/// records' writers ([`crate::db::begin_write`]) rather than poll for the lock beside them, where
/// it could lose every time to the next writer in turn and fail after the busy timeout.
pub async fn record(db: &DatabaseConnection, event: &Event) -> Result<(), DbErr> {
    let (txn, _turn) = crate::db::begin_write(db).await?;
    insert(&txn, event, &event.request_id, &event.outcome, &[]).await?;
    txn.commit().await
}

/// Inserts `event` with `request_id`, `outcome` and the children in `extra` besides its own.
async fn insert(
    conn: &impl ConnectionTrait,
    event: &Event,
    request_id: &str,
    outcome: &str,
    extra: &[(String, String)],
) -> Result<(), DbErr> {
    let children: Vec<&(String, String)> = event
        .children
        .iter()
        .chain(extra.iter().filter(|c| !event.children.contains(c)))
        .collect();
    let insert = Query::insert()
        .into_table(AuditEvent::Table)
        .columns([
            AuditEvent::At,
            AuditEvent::Subject,
            AuditEvent::Method,
            AuditEvent::LaCodes,
            AuditEvent::RequestId,
            AuditEvent::Outcome,
            AuditEvent::Children,
        ])
        .values_panic([
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .into(),
            event.subject.clone().into(),
            event.method.clone().into(),
            event.la_codes.join(",").into(),
            request_id.into(),
            outcome.into(),
            (children.len() as i64).into(),
        ])
        .returning_col(AuditEvent::Id)
        .to_owned();
    let row = conn
        .query_one(&insert)
        .await?
        .ok_or_else(|| DbErr::Custom("the audit insert returned no id".into()))?;
    let id: i64 = row.try_get("", "id")?;
    for chunk in children.chunks(CHILD_ROWS_PER_INSERT) {
        let mut q = Query::insert();
        q.into_table(AuditChild::Table).columns([
            AuditChild::LaCode,
            AuditChild::ChildId,
            AuditChild::EventId,
        ]);
        for (la, child) in chunk {
            q.values_panic([la.clone().into(), child.clone().into(), id.into()]);
        }
        conn.execute(&q).await?;
    }
    Ok(())
}

/// A write call's audit entry, waiting for the write's transaction: the auth layer sets it for
/// the call ([`scope`]), the store appends it inside the transaction that writes the records
/// ([`commit`]), so that a committed write always has its audit row and an audit row of
/// a successful write always has its data, whatever happens to the process in between.
#[derive(Debug)]
pub struct Pending {
    event: Event,
    committed: AtomicBool,
}

impl Pending {
    pub fn new(event: Event) -> Arc<Self> {
        Arc::new(Pending {
            event,
            committed: AtomicBool::new(false),
        })
    }

    /// Whether a transaction of the call committed with this entry in it.
    pub fn committed(&self) -> bool {
        self.committed.load(Ordering::Acquire)
    }

    /// A transaction holding this entry ([`append`]) has committed.
    pub fn mark_committed(&self) {
        self.committed.store(true, Ordering::Release);
    }
}

tokio::task_local! {
    static PENDING: Arc<Pending>;
}

/// Runs `call` with `pending` as the entry its writes append.
pub async fn scope<F: std::future::Future>(pending: Arc<Pending>, call: F) -> F::Output {
    PENDING.scope(pending, call).await
}

/// Commits a write transaction with the call's audit entry in it ([`append`]); once the commit
/// succeeds the call is marked audited, so the auth layer does not write its entry again.
/// Outside a call (no [`scope`]) it only commits.
pub async fn commit(
    txn: DatabaseTransaction,
    request_id: &str,
    touched: &[(String, String)],
) -> Result<(), DbErr> {
    let pending = pending();
    append(&txn, pending.as_deref(), request_id, touched).await?;
    txn.commit().await?;
    if let Some(p) = pending {
        p.mark_committed();
    }
    Ok(())
}

/// The audit entry of the call this task serves, if it is a write call under [`scope`]: for a
/// write done in another task ([`crate::writer`]), which appends it with [`append`] and marks it
/// committed once its transaction has committed.
pub fn pending() -> Option<Arc<Pending>> {
    PENDING.try_with(Arc::clone).ok()
}

/// Appends the call's entry to a write transaction, with outcome `OK`, under `request_id` when
/// one is given (the batch's, as the request log holds it), and with the children in `touched`
/// besides those the request named (a deleted record's child, when the key named none): so that
/// a committed write always has its audit row and an audit row of a successful write always
/// has its data, whatever happens to the process in between. Without an entry it does nothing.
pub async fn append(
    conn: &impl ConnectionTrait,
    pending: Option<&Pending>,
    request_id: &str,
    touched: &[(String, String)],
) -> Result<(), DbErr> {
    let Some(p) = pending else { return Ok(()) };
    let id = if request_id.is_empty() {
        p.event.request_id.as_str()
    } else {
        request_id
    };
    insert(conn, &p.event, id, "OK", touched).await
}

/// One line of a child's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub at: String,
    pub subject: String,
    pub method: String,
    pub la_codes: String,
    pub request_id: String,
    pub outcome: String,
}

/// Every audited call that touched child `child_id` of LA `la`, oldest first.
pub async fn for_child(
    db: &DatabaseConnection,
    la: &str,
    child_id: &str,
) -> Result<Vec<Entry>, DbErr> {
    let q = Query::select()
        .columns([
            (AuditEvent::Table, AuditEvent::At),
            (AuditEvent::Table, AuditEvent::Subject),
            (AuditEvent::Table, AuditEvent::Method),
            (AuditEvent::Table, AuditEvent::LaCodes),
            (AuditEvent::Table, AuditEvent::RequestId),
            (AuditEvent::Table, AuditEvent::Outcome),
        ])
        .from(AuditChild::Table)
        .inner_join(
            AuditEvent::Table,
            Expr::col((AuditEvent::Table, AuditEvent::Id))
                .equals((AuditChild::Table, AuditChild::EventId)),
        )
        .and_where(Expr::col((AuditChild::Table, AuditChild::LaCode)).eq(la))
        .and_where(Expr::col((AuditChild::Table, AuditChild::ChildId)).eq(child_id))
        .order_by((AuditEvent::Table, AuditEvent::Id), Order::Asc)
        .to_owned();
    let rows = db.query_all(&q).await?;
    rows.iter()
        .map(|r| {
            Ok(Entry {
                at: r.try_get("", "at")?,
                subject: r.try_get("", "subject")?,
                method: r.try_get("", "method")?,
                la_codes: r.try_get("", "la_codes")?,
                request_id: r.try_get("", "request_id")?,
                outcome: r.try_get("", "outcome")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use sea_orm_migration::MigratorTrait;

    use super::*;

    struct M;
    #[async_trait::async_trait]
    impl MigratorTrait for M {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![Box::new(CreateAuditLog)]
        }
    }

    #[tokio::test]
    async fn a_childs_trail_lists_every_call_that_touched_it_and_nothing_can_change_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::db::sqlite_url_in(dir.path(), "audit");
        let db = crate::db::connect_and_migrate::<M>(&url).await.unwrap();
        let event = |subject: &str, children: &[(&str, &str)]| Event {
            subject: subject.into(),
            method: "/csc.frontdoor.v1.FrontDoorService/ListReferrals".into(),
            la_codes: vec!["885".into()],
            request_id: "r1".into(),
            outcome: "OK".into(),
            children: children
                .iter()
                .map(|(l, c)| ((*l).to_owned(), (*c).to_owned()))
                .collect(),
        };
        record(&db, &event("alice", &[("885", "C1"), ("885", "C2")]))
            .await
            .unwrap();
        record(&db, &event("bob", &[("885", "C2")])).await.unwrap();
        record(&db, &event("carol", &[("886", "C1")]))
            .await
            .unwrap();

        let c1 = for_child(&db, "885", "C1").await.unwrap();
        assert_eq!(c1.len(), 1);
        assert_eq!(c1[0].subject, "alice");
        let c2: Vec<_> = for_child(&db, "885", "C2")
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.subject)
            .collect();
        assert_eq!(c2, ["alice", "bob"], "oldest first");
        assert!(for_child(&db, "885", "C3").await.unwrap().is_empty());

        for sql in [
            "UPDATE audit_event SET subject = 'nobody'",
            "DELETE FROM audit_event",
            "UPDATE audit_child SET child_id = 'C9'",
            "DELETE FROM audit_child",
        ] {
            let e = db.execute_unprepared(sql).await.unwrap_err();
            assert!(e.to_string().contains("append-only"), "{sql}: {e}");
        }
        assert_eq!(for_child(&db, "885", "C2").await.unwrap().len(), 2);
    }
}
