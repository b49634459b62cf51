//! The looked-after children service's records as the domain sees them (validated, typed), the
//! care histories derived from them, and the measures.
//!
//! Records reach this module only through the `api` layer's conversions, which validate each field
//! once; everything here can assume well-formed LA codes, known codes and ordered dates.

pub mod history;
pub mod measures;
pub mod records;

pub use history::{History, PeriodOfCare, Placement, Warning, derive};
pub use measures::{PlacementsData, compute, histories, warnings};
pub use records::*;
