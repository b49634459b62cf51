//! Writes that commit together. On SQLite one writer task per file takes the writes that queued
//! while its previous transaction ran and commits them in one transaction (group commit), each
//! in a savepoint of its own, so that one that fails leaves the others; each caller is answered
//! only after the transaction holding its write has committed. On PostgreSQL, which writes
//! concurrently, each write is its own transaction.
//!
//! Either way the write runs in a task of its own, not the caller's: a caller that goes away
//! (a cancelled call, a deadline) cannot cut a transaction in half, and a write whose caller
//! left before it began is not done at all.

use std::{
    any::Any,
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{LazyLock, Mutex},
};

use futures::FutureExt;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::{Error, pgtxn::PgTxn};

/// The transaction a write runs in: sea-orm's on SQLite (a group's, or a savepoint of it), its
/// own sqlx one on PostgreSQL. Either is a [`ConnectionTrait`] for sea-orm's queries.
pub enum WriteTxn<'a> {
    Orm(&'a DatabaseTransaction),
    Pg(&'a PgTxn),
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn<'_> {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Self::Orm(t) => t.get_database_backend(),
            Self::Pg(t) => t.get_database_backend(),
        }
    }
    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Self::Orm(t) => t.execute_raw(stmt).await,
            Self::Pg(t) => t.execute_raw(stmt).await,
        }
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Self::Orm(t) => t.execute_unprepared(sql).await,
            Self::Pg(t) => t.execute_unprepared(sql).await,
        }
    }
    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Self::Orm(t) => t.query_one_raw(stmt).await,
            Self::Pg(t) => t.query_one_raw(stmt).await,
        }
    }
    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Self::Orm(t) => t.query_all_raw(stmt).await,
            Self::Pg(t) => t.query_all_raw(stmt).await,
        }
    }
}

/// A write's work inside its transaction, as a boxed future borrowing the transaction.
pub type Work<'t, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 't>>;

/// Most writes in one group transaction: 16 full batches are 80,000 records, a transaction of
/// well under a second, so that the first batch of a group is not kept waiting long for the last.
pub const MAX_GROUP: usize = 16;

type Answer = Result<Box<dyn Any + Send>, Error>;
type Run = Box<
    dyn for<'t> FnOnce(&'t WriteTxn<'t>) -> Pin<Box<dyn Future<Output = Answer> + Send + 't>>
        + Send,
>;

/// One caller's write, waiting for its group.
struct Job {
    /// The caller's connection: a group begins on its first job's.
    db: DatabaseConnection,
    run: Run,
    reply: oneshot::Sender<Answer>,
}

/// The writer task of each SQLite file of this process.
static WRITERS: LazyLock<Mutex<HashMap<String, mpsc::UnboundedSender<Job>>>> =
    LazyLock::new(Default::default);

/// Runs `work` in a write transaction and returns its result once that transaction has
/// committed. An error from `work` undoes what it wrote (and only that) and is returned; the
/// other writes of its group still commit. If the group's commit fails, every write of it gets
/// the error and none is kept.
pub async fn write<T, F>(db: &DatabaseConnection, work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: for<'t> FnOnce(&'t WriteTxn<'t>) -> Work<'t, T> + Send + 'static,
{
    let span = tracing::Span::current();
    let run: Run = Box::new(move |txn| {
        Box::pin(
            work(txn)
                .map(|r| r.map(|v| Box::new(v) as Box<dyn Any + Send>))
                .instrument(span),
        )
    });
    let (reply, answer) = oneshot::channel();
    let job = Job {
        db: db.clone(),
        run,
        reply,
    };
    match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => send(crate::db::database_key(db).0, job),
        _ => {
            tokio::spawn(commit_pg(job));
        }
    }
    let value = answer.await.map_err(|_| {
        Error::Unavailable("the database's writer stopped before it answered".into())
    })??;
    Ok(*value
        .downcast::<T>()
        .expect("a write is answered with its own result"))
}

/// Queues `job` for its file's writer, starting one if there is none (or it has stopped: its
/// runtime ended, as each test's does).
fn send(file: String, job: Job) {
    let mut writers = WRITERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let job = match writers.get(&file) {
        Some(queue) => match queue.send(job) {
            Ok(()) => return,
            Err(mpsc::error::SendError(job)) => job,
        },
        None => job,
    };
    let (queue, jobs) = mpsc::unbounded_channel();
    assert!(queue.send(job).is_ok(), "its receiver is here");
    tokio::spawn(writer(jobs));
    writers.insert(file, queue);
}

