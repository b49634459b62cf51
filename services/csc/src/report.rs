//! The reporting commands: `csc report` (generate or fetch a kept report in any format),
//! `csc commentary`, `csc population` and `csc reference`, all through the aggregator's API.

use std::path::PathBuf;

use csc_aggregator::render::Format;
use csc_proto::reporting as pb;

use crate::client::{Retry, connect_reporting, describe_status, retrying};

pub use crate::client::ReportingClient;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum FormatArg {
    Html,
    Md,
    Json,
    Xlsx,
    Csv,
    Docx,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Html => Format::Html,
            FormatArg::Md => Format::Markdown,
            FormatArg::Json => Format::Json,
            FormatArg::Xlsx => Format::Xlsx,
            FormatArg::Csv => Format::Csv,
            FormatArg::Docx => Format::Docx,
        }
    }
}

pub use csc_aggregator::api::format_to as format_to_proto;

/// Exit status of `csc report` when the report came out but a section is not `ok` (README,
/// "Exit status"); `--allow-partial` makes it 0.
pub const EXIT_INCOMPLETE: u8 = 4;

/// A report that was written with sections that are not `ok`, or a publication refused because
/// of one: `csc` exits with [`EXIT_INCOMPLETE`] after saying which.
fn incomplete(message: String) -> crate::Incomplete {
    crate::Incomplete {
        command: "report",
        exit: EXIT_INCOMPLETE,
        message,
    }
}

#[derive(clap::Args, Clone)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub what: Option<ReportCommand>,
    /// DfE three-digit LA code.
    #[arg(long, env = "CSC_LA", required_unless_present_any = ["id", "group"])]
    pub la: Option<String>,
    /// A group report instead: every member side by side with the group's statistics (a custom
    /// group from `csc group list`, region:west-midlands, or neighbours:885). Any --la, e.g.
    /// CSC_LA from the environment, is then not used: --focus names the LA to rank.
    #[arg(long, conflicts_with = "id")]
    pub group: Option<String>,
    /// With --group: the member whose rank and quartile the report gives (for neighbours:LA,
    /// that LA unless another is named).
    #[arg(long, requires = "group")]
    pub focus: Option<String>,
    /// The single-LA report compared with a benchmarking group, live: its benchmark columns add
    /// the group's median (and the LA's rank and quartile in it), its trends the group's median
    /// line. A custom group, region:west-midlands or neighbours:885.
    #[arg(long, value_name = "GROUP", conflicts_with_all = ["group", "id"])]
    pub compare_with: Option<String>,
    /// "2018-19-Q1", "2018-19", or "latest": the latest complete quarter (what the quarterly
    /// CronJob asks for).
    #[arg(long, required_unless_present = "id")]
    pub period: Option<String>,
    /// Render a report kept earlier instead of generating one (as `csc report get ID`; any --la,
    /// e.g. CSC_LA from the environment, is then not used).
    #[arg(long, conflicts_with_all = ["period", "publish"])]
    pub id: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Apply the suppression rules of published output (counts 1-5 shown as c) and keep the
    /// report as published. Refused when a section is unavailable or has no data, and when one is
    /// partial unless --allow-partial.
    #[arg(long)]
    pub publish: bool,
    /// Accept sections that are not `ok` (partial, no data, unavailable): exit 0 with them listed,
    /// and publish a report with partial sections.
    #[arg(long)]
    pub allow_partial: bool,
    /// Who is asking, kept with the report (default: $USER).
    #[arg(long, env = "CSC_REQUESTED_BY")]
    pub requested_by: Option<String>,
    #[command(flatten)]
    pub addrs: crate::AggregatorAddr,
}

