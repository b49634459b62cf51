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
