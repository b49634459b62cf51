//! The front door service (`csc.frontdoor.v1.FrontDoorService`): contacts, referrals, assessments,
//! section 47 enquiries, strategy discussions and ICPCs, and the `frontdoor.*` measures.
//!
//! Four rooms, as in every service: `api` (tonic, proto ↔ domain), `domain` (records and measures,
//! pure), `store` (sea-orm), `migration` (sea-orm-migration).

pub mod domain;
