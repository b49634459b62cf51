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

use std::{collections::BTreeMap, future::Future, path::PathBuf, time::Duration};

use clap::Subcommand;
use csc_proto::{
    common::BatchUpsertResponse,
    finance::{self as fpb, finance_service_client::FinanceServiceClient},
    frontdoor::{self as pb, front_door_service_client::FrontDoorServiceClient},
    placements::{self as lpb, placements_service_client::PlacementsServiceClient},
    protection::{self as ppb, protection_service_client::ProtectionServiceClient},
};
use csc_runtime::client::AuthChannel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::ClientAddrs;
use dates::DateTally;

pub type FrontDoorClient = FrontDoorServiceClient<AuthChannel>;
pub type FinanceClient = FinanceServiceClient<AuthChannel>;
pub type ProtectionClient = ProtectionServiceClient<AuthChannel>;
pub type PlacementsClient = PlacementsServiceClient<AuthChannel>;

/// The services a CIN census feeds: the front door (referrals, assessments, S47 enquiries,
/// ICPCs) and child protection (CIN plans, CP plans and their reviews).
pub struct CinClients {
    pub frontdoor: FrontDoorClient,
    pub protection: ProtectionClient,
}

impl CinClients {
    pub async fn connect(addrs: &ClientAddrs) -> anyhow::Result<Self> {
        Ok(Self {
            frontdoor: connect(&addrs.frontdoor).await?,
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
    pub addrs: ClientAddrs,
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
    let (report, opts) = match cmd {
        ImportCommand::Cin { files, la, opts } => {
            let mut clients = CinClients::connect(&opts.addrs).await?;
            let mut report = Report::default();
            let mut rec = record::Recorder::new(&opts.addrs);
            for f in &files {
                recorded!(rec, &mut report, "cin_census", f, {
                    cin::import(&mut clients, f, la.as_deref(), &mut report)
                });
            }
            (report, opts)
        }
        ImportCommand::AnnexA { path, la, opts } => {
            let mut clients = CinClients::connect(&opts.addrs).await?;
            let mut report = Report::default();
            recorded!(
                record::Recorder::new(&opts.addrs),
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
            let mut client = connect(&opts.addrs.frontdoor).await?;
            let mut report = Report::default();
            recorded!(
                record::Recorder::new(&opts.addrs),
                &mut report,
                "contacts",
                &file,
                local::import_contacts(&mut client, &file, la.as_deref(), &mut report)
            );
            (report, opts)
        }
        ImportCommand::Strategy { file, la, opts } => {
            let mut client = connect(&opts.addrs.frontdoor).await?;
            let mut report = Report::default();
            recorded!(
                record::Recorder::new(&opts.addrs),
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
            let mut clients = ssda903::Clients903::connect(&opts.addrs).await?;
            let mut report = Report::default();
            let mut las = std::collections::BTreeSet::new();
            let mut rec = record::Recorder::new(&opts.addrs);
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
            let mut report = Report::default();
            recorded!(
                record::Recorder::new(&opts.addrs),
                &mut report,
                "missing",
                &file,
                local::import_missing(&mut client, &file, la.as_deref(), &mut report)
            );
            (report, opts)
        }
        ImportCommand::Feedback { file, la, opts } => {
            let mut client = connect_protection(&opts.addrs.protection).await?;
            let mut report = Report::default();
            recorded!(
                record::Recorder::new(&opts.addrs),
                &mut report,
                "feedback",
                &file,
                local::import_feedback(&mut client, &file, la.as_deref(), &mut report)
            );
            (report, opts)
        }
        ImportCommand::Costs { file, la, opts } => {
            let mut client = connect_finance(&opts.addrs.finance).await?;
            let mut report = Report::default();
            recorded!(
                record::Recorder::new(&opts.addrs),
                &mut report,
                "costs",
                &file,
                local::import_costs(&mut client, &file, la.as_deref(), &mut report)
            );
            (report, opts)
        }
        ImportCommand::Generated(args) => {
            let mut report = Report::default();
            import_generated(&args.opts.addrs, &args.dir, args.la.as_deref(), &mut report).await?;
            (report, args.opts)
        }
    };
    crate::out(&report.render());
    if let Some(path) = opts.report {
        report.write_csv(&path)?;
        crate::out(&format!("Report written to {}\n", path.display()));
    }
    if report.is_clean() {
        Ok(())
    } else {
        Err(incomplete(report.headline()).into())
    }
}

/// Imports a folder `csc generate` wrote, through every domain service; the LA it was filed
/// under.
pub async fn import_generated(
    addrs: &ClientAddrs,
    dir: &std::path::Path,
    la: Option<&str>,
    report: &mut Report,
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
    let mut clients = CinClients::connect(addrs).await?;
    let mut rec = record::Recorder::new(addrs);
    for f in &censuses {
        recorded!(rec, report, "cin_census", f, {
            cin::import(&mut clients, f, Some(&la), report)
        });
    }
    let mut fd = connect(&addrs.frontdoor).await?;
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
    let path = dir.join("strategy.csv");
    recorded!(
        rec,
        report,
        "strategy",
        &path,
        local::import_strategy(&mut fd, &path, Some(&la), report)
    );
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
    let path = dir.join("feedback.csv");
    recorded!(
        rec,
        report,
        "feedback",
        &path,
        local::import_feedback(&mut prot, &path, Some(&la), report)
    );
    let mut fin = connect_finance(&addrs.finance).await?;
    let path = dir.join("costs.csv");
    recorded!(
        rec,
        report,
        "costs",
        &path,
        local::import_costs(&mut fin, &path, Some(&la), report)
    );
    Ok(la)
}

/// A channel to a service, over TLS when configured, its calls carrying the bearer token
/// (`csc_runtime::client`).
pub async fn channel(addr: &str, service: &str) -> anyhow::Result<AuthChannel> {
    let channel = csc_runtime::client::endpoint(addr)?
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach the {service} service at {addr}: {e}"))?;
    Ok(csc_runtime::client::with_token(channel))
}

pub async fn connect(addr: &str) -> anyhow::Result<FrontDoorClient> {
    Ok(
        FrontDoorServiceClient::new(channel(addr, "front door").await?)
            .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES),
    )
}

pub async fn connect_finance(addr: &str) -> anyhow::Result<FinanceClient> {
    Ok(FinanceServiceClient::new(channel(addr, "finance").await?)
        .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES))
}

pub async fn connect_protection(addr: &str) -> anyhow::Result<ProtectionClient> {
    Ok(
        ProtectionServiceClient::new(channel(addr, "child protection").await?)
            .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES),
    )
}

pub async fn connect_placements(addr: &str) -> anyhow::Result<PlacementsClient> {
    Ok(
        PlacementsServiceClient::new(channel(addr, "looked-after children").await?)
            .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES),
    )
}

/// A gRPC error as a person should read it, with its field violations and failed preconditions;
/// a broken connection is
/// called a transport error, with its cause, not "Unknown".
pub fn describe_status(s: Status) -> anyhow::Error {
    if is_transport(&s) {
        let mut msg = format!("transport error: {}", s.message());
        let mut source = std::error::Error::source(&s);
        while let Some(e) = source {
            msg.push_str(&format!(": {e}"));
            source = e.source();
        }
        return anyhow::anyhow!(msg);
    }
    let mut msg = format!("{:?}: {}", s.code(), s.message());
    if let Some(br) = s.get_details_bad_request() {
        for v in br.field_violations {
            msg.push_str(&format!("\n  {}: {}", v.field, v.description));
        }
    }
    if let Some(pf) = s.get_details_precondition_failure() {
        for v in pf.violations {
            msg.push_str(&format!("\n  {}: {}", v.subject, v.description));
        }
    }
    anyhow::anyhow!(msg)
}

/// Where a record came from, to name it when it is refused: the child, the record's location
/// (an XML element path, or a file and line) and, per API field, the element or column it was read
/// from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub child_id: String,
    pub location: String,
    pub fields: Vec<(String, String)>,
    /// The return's collection year, where a pooled file's YEAR column gives it.
    pub year: Option<i32>,
}

