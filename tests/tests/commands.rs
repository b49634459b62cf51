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
    for ext in ["html", "md", "json", "xlsx", "csv"] {
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
    assert!(json.sections.iter().all(|s| s.status == "ok"));
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
