//! No confident zeros: what each service holds for an LA (`GetCoverage`, the import log) and the
//! report that rests on it — `no_data` where nothing is held, `partial` where the data stops short,
//! `unavailable` where a service is down — with no zero standing in for missing data in any
//! format, publication refused unless the report is complete, and `csc report`'s exit status.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use csc::import::{ImportCommand, ImportOpts};
use csc::serve::Service;
use csc_proto::{common as cpb, reporting as pb};
use serde_json::Value;
use tonic_types::StatusExt;

const LA: &str = "885";
const PERIOD: &str = "2026-27-Q2";

/// A small generated LA: three years to 2026-09-30.
fn generated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    csc::generate::generate(
        &csc::generate::Config {
            la: LA.into(),
            children: 20_000,
            years: 3,
            seed: 5,
            until: NaiveDate::from_ymd_opt(2026, 9, 30).unwrap(),
        },
        dir.path(),
    )
    .unwrap();
    dir
}

fn censuses(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("cin"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// `csc import cin FILES`, as the command runs it (recording each file's import); whether it
/// landed everything.
async fn import_cin(addrs: &csc::ClientAddrs, files: Vec<PathBuf>) -> bool {
    csc::import::run(ImportCommand::Cin {
        files,
        la: None,
        opts: ImportOpts {
            addrs: addrs.into(),
            report: None,
        },
    })
    .await
    .is_ok()
}

async fn generate(
    addrs: &csc::ClientAddrs,
    la: &str,
    period: &str,
    publish: bool,
    format: pb::Format,
) -> Result<pb::ReportDocument, tonic::Status> {
    csc::client::connect_reporting(&addrs.aggregator)
        .await
        .unwrap()
        .generate_report(pb::GenerateReportRequest {
            la_code: la.into(),
            period: period.into(),
            publish,
            allow_partial: false,
            format: format as i32,
            requested_by: "e2e".into(),
            benchmark_group: String::new(),
        })
        .await
        .map(|r| r.into_inner())
}

async fn json(addrs: &csc::ClientAddrs, la: &str, period: &str) -> Value {
    let doc = generate(addrs, la, period, false, pb::Format::Json)
        .await
        .unwrap();
    serde_json::from_slice(&doc.content).unwrap()
}

fn section<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no section {id}"))
}

fn measure_ids(s: &Value) -> Vec<&str> {
    s["measures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect()
}

/// Every rendering of a kept report.
async fn renderings(addrs: &csc::ClientAddrs, id: &str) -> Vec<(pb::Format, Vec<u8>)> {
    let mut c = csc::client::connect_reporting(&addrs.aggregator)
        .await
        .unwrap();
    let mut out = Vec::new();
    for f in [
        pb::Format::Html,
        pb::Format::Markdown,
        pb::Format::Csv,
        pb::Format::Xlsx,
    ] {
        let doc = c
            .get_report(pb::GetReportRequest {
                report_id: id.into(),
                format: f as i32,
            })
            .await
            .unwrap()
            .into_inner();
        out.push((f, doc.content));
    }
    out
}

#[tokio::test]
async fn coverage_counts_and_spans_what_each_service_holds_and_reimports_replace_their_entry() {
    let gen_dir = generated();
    let files = censuses(gen_dir.path());
    let last = files.last().unwrap().clone();
    // What the last census says, read here independently: its referral dates.
    let text = std::fs::read_to_string(&last).unwrap();
    let dates: Vec<&str> = text
        .split("<CINreferralDate>")
        .skip(1)
        .map(|s| &s[..10])
        .collect();
    for b in csc_e2e::backends().await {
        if b.name == "postgres" {
            // A council's PostgreSQL may write dates its own way: coverage dates stay ISO.
            use sea_orm::ConnectionTrait;
            csc_runtime::db::connect(&b.url)
                .await
                .unwrap()
                .execute_unprepared(
                    "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET datestyle = %L', current_database(), 'SQL, DMY'); END $$",
                )
                .await
                .unwrap();
        }
        let suite = csc_e2e::Suite::start(&b).await;
        let mut fd = csc::client::connect_frontdoor(&suite.addrs.frontdoor)
            .await
            .unwrap();
        let empty = fd
            .get_coverage(cpb::GetCoverageRequest { la_code: LA.into() })
            .await
            .unwrap()
            .into_inner();
        assert!(
            empty
                .kinds
                .iter()
                .all(|k| k.records == 0 && k.earliest.is_empty())
        );
        assert!(empty.imports.is_empty());

        assert!(
            import_cin(&suite.addrs, vec![last.clone()]).await,
            "{}",
            b.name
        );
        let c = fd
            .get_coverage(cpb::GetCoverageRequest { la_code: LA.into() })
            .await
            .unwrap()
            .into_inner();
        let referrals = c.kinds.iter().find(|k| k.kind == "referrals").unwrap();
        let distinct: std::collections::BTreeSet<(&str, &str)> = text
            .split("<LAchildID>")
            .skip(1)
            .flat_map(|child| {
                let id = &child[..child.find('<').unwrap()];
                child
                    .split("<CINreferralDate>")
                    .skip(1)
                    .map(move |s| (id, &s[..10]))
            })
            .collect();
        assert_eq!(referrals.records, distinct.len() as i64, "{}", b.name);
        assert_eq!(
            referrals.earliest,
            *dates.iter().min().unwrap(),
            "{}",
            b.name
        );
        assert_eq!(referrals.latest, *dates.iter().max().unwrap(), "{}", b.name);
        assert_eq!(c.imports.len(), 1, "{}: {:?}", b.name, c.imports);
        let i = &c.imports[0];
        assert_eq!(
            (i.source.as_str(), i.file.as_str(), i.return_year),
            (
                "cin_census",
                "CIN_inyear_extract_2027_to_2026-09-30.xml",
                2027
            )
        );
        // The in-year census was made the day after --until: it covers no later.
        assert_eq!(
            (i.covers_from.as_str(), i.covers_to.as_str()),
            ("2026-04-01", "2026-10-01")
        );
        assert_eq!(i.refused, 0);
        assert!(
            i.accepted > referrals.records,
            "referrals, assessments, S47s, ICPCs"
        );

        // The same file again: one entry still, every record now unchanged.
        assert!(import_cin(&suite.addrs, vec![last.clone()]).await);
        let again = fd
            .get_coverage(cpb::GetCoverageRequest { la_code: LA.into() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(again.imports.len(), 1);
        assert_eq!(again.imports[0].accepted, i.accepted);
        assert_eq!(again.kinds, c.kinds);

        // A malformed import record names each field.
        let e = fd
            .record_import(cpb::RecordImportRequest {
                la_code: "88".into(),
                import: Some(cpb::ImportedSource {
                    source: String::new(),
                    file: "x\u{7}.csv".into(),
                    return_year: 24,
                    covers_from: "2024-05-01".into(),
                    covers_to: "01/04/2024".into(),
                    accepted: -1,
                    ..Default::default()
                }),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        let fields: Vec<String> = e
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "la_code",
                "import.source",
                "import.file",
                "import.return_year",
                "import.covers_to",
                "import.accepted"
            ]
        );
        suite.stop().await;
    }
}

#[tokio::test]
async fn nothing_held_is_no_data_in_every_format_and_the_report_command_exits_4() {
    let b = csc_e2e::backends().await.remove(0);
    let suite = csc_e2e::Suite::start(&b).await;
    // An empty database, an LA nothing was imported for, a period years ahead.
    for (la, period) in [(LA, PERIOD), ("886", PERIOD), (LA, "2031-32-Q1")] {
        let doc = generate(&suite.addrs, la, period, false, pb::Format::Json)
            .await
            .unwrap();
        let r: Value = serde_json::from_slice(&doc.content).unwrap();
        for s in r["sections"].as_array().unwrap() {
            assert_eq!(s["status"], "no_data", "{la} {period}: {}", s["id"]);
            assert!(s["measures"].as_array().unwrap().is_empty());
            assert!(
                s["notes"][0]
                    .as_str()
                    .unwrap()
                    .contains("no figures are shown")
            );
            assert!(s["data"]["records"].is_object(), "what is held is said");
        }
        assert!(doc.sections.iter().all(|s| s.status == "no_data"));
        for (f, content) in renderings(&suite.addrs, &doc.report_id).await {
            match f {
                pb::Format::Html => {
                    let html = String::from_utf8(content).unwrap();
                    assert!(!html.contains("<table"), "no figures");
                    assert_eq!(html.matches(r#"data-status="no_data""#).count(), 7);
                }
                pb::Format::Markdown => {
                    let md = String::from_utf8(content).unwrap();
                    assert!(!md.contains('|'), "no tables");
                    assert_eq!(md.matches("**no data**").count(), 7);
                    // The front matter says what the report rests on, service by service.
                    for service in ["frontdoor", "protection", "placements", "finance"] {
                        assert!(
                            md.contains(&format!(
                                "- {service}: no records held; no imports recorded"
                            )),
                            "{service}: {md}"
                        );
                    }
                }
                pb::Format::Csv => {
                    let text = String::from_utf8(content).unwrap();
                    let mut rows = csv::Reader::from_reader(text.as_bytes());
                    let rows: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
                    // One line per section, its status and why; no measure, no value.
                    assert_eq!(rows.len(), 7);
                    for row in &rows {
                        assert_eq!(&row[1], "no_data");
                        assert!(row[2].is_empty() && row[9].is_empty(), "{row:?}");
                    }
                }
                _ => {
                    // The workbook is written from the same lines as the CSV; it is a workbook.
                    assert!(content.starts_with(b"PK"));
                }
            }
        }
    }
    // `csc report` writes the report and ends with its own exit status (4).
    let out = tempfile::tempdir().unwrap();
    let args = csc::report::ReportArgs {
        what: None,
        la: Some(LA.into()),
        period: Some(PERIOD.into()),
        id: None,
        group: None,
        focus: None,
        compare_with: None,
        output: csc::report::OutputArgs {
            format: None,
            out: Some(out.path().join("r.md")),
        },
        publish: false,
        allow_partial: false,
        requested_by: None,
        addrs: (&suite.addrs).into(),
    };
    let e = csc::report::report(args.clone()).await.unwrap_err();
    let incomplete = e
        .downcast_ref::<csc::Incomplete>()
        .expect("the report's own exit status");
    assert_eq!(incomplete.exit, csc::report::EXIT_INCOMPLETE);
    assert!(
        incomplete
            .message
            .contains("Looked After Children (no data)"),
        "{incomplete}"
    );
    let md = std::fs::read_to_string(out.path().join("r.md")).unwrap();
    assert!(
        md.starts_with("# "),
        "written, as Markdown from the extension"
    );
    // A kept report again, by its id, in another format.
    let kept = csc::client::connect_reporting(&suite.addrs.aggregator)
        .await
        .unwrap()
        .list_reports(pb::ListReportsRequest {
            la_code: LA.into(),
            period: PERIOD.into(),
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .reports
        .remove(0);
    csc::report::report(csc::report::ReportArgs {
        what: Some(csc::report::ReportCommand::Get {
            id: kept.report_id.clone(),
            output: csc::report::OutputArgs {
                format: None,
                out: Some(out.path().join("kept.json")),
            },
            addrs: (&suite.addrs).into(),
        }),
        ..args.clone()
    })
    .await
    .unwrap();
    let again: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("kept.json")).unwrap()).unwrap();
    assert_eq!(again["report_id"], kept.report_id.as_str());
    // --allow-partial accepts it.
    csc::report::report(csc::report::ReportArgs {
        allow_partial: true,
        ..args.clone()
    })
    .await
    .unwrap();
    // An explicit format the extension contradicts is refused before anything is asked.
    let e = csc::report::report(csc::report::ReportArgs {
        output: csc::report::OutputArgs {
            format: Some(csc::report::FormatArg::Json),
            out: Some(out.path().join("r.md")),
        },
        ..args.clone()
    })
    .await
    .unwrap_err();
    assert!(format!("{e}").contains("--format json but --out"), "{e}");
    let e = csc::report::report(csc::report::ReportArgs {
        output: csc::report::OutputArgs {
            format: None,
            out: Some(out.path().join("missing/r.html")),
        },
        ..args
    })
    .await
    .unwrap_err();
    assert!(format!("{e}").contains("does not exist"), "{e}");
    suite.stop().await;
}

#[tokio::test]
async fn an_la_with_only_its_census_shows_no_looked_after_figures_and_notes_refusals() {
    let gen_dir = generated();
    let files = censuses(gen_dir.path());
    // One census with ten unreadable referral sources: those referrals are refused at import.
    let spoiled = gen_dir.path().join("spoiled");
    std::fs::create_dir(&spoiled).unwrap();
    let mut sent = Vec::new();
    for f in &files {
        let to = spoiled.join(f.file_name().unwrap());
        let mut text = std::fs::read_to_string(f).unwrap();
        if f == files.last().unwrap() {
            let parts: Vec<&str> = text.split("<ReferralSource>").collect();
            let mut spoilt = parts[0].to_owned();
            for (i, p) in parts.iter().enumerate().skip(1) {
                spoilt.push_str(if i <= 10 {
                    "<ReferralSource>Q"
                } else {
                    "<ReferralSource>"
                });
                spoilt.push_str(p);
            }
            text = spoilt;
        }
        std::fs::write(&to, text).unwrap();
        sent.push(to);
    }
    let b = csc_e2e::backends().await.remove(0);
    let suite = csc_e2e::Suite::start(&b).await;
    assert!(!import_cin(&suite.addrs, sent).await, "refusals: exit 3");
    let r = json(&suite.addrs, LA, PERIOD).await;

    for id in ["looked_after", "costs", "missing"] {
        let s = section(&r, id);
        assert_eq!(s["status"], "no_data", "{id}");
        assert!(s["measures"].as_array().unwrap().is_empty(), "{id}");
    }
    // Nothing composed from the looked-after figures either.
    let cin = section(&r, "children_in_need");
    assert_eq!(cin["status"], "ok");
    assert!(!measure_ids(cin).contains(&"protection.cin_share_of_open_cases"));
    // The front door has its census records but no contacts or strategy discussions: those
    // measures are not shown, and the section is partial.
    let fd = section(&r, "frontdoor");
    assert_eq!(fd["status"], "partial");
    let shown = measure_ids(fd);
    assert!(shown.contains(&"frontdoor.referrals"));
    for hidden in [
        "frontdoor.contacts",
        "frontdoor.nfa_children_previous_contact",
        "frontdoor.strategy_discussions",
        "frontdoor.strategy_attendance",
    ] {
        assert!(!shown.contains(&hidden), "{hidden}");
    }
    let notes: Vec<&str> = fd["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("No contacts are held for LA 885"))
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("refused 10 record(s) (CIN_inyear_extract_2027_to_2026-09-30.xml)")),
        "{notes:?}"
    );
    assert_eq!(fd["data"]["refused"], 10);
    // Child protection: no feedback held, so no feedback measure, and partial.
    let cp = section(&r, "child_protection");
    assert_eq!(cp["status"], "partial");
    assert!(!measure_ids(cp).contains(&"protection.feedback"));
    assert!(measure_ids(cp).contains(&"protection.cp_open_at_end"));

    // A period after the census year: none of it is covered.
    let later = json(&suite.addrs, LA, "2027-28-Q1").await;
    assert!(
        later["sections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "no_data")
    );
    suite.stop().await;
}

#[tokio::test]
async fn publication_needs_every_section_complete_and_unknown_formats_are_refused() {
    let gen_dir = generated();
    let b = csc_e2e::backends().await.remove(0);
    let mut suite = csc_e2e::Suite::start(&b).await;
    let mut imported = csc::import::ImportSummary::default();
    csc::import::import_generated(&suite.addrs, gen_dir.path(), None, &mut imported)
        .await
        .unwrap();
    // Complete data: every section ok, and it may be published.
    let r = json(&suite.addrs, LA, PERIOD).await;
    for s in r["sections"].as_array().unwrap() {
        assert_eq!(s["status"], "ok", "{}: {}", s["id"], s["notes"]);
    }
    generate(&suite.addrs, LA, PERIOD, true, pb::Format::Html)
        .await
        .unwrap();

    // A quarter the data stops inside: partial, refused without allow_partial.
    let e = generate(&suite.addrs, LA, "2026-27-Q3", true, pb::Format::Html)
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::FailedPrecondition);
    let pf = e.get_details_precondition_failure().unwrap();
    let subjects: Vec<&str> = pf.violations.iter().map(|v| v.subject.as_str()).collect();
    assert!(subjects.contains(&"sections/frontdoor"), "{subjects:?}");

    // Every domain service down: each section unavailable; publication refused even with
    // allow_partial, and nothing more is kept as published.
    for s in Service::DOMAIN {
        suite.stop_one(s).await;
    }
    let mut c = csc::client::connect_reporting(&suite.addrs.aggregator)
        .await
        .unwrap();
    let e = c
        .generate_report(pb::GenerateReportRequest {
            la_code: LA.into(),
            period: PERIOD.into(),
            publish: true,
            allow_partial: true,
            format: pb::Format::Json as i32,
            requested_by: "e2e".into(),
            benchmark_group: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::FailedPrecondition);
    let pf = e.get_details_precondition_failure().unwrap();
    assert_eq!(pf.violations.len(), 7);
    assert!(pf.violations.iter().all(|v| v.r#type == "UNAVAILABLE"));
    let kept = c
        .list_reports(pb::ListReportsRequest {
            la_code: LA.into(),
            period: PERIOD.into(),
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(kept.reports.iter().filter(|r| r.published).count(), 1);
    let unpublished = json(&suite.addrs, LA, PERIOD).await;
    assert!(
        unpublished["sections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "unavailable" && s["measures"].as_array().unwrap().is_empty())
    );

    // An LA code that is no English LA, and one a reorganisation retired before the period: the
    // field is named, with the nearest codes or the successors.
    let violation = |e: tonic::Status| {
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
        let v = e
            .get_details_bad_request()
            .unwrap()
            .field_violations
            .remove(0);
        (v.field, v.description)
    };
    let e = c
        .generate_report(pb::GenerateReportRequest {
            la_code: "999".into(),
            period: PERIOD.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let (f, why) = violation(e);
    assert_eq!(f, "la_code");
    assert!(
        why.contains("unknown LA code \"999\"") && why.contains("nearest: 943"),
        "{why}"
    );
    let e = c
        .generate_report(pb::GenerateReportRequest {
            la_code: "928".into(),
            period: PERIOD.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let (f, why) = violation(e);
    assert_eq!(f, "la_code");
    assert!(
        why.contains("replaced on 2021-04-01 by 940 North Northamptonshire"),
        "{why}"
    );

    // A format the API does not define is refused, never read as JSON.
    let field = |e: tonic::Status| {
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
        e.get_details_bad_request().unwrap().field_violations[0]
            .field
            .clone()
    };
    let e = c
        .generate_report(pb::GenerateReportRequest {
            la_code: LA.into(),
            period: PERIOD.into(),
            format: 42,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field(e), "format");
    let e = c
        .get_report(pb::GetReportRequest {
            report_id: kept.reports[0].report_id.clone(),
            format: 42,
        })
        .await
        .unwrap_err();
    assert_eq!(field(e), "format");
    suite.stop().await;
}
