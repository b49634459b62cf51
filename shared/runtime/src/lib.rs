//! Everything a service of the suite needs around its own logic, written once: configuration,
//! tracing and OpenTelemetry, database connection and migrations, the error → gRPC status mapping,
//! paging tokens, the idempotency log for `request_id`, and the server itself (health, reflection,
//! the auth hook, graceful shutdown).

pub mod audit;
pub mod auth;
pub mod client;
pub mod config;
pub mod convert;
pub mod coverage;
pub mod db;
pub mod error;
pub mod idempotency;
pub mod metrics;
pub mod paging;
pub mod rpc;
pub mod schema;
pub mod server;
pub mod store;
pub mod telemetry;

/// For [`record_rpcs!`]: the generated API its methods name.
pub use csc_proto;
pub use error::{Error, Result};
pub use server::{Shutdown, serve};

/// Largest batch a `BatchUpsert*` call accepts (ARCHITECTURE.md: ≤ 5,000 records, atomic).
pub const MAX_BATCH: usize = 5_000;

/// Largest gRPC message a server decodes. A full batch of the largest front-door record is well
/// under 2 MiB; 16 MiB leaves room without letting one call hold unbounded memory.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