impl Origin {
    /// The element or column an API field path (`authorisation_date`, `factors[1]`) came from.
    fn source_of(&self, field: &str) -> String {
        let bare = field.split('[').next().unwrap_or(field);
        self.fields
            .iter()
            .find(|(f, _)| f == field)
            .or_else(|| self.fields.iter().find(|(f, _)| f == bare))
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| {
                if field.is_empty() {
                    self.location.clone()
                } else {
                    format!("{} ({field})", self.location)
                }
            })
    }
}

/// One refused record or one warning.
#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: &'static str,
    pub child_id: String,
    pub source: String,
    pub reason: String,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub received: u64,
    pub accepted: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

/// What an import did: counts per record kind, every rejection and warning, every file refused
/// whole.
#[derive(Debug, Default)]
pub struct Report {
    pub tallies: BTreeMap<&'static str, Tally>,
    pub rejected: Vec<Problem>,
    pub warnings: Vec<Problem>,
    pub notes: Vec<String>,
    /// Files or tables refused whole (not well-formed, too large, a workbook, missing columns),
    /// with why: none of their records was sent.
    pub refused_files: Vec<(String, String)>,
    /// What the dates of the file being read held besides plain dates (said by
    /// [`Report::finish_dates`]).
    pub dates: DateTally,
    /// The LAs of the records sent since the file began ([`Report::begin_file`]).
    pub las_sent: std::collections::BTreeSet<String>,
    /// The days the file being read covers, where it says (`record`).
    pub covers: record::FileCovers,
}

