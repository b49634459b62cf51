//! Database connection and migrations, on SQLite (the default: one file per service, WAL) and
//! PostgreSQL (production: one database or schema per service).

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
    time::Duration,
};

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

/// How a service's database is named in URLs: `sqlite://path/file.db` or `postgres://...`.
/// A SQLite URL gets `mode=rwc` so that the file is created on first start.
pub fn normalise_url(url: &str) -> String {
    if url.starts_with("sqlite:") && !url.contains("mode=") && !url.contains(":memory:") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}mode=rwc")
    } else {
        url.to_owned()
    }
}

/// The SQLite URL of a service's file in a data directory.
pub fn sqlite_url_in(dir: &std::path::Path, service: &str) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        dir.join(format!("{service}.db")).display()
    )
}

/// Connects with a pool sized for the backend. SQLite runs in WAL mode with `synchronous=NORMAL`
/// (durable across process crashes; the last commits may be lost only on power loss) and waits
/// up to 5 s on a locked database instead of failing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let db = Database::connect(options(url)).await?;
    // Fail at start, not at the first request, when the database is unreachable.
    db.execute_unprepared("SELECT 1").await?;
    Ok(db)
}

/// A pool that connects when first used: a server starts, answers health checks and reports
/// NOT_SERVING while its database is unreachable, instead of exiting.
pub async fn connect_lazy(url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut opts = options(url);
    opts.connect_lazy(true);
    Database::connect(opts).await
}

/// Whether the database answers and every migration of `M` is applied; the error says which are
/// not. Read-only (a pod's database user needs no DDL to check), and migrations applied that
/// this binary does not know are a newer release's, applied by its migrate Job while this
/// release's pods still serve a rolling upgrade: they keep it ready. (sea-orm's own
/// `get_pending_migrations` would create its table, and fails on unknown migrations.)
pub async fn check_ready<M: MigratorTrait>(db: &DatabaseConnection) -> anyhow::Result<()> {
    db.execute_unprepared("SELECT 1")
        .await
        .map_err(|e| anyhow::anyhow!("database unreachable: {e}"))?;
    let table = M::migration_table_name().to_string();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT version FROM {table}"),
        ))
        .await
        .map_err(|e| anyhow::anyhow!("no migrations applied (reading {table}: {e})"))?;
    let applied: std::collections::HashSet<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<String>("", "version").ok())
        .collect();
    let pending: Vec<String> = M::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .filter(|name| !applied.contains(name))
        .collect();
    if !pending.is_empty() {
        anyhow::bail!(
            "{} migration(s) not applied (run `csc migrate`): {}",
            pending.len(),
            pending.join(", ")
        );
    }
    Ok(())
}

fn options(url: &str) -> ConnectOptions {
    let url = normalise_url(url);
    let mut opts = ConnectOptions::new(url.clone());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        // A connection's page cache (up to 64 MiB, below) is freed only when it closes. One is
        // closed when it has been idle for SQLITE_IDLE, or at its first release after
        // SQLITE_LIFETIME: the readiness check every 10 s takes the pool's connections in turn
        // and keeps them from ever being idle that long, so the lifetime is what frees a
        // service's caches once it is at rest (docs/performance.md). An in-memory database
        // lives only as long as a connection to it, and keeps one.
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        opts.max_connections(4)
            .min_connections(u32::from(memory))
            .idle_timeout(SQLITE_IDLE)
            .max_lifetime((!memory).then_some(SQLITE_LIFETIME))
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true)
                    // Natural keys arrive in no useful order, so inserts touch pages all over
                    // each index: a 64 MiB page cache (SQLite's default is 2 MiB) keeps them.
                    .pragma("cache_size", "-65536")
                    .pragma("temp_store", "memory")
                    .pragma("mmap_size", "268435456")
                    // One batch of 5,000 random keys dirties thousands of pages, more than the
                    // default 1,000-page checkpoint threshold, so every batch paid for a
                    // checkpoint and its fsync. At 64 MiB, pages that several batches rewrite
                    // are copied back once.
                    .pragma("wal_autocheckpoint", "16384")
            });
    } else {
        opts.max_connections(POSTGRES_POOL).min_connections(1);
    }
    opts
}

/// Connects and applies every pending migration of `M`.
pub async fn connect_and_migrate<M: MigratorTrait>(
    url: &str,
) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let db = connect(url).await?;
    M::up(&db, None).await?;
    Ok(db)
}

/// How long a pooled SQLite connection stays open unused, and how long it is kept at all,
/// before it is closed and its page cache freed. The pool checks its idle connections every
/// `SQLITE_IDLE`; a busy one is closed when it is next released. One opened again refills its
/// cache from the memory-mapped file and the WAL.
const SQLITE_IDLE: Duration = Duration::from_secs(20);
const SQLITE_LIFETIME: Duration = Duration::from_secs(60);

/// How long a write waits for its turn at a SQLite file before it is refused as UNAVAILABLE
/// (retryable): the pool's own acquire timeout.
const WRITE_TURN_TIMEOUT: Duration = Duration::from_secs(30);

