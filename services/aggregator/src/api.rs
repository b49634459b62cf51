//! `csc.reporting.v1.ReportingService`: proto ↔ domain, nothing else.

use std::{collections::HashMap, sync::Arc};

use csc_core::{LaCode, Period, Violations};
use csc_proto::{common as cpb, reporting as pb};
use csc_runtime::error::{Error, Result as ServiceResult};
use csc_runtime::rpc::la_and_period;
use sea_orm::DatabaseConnection;
use tokio::sync::RwLock;
use tonic::{Request, Response, Status};

use crate::{
    domain::{
        compose::{self, ComposeInput},
        reference::{Area, PopulationSource, PopulationUsed, Reference, TABLES},
        report::Report,
        sections::{SECTIONS, SectionStatus},
    },
    render::{self, Format},
    store,
    upstream::Upstreams,
};

/// Commentary is prose for a printed page, not a document store.
const MAX_COMMENTARY_CHARS: usize = 20_000;
const MAX_NAME_CHARS: usize = 200;

pub struct Reporting {
    db: DatabaseConnection,
    upstreams: Upstreams,
    /// Parsed at the first readiness check that reaches the database ([`Self::load_reference`]).
    reference: RwLock<Option<Arc<Reference>>>,
}

impl Reporting {
    /// The service over a database it has not touched yet: nothing is read until
    /// [`Self::load_reference`].
    pub fn new(db: DatabaseConnection, upstreams: Upstreams) -> Self {
        Reporting {
            db,
            upstreams,
            reference: RwLock::new(None),
        }
    }

    /// Loads the reference tables (the shipped release at first start) and parses them, unless
    /// already done: the service's readiness check, once its migrations are applied.
    pub async fn load_reference(&self) -> anyhow::Result<()> {
        if self.reference.read().await.is_some() {
            return Ok(());
        }
        let texts = store::ensure_reference(&self.db).await?;
        let reference = Reference::build(&texts)?;
        *self.reference.write().await = Some(Arc::new(reference));
        Ok(())
    }

    async fn reference(&self) -> ServiceResult<Arc<Reference>> {
        self.reference.read().await.clone().ok_or_else(|| {
            Error::NotReady(
                "the aggregator is still loading its reference tables; retry in a moment".into(),
            )
        })
    }

    /// The population a period's rates use: an operator's override, else the ONS estimate for
    /// mid-(Y − 1) of the financial year ending 31 March Y, else the latest earlier estimate.
    async fn population(&self, la: &str, period: &Period) -> ServiceResult<Option<PopulationUsed>> {
        let year = period.financial_year();
        if let Some(p) = store::population_override(&self.db, la, year).await? {
            return Ok(Some(PopulationUsed {
                year,
                population: p,
                source: PopulationSource::Override,
            }));
        }
        Ok(self
            .reference()
            .await?
            .ons_population(&Area::La(la.to_owned()), year))
    }

    /// Composes, keeps and returns the report.
    pub async fn generate(
        &self,
        la: &str,
        period: &Period,
        publish: bool,
        allow_partial: bool,
        requested_by: &str,
    ) -> Result<Report, Status> {
        let periods = compose::trend_periods(period);
        let fetched = self
            .upstreams
            .fetch_all(la, &periods, compose::needed(period, &periods))
            .await;
        let mut populations = Vec::with_capacity(periods.len());
        for p in &periods {
            populations.push(self.population(la, p).await?);
        }
        let commentary: HashMap<String, String> = store::commentary_for(&self.db, la, &period.id())
            .await?
            .into_iter()
            .map(|c| (c.section, c.body))
            .collect();
        let reference = self.reference().await?;
        let mut report = compose::compose(ComposeInput {
            la_code: la.to_owned(),
            period: *period,
            periods,
            measures: fetched.measures,
            unavailable: fetched.unavailable,
            held: fetched.held,
            populations,
            reference: &reference,
            commentary,
            generated_at: store::now(),
            report_id: uuid::Uuid::new_v4().to_string(),
            requested_by: requested_by.to_owned(),
        });
        if publish {
            publishable(&report, allow_partial)?;
            report.publish();
        }
        let document = serde_json::to_string(&report)
            .map_err(|e| Error::Internal(format!("serialising the report: {e}")))?;
        store::save_report(
            &self.db,
            store::entities::report::Model {
                id: report.report_id.clone(),
                la_code: la.to_owned(),
                period_id: period.id(),
                generated_at: report.generated_at.clone(),
                requested_by: requested_by.to_owned(),
                published: report.published,
                document,
            },
        )
        .await?;
        tracing::info!(la, period = %period, report_id = %report.report_id, publish, requested_by, "report generated");
        Ok(report)
    }
}

