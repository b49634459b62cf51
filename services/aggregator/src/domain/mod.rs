//! The aggregator's domain, with no I/O: reference data and benchmarks, and the report's
//! composition and suppression.

pub mod coverage;
pub mod reference;
pub mod report;
