//! The front door service (`csc.frontdoor.v1.FrontDoorService`): contacts, referrals, assessments,
//! section 47 enquiries, strategy discussions and ICPCs, and the `frontdoor.*` measures.
//!
//! Four rooms, as in every service: `api` (tonic, proto ↔ domain), `domain` (records and measures,
//! pure), `store` (sea-orm), `migration` (sea-orm-migration).

pub mod api;
pub mod domain;
pub mod migration;
pub mod store;

pub use api::FrontDoor;
pub use migration::Migrator;

use csc_proto::frontdoor::front_door_service_server::FrontDoorServiceServer;
use sea_orm::DatabaseConnection;

/// The fully qualified gRPC service name, as health checks and reflection report it.
pub const SERVICE_NAME: &str = "csc.frontdoor.v1.FrontDoorService";

/// The tonic service over a connected, migrated database, with the suite's message limits.
pub fn grpc_service(db: DatabaseConnection) -> FrontDoorServiceServer<FrontDoor> {
    FrontDoorServiceServer::new(FrontDoor::new(db))
        .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
}
