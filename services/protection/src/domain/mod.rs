//! The protection service's records as the domain sees them (validated, typed), and its measures.
//!
//! Records reach this module only through the `api` layer's conversions, which validate each field
//! once; everything here can assume well-formed LA codes, known codes and ordered dates.

pub mod measures;
pub mod records;

pub use measures::{ProtectionData, compute};
pub use records::*;
