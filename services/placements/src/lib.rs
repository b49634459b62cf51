//! The looked-after children service (`csc.placements.v1.PlacementsService`): children, episodes
//! of care, social worker allocations and CLA reviews, the periods of care and placements derived
//! from them, and the `placements.*` measures.
//!
//! Four rooms, as in every service: `api` (tonic, proto ↔ domain), `domain` (records, histories,
//! measures; pure), `store` (sea-orm), `migration` (sea-orm-migration).

pub mod api;
pub mod domain;
pub mod migration;
pub mod store;

pub use api::Placements;
pub use migration::Migrator;

use csc_proto::placements::placements_service_server::PlacementsServiceServer;
use sea_orm::DatabaseConnection;

/// The fully qualified gRPC service name, as health checks and reflection report it.
pub const SERVICE_NAME: &str = "csc.placements.v1.PlacementsService";

/// The tonic service over a connected, migrated database, with the suite's message limits.
pub fn grpc_service(db: DatabaseConnection) -> PlacementsServiceServer<Placements> {
    PlacementsServiceServer::new(Placements::new(db))
        .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
}
