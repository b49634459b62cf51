//! HTTP read access to reports, for the tools councils already use (Power BI's `Web.Contents`,
//! Excel's "From Web", a browser, `curl`): the same reports as the gRPC API, on a port of their
//! own (`--http-listen`).
//!
//! Each request becomes the gRPC call it stands for, made in this process through the *same*
//! stack the gRPC port serves (metrics, then [`csc_runtime::auth::AuthLayer`], then the reporting
//! service): the bearer token, the scopes, the LA check, the load shedding and the audit log are
//! not a second implementation but the one the gRPC method has. Errors come back as the gRPC
//! status mapped to an HTTP status, with an RFC 9457 problem body that keeps the field
//! violations. docs/reporting.md lists the routes.

use std::{collections::HashMap, time::Duration};

use axum::{
    Router,
    extract::{FromRequestParts, Path, Query},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::get,
};
use csc_proto::{common as cpb, reporting as pb};
use prost::Message;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::render::Format;

pub use csc_runtime::inproc::GrpcStack;

#[derive(Clone)]
struct Api {
    grpc: GrpcStack,
    timeout: Duration,
}

/// The HTTP routes over `grpc`, each call bounded by `timeout`.
pub fn router(grpc: GrpcStack, timeout: Duration) -> Router {
    Router::new()
        .route("/v1/reports/{id}", get(get_report))
        .route("/v1/las/{la}/periods/{period}/report", get(generate_report))
        .route("/v1/las/{la}/reports", get(list_reports))
        .route("/v1/las/{la}/coverage", get(coverage))
        .route(
            "/v1/groups/{group}/periods/{period}/report",
            get(group_report),
        )
        .fallback(|uri: axum::http::Uri| async move {
            problem(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                format!(
                    "no route {}; the routes are /v1/reports/{{id}}, \
                     /v1/las/{{la}}/periods/{{period}}/report, /v1/las/{{la}}/reports, \
                     /v1/las/{{la}}/coverage and /v1/groups/{{group}}/periods/{{period}}/report \
                     (docs/reporting.md)",
                    csc_core::text::quote(uri.path())
                ),
                uri.path(),
                None,
            )
        })
        .with_state(Api { grpc, timeout })
}

const SERVICE: &str = "/csc.reporting.v1.ReportingService/";

impl Api {
    /// The unary gRPC call `method` with `msg`, as the gRPC port would take it from this caller.
    async fn call<Req: Message, Resp: Message + Default>(
        &self,
        method: &str,
        headers: &HeaderMap,
        msg: Req,
    ) -> Result<Resp, Status> {
        let path = format!("{SERVICE}{method}");
        csc_runtime::inproc::call(&self.grpc, &path, headers, msg, self.timeout).await
    }
}

/// The query parameters a route takes: each known one parsed, any other refused by name (a
/// typo such as `formt=xlsx` is not silently the default).
struct Params(HashMap<String, String>);

impl Params {
    fn check(q: HashMap<String, String>, known: &[&str]) -> Result<Params, Status> {
        let mut v = csc_core::Violations::new();
        for k in q.keys() {
            if !known.contains(&k.as_str()) {
                v.add(
                    k.clone(),
                    format!(
                        "not a parameter of this route; it takes {}",
                        known.join(", ")
                    ),
                );
            }
        }
        if !v.is_empty() {
            return Err(csc_runtime::error::Error::Invalid(v).into());
        }
        Ok(Params(q))
    }

    fn format(&self) -> Result<(pb::Format, Format), Status> {
        let f = self.0.get("format").map(String::as_str).unwrap_or("json");
        let pair = match f.to_ascii_lowercase().as_str() {
            "json" => (pb::Format::Json, Format::Json),
            "html" => (pb::Format::Html, Format::Html),
            "md" | "markdown" => (pb::Format::Markdown, Format::Markdown),
            "xlsx" => (pb::Format::Xlsx, Format::Xlsx),
            "csv" => (pb::Format::Csv, Format::Csv),
            "docx" => (pb::Format::Docx, Format::Docx),
            _ => {
                return Err(csc_runtime::error::Error::invalid(
                    "format",
                    format!(
                        "{} is not a format; use json, csv, xlsx, docx, html or md",
                        csc_core::text::quote(f)
                    ),
                )
                .into());
            }
        };
        Ok(pair)
    }

