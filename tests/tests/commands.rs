//! The commands a newcomer and an operator run first: `csc demo` (the README's main job) and
//! `csc serve all`.

use std::time::Duration;

use csc_runtime::{Shutdown, config::ServerArgs};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

#[tokio::test]
async fn demo_imports_the_sample_and_keeps_its_data_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let args = csc::demo::DemoArgs {
        cin: csc_e2e::sample("cin/fake_CIN_data.xml"),
        data_dir: Some(dir.path().to_owned()),
        period: vec!["2021-22".into()],
        ssda903: csc_e2e::sample("ssda903"),
        ssda903_period: "2017-18".into(),
    };
    csc::demo::run(args).await.expect("the demo runs");
    for service in ["frontdoor", "protection", "placements"] {
        assert!(
            dir.path().join(format!("{service}.db")).exists(),
            "the {service} service's SQLite file is in the data dir"
        );
    }
}

#[tokio::test]
async fn serve_all_runs_each_service_on_its_own_sqlite_file_and_stops_cleanly() {
    use csc::serve::Service;
    let dir = tempfile::tempdir().unwrap();
    let mut listeners = Vec::new();
    for s in Service::ALL {
        listeners.push((
            s,
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        ));
    }
    let addr = |s: Service| {
        listeners
            .iter()
            .find(|(x, _)| *x == s)
            .unwrap()
            .1
            .local_addr()
            .unwrap()
            .to_string()
    };
    let addrs = csc::ClientAddrs {
        frontdoor: addr(Service::Frontdoor),
        protection: addr(Service::Protection),
        placements: addr(Service::Placements),
        finance: addr(Service::Finance),
    };
    let shutdown = Shutdown::new();
    let args = csc::serve::AllArgs {
        data_dir: Some(dir.path().to_owned()),
        addrs: addrs.clone(),
        server: ServerArgs {
            max_connection_age_secs: 300,
            shutdown_grace_secs: 5,
        },
    };
    let handle = tokio::spawn(csc::serve::run_all(args, listeners, shutdown.clone()));
    for service in Service::ALL {
        let target = format!("http://{}", addrs.of(service));
        let mut serving = false;
        for _ in 0..200 {
            if let Ok(ch) = tonic::transport::Endpoint::from_shared(target.clone())
                .unwrap()
                .connect()
                .await
            {
                let r = HealthClient::new(ch)
                    .check(HealthCheckRequest {
                        service: service.grpc_name().into(),
                    })
                    .await;
                if r.is_ok_and(|r| r.into_inner().status == ServingStatus::Serving as i32) {
                    serving = true;
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(serving, "{} reports SERVING", service.name());
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
