//! `csc`: the suite's one binary. Serves a service (or all of them), migrates, imports statutory
//! and local files through the services' public APIs, prints measures, and runs benchmarks.

use clap::{Parser, Subcommand};
use csc::{
    bench, coverage, demo, generate, import, measures, report, security, serve, serve::Service,
};
use csc_runtime::config::DatabaseArgs;

/// mimalloc, not glibc's malloc: decoding SQLite rows on every worker thread spent a quarter of
/// a report's CPU in glibc's arena locks and free-list upkeep (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How often a server hands the memory it has freed back to the system.
const RETURN_FREED_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// mimalloc returns freed pages to the system a second after they are freed, but only when the
/// process next allocates or frees, so a server at rest after an import kept a hundred MiB or
/// more of what its SQLite caches and batches had used (docs/performance.md). Every
/// [`RETURN_FREED_EVERY`] this returns them, whether the server is busy or at rest. The suite's
/// only unsafe code (the workspace denies it elsewhere).
#[allow(unsafe_code)]
fn return_freed_memory() {
    tokio::spawn(async {
        let mut tick = tokio::time::interval(RETURN_FREED_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // SAFETY: `mi_collect` takes no pointer and may be called from any thread at any
            // time; it touches only the allocator's own state, under its own synchronisation.
            unsafe { libmimalloc_sys::mi_collect(true) };
        }
    });
}

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
        // Boxed: a server's flags are many times the size of any other command's.
        #[command(subcommand)]
        which: Box<ServeWhich>,
    },
    /// Apply a service's database migrations and exit (a Kubernetes Job per release).
    Migrate {
        service: Service,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Ask a server's gRPC health service; exit 0 only when it answers SERVING (for
    /// container HEALTHCHECKs and operators: the same check as the Kubernetes probes).
    Health {
        /// The server's address.
        #[arg(long, default_value = csc_runtime::config::FRONTDOOR_ADDR)]
        addr: String,
        /// The gRPC service name to ask about ("" is the server as a whole).
        #[arg(long, default_value = "")]
        service: String,
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
        addrs: csc::DomainAddrs,
    },
    /// What each service holds for an LA: records per kind with their dates, and the files
    /// imported (the data every report of the LA rests on).
    Coverage(coverage::CoverageArgs),
    /// Compose the quarterly performance analysis for an LA and period (or fetch one kept
    /// earlier) as HTML, Markdown, JSON, XLSX or CSV.
    Report(report::ReportArgs),
    /// Benchmarking groups for group reports (`csc report --group`): custom groups, the nine
    /// regions, each LA's statistical neighbours.
    Group {
        #[command(subcommand)]
        what: report::GroupCommand,
    },
    /// Analysts' commentary, per report section, LA and period.
    Commentary {
        #[command(subcommand)]
        what: report::CommentaryCommand,
    },
    /// The 0-17 populations that rates per 10,000 use.
    Population {
        #[command(subcommand)]
        what: report::PopulationCommand,
    },
    /// The DfE and ONS reference tables the report's benchmarks come from.
    Reference {
        #[command(subcommand)]
        what: report::ReferenceCommand,
    },
    /// Write a synthetic LA (or several) as the files the importers read.
    Generate(generate::GenerateArgs),
    /// Generate a county, serve every service on embedded SQLite, import it and write the latest
    /// complete quarter's report in every format: the first thing to run.
    Demo(demo::DemoArgs),
    /// Measure ingest and measure speed (figures for docs/performance.md).
    Bench(bench::BenchArgs),
    /// Bearer tokens: issue one with a key you hold, or make a signing key (docs/security.md).
    Token {
        #[command(subcommand)]
        what: security::TokenCommand,
    },
    /// Who touched a child's records: every audited call, from each service's audit log.
    Audit(security::AuditArgs),
    /// Post what the suite holds to another system: the DfE CSC API.
    Send {
        #[command(subcommand)]
        what: SendCommand,
    },
    /// Write what the suite holds as another system's files.
    Export {
        #[command(subcommand)]
        what: ExportCommand,
    },
}

#[derive(Subcommand)]
enum SendCommand {
    /// The children changed since the last acknowledged send (or all, --full) to the DfE CSC
    /// API, in batches of 100, with OAuth2 client credentials and the DfE's retry policy;
    /// resumable: run it again after a stop and no acknowledged batch is sent twice.
    #[command(name = "dfe-api")]
    DfeApi(Box<csc::dfe_send::SendArgs>),
}

