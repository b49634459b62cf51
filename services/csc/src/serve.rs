//! `csc serve`: one service, or all of them in one process, each on its own database.

use std::{
    path::PathBuf,
    sync::{Arc, atomic::Ordering},
};

use clap::ValueEnum;
use csc_runtime::{
    Shutdown,
    config::{
        AGGREGATOR_ADDR, DatabaseArgs, FINANCE_ADDR, FRONTDOOR_ADDR, INTAKE_ADDR, Migrations,
        PLACEMENTS_ADDR, PROTECTION_ADDR, ServerArgs, parse_listen,
    },
    db,
    server::ReadyCheck,
};
use sea_orm_migration::MigratorTrait;
use tokio::net::TcpListener;
use tonic::service::Routes;

/// The suite's services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Service {
    Frontdoor,
    Protection,
    Placements,
    Finance,
    Aggregator,
    Intake,
}

impl Service {
    pub const ALL: [Service; 6] = [
        Service::Frontdoor,
        Service::Protection,
        Service::Placements,
        Service::Finance,
        Service::Aggregator,
        Service::Intake,
    ];

    /// The domain services, whose measures the aggregator composes.
    pub const DOMAIN: [Service; 4] = [
        Service::Frontdoor,
        Service::Protection,
        Service::Placements,
        Service::Finance,
    ];

    /// Short name: the database file, the log name, the CLI word.
    pub fn name(self) -> &'static str {
        match self {
            Service::Frontdoor => "frontdoor",
            Service::Protection => "protection",
            Service::Placements => "placements",
            Service::Finance => "finance",
            Service::Aggregator => "aggregator",
            Service::Intake => "intake",
        }
    }

    /// The name its logs and traces carry.
    pub fn log_name(self) -> &'static str {
        match self {
            Service::Frontdoor => "csc-frontdoor",
            Service::Protection => "csc-protection",
            Service::Placements => "csc-placements",
            Service::Finance => "csc-finance",
            Service::Aggregator => "csc-aggregator",
            Service::Intake => "csc-intake",
        }
    }

    /// The fully qualified gRPC service name that health checks report.
    pub fn grpc_name(self) -> &'static str {
        match self {
            Service::Frontdoor => csc_frontdoor::SERVICE_NAME,
            Service::Protection => csc_protection::SERVICE_NAME,
            Service::Placements => csc_placements::SERVICE_NAME,
            Service::Finance => csc_finance::SERVICE_NAME,
            Service::Aggregator => csc_aggregator::SERVICE_NAME,
            Service::Intake => csc_intake::SERVICE_NAME,
        }
    }

    pub fn default_addr(self) -> &'static str {
        match self {
            Service::Frontdoor => FRONTDOOR_ADDR,
            Service::Protection => PROTECTION_ADDR,
            Service::Placements => PLACEMENTS_ADDR,
            Service::Finance => FINANCE_ADDR,
            Service::Aggregator => AGGREGATOR_ADDR,
            Service::Intake => INTAKE_ADDR,
        }
    }

    /// Connects to the service's database and applies its pending migrations.
    pub async fn migrate(self, url: &str) -> anyhow::Result<sea_orm::DatabaseConnection> {
        Ok(match self {
            Service::Frontdoor => db::connect_and_migrate::<csc_frontdoor::Migrator>(url).await?,
            Service::Protection => db::connect_and_migrate::<csc_protection::Migrator>(url).await?,
            Service::Placements => db::connect_and_migrate::<csc_placements::Migrator>(url).await?,
            Service::Finance => db::connect_and_migrate::<csc_finance::Migrator>(url).await?,
            Service::Aggregator => db::connect_and_migrate::<csc_aggregator::Migrator>(url).await?,
            Service::Intake => db::connect_and_migrate::<csc_intake::Migrator>(url).await?,
        })
    }

    /// The service's routes over a lazily connected pool, and the check its readiness waits
    /// for: the database reachable and its migrations applied (applied here first in `Apply`
    /// mode), and for the aggregator its reference tables loaded.
    async fn routes(
        self,
        url: &str,
        migrations: Migrations,
        addrs: &crate::ClientAddrs,
        server: &ServerArgs,
    ) -> anyhow::Result<(
        Routes,
        ReadyCheck,
        sea_orm::DatabaseConnection,
        Option<HttpDoor>,
    )> {
        let conn = db::connect_lazy(url).await?;
        let audit = conn.clone();
        let mut reporting_server = None;
        let (routes, ready) = match self {
            Service::Frontdoor => (
                Routes::new(csc_frontdoor::grpc_service(conn.clone())),
                ready_check::<csc_frontdoor::Migrator>(conn, migrations, None),
            ),
            Service::Protection => (
                Routes::new(csc_protection::grpc_service(conn.clone())),
                ready_check::<csc_protection::Migrator>(conn, migrations, None),
            ),
            Service::Placements => (
                Routes::new(csc_placements::grpc_service(conn.clone())),
                ready_check::<csc_placements::Migrator>(conn, migrations, None),
            ),
            Service::Finance => (
                Routes::new(csc_finance::grpc_service(conn.clone())),
                ready_check::<csc_finance::Migrator>(conn, migrations, None),
            ),
            Service::Aggregator => {
                let (svc, reporting) =
                    csc_aggregator::grpc_service(conn.clone(), addrs.upstreams(server)?)?;
                reporting_server = Some(HttpDoor::Reporting(svc.clone()));
                (
                    Routes::new(svc),
                    ready_check::<csc_aggregator::Migrator>(conn, migrations, Some(reporting)),
                )
            }
            Service::Intake => {
                let up = csc_intake::Upstreams::connect_lazy(
                    &addrs.frontdoor,
                    &addrs.protection,
                    &addrs.placements,
                    server.tls.client_config()?,
                )?;
                let svc = csc_intake::grpc_service(conn.clone(), up);
                reporting_server = Some(HttpDoor::Intake(svc.clone()));
                (
                    Routes::new(svc),
                    ready_check::<csc_intake::Migrator>(conn, migrations, None),
                )
            }
        };
        Ok((routes, ready, audit, reporting_server))
    }

    /// The database URL from the flags, else the service's SQLite file in the data directory.
    pub fn database_url(self, args: &DatabaseArgs) -> anyhow::Result<String> {
        let url = args.url_or(|| db::sqlite_url_in(&crate::default_data_dir(), self.name()))?;
        if url.starts_with("sqlite:") {
            ensure_parent_dir(&url)?;
        }
        Ok(url)
    }
}