/// Where a report goes and in which format.
#[derive(clap::Args, Clone)]
pub struct OutputArgs {
    /// html, md, json, xlsx, csv or docx (default: from --out's extension, else html).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Write here (default: standard output; XLSX needs a file). Its extension sets the format
    /// when --format is not given.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl OutputArgs {
    /// The format to render: `--format`, else `--out`'s extension, else HTML. A `--format` the
    /// extension contradicts, an extension that is no format, XLSX to standard output and an
    /// output folder that does not exist are errors, said before anything is asked of a service.
    pub fn resolve(&self) -> anyhow::Result<Format> {
        let from_ext = match &self.out {
            Some(path) => {
                let ext = path
                    .extension()
                    .map(|e| e.to_string_lossy().to_ascii_lowercase());
                let f = match ext.as_deref() {
                    Some("html" | "htm") => Some(FormatArg::Html),
                    Some("md" | "markdown") => Some(FormatArg::Md),
                    Some("json") => Some(FormatArg::Json),
                    Some("xlsx") => Some(FormatArg::Xlsx),
                    Some("csv") => Some(FormatArg::Csv),
                    Some("docx") => Some(FormatArg::Docx),
                    Some(other) if self.format.is_none() => anyhow::bail!(
                        "--out {}: .{other} is not a report format; use .html, .md, .json, .xlsx, .csv or .docx, or give --format",
                        path.display()
                    ),
                    _ => None,
                };
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                    && !dir.is_dir()
                {
                    anyhow::bail!(
                        "--out {}: the folder {} does not exist",
                        path.display(),
                        dir.display()
                    );
                }
                f
            }
            None => None,
        };
        let format = match (self.format, from_ext) {
            (Some(f), Some(e)) if Format::from(f) != Format::from(e) => anyhow::bail!(
                "--format {} but --out {} is a .{} file: give one, or make them agree",
                Format::from(f).extension(),
                self.out
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                Format::from(e).extension()
            ),
            (Some(f), _) | (None, Some(f)) => f,
            (None, None) => FormatArg::Html,
        };
        let format: Format = format.into();
        if matches!(format, Format::Xlsx | Format::Docx) && self.out.is_none() {
            anyhow::bail!(
                "an {} report is a file: give --out FILE.{}",
                format.extension().to_ascii_uppercase(),
                format.extension()
            );
        }
        Ok(format)
    }

    /// Writes the rendered report, or prints it.
    fn write(&self, content: &[u8]) -> anyhow::Result<()> {
        match &self.out {
            Some(path) => std::fs::write(path, content)
                .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display())),
            None => {
                crate::out(&String::from_utf8_lossy(content));
                Ok(())
            }
        }
    }
}

#[derive(clap::Subcommand, Clone)]
pub enum ReportCommand {
    /// The reports kept for an LA, newest first: id, period, when, who, published.
    List {
        #[arg(long, env = "CSC_LA")]
        la: String,
        /// Only this period's ("2026-27-Q2").
        #[arg(long)]
        period: Option<String>,
        /// Only published reports.
        #[arg(long)]
        published: bool,
        #[command(flatten)]
        addrs: crate::AggregatorAddr,
    },
    /// A kept report, rendered from the data it was generated with.
    Get {
        /// The report id (`csc report list`).
        id: String,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        addrs: crate::AggregatorAddr,
    },
}

pub async fn report(args: ReportArgs) -> anyhow::Result<()> {
    match args.what {
        Some(ReportCommand::List {
            la,
            period,
            published,
            addrs,
        }) => return list(&la, period.as_deref(), published, &addrs).await,
        Some(ReportCommand::Get { id, output, addrs }) => {
            let format = output.resolve()?;
            let doc = get(&addrs, &id, format).await?;
            output.write(&doc.content)?;
            say_written(&doc, &output);
            return Ok(());
        }
        None => {}
    }
    let format = args.output.resolve()?;
    if let Some(group) = &args.group {
        return group_report(&args, group, format).await;
    }
    let doc = match &args.id {
        Some(id) => get(&args.addrs, id, format).await?,
        None => {
            let client = connect_reporting(&args.addrs.aggregator).await?;
            let req = pb::GenerateReportRequest {
                la_code: args.la.clone().unwrap_or_default(),
                period: period_arg(args.period.as_deref()),
                publish: args.publish,
                allow_partial: args.allow_partial,
                format: format_to_proto(format) as i32,
                requested_by: requested_by(args.requested_by.as_deref()),
                benchmark_group: args.compare_with.clone().unwrap_or_default(),
            };
            retrying(Retry::REPORT, "the report call", || {
                let (mut c, r) = (client.clone(), req.clone());
                async move { c.generate_report(r).await }
            })
            .await
            .map_err(|s| {
                // Publication refused because a section is not complete: the report's own
                // exit status, with each section named.
                if s.code() == tonic::Code::FailedPrecondition && args.publish {
                    anyhow::Error::new(incomplete(format!("{:#}", describe_status(s))))
                } else {
                    describe_status(s)
                }
            })?
            .into_inner()
        }
    };
    args.output.write(&doc.content)?;
    say_written(&doc, &args.output);
    let short: Vec<String> = doc
        .sections
        .iter()
        .filter(|s| s.status != "ok")
        .map(|s| format!("{} ({})", s.title, s.status.replace('_', " ")))
        .collect();
    if short.is_empty() {
        return Ok(());
    }
    let what = format!(
        "sections not ok: {} (the report says why in each)",
        short.join(", ")
    );
    if args.allow_partial || args.id.is_some() {
        eprintln!("{what}");
        Ok(())
    } else {
        Err(incomplete(format!("{what}; --allow-partial accepts them")).into())
    }
}

