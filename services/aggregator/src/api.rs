//! `csc.reporting.v1.ReportingService`: proto ↔ domain, nothing else. Each method checks and
//! converts its request, calls [`Reporting`] (`crate::service`), and converts the answer.

use csc_core::{LaCode, Period, Violations};
use csc_proto::{common as cpb, reporting as pb};
use csc_runtime::convert::period_to_proto;
use csc_runtime::error::Error;
use csc_runtime::rpc::la_and_period;
use tonic::{Request, Response, Status};

use crate::{
    domain::{
        group::{self, GroupReport, MAX_MEMBERS, Standing},
        headline::{HEADLINE_COMMENTARY, HEADLINES, is_headline_target},
        report::{Report, Section},
        sections::SECTIONS,
    },
    render::{self, Format},
    service::{GenerateError, KeptGroup, Reporting, TableInfo},
};

/// Commentary is prose for a printed page, not a document store.
const MAX_COMMENTARY_CHARS: usize = 20_000;
const MAX_NAME_CHARS: usize = 200;

impl From<GenerateError> for Status {
    fn from(e: GenerateError) -> Self {
        match e {
            GenerateError::Failed(e) => e.into(),
            GenerateError::NotPublishable {
                sections,
                allow_partial,
            } => not_publishable(&sections, allow_partial),
        }
    }
}

/// A published report must be complete: FAILED_PRECONDITION naming each section that keeps it
/// from being published, and why.
fn not_publishable(sections: &[Section], allow_partial: bool) -> Status {
    let mut details = tonic_types::ErrorDetails::new();
    for s in sections {
        let why = s.notes.first().cloned().unwrap_or_default();
        details.add_precondition_failure_violation(
            s.status.as_str().to_uppercase(),
            format!("sections/{}", s.id),
            format!("{} is {}: {why}", s.title, s.status),
        );
    }
    let blocking: Vec<String> = sections
        .iter()
        .map(|s| format!("{} ({})", s.id, s.status))
        .collect();
    use tonic_types::StatusExt as _;
    Status::with_error_details(
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
    )
}

