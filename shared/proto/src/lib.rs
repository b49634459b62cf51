//! The suite's public gRPC API, generated from `proto/` at build time.

#![allow(clippy::all, missing_docs)]

pub mod csc {
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("csc.common.v1");
        }
    }
    pub mod finance {
        pub mod v1 {
            tonic::include_proto!("csc.finance.v1");
        }
    }
    pub mod frontdoor {
        pub mod v1 {
            tonic::include_proto!("csc.frontdoor.v1");
        }
    }
    pub mod placements {
        pub mod v1 {
            tonic::include_proto!("csc.placements.v1");
        }
    }
    pub mod protection {
        pub mod v1 {
            tonic::include_proto!("csc.protection.v1");
        }
    }
    pub mod intake {
        pub mod v1 {
            tonic::include_proto!("csc.intake.v1");
        }
    }
    pub mod reporting {
        pub mod v1 {
            tonic::include_proto!("csc.reporting.v1");
        }
    }
}

pub use csc::common::v1 as common;
pub use csc::finance::v1 as finance;
pub use csc::frontdoor::v1 as frontdoor;
pub use csc::intake::v1 as intake;
pub use csc::placements::v1 as placements;
pub use csc::protection::v1 as protection;
pub use csc::reporting::v1 as reporting;

/// The encoded `FileDescriptorSet` of every package, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/csc_descriptor.bin"));
