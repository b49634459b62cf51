//! The commands a newcomer and an operator run first: `csc demo` (the README's main job) and
//! `csc serve all`.

use std::time::Duration;

use csc_runtime::{Shutdown, config::ServerArgs};

#[tokio::test]
async fn demo_generates_imports_and_writes_the_report_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let args = csc::demo::DemoArgs {
        out: dir.path().to_owned(),
        la: "885".into(),
        scale: "20000".into(),
        seed: 3,
        period: Some("2025-26-Q3".into()),
    };
    csc::demo::run(args).await.expect("the demo runs");
    for service in [
        "frontdoor",
        "protection",
        "placements",
        "finance",
        "aggregator",
    ] {
        assert!(
            dir.path().join(format!("data/{service}.db")).exists(),
            "the {service} service's SQLite file is in the data dir"
        );
    }
    for ext in ["html", "md", "json", "xlsx", "csv", "docx"] {
        let f = dir
            .path()
            .join(format!("report/report-885-2025-26-Q3.{ext}"));
        assert!(
            std::fs::metadata(&f).is_ok_and(|m| m.len() > 1000),
            "{} written",
            f.display()
        );
    }
    let json: csc_aggregator::Report = serde_json::from_slice(
        &std::fs::read(dir.path().join("report/report-885-2025-26-Q3.json")).unwrap(),
    )
    .unwrap();
    assert!(
        json.sections
            .iter()
            .all(|s| s.status == csc_aggregator::domain::sections::SectionStatus::Ok)
    );
    same_as_recorded(
        "demo-report-885-2025-26-Q3.json",
        &comparable_json(
            &std::fs::read(dir.path().join("report/report-885-2025-26-Q3.json")).unwrap(),
        ),
    );
    same_as_recorded(
        "demo-report-885-2025-26-Q3.csv",
        &std::fs::read_to_string(dir.path().join("report/report-885-2025-26-Q3.csv")).unwrap(),
    );
    assert!(json.measure("frontdoor.referrals").is_some());
    let import_report = std::fs::read_to_string(dir.path().join("import-report.csv")).unwrap();
    assert_eq!(
        import_report.lines().count(),
        1,
        "the generated files import cleanly: {import_report}"
    );
}

#[tokio::test]
async fn serve_all_runs_each_service_on_its_own_sqlite_file_and_stops_cleanly() {
    use csc::serve::Service;
    let dir = tempfile::tempdir().unwrap();
    let (listeners, addrs) = csc::serve::bind_all().await.unwrap();
    let shutdown = Shutdown::new();
    let args = csc::serve::AllArgs {
        data_dir: Some(dir.path().to_owned()),
        addrs: addrs.clone(),
        server: ServerArgs {
            max_connection_age_secs: 300,
            shutdown_grace_secs: 5,
            ..ServerArgs::default()
        },
    };
    let handle = tokio::spawn(csc::serve::run_all(args, listeners, shutdown.clone()));
    csc::serve::wait_until_serving(&addrs)
        .await
        .expect("every service reports SERVING");
    for service in Service::ALL {
        assert!(
            dir.path().join(format!("{}.db", service.name())).exists(),
            "{} has its own SQLite file",
            service.name()
        );
    }
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(30), handle)
        .await
        .expect("stops")
        .unwrap()
        .expect("clean stop");
}

/// The report's JSON without what differs between two runs of the same demo: its id, when it was
/// generated, and when its data were imported (which also orders the imports listed).
fn comparable_json(bytes: &[u8]) -> String {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::Array(imports)) = m.get_mut("imports") {
                    imports.sort_by_key(|i| (i["source"].to_string(), i["file"].to_string()));
                }
                for k in [
                    "report_id",
                    "generated_at",
                    "imported_at",
                    "loaded_at",
                    "last_import",
                ] {
                    if m.contains_key(k) {
                        m.insert(k.into(), serde_json::Value::String("(varies)".into()));
                    }
                }
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    strip(&mut v);
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

/// Compares a rendering with the one recorded in `tests/fixtures/recorded/` when the code was
/// known to be right: a change that is meant to keep the report as it is (a refactor) must not
/// move a figure, a label or a note. `CSC_RECORD=1` records it again after a change that is meant
/// to change the report, for the diff to be read in review.
fn same_as_recorded(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/recorded")
        .join(name);
    if std::env::var_os("CSC_RECORD").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (record it with CSC_RECORD=1)", path.display()));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{name} differs from the recorded one from line {}:\n  recorded: {:?}\n  now:      {:?}",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}
