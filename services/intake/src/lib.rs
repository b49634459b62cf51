//! The DfE CSC API intake (`csc.intake.v1.IntakeService`): the DfE's daily children's social
//! care payload taken in, checked against the DfE's own schema, merged into what the intake holds
//! for each child, and applied to the domain services as the referrals, assessments, enquiries,
//! plans, episodes and allocations they hold (docs/formats.md maps every field).
//!
//! It owns one table: what it holds for each child (every record received, merged by key), so a
//! partial payload or a purge by id is applied to exactly what it names. The domain services
//! keep the records; the intake writes them with its own token.
//!
//! Rooms: `schema` (the DfE's openapi.json, compiled in), `merge` and `mapping` (pure),
//! `store`, `migration`, `service` (what a call does) and `http` (the DfE's own request).

pub mod http;
pub mod mapping;
pub mod merge;
pub mod migration;
pub mod schema;
pub mod service;
pub mod store;

pub use migration::Migrator;
pub use service::{Intake, Upstreams};

use csc_proto::intake::intake_service_server::IntakeServiceServer;
use sea_orm::DatabaseConnection;

/// The fully qualified gRPC service name, as health checks and reflection report it.
pub const SERVICE_NAME: &str = "csc.intake.v1.IntakeService";

/// The tonic service over a connected database, writing to the domain services at `upstreams`.
pub fn grpc_service(db: DatabaseConnection, upstreams: Upstreams) -> IntakeServiceServer<Intake> {
    IntakeServiceServer::new(Intake::new(db, upstreams))
        .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
}
