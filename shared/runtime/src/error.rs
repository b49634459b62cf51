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
}

impl From<Violations> for Error {
    fn from(v: Violations) -> Self {
        Error::Invalid(v)
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        match &e {
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => {
                Error::Unavailable(e.to_string())
            }
            _ => Error::Internal(e.to_string()),
        }
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        match e {
            Error::Invalid(v) => {
                let mut details = ErrorDetails::new();
                for fv in &v.0 {
                    details.add_bad_request_violation(fv.field.clone(), fv.description.clone());
                }
                let message = if v.len() == 1 {
                    format!("invalid request: {v}")
                } else {
                    format!(
                        "invalid request: {} problems, first {}: {}",
                        v.len(),
                        v.0[0].field,
                        v.0[0].description
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
