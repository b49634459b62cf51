//! The end-to-end harness: boots services in-process on ephemeral ports, each on its own
//! database, exactly as `csc serve` does, and hands tests a connected client.
//!
//! Every test runs on SQLite and, where `CSC_TEST_POSTGRES_URL` names a PostgreSQL server that a
//! test may create databases on, on a fresh PostgreSQL database too. Under CI (`CI` set) a missing
//! PostgreSQL is a failure, never a silent skip.

use std::time::Duration;

use csc_runtime::{Shutdown, config::ServerArgs};
use sea_orm::ConnectionTrait;
use tokio::{net::TcpListener, task::JoinHandle};

/// A database a test runs against; dropped with the test.
pub struct Backend {
    pub name: &'static str,
    pub url: String,
    dir: Option<tempfile::TempDir>,
    admin: Option<String>,
}

impl Backend {
    /// Another empty database on the same backend, for a second service (each service owns its
    /// own database, as in production).
    pub async fn another(&self, service: &str) -> String {
        match (&self.dir, &self.admin) {
            (Some(dir), _) => csc_runtime::db::sqlite_url_in(dir.path(), service),
            (None, Some(admin)) => fresh_postgres_db(admin).await,
            (None, None) => unreachable!("a backend has a directory or a server"),
        }
    }
}

/// SQLite always; PostgreSQL when configured (required under CI).
pub async fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut out = vec![Backend {
        name: "sqlite",
        url: csc_runtime::db::sqlite_url_in(dir.path(), "frontdoor"),
        dir: Some(dir),
        admin: None,
    }];
    match std::env::var("CSC_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => out.push(Backend {
            name: "postgres",
            url: fresh_postgres_db(&admin).await,
            dir: None,
            admin: Some(admin),
        }),
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "CI is set but CSC_TEST_POSTGRES_URL is not: the suite must be tested on PostgreSQL in CI"
            )
        }
        _ => eprintln!("CSC_TEST_POSTGRES_URL not set: testing SQLite only (CI tests both)"),
    }
    out
}

/// Creates an empty database on the server and returns its URL.
async fn fresh_postgres_db(admin_url: &str) -> String {
    let admin = csc_runtime::db::connect(admin_url)
        .await
        .expect("connect to CSC_TEST_POSTGRES_URL");
    let name = format!("csc_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let prefix = &base[..base.rfind('/').expect("URL has a database path")];
    format!("{prefix}/{name}{query}")
}

/// A running front door service.
pub struct Running {
    pub addr: String,
    shutdown: Shutdown,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    pub async fn client(&self) -> csc::client::FrontDoorClient {
        csc::client::connect_frontdoor(&self.addr)
            .await
            .expect("connect")
    }

    pub async fn finance(&self) -> csc::client::FinanceClient {
        csc::client::connect_finance(&self.addr)
            .await
            .expect("connect")
    }

    pub async fn protection(&self) -> csc::client::ProtectionClient {
        csc::client::connect_protection(&self.addr)
            .await
            .expect("connect")
    }

    /// Begins a graceful shutdown, as SIGTERM does.
    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Stops the server gracefully and checks that it stopped cleanly.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.handle)
            .await
            .expect("server stops within 30 s")
            .expect("server task")
            .expect("server ran cleanly");
    }
}

/// Boots the front door on an ephemeral port against `url`, migrating first.
pub async fn start_frontdoor(url: &str) -> Running {
    start(csc::serve::Service::Frontdoor, url).await
}

/// Boots `service` on an ephemeral port against `url` (migrating first), and waits until its
/// health check reports SERVING.
pub async fn start(service: csc::serve::Service, url: &str) -> Running {
    start_with(service, url, &csc::ClientAddrs::default()).await
}

