//! `csc import`: statutory returns and local files, sent through the services' public APIs in
//! batches. Every record the service refuses is reported with where it came from (child, element
//! path or line and column) and why; every valid record lands; importing the same file again
//! changes nothing.

pub mod annex_a;
mod cin;
pub mod dates;
#[doc(hidden)]
pub mod fuzz;
pub mod input;
mod local;
#[cfg(test)]
mod real_files;
pub mod record;
pub mod ssda903;

pub use cin::{import as import_cin, la_and_year as cin_la_and_year};
pub use local::{import_contacts, import_costs, import_feedback, import_missing, import_strategy};

mod summary;
mod upload;

use summary::incomplete;
pub use summary::{EXIT_REFUSALS, ImportSummary, Origin, Problem, Tally};
pub use upload::{Upload, Uploader};

use std::path::PathBuf;

use clap::Subcommand;

use crate::ClientAddrs;
use crate::client::{
    FrontDoorClient, ProtectionClient, connect_finance, connect_frontdoor, connect_protection,
};

/// The services a CIN census feeds: the front door (referrals, assessments, S47 enquiries,
/// ICPCs) and child protection (CIN plans, CP plans and their reviews).
pub struct CinClients {
    pub frontdoor: FrontDoorClient,
    pub protection: ProtectionClient,
}

impl CinClients {
    pub async fn connect(addrs: &ClientAddrs) -> anyhow::Result<Self> {
        Ok(Self {
            frontdoor: connect_frontdoor(&addrs.frontdoor).await?,
            protection: connect_protection(&addrs.protection).await?,
        })
    }
}

/// Records per request: a few hundred kilobytes, well inside the message limits, and large enough
/// that per-request costs vanish.
pub const BATCH: usize = 2_000;

