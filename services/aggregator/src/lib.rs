//! The reporting service (`csc.reporting.v1.ReportingService`): composes the quarterly
//! performance analysis from the four domain services' measures, with the aggregator's own
//! reference data (ONS populations, DfE published tables, statistical neighbours) and analysts'
//! commentary, keeps every report it generates, and renders it as HTML, Markdown, JSON, XLSX or
//! CSV. It holds no child-level records.
//!
//! Rooms as in every service: `api` (proto ↔ domain), `service` (what each call does), `domain`
//! (pure: sections, cells and suppression, composition, coverage, reference data), `store`,
//! `migration`; plus `upstream` (calling the domain services) and `render`.

pub mod api;
pub mod domain;
pub mod http;
pub mod migration;
pub mod render;
pub mod service;
pub mod store;
pub mod upstream;

pub use domain::{report::Report, sections::Upstream};
pub use migration::Migrator;
pub use service::Reporting;
pub use upstream::{UpstreamConfig, Upstreams};

use csc_proto::reporting::reporting_service_server::ReportingServiceServer;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

/// The fully qualified gRPC service name, as health checks and reflection report it.
pub const SERVICE_NAME: &str = "csc.reporting.v1.ReportingService";

/// The tonic service, and the shared state whose [`Reporting::load_reference`] belongs in the
/// server's readiness check, with the suite's message limits.
pub fn grpc_service(
    db: DatabaseConnection,
    upstreams: UpstreamConfig,
) -> anyhow::Result<(ReportingServiceServer<Reporting>, Arc<Reporting>)> {
    let reporting = Arc::new(Reporting::new(db, Upstreams::new(upstreams)?));
    let server = ReportingServiceServer::from_arc(reporting.clone())
        .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES);
    Ok((server, reporting))
}