/// The report's period as asked: an id, or `latest` (the latest complete quarter).
fn period_arg(p: Option<&str>) -> String {
    match p {
        Some("latest") => {
            crate::generate::latest_complete_quarter(chrono::Utc::now().date_naive()).id()
        }
        p => p.unwrap_or_default().to_owned(),
    }
}

/// `csc report --group`: the group report, written like any other; members not shared with the
/// caller, or whose data the suite does not hold, are said on standard error.
async fn group_report(args: &ReportArgs, group: &str, format: Format) -> anyhow::Result<()> {
    anyhow::ensure!(
        format != Format::Docx,
        "a group report is html, md, json, xlsx or csv, not Word"
    );
    let client = connect_reporting(&args.addrs.aggregator).await?;
    let req = pb::GenerateGroupReportRequest {
        group: group.to_owned(),
        period: period_arg(args.period.as_deref()),
        la_code: args.focus.clone().unwrap_or_default(),
        publish: args.publish,
        format: format_to_proto(format) as i32,
        requested_by: requested_by(args.requested_by.as_deref()),
    };
    let doc = retrying(Retry::REPORT, "the group report call", || {
        let (mut c, r) = (client.clone(), req.clone());
        async move { c.generate_group_report(r).await }
    })
    .await
    .map_err(describe_status)?
    .into_inner();
    args.output.write(&doc.content)?;
    if let Some(path) = &args.output.out {
        eprintln!(
            "group report {} ({} members{}) written to {}",
            doc.group,
            doc.members.len() + doc.not_shared.len(),
            if doc.published { ", published" } else { "" },
            path.display()
        );
    }
    let not_held: Vec<&str> = doc
        .members
        .iter()
        .filter(|m| m.standing == "not_held")
        .map(|m| m.la_code.as_str())
        .collect();
    if !not_held.is_empty() {
        eprintln!(
            "no data held for {}: published DfE figures shown where there are any",
            not_held.join(", ")
        );
    }
    if !doc.not_shared.is_empty() {
        eprintln!(
            "not shared with this token (not shown): {}",
            doc.not_shared.join(", ")
        );
    }
    Ok(())
}

async fn get(
    addrs: &crate::AggregatorAddr,
    id: &str,
    format: Format,
) -> anyhow::Result<pb::ReportDocument> {
    let client = connect_reporting(&addrs.aggregator).await?;
    let req = pb::GetReportRequest {
        report_id: id.to_owned(),
        format: format_to_proto(format) as i32,
    };
    Ok(retrying(Retry::REPORT, "the report call", || {
        let (mut c, r) = (client.clone(), req.clone());
        async move { c.get_report(r).await }
    })
    .await
    .map_err(describe_status)?
    .into_inner())
}

/// On standard error, where a report written to a file went.
fn say_written(doc: &pb::ReportDocument, output: &OutputArgs) {
    if let Some(path) = &output.out {
        eprintln!(
            "report {} ({} {}{}) written to {}",
            doc.report_id,
            doc.la_code,
            doc.period.as_ref().map(|p| p.id.as_str()).unwrap_or(""),
            if doc.published { ", published" } else { "" },
            path.display()
        );
    }
}

/// `csc report list`: every page of `ListReports`.
async fn list(
    la: &str,
    period: Option<&str>,
    published_only: bool,
    addrs: &crate::AggregatorAddr,
) -> anyhow::Result<()> {
    let mut client = connect_reporting(&addrs.aggregator).await?;
    let mut token = String::new();
    let mut rows = Vec::new();
    loop {
        let resp = client
            .list_reports(pb::ListReportsRequest {
                la_code: la.to_owned(),
                period: period.unwrap_or_default().to_owned(),
                page_size: 1000,
                page_token: token,
            })
            .await
            .map_err(describe_status)?
            .into_inner();
        rows.extend(
            resp.reports
                .into_iter()
                .filter(|r| r.published || !published_only),
        );
        if resp.next_page_token.is_empty() {
            break;
        }
        token = resp.next_page_token;
    }
    let mut out = String::from("report_id\tperiod\tgenerated_at\trequested_by\tpublished\n");
    for r in &rows {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            r.report_id,
            r.period.as_ref().map(|p| p.id.as_str()).unwrap_or(""),
            r.generated_at,
            csc_core::text::csv_cell(&r.requested_by),
            if r.published { "yes" } else { "no" }
        ));
    }
    crate::out(&out);
    eprintln!("{} report(s)", rows.len());
    Ok(())
}

