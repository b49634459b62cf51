//! Who may call what: the scopes each method of the suite requires, as the API itself says them.
//!
//! Each method of the `.proto` files names its scopes in the custom option
//! `(csc.common.v1.scopes)`, beside the method, and this module reads them from the descriptor
//! set compiled into the binary. A call is admitted when its token holds every scope of its
//! method. A method naming none is refused (PERMISSION_DENIED) whatever the token holds, and the
//! test below fails when a method is added without its scopes. Which methods are *child-level*
//! (and so audited, and closed to regional callers) is read from the API too: a method whose
//! request or response carries a `child_id` is child-level ([`super::layer`]).

use std::{collections::HashMap, sync::OnceLock};

use prost_reflect::{DescriptorPool, MethodDescriptor, Value};

/// Every scope the suite knows, as `csc token issue --scope` takes them.
pub const ALL: &[&str] = &[
    "frontdoor:read",
    "frontdoor:write",
    "protection:read",
    "protection:write",
    "placements:read",
    "placements:write",
    "finance:read",
    "finance:write",
    "intake:write",
    "measures:read",
    "report:read",
    "report:write",
    "report:publish",
    "admin",
];

/// Methods anyone may call without a token: the health checks that probes and load balancers
/// make.
pub fn is_public(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/")
}

/// The scopes each method requires (all of them), in the API's order. Reflection needs a valid
/// token and no scope: it describes the API, never data.
///
/// - `<service>:read` / `<service>:write`: a domain service's records (get and list / batch
///   upsert, delete, and recording an import).
/// - `measures:read`: any service's `ComputeMeasures` and `GetCoverage`, the aggregate figures of
///   an LA and what they rest on.
/// - `report:read`: kept reports, commentary, population and reference tables.
/// - `report:write`: analysts' commentary.
/// - `report:publish`: generating a report (which the aggregator keeps, and may publish with
///   suppression); with `measures:read`, since the aggregator asks every service for the LA's
///   measures with the caller's own token.
/// - `intake:write`: the DfE CSC API intake (`csc.intake.v1`), which writes to the domain
///   services with its own token.
/// - `admin`: population overrides and the DfE reference tables, which change every LA's report.
pub fn table() -> &'static [(String, Vec<String>)] {
    static TABLE: OnceLock<Vec<(String, Vec<String>)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rows = read_scopes(super::api_descriptors());
        for reflection in REFLECTION {
            rows.push((reflection.to_owned(), Vec::new()));
        }
        rows
    })
}

