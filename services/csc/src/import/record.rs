//! After each file, `csc import` tells every service that took records from it what was imported
//! (`RecordImport`): the file, its return year, the days it covers and how many records the service
//! accepted and refused. `csc coverage` and the report read it back (docs/coverage.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;
use csc_proto::common::{ImportedSource, RecordImportRequest};

use super::{ImportSummary, Tally};
use crate::ClientAddrs;

/// The days a file's data covers, where the file says (a census or return year).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileCovers {
    pub return_year: Option<i32>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// `from` does not say where the looked-after children service's data begins: Annex A's
    /// List 8 adds summaries beside the 903's episodes, and its months are not the 903's.
    pub from_not_for_placements: bool,
}

impl FileCovers {
    /// Return years `first..=last` (2024 = 2023-24): 1 April of the first to 31 March of the last.
    pub fn years(first: i32, last: i32) -> Self {
        Self {
            return_year: Some(last),
            from: NaiveDate::from_ymd_opt(first - 1, 4, 1),
            to: NaiveDate::from_ymd_opt(last, 3, 31),
            from_not_for_placements: false,
        }
    }
}

/// The domain services, in the order imports are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Service {
    FrontDoor,
    Protection,
    Placements,
    Finance,
}

/// The service that holds a record kind (an `Upload::KIND`).
fn service_of(kind: &str) -> Option<Service> {
    Some(match kind {
        "contacts"
        | "early help assessments"
        | "referrals"
        | "assessments"
        | "section 47 enquiries"
        | "strategy discussions"
        | "ICPCs" => Service::FrontDoor,
        "CIN plans" | "CP plans" | "missing episodes" | "feedback responses" => Service::Protection,
        "children"
        | "episodes"
        | "social worker allocations"
        | "CLA reviews"
        | "care summaries" => Service::Placements,
        "commitments" => Service::Finance,
        _ => return None,
    })
}

/// What the report held before a file was imported: its counts, to take the file's own from the
/// totals after it.
pub struct Before(BTreeMap<&'static str, Tally>);

impl ImportSummary {
    /// Starts a file: forgets the previous file's LAs and coverage.
    pub fn begin_file(&mut self) -> Before {
        self.las_sent.clear();
        self.covers = FileCovers::default();
        Before(self.tallies.clone())
    }
}

/// Records imports, over one connection per service for the whole command (connected when first
/// needed).
pub struct Recorder {
    addrs: ClientAddrs,
    frontdoor: Option<crate::client::FrontDoorClient>,
    protection: Option<crate::client::ProtectionClient>,
    placements: Option<crate::client::PlacementsClient>,
    finance: Option<crate::client::FinanceClient>,
}

impl Recorder {
    pub fn new(addrs: &ClientAddrs) -> Self {
        Self {
            addrs: addrs.clone(),
            frontdoor: None,
            protection: None,
            placements: None,
            finance: None,
        }
    }

    /// Records `path`'s import (as `source`) in every service that took records from it, for
    /// each LA it sent records of. A service that cannot record it is a warning in the report,
    /// not a failure: the records themselves landed.
    pub async fn record(
        &mut self,
        source: &str,
        path: &Path,
        before: Before,
        report: &mut ImportSummary,
    ) {
        let mut per_service: BTreeMap<Service, (i64, i64)> = BTreeMap::new();
        for (kind, t) in &report.tallies {
            let was = before.0.get(kind).copied().unwrap_or_default();
            let accepted = (t.accepted + t.unchanged).saturating_sub(was.accepted + was.unchanged);
            let refused = t.rejected.saturating_sub(was.rejected);
            if accepted + refused == 0 {
                continue;
            }
            if let Some(s) = service_of(kind) {
                let e = per_service.entry(s).or_default();
                e.0 += accepted as i64;
                e.1 += refused as i64;
            }
        }
        let las: BTreeSet<String> = report.las_sent.clone();
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let covers = report.covers;
        for (service, (accepted, refused)) in per_service {
            let from = match service {
                Service::Placements if covers.from_not_for_placements => None,
                _ => covers.from,
            };
            for la in &las {
                let req = RecordImportRequest {
                    la_code: la.clone(),
                    import: Some(ImportedSource {
                        source: source.to_owned(),
                        file: file.clone(),
                        return_year: covers.return_year.unwrap_or(0),
                        covers_from: from.map(|d| d.to_string()).unwrap_or_default(),
                        covers_to: covers.to.map(|d| d.to_string()).unwrap_or_default(),
                        imported_at: String::new(),
                        accepted,
                        refused,
                    }),
                };
                if let Err(e) = self.send(service, req).await {
                    report.warn(
                        "file",
                        "-",
                        path.display().to_string(),
                        format!(
                            "the records landed, but the {service:?} service did not record the import for LA {la} (`csc coverage` will not list it): {e:#}"
                        ),
                    );
                }
            }
        }
    }

    async fn send(&mut self, service: Service, req: RecordImportRequest) -> anyhow::Result<()> {
        let a = &self.addrs;
        // Each service's client, connected on first use and kept for the command's later files.
        macro_rules! record_with {
            ($client:ident, $connect:path, $addr:expr) => {{
                crate::client::on_first_use(&mut self.$client, || $connect($addr))
                    .await?
                    .record_import(req)
                    .await
            }};
        }
        let r = match service {
            Service::FrontDoor => {
                record_with!(frontdoor, crate::client::connect_frontdoor, &a.frontdoor)
            }
            Service::Protection => {
                record_with!(protection, crate::client::connect_protection, &a.protection)
            }
            Service::Placements => {
                record_with!(placements, crate::client::connect_placements, &a.placements)
            }
            Service::Finance => record_with!(finance, crate::client::connect_finance, &a.finance),
        };
        r.map(|_| ()).map_err(crate::client::describe_status)
    }
}