/// Exit status of an import that ran but did not land everything (README, "Exit status").
pub const EXIT_REFUSALS: u8 = 3;

/// An import that ran to its end with records or files refused: `csc` exits with
/// [`EXIT_REFUSALS`] after printing the summary.
fn incomplete(summary: String) -> crate::Incomplete {
    crate::Incomplete {
        command: "import",
        exit: EXIT_REFUSALS,
        message: summary,
    }
}

/// 3685 → "3,685".
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Report {
    /// One refused record, with every problem found in it: the record counts once.
    pub fn reject_record(
        &mut self,
        kind: &'static str,
        child_id: &str,
        problems: impl IntoIterator<Item = (String, String)>,
    ) {
        let t = self.tallies.entry(kind).or_default();
        t.received += 1;
        t.rejected += 1;
        let child_id = if child_id.is_empty() {
            "(none)"
        } else {
            child_id
        };
        for (source, reason) in problems {
            self.rejected.push(Problem {
                kind,
                child_id: child_id.to_owned(),
                source,
                reason,
            });
        }
    }

    /// One refused record with one problem.
    pub fn reject(
        &mut self,
        kind: &'static str,
        child_id: &str,
        source: impl Into<String>,
        reason: impl Into<String>,
    ) {
        self.reject_record(kind, child_id, [(source.into(), reason.into())]);
    }

    /// A file or table refused whole: nothing in it was sent.
    pub fn refuse_file(&mut self, file: impl Into<String>, reason: impl Into<String>) {
        self.refused_files.push((file.into(), reason.into()));
    }

    /// Text found between XML elements (a stray word, perhaps a shifted value): ignored, said so.
    pub fn warn_stray(&mut self, kind: &'static str, child_id: &str, path: &str, text: &str) {
        let child_id = if child_id.is_empty() {
            "(none)"
        } else {
            child_id
        };
        self.warn(
            kind,
            child_id,
            path,
            format!(
                "stray text {} outside any element value; ignored",
                input::quote(text)
            ),
        );
    }

    pub fn warn(
        &mut self,
        kind: &'static str,
        child_id: &str,
        source: impl Into<String>,
        reason: impl Into<String>,
    ) {
        self.warnings.push(Problem {
            kind,
            child_id: child_id.to_owned(),
            source: source.into(),
            reason: reason.into(),
        });
    }

    /// Says, once for `file`, what its dates held besides plain dates: two-digit years (a
    /// warning, with the pivot), and date-times at midnight (a warning in XML, where the schema
    /// asks for dates; a note in CSV, where databases write them).
    pub fn finish_dates(&mut self, file: &str, midnight_is_warning: bool) {
        let t = std::mem::take(&mut self.dates);
        if let Some((at, raw)) = t.first_two_digit {
            self.warn(
                "dates",
                "-",
                file,
                format!(
                    "{} date(s) written with a two-digit year were read with the pivot 00-69 = 2000-2069, 70-99 = 1970-1999 (first: {at}, {})",
                    t.two_digit,
                    input::quote(&raw)
                ),
            );
        }
        if let Some((at, raw)) = t.first_midnight {
            let text = format!(
                "{} date(s) written as a date-time at midnight were read as the date (first: {at}, {})",
                t.midnight,
                input::quote(&raw)
            );
            if midnight_is_warning {
                self.warn("dates", "-", file, text);
            } else {
                self.notes.push(format!("{file}: {text}"));
            }
        }
    }

    /// Records refused, one count per record (a record with three problems counts once).
    pub fn refused_records(&self) -> u64 {
        self.tallies.values().map(|t| t.rejected).sum()
    }

    /// Everything was accepted or already held: no record and no file refused.
    pub fn is_clean(&self) -> bool {
        self.refused_records() == 0 && self.refused_files.is_empty()
    }

    /// The verdict in words: the summary's first line.
    pub fn headline(&self) -> String {
        let records: u64 = self.tallies.values().map(|t| t.received).sum();
        let warnings = match self.warnings.len() {
            0 => String::new(),
            n => format!(", {} warning(s)", thousands(n as u64)),
        };
        if self.is_clean() {
            return format!(
                "Imported: all {} record(s) accepted or unchanged{warnings}.",
                thousands(records)
            );
        }
        let mut parts = Vec::new();
        let refused = self.refused_records();
        if refused > 0 {
            parts.push(format!(
                "{} record(s) of {} refused",
                thousands(refused),
                thousands(records)
            ));
        }
        if !self.refused_files.is_empty() {
            parts.push(format!(
                "{} file(s) or table(s) refused whole",
                self.refused_files.len()
            ));
        }
        format!(
            "Imported with refusals: {}{warnings}; see the lists below (or --report FILE.csv).",
            parts.join(" and ")
        )
    }

    /// The verdict, the notes, the counts, and how many records were refused and warned about
    /// (without listing them: `render` does, and `--report FILE.csv` writes them).
    pub fn render_summary(&self) -> String {
        use std::fmt::Write as _;
        let mut out = self.render_counts();
        let _ = writeln!(
            out,
            "{} refused records and {} warnings (csc import … --report FILE.csv lists them)",
            self.rejected.len(),
            self.warnings.len()
        );
        out
    }

    fn render_counts(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.headline());
        for (file, why) in &self.refused_files {
            let _ = writeln!(out, "REFUSED {file}: {why}");
        }
        for n in &self.notes {
            let _ = writeln!(out, "{n}");
        }
        let _ = writeln!(
            out,
            "\n{:<24} {:>9} {:>9} {:>9} {:>9}",
            "records", "received", "accepted", "unchanged", "rejected"
        );
        for (kind, t) in &self.tallies {
            let _ = writeln!(
                out,
                "{kind:<24} {:>9} {:>9} {:>9} {:>9}",
                t.received, t.accepted, t.unchanged, t.rejected
            );
        }
        let _ = writeln!(
            out,
            "(accepted: new or changed records written; unchanged: already held exactly so)"
        );
        out
    }

    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = self.render_counts();
        if !self.rejected.is_empty() {
            let _ = writeln!(out, "\nRejected ({}):", self.rejected.len());
            for p in &self.rejected {
                let _ = writeln!(
                    out,
                    "  {} child {}: {}: {}",
                    p.kind, p.child_id, p.source, p.reason
                );
            }
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(out, "\nWarnings ({}):", self.warnings.len());
            for p in &self.warnings {
                let _ = writeln!(
                    out,
                    "  {} child {}: {}: {}",
                    p.kind, p.child_id, p.source, p.reason
                );
            }
        }
        out
    }

    /// Every refused file, refused record and warning, one a row. Every cell is made safe to open
    /// in a spreadsheet (`csc_core::text::csv_cell`): ids and values come from the files imported.
    pub fn write_csv(&self, path: &std::path::Path) -> anyhow::Result<()> {
        self.write_csv_to(
            std::fs::File::create(path)
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?,
        )
    }

    pub fn write_csv_to(&self, out: impl std::io::Write) -> anyhow::Result<()> {
        use csc_core::text::csv_cell;
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["severity", "record", "child_id", "source", "reason"])?;
        for (file, why) in &self.refused_files {
            w.write_record(["refused file", "", "", &csv_cell(file), &csv_cell(why)])?;
        }
        for (sev, list) in [("rejected", &self.rejected), ("warning", &self.warnings)] {
            for p in list {
                // "-" stands for no child in the summary; the sheet leaves the cell empty.
                let child = if p.child_id == "-" { "" } else { &p.child_id };
                w.write_record([
                    sev,
                    p.kind,
                    &csv_cell(child),
                    &csv_cell(&p.source),
                    &csv_cell(&p.reason),
                ])?;
            }
        }
        w.flush()?;
        Ok(())
    }
}

