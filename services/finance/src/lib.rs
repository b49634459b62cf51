//! The placement costs service (`csc.finance.v1.FinanceService`): the LA's catalogue of cost
//! categories with its 903 mapping, the weekly cost of each placement, and the `finance.*`
//! measures.
//!
//! Four rooms, as in every service: `api` (tonic, proto ↔ domain), `domain` (records, catalogue,
//! measures; pure), `store` (sea-orm), `migration` (sea-orm-migration).

pub mod domain;
