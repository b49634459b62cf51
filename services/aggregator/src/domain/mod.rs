//! The aggregator's domain, with no I/O: the report's sections, cells and suppression, its
//! composition from the services' measures, the coverage of the data held, and reference data
//! and benchmarks.

pub mod cells;
pub mod compose;
pub mod coverage;
pub mod direction;
pub mod group;
pub mod headline;
pub mod reference;
pub mod report;
pub mod sections;
