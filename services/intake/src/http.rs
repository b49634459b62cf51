//! The DfE's own request, `POST /children_social_care_data/{la_code}/children`, answered as the
//! DfE's receiver answers it (docs/formats.md, "DfE CSC API payload"):
//!
//! - 200 with a JSON array of receipts, one per record in the order sent
//!   (`YYYY-MM-DD_HH:MM:SS.ff_<uuid>.json`);
//! - 400 when any record is invalid (nothing from the request applied), the body naming each
//!   failing record by its index (`[3].child_details.sex: …`) and listing the indices;
//! - 401 without a valid token, 403 without the `intake:write` scope or for another LA's path;
//! - 413 over 100 records (or a body over the message limit), 415 for a body that is not JSON;
//! - 429 when the server sheds load (with `Retry-After`), 503 when a domain service cannot be
//!   reached (nothing the intake holds changed: the same request may be sent again).
//!
//! Each request becomes one `SubmitChildren` call made in this process through the stack the
//! gRPC port serves ([`csc_runtime::inproc`]), so authentication, the scope, the LA check, load
//! shedding and the audit entry are the gRPC method's own.

use std::time::Duration;

use axum::{
    Router,
    extract::{DefaultBodyLimit, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use bytes::Bytes;
use csc_proto::intake as pb;
use csc_runtime::inproc::GrpcStack;
use serde_json::{Value, json};
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The route the DfE publishes (openapi.json `paths`).
pub const ROUTE: &str = "/children_social_care_data/{la_code}/children";

const METHOD: &str = "/csc.intake.v1.IntakeService/SubmitChildren";

#[derive(Clone)]
struct Door {
    grpc: GrpcStack,
    timeout: Duration,
}

/// The DfE route over `grpc` (the intake's guarded gRPC stack), each call bounded by `timeout`.
pub fn router(grpc: GrpcStack, timeout: Duration) -> Router {
    Router::new()
        .route(ROUTE, post(submit))
        .fallback(|uri: axum::http::Uri| async move {
            answer(
                StatusCode::NOT_FOUND,
                json!({"status": 404, "detail": format!(
                    "no route {}; the intake serves POST /children_social_care_data/{{la_code}}/children",
                    csc_core::text::quote(uri.path())
                )}),
            )
        })
        // Over the limit is 413, as too many records is.
        .layer(DefaultBodyLimit::max(csc_runtime::MAX_MESSAGE_BYTES - 1024))
        .with_state(Door { grpc, timeout })
}

fn answer(status: StatusCode, body: Value) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"csc\""),
        );
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    (status, headers, format!("{body:#}\n")).into_response()
}

/// The DfE path's `la_code`: an integer up to 999, the three-digit code.
fn la_of(path: &str) -> Option<String> {
    let n: u16 = path.trim().parse().ok()?;
    (n <= 999).then(|| format!("{n:03}"))
}

async fn submit(
    State(door): State<Door>,
    Path(la): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(la) = la_of(&la) else {
        return answer(
            StatusCode::BAD_REQUEST,
            json!({"status": 400, "detail": format!(
                "la_code {} is not an LA code: the path takes the DfE three-digit code, e.g. 846",
                csc_core::text::quote(&la)
            )}),
        );
    };
    if let Some(ct) = headers.get(header::CONTENT_TYPE)
        && !ct
            .to_str()
            .unwrap_or_default()
            .to_ascii_lowercase()
            .starts_with("application/json")
    {
        return answer(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"status": 415, "detail": "the body must be application/json: a JSON array of child records"}),
        );
    }
    // The children the request carries, for the audit entry; a body that is not an array of
    // records names none, and the intake refuses it for what it is.
    let children = serde_json::from_slice::<Vec<Value>>(&body)
        .map(|records| {
            records
                .iter()
                .map(|r| pb::ChildRef {
                    la_code: la.clone(),
                    child_id: r
                        .get("la_child_id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let msg = pb::SubmitChildrenRequest {
        la_code: la,
        payload: body.to_vec(),
        children,
    };
    match csc_runtime::inproc::call::<_, pb::SubmitChildrenResponse>(
        &door.grpc,
        METHOD,
        &headers,
        msg,
        door.timeout,
    )
    .await
    {
        Ok(r) => answer(
            StatusCode::OK,
            Value::Array(
                r.receipts
                    .into_iter()
                    .map(|x| Value::String(x.receipt))
                    .collect(),
            ),
        ),
        Err(s) => refused(&s),
    }
}

/// A refusal as the DfE's receiver says it: the status, the message, and for an invalid request
/// each failing record's index and field.
pub fn refused(s: &Status) -> Response {
    let status = http_status(s.code());
    let mut body = json!({"status": status.as_u16(), "detail": s.message()});
    if let Some(bad) = s.get_details_bad_request() {
        let errors: Vec<Value> = bad
            .field_violations
            .iter()
            .map(|v| json!({"field": v.field, "message": v.description}))
            .collect();
        let mut indices: Vec<u64> = bad
            .field_violations
            .iter()
            .filter_map(|v| index_of(&v.field))
            .collect();
        indices.sort_unstable();
        indices.dedup();
        body["errors"] = Value::Array(errors);
        body["indices"] = json!(indices);
    }
    answer(status, body)
}

/// The record index a field violation names (`[3].child_details.sex` → 3).
pub fn index_of(field: &str) -> Option<u64> {
    field.strip_prefix('[')?.split(']').next()?.parse().ok()
}

/// The DfE's statuses for the intake's gRPC codes.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::FailedPrecondition => StatusCode::BAD_REQUEST,
        Code::OutOfRange => StatusCode::PAYLOAD_TOO_LARGE,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable | Code::Aborted => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_takes_the_three_digit_code_as_an_integer() {
        assert_eq!(la_of("846").as_deref(), Some("846"));
        assert_eq!(la_of("1000"), None);
        assert_eq!(la_of("88a"), None);
    }

    #[test]
    fn a_violation_names_its_record_index() {
        assert_eq!(index_of("[3].child_details.sex"), Some(3));
        assert_eq!(index_of("[12]"), Some(12));
        assert_eq!(index_of("payload"), None);
    }

    #[test]
    fn codes_map_to_the_dfe_statuses() {
        assert_eq!(http_status(Code::OutOfRange), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            http_status(Code::ResourceExhausted),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(http_status(Code::PermissionDenied), StatusCode::FORBIDDEN);
        assert_eq!(http_status(Code::InvalidArgument), StatusCode::BAD_REQUEST);
    }
}
