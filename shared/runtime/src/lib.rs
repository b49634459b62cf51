//! Everything a service of the suite needs around its own logic, written once: configuration,
//! tracing and OpenTelemetry, database connection and migrations, the error → gRPC status mapping,
//! paging tokens, the idempotency log for `request_id`, and the server itself (health, reflection,
//! the auth hook, graceful shutdown).

pub mod admission;
pub mod audit;
pub mod auth;
pub mod client;
pub mod config;
pub mod convert;
pub mod coverage;
pub mod db;
pub mod error;
pub mod idempotency;
pub mod inproc;
pub mod metrics;
pub mod paging;
pub mod pgtxn;
pub mod rpc;
pub mod schema;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod writer;

/// For [`record_rpcs!`]: the generated API its methods name.
pub use csc_proto;
pub use error::{Error, Result};
pub use server::{Shutdown, serve};

/// Largest batch a `BatchUpsert*` call accepts (ARCHITECTURE.md: ≤ 5,000 records, atomic).
pub const MAX_BATCH: usize = 5_000;

/// Largest gRPC message a server decodes. A full batch of the largest front-door record is well
/// under 2 MiB; 16 MiB leaves room without letting one call hold unbounded memory.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Request headers a server admits, counted as HTTP/2 counts them (name + value + 32 bytes each):
/// a bearer token with many LAs fits several times over. Larger headers, up to
/// [`MAX_HEADER_LIST_BYTES`], are refused by the auth layer with RESOURCE_EXHAUSTED for that call
/// alone (docs/security.md).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The HTTP/2 `SETTINGS_MAX_HEADER_LIST_SIZE` every server advertises: headers up to this size are
/// read and reach the auth layer's clean refusal; beyond it the HTTP/2 library answers HTTP 431
/// (which gRPC clients report as UNKNOWN), and far beyond it ends the connection.
pub const MAX_HEADER_LIST_BYTES: u32 = 256 * 1024;