/// A SQLite file's writer: each group is what queued while the previous one was written and
/// committed, up to [`MAX_GROUP`].
async fn writer(mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP
            && let Ok(job) = jobs.try_recv()
        {
            group.push(job);
        }
        // A caller that has gone (its call cancelled or out of time) learns nothing of a write
        // done after it left: not doing it is the outcome it can assume.
        group.retain(|job| !job.reply.is_closed());
        if !group.is_empty() {
            commit_group(group).await;
        }
    }
}

/// Writes a group in one transaction and answers each job once it has committed.
async fn commit_group(group: Vec<Job>) {
    metrics::histogram!("csc_write_group_size").record(group.len() as f64);
    let db = group[0].db.clone();
    let (txn, turn) = match crate::db::begin_write(&db).await {
        Ok(begun) => begun,
        Err(e) => return fail_all(group.into_iter().map(|j| j.reply), &e),
    };
    let alone = group.len() == 1;
    let mut written = Vec::with_capacity(group.len());
    for job in group {
        // A write alone needs no savepoint: its error rolls the whole transaction back.
        let answer = if alone {
            Ok(run(job.run, &WriteTxn::Orm(&txn)).await)
        } else {
            in_savepoint(&txn, job.run).await
        };
        match answer {
            Ok(Ok(value)) => written.push((job.reply, value)),
            Ok(Err(e)) => {
                let _ = job.reply.send(Err(e));
            }
            // The transaction may hold part of this write: none of the group may commit.
            Err(e) => {
                let replies = written.into_iter().map(|(r, _)| r);
                return fail_all(replies.chain([job.reply]), &e);
            }
        }
    }
    if written.is_empty() {
        return; // the transaction rolls back as it drops
    }
    let committed = txn.commit().await;
    drop(turn);
    match committed {
        Ok(()) => {
            for (reply, value) in written {
                let _ = reply.send(Ok(value));
            }
        }
        Err(e) => fail_all(written.into_iter().map(|(r, _)| r), &e),
    }
}

/// Runs one write of a group in a savepoint: its error undoes its writes alone. The outer error
/// is the savepoint's own failure, after which the transaction's content is unknown.
async fn in_savepoint(txn: &DatabaseTransaction, work: Run) -> Result<Answer, DbErr> {
    let savepoint = txn.begin().await?;
    let answer = run(work, &WriteTxn::Orm(&savepoint)).await;
    if answer.is_ok() {
        savepoint.commit().await?;
    } else {
        savepoint.rollback().await?;
    }
    Ok(answer)
}

/// Writes one PostgreSQL write in a transaction of its own and answers it once committed.
async fn commit_pg(job: Job) {
    metrics::histogram!("csc_write_group_size").record(1.0);
    let (txn, turn) = match crate::db::begin_write_pg(&job.db).await {
        Ok(begun) => begun,
        Err(e) => return fail_all([job.reply].into_iter(), &e),
    };
    let answer = run(job.run, &WriteTxn::Pg(&txn)).await;
    let answer = match answer {
        Ok(value) => txn
            .commit()
            .await
            .map(|()| value)
            .map_err(|e| Error::from_db(&e)),
        Err(e) => {
            // Its error is the answer whether or not the rollback reaches the server: a
            // connection that fails it is closed, which rolls back too.
            let _ = txn.rollback().await;
            Err(e)
        }
    };
    drop(turn);
    let _ = job.reply.send(answer);
}

/// Runs a write, a panic in it becoming its error rather than the writer's end.
async fn run(work: Run, txn: &WriteTxn<'_>) -> Answer {
    std::panic::AssertUnwindSafe(async move { work(txn).await })
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err(Error::Internal("a write panicked".into())))
}

fn fail_all(replies: impl Iterator<Item = oneshot::Sender<Answer>>, e: &DbErr) {
    for reply in replies {
        let _ = reply.send(Err(Error::from_db(e)));
    }
}

#[cfg(test)]
mod tests {
    use std::task::Poll;

    use sea_orm::{ConnectionTrait, Statement};
    use tokio::sync::oneshot;

    use super::*;
    use crate::db::{connect, sqlite_url_in};

