//! The suite's small set of error kinds, mapped to gRPC status codes in this one place.

use csc_core::Violations;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed: one field violation per problem (→ INVALID_ARGUMENT).
    #[error("invalid request: {0}")]
    Invalid(Violations),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    FailedPrecondition(String),
    /// A dependency (the database) is not reachable right now; callers may retry.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The database is busy with other writes (SQLite's lock held past the busy timeout): the
    /// call changed nothing and may be retried at once (→ UNAVAILABLE with RetryInfo).
    #[error("busy: {0}")]
    Busy(String),
    /// PostgreSQL aborted the transaction for a conflicting one (serialization failure,
    /// deadlock, lock timeout): it changed nothing and may be retried (→ ABORTED with RetryInfo).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The service is up but not ready to answer this yet (e.g. its reference tables are still
    /// loading): the message is for the caller (→ UNAVAILABLE with RetryInfo).
    #[error("not ready: {0}")]
    NotReady(String),
    /// A fault of ours: logged in full, reported to the caller without internals.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An invalid-argument error with a single field violation.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        let mut v = Violations::new();
        v.add(field, description);
        Error::Invalid(v)
    }

    /// The error a database failure is to its caller; one failure can be several callers' (a
    /// group commit's).
    pub fn from_db(e: &sea_orm::DbErr) -> Self {
        match e {
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => {
                Error::Unavailable(e.to_string())
            }
            _ => match contention(e) {
                Some(Contention::Busy) => Error::Busy(e.to_string()),
                Some(Contention::Conflict) => Error::Conflict(e.to_string()),
                None => Error::Internal(e.to_string()),
            },
        }
    }
}

impl From<Violations> for Error {
    fn from(v: Violations) -> Self {
        Error::Invalid(v)
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        Error::from_db(&e)
    }
}

/// A database error that another writer caused, and that a retry can get past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contention {
    /// SQLite: SQLITE_BUSY (5) or SQLITE_LOCKED (6), with any extended code.
    Busy,
    /// PostgreSQL: serialization_failure (40001), deadlock_detected (40P01),
    /// lock_not_available (55P03).
    Conflict,
}

/// Whether `e` is contention rather than a fault, from the database's own error code.
pub fn contention(e: &sea_orm::DbErr) -> Option<Contention> {
    use sea_orm::{DbErr, RuntimeErr};
    let (DbErr::Exec(RuntimeErr::SqlxError(x)) | DbErr::Query(RuntimeErr::SqlxError(x))) = e else {
        return None;
    };
    let db = x.as_database_error()?;
    let code = db.code()?;
    match code.as_ref() {
        "40001" | "40P01" | "55P03" => Some(Contention::Conflict),
        // SQLite's primary result code is the low byte of the extended one.
        c => match c.parse::<i32>() {
            Ok(n) if matches!(n & 0xff, 5 | 6) => Some(Contention::Busy),
            _ => None,
        },
    }
}

/// How long a caller is asked to wait before retrying contention.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(200);

/// A status with a `RetryInfo` asking the caller to wait `after` before retrying.
pub(crate) fn retry_status(code: Code, message: &str, after: std::time::Duration) -> Status {
    let mut details = ErrorDetails::new();
    details.set_retry_info(Some(after));
    Status::with_error_details(code, message, details)
}