/// PostgreSQL connections a service's pool holds, and how many of them writers may hold at
/// once: the rest are always free for reads. Measured with 16 writers and 7 readers on this
/// 2-core machine (docs/performance.md), 4 writers kept `ComputeMeasures` under 1 s at p99;
/// 8 gave 1.4 s, no limit 2.3 s. `csc import` sends one batch at a time, so a single import's
/// rate is not limited.
const POSTGRES_POOL: u32 = 16;
const POSTGRES_WRITERS: usize = 4;

/// The writers of this process at each database: one at a time at a SQLite file, at most
/// [`POSTGRES_WRITERS`] at a PostgreSQL database.
static WRITERS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>> =
    LazyLock::new(Default::default);

/// A writer's turn at its database, from before its transaction begins until it is dropped:
/// keep it until the transaction has committed or rolled back.
#[must_use = "the turn ends when it is dropped: keep it until the transaction ends"]
pub struct WriteTurn(#[allow(dead_code)] tokio::sync::OwnedSemaphorePermit);

/// Waits for this writer's turn, so that writers never hold the connections reads need.
///
/// SQLite has one write lock per file: writers that each took a pool connection and then waited
/// on the lock (its busy timeout) held every connection of the pool, and reads, which WAL never
/// makes wait on a writer, queued for a connection behind them (issue 23: 16 writers made
/// `ComputeMeasures` take 5.6 s at the median). Writers now queue here, without a connection, so
/// at most one of the pool's connections is a writer's and the others are free for reads; and a
/// writer waits its turn however long the one before it takes, instead of failing after the busy
/// timeout.
///
/// PostgreSQL writes concurrently, but 16 writers held all 16 pooled connections, and reads
/// queued for one behind them: writers there take at most [`POSTGRES_WRITERS`] of the pool.
async fn write_turn(db: &DatabaseConnection) -> Result<WriteTurn, sea_orm::DbErr> {
    let (key, permits) = database_key(db);
    let gate = WRITERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(key)
        .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(permits)))
        .clone();
    match tokio::time::timeout(WRITE_TURN_TIMEOUT, gate.acquire_owned()).await {
        Ok(Ok(permit)) => Ok(WriteTurn(permit)),
        // The semaphore is never closed.
        Ok(Err(_)) => Err(sea_orm::DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::ConnectionClosed,
        )),
        Err(_) => Err(sea_orm::DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout,
        )),
    }
}

/// Which database `db` writes to (a SQLite file, or a PostgreSQL server's database), and how
/// many writers it takes at once.
pub(crate) fn database_key(db: &DatabaseConnection) -> (String, usize) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            let o = db.get_sqlite_connection_pool().connect_options();
            (format!("sqlite:{}", o.get_filename().display()), 1)
        }
        _ => {
            let o = db.get_postgres_connection_pool().connect_options();
            (
                format!(
                    "postgres://{}:{}/{}",
                    o.get_host(),
                    o.get_port(),
                    o.get_database().unwrap_or_default()
                ),
                POSTGRES_WRITERS,
            )
        }
    }
}

/// What a PostgreSQL write transaction runs first: its statements planned afresh
/// ([`begin_write`]).
const PLAN_AFRESH: &str = "SET LOCAL plan_cache_mode = force_custom_plan";

/// Begins a transaction that will write, after waiting for the writer's turn ([`WriteTurn`]:
/// keep it until the transaction ends). On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first (the request-id lookup) cannot
/// upgrade to a writer while another connection writes, and SQLite then fails it at once with
/// "database is locked" instead of waiting. Writers of this process queue for their turn; the
/// busy timeout is for another process's (a migration's).
///
/// On PostgreSQL the transaction plans each statement afresh. sqlx prepares every statement, and
/// after five runs PostgreSQL may settle on one generic plan; a write's lookups (the stored records
/// of a batch's children) first run while a table is nearly empty, so the plan kept was a
/// sequential scan, and ingest of a million CP plans fell to 6k rows/s as the table grew
/// (docs/performance.md). Planning a lookup costs well under a millisecond.
pub async fn begin_write(
    db: &DatabaseConnection,
) -> Result<(DatabaseTransaction, WriteTurn), sea_orm::DbErr> {
    let turn = write_turn(db).await?;
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared(PLAN_AFRESH).await?;
    }
    Ok((txn, turn))
}

/// As [`begin_write`], on PostgreSQL, with the transaction begun by sqlx on a connection of the
/// service's pool, so that a batch can be copied into it ([`crate::pgtxn`]). The same turn,
/// the same planning.
pub(crate) async fn begin_write_pg(
    db: &DatabaseConnection,
) -> Result<(crate::pgtxn::PgTxn, WriteTurn), sea_orm::DbErr> {
    let turn = write_turn(db).await?;
    let tx = db
        .get_postgres_connection_pool()
        .begin()
        .await
        .map_err(crate::pgtxn::conn_err)?;
    let txn = crate::pgtxn::PgTxn::new(tx);
    txn.execute_unprepared(PLAN_AFRESH).await?;
    // The staging table's `IF NOT EXISTS` would otherwise send a notice with every batch.
    txn.execute_unprepared("SET LOCAL client_min_messages = warning")
        .await?;
    Ok((txn, turn))
}

