//! `csc`: the suite's one binary. Serves a service (or all of them), migrates, imports statutory
//! and local files through the services' public APIs, prints measures, and runs benchmarks.

use clap::{Parser, Subcommand, ValueEnum};
use csc::{ClientAddrs, bench, default_data_dir, demo, import, measures, serve};
use csc_runtime::config::{DatabaseArgs, FRONTDOOR_ADDR, ServerArgs};

#[derive(Parser)]
#[command(
    name = "csc",
    version,
    about = "Children's social care performance suite"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one service, or every service in one process.
    Serve {
        #[command(subcommand)]
        which: ServeWhich,
    },
    /// Apply a service's database migrations and exit (a Kubernetes Job per release).
    Migrate {
        service: Service,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Import a statutory return or a local file through the services' APIs.
    Import {
        #[command(subcommand)]
        what: import::ImportCommand,
    },
    /// Print a service's measures for an LA and period.
    Measures {
        service: Service,
        /// DfE three-digit LA code.
        #[arg(long)]
        la: String,
        /// "2018-19-Q1" or "2018-19".
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value_t = measures::Format::Table)]
        format: measures::Format,
        #[command(flatten)]
        addrs: ClientAddrs,
    },
    /// Serve everything on a fresh data directory, import a CIN census file and print the front
    /// door's measures: the first thing to run.
    Demo(demo::DemoArgs),
    /// Measure ingest and measure speed (figures for docs/performance.md).
    Bench(bench::BenchArgs),
}

#[derive(Subcommand)]
enum ServeWhich {
    /// The front door service.
    Frontdoor {
        /// Address to listen on.
        #[arg(long, env = "CSC_LISTEN", default_value = FRONTDOOR_ADDR)]
        listen: String,
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Every service in one process, each on its own SQLite file under the data directory,
    /// talking to each other over gRPC exactly as in Kubernetes.
    All(serve::AllArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Service {
    Frontdoor,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve {
                which: ServeWhich::Frontdoor { listen, db, server },
            } => {
                let _telemetry = csc_runtime::telemetry::init("csc-frontdoor");
                serve::frontdoor(&listen, &db, &server).await
            }
            Command::Serve {
                which: ServeWhich::All(args),
            } => {
                let _telemetry = csc_runtime::telemetry::init("csc");
                serve::all(args).await
            }
            Command::Migrate {
                service: Service::Frontdoor,
                db,
            } => {
                let _telemetry = csc_runtime::telemetry::init("csc-migrate");
                let url =
                    db.url_or(|| csc_runtime::db::sqlite_url_in(&default_data_dir(), "frontdoor"))?;
                csc_runtime::db::connect_and_migrate::<csc_frontdoor::Migrator>(&url).await?;
                eprintln!("frontdoor: migrations applied");
                Ok(())
            }
            Command::Import { what } => import::run(what).await,
            Command::Measures {
                service: Service::Frontdoor,
                la,
                period,
                format,
                addrs,
            } => measures::print_frontdoor(&addrs.frontdoor, &la, &period, format).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Bench(args) => bench::run(args).await,
        }
    })
}
