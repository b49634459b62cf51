//! The looked-after children service (`csc.placements.v1.PlacementsService`): children, episodes
//! of care, social worker allocations and CLA reviews, the periods of care and placements derived
//! from them, and the `placements.*` measures.
//!
//! Four rooms, as in every service: `api` (tonic, proto ↔ domain), `domain` (records, histories,
//! measures; pure), `store` (sea-orm), `migration` (sea-orm-migration).

pub mod domain;