/// Arguments of `csc serve <service>`.
#[derive(clap::Args, Clone)]
pub struct OneArgs {
    /// Address to listen on (default: the service's standard local address).
    #[arg(long, env = "CSC_LISTEN")]
    pub listen: Option<String>,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Apply pending migrations at start, or only check them and stay NOT_SERVING until a
    /// `csc migrate` Job has (several replicas on one database).
    #[arg(long, env = "CSC_MIGRATIONS", value_enum, default_value_t = Migrations::Apply)]
    pub migrations: Migrations,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Where the domain services are (the aggregator calls them).
    #[command(flatten)]
    pub addrs: crate::ClientAddrs,
}

/// One service, as in a Kubernetes pod: serve until SIGTERM/SIGINT, ready once the database is
/// reachable and migrated.
pub async fn one(service: Service, mut args: OneArgs) -> anyhow::Result<()> {
    let url = service.database_url(&args.db)?;
    // Without a JWKS, the development key in the data directory (docs/security.md).
    args.server.auth.dev_key_dir = Some(crate::default_data_dir());
    let shutdown = Shutdown::new();
    csc_runtime::server::cancel_on_signal(shutdown.clone());
    serve_metrics(&args.server)?;
    let addr = parse_listen(args.listen.as_deref().unwrap_or(service.default_addr()))?;
    let listener = csc_runtime::server::bind(addr, &format!("the {} service", service.name()))?;
    run_with(
        service,
        listener,
        &url,
        args.migrations,
        &args.server,
        &args.addrs,
        shutdown,
    )
    .await
}

/// Serves Prometheus metrics when `--metrics-listen` asks for them (once per process).
fn serve_metrics(server: &ServerArgs) -> anyhow::Result<()> {
    if let Some(addr) = &server.metrics_listen {
        csc_runtime::metrics::install(parse_listen(addr)?)?;
    }
    Ok(())
}

/// Serves `service` on `listener` against the database at `url` until `shutdown`, applying its
/// migrations first.
pub async fn run(
    service: Service,
    listener: TcpListener,
    url: &str,
    server: &ServerArgs,
    addrs: &crate::ClientAddrs,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    run_with(
        service,
        listener,
        url,
        Migrations::Apply,
        server,
        addrs,
        shutdown,
    )
    .await
}