/// The rendering a request asks for (unspecified: JSON). A value the API does not define is
/// refused, never read as the default.
pub fn format_from(f: i32) -> Result<Format, Error> {
    Ok(match pb::Format::try_from(f) {
        Ok(pb::Format::Html) => Format::Html,
        Ok(pb::Format::Markdown) => Format::Markdown,
        Ok(pb::Format::Xlsx) => Format::Xlsx,
        Ok(pb::Format::Csv) => Format::Csv,
        Ok(pb::Format::Docx) => Format::Docx,
        Ok(pb::Format::Json | pb::Format::Unspecified) => Format::Json,
        Err(_) => {
            return Err(Error::invalid(
                "format",
                format!(
                    "{f} is not a report format (FORMAT_JSON = 1, FORMAT_HTML = 2, FORMAT_MARKDOWN = 3, FORMAT_XLSX = 4, FORMAT_CSV = 5, FORMAT_DOCX = 6)"
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
        Format::Docx => pb::Format::Docx,
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

async fn group_to_proto(reporting: &Reporting, g: KeptGroup) -> pb::Group {
    let mut member_names = Vec::with_capacity(g.def.members.len());
    for m in &g.def.members {
        member_names.push(reporting.la_name(m).await.unwrap_or_default());
    }
    pb::Group {
        name: g.def.name,
        title: g.def.title,
        members: g.def.members,
        kind: g.def.kind.as_str().into(),
        updated_by: g.updated_by,
        updated_at: g.updated_at,
        member_names,
    }
}

fn group_document(r: &GroupReport, format: Format) -> Result<pb::GroupReportDocument, Status> {
    let content = render::group::render_group(r, format)
        .map_err(|e| Status::from(Error::invalid("format", e.to_string())))?;
    Ok(pb::GroupReportDocument {
        group: r.group.clone(),
        title: r.title.clone(),
        period: r
            .period
            .id
            .parse::<Period>()
            .ok()
            .as_ref()
            .map(period_to_proto),
        la_code: r.focus.clone().unwrap_or_default(),
        generated_at: r.generated_at.clone(),
        published: r.published,
        requested_by: r.requested_by.clone(),
        format: format_to(format) as i32,
        content_type: format.content_type().to_owned(),
        content,
        members: r
            .members
            .iter()
            .filter(|m| m.standing != Standing::NotShared)
            .map(|m| pb::GroupMember {
                la_code: m.la_code.clone(),
                name: m.name.clone().unwrap_or_default(),
                standing: m.standing.as_str().into(),
            })
            .collect(),
        not_shared: r
            .members
            .iter()
            .filter(|m| m.standing == Standing::NotShared)
            .map(|m| m.la_code.clone())
            .collect(),
    })
}

/// Who asked: as the caller says, else the token's subject.
fn who(requested_by: &str) -> String {
    if requested_by.trim().is_empty() {
        csc_runtime::auth::caller_subject().unwrap_or_else(|| "unknown".into())
    } else {
        requested_by.trim().to_owned()
    }
}

fn check_len(v: &mut Violations, field: &str, text: &str, max: usize) {
    if text.chars().count() > max {
        v.add(field, format!("longer than {max} characters"));
    }
}

fn table_to_proto(t: TableInfo) -> pb::ReferenceTableInfo {
    pb::ReferenceTableInfo {
        table: t.table.into(),
        source: t.source,
        loaded_at: t.loaded_at,
        rows: t.rows as i64,
        latest_year: t.latest_year.unwrap_or(0),
        description: t.description.into(),
    }
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
        let report = self
            .generate(
                &la.to_string(),
                &period,
                r.publish,
                r.allow_partial,
                &who(&r.requested_by),
                (!r.benchmark_group.is_empty()).then_some(r.benchmark_group.as_str()),
            )
            .await?;
        Ok(Response::new(document(&report, format, true)?))
    }

    async fn get_report(
        &self,
        req: Request<pb::GetReportRequest>,
    ) -> Result<Response<pb::ReportDocument>, Status> {
        let r = req.into_inner();
        let format = format_from(r.format)?;
        let report = self.report(&r.report_id).await?;
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
        let kept = self
            .reports(&la.to_string(), period, offset, size + 1)
            .await?;
        let more = kept.len() as u64 > size;
        let reports = kept
            .into_iter()
            .take(size as usize)
            .map(|k| pb::ReportDocument {
                report_id: k.report_id,
                la_code: la.to_string(),
                period: k
                    .period_id
                    .parse::<Period>()
                    .ok()
                    .as_ref()
                    .map(period_to_proto),
                generated_at: k.generated_at,
                published: k.published,
                requested_by: k.requested_by,
                ..Default::default()
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

    async fn get_coverage(
        &self,
        req: Request<cpb::GetCoverageRequest>,
    ) -> Result<Response<pb::LaCoverage>, Status> {
        let la = LaCode::parse(&req.get_ref().la_code).map_err(|e| Error::invalid("la_code", e))?;
        let services = self
            .coverage(&la.to_string())
            .await
            .into_iter()
            .map(|(service, c)| match c {
                Ok(c) => pb::ServiceCoverage {
                    service: service.name().into(),
                    coverage: Some(c),
                    error: String::new(),
                },
                Err(why) => pb::ServiceCoverage {
                    service: service.name().into(),
                    coverage: None,
                    error: why,
                },
            })
            .collect();
        Ok(Response::new(pb::LaCoverage {
            la_code: la.to_string(),
            services,
        }))
    }

    async fn set_commentary(
        &self,
        req: Request<pb::Commentary>,
    ) -> Result<Response<pb::Commentary>, Status> {
        let c = req.into_inner();
        let (la, period) = la_and_period(&c.la_code, &c.period)?;
        let mut v = Violations::new();
        if !SECTIONS.iter().any(|s| s.id == c.section) && !is_headline_target(&c.section) {
            v.add(
                "section",
                format!(
                    "unknown section {:?}; commentary is for a section ({}), the headline page \
                     (`{HEADLINE_COMMENTARY}`) or a headline figure ({})",
                    c.section,
                    SECTIONS.iter().map(|s| s.id).collect::<Vec<_>>().join(", "),
                    HEADLINES
                        .iter()
                        .map(|(id, _)| *id)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        check_len(&mut v, "text", &c.text, MAX_COMMENTARY_CHARS);
        check_len(&mut v, "author", &c.author, MAX_NAME_CHARS);
        if !v.is_empty() {
            return Err(Error::Invalid(v).into());
        }
        let kept = self
            .set_commentary(&la.to_string(), &period, &c.section, &c.text, &c.author)
            .await?;
        Ok(Response::new(pb::Commentary {
            la_code: la.to_string(),
            period: period.id(),
            updated_at: kept.updated_at,
            ..c
        }))
    }

    async fn list_commentary(
        &self,
        req: Request<pb::ListCommentaryRequest>,
    ) -> Result<Response<pb::ListCommentaryResponse>, Status> {
        let r = req.into_inner();
        let (la, period) = la_and_period(&r.la_code, &r.period)?;
        let commentary = self
            .commentary(&la.to_string(), &period)
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
        self.set_population(&la.to_string(), r.year, r.population)
            .await?;
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
        let info = self
            .load_reference_table(&r.table, &r.source, &text)
            .await?;
        Ok(Response::new(table_to_proto(info)))
    }

    async fn list_reference_tables(
        &self,
        _req: Request<pb::ListReferenceTablesRequest>,
    ) -> Result<Response<pb::ListReferenceTablesResponse>, Status> {
        Ok(Response::new(pb::ListReferenceTablesResponse {
            tables: self
                .reference_tables()
                .await?
                .into_iter()
                .map(table_to_proto)
                .collect(),
        }))
    }

    async fn set_group(&self, req: Request<pb::Group>) -> Result<Response<pb::Group>, Status> {
        let g = req.into_inner();
        let mut v = Violations::new();
        if let Err(e) = group::check_custom_name(&g.name) {
            v.add("name", e);
        }
        check_len(&mut v, "title", &g.title, MAX_NAME_CHARS);
        if g.members.len() > MAX_MEMBERS {
            v.add(
                "members",
                format!("{} members; at most {MAX_MEMBERS}", g.members.len()),
            );
        }
        let mut members: Vec<String> = Vec::new();
        for (i, m) in g.members.iter().enumerate() {
            match LaCode::parse(m) {
                Ok(la) if members.contains(&la.to_string()) => {
                    v.add(format!("members[{i}]"), format!("LA {la} is listed twice"))
                }
                Ok(la) => members.push(la.to_string()),
                Err(e) => v.add(format!("members[{i}]"), e),
            }
        }
        if !v.is_empty() {
            return Err(Error::Invalid(v).into());
        }
        let title = if g.title.trim().is_empty() {
            g.name.clone()
        } else {
            g.title.trim().to_owned()
        };
        let kept = self.set_group(&g.name, &title, &members, &who("")).await?;
        Ok(Response::new(group_to_proto(self, kept).await))
    }

    async fn get_group(
        &self,
        req: Request<pb::GetGroupRequest>,
    ) -> Result<Response<pb::Group>, Status> {
        let kept = self.group(req.get_ref().name.trim()).await?;
        Ok(Response::new(group_to_proto(self, kept).await))
    }

    async fn list_groups(
        &self,
        _req: Request<pb::ListGroupsRequest>,
    ) -> Result<Response<pb::ListGroupsResponse>, Status> {
        let mut groups = Vec::new();
        for g in self.groups().await? {
            groups.push(group_to_proto(self, g).await);
        }
        Ok(Response::new(pb::ListGroupsResponse { groups }))
    }

    async fn generate_group_report(
        &self,
        req: Request<pb::GenerateGroupReportRequest>,
    ) -> Result<Response<pb::GroupReportDocument>, Status> {
        let r = req.into_inner();
        let format = format_from(r.format)?;
        let mut v = Violations::new();
        if format == Format::Docx {
            v.add("format", "a group report is html, md, json, xlsx or csv");
        }
        let period = r
            .period
            .parse::<Period>()
            .map_err(|e| v.add("period", e.to_string()))
            .ok();
        let focus = if r.la_code.trim().is_empty() {
            None
        } else {
            LaCode::parse(&r.la_code)
                .map_err(|e| v.add("la_code", e))
                .ok()
                .map(|l| l.to_string())
        };
        if r.group.trim().is_empty() {
            v.add(
                "group",
                "a group's name is needed (a custom group, region:NAME or neighbours:LA)",
            );
        }
        check_len(&mut v, "requested_by", &r.requested_by, MAX_NAME_CHARS);
        let Some(period) = period.filter(|_| v.is_empty()) else {
            return Err(Error::Invalid(v).into());
        };
        let report = self
            .generate_group(
                r.group.trim(),
                &period,
                focus.as_deref(),
                r.publish,
                &who(&r.requested_by),
            )
            .await?;
        Ok(Response::new(group_document(&report, format)?))
    }
}