/// As [`start`], with the domain services' addresses (the aggregator calls them).
pub async fn start_with(
    service: csc::serve::Service,
    url: &str,
    addrs: &csc::ClientAddrs,
) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let shutdown = Shutdown::new();
    let mut args = ServerArgs {
        max_connection_age_secs: 300,
        shutdown_grace_secs: 5,
        ..ServerArgs::default()
    };
    // These tests are about the services' behaviour; authentication and audit have their own
    // (tests/tests/security.rs, tests/python/test_auth.py), so it is explicitly off here.
    args.auth.insecure_no_auth = true;
    let handle = tokio::spawn({
        let (url, shutdown, addrs) = (url.to_owned(), shutdown.clone(), addrs.clone());
        async move { csc::serve::run(service, listener, &url, &args, &addrs, shutdown).await }
    });
    for _ in 0..400 {
        if csc::serve::serving(&addr, service.grpc_name())
            .await
            .unwrap_or(false)
        {
            return Running {
                addr,
                shutdown,
                handle,
            };
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{} did not start on {url}", service.name());
}

/// The services a CIN census feeds (front door and child protection), each on its own database.
pub struct CinSuite {
    pub frontdoor: Running,
    pub protection: Running,
}

impl CinSuite {
    pub async fn start(b: &Backend) -> Self {
        let frontdoor = start(csc::serve::Service::Frontdoor, &b.url).await;
        let protection = start(
            csc::serve::Service::Protection,
            &b.another("protection").await,
        )
        .await;
        Self {
            frontdoor,
            protection,
        }
    }

    pub async fn clients(&self) -> csc::import::CinClients {
        csc::import::CinClients {
            frontdoor: self.frontdoor.client().await,
            protection: self.protection.protection().await,
        }
    }

    pub async fn stop(self) {
        self.frontdoor.stop().await;
        self.protection.stop().await;
    }
}

/// The path of a file in the shared samples (`../shared/samples/...` from the project root).
pub fn sample(rel: &str) -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/samples")
        .join(rel);
    assert!(p.exists(), "shared sample {} is missing", p.display());
    p
}

/// Asserts that an import report refused the row at `line`, naming `column` and saying `what`.
pub fn assert_row_refused(
    report: &csc::import::ImportSummary,
    line: u32,
    column: &str,
    what: &str,
) {
    let needle = format!("line {line} column {column}");
    assert!(
        report
            .rejected
            .iter()
            .any(|p| p.source.contains(&needle) && p.reason.contains(what)),
        "no rejection at {needle} saying {what:?}: {:#?}",
        report.rejected
    );
}

/// The whole suite: the four domain services, the aggregator and the intake, each on its own
/// database of the backend.
pub struct Suite {
    pub services: Vec<(csc::serve::Service, Running)>,
    pub addrs: csc::ClientAddrs,
}

impl Suite {
    pub async fn start(b: &Backend) -> Self {
        use csc::serve::Service;
        let mut addrs = csc::ClientAddrs::default();
        let mut services = Vec::new();
        for s in Service::DOMAIN {
            let url = if s == Service::Frontdoor {
                b.url.clone()
            } else {
                b.another(s.name()).await
            };
            let r = start(s, &url).await;
            addrs.set(s, r.addr.clone());
            services.push((s, r));
        }
        for s in [Service::Aggregator, Service::Intake] {
            let r = start_with(s, &b.another(s.name()).await, &addrs).await;
            addrs.set(s, r.addr.clone());
            services.push((s, r));
        }
        Suite { services, addrs }
    }

    /// Stops one service, as when its pod goes away.
    pub async fn stop_one(&mut self, service: csc::serve::Service) {
        let i = self
            .services
            .iter()
            .position(|(s, _)| *s == service)
            .expect("running");
        let (_, r) = self.services.remove(i);
        r.stop().await;
    }

    pub async fn stop(self) {
        for (_, r) in self.services {
            r.stop().await;
        }
    }
}

/// The measures a service computed for `period`, each value and each row's value, as
/// (period, `id` or `id/row`, value) triples: for comparing two imports figure by figure.
pub fn figures(
    period: &str,
    measures: &[csc_proto::common::Measure],
) -> Vec<(String, String, Option<f64>)> {
    let mut out = Vec::new();
    for m in measures {
        let m = csc_runtime::convert::measure_from_proto(m);
        out.push((period.to_owned(), m.id.clone(), m.value.map(|v| v.as_f64())));
        for r in &m.rows {
            out.push((
                period.to_owned(),
                format!("{}/{}", m.id, r.key),
                r.value.map(|v| v.as_f64()),
            ));
        }
    }
    out
}

/// Domain records as their service's API carries them (its own `WireRecord` conversion).
pub fn protos<R: csc_runtime::rpc::WireRecord>(records: &[R]) -> Vec<R::Proto> {
    records.iter().map(R::to_proto).collect()
}

/// Every page of a List method, in order: `page(token)` asks for one page and answers its
/// records and the next page's token (empty after the last).
pub async fn all_pages<T, F>(mut page: impl FnMut(String) -> F) -> Vec<Vec<T>>
where
    F: std::future::Future<Output = (Vec<T>, String)>,
{
    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let (records, next) = page(token).await;
        pages.push(records);
        if next.is_empty() {
            return pages;
        }
        token = next;
    }
}