/// As [`run`], applying or only checking migrations.
pub async fn run_with(
    service: Service,
    listener: TcpListener,
    url: &str,
    migrations: Migrations,
    server: &ServerArgs,
    addrs: &crate::ClientAddrs,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mode =
        csc_runtime::auth::Mode::from_args(&server.auth, server.auth.dev_key_dir.as_deref())?;
    let (routes, ready, db, reporting) = service.routes(url, migrations, addrs, server).await?;
    // Every service keeps an audit log: of child-level calls and writes in the domain services,
    // of report generations and fetches in the aggregator.
    let guard = Arc::new(
        csc_runtime::auth::Guard::new(mode, Some(db), &[service.grpc_name()])
            .with_admission(server.admission()),
    );
    let http = match (&server.http_listen, reporting) {
        (Some(addr), Some(svc)) => Some(http_api(addr, svc, guard.clone(), server)?),
        _ => None,
    };
    let names = [service.grpc_name()];
    let grpc = csc_runtime::serve(
        listener,
        &names,
        routes,
        server,
        shutdown.clone(),
        ready,
        guard,
    );
    match http {
        None => grpc.await,
        Some((listener, router)) => {
            let http = async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(shutdown.cancelled_owned())
                    .await
                    .map_err(|e| anyhow::anyhow!("the {} service's HTTP port: {e}", service.name()))
            };
            tokio::try_join!(grpc, http).map(|_| ())
        }
    }
}

type ReportingServer = csc_proto::reporting::reporting_service_server::ReportingServiceServer<
    csc_aggregator::Reporting,
>;

/// A service with an HTTP door of its own: the aggregator's read API, the intake's DfE endpoint.
#[derive(Clone)]
enum HttpDoor {
    Reporting(ReportingServer),
    Intake(csc_proto::intake::intake_service_server::IntakeServiceServer<csc_intake::Intake>),
}

/// The aggregator's HTTP read API on `addr`: its routes over the very stack the gRPC port
/// serves (metrics, then the guard, then the service), so a call through either door is
/// authenticated, scoped, shed and audited by the same code.
fn http_api(
    addr: &str,
    door: HttpDoor,
    guard: Arc<csc_runtime::auth::Guard>,
    server: &ServerArgs,
) -> anyhow::Result<(tokio::net::TcpListener, axum::Router)> {
    if server.tls.tls_cert_file.is_some() {
        anyhow::bail!(
            "--http-listen does not serve TLS yet, and this server is configured for TLS: \
             terminate TLS for the HTTP port at the ingress and leave --http-listen on a \
             private address, or leave it unset"
        );
    }
    let layers = tower::ServiceBuilder::new()
        .layer(csc_runtime::metrics::MetricsLayer)
        .layer(csc_runtime::auth::AuthLayer(guard));
    let timeout = std::time::Duration::from_secs(server.request_timeout_secs);
    let (router, what) = match door {
        HttpDoor::Reporting(svc) => (
            csc_aggregator::http::router(
                tower::util::BoxCloneSyncService::new(layers.service(svc)),
                timeout,
            ),
            "the aggregator's HTTP read API",
        ),
        HttpDoor::Intake(svc) => (
            csc_intake::http::router(
                tower::util::BoxCloneSyncService::new(layers.service(svc)),
                timeout,
            ),
            "the intake's DfE CSC API endpoint",
        ),
    };
    let listener = csc_runtime::server::bind(parse_listen(addr)?, what)?;
    tracing::info!(addr = %addr, "serving {what}");
    Ok((listener, router))
}

/// The readiness check of a service whose schema is `M`: see [`Service::routes`].
fn ready_check<M: MigratorTrait + 'static>(
    conn: sea_orm::DatabaseConnection,
    migrations: Migrations,
    reporting: Option<Arc<csc_aggregator::Reporting>>,
) -> ReadyCheck {
    // Applied once; later checks only read (they run every 10 s, beside the service's writes).
    let applied = Arc::new(std::sync::atomic::AtomicBool::new(false));
    Box::new(move || {
        let (conn, reporting, applied) = (conn.clone(), reporting.clone(), applied.clone());
        Box::pin(async move {
            if migrations == Migrations::Apply && !applied.load(Ordering::Relaxed) {
                M::up(&conn, None)
                    .await
                    .map_err(|e| anyhow::anyhow!("applying migrations: {e}"))?;
                applied.store(true, Ordering::Relaxed);
            }
            db::check_ready::<M>(&conn).await?;
            if let Some(r) = reporting {
                r.load_reference().await?;
            }
            Ok(())
        })
    })
}

/// The file a `sqlite:` URL names (its query, `?mode=rwc` and the like, left off).
pub fn sqlite_file(sqlite_url: &str) -> &std::path::Path {
    let path = sqlite_url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    std::path::Path::new(path.split('?').next().unwrap_or(path))
}

fn ensure_parent_dir(sqlite_url: &str) -> anyhow::Result<()> {
    if let Some(parent) = sqlite_file(sqlite_url).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    Ok(())
}

