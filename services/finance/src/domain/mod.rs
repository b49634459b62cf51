//! Placement costs as the domain sees them: categories, the 903 → category mapping, commitments
//! (the weekly cost of a placement over a span of dates), and the `finance.*` measures.

pub mod catalogue;
pub mod measures;
pub mod records;

pub use catalogue::{effective_categories, effective_mappings, resolve_category};
pub use measures::{FinanceData, compute, compute_for};
pub use records::*;