pub fn requested_by(flag: Option<&str>) -> String {
    flag.map(str::to_owned)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

#[derive(clap::Subcommand, Clone)]
pub enum CommentaryCommand {
    /// Set the commentary of a section, of the headline page or of one headline figure, for an
    /// LA and period (empty text clears it).
    Set {
        #[arg(long)]
        la: String,
        #[arg(long)]
        period: String,
        /// A section (frontdoor, child_protection, children_in_need, missing, exploitation,
        /// looked_after, costs), `headline` for the headline page's opening line, or a headline
        /// figure's measure id (e.g. protection.cp_repeat_ever) for its own line.
        #[arg(long)]
        section: String,
        /// The text (paragraphs separated by a blank line).
        #[arg(long, conflicts_with = "file", required_unless_present = "file")]
        text: Option<String>,
        /// Read the text from this file.
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long, env = "CSC_REQUESTED_BY")]
        author: Option<String>,
        #[command(flatten)]
        addrs: crate::AggregatorAddr,
    },
    /// The commentary held for an LA and period.
    List {
        #[arg(long)]
        la: String,
        #[arg(long)]
        period: String,
        #[command(flatten)]
        addrs: crate::AggregatorAddr,
    },
}

pub async fn commentary(cmd: CommentaryCommand) -> anyhow::Result<()> {
    match cmd {
        CommentaryCommand::Set {
            la,
            period,
            section,
            text,
            file,
            author,
            addrs,
        } => {
            let text = match (text, file) {
                (Some(t), _) => t,
                (None, Some(f)) => std::fs::read_to_string(&f)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?,
                (None, None) => unreachable!("clap requires one"),
            };
            let mut client = connect_reporting(&addrs.aggregator).await?;
            let c = client
                .set_commentary(pb::Commentary {
                    la_code: la,
                    period,
                    section,
                    text,
                    author: requested_by(author.as_deref()),
                    updated_at: String::new(),
                })
                .await
                .map_err(describe_status)?
                .into_inner();
            crate::out(&format!(
                "commentary for {} {} {} {} by {} at {}\n",
                c.la_code,
                c.period,
                c.section,
                if c.text.trim().is_empty() {
                    "cleared"
                } else {
                    "set"
                },
                c.author,
                c.updated_at
            ));
        }
        CommentaryCommand::List { la, period, addrs } => {
            let mut client = connect_reporting(&addrs.aggregator).await?;
            let list = client
                .list_commentary(pb::ListCommentaryRequest {
                    la_code: la,
                    period,
                })
                .await
                .map_err(describe_status)?
                .into_inner();
            for c in list.commentary {
                crate::out(&format!(
                    "## {} ({}, {})\n{}\n\n",
                    c.section, c.author, c.updated_at, c.text
                ));
            }
        }
    }
    Ok(())
}

#[derive(clap::Subcommand, Clone)]
pub enum PopulationCommand {
    /// Override an LA's 0-17 population for a mid-year estimate year (0 removes the override).
    Set {
        #[arg(long)]
        la: String,
        /// Year of the mid-year estimate (2018 for 2018-19's rates).
        #[arg(long)]
        year: i32,
        #[arg(long)]
        population: i64,
        #[command(flatten)]
        addrs: crate::AggregatorAddr,
    },
    /// The population an LA's rates use in a period, and where it comes from.
    Get {
        #[arg(long)]
        la: String,
        #[arg(long)]
        period: String,
        #[command(flatten)]
        addrs: crate::AggregatorAddr,
    },
}

pub async fn population(cmd: PopulationCommand) -> anyhow::Result<()> {
    match cmd {
        PopulationCommand::Set {
            la,
            year,
            population,
            addrs,
        } => {
            let mut client = connect_reporting(&addrs.aggregator).await?;
            let p = client
                .set_population(pb::PopulationOverride {
                    la_code: la,
                    year,
                    population,
                })
                .await
                .map_err(describe_status)?
                .into_inner();
            crate::out(&format!(
                "LA {} mid-{}: {}\n",
                p.la_code,
                p.year,
                if p.population == 0 {
                    "override removed".into()
                } else {
                    p.population.to_string()
                }
            ));
        }
        PopulationCommand::Get { la, period, addrs } => {
            let mut client = connect_reporting(&addrs.aggregator).await?;
            let p = client
                .get_population(pb::GetPopulationRequest {
                    la_code: la,
                    period,
                })
                .await
                .map_err(describe_status)?
                .into_inner();
            crate::out(&format!(
                "LA {} mid-{}: {} ({})\n",
                p.la_code, p.year, p.population, p.source
            ));
        }
    }
    Ok(())
}

