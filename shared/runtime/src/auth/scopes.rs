//! Who may call what: one table, the scopes each method of the suite requires.
//!
//! A call is admitted when its token holds every scope of its method's row. A method missing from
//! the table is refused (PERMISSION_DENIED), whatever the token holds, and the test below fails
//! when a method is added to a `.proto` without a row here. Which methods are *child-level* (and
//! so audited, and closed to regional callers) is not written here but read from the API itself:
//! a method whose request or response carries a `child_id` is child-level ([`super::layer`]).

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

/// The scopes each method requires (all of them). Reflection needs a valid token and no scope:
/// it describes the API, never data.
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
/// - `admin`: population overrides and the DfE reference tables, which change every LA's report.
pub const TABLE: &[(&str, &[&str])] = &[
    (
        "/csc.frontdoor.v1.FrontDoorService/BatchUpsertContacts",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/GetContact",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/ListContacts",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/DeleteContact",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/BatchUpsertReferrals",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/GetReferral",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/ListReferrals",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/DeleteReferral",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/BatchUpsertAssessments",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/GetAssessment",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/ListAssessments",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/DeleteAssessment",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/BatchUpsertSection47Enquiries",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/GetSection47Enquiry",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/ListSection47Enquiries",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/DeleteSection47Enquiry",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/BatchUpsertStrategyDiscussions",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/GetStrategyDiscussion",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/ListStrategyDiscussions",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/DeleteStrategyDiscussion",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/BatchUpsertIcpcs",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/GetIcpc",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/ListIcpcs",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/DeleteIcpc",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/BatchUpsertEarlyHelpAssessments",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/GetEarlyHelpAssessment",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/ListEarlyHelpAssessments",
        &["frontdoor:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/DeleteEarlyHelpAssessment",
        &["frontdoor:write"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/ComputeMeasures",
        &["measures:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/GetCoverage",
        &["measures:read"],
    ),
    (
        "/csc.frontdoor.v1.FrontDoorService/RecordImport",
        &["frontdoor:write"],
    ),
    (
        "/csc.protection.v1.ProtectionService/BatchUpsertCinPlans",
        &["protection:write"],
    ),
    (
        "/csc.protection.v1.ProtectionService/GetCinPlan",
        &["protection:read"],
    ),
    (
        "/csc.protection.v1.ProtectionService/ListCinPlans",
        &["protection:read"],
    ),
    (
        "/csc.protection.v1.ProtectionService/DeleteCinPlan",
        &["protection:write"],
    ),
    (
        "/csc.protection.v1.ProtectionService/BatchUpsertCpPlans",
        &["protection:write"],
    ),
    (
        "/csc.protection.v1.ProtectionService/GetCpPlan",
        &["protection:read"],
    ),
    (
        "/csc.protection.v1.ProtectionService/ListCpPlans",
        &["protection:read"],
    ),
    (
        "/csc.protection.v1.ProtectionService/DeleteCpPlan",
        &["protection:write"],
    ),
    (
        "/csc.protection.v1.ProtectionService/BatchUpsertMissingEpisodes",
        &["protection:write"],
    ),
    (
        "/csc.protection.v1.ProtectionService/GetMissingEpisode",
        &["protection:read"],
    ),
    (
        "/csc.protection.v1.ProtectionService/ListMissingEpisodes",
        &["protection:read"],
    ),
    (
        "/csc.protection.v1.ProtectionService/DeleteMissingEpisode",
        &["protection:write"],
    ),
    (
        "/csc.protection.v1.ProtectionService/BatchUpsertFeedback",
        &["protection:write"],
    ),
    (
        "/csc.protection.v1.ProtectionService/GetFeedback",
        &["protection:read"],
    ),
    (
        "/csc.protection.v1.ProtectionService/ListFeedback",
        &["protection:read"],
    ),
    (
        "/csc.protection.v1.ProtectionService/DeleteFeedback",
        &["protection:write"],
    ),
    (
        "/csc.protection.v1.ProtectionService/ListFeedbackQuestions",
        &["protection:read"],
    ),
    (
        "/csc.protection.v1.ProtectionService/ComputeMeasures",
        &["measures:read"],
    ),
    (
        "/csc.protection.v1.ProtectionService/GetCoverage",
        &["measures:read"],
    ),
    (
        "/csc.protection.v1.ProtectionService/RecordImport",
        &["protection:write"],
    ),
    (
        "/csc.placements.v1.PlacementsService/BatchUpsertChildren",
        &["placements:write"],
    ),
    (
        "/csc.placements.v1.PlacementsService/GetChild",
        &["placements:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/ListChildren",
        &["placements:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/DeleteChild",
        &["placements:write"],
    ),
    (
        "/csc.placements.v1.PlacementsService/BatchUpsertEpisodes",
        &["placements:write"],
    ),
    (
        "/csc.placements.v1.PlacementsService/GetEpisode",
        &["placements:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/ListEpisodes",
        &["placements:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/DeleteEpisode",
        &["placements:write"],
    ),
    (
        "/csc.placements.v1.PlacementsService/BatchUpsertSocialWorkerAllocations",
        &["placements:write"],
    ),
    (
        "/csc.placements.v1.PlacementsService/GetSocialWorkerAllocation",
        &["placements:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/ListSocialWorkerAllocations",
        &["placements:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/DeleteSocialWorkerAllocation",
        &["placements:write"],
    ),
    (
        "/csc.placements.v1.PlacementsService/BatchUpsertCareSummaries",
        &["placements:write"],
    ),
    (
        "/csc.placements.v1.PlacementsService/GetCareSummary",
        &["placements:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/ListCareSummaries",
        &["placements:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/DeleteCareSummary",
        &["placements:write"],
    ),
    (
        "/csc.placements.v1.PlacementsService/BatchUpsertReviews",
        &["placements:write"],
    ),
    (
        "/csc.placements.v1.PlacementsService/GetReview",
        &["placements:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/ListReviews",
        &["placements:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/DeleteReview",
        &["placements:write"],
    ),
    (
        "/csc.placements.v1.PlacementsService/GetCareHistory",
        &["placements:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/ListHistoryWarnings",
        &["placements:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/ComputeMeasures",
        &["measures:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/GetCoverage",
        &["measures:read"],
    ),
    (
        "/csc.placements.v1.PlacementsService/RecordImport",
        &["placements:write"],
    ),
    (
        "/csc.finance.v1.FinanceService/BatchUpsertCategories",
        &["finance:write"],
    ),
    (
        "/csc.finance.v1.FinanceService/ListCategories",
        &["finance:read"],
    ),
    (
        "/csc.finance.v1.FinanceService/GetCategory",
        &["finance:read"],
    ),
    (
        "/csc.finance.v1.FinanceService/DeleteCategory",
        &["finance:write"],
    ),
    (
        "/csc.finance.v1.FinanceService/BatchUpsertCategoryMappings",
        &["finance:write"],
    ),
    (
        "/csc.finance.v1.FinanceService/ListCategoryMappings",
        &["finance:read"],
    ),
    (
        "/csc.finance.v1.FinanceService/GetCategoryMapping",
        &["finance:read"],
    ),
    (
        "/csc.finance.v1.FinanceService/DeleteCategoryMapping",
        &["finance:write"],
    ),
    (
        "/csc.finance.v1.FinanceService/BatchUpsertCommitments",
        &["finance:write"],
    ),
    (
        "/csc.finance.v1.FinanceService/GetCommitment",
        &["finance:read"],
    ),
    (
        "/csc.finance.v1.FinanceService/ListCommitments",
        &["finance:read"],
    ),
    (
        "/csc.finance.v1.FinanceService/DeleteCommitment",
        &["finance:write"],
    ),
    (
        "/csc.finance.v1.FinanceService/ComputeMeasures",
        &["measures:read"],
    ),
    (
        "/csc.finance.v1.FinanceService/GetCoverage",
        &["measures:read"],
    ),
    (
        "/csc.finance.v1.FinanceService/RecordImport",
        &["finance:write"],
    ),
    (
        "/csc.reporting.v1.ReportingService/GenerateReport",
        &["report:publish", "measures:read"],
    ),
    (
        "/csc.reporting.v1.ReportingService/GetReport",
        &["report:read"],
    ),
    (
        "/csc.reporting.v1.ReportingService/ListReports",
        &["report:read"],
    ),
    (
        "/csc.reporting.v1.ReportingService/SetCommentary",
        &["report:write"],
    ),
    (
        "/csc.reporting.v1.ReportingService/ListCommentary",
        &["report:read"],
    ),
    (
        "/csc.reporting.v1.ReportingService/SetPopulation",
        &["admin"],
    ),
    (
        "/csc.reporting.v1.ReportingService/GetPopulation",
        &["report:read"],
    ),
    (
        "/csc.reporting.v1.ReportingService/LoadReferenceTable",
        &["admin"],
    ),
    (
        "/csc.reporting.v1.ReportingService/ListReferenceTables",
        &["report:read"],
    ),
    (
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        &[],
    ),
    (
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        &[],
    ),
];

/// The scopes `path` requires, or `None` for a method the table does not know.
pub fn required(path: &str) -> Option<&'static [&'static str]> {
    TABLE.iter().find(|(p, _)| *p == path).map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use prost_reflect::DescriptorPool;

    use super::*;

    fn api_methods() -> BTreeSet<String> {
        let pool = DescriptorPool::decode(csc_proto::FILE_DESCRIPTOR_SET).unwrap();
        pool.services()
            .flat_map(|s| {
                s.methods()
                    .map(|m| format!("/{}/{}", s.full_name(), m.name()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Fails when a method is added to the API without a row in [`TABLE`], or a row outlives its
    /// method.
    #[test]
    fn every_method_of_the_api_has_exactly_one_row() {
        let methods = api_methods();
        assert!(methods.len() > 80, "the descriptor set holds the whole API");
        for m in &methods {
            let rows = TABLE.iter().filter(|(p, _)| p == m).count();
            assert_eq!(
                rows, 1,
                "{m} needs exactly one row in the scope table (has {rows})"
            );
        }
        for (p, _) in TABLE {
            assert!(
                methods.contains(*p) || p.starts_with("/grpc.reflection."),
                "{p} is in the scope table but not in the API"
            );
        }
    }

    #[test]
    fn every_scope_named_is_known_and_only_reflection_needs_none() {
        for (p, scopes) in TABLE {
            for s in *scopes {
                assert!(ALL.contains(s), "{p}: unknown scope {s}");
            }
            assert_eq!(scopes.is_empty(), p.starts_with("/grpc.reflection."), "{p}");
        }
    }

    #[test]
    fn reads_writes_and_measures_take_their_scopes() {
        let r = |p: &str| required(p).unwrap().to_vec();
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