    fn flag(&self, name: &str) -> Result<bool, Status> {
        match self.0.get(name).map(|s| s.to_ascii_lowercase()).as_deref() {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") | Some("") => Ok(true),
            Some(other) => Err(csc_runtime::error::Error::invalid(
                name,
                format!("{} is not true or false", csc_core::text::quote(other)),
            )
            .into()),
        }
    }
}

/// What every route reads off its request besides its path: the API, the caller's headers,
/// the query (its parameters checked by name) and the path, for the problem's `instance`. A
/// query that does not parse is a problem body like any other refusal.
struct Asked {
    api: Api,
    headers: HeaderMap,
    query: HashMap<String, String>,
    path: String,
}

impl FromRequestParts<Api> for Asked {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, Response> {
        let path = parts.uri.path().to_owned();
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, api)
            .await
            .map_err(|e| {
                from_status(
                    &csc_runtime::error::Error::invalid("query", e.body_text()).into(),
                    &path,
                )
            })?;
        Ok(Asked {
            api: api.clone(),
            headers: parts.headers.clone(),
            query,
            path,
        })
    }
}

impl Asked {
    /// The query's parameters, refusing any this route does not take.
    fn params(&mut self, known: &[&str]) -> Result<Params, Status> {
        Params::check(std::mem::take(&mut self.query), known)
    }

    /// The gRPC method `method` with `msg`, as this caller.
    async fn call<Req: Message, Resp: Message + Default>(
        &self,
        method: &str,
        msg: Req,
    ) -> Result<Resp, Status> {
        self.api.call(method, &self.headers, msg).await
    }

    /// The answer, or the refusal as a problem.
    fn answer(&self, r: Result<Response, Status>) -> Response {
        r.unwrap_or_else(|s| from_status(&s, &self.path))
    }
}

/// A report document as an HTTP response: its bytes, type and name, never cached.
fn document(doc: pb::ReportDocument, format: Format) -> Response {
    let period = doc
        .period
        .as_ref()
        .map(|p| p.id.as_str())
        .unwrap_or_default();
    let name = format!(
        "report-{}-{}{}.{}",
        doc.la_code,
        period,
        if doc.published { "-published" } else { "" },
        format.extension()
    );
    rendered(
        &name,
        &doc.content_type,
        &doc.report_id,
        doc.content,
        format,
    )
}

/// Rendered content as an HTTP response named `name`: its type, inline or an attachment, its
/// report id (if any), never cached, and for HTML a policy that lets it fetch nothing.
fn rendered(
    name: &str,
    content_type: &str,
    id: &str,
    content: Vec<u8>,
    format: Format,
) -> Response {
    let name = name.replace(
        |c: char| !(c.is_ascii_alphanumeric() || "-._".contains(c)),
        "_",
    );
    let disposition = match format {
        Format::Xlsx | Format::Docx => "attachment",
        _ => "inline",
    };
    let mut headers = HeaderMap::new();
    let set = |h: &mut HeaderMap, k: HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    set(&mut headers, header::CONTENT_TYPE, content_type);
    set(
        &mut headers,
        header::CONTENT_DISPOSITION,
        &format!("{disposition}; filename=\"{name}\""),
    );
    if !id.is_empty() {
        set(&mut headers, HeaderName::from_static("x-report-id"), id);
    }
    secure(&mut headers);
    if format == Format::Html {
        // The report has no scripts and fetches nothing: say so to the browser.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            ),
        );
    }
    (StatusCode::OK, headers, content).into_response()
}

/// What every answer carries: an LA's figures are not for caches, and a type is not a guess.
fn secure(headers: &mut HeaderMap) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

async fn get_report(Path(id): Path<String>, mut asked: Asked) -> Response {
    let run = async {
        let (wire, format) = asked.params(&["format"])?.format()?;
        let doc: pb::ReportDocument = asked
            .call(
                "GetReport",
                pb::GetReportRequest {
                    report_id: id,
                    format: wire as i32,
                },
            )
            .await?;
        Ok(document(doc, format))
    };
    let r = run.await;
    asked.answer(r)
}

