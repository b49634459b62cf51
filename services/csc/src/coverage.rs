//! `csc coverage --la CODE`: what each domain service holds for an LA — records per kind with the
//! span of their dates, and the files imported — the data every report of the LA rests on.

use csc_proto::common::{Coverage, GetCoverageRequest};
use serde::Serialize;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(clap::Args, Clone)]
pub struct CoverageArgs {
    /// DfE three-digit LA code.
    #[arg(long, env = "CSC_LA")]
    pub la: String,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub addrs: crate::DomainAddrs,
}

/// One service's answer, or why there is none.
#[derive(Serialize)]
struct ServiceCoverage {
    service: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    kinds: Vec<Kind>,
    imports: Vec<Import>,
}

#[derive(Serialize)]
struct Kind {
    kind: String,
    records: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    earliest: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    latest: String,
}

#[derive(Serialize)]
struct Import {
    source: String,
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_year: Option<i32>,
    #[serde(skip_serializing_if = "String::is_empty")]
    covers_from: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    covers_to: String,
    imported_at: String,
    accepted: i64,
    refused: i64,
}

async fn fetch(
    addrs: &crate::DomainAddrs,
    service: &'static str,
    la: &str,
) -> anyhow::Result<Coverage> {
    let req = GetCoverageRequest {
        la_code: la.to_owned(),
    };
    let r = match service {
        "frontdoor" => {
            crate::client::connect_frontdoor(&addrs.frontdoor)
                .await?
                .get_coverage(req)
                .await
        }
        "protection" => {
            crate::client::connect_protection(&addrs.protection)
                .await?
                .get_coverage(req)
                .await
        }
        "placements" => {
            crate::client::connect_placements(&addrs.placements)
                .await?
                .get_coverage(req)
                .await
        }
        _ => {
            crate::client::connect_finance(&addrs.finance)
                .await?
                .get_coverage(req)
                .await
        }
    };
    Ok(r.map_err(crate::client::describe_status)?.into_inner())
}

pub async fn run(args: CoverageArgs) -> anyhow::Result<()> {
    csc_core::LaCode::parse(&args.la).map_err(|e| anyhow::anyhow!("--la: {e}"))?;
    let mut all = Vec::new();
    for service in ["frontdoor", "protection", "placements", "finance"] {
        let c = fetch(&args.addrs, service, &args.la).await;
        all.push(match c {
            Ok(c) => ServiceCoverage {
                service,
                error: None,
                kinds: c
                    .kinds
                    .into_iter()
                    .map(|k| Kind {
                        kind: k.kind,
                        records: k.records,
                        earliest: k.earliest,
                        latest: k.latest,
                    })
                    .collect(),
                imports: c
                    .imports
                    .into_iter()
                    .map(|i| Import {
                        source: i.source,
                        file: i.file,
                        return_year: (i.return_year != 0).then_some(i.return_year),
                        covers_from: i.covers_from,
                        covers_to: i.covers_to,
                        imported_at: i.imported_at,
                        accepted: i.accepted,
                        refused: i.refused,
                    })
                    .collect(),
            },
            Err(e) => ServiceCoverage {
                service,
                error: Some(format!("{e:#}")),
                kinds: vec![],
                imports: vec![],
            },
        });
    }
    let failed: Vec<&str> = all
        .iter()
        .filter(|s| s.error.is_some())
        .map(|s| s.service)
        .collect();
    match args.format {
        Format::Json => crate::out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&serde_json::json!({
                "la_code": args.la,
                "services": all,
            }))?
        )),
        Format::Table => crate::out(&table(&args.la, &all)),
    }
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("no answer from {}", failed.join(", "))
    }
}

fn table(la: &str, all: &[ServiceCoverage]) -> String {
    use std::fmt::Write as _;
    let mut out = format!("Data held for LA {la}\n");
    for s in all {
        let _ = writeln!(out, "\n{}", s.service);
        if let Some(e) = &s.error {
            let _ = writeln!(out, "  not answered: {e}");
            continue;
        }
        for k in &s.kinds {
            if k.records == 0 {
                let _ = writeln!(out, "  {:<28} none held", k.kind);
            } else {
                let _ = writeln!(
                    out,
                    "  {:<28} {:>10}  {} to {}",
                    k.kind, k.records, k.earliest, k.latest
                );
            }
        }
        if s.imports.is_empty() {
            let _ = writeln!(out, "  imports: none recorded");
        }
        for i in &s.imports {
            let covers = if i.covers_from.is_empty() && i.covers_to.is_empty() {
                String::new()
            } else {
                format!(", covers {} to {}", i.covers_from, i.covers_to)
            };
            let _ = writeln!(
                out,
                "  imported {} {} {}{}{}: {} accepted, {} refused",
                i.imported_at,
                i.source,
                i.file,
                i.return_year.map(|y| format!(" ({y})")).unwrap_or_default(),
                covers,
                i.accepted,
                i.refused
            );
        }
    }
    out
}