/// A record kind a service takes in batches, and the client that sends it.
pub trait Upload: prost::Message + Clone + Send + Sync + 'static {
    type Client: Send;
    const KIND: &'static str;
    /// The record's LA.
    fn la(&self) -> &str;
    /// Sends a batch; `keep_stored` (for kinds whose request has it) keeps stored values in the
    /// fields the records leave empty.
    fn send(
        client: &mut Self::Client,
        request_id: String,
        records: Vec<Self>,
        keep_stored: bool,
    ) -> impl Future<Output = Result<tonic::Response<BatchUpsertResponse>, Status>> + Send;
}

macro_rules! upload {
    ($client:ty, $pkg:ident :: $t:ident, $kind:literal, $req:ident, $method:ident $(, $keep:ident)?) => {
        impl Upload for $pkg::$t {
            type Client = $client;
            const KIND: &'static str = $kind;
            fn la(&self) -> &str {
                &self.la_code
            }
            fn send(
                client: &mut $client,
                request_id: String,
                records: Vec<Self>,
                keep_stored: bool,
            ) -> impl Future<Output = Result<tonic::Response<BatchUpsertResponse>, Status>> + Send
            {
                // Options beyond the id, the records and keep_stored (replace_reviews) keep their
                // defaults.
                #[allow(clippy::needless_update, unused_mut)]
                let mut msg = $pkg::$req {
                    request_id,
                    records,
                    ..Default::default()
                };
                $(msg.$keep = keep_stored;)?
                let _ = keep_stored;
                let mut req = tonic::Request::new(msg);
                req.set_timeout(BATCH_DEADLINE);
                client.$method(req)
            }
        }
    };
}
upload!(
    FrontDoorClient,
    pb::Contact,
    "contacts",
    BatchUpsertContactsRequest,
    batch_upsert_contacts
);
upload!(
    FrontDoorClient,
    pb::EarlyHelpAssessment,
    "early help assessments",
    BatchUpsertEarlyHelpAssessmentsRequest,
    batch_upsert_early_help_assessments
);
upload!(
    FrontDoorClient,
    pb::Referral,
    "referrals",
    BatchUpsertReferralsRequest,
    batch_upsert_referrals
);
upload!(
    FrontDoorClient,
    pb::Assessment,
    "assessments",
    BatchUpsertAssessmentsRequest,
    batch_upsert_assessments,
    keep_stored
);
upload!(
    FrontDoorClient,
    pb::Section47Enquiry,
    "section 47 enquiries",
    BatchUpsertSection47EnquiriesRequest,
    batch_upsert_section47_enquiries,
    keep_stored
);
upload!(
    FrontDoorClient,
    pb::StrategyDiscussion,
    "strategy discussions",
    BatchUpsertStrategyDiscussionsRequest,
    batch_upsert_strategy_discussions
);
upload!(
    FrontDoorClient,
    pb::Icpc,
    "ICPCs",
    BatchUpsertIcpcsRequest,
    batch_upsert_icpcs
);
upload!(
    ProtectionClient,
    ppb::CinPlan,
    "CIN plans",
    BatchUpsertCinPlansRequest,
    batch_upsert_cin_plans,
    keep_stored
);
upload!(
    ProtectionClient,
    ppb::CpPlan,
    "CP plans",
    BatchUpsertCpPlansRequest,
    batch_upsert_cp_plans,
    keep_stored
);
upload!(
    ProtectionClient,
    ppb::MissingEpisode,
    "missing episodes",
    BatchUpsertMissingEpisodesRequest,
    batch_upsert_missing_episodes
);
upload!(
    ProtectionClient,
    ppb::FeedbackResponse,
    "feedback responses",
    BatchUpsertFeedbackRequest,
    batch_upsert_feedback
);
upload!(
    PlacementsClient,
    lpb::CareSummary,
    "care summaries",
    BatchUpsertCareSummariesRequest,
    batch_upsert_care_summaries
);
upload!(
    PlacementsClient,
    lpb::Child,
    "children",
    BatchUpsertChildrenRequest,
    batch_upsert_children
);
upload!(
    PlacementsClient,
    lpb::Episode,
    "episodes",
    BatchUpsertEpisodesRequest,
    batch_upsert_episodes
);
upload!(
    PlacementsClient,
    lpb::SocialWorkerAllocation,
    "social worker allocations",
    BatchUpsertSocialWorkerAllocationsRequest,
    batch_upsert_social_worker_allocations
);
upload!(
    PlacementsClient,
    lpb::Review,
    "CLA reviews",
    BatchUpsertReviewsRequest,
    batch_upsert_reviews,
    keep_stored
);
upload!(
    FinanceClient,
    fpb::Commitment,
    "commitments",
    BatchUpsertCommitmentsRequest,
    batch_upsert_commitments
);