/// A published report must be complete: a section `unavailable` or `no_data` refuses publication,
/// and a `partial` one unless `allow_partial`. FAILED_PRECONDITION names each section.
pub fn publishable(report: &Report, allow_partial: bool) -> Result<(), Status> {
    let mut details = tonic_types::ErrorDetails::new();
    let mut blocking = Vec::new();
    for s in &report.sections {
        let blocks = match s.status {
            SectionStatus::Ok => false,
            SectionStatus::Partial => !allow_partial,
            SectionStatus::NoData | SectionStatus::Unavailable => true,
        };
        if blocks {
            let why = s.notes.first().cloned().unwrap_or_default();
            details.add_precondition_failure_violation(
                s.status.as_str().to_uppercase(),
                format!("sections/{}", s.id),
                format!("{} is {}: {why}", s.title, s.status),
            );
            blocking.push(format!("{} ({})", s.id, s.status));
        }
    }
    if blocking.is_empty() {
        return Ok(());
    }
    use tonic_types::StatusExt as _;
    Err(Status::with_error_details(
        tonic::Code::FailedPrecondition,
        format!(
            "the report cannot be published: {}{}",
            blocking.join(", "),
            if allow_partial {
                ""
            } else {
                " (a partial section needs allow_partial; no_data and unavailable never publish)"
            }
        ),
        details,
    ))
}

/// The rendering a request asks for (unspecified: JSON). A value the API does not define is
/// refused, never read as the default.
pub fn format_from(f: i32) -> Result<Format, Error> {
    Ok(match pb::Format::try_from(f) {
        Ok(pb::Format::Html) => Format::Html,
        Ok(pb::Format::Markdown) => Format::Markdown,
        Ok(pb::Format::Xlsx) => Format::Xlsx,
        Ok(pb::Format::Csv) => Format::Csv,
        Ok(pb::Format::Json | pb::Format::Unspecified) => Format::Json,
        Err(_) => {
            return Err(Error::invalid(
                "format",
                format!(
                    "{f} is not a report format (FORMAT_JSON = 1, FORMAT_HTML = 2, FORMAT_MARKDOWN = 3, FORMAT_XLSX = 4, FORMAT_CSV = 5)"
                ),
            ));
        }
    })
}

/// The wire name of a rendering.
pub fn format_to(f: Format) -> pb::Format {
    match f {
        Format::Json => pb::Format::Json,
        Format::Html => pb::Format::Html,
        Format::Markdown => pb::Format::Markdown,
        Format::Xlsx => pb::Format::Xlsx,
        Format::Csv => pb::Format::Csv,
    }
}

fn document(
    report: &Report,
    format: Format,
    with_content: bool,
) -> Result<pb::ReportDocument, Status> {
    let content = if with_content {
        render::render(report, format)
            .map_err(|e| Status::from(Error::Internal(format!("rendering the report: {e}"))))?
    } else {
        Vec::new()
    };
    Ok(pb::ReportDocument {
        report_id: report.report_id.clone(),
        la_code: report.la_code.clone(),
        period: Some(cpb::Period {
            id: report.period.id.clone(),
            start: report.period.start.clone(),
            end: report.period.end.clone(),
        }),
        generated_at: report.generated_at.clone(),
        published: report.published,
        requested_by: report.requested_by.clone(),
        format: format_to(format) as i32,
        content_type: format.content_type().to_owned(),
        content,
        sections: report
            .sections
            .iter()
            .map(|s| pb::SectionStatus {
                id: s.id.clone(),
                title: s.title.clone(),
                status: s.status.as_str().into(),
            })
            .collect(),
    })
}

fn check_len(v: &mut Violations, field: &str, text: &str, max: usize) {
    if text.chars().count() > max {
        v.add(field, format!("longer than {max} characters"));
    }
}

fn load_report(model: store::entities::report::Model) -> Result<Report, Error> {
    serde_json::from_str(&model.document)
        .map_err(|e| Error::Internal(format!("report {} cannot be read: {e}", model.id)))
}