#[derive(clap::Args, Clone)]
pub struct AllArgs {
    /// Directory holding each service's SQLite file (default: $CSC_DATA_DIR, else ./csc-data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub addrs: crate::ClientAddrs,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Every service that exists, each on its own SQLite file under the data directory.
pub async fn all(args: AllArgs) -> anyhow::Result<()> {
    let shutdown = Shutdown::new();
    csc_runtime::server::cancel_on_signal(shutdown.clone());
    serve_metrics(&args.server)?;
    let mut listeners = Vec::new();
    for s in Service::ALL {
        let addr = parse_listen(args.addrs.of(s))?;
        listeners.push((
            s,
            csc_runtime::server::bind(addr, &format!("the {} service", s.name()))?,
        ));
    }
    run_all(args, listeners, shutdown).await
}

/// `serve all` on already-bound listeners (the demo and tests bind ephemeral ports first).
pub async fn run_all(
    args: AllArgs,
    listeners: Vec<(Service, TcpListener)>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let dir = args
        .data_dir
        .clone()
        .unwrap_or_else(crate::default_data_dir);
    std::fs::create_dir_all(&dir)?;
    tracing::info!(data_dir = %dir.display(), "serving all services");
    let mut args = args;
    if args.server.auth.auth_jwks_file.is_none() && !args.server.auth.insecure_no_auth {
        // One development key for the suite, made here once, and used by this process's own
        // clients too (the demo, the benchmarks, tests).
        csc_runtime::auth::token::DevKey::in_dir(&dir).ensure()?;
        args.server.auth.dev_key_dir = Some(dir.clone());
        csc_runtime::client::use_dev_key(&dir);
    }
    let mut tasks = tokio::task::JoinSet::new();
    let listeners_addrs: Vec<(Service, String)> = listeners
        .iter()
        .filter_map(|(s, l)| l.local_addr().ok().map(|a| (*s, a.to_string())))
        .collect();
    for (service, listener) in listeners {
        let url = db::sqlite_url_in(&dir, service.name());
        let (mut server, shutdown) = (args.server.clone(), shutdown.clone());
        // One process, two HTTP doors: the aggregator's on --http-listen, the intake's on
        // --intake-http-listen.
        if service == Service::Intake {
            server.http_listen = server.intake_http_listen.clone();
        }
        // The aggregator calls the domain services where this process serves them.
        let mut addrs = args.addrs.clone();
        for (s, l) in &listeners_addrs {
            addrs.set(*s, l.clone());
        }
        tasks.spawn(async move {
            (
                service,
                run(service, listener, &url, &server, &addrs, shutdown).await,
            )
        });
    }
    // A service that stops (or fails) stops the others: half a suite is not what was asked for.
    let mut result = Ok(());
    while let Some(done) = tasks.join_next().await {
        let (service, r) = done?;
        if let Err(e) = r {
            tracing::error!(service = service.name(), error = %e, "service failed");
            if result.is_ok() {
                result = Err(e.context(format!("the {} service", service.name())));
            }
        }
        shutdown.cancel();
    }
    result
}

/// Binds every service on an ephemeral port (the demo, the benchmarks and the tests never
/// collide with a suite already running), with the addresses to reach them.
pub async fn bind_all() -> anyhow::Result<(Vec<(Service, TcpListener)>, crate::ClientAddrs)> {
    let mut listeners = Vec::new();
    let mut addrs = crate::ClientAddrs::default();
    for service in Service::ALL {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        addrs.set(service, l.local_addr()?.to_string());
        listeners.push((service, l));
    }
    Ok((listeners, addrs))
}

/// Waits until every service answers its health check as SERVING.
pub async fn wait_until_serving(addrs: &crate::ClientAddrs) -> anyhow::Result<()> {
    for service in Service::ALL {
        let mut last = None;
        let mut ok = false;
        for _ in 0..200 {
            match serving(addrs.of(service), service.grpc_name()).await {
                Ok(true) => {
                    ok = true;
                    break;
                }
                Ok(false) => {}
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        if !ok {
            return Err(last.unwrap_or_else(|| {
                anyhow::anyhow!("the {} service did not become ready", service.name())
            }));
        }
    }
    Ok(())
}

/// Whether the server at `addr` reports the gRPC service `name` SERVING.
pub async fn serving(addr: &str, name: &str) -> anyhow::Result<bool> {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let channel = csc_runtime::client::endpoint(addr)?.connect().await?;
    let r = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: name.to_owned(),
        })
        .await?;
    Ok(r.into_inner().status == ServingStatus::Serving as i32)
}