/// Buffers one kind of record and sends it in batches.
pub struct Uploader<P: Upload> {
    buf: Vec<(P, Origin)>,
    /// Sent with each batch: fields the records leave empty keep their stored values (a source
    /// that holds less than another, such as Annex A beside the CIN census).
    pub keep_stored: bool,
}

impl<P: Upload> Default for Uploader<P> {
    fn default() -> Self {
        Self {
            buf: Vec::with_capacity(BATCH),
            keep_stored: false,
        }
    }
}

/// Deadline of one batch call: generous, since a busy PostgreSQL may take seconds.
const BATCH_DEADLINE: Duration = Duration::from_secs(60);

impl<P: Upload> Uploader<P> {
    pub async fn push(
        &mut self,
        client: &mut P::Client,
        report: &mut Report,
        record: P,
        origin: Origin,
    ) -> anyhow::Result<()> {
        if !report.las_sent.contains(record.la()) {
            report.las_sent.insert(record.la().to_owned());
        }
        self.buf.push((record, origin));
        if self.buf.len() >= BATCH {
            self.flush(client, report).await?;
        }
        Ok(())
    }

    /// Sends what is buffered. Records the service refuses are reported and left out, and the rest
    /// sent again, so that every valid record lands.
    pub async fn flush(
        &mut self,
        client: &mut P::Client,
        report: &mut Report,
    ) -> anyhow::Result<()> {
        let mut pending = std::mem::take(&mut self.buf);
        while !pending.is_empty() {
            let records: Vec<P> = pending.iter().map(|(r, _)| r.clone()).collect();
            match send_with_retry::<P>(client, records, self.keep_stored).await {
                Ok(resp) => {
                    let t = report.tallies.entry(P::KIND).or_default();
                    t.received += resp.received as u64;
                    t.accepted += resp.written as u64;
                    t.unchanged += resp.unchanged as u64;
                    break;
                }
                Err(status) if status.code() == Code::InvalidArgument => {
                    let by_index = record_violations(&status);
                    if by_index.is_empty() {
                        return Err(describe_status(status)
                            .context(format!("the service refused a batch of {}", P::KIND)));
                    }
                    // "same key as records[3]" names the batch's record 3: say where it came from.
                    let locations: Vec<String> =
                        pending.iter().map(|(_, o)| o.location.clone()).collect();
                    let mut keep = Vec::with_capacity(pending.len());
                    for (i, (r, origin)) in pending.into_iter().enumerate() {
                        match by_index.get(&i) {
                            None => keep.push((r, origin)),
                            Some(problems) => report.reject_record(
                                P::KIND,
                                &origin.child_id,
                                problems.iter().map(|(field, reason)| {
                                    (origin.source_of(field), name_records(reason, &locations))
                                }),
                            ),
                        }
                    }
                    pending = keep;
                }
                Err(status) => {
                    return Err(describe_status(status).context(format!("sending {}", P::KIND)));
                }
            }
        }
        Ok(())
    }
}

