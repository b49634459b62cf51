//! Logs and traces. Logs go to stderr, as JSON when stderr is not a terminal (what log collectors
//! want) and as text on a terminal; `CSC_LOG_FORMAT=json|text` overrides. The level comes from
//! `RUST_LOG` (default `info`). When `OTEL_EXPORTER_OTLP_ENDPOINT` is set, spans are also exported
//! over OTLP/gRPC, with the standard `OTEL_*` variables honoured by the exporter.
//!
//! Trace context crosses the services as W3C `traceparent`/`tracestate` metadata: every server
//! joins its call's span to the caller's trace ([`server_span`]), and a client call made inside a
//! span carries it ([`inject`]), so one report is one trace from the aggregator into every domain
//! service.

use std::io::IsTerminal;

use opentelemetry::{
    propagation::{Extractor, Injector},
    trace::TracerProvider as _,
};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tonic::codegen::http;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

/// Flushes exported spans when dropped; keep it alive for the life of the process.
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
    }
}

fn json_logs() -> bool {
    match std::env::var("CSC_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => !std::io::stderr().is_terminal(),
    }
}

/// Installs the global subscriber. Safe to call more than once (later calls do nothing), so tests
/// and `csc serve all` can share it.
pub fn init(service_name: &'static str) -> TelemetryGuard {
    init_with_level(service_name, "info")
}

/// As [`init`], with `default_level` where `RUST_LOG` is not set.
pub fn init_with_level(service_name: &'static str, default_level: &str) -> TelemetryGuard {
    let filter =
        || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let fmt_layer = if json_logs() {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .boxed()
    };

    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let mut provider = None;
    let otel_layer = if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
        match opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
        {
            Ok(exporter) => {
                let p = SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .with_resource(Resource::builder().with_service_name(service_name).build())
                    .build();
                let tracer = p.tracer(service_name);
                opentelemetry::global::set_tracer_provider(p.clone());
                provider = Some(p);
                Some(tracing_opentelemetry::layer().with_tracer(tracer))
            }
            Err(e) => {
                eprintln!("OTLP trace export disabled: {e}");
                None
            }
        }
    } else {
        None
    };

    let _ = tracing_subscriber::registry()
        .with(filter())
        .with(fmt_layer)
        .with(otel_layer)
        .try_init();
    TelemetryGuard { provider }
}

/// The span of one incoming call: named by its method (`otel.name`), a server span, and the child
/// of the caller's span when the request carries W3C trace context.
pub fn server_span(req: &http::Request<()>) -> tracing::Span {
    let path = req.uri().path();
    let (service, method) = crate::metrics::split_path(path);
    let span = tracing::info_span!(
        "grpc",
        otel.name = %path.trim_start_matches('/'),
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = %service,
        rpc.method = %method,
    );
    let parent = opentelemetry::global::get_text_map_propagator(|p| {
        p.extract(&HeaderExtractor(req.headers()))
    });
    let _ = span.set_parent(parent);
    span
}

/// Adds the current span's W3C trace context to an outgoing call's metadata.
pub fn inject(metadata: &mut tonic::metadata::MetadataMap) {
    let cx = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut MetadataInjector(metadata))
    });
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(k, v);
        }
    }
}