#[derive(Subcommand)]
enum ExportCommand {
    /// DfE CSC API payload files (at most 100 child records each, every record valid against
    /// the DfE's schema) of every child the services hold records of for an LA.
    #[command(name = "dfe-api")]
    DfeApi {
        /// DfE three-digit LA code.
        #[arg(long)]
        la: String,
        /// Folder to write the payload files in.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Only the children whose record changed since the last send acknowledged in this
        /// `csc send dfe-api` state folder (and a purge for each child gone since).
        #[arg(long, conflicts_with_all = ["since", "full"])]
        state: Option<std::path::PathBuf>,
        /// Only the children with a record dated (started, ended, referred) on or after this day.
        #[arg(long, conflicts_with = "full")]
        since: Option<chrono::NaiveDate>,
        /// Every child held (the default without --state or --since).
        #[arg(long)]
        full: bool,
        #[command(flatten)]
        addrs: csc::DomainAddrs,
    },
}

#[derive(Subcommand)]
enum ServeWhich {
    /// The front door service.
    Frontdoor(serve::OneArgs),
    /// The child protection service.
    Protection(serve::OneArgs),
    /// The looked-after children service.
    Placements(serve::OneArgs),
    /// The placement costs service.
    Finance(serve::OneArgs),
    /// The reporting service (aggregator), which calls the other four.
    Aggregator(serve::OneArgs),
    /// The DfE CSC API intake: the DfE's daily payload over HTTP (`--http-listen`) and gRPC,
    /// applied to the front door, child protection and looked-after children services.
    Intake(serve::OneArgs),
    /// Every service in one process, each on its own SQLite file under the data directory,
    /// talking to each other over gRPC exactly as in Kubernetes.
    All(serve::AllArgs),
}

fn main() -> std::process::ExitCode {
    // An operator gets the error and its causes on one line each, not a backtrace.
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // An import that refused records or files, a report with sections not ok: it ran to its
        // end and said what; its own exit status (README, "Exit status").
        Err(ref e) if let Some(i) = e.downcast_ref::<csc::Incomplete>() => {
            eprintln!("csc {}: {}", i.command, i.message);
            std::process::ExitCode::from(i.exit)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve { which } => {
                return_freed_memory();
                let (service, args) = match *which {
                    ServeWhich::Frontdoor(a) => (Service::Frontdoor, a),
                    ServeWhich::Protection(a) => (Service::Protection, a),
                    ServeWhich::Placements(a) => (Service::Placements, a),
                    ServeWhich::Finance(a) => (Service::Finance, a),
                    ServeWhich::Aggregator(a) => (Service::Aggregator, a),
                    ServeWhich::Intake(a) => (Service::Intake, a),
                    ServeWhich::All(args) => {
                        let _telemetry = csc_runtime::telemetry::init("csc");
                        return serve::all(args).await;
                    }
                };
                let _telemetry = csc_runtime::telemetry::init(service.log_name());
                serve::one(service, args).await
            }
            Command::Migrate { service, db } => {
                let _telemetry = csc_runtime::telemetry::init("csc-migrate");
                service.migrate(&service.database_url(&db)?).await?;
                eprintln!("{}: migrations applied", service.name());
                Ok(())
            }
            Command::Health { addr, service } => {
                if serve::serving(&addr, &service).await? {
                    csc::out("SERVING\n");
                    Ok(())
                } else {
                    anyhow::bail!("{addr} does not report {service:?} SERVING")
                }
            }
            Command::Import { what } => import::run(what).await,
            Command::Measures {
                service,
                la,
                period,
                format,
                addrs,
            } => measures::print(service, addrs.all().of(service), &la, &period, format).await,
            Command::Report(args) => report::report(args).await,
            Command::Coverage(args) => coverage::run(args).await,
            Command::Group { what } => report::group(what).await,
            Command::Commentary { what } => report::commentary(what).await,
            Command::Population { what } => report::population(what).await,
            Command::Reference { what } => report::reference(what).await,
            Command::Generate(args) => {
                for g in generate::run(&args)? {
                    csc::out(&format!("{}\n", g.summary()));
                }
                Ok(())
            }
            Command::Demo(args) => demo::run(args).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Token { what } => security::token(what),
            Command::Audit(args) => security::audit(args).await,
            Command::Send {
                what: SendCommand::DfeApi(args),
            } => csc::dfe_send::run(*args).await,
            Command::Export {
                what:
                    ExportCommand::DfeApi {
                        la,
                        out,
                        state,
                        since,
                        addrs,
                        ..
                    },
            } => {
                let which = match (state, since) {
                    (Some(s), _) => csc::dfe_export::Which::ChangedSinceSend(s),
                    (None, Some(d)) => csc::dfe_export::Which::Since(d),
                    (None, None) => csc::dfe_export::Which::Full,
                };
                csc::dfe_export::run(&addrs.all(), &la, &out, which).await
            }
        }
    })
}