/// How long a batch is retried while its service is unavailable (a restart, a rolling upgrade,
/// a full write queue) before the import gives up: two minutes.
pub const RETRY_FOR: Duration = Duration::from_secs(120);
/// The longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Codes worth another try with the same request id: the batch either did not land, or landed
/// and its replay is answered "unchanged". A transport failure (the connection dropped mid-call)
/// is one too.
pub(crate) fn retryable(s: &Status) -> bool {
    matches!(
        s.code(),
        Code::Unavailable | Code::ResourceExhausted | Code::Aborted | Code::DeadlineExceeded
    ) || is_transport(s)
}

/// A status the client made from a broken connection, not one the service sent: tonic gives
/// those code Unknown with the transport error as their source.
fn is_transport(s: &Status) -> bool {
    s.code() == Code::Unknown && std::error::Error::source(s).is_some()
}

async fn send_with_retry<P: Upload>(
    client: &mut P::Client,
    records: Vec<P>,
    keep_stored: bool,
) -> Result<BatchUpsertResponse, Status> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let started = std::time::Instant::now();
    let mut backoff = Duration::from_millis(200);
    let mut attempt = 0u32;
    loop {
        match P::send(client, request_id.clone(), records.clone(), keep_stored).await {
            Ok(r) => return Ok(r.into_inner()),
            Err(s) if retryable(&s) && started.elapsed() < RETRY_FOR => {
                attempt += 1;
                // Full jitter over the upper half, so that many importers do not retry in step.
                // (A v4 uuid's random bits: no generator to seed for a few waits.)
                let fraction = (uuid::Uuid::new_v4().as_u128() % 1024) as f64 / 1024.0;
                let wait = backoff.mul_f64(0.5 + fraction / 2.0);
                tracing::warn!(code = ?s.code(), attempt, ?wait, "retrying batch of {}", P::KIND);
                tokio::time::sleep(wait).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(s) => return Err(s),
        }
    }
}