async fn generate_report(Path((la, period)): Path<(String, String)>, mut asked: Asked) -> Response {
    let run = async {
        let p = asked.params(&["format", "publish", "allow_partial", "compare_with"])?;
        let (wire, format) = p.format()?;
        let doc: pb::ReportDocument = asked
            .call(
                "GenerateReport",
                pb::GenerateReportRequest {
                    la_code: la,
                    period,
                    publish: p.flag("publish")?,
                    allow_partial: p.flag("allow_partial")?,
                    format: wire as i32,
                    // The token's subject.
                    requested_by: String::new(),
                    benchmark_group: p.0.get("compare_with").cloned().unwrap_or_default(),
                },
            )
            .await?;
        Ok(document(doc, format))
    };
    let r = run.await;
    asked.answer(r)
}

/// GenerateGroupReport: `?format=&focus=LA&publish=`; the members the token does not grant are
/// named in the `X-Not-Shared` header as well as in the report.
async fn group_report(Path((group, period)): Path<(String, String)>, mut asked: Asked) -> Response {
    let run = async {
        let p = asked.params(&["format", "focus", "publish"])?;
        let (wire, format) = p.format()?;
        let doc: pb::GroupReportDocument = asked
            .call(
                "GenerateGroupReport",
                pb::GenerateGroupReportRequest {
                    group,
                    period,
                    la_code: p.0.get("focus").cloned().unwrap_or_default(),
                    publish: p.flag("publish")?,
                    format: wire as i32,
                    requested_by: String::new(),
                },
            )
            .await?;
        let name = format!(
            "group-report-{}-{}{}.{}",
            doc.group,
            doc.period
                .as_ref()
                .map(|p| p.id.as_str())
                .unwrap_or_default(),
            if doc.published { "-published" } else { "" },
            format.extension()
        );
        let mut r = rendered(&name, &doc.content_type, "", doc.content, format);
        if let Ok(v) = HeaderValue::from_str(&doc.not_shared.join(",")) {
            r.headers_mut()
                .insert(HeaderName::from_static("x-not-shared"), v);
        }
        Ok(r)
    };
    let r = run.await;
    asked.answer(r)
}

async fn list_reports(Path(la): Path<String>, mut asked: Asked) -> Response {
    let run = async {
        let p = asked.params(&["period", "page_size", "page_token"])?;
        let page_size = match p.0.get("page_size") {
            None => 0,
            Some(s) => s.parse::<i32>().map_err(|_| {
                Status::from(csc_runtime::error::Error::invalid(
                    "page_size",
                    "not a whole number",
                ))
            })?,
        };
        let list: pb::ListReportsResponse = asked
            .call(
                "ListReports",
                pb::ListReportsRequest {
                    la_code: la,
                    period: p.0.get("period").cloned().unwrap_or_default(),
                    page_size,
                    page_token: p.0.get("page_token").cloned().unwrap_or_default(),
                },
            )
            .await?;
        let reports: Vec<serde_json::Value> = list
            .reports
            .iter()
            .map(|r| {
                serde_json::json!({
                    "report_id": r.report_id,
                    "la_code": r.la_code,
                    "period": r.period.as_ref().map(|p| p.id.clone()),
                    "generated_at": r.generated_at,
                    "requested_by": r.requested_by,
                    "published": r.published,
                    "url": format!("/v1/reports/{}", r.report_id),
                })
            })
            .collect();
        Ok(json(serde_json::json!({
            "reports": reports,
            "next_page_token": list.next_page_token,
        })))
    };
    let r = run.await;
    asked.answer(r)
}

async fn coverage(Path(la): Path<String>, mut asked: Asked) -> Response {
    let run = async {
        asked.params(&[])?;
        let c: pb::LaCoverage = asked
            .call("GetCoverage", cpb::GetCoverageRequest { la_code: la })
            .await?;
        Ok(json(coverage_json(&c)))
    };
    let r = run.await;
    asked.answer(r)
}

