//! The child protection service (`csc.protection.v1.ProtectionService`): children in need plans,
//! child protection plans and their reviews, missing and away episodes with return interviews,
//! service-user feedback, and the `protection.*` measures.
//!
//! Four rooms, as in every service: `api` (tonic, proto ↔ domain), `domain` (records and measures,
//! pure), `store` (sea-orm), `migration` (sea-orm-migration).

pub mod api;
pub mod domain;
pub mod migration;
pub mod store;

pub use api::Protection;
pub use migration::Migrator;

use csc_proto::protection::protection_service_server::ProtectionServiceServer;
use sea_orm::DatabaseConnection;

/// The fully qualified gRPC service name, as health checks and reflection report it.
pub const SERVICE_NAME: &str = "csc.protection.v1.ProtectionService";

/// The tonic service over a connected, migrated database, with the suite's message limits.
pub fn grpc_service(db: DatabaseConnection) -> ProtectionServiceServer<Protection> {
    ProtectionServiceServer::new(Protection::new(db))
        .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
}