    async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
        db.query_one_raw(Statement::from_string(sea_orm::DbBackend::Sqlite, sql))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index(0)
            .unwrap()
    }

    /// A write of `sql` that then ends as `end` says.
    fn insert(
        db: &DatabaseConnection,
        sql: &'static str,
        end: fn() -> Result<(), Error>,
    ) -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send>> {
        let db = db.clone();
        Box::pin(async move {
            write(&db, move |txn| {
                Box::pin(async move {
                    txn.execute_unprepared(sql).await?;
                    end()
                })
            })
            .await
        })
    }

    /// Starts a write that takes the writer and holds it until `release` is sent, so that the
    /// writes sent meanwhile queue and form the next group.
    async fn hold_the_writer(
        db: &DatabaseConnection,
    ) -> (
        oneshot::Sender<()>,
        tokio::task::JoinHandle<Result<(), Error>>,
    ) {
        let (release, released) = oneshot::channel::<()>();
        let (started, has_started) = oneshot::channel::<()>();
        let db = db.clone();
        let holder = tokio::spawn(async move {
            write(&db, move |_| {
                Box::pin(async move {
                    let _ = started.send(());
                    let _ = released.await;
                    Ok(())
                })
            })
            .await
        });
        has_started.await.unwrap();
        (release, holder)
    }

    /// Sends a write to the writer (its first poll queues it) and keeps it to be awaited.
    async fn queued<T>(
        mut write: Pin<Box<dyn Future<Output = T> + Send>>,
    ) -> Pin<Box<dyn Future<Output = T> + Send>> {
        assert!(matches!(futures::poll!(&mut write), Poll::Pending));
        write
    }

    async fn table(dir: &tempfile::TempDir) -> DatabaseConnection {
        let db = connect(&sqlite_url_in(dir.path(), "w")).await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE t (x TEXT, p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .await
        .unwrap();
        db
    }

    /// Writes queued together commit together, each in its own savepoint: the one that fails
    /// and the one that panics leave nothing, and the others of their group are kept.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_that_fails_in_a_group_undoes_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let db = table(&dir).await;
        let (release, holder) = hold_the_writer(&db).await;
        let b = queued(insert(&db, "INSERT INTO t (x) VALUES ('b')", || Ok(()))).await;
        let c = queued(insert(&db, "INSERT INTO t (x) VALUES ('c')", || {
            Err(Error::FailedPrecondition("c is refused".into()))
        }))
        .await;
        let d = queued(insert(&db, "INSERT INTO t (x) VALUES ('d')", || {
            panic!("d")
        }))
        .await;
        let e = queued(insert(&db, "INSERT INTO t (x) VALUES ('e')", || Ok(()))).await;
        release.send(()).unwrap();
        holder.await.unwrap().unwrap();
        b.await.unwrap();
        assert!(matches!(c.await, Err(Error::FailedPrecondition(_))));
        assert!(matches!(d.await, Err(Error::Internal(_))));
        e.await.unwrap();
        assert_eq!(
            count(&db, "SELECT count(*) FROM t WHERE x IN ('b', 'e')").await,
            2
        );
        assert_eq!(
            count(&db, "SELECT count(*) FROM t").await,
            2,
            "c and d left nothing"
        );
    }

    /// A group is one transaction, and no write of it is answered before it commits: when the
    /// commit fails (here on a deferred foreign key that one write broke), every write of the
    /// group gets the error and none of them is kept. The write before, in its own group, is.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_write_is_acknowledged_before_its_group_commits() {
        let dir = tempfile::tempdir().unwrap();
        let db = table(&dir).await;
        let (release, holder) = hold_the_writer(&db).await;
        let b = queued(insert(&db, "INSERT INTO t (x) VALUES ('b')", || Ok(()))).await;
        let c = queued(insert(&db, "INSERT INTO t (x, p) VALUES ('c', 99)", || {
            Ok(())
        }))
        .await;
        release.send(()).unwrap();
        holder.await.unwrap().unwrap();
        assert!(
            b.await.is_err(),
            "b shared c's transaction, which did not commit"
        );
        assert!(c.await.is_err());
        assert_eq!(count(&db, "SELECT count(*) FROM t").await, 0);

        // The writer goes on: the next write commits.
        insert(&db, "INSERT INTO t (x) VALUES ('next')", || Ok(()))
            .await
            .unwrap();
        assert_eq!(count(&db, "SELECT count(*) FROM t").await, 1);
    }

    /// A write whose caller left while it queued (a cancelled call, a deadline) is not done.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_whose_caller_left_before_it_began_is_not_done() {
        let dir = tempfile::tempdir().unwrap();
        let db = table(&dir).await;
        let (release, holder) = hold_the_writer(&db).await;
        let gone = queued(insert(&db, "INSERT INTO t (x) VALUES ('gone')", || Ok(()))).await;
        drop(gone);
        release.send(()).unwrap();
        holder.await.unwrap().unwrap();
        insert(&db, "INSERT INTO t (x) VALUES ('after')", || Ok(()))
            .await
            .unwrap();
        assert_eq!(
            count(&db, "SELECT count(*) FROM t WHERE x = 'gone'").await,
            0
        );
        assert_eq!(count(&db, "SELECT count(*) FROM t").await, 1);
    }
}