/// An LA's coverage as JSON: each service's kinds and imports, or why it did not answer.
fn coverage_json(c: &pb::LaCoverage) -> serde_json::Value {
    let services: Vec<serde_json::Value> = c
        .services
        .iter()
        .map(|s| {
            let cov = s.coverage.clone().unwrap_or_default();
            let mut v = serde_json::json!({
                "service": s.service,
                "kinds": cov.kinds.iter().map(|k| serde_json::json!({
                    "kind": k.kind, "records": k.records,
                    "earliest": (!k.earliest.is_empty()).then_some(&k.earliest),
                    "latest": (!k.latest.is_empty()).then_some(&k.latest),
                })).collect::<Vec<_>>(),
                "imports": cov.imports.iter().map(|i| serde_json::json!({
                    "source": i.source, "file": i.file,
                    "return_year": (i.return_year != 0).then_some(i.return_year),
                    "covers_from": (!i.covers_from.is_empty()).then_some(&i.covers_from),
                    "covers_to": (!i.covers_to.is_empty()).then_some(&i.covers_to),
                    "imported_at": i.imported_at, "accepted": i.accepted, "refused": i.refused,
                })).collect::<Vec<_>>(),
            });
            if !s.error.is_empty() {
                v["error"] = s.error.clone().into();
            }
            v
        })
        .collect();
    serde_json::json!({ "la_code": c.la_code, "services": services })
}

fn json(v: serde_json::Value) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    secure(&mut headers);
    (StatusCode::OK, headers, format!("{v:#}\n")).into_response()
}

/// The HTTP status of a gRPC code (the mapping of google.rpc.Code, as HTTP/JSON gateways use).
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A gRPC code's canonical name, as google.rpc.Code spells it: `PERMISSION_DENIED`.
fn canonical_name(code: Code) -> String {
    let mut out = String::new();
    for (i, c) in format!("{code:?}").chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// A gRPC status as an RFC 9457 problem: its code's name as `type` and `grpc_code`, its message
/// as `detail`, and its field and precondition violations as `errors` and `violations`.
pub fn from_status(s: &Status, instance: &str) -> Response {
    let code = s.code();
    let name = canonical_name(code);
    let mut extra = serde_json::Map::new();
    extra.insert("grpc_code".into(), name.clone().into());
    if let Some(b) = s.get_details_bad_request() {
        extra.insert(
            "errors".into(),
            b.field_violations
                .iter()
                .map(|v| serde_json::json!({ "field": v.field, "detail": v.description }))
                .collect::<Vec<_>>()
                .into(),
        );
    }
    if let Some(p) = s.get_details_precondition_failure() {
        extra.insert(
            "violations".into(),
            p.violations
                .iter()
                .map(|v| {
                    serde_json::json!({ "type": v.r#type, "subject": v.subject, "detail": v.description })
                })
                .collect::<Vec<_>>()
                .into(),
        );
    }
    let status = http_status(code);
    let title = status.canonical_reason().unwrap_or("Error");
    problem(
        status,
        &name.to_ascii_lowercase().replace('_', "-"),
        title,
        s.message().to_owned(),
        instance,
        Some(extra),
    )
}

fn problem(
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: String,
    instance: &str,
    extra: Option<serde_json::Map<String, serde_json::Value>>,
) -> Response {
    let mut body = serde_json::json!({
        "type": format!("https://csc-suite.example/problems/{kind}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
        "instance": instance,
    });
    if let (Some(extra), Some(obj)) = (extra, body.as_object_mut()) {
        obj.extend(extra);
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    secure(&mut headers);
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"csc\""),
        );
    }
    (status, headers, format!("{body:#}\n")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn grpc_codes_map_to_the_http_statuses_gateways_use() {
        assert_eq!(http_status(Code::InvalidArgument), StatusCode::BAD_REQUEST);
        assert_eq!(http_status(Code::Unauthenticated), StatusCode::UNAUTHORIZED);
        assert_eq!(http_status(Code::PermissionDenied), StatusCode::FORBIDDEN);
        assert_eq!(http_status(Code::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(
            http_status(Code::ResourceExhausted),
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            http_status(Code::Unavailable),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            http_status(Code::DeadlineExceeded),
            StatusCode::GATEWAY_TIMEOUT
        );
    }

    #[tokio::test]
    async fn a_status_becomes_a_problem_with_its_field_violations() {
        let mut v = csc_core::Violations::new();
        v.add("la_code", "not three digits");
        let s: Status = csc_runtime::error::Error::Invalid(v).into();
        let r = from_status(&s, "/v1/las/88/coverage");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body = r.into_body().collect().await.unwrap().to_bytes();
        let p: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(p["status"], 400);
        assert_eq!(p["grpc_code"], "INVALID_ARGUMENT");
        assert_eq!(p["instance"], "/v1/las/88/coverage");
        assert_eq!(p["errors"][0]["field"], "la_code");
        let r = from_status(&Status::unauthenticated("no token"), "/v1/reports/x");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
