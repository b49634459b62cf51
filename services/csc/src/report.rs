//! The reporting commands: `csc report` (generate or fetch a kept report in any format),
//! `csc commentary`, `csc population` and `csc reference`, all through the aggregator's API.

use std::path::PathBuf;

use csc_aggregator::render::Format;
use csc_proto::reporting::{self as pb, reporting_service_client::ReportingServiceClient};

use crate::import::describe_status;

pub type ReportingClient = ReportingServiceClient<csc_runtime::client::AuthChannel>;

pub async fn connect(addr: &str) -> anyhow::Result<ReportingClient> {
    let channel = crate::import::channel(addr, "reporting (aggregator)").await?;
    Ok(ReportingServiceClient::new(channel)
        .max_decoding_message_size(csc_runtime::MAX_MESSAGE_BYTES)
        .max_encoding_message_size(csc_runtime::MAX_MESSAGE_BYTES))
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum FormatArg {
    Html,
    Md,
    Json,
    Xlsx,
    Csv,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Html => Format::Html,
            FormatArg::Md => Format::Markdown,
            FormatArg::Json => Format::Json,
            FormatArg::Xlsx => Format::Xlsx,
            FormatArg::Csv => Format::Csv,
        }
    }
}

pub use csc_aggregator::api::format_to as format_to_proto;

#[derive(clap::Args, Clone)]
pub struct ReportArgs {
    /// DfE three-digit LA code.
    #[arg(long, env = "CSC_LA", required_unless_present = "id")]
    pub la: Option<String>,
    /// "2018-19-Q1", "2018-19", or "latest": the latest complete quarter (what the quarterly
    /// CronJob asks for).
    #[arg(long, required_unless_present = "id")]
    pub period: Option<String>,
    /// Render a report kept earlier instead of generating one (any --la, e.g. CSC_LA from the
    /// environment, is then not used).
    #[arg(long, conflicts_with_all = ["period", "publish"])]
    pub id: Option<String>,
    #[arg(long, value_enum, default_value_t = FormatArg::Html)]
    pub format: FormatArg,
    /// Apply the suppression rules of published output (counts 1-5 shown as c).
    #[arg(long)]
    pub publish: bool,
    /// Write here (default: standard output; XLSX needs a file).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Who is asking, kept with the report (default: $USER).
    #[arg(long, env = "CSC_REQUESTED_BY")]
    pub requested_by: Option<String>,
    #[command(flatten)]
    pub addrs: crate::ClientAddrs,
}

pub async fn report(args: ReportArgs) -> anyhow::Result<()> {
    let format: Format = args.format.into();
    if format == Format::Xlsx && args.out.is_none() {
        anyhow::bail!("an XLSX report is a file: give --out FILE.xlsx");
    }
    let mut client = connect(&args.addrs.aggregator).await?;
    let doc = match &args.id {
        Some(id) => {
            client
                .get_report(pb::GetReportRequest {
                    report_id: id.clone(),
                    format: format_to_proto(format) as i32,
                })
                .await
        }
        None => {
            client
                .generate_report(pb::GenerateReportRequest {
                    la_code: args.la.clone().unwrap_or_default(),
                    period: match args.period.as_deref() {
                        Some("latest") => crate::generate::latest_complete_quarter(
                            chrono::Utc::now().date_naive(),
                        )
                        .id(),
                        p => p.unwrap_or_default().to_owned(),
                    },
                    publish: args.publish,
                    format: format_to_proto(format) as i32,
                    requested_by: requested_by(args.requested_by.as_deref()),
                })
                .await
        }
    }
    .map_err(describe_status)?
    .into_inner();
    match &args.out {
        Some(path) => {
            std::fs::write(path, &doc.content)?;
            let unavailable: Vec<&str> = doc
                .sections
                .iter()
                .filter(|s| s.status != "ok")
                .map(|s| s.title.as_str())
                .collect();
            eprintln!(
                "report {} ({} {}{}) written to {}",
                doc.report_id,
                doc.la_code,
                doc.period.as_ref().map(|p| p.id.as_str()).unwrap_or(""),
                if doc.published { ", published" } else { "" },
                path.display()
            );
            if !unavailable.is_empty() {
                eprintln!("unavailable sections: {}", unavailable.join(", "));
            }
        }
        None => crate::out(&String::from_utf8_lossy(&doc.content)),
    }
    Ok(())
}

pub fn requested_by(flag: Option<&str>) -> String {
    flag.map(str::to_owned)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

#[derive(clap::Subcommand, Clone)]
pub enum CommentaryCommand {
    /// Set one section's commentary for an LA and period (empty text clears it).
    Set {
        #[arg(long)]
        la: String,
        #[arg(long)]
        period: String,
        /// frontdoor, child_protection, children_in_need, missing, exploitation, looked_after, costs.
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
        addrs: crate::ClientAddrs,
    },
    /// The commentary held for an LA and period.
    List {
        #[arg(long)]
        la: String,
        #[arg(long)]
        period: String,
        #[command(flatten)]
        addrs: crate::ClientAddrs,
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
            let mut client = connect(&addrs.aggregator).await?;
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
            let mut client = connect(&addrs.aggregator).await?;
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
        addrs: crate::ClientAddrs,
    },
    /// The population an LA's rates use in a period, and where it comes from.
    Get {
        #[arg(long)]
        la: String,
        #[arg(long)]
        period: String,
        #[command(flatten)]
        addrs: crate::ClientAddrs,
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
            let mut client = connect(&addrs.aggregator).await?;
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
            let mut client = connect(&addrs.aggregator).await?;
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
        addrs: crate::ClientAddrs,
    },
    /// Replace a reference table with a newer DfE or ONS release (the CSV as published).
    Load {
        /// The table's name (see `csc reference list`).
        table: String,
        file: PathBuf,
        #[command(flatten)]
        addrs: crate::ClientAddrs,
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
            let mut client = connect(&addrs.aggregator).await?;
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
            let mut client = connect(&addrs.aggregator).await?;
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
