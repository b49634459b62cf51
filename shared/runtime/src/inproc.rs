//! A unary gRPC call made in this process through a server's own guarded stack (metrics, then
//! [`crate::auth::AuthLayer`], then the service): how an HTTP door (the aggregator's read API,
//! the intake's DfE endpoint) serves a request without a second implementation of
//! authentication, scopes, the LA check, load shedding or the audit log.

use std::{convert::Infallible, time::Duration};

use bytes::Bytes;
use http::{HeaderMap, header};
use http_body_util::{BodyExt, Full};
use prost::Message;
use tonic::{Code, Status, body::Body, codegen::http};
use tower::{ServiceExt, util::BoxCloneSyncService};

/// The guarded gRPC stack a gRPC port serves, called in process.
pub type GrpcStack = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, Infallible>;

/// The unary call `path` (`/csc.reporting.v1.ReportingService/GetReport`) with `msg`, as the
/// gRPC port would take it from the caller whose `headers` these are (their authorization and
/// trace headers cross; nothing else does), bounded by `timeout`.
pub async fn call<Req: Message, Resp: Message + Default>(
    grpc: &GrpcStack,
    path: &str,
    headers: &HeaderMap,
    msg: Req,
    timeout: Duration,
) -> Result<Resp, Status> {
    let len = msg.encoded_len();
    let mut body = Vec::with_capacity(5 + len);
    body.push(0);
    body.extend_from_slice(&(len as u32).to_be_bytes());
    msg.encode(&mut body)
        .map_err(|e| Status::internal(format!("encoding the request: {e}")))?;
    let mut req = http::Request::builder()
        .method(http::Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/grpc")
        .header(header::TE, "trailers");
    // Who is asking, and the trace and request they belong to; nothing else crosses.
    for name in [
        header::AUTHORIZATION.as_str(),
        "traceparent",
        "tracestate",
        "x-request-id",
    ] {
        if let Some(v) = headers.get(name) {
            req = req.header(name, v);
        }
    }
    let req = req
        .body(Body::new(Full::new(Bytes::from(body))))
        .map_err(|e| Status::internal(format!("building the request: {e}")))?;
    let call = grpc.clone().oneshot(req);
    let resp = match tokio::time::timeout(timeout, call).await {
        Ok(Ok(r)) => r,
        Ok(Err(never)) => match never {},
        Err(_) => {
            return Err(Status::deadline_exceeded(format!(
                "no answer within {} s",
                timeout.as_secs()
            )));
        }
    };
    let (parts, body) = resp.into_parts();
    if let Some(s) = Status::from_header_map(&parts.headers)
        && s.code() != Code::Ok
    {
        return Err(s);
    }
    let collected = body
        .collect()
        .await
        .map_err(|e| Status::internal(format!("reading the answer: {e}")))?;
    if let Some(s) = collected.trailers().and_then(Status::from_header_map)
        && s.code() != Code::Ok
    {
        return Err(s);
    }
    let data = collected.to_bytes();
    if data.len() < 5 {
        return Err(Status::internal("the answer holds no message"));
    }
    Resp::decode(&data[5..]).map_err(|e| Status::internal(format!("decoding the answer: {e}")))
}