/// Reads the database URL from the file named by `CSC_DATABASE_URL_FILE` (a mounted secret) if
/// given, else the URL itself.
pub fn resolve_url(
    url: Option<String>,
    url_file: Option<std::path::PathBuf>,
) -> anyhow::Result<Option<String>> {
    if let Some(path) = url_file {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            anyhow::anyhow!("reading the database URL from {}: {e}", path.display())
        })?;
        return Ok(Some(text.trim().to_owned()));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writers queued behind one that holds SQLite's write lock take no connection of the pool
    /// while they wait: a read still gets one at once, and every writer commits in its turn
    /// (before, the queued writers held the pool's connections on the busy timeout, the read
    /// waited behind them, and writers failed "database is locked" after 5 s).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_writers_leave_the_pool_to_readers_and_each_commits_in_turn() {
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&sqlite_url_in(dir.path(), "t")).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        let (first, turn) = begin_write(&db).await.unwrap();
        first
            .execute_unprepared("INSERT INTO t VALUES (0)")
            .await
            .unwrap();
        // More writers than the pool (4 on SQLite) has connections.
        let writers: Vec<_> = (1..=6)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    let (txn, _turn) = begin_write(&db).await?;
                    txn.execute_unprepared(&format!("INSERT INTO t VALUES ({i})"))
                        .await?;
                    txn.commit().await
                })
            })
            .collect();
        // Let them all queue (not a timing assertion: the read below must not wait for them).
        tokio::time::sleep(Duration::from_millis(300)).await;
        let read = tokio::time::timeout(
            Duration::from_secs(2),
            db.query_one_raw(Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT count(*) AS n FROM t",
            )),
        )
        .await
        .expect("a read while writers queue gets a connection at once")
        .unwrap()
        .unwrap();
        assert_eq!(
            read.try_get::<i64>("", "n").unwrap(),
            0,
            "nothing committed yet"
        );
        // The first writer holds the lock past the busy timeout: the others still wait their turn.
        tokio::time::sleep(Duration::from_secs(6)).await;
        first.commit().await.unwrap();
        drop(turn);
        for w in writers {
            w.await.unwrap().expect("each queued writer commits");
        }
        let n = db
            .query_one_raw(Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT count(*) AS n FROM t",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n.try_get::<i64>("", "n").unwrap(), 7);
    }

    #[test]
    fn sqlite_urls_create_their_file() {
        assert_eq!(normalise_url("sqlite://x.db"), "sqlite://x.db?mode=rwc");
        assert_eq!(
            normalise_url("sqlite://x.db?mode=ro"),
            "sqlite://x.db?mode=ro"
        );
        assert_eq!(normalise_url("postgres://u@h/db"), "postgres://u@h/db");
    }

    use sea_orm_migration::prelude::*;

    struct Second;

    impl MigrationName for Second {
        fn name(&self) -> &str {
            "m_test_second"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Second {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            m.get_connection()
                .execute_unprepared("CREATE TABLE second (x INTEGER)")
                .await
                .map(|_| ())
        }
    }

    /// This release: one migration.
    struct ThisRelease;
    impl MigratorTrait for ThisRelease {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![Box::new(crate::idempotency::CreateRequestLog)]
        }
    }

    /// The next release: one more.
    struct NextRelease;
    impl MigratorTrait for NextRelease {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![
                Box::new(crate::idempotency::CreateRequestLog),
                Box::new(Second),
            ]
        }
    }

    #[tokio::test]
    async fn ready_only_once_every_known_migration_is_applied_and_still_ready_after_a_newer_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = connect_lazy(&sqlite_url_in(dir.path(), "ready"))
            .await
            .unwrap();

        let fresh = check_ready::<ThisRelease>(&db).await.unwrap_err();
        assert!(
            fresh.to_string().contains("no migrations applied"),
            "{fresh}"
        );
        assert!(
            !SchemaManager::new(&db)
                .has_table("seaql_migrations")
                .await
                .unwrap(),
            "checking created nothing"
        );

        ThisRelease::up(&db, None).await.unwrap();
        check_ready::<ThisRelease>(&db).await.unwrap();

        let behind = check_ready::<NextRelease>(&db).await.unwrap_err();
        assert!(
            behind
                .to_string()
                .contains("1 migration(s) not applied (run `csc migrate`): m_test_second"),
            "{behind}"
        );

        // The next release's migrate Job runs while this release's pods still serve.
        NextRelease::up(&db, None).await.unwrap();
        check_ready::<NextRelease>(&db).await.unwrap();
        check_ready::<ThisRelease>(&db).await.unwrap();
    }
}