/// Server reflection, which is not in the suite's `.proto` files.
const REFLECTION: [&str; 2] = [
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// What method `m` declares in the API's method option `name` (`csc.common.v1.scopes`,
/// `csc.common.v1.audited`), or the option's default.
fn declared(m: &MethodDescriptor, name: &str) -> Value {
    let option = m
        .parent_pool()
        .get_extension_by_name(name)
        .unwrap_or_else(|| panic!("common.proto declares the option {name}"));
    m.options().get_extension(&option).into_owned()
}

/// Every method of the pool's services with the scopes its `(csc.common.v1.scopes)` option names.
fn read_scopes(pool: &DescriptorPool) -> Vec<(String, Vec<String>)> {
    let mut rows = Vec::new();
    for s in pool.services() {
        for m in s.methods() {
            let scopes = match declared(&m, "csc.common.v1.scopes") {
                Value::List(l) => l
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            rows.push((format!("/{}/{}", s.full_name(), m.name()), scopes));
        }
    }
    rows
}

/// Whether the API marks method `m` `(csc.common.v1.audited)`: every call audited, as
/// child-level calls and writes are.
pub fn audited(m: &MethodDescriptor) -> bool {
    matches!(declared(m, "csc.common.v1.audited"), Value::Bool(true))
}

/// The scopes `path` requires, or `None` for a method that names none (or that the API does not
/// have).
pub fn required(path: &str) -> Option<&'static [String]> {
    static BY_PATH: OnceLock<HashMap<&'static str, &'static [String]>> = OnceLock::new();
    BY_PATH
        .get_or_init(|| {
            table()
                .iter()
                .filter(|(p, s)| !s.is_empty() || REFLECTION.contains(&p.as_str()))
                .map(|(p, s)| (p.as_str(), s.as_slice()))
                .collect()
        })
        .get(path)
        .copied()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn api_methods() -> BTreeSet<String> {
        super::super::api_descriptors()
            .services()
            .flat_map(|s| {
                s.methods()
                    .map(|m| format!("/{}/{}", s.full_name(), m.name()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The report methods are audited (they hand out an LA's unsuppressed figures), and so are
    /// the aggregator's writes; record reads are audited as child-level, not through this
    /// option.
    #[test]
    fn the_api_marks_the_report_methods_audited() {
        let method = |service: &str, name: &str| {
            super::super::api_descriptors()
                .get_service_by_name(service)
                .and_then(|s| s.methods().find(|m| m.name() == name))
                .unwrap()
        };
        let reporting = "csc.reporting.v1.ReportingService";
        assert!(audited(&method(reporting, "GenerateReport")));
        assert!(audited(&method(reporting, "GetReport")));
        // And the aggregator's own writes: who changed a group, a commentary, a population or a
        // reference table, and when.
        for write in [
            "SetGroup",
            "SetCommentary",
            "SetPopulation",
            "LoadReferenceTable",
        ] {
            assert!(audited(&method(reporting, write)), "{write}");
        }
        assert!(!audited(&method(reporting, "ListReferenceTables")));
        assert!(!audited(&method(
            "csc.frontdoor.v1.FrontDoorService",
            "ComputeMeasures"
        )));
    }

    /// Fails when a method is added to the API without its scopes, or is named twice.
    #[test]
    fn every_method_of_the_api_names_its_scopes_once() {
        let methods = api_methods();
        assert!(methods.len() > 80, "the descriptor set holds the whole API");
        for m in &methods {
            let rows = table().iter().filter(|(p, _)| p == m).count();
            assert_eq!(rows, 1, "{m} is listed once (is {rows} times)");
            assert!(
                required(m).is_some_and(|s| !s.is_empty()),
                "{m} names no scope: give it option (csc.common.v1.scopes) in its .proto"
            );
        }
        for (p, _) in table() {
            assert!(
                methods.contains(p) || p.starts_with("/grpc.reflection."),
                "{p} is listed but not in the API"
            );
        }
    }

    #[test]
    fn every_scope_named_is_known_and_only_reflection_needs_none() {
        for (p, scopes) in table() {
            for s in scopes {
                assert!(ALL.contains(&s.as_str()), "{p}: unknown scope {s}");
            }
            assert_eq!(scopes.is_empty(), p.starts_with("/grpc.reflection."), "{p}");
        }
    }

    #[test]
    fn reads_writes_and_measures_take_their_scopes() {
        let r = |p: &str| required(p).unwrap().to_vec();
        assert!(required("/csc.frontdoor.v1.FrontDoorService/NoSuchMethod").is_none());
        assert_eq!(
            r("/csc.frontdoor.v1.FrontDoorService/ListContacts"),
            ["frontdoor:read"]
        );
        assert_eq!(
            r("/csc.placements.v1.PlacementsService/DeleteChild"),
            ["placements:write"]
        );
        assert_eq!(
            r("/csc.finance.v1.FinanceService/ComputeMeasures"),
            ["measures:read"]
        );
        assert_eq!(
            r("/csc.reporting.v1.ReportingService/GenerateReport"),
            ["report:publish", "measures:read"]
        );
        assert_eq!(
            r("/csc.reporting.v1.ReportingService/LoadReferenceTable"),
            ["admin"]
        );
        assert!(required("/csc.frontdoor.v1.FrontDoorService/NoSuchMethod").is_none());
        assert!(is_public("/grpc.health.v1.Health/Check"));
        assert!(!is_public(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
    }
}
