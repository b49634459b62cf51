//! `csc serve`: one service, or all of them in one process.

use std::path::PathBuf;

use csc_runtime::{
    Shutdown,
    config::{DatabaseArgs, FRONTDOOR_ADDR, ServerArgs, parse_listen},
    db,
};
use tokio::net::TcpListener;
use tonic::service::Routes;

/// Connects to the front door's database, applies migrations, and serves until SIGTERM/SIGINT.
pub async fn frontdoor(
    listen: &str,
    db_args: &DatabaseArgs,
    server: &ServerArgs,
) -> anyhow::Result<()> {
    let url = db_args.url_or(|| db::sqlite_url_in(&crate::default_data_dir(), "frontdoor"))?;
    if url.starts_with("sqlite:") {
        ensure_parent_dir(&url)?;
    }
    let shutdown = Shutdown::new();
    csc_runtime::server::cancel_on_signal(shutdown.clone());
    let listener = TcpListener::bind(parse_listen(listen)?).await?;
    run_frontdoor(listener, &url, server, shutdown).await
}

/// Serves the front door on `listener` against the database at `url` until `shutdown`.
pub async fn run_frontdoor(
    listener: TcpListener,
    url: &str,
    server: &ServerArgs,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let conn = db::connect_and_migrate::<csc_frontdoor::Migrator>(url).await?;
    let routes = Routes::new(csc_frontdoor::grpc_service(conn));
    csc_runtime::serve(
        listener,
        &[csc_frontdoor::SERVICE_NAME],
        routes,
        server,
        shutdown,
    )
    .await
}

fn ensure_parent_dir(sqlite_url: &str) -> anyhow::Result<()> {
    let path = sqlite_url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    if let Some(parent) = std::path::Path::new(path).parent()
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
    /// Address of the front door service.
    #[arg(long = "frontdoor", env = "CSC_FRONTDOOR_ADDR", default_value = FRONTDOOR_ADDR)]
    pub frontdoor: String,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Every service that exists, each on its own SQLite file under the data directory.
pub async fn all(args: AllArgs) -> anyhow::Result<()> {
    let shutdown = Shutdown::new();
    csc_runtime::server::cancel_on_signal(shutdown.clone());
    let listener = TcpListener::bind(parse_listen(&args.frontdoor)?).await?;
    run_all(args, listener, shutdown).await
}

/// `serve all` on already-bound listeners (the demo and tests bind ephemeral ports first).
pub async fn run_all(
    args: AllArgs,
    frontdoor: TcpListener,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let dir = args
        .data_dir
        .clone()
        .unwrap_or_else(crate::default_data_dir);
    std::fs::create_dir_all(&dir)?;
    tracing::info!(data_dir = %dir.display(), "serving all services");
    let fd = tokio::spawn({
        let url = db::sqlite_url_in(&dir, "frontdoor");
        let server = args.server.clone();
        let shutdown = shutdown.clone();
        async move { run_frontdoor(frontdoor, &url, &server, shutdown).await }
    });
    // A service that fails stops the others: half a suite is not what an operator asked for.
    let result = fd.await?;
    shutdown.cancel();
    result
}