/// `reason` with each `records[N]` it mentions replaced by where record N came from.
fn name_records(reason: &str, locations: &[String]) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    while let Some(at) = rest.find("records[") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "records[".len()..];
        match after.split_once(']') {
            Some((n, tail)) if n.parse::<usize>().is_ok_and(|n| n < locations.len()) => {
                out.push_str(&locations[n.parse::<usize>().expect("checked")]);
                rest = tail;
            }
            _ => {
                out.push_str("records[");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// BadRequest field violations grouped by record index: `records[17].source` → (17, "source").
fn record_violations(status: &Status) -> BTreeMap<usize, Vec<(String, String)>> {
    let mut out: BTreeMap<usize, Vec<(String, String)>> = BTreeMap::new();
    if let Some(br) = status.get_details_bad_request() {
        for v in br.field_violations {
            if let Some(rest) = v.field.strip_prefix("records[")
                && let Some((idx, tail)) = rest.split_once(']')
                && let Ok(i) = idx.parse::<usize>()
            {
                out.entry(i)
                    .or_default()
                    .push((tail.trim_start_matches('.').to_owned(), v.description));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_key_names_the_line_it_repeats() {
        let locations = vec!["f.csv line 2".to_owned(), "f.csv line 3".to_owned()];
        assert_eq!(
            name_records("same key as records[1] but different content", &locations),
            "same key as f.csv line 3 but different content"
        );
        assert_eq!(
            name_records("records[9] and records[x]", &locations),
            "records[9] and records[x]"
        );
    }

    #[test]
    fn violations_are_grouped_by_record_and_mapped_to_their_source() {
        let mut d = tonic_types::ErrorDetails::new();
        d.add_bad_request_violation(
            "records[3].factors[1]",
            "unknown assessment factor code \"RB\"",
        );
        d.add_bad_request_violation("records[3].authorisation_date", "before start");
        d.add_bad_request_violation("records[7]", "same key as records[2] but different content");
        let s = Status::with_error_details(Code::InvalidArgument, "bad", d);
        let v = record_violations(&s);
        assert_eq!(v.keys().copied().collect::<Vec<_>>(), [3, 7]);
        assert_eq!(v[&3][0].0, "factors[1]");
        assert_eq!(v[&7][0].0, "");
        let origin = Origin {
            child_id: "C1".into(),
            location: "Child[1]/CINdetails[1]/Assessments[1]".into(),
            fields: vec![("factors[1]".into(), "Child[1]/CINdetails[1]/Assessments[1]/FactorsIdentifiedAtAssessment/AssessmentFactors[2]".into())],
            year: None,
        };
        assert!(
            origin
                .source_of("factors[1]")
                .ends_with("AssessmentFactors[2]")
        );
        assert_eq!(
            origin.source_of(""),
            "Child[1]/CINdetails[1]/Assessments[1]"
        );
    }
}