#[tonic::async_trait]
impl pb::reporting_service_server::ReportingService for Reporting {
    async fn generate_report(
        &self,
        req: Request<pb::GenerateReportRequest>,
    ) -> Result<Response<pb::ReportDocument>, Status> {
        let r = req.into_inner();
        let format = format_from(r.format)?;
        let (la, period) = la_and_period(&r.la_code, &r.period)?;
        let mut v = Violations::new();
        check_len(&mut v, "requested_by", &r.requested_by, MAX_NAME_CHARS);
        if !v.is_empty() {
            return Err(Error::Invalid(v).into());
        }
        // Who asked: as the caller says, else the token's subject.
        let who = if r.requested_by.trim().is_empty() {
            csc_runtime::auth::caller_subject().unwrap_or_else(|| "unknown".into())
        } else {
            r.requested_by.trim().to_owned()
        };
        let report = self
            .generate(&la.to_string(), &period, r.publish, r.allow_partial, &who)
            .await?;
        Ok(Response::new(document(&report, format, true)?))
    }

    async fn get_report(
        &self,
        req: Request<pb::GetReportRequest>,
    ) -> Result<Response<pb::ReportDocument>, Status> {
        let r = req.into_inner();
        let format = format_from(r.format)?;
        let model = store::get_report(&self.db, &r.report_id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no report {:?}", r.report_id)))?;
        let report = load_report(model)?;
        Ok(Response::new(document(&report, format, true)?))
    }

    async fn list_reports(
        &self,
        req: Request<pb::ListReportsRequest>,
    ) -> Result<Response<pb::ListReportsResponse>, Status> {
        let r = req.into_inner();
        let la = LaCode::parse(&r.la_code).map_err(|e| Error::invalid("la_code", e))?;
        if !r.period.is_empty() {
            r.period
                .parse::<Period>()
                .map_err(|e| Error::invalid("period", e.to_string()))?;
        }
        let size = csc_runtime::paging::page_size(r.page_size)?;
        let offset = csc_runtime::paging::decode::<u64>(&r.page_token)?.unwrap_or(0);
        let period = (!r.period.is_empty()).then_some(r.period.as_str());
        let rows = store::list_reports(&self.db, &la.to_string(), period, offset, size + 1).await?;
        let more = rows.len() as u64 > size;
        let reports = rows
            .into_iter()
            .take(size as usize)
            .map(|(id, period_id, generated_at, requested_by, published)| {
                let p = period_id.parse::<Period>().ok();
                pb::ReportDocument {
                    report_id: id,
                    la_code: la.to_string(),
                    period: p.map(|p| cpb::Period {
                        id: p.id(),
                        start: p.start().to_string(),
                        end: p.end().to_string(),
                    }),
                    generated_at,
                    published,
                    requested_by,
                    ..Default::default()
                }
            })
            .collect();
        Ok(Response::new(pb::ListReportsResponse {
            reports,
            next_page_token: if more {
                csc_runtime::paging::encode(&(offset + size))
            } else {
                String::new()
            },
        }))
    }

    async fn set_commentary(
        &self,
        req: Request<pb::Commentary>,
    ) -> Result<Response<pb::Commentary>, Status> {
        let c = req.into_inner();
        let (la, period) = la_and_period(&c.la_code, &c.period)?;
        let mut v = Violations::new();
        if !SECTIONS.iter().any(|s| s.id == c.section) {
            v.add(
                "section",
                format!(
                    "unknown section {:?}; the sections are {}",
                    c.section,
                    SECTIONS.iter().map(|s| s.id).collect::<Vec<_>>().join(", ")
                ),
            );
        }
        check_len(&mut v, "text", &c.text, MAX_COMMENTARY_CHARS);
        check_len(&mut v, "author", &c.author, MAX_NAME_CHARS);
        if !v.is_empty() {
            return Err(Error::Invalid(v).into());
        }
        let model = store::entities::commentary::Model {
            la_code: la.to_string(),
            period_id: period.id(),
            section: c.section.clone(),
            body: c.text.clone(),
            author: c.author.clone(),
            updated_at: store::now(),
        };
        let updated_at = model.updated_at.clone();
        store::set_commentary(&self.db, model).await?;
        Ok(Response::new(pb::Commentary {
            la_code: la.to_string(),
            period: period.id(),
            updated_at,
            ..c
        }))
    }

    async fn list_commentary(
        &self,
        req: Request<pb::ListCommentaryRequest>,
    ) -> Result<Response<pb::ListCommentaryResponse>, Status> {
        let r = req.into_inner();
        let (la, period) = la_and_period(&r.la_code, &r.period)?;
        let commentary = store::commentary_for(&self.db, &la.to_string(), &period.id())
            .await?
            .into_iter()
            .map(|c| pb::Commentary {
                la_code: c.la_code,
                period: c.period_id,
                section: c.section,
                text: c.body,
                author: c.author,
                updated_at: c.updated_at,
            })
            .collect();
        Ok(Response::new(pb::ListCommentaryResponse { commentary }))
    }

    async fn set_population(
        &self,
        req: Request<pb::PopulationOverride>,
    ) -> Result<Response<pb::PopulationOverride>, Status> {
        let r = req.into_inner();
        let mut v = Violations::new();
        let la = LaCode::parse(&r.la_code)
            .map_err(|e| v.add("la_code", e))
            .ok();
        if !(2000..=2100).contains(&r.year) {
            v.add(
                "year",
                format!("{} is not a mid-year estimate year (2000–2100)", r.year),
            );
        }
        if !(0..=20_000_000).contains(&r.population) {
            v.add(
                "population",
                format!(
                    "{} is not a population of children (0 removes the override)",
                    r.population
                ),
            );
        }
        let Some(la) = la.filter(|_| v.is_empty()) else {
            return Err(Error::Invalid(v).into());
        };
        store::set_population(&self.db, &la.to_string(), r.year, r.population).await?;
        tracing::info!(la = %la, year = r.year, population = r.population, "population override set");
        Ok(Response::new(pb::PopulationOverride {
            la_code: la.to_string(),
            ..r
        }))
    }

    async fn get_population(
        &self,
        req: Request<pb::GetPopulationRequest>,
    ) -> Result<Response<pb::PopulationInfo>, Status> {
        let r = req.into_inner();
        let (la, period) = la_and_period(&r.la_code, &r.period)?;
        let p = self.population(&la.to_string(), &period).await?;
        Ok(Response::new(match p {
            Some(p) => pb::PopulationInfo {
                la_code: la.to_string(),
                year: p.year,
                population: p.population,
                source: p.source.as_str().into(),
            },
            None => pb::PopulationInfo {
                la_code: la.to_string(),
                year: period.financial_year(),
                population: 0,
                source: "none".into(),
            },
        }))
    }

    async fn load_reference_table(
        &self,
        req: Request<pb::LoadReferenceTableRequest>,
    ) -> Result<Response<pb::ReferenceTableInfo>, Status> {
        let r = req.into_inner();
        let text = String::from_utf8(r.content)
            .map_err(|_| Error::invalid("content", "not UTF-8 text (a CSV file is expected)"))?;
        Reference::check_table(&r.table, &text)
            .map_err(|e| Error::invalid("content", e.to_string()))?;
        let source = if r.source.trim().is_empty() {
            "operator upload".to_owned()
        } else {
            r.source.clone()
        };
        store::put_reference(&self.db, &r.table, &source, &text).await?;
        // Re-read every table, so the report uses the new release from the next call on.
        let texts = store::ensure_reference(&self.db).await?;
        let rebuilt = Reference::build(&texts).map_err(|e| Error::Internal(e.to_string()))?;
        *self.reference.write().await = Some(Arc::new(rebuilt));
        tracing::info!(table = r.table, source, "reference table loaded");
        let infos = self.table_infos().await?;
        Ok(Response::new(
            infos
                .into_iter()
                .find(|t| t.table == r.table)
                .ok_or_else(|| Error::Internal("the table just loaded is missing".into()))?,
        ))
    }

    async fn list_reference_tables(
        &self,
        _req: Request<pb::ListReferenceTablesRequest>,
    ) -> Result<Response<pb::ListReferenceTablesResponse>, Status> {
        Ok(Response::new(pb::ListReferenceTablesResponse {
            tables: self.table_infos().await?,
        }))
    }
}

impl Reporting {
    async fn table_infos(&self) -> ServiceResult<Vec<pb::ReferenceTableInfo>> {
        let sources = store::reference_sources(&self.db).await?;
        let reference = self.reference().await?;
        Ok(TABLES
            .iter()
            .map(|t| {
                let (source, loaded_at) = sources
                    .iter()
                    .find(|(n, _, _)| n == t.name)
                    .map(|(_, s, l)| (s.clone(), l.clone()))
                    .unwrap_or_default();
                pb::ReferenceTableInfo {
                    table: t.name.into(),
                    source,
                    loaded_at,
                    rows: reference.rows(t.name) as i64,
                    latest_year: reference.latest_year(t.name).unwrap_or(0),
                    description: t.description.into(),
                }
            })
            .collect())
    }
}