/// Field violations sent in one error, and the length of each description.
pub const MAX_VIOLATIONS: usize = 25;
const MAX_DESCRIPTION: usize = 200;

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        match e {
            Error::Invalid(v) => {
                // The details travel in the trailers, which HTTP/2 peers cap (16 KiB by default):
                // a batch with thousands of bad records names the first ones, and the caller,
                // having left those out, learns of the next ones on its next attempt.
                let mut details = ErrorDetails::new();
                for fv in v.0.iter().take(MAX_VIOLATIONS) {
                    details.add_bad_request_violation(
                        fv.field.clone(),
                        truncate(&fv.description, MAX_DESCRIPTION),
                    );
                }
                let message = if v.len() == 1 {
                    truncate(&format!("invalid request: {v}"), MAX_DESCRIPTION)
                } else {
                    format!(
                        "invalid request: {} problems{}, first {}: {}",
                        v.len(),
                        if v.len() > MAX_VIOLATIONS {
                            format!(" ({MAX_VIOLATIONS} listed)")
                        } else {
                            String::new()
                        },
                        v.0[0].field,
                        truncate(&v.0[0].description, MAX_DESCRIPTION)
                    )
                };
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            Error::NotFound(m) => Status::not_found(m),
            Error::AlreadyExists(m) => Status::already_exists(m),
            Error::FailedPrecondition(m) => Status::failed_precondition(m),
            Error::Unavailable(m) => {
                tracing::warn!(error = %m, "dependency unavailable");
                Status::unavailable("the service's database is not reachable; retry later")
            }
            Error::Busy(m) => {
                tracing::warn!(error = %m, "database busy");
                retry_status(
                    Code::Unavailable,
                    "the service's database is busy with other writes; nothing was changed, retry",
                    RETRY_AFTER,
                )
            }
            Error::Conflict(m) => {
                tracing::warn!(error = %m, "transaction conflict");
                retry_status(
                    Code::Aborted,
                    "the write conflicted with another and was rolled back; nothing was changed, retry",
                    RETRY_AFTER,
                )
            }
            Error::NotReady(m) => retry_status(
                Code::Unavailable,
                &truncate(&m, MAX_DESCRIPTION),
                std::time::Duration::from_secs(1),
            ),
            Error::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                Status::internal("internal error (logged on the server)")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second writer on a SQLite file whose lock another transaction holds: BUSY, retryable,
    /// never INTERNAL.
    #[tokio::test]
    async fn a_locked_sqlite_database_is_unavailable_with_retry_advice() {
        use sea_orm::{
            ConnectionTrait, SqlxSqliteConnector, TransactionTrait,
            sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions},
        };
        let dir = tempfile::tempdir().unwrap();
        let opts = SqliteConnectOptions::new()
            .filename(dir.path().join("t.db"))
            .create_if_missing(true)
            .busy_timeout(std::time::Duration::ZERO);
        let pool = |o: SqliteConnectOptions| async move {
            SqlxSqliteConnector::from_sqlx_sqlite_pool(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(o)
                    .await
                    .unwrap(),
            )
        };
        let (a, b) = (pool(opts.clone()).await, pool(opts).await);
        a.execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        let holding = a
            .begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
            .unwrap();
        holding
            .execute_unprepared("INSERT INTO t VALUES (1)")
            .await
            .unwrap();
        let e = b
            .execute_unprepared("INSERT INTO t VALUES (2)")
            .await
            .unwrap_err();
        assert_eq!(contention(&e), Some(Contention::Busy), "{e}");
        let status = Status::from(Error::from(e));
        assert_eq!(status.code(), Code::Unavailable);
        let retry = status.get_details_retry_info().expect("RetryInfo");
        assert_eq!(retry.retry_delay, Some(RETRY_AFTER));
        holding.rollback().await.unwrap();
        // Any other database error stays INTERNAL.
        let e = b
            .execute_unprepared("INSERT INTO nowhere VALUES (1)")
            .await
            .unwrap_err();
        assert_eq!(contention(&e), None);
        assert_eq!(Status::from(Error::from(e)).code(), Code::Internal);
    }

    /// PostgreSQL's lock timeout (55P03), as a second writer meets a row another holds: ABORTED,
    /// retryable. (CI sets CSC_TEST_POSTGRES_URL; on a machine without it, SQLite's case stands.)
    #[tokio::test]
    async fn a_postgres_lock_conflict_is_aborted_with_retry_advice() {
        use sea_orm::{ConnectionTrait, TransactionTrait};
        let Ok(url) = std::env::var("CSC_TEST_POSTGRES_URL") else {
            assert!(std::env::var_os("CI").is_none(), "CI must test PostgreSQL");
            return;
        };
        let a = crate::db::connect(&url).await.unwrap();
        let b = crate::db::connect(&url).await.unwrap();
        let table = format!("contention_{}", std::process::id());
        a.execute_unprepared(&format!("CREATE TABLE {table} (x INTEGER PRIMARY KEY)"))
            .await
            .unwrap();
        a.execute_unprepared(&format!("INSERT INTO {table} VALUES (1)"))
            .await
            .unwrap();
        let holding = a.begin().await.unwrap();
        holding
            .execute_unprepared(&format!("UPDATE {table} SET x = 1 WHERE x = 1"))
            .await
            .unwrap();
        let other = b.begin().await.unwrap();
        other
            .execute_unprepared("SET LOCAL lock_timeout = '50ms'")
            .await
            .unwrap();
        let e = other
            .execute_unprepared(&format!("UPDATE {table} SET x = 1 WHERE x = 1"))
            .await
            .unwrap_err();
        assert_eq!(contention(&e), Some(Contention::Conflict), "{e}");
        let status = Status::from(Error::from(e));
        assert_eq!(status.code(), Code::Aborted);
        assert!(status.get_details_retry_info().is_some());
        other.rollback().await.unwrap();
        holding.rollback().await.unwrap();
        a.execute_unprepared(&format!("DROP TABLE {table}"))
            .await
            .unwrap();
    }

    #[test]
    fn a_thousand_violations_fit_in_the_trailers() {
        let mut v = Violations::new();
        for i in 0..1000 {
            v.add(format!("records[{i}].end_time"), "x".repeat(1000));
        }
        let s = Status::from(Error::Invalid(v));
        let br = s.get_details_bad_request().expect("details");
        assert_eq!(br.field_violations.len(), MAX_VIOLATIONS);
        assert!(
            s.message()
                .starts_with("invalid request: 1000 problems (25 listed)")
        );
        // Base64 in the grpc-status-details-bin trailer: well under 16 KiB.
        assert!(
            s.details().len() * 4 / 3 < 10 * 1024,
            "{} bytes",
            s.details().len()
        );
    }

    #[test]
    fn invalid_carries_bad_request_field_violations() {
        let mut v = Violations::new();
        v.add("records[17].source", "unknown referral source \"3Z\"");
        v.add("records[18].child_id", "required");
        let status: Status = Error::Invalid(v).into();
        assert_eq!(status.code(), Code::InvalidArgument);
        let br = status
            .get_details_bad_request()
            .expect("BadRequest details");
        assert_eq!(br.field_violations.len(), 2);
        assert_eq!(br.field_violations[0].field, "records[17].source");
    }

    #[test]
    fn internal_errors_do_not_leak_details() {
        let status: Status = Error::Internal("constraint xyz on table referral".into()).into();
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("referral"));
    }
}
