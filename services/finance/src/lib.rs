//! The placement costs service (`csc.finance.v1.FinanceService`): the LA's catalogue of cost
//! categories with its 903 mapping, the weekly cost of each placement, and the `finance.*`
//! measures.
//!
//! Four rooms, as in every service: `api` (tonic, proto ↔ domain), `domain` (records, catalogue,
//! measures; pure), `store` (sea-orm), `migration` (sea-orm-migration).

pub mod api;
pub mod domain;
pub mod migration;
pub mod store;

pub use api::Finance;
pub use migration::Migrator;

use csc_proto::finance::finance_service_server::FinanceServiceServer;
use sea_orm::DatabaseConnection;

/// The fully qualified gRPC service name, as health checks and reflection report it.
pub const SERVICE_NAME: &str = "csc.finance.v1.FinanceService";

/// The tonic service over a connected, migrated database, with the suite's message limits.
pub fn grpc_service(db: DatabaseConnection) -> FinanceServiceServer<Finance> {
    FinanceServiceServer::new(Finance::new(db))
        .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
}