#[derive(clap::Subcommand, Clone)]
pub enum ReferenceCommand {
    /// The reference tables held, with their release and latest year.
    List {
        #[command(flatten)]
        addrs: crate::AggregatorAddr,
    },
    /// Replace a reference table with a newer DfE or ONS release (the CSV as published).
    Load {
        /// The table's name (see `csc reference list`).
        table: String,
        file: PathBuf,
        #[command(flatten)]
        addrs: crate::AggregatorAddr,
    },
}

pub async fn reference(cmd: ReferenceCommand) -> anyhow::Result<()> {
    let print = |t: &pb::ReferenceTableInfo| {
        format!(
            "{:<24} {:>6} rows  latest {}  {}  (loaded {})\n",
            t.table, t.rows, t.latest_year, t.source, t.loaded_at
        )
    };
    match cmd {
        ReferenceCommand::List { addrs } => {
            let mut client = connect_reporting(&addrs.aggregator).await?;
            let list = client
                .list_reference_tables(pb::ListReferenceTablesRequest {})
                .await
                .map_err(describe_status)?
                .into_inner();
            for t in &list.tables {
                crate::out(&print(t));
            }
        }
        ReferenceCommand::Load { table, file, addrs } => {
            let content =
                std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let mut client = connect_reporting(&addrs.aggregator).await?;
            let t = client
                .load_reference_table(pb::LoadReferenceTableRequest {
                    table,
                    source: file
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    content,
                })
                .await
                .map_err(describe_status)?
                .into_inner();
            crate::out(&print(&t));
        }
    }
    Ok(())
}

#[derive(clap::Subcommand, Clone)]
pub enum GroupCommand {
    /// Create or replace a custom benchmarking group (with no --la, remove it).
    Set {
        /// Lower-case letters, digits and hyphens, e.g. west-midlands-bg.
        name: String,
        /// The members' DfE LA codes, comma-separated.
        #[arg(long, value_delimiter = ',')]
        la: Vec<String>,
        /// What reports head it with, e.g. "West Midlands Benchmarking Group".
        #[arg(long, default_value = "")]
        title: String,
        #[command(flatten)]
        addrs: crate::AggregatorAddr,
    },
    /// The custom groups, then the nine regions.
    List {
        #[command(flatten)]
        addrs: crate::AggregatorAddr,
    },
    /// One group's members: a custom group, region:NAME or neighbours:LA.
    Show {
        name: String,
        #[command(flatten)]
        addrs: crate::AggregatorAddr,
    },
}

pub async fn group(cmd: GroupCommand) -> anyhow::Result<()> {
    let line = |g: &pb::Group| {
        format!(
            "{}	{}	{}	{} members
",
            g.name,
            g.kind,
            csc_core::text::csv_cell(&g.title),
            g.members.len()
        )
    };
    match cmd {
        GroupCommand::Set {
            name,
            la,
            title,
            addrs,
        } => {
            let mut client = connect_reporting(&addrs.aggregator).await?;
            let g = client
                .set_group(pb::Group {
                    name: name.clone(),
                    title,
                    members: la.iter().map(|l| l.trim().to_owned()).collect(),
                    ..Default::default()
                })
                .await
                .map_err(describe_status)?
                .into_inner();
            if la.is_empty() {
                crate::out(&format!(
                    "group {name} removed
"
                ));
            } else {
                crate::out(&line(&g));
            }
        }
        GroupCommand::List { addrs } => {
            let mut client = connect_reporting(&addrs.aggregator).await?;
            let list = client
                .list_groups(pb::ListGroupsRequest {})
                .await
                .map_err(describe_status)?
                .into_inner();
            let mut out = String::from("name\tkind\ttitle\tmembers\n");
            for g in &list.groups {
                out.push_str(&line(g));
            }
            crate::out(&out);
        }
        GroupCommand::Show { name, addrs } => {
            let mut client = connect_reporting(&addrs.aggregator).await?;
            let g = client
                .get_group(pb::GetGroupRequest { name })
                .await
                .map_err(describe_status)?
                .into_inner();
            let mut out = format!("# {} ({}): {}\n", g.name, g.kind, g.title);
            if !g.updated_at.is_empty() {
                out.push_str(&format!("# set by {} at {}\n", g.updated_by, g.updated_at));
            }
            for (code, name) in g.members.iter().zip(&g.member_names) {
                out.push_str(&format!("{code}\t{name}\n"));
            }
            crate::out(&out);
        }
    }
    Ok(())
}