#[derive(Subcommand)]
pub enum ImportCommand {
    /// CIN census XML (any layout 2017-2026): referrals, assessments, S47 enquiries and ICPCs go
    /// to the front door service; CIN plans and CP plans with their reviews to child protection.
    Cin {
        /// One or more CIN census XML files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// LA code to file the records under (default: the header's LEA).
        #[arg(long)]
        la: Option<String>,
        #[command(flatten)]
        opts: ImportOpts,
    },
    /// An Ofsted Annex A (ILACS) workbook, or a folder of its lists as CSV files: contacts,
    /// early help assessments, referrals, assessments (with List 6's closure reasons), S47
    /// enquiries and ICPCs go to the front door service; CP plans to child protection; List 8's
    /// care summaries and reviews to the looked-after children service. Records the CIN census
    /// or 903 also holds are updated, never duplicated, and nothing only they hold is erased
    /// (docs/formats.md).
    #[command(name = "annex-a")]
    AnnexA {
        /// An .xlsx workbook, or a folder of per-list CSV files.
        path: PathBuf,
        /// LA code to file the records under (Annex A does not name its LA).
        #[arg(long)]
        la: String,
        #[command(flatten)]
        opts: ImportOpts,
    },
    /// Contacts (CSV; columns in docs/formats.md).
    Contacts {
        file: PathBuf,
        /// LA code for rows without a la_code column.
        #[arg(long)]
        la: Option<String>,
        #[command(flatten)]
        opts: ImportOpts,
    },
    /// Strategy discussions with agencies invited and attending (CSV; columns in docs/formats.md).
    Strategy {
        file: PathBuf,
        #[arg(long)]
        la: Option<String>,
        #[command(flatten)]
        opts: ImportOpts,
    },
    /// An SSDA903 return: a folder of its CSV tables, one table, or the XML export. Children,
    /// episodes, social worker episodes and reviews go to the looked-after children service,
    /// missing episodes to child protection. Import several years oldest first.
    #[command(name = "903")]
    Ssda903 {
        /// A folder of 903 CSV tables, one CSV table, or a 903 XML file.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// LA code to file the records under (a 903 does not name its LA).
        #[arg(long)]
        la: Option<String>,
        /// The return's collection year, for the report.
        #[arg(long)]
        year: Option<i32>,
        #[command(flatten)]
        opts: ImportOpts,
    },
    /// Missing and away episodes with return interviews, for children at home and in care (CSV;
    /// columns in docs/formats.md).
    Missing {
        file: PathBuf,
        #[arg(long)]
        la: Option<String>,
        #[command(flatten)]
        opts: ImportOpts,
    },
    /// Service-user feedback responses (CSV; columns in docs/formats.md).
    Feedback {
        file: PathBuf,
        #[arg(long)]
        la: Option<String>,
        #[command(flatten)]
        opts: ImportOpts,
    },
    /// Placement costs (CSV; columns in docs/formats.md): the weekly cost of each placement,
    /// with its category or the 903 PLACE and PLACE_PROVIDER to map it from.
    Costs {
        file: PathBuf,
        #[arg(long)]
        la: Option<String>,
        #[command(flatten)]
        opts: ImportOpts,
    },
    /// DfE CSC API payload files (the DfE's daily children's social care JSON): each file, or a
    /// folder's .json files in name order, sent to the intake in requests of 100 records, as the
    /// DfE endpoint takes them (docs/formats.md, "DfE CSC API payload").
    #[command(name = "dfe-api")]
    DfeApi {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// LA code the payload is for (the DfE path's la_code).
        #[arg(long)]
        la: String,
        /// Address of the DfE CSC API intake.
        #[arg(long = "intake", env = "CSC_INTAKE_ADDR", default_value = csc_runtime::config::INTAKE_ADDR)]
        intake: String,
        /// Also write every rejected record and warning to this CSV file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Everything in a folder `csc generate` wrote: its CIN censuses oldest first, its 903
    /// return, and its local CSV files.
    Generated(GeneratedArgs),
}

#[derive(clap::Args, Clone)]
pub struct GeneratedArgs {
    /// A folder `csc generate` wrote.
    pub dir: PathBuf,
    /// LA code (default: the LEA of its CIN census files).
    #[arg(long)]
    pub la: Option<String>,
    #[command(flatten)]
    pub opts: ImportOpts,
}

#[derive(clap::Args, Clone)]
pub struct ImportOpts {
    #[command(flatten)]
    pub addrs: crate::DomainAddrs,
    /// Also write every rejected record and warning to this CSV file.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// Imports one file with `$import` (a future that reports into `$report`), then records it in
/// the services that took its records, as `$source` (`record::Recorder`); the import's value.
macro_rules! recorded {
    ($rec:expr, $report:expr, $source:literal, $path:expr, $import:expr) => {{
        let before = $report.begin_file();
        let value = $import.await?;
        $rec.record($source, $path, before, $report).await;
        value
    }};
}

pub async fn run(cmd: ImportCommand) -> anyhow::Result<()> {
    if let ImportCommand::DfeApi {
        paths,
        la,
        intake,
        report: csv,
    } = cmd
    {
        let mut report = ImportSummary::default();
        crate::dfe_api::import(&paths, &la, &intake, &mut report).await?;
        return finish(report, csv);
    }
    let (report, opts) = match cmd {
        ImportCommand::Cin { files, la, opts } => {
            let mut clients = CinClients::connect(&opts.addrs.all()).await?;
            let mut report = ImportSummary::default();
            let mut rec = record::Recorder::new(&opts.addrs.all());
            for f in &files {
                recorded!(rec, &mut report, "cin_census", f, {
                    cin::import(&mut clients, f, la.as_deref(), &mut report)
                });
            }
            (report, opts)
        }
        ImportCommand::AnnexA { path, la, opts } => {
            let mut clients = CinClients::connect(&opts.addrs.all()).await?;
            let mut report = ImportSummary::default();
            recorded!(
                record::Recorder::new(&opts.addrs.all()),
                &mut report,
                "annex_a",
                &path,
                annex_a::import(
                    &mut clients,
                    &opts.addrs.placements,
                    &path,
                    &la,
                    &mut report
                )
            );
            (report, opts)
        }
        ImportCommand::Contacts { file, la, opts } => {
            let mut client = connect_frontdoor(&opts.addrs.frontdoor).await?;
            let mut report = ImportSummary::default();
            recorded!(
                record::Recorder::new(&opts.addrs.all()),
                &mut report,
                "contacts",
                &file,
                local::import_contacts(&mut client, &file, la.as_deref(), &mut report)
            );
            (report, opts)
        }
        ImportCommand::Strategy { file, la, opts } => {
            let mut client = connect_frontdoor(&opts.addrs.frontdoor).await?;
            let mut report = ImportSummary::default();
            recorded!(
                record::Recorder::new(&opts.addrs.all()),
                &mut report,
                "strategy",
                &file,
                local::import_strategy(&mut client, &file, la.as_deref(), &mut report)
            );
            (report, opts)
        }
        ImportCommand::Ssda903 {
            paths,
            la,
            year,
            opts,
        } => {
            let mut clients = ssda903::Clients903::connect(&opts.addrs.all()).await?;
            let mut report = ImportSummary::default();
            let mut las = std::collections::BTreeSet::new();
            let mut rec = record::Recorder::new(&opts.addrs.all());
            for p in &paths {
                las.extend(recorded!(rec, &mut report, "ssda903", p, {
                    ssda903::import(&mut clients, p, la.as_deref(), year, &mut report)
                }));
            }
            for la in &las {
                ssda903::history_warnings(&mut clients.placements, la, &mut report).await?;
            }
            (report, opts)
        }
        ImportCommand::Missing { file, la, opts } => {
            let mut client = connect_protection(&opts.addrs.protection).await?;
            let mut report = ImportSummary::default();
            recorded!(
                record::Recorder::new(&opts.addrs.all()),
                &mut report,
                "missing",
                &file,
                local::import_missing(&mut client, &file, la.as_deref(), &mut report)
            );
            (report, opts)
        }
        ImportCommand::Feedback { file, la, opts } => {
            let mut client = connect_protection(&opts.addrs.protection).await?;
            let mut report = ImportSummary::default();
            recorded!(
                record::Recorder::new(&opts.addrs.all()),
                &mut report,
                "feedback",
                &file,
                local::import_feedback(&mut client, &file, la.as_deref(), &mut report)
            );
            (report, opts)
        }
        ImportCommand::Costs { file, la, opts } => {
            let mut client = connect_finance(&opts.addrs.finance).await?;
            let mut report = ImportSummary::default();
            recorded!(
                record::Recorder::new(&opts.addrs.all()),
                &mut report,
                "costs",
                &file,
                local::import_costs(&mut client, &file, la.as_deref(), &mut report)
            );
            (report, opts)
        }
        ImportCommand::DfeApi { .. } => unreachable!("imported above"),
        ImportCommand::Generated(args) => {
            let mut report = ImportSummary::default();
            import_generated(
                &args.opts.addrs.all(),
                &args.dir,
                args.la.as_deref(),
                &mut report,
            )
            .await?;
            (report, args.opts)
        }
    };
    finish(report, opts.report)
}

/// Prints the summary, writes the CSV report when asked, and says what the exit status means.
pub(crate) fn finish(report: ImportSummary, csv: Option<PathBuf>) -> anyhow::Result<()> {
    crate::out(&report.render());
    if let Some(path) = csv {
        report.write_csv(&path)?;
        crate::out(&format!(
            "Every refused record and warning is listed in {}\n",
            path.display()
        ));
    }
    if report.is_clean() {
        Ok(())
    } else {
        // The summary above said what; this line says only what the exit status means.
        Err(incomplete(format!(
            "exit status {EXIT_REFUSALS}: not everything was imported (the summary above lists \
             what was refused)"
        ))
        .into())
    }
}

/// The files of a generated folder that depend on no other, imported with their own summary:
/// the costs (finance) and the feedback survey (child protection).
async fn independent_files(
    addrs: ClientAddrs,
    dir: PathBuf,
    la: String,
) -> anyhow::Result<ImportSummary> {
    let mut report = ImportSummary::default();
    let report = &mut report;
    let mut rec = record::Recorder::new(&addrs);
    let mut fin = connect_finance(&addrs.finance).await?;
    let path = dir.join("costs.csv");
    recorded!(
        rec,
        report,
        "costs",
        &path,
        local::import_costs(&mut fin, &path, Some(&la), report)
    );
    let mut prot = connect_protection(&addrs.protection).await?;
    let path = dir.join("feedback.csv");
    recorded!(
        rec,
        report,
        "feedback",
        &path,
        local::import_feedback(&mut prot, &path, Some(&la), report)
    );
    Ok(std::mem::take(report))
}

/// Imports a folder `csc generate` wrote, through every domain service; the LA it was filed
/// under.
pub async fn import_generated(
    addrs: &ClientAddrs,
    dir: &std::path::Path,
    la: Option<&str>,
    report: &mut ImportSummary,
) -> anyhow::Result<String> {
    let mut censuses: Vec<PathBuf> = std::fs::read_dir(dir.join("cin"))
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: {e} (not a folder `csc generate` wrote?)",
                dir.join("cin").display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    censuses.sort();
    let la = match la {
        Some(l) => l.to_owned(),
        None => {
            let first = censuses.first().ok_or_else(|| {
                anyhow::anyhow!("no CIN census XML in {}", dir.join("cin").display())
            })?;
            cin::la_and_year(first)?.0
        }
    };
    // Finance's costs and the feedback survey depend on no other file: they are sent beside the
    // rest, from a task of their own (stopped if the rest fails first).
    let mut beside = upload::AbortOnDrop(tokio::spawn(independent_files(
        addrs.clone(),
        dir.to_owned(),
        la.clone(),
    )));
    let mut clients = CinClients::connect(addrs).await?;
    let mut rec = record::Recorder::new(addrs);
    for f in &censuses {
        recorded!(rec, report, "cin_census", f, {
            cin::import(&mut clients, f, Some(&la), report)
        });
    }
    let mut fd = connect_frontdoor(&addrs.frontdoor).await?;
    let path = dir.join("contacts.csv");
    recorded!(
        rec,
        report,
        "contacts",
        &path,
        local::import_contacts(&mut fd, &path, Some(&la), report)
    );
    // The Annex A workbook's last 12 months: the same referrals, assessments, enquiries and plans
    // as the censuses (updated, never doubled) and the same contacts as the contacts file.
    let path = dir.join("annex_a.xlsx");
    if path.exists() {
        recorded!(rec, report, "annex_a", &path, {
            annex_a::import(&mut clients, &addrs.placements, &path, &la, report)
        });
    } else {
        report.notes.push(format!(
            "{}: not in the folder (written by `csc generate` since Annex A import); skipped",
            path.display()
        ));
    }
    // Then the strategy discussions (the front door) beside the 903 return and the missing
    // episodes (placements, then child protection): the 903 follows Annex A's looked-after
    // children and reviews, and updates them.
    let mut strategy_report = ImportSummary::default();
    let strategy = async {
        let report = &mut strategy_report;
        let mut rec = record::Recorder::new(addrs);
        let path = dir.join("strategy.csv");
        recorded!(
            rec,
            report,
            "strategy",
            &path,
            local::import_strategy(&mut fd, &path, Some(&la), report)
        );
        anyhow::Ok(())
    };
    let looked_after = async {
        let mut clients903 = ssda903::Clients903::connect(addrs).await?;
        let path = dir.join("ssda903");
        recorded!(
            rec,
            report,
            "ssda903",
            &path,
            ssda903::import(&mut clients903, &path, Some(&la), None, report)
        );
        ssda903::history_warnings(&mut clients903.placements, &la, report).await?;
        let mut prot = connect_protection(&addrs.protection).await?;
        let path = dir.join("missing.csv");
        recorded!(
            rec,
            report,
            "missing",
            &path,
            local::import_missing(&mut prot, &path, Some(&la), report)
        );
        anyhow::Ok(())
    };
    let (strategy, looked_after) = tokio::join!(strategy, looked_after);
    report.absorb(strategy_report);
    let beside = (&mut beside.0).await?;
    strategy?;
    looked_after?;
    report.absorb(beside?);
    Ok(la)
}
