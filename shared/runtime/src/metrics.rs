//! Prometheus metrics, served on their own port (`--metrics-listen`, `CSC_METRICS_LISTEN`) so
//! that scraping never competes with gRPC and a NetworkPolicy can open it to the scraper alone.
//!
//! Every server records, per gRPC method (the names go-grpc-prometheus uses, which existing
//! dashboards read):
//! - `grpc_server_started_total{grpc_service, grpc_method}`
//! - `grpc_server_handled_total{grpc_service, grpc_method, grpc_code}`
//! - `grpc_server_handling_seconds{grpc_service, grpc_method}`: a histogram, until the response
//!   headers (for unary calls, the whole call)
//!
//! and the batch writes behind every import:
//! - `csc_rows_received_total{method}`, `csc_rows_written_total{method}`,
//!   `csc_rows_unchanged_total{method}`, `csc_batches_refused_total{method}`;
//! - `csc_write_group_size`: the writes each transaction of a database's writer committed
//!   (SQLite's group commit, `crate::writer`; always 1 on PostgreSQL).

use std::{
    future::Future,
    net::SocketAddr,
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};

use metrics_exporter_prometheus::PrometheusBuilder;
use tonic::codegen::http;

/// Latency buckets, in seconds: from a cached lookup to a report's slowest measure.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Installs the global recorder and serves `/metrics` on `addr`. Call once per process, inside
/// the runtime; without it the counters cost next to nothing and go nowhere.
pub fn install(addr: SocketAddr) -> anyhow::Result<()> {
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full("grpc_server_handling_seconds".into()),
            BUCKETS,
        )?
        .install()
        .map_err(|e| anyhow::anyhow!("serving metrics on {addr}: {e}"))?;
    tracing::info!(%addr, "serving Prometheus metrics at /metrics");
    Ok(())
}

/// Records rows of one batch write.
pub fn rows_written(method: &str, received: u64, written: u64, unchanged: u64) {
    let method = method.to_owned();
    metrics::counter!("csc_rows_received_total", "method" => method.clone()).increment(received);
    metrics::counter!("csc_rows_written_total", "method" => method.clone()).increment(written);
    metrics::counter!("csc_rows_unchanged_total", "method" => method).increment(unchanged);
}

/// Records a batch refused as a whole (invalid records, or a rule against stored data).
/// A call shed for load (RESOURCE_EXHAUSTED with RetryInfo, `crate::admission`).
pub fn shed() {
    metrics::counter!("csc_calls_shed_total").increment(1);
}

pub fn batch_refused(method: &str) {
    metrics::counter!("csc_batches_refused_total", "method" => method.to_owned()).increment(1);
}

/// A gRPC request path `/pkg.Service/Method` → (`pkg.Service`, `Method`): the metrics' labels
/// and the call span's attributes.
pub(crate) fn split_path(path: &str) -> (&str, &str) {
    let path = path.trim_start_matches('/');
    path.split_once('/').unwrap_or(("", path))
}

/// The `grpc-status` a header map (response headers, or trailers) carries, if any.
pub(crate) fn grpc_status(headers: &http::HeaderMap) -> Option<i32> {
    headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
}

/// The gRPC code of a response whose status came in its headers (an error, trailers-only); a
/// response without one carries its status in the trailers, after a body: `OK` for unary calls.
fn code_name(headers: &http::HeaderMap) -> &'static str {
    status_name(grpc_status(headers).unwrap_or(0))
}

/// A gRPC status code as go-grpc-prometheus spells it (`OK`, `PermissionDenied`, ...): the
/// metrics' `grpc_code` label and the audit log's outcome.
pub(crate) fn status_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "Canceled",
        2 => "Unknown",
        3 => "InvalidArgument",
        4 => "DeadlineExceeded",
        5 => "NotFound",
        6 => "AlreadyExists",
        7 => "PermissionDenied",
        8 => "ResourceExhausted",
        9 => "FailedPrecondition",
        10 => "Aborted",
        11 => "OutOfRange",
        12 => "Unimplemented",
        13 => "Internal",
        14 => "Unavailable",
        15 => "DataLoss",
        16 => "Unauthenticated",
        _ => "Unknown",
    }
}

/// The tower layer in front of every server's routes that records the `grpc_server_*` metrics.
#[derive(Debug, Clone, Copy)]
pub struct MetricsLayer;

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Metrics<S> {
        Metrics { inner }
    }
}

#[derive(Debug, Clone)]
pub struct Metrics<S> {
    inner: S,
}

impl<S, B, R> tower::Service<http::Request<B>> for Metrics<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let (service, method) = split_path(req.uri().path());
        let (service, method) = (service.to_owned(), method.to_owned());
        metrics::counter!("grpc_server_started_total",
            "grpc_service" => service.clone(), "grpc_method" => method.clone())
        .increment(1);
        let start = Instant::now();
        let call = self.inner.call(req);
        Box::pin(async move {
            let result = call.await;
            let code = match &result {
                Ok(response) => code_name(response.headers()),
                Err(_) => "Unavailable",
            };
            metrics::histogram!("grpc_server_handling_seconds",
                "grpc_service" => service.clone(), "grpc_method" => method.clone())
            .record(start.elapsed().as_secs_f64());
            metrics::counter!("grpc_server_handled_total",
                "grpc_service" => service, "grpc_method" => method, "grpc_code" => code)
            .increment(1);
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_service_and_method() {
        assert_eq!(
            split_path("/csc.frontdoor.v1.FrontDoorService/ListReferrals"),
            ("csc.frontdoor.v1.FrontDoorService", "ListReferrals")
        );
    }

    #[test]
    fn codes_come_from_trailers_only_responses() {
        let mut h = http::HeaderMap::new();
        assert_eq!(code_name(&h), "OK");
        h.insert("grpc-status", "3".parse().unwrap());
        assert_eq!(code_name(&h), "InvalidArgument");
        h.insert("grpc-status", "16".parse().unwrap());
        assert_eq!(code_name(&h), "Unauthenticated");
    }
}
