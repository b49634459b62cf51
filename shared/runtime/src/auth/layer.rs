//! The tower layer in front of every server's routes that authenticates each call, checks its
//! scopes and LAs, and audits child-level calls.
//!
//! It works on the wire, the same for every service and every method, present and future:
//! - the bearer token is verified ([`super::token::Verifier`]) and its scopes checked against
//!   [`super::scopes::table`];
//! - the request is decoded against the API's own descriptors, and every `la_code` in it must be
//!   one of the token's LAs; so must every `la_code` in the response (a report fetched by id, a
//!   page of records), or the caller gets PERMISSION_DENIED and none of it;
//! - a *child-level* method (one whose request or response carries a `child_id`) is refused to a
//!   regional caller, and every such call, admitted or refused, is appended to the service's
//!   audit log with the children it named or returned. A call whose audit entry cannot be
//!   written returns no data;
//! - a method the API marks `(csc.common.v1.audited)` (the report's) is audited the same way,
//!   open to regional callers for their LAs;
//! - every method that writes or deletes records is closed to regional callers and audited, and
//!   a write that commits has its audit entry in the same transaction as its records
//!   ([`audit::commit`]; a batch's in its savepoint of the writer's group, [`audit::append`]):
//!   no committed write without its row, no row without its write.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor, ReflectMessage, Value};
use sea_orm::DatabaseConnection;
use tonic::{Code, Status, body::Body, codegen::http};

use super::{Caller, Mode, scopes};
use crate::{admission::Admission, audit};

/// What the layer knows of one method of the API.
struct Method {
    input: MessageDescriptor,
    output: MessageDescriptor,
    child_level: bool,
    /// Writes or deletes records (BatchUpsert*, Delete*, RecordImport): closed to regional
    /// callers whatever it carries.
    writes: bool,
    /// Marked `(csc.common.v1.audited)` in the API: audited, though neither of the above.
    audited: bool,
}

impl Method {
    /// Whether every call is written to the audit log.
    fn audits(&self) -> bool {
        self.child_level || self.writes || self.audited
    }
}

/// Everything the layer needs: how tokens are checked, the API's methods, and where the audit
/// log is.
pub struct Guard {
    mode: Mode,
    methods: HashMap<String, Method>,
    audit: Option<DatabaseConnection>,
    admission: Admission,
    /// False from a server's start until its readiness first passes (its migrations applied):
    /// calls before then are answered UNAVAILABLE, not run against a schema still being made.
    ready_once: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("mode", &self.mode)
            .field("methods", &self.methods.len())
            .finish()
    }
}

/// Whether messages of type `m` can carry a field named `name`, at any depth.
fn carries(m: &MessageDescriptor, name: &str, seen: &mut HashSet<String>) -> bool {
    if !seen.insert(m.full_name().to_owned()) {
        return false;
    }
    m.fields().any(|f| {
        f.name() == name
            || match f.kind() {
                Kind::Message(inner) => carries(&inner, name, seen),
                _ => false,
            }
    })
}

fn is_child_level(input: &MessageDescriptor, output: &MessageDescriptor) -> bool {
    carries(input, "child_id", &mut HashSet::new())
        || carries(output, "child_id", &mut HashSet::new())
}

/// A method that writes or deletes records, by the API's naming (AIP-style verbs).
fn writes(name: &str) -> bool {
    name.starts_with("BatchUpsert") || name.starts_with("Delete") || name == "RecordImport"
}

impl Guard {
    /// A guard for the services `services` (their full gRPC names) of the suite's API; `audit`
    /// is the server's database, whose migrations include [`audit::CreateAuditLog`], wherever
    /// those services have child-level methods.
    pub fn new(mode: Mode, audit: Option<DatabaseConnection>, services: &[&str]) -> Self {
        let pool = super::api_descriptors();
        let mut methods = HashMap::new();
        for s in pool
            .services()
            .filter(|s| services.contains(&s.full_name()))
        {
            // A key that names a child's record (its Get answers a record with a child_id) makes
            // every method taking that key child-level: a Delete whose key holds no child_id
            // (a contact's id, a feedback response's) still removes a child's record.
            let child_keys: HashSet<String> = s
                .methods()
                .filter(|m| is_child_level(&m.input(), &m.output()))
                .map(|m| m.input().full_name().to_owned())
                .collect();
            for m in s.methods() {
                let (input, output) = (m.input(), m.output());
                methods.insert(
                    format!("/{}/{}", s.full_name(), m.name()),
                    Method {
                        child_level: is_child_level(&input, &output)
                            || child_keys.contains(input.full_name()),
                        writes: writes(m.name()),
                        audited: scopes::audited(&m),
                        input,
                        output,
                    },
                );
            }
        }
        Guard {
            mode,
            methods,
            audit,
            admission: crate::config::ServerArgs::default().admission(),
            ready_once: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// Answers the API's calls UNAVAILABLE (retryable) until [`Guard::mark_ready`]: the server
    /// calls it as it starts, before its migrations have run.
    pub fn hold_until_ready(&self) {
        self.ready_once
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// The server's readiness has passed once: its calls are served from now on.
    pub fn mark_ready(&self) {
        self.ready_once
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether the API's calls are served (not held while the server starts).
    pub fn serves_calls(&self) -> bool {
        self.ready_once.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The same guard with the server's own load-shedding budget.
    pub fn with_admission(mut self, admission: Admission) -> Self {
        self.admission = admission;
        self
    }

    /// A guard over every service of the API (what `csc token scopes` describes).
    pub fn for_whole_api(mode: Mode) -> Self {
        let names: Vec<String> = super::api_descriptors()
            .services()
            .map(|s| s.full_name().to_owned())
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Guard::new(mode, None, &names)
    }

    /// Every method path of the API this guard knows, sorted.
    pub fn paths(&self) -> Vec<&str> {
        let mut p: Vec<&str> = self.methods.keys().map(String::as_str).collect();
        p.sort_unstable();
        p
    }

    /// What the layer reads off a unary request body (gRPC framing included) to `path`: the LAs
    /// and the (LA, child) pairs it names, or the status it refuses the body with. The fuzz
    /// target `auth_request` drives it with any bytes.
    pub fn examine(&self, path: &str, body: &[u8]) -> Result<Examined, Status> {
        let method = self
            .methods
            .get(path)
            .ok_or_else(|| Status::unimplemented("not served here"))?;
        let named = named(&decode(&method.input, body)?);
        Ok(Examined {
            las: named.las,
            children: named.children,
        })
    }

    /// Whether `path` is a child-level method (audited, closed to regional callers).
    pub fn is_child_level(&self, path: &str) -> bool {
        self.methods.get(path).is_some_and(|m| m.child_level)
    }

    /// Whether a regional caller is refused `path`: every child-level method, and every method
    /// that writes or deletes records.
    pub fn closed_to_regional(&self, path: &str) -> bool {
        self.methods
            .get(path)
            .is_none_or(|m| m.child_level || m.writes)
    }
}

/// The layer; see the module documentation.
#[derive(Debug, Clone)]
pub struct AuthLayer(pub Arc<Guard>);

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            guard: self.0.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    guard: Arc<Guard>,
}

impl<S> tower::Service<http::Request<Body>> for AuthService<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        // The clone is not ready: keep the one that is (the tower idiom).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let guard = self.guard.clone();
        Box::pin(handle(guard, inner, req))
    }
}

fn refuse(status: Status) -> http::Response<Body> {
    status.into_http()
}

/// The `authorization: Bearer …` token of a request.
fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// What [`Guard::examine`] read off a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examined {
    pub las: BTreeSet<String>,
    pub children: BTreeSet<(String, String)>,
}

/// What a message names: LAs, children (with their LA), and the batch's `request_id`.
#[derive(Default, Debug)]
struct Named {
    las: BTreeSet<String>,
    children: BTreeSet<(String, String)>,
}

fn string_field(m: &DynamicMessage, name: &str) -> Option<String> {
    m.descriptor().get_field_by_name(name)?;
    match m.get_field_by_name(name)?.as_ref() {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// The LAs and children a whole message names.
fn named(m: &DynamicMessage) -> Named {
    let mut n = Named::default();
    walk(m, None, &mut n);
    n
}

fn walk(m: &DynamicMessage, la: Option<&str>, named: &mut Named) {
    let own = string_field(m, "la_code");
    let la = own.as_deref().or(la);
    if let Some(l) = &own {
        named.las.insert(l.clone());
    }
    if let Some(child) = string_field(m, "child_id") {
        named
            .children
            .insert((la.unwrap_or_default().to_owned(), child));
    }
    for (_, value) in m.fields() {
        match value {
            Value::Message(inner) => walk(inner, la, named),
            Value::List(items) => {
                for item in items {
                    if let Value::Message(inner) = item {
                        walk(inner, la, named);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The one message of a unary gRPC body (5-byte frame header, then the message).
fn unframe(body: &[u8]) -> Result<&[u8], Status> {
    if body.len() < 5 {
        return Err(Status::invalid_argument(
            "the request holds no gRPC message",
        ));
    }
    if body[0] != 0 {
        return Err(Status::unimplemented(
            "compressed messages are not accepted by this server",
        ));
    }
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    if body.len() != 5 + len {
        return Err(Status::invalid_argument(
            "a unary call carries exactly one gRPC message",
        ));
    }
    Ok(&body[5..])
}

fn decode(desc: &MessageDescriptor, body: &[u8]) -> Result<DynamicMessage, Status> {
    DynamicMessage::decode(desc.clone(), unframe(body)?).map_err(|e| {
        Status::invalid_argument(format!(
            "the request is not a valid {}: {e}",
            desc.full_name()
        ))
    })
}

fn code_of(headers: &http::HeaderMap) -> Option<Code> {
    crate::metrics::grpc_status(headers).map(Code::from_i32)
}

/// A gRPC code as the audit log spells it: as the metrics do.
fn code_name(code: Code) -> String {
    crate::metrics::status_name(code as i32).to_owned()
}

/// A response body of `data` then `trailers`, as it came.
fn body_of(data: Bytes, trailers: Option<http::HeaderMap>) -> Body {
    if data.is_empty() && trailers.is_none() {
        // A trailers-only response (an error): the body must say it is over at once, so that
        // the headers carry END_STREAM, as gRPC clients require.
        return Body::empty();
    }
    let mut frames = Vec::with_capacity(2);
    if !data.is_empty() {
        frames.push(Ok::<_, Infallible>(http_body::Frame::data(data)));
    }
    if let Some(t) = trailers {
        frames.push(Ok(http_body::Frame::trailers(t)));
    }
    Body::new(StreamBody::new(tokio_stream::iter(frames)))
}

async fn handle<S>(
    guard: Arc<Guard>,
    mut inner: S,
    req: http::Request<Body>,
) -> Result<http::Response<Body>, S::Error>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>,
{
    let path = req.uri().path().to_owned();
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 32)
        .sum();
    if header_bytes > crate::MAX_HEADER_BYTES {
        tracing::warn!(method = %csc_core::text::quote(&path), header_bytes, "refused: headers too large");
        return Ok(refuse(Status::resource_exhausted(format!(
            "the request's headers total {header_bytes} bytes, over this server's limit of {} bytes",
            crate::MAX_HEADER_BYTES
        ))));
    }
    if scopes::is_public(&path) {
        return inner.call(req).await;
    }

    // Who is calling.
    let caller = match &guard.mode {
        Mode::Off => Caller::default(),
        Mode::Verify(v) => {
            let Some(token) = bearer(req.headers()) else {
                tracing::warn!(method = %path, "refused: no bearer token");
                return Ok(refuse(Status::unauthenticated(
                    "this call needs a bearer token (authorization: Bearer <JWT>)",
                )));
            };
            match v.verify(token) {
                Ok(claims) => Caller {
                    token: Some(token.to_owned()),
                    claims: Some(Arc::new(claims)),
                },
                Err(why) => {
                    tracing::warn!(method = %path, reason = %why, "refused: bad token");
                    return Ok(refuse(Status::unauthenticated(why.0)));
                }
            }
        }
    };

    // What it may call.
    let Some(required) = scopes::required(&path) else {
        return Ok(refuse(Status::permission_denied(format!(
            "{path} is not a method this server grants to anyone"
        ))));
    };
    if let Some(c) = &caller.claims {
        let missing: Vec<&str> = required
            .iter()
            .map(String::as_str)
            .filter(|s| !c.has_scope(s))
            .collect();
        if !missing.is_empty() {
            tracing::warn!(method = %path, sub = %c.sub, ?missing, "refused: missing scope");
            return Ok(refuse(Status::permission_denied(format!(
                "the token lacks the scope {} that {path} needs",
                missing.join(" and ")
            ))));
        }
    }
    let Some(method) = guard.methods.get(&path) else {
        if path.starts_with("/grpc.reflection.") {
            // Reflection describes the API, never data; and it streams.
            return super::CALLER.scope(caller, inner.call(req)).await;
        }
        return Ok(refuse(Status::unimplemented(format!(
            "{path} is not served here"
        ))));
    };

    // A call that arrives while the server starts (its migrations not yet applied) would meet
    // missing tables: it is told to come back instead.
    if !guard.serves_calls() {
        return Ok(refuse(crate::error::retry_status(
            Code::Unavailable,
            "the service is starting (its database's migrations are not yet applied); try again",
            std::time::Duration::from_secs(1),
        )));
    }

    // Within the server's budget of calls and request bytes, or shed at once.
    let mut ticket = match guard.admission.admit() {
        Ok(t) => t,
        Err(s) => return Ok(refuse(s)),
    };

    // What it asks for.
    let (parts, body) = req.into_parts();
    let bytes = match guard
        .admission
        .read(&mut ticket, body, crate::MAX_MESSAGE_BYTES + 5)
        .await
    {
        Ok(b) => b,
        Err(s) => return Ok(refuse(s)),
    };
    let request = match decode(&method.input, &bytes) {
        Ok(m) => m,
        Err(s) => return Ok(refuse(s)),
    };
    let asked = named(&request);
    let request_id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| string_field(&request, "request_id"))
        .unwrap_or_default();
    let mut event = audit::Event {
        subject: caller
            .claims
            .as_ref()
            .map(|c| c.sub.clone())
            .unwrap_or_else(|| "-".into()),
        method: path.clone(),
        request_id: request_id
            .chars()
            .take(crate::rpc::MAX_REQUEST_ID_LEN)
            .collect(),
        // What the request names; after the call, what the answer named is added.
        la_codes: asked.las.iter().cloned().collect(),
        children: asked.children.iter().cloned().collect(),
        outcome: String::new(),
    };

    if let Some(c) = &caller.claims {
        let denied = if c.regional && (method.child_level || method.writes) {
            Some(
                "a regional caller may read measures and reports, not child-level records, and may not write or delete records"
                    .to_owned(),
            )
        } else {
            asked
                .las
                .iter()
                .find(|la| !c.may_touch(la))
                .map(|la| format!("the token does not grant LA {}", csc_core::text::quote(la)))
        };
        if let Some(why) = denied {
            tracing::warn!(method = %path, sub = %c.sub, reason = %why, "refused");
            if method.audits() {
                event.outcome = code_name(Code::PermissionDenied);
                if let Err(s) = write_audit(&guard, &event).await {
                    return Ok(refuse(s));
                }
            }
            return Ok(refuse(Status::permission_denied(why)));
        }
    }

    // The call itself, with the caller known to the handler (the aggregator relays the token).
    // A write appends its audit entry inside the transaction that commits its records.
    let claims = caller.claims.clone();
    let req = http::Request::from_parts(parts, Body::new(Full::new(bytes)));
    let pending = method.writes.then(|| audit::Pending::new(event.clone()));
    let call = super::CALLER.scope(caller, inner.call(req));
    let resp = match &pending {
        Some(p) => audit::scope(p.clone(), call).await?,
        None => call.await?,
    };
    let audited = pending.as_ref().is_some_and(|p| p.committed());

    // What it got back.
    let (rparts, rbody) = resp.into_parts();
    let (data, trailers) = match rbody.collect().await {
        Ok(c) => {
            let t = c.trailers().cloned();
            (c.to_bytes(), t)
        }
        Err(s) => return Ok(refuse(s)),
    };
    let code = code_of(&rparts.headers)
        .or_else(|| trailers.as_ref().and_then(code_of))
        .unwrap_or(Code::Unknown);
    let mut returned = Named::default();
    if code == Code::Ok && !data.is_empty() {
        match decode(&method.output, &data) {
            Ok(m) => returned = named(&m),
            Err(e) => {
                tracing::error!(method = %path, error = %e, "a response did not decode");
                return Ok(refuse(Status::internal(
                    "the response could not be checked",
                )));
            }
        }
    }
    let foreign = claims
        .as_ref()
        .and_then(|c| returned.las.iter().find(|la| !c.may_touch(la)).cloned());
    event.la_codes = asked.las.union(&returned.las).cloned().collect();
    event.children = asked.children.union(&returned.children).cloned().collect();
    event.outcome = code_name(if foreign.is_some() {
        Code::PermissionDenied
    } else {
        code
    });
    // Reads are audited before any data is returned; writes that committed already are; a write
    // that was refused or failed (nothing committed) is audited here with its outcome.
    if method.audits()
        && !audited
        && let Err(s) = write_audit(&guard, &event).await
    {
        return Ok(refuse(s));
    }
    if let Some(la) = foreign {
        tracing::warn!(method = %path, la = %la, "refused: the answer holds another LA's data");
        return Ok(refuse(Status::permission_denied(format!(
            "the token does not grant LA {la}"
        ))));
    }
    Ok(http::Response::from_parts(rparts, body_of(data, trailers)))
}

async fn write_audit(guard: &Guard, event: &audit::Event) -> Result<(), Status> {
    let Some(db) = &guard.audit else {
        tracing::error!(method = %event.method, "an audited call on a server without an audit log");
        return Err(Status::internal("this server keeps no audit log"));
    };
    audit::record(db, event).await.map_err(|e| {
        tracing::error!(method = %event.method, error = %e, "the audit log could not be written");
        Status::unavailable("the audit log could not be written; nothing was returned")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::for_whole_api(Mode::Off)
    }

    /// Child-level is read off the API: record methods are, measures and reports are not.
    #[test]
    fn child_level_methods_are_those_that_carry_a_child() {
        let g = guard();
        for p in [
            "/csc.frontdoor.v1.FrontDoorService/ListReferrals",
            "/csc.frontdoor.v1.FrontDoorService/GetContact",
            "/csc.frontdoor.v1.FrontDoorService/BatchUpsertContacts",
            "/csc.placements.v1.PlacementsService/GetCareHistory",
            "/csc.protection.v1.ProtectionService/DeleteCpPlan",
            // Keys that hold no child_id, of records that belong to a child.
            "/csc.frontdoor.v1.FrontDoorService/DeleteContact",
            "/csc.protection.v1.ProtectionService/DeleteFeedback",
        ] {
            assert!(g.is_child_level(p), "{p}");
        }
        for p in [
            "/csc.frontdoor.v1.FrontDoorService/ComputeMeasures",
            "/csc.reporting.v1.ReportingService/GenerateReport",
            "/csc.reporting.v1.ReportingService/GetReport",
            "/csc.protection.v1.ProtectionService/ListFeedbackQuestions",
        ] {
            assert!(!g.is_child_level(p), "{p}");
        }
    }

    /// No method that writes or deletes records is open to a regional caller, and every Delete of
    /// a record that a Get answers with a child_id is child-level (audited). Fails for any Delete
    /// added without that.
    #[test]
    fn every_write_and_delete_is_closed_to_regional_callers() {
        let g = guard();
        let mut deletes = 0;
        for (path, m) in &g.methods {
            let name = path.rsplit('/').next().unwrap();
            if writes(name) {
                assert!(g.closed_to_regional(path), "{path}");
            }
            if name.starts_with("Delete") {
                deletes += 1;
                let get = path.replace("/Delete", "/Get");
                if let Some(getter) = g.methods.get(&get)
                    && carries(&getter.output, "child_id", &mut HashSet::new())
                {
                    assert!(m.child_level, "{path} deletes a child's record");
                }
            }
        }
        assert!(deletes >= 17, "{deletes} Delete methods");
        for open in [
            "/csc.frontdoor.v1.FrontDoorService/ComputeMeasures",
            "/csc.frontdoor.v1.FrontDoorService/GetCoverage",
            "/csc.reporting.v1.ReportingService/GenerateReport",
        ] {
            assert!(!g.closed_to_regional(open), "{open}");
        }
        // Finance's catalogue is no child's: its deletes are not child-level, still closed.
        let cat = "/csc.finance.v1.FinanceService/DeleteCategory";
        assert!(!g.is_child_level(cat) && g.closed_to_regional(cat));
    }

    /// The LA check rests on every LA-bound message naming its LA `la_code`: a method whose
    /// request names no LA must name it in its response, or be one of the few that hold no LA's
    /// data at all.
    #[test]
    fn every_method_names_its_la_in_the_request_or_the_response() {
        let g = guard();
        let la_free = [
            "/csc.reporting.v1.ReportingService/LoadReferenceTable",
            "/csc.reporting.v1.ReportingService/ListReferenceTables",
            // A benchmarking group is a list of LA codes, no LA's data.
            "/csc.reporting.v1.ReportingService/SetGroup",
            "/csc.reporting.v1.ReportingService/GetGroup",
            "/csc.reporting.v1.ReportingService/ListGroups",
            "/csc.protection.v1.ProtectionService/ListFeedbackQuestions",
        ];
        for (path, m) in &g.methods {
            let named = carries(&m.input, "la_code", &mut HashSet::new())
                || carries(&m.output, "la_code", &mut HashSet::new());
            assert!(
                named || la_free.contains(&path.as_str()),
                "{path} names no la_code: the LA check cannot see whose data it holds"
            );
        }
    }

    #[test]
    fn walk_collects_las_children_and_their_las() {
        let desc = super::super::api_descriptors()
            .get_message_by_name("csc.frontdoor.v1.BatchUpsertReferralsRequest")
            .unwrap();
        let req = csc_proto::frontdoor::BatchUpsertReferralsRequest {
            request_id: "r-1".into(),
            records: vec![
                csc_proto::frontdoor::Referral {
                    la_code: "885".into(),
                    child_id: "C1".into(),
                    ..Default::default()
                },
                csc_proto::frontdoor::Referral {
                    la_code: " 886 ".into(),
                    child_id: "C2".into(),
                    ..Default::default()
                },
            ],
        };
        let mut framed = vec![0u8];
        let msg = prost::Message::encode_to_vec(&req);
        framed.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        framed.extend_from_slice(&msg);
        let m = decode(&desc, &framed).unwrap();
        let named = named(&m);
        assert_eq!(named.las.iter().collect::<Vec<_>>(), ["885", "886"]);
        assert_eq!(
            named.children.into_iter().collect::<Vec<_>>(),
            [("885".into(), "C1".into()), ("886".into(), "C2".into())]
        );
        assert_eq!(string_field(&m, "request_id").as_deref(), Some("r-1"));
        let mut compressed = framed.clone();
        compressed[0] = 1;
        assert_eq!(
            decode(&desc, &compressed).unwrap_err().code(),
            Code::Unimplemented
        );
        assert_eq!(
            decode(&desc, &framed[..7]).unwrap_err().code(),
            Code::InvalidArgument
        );
    }

    #[test]
    fn bearer_reads_the_authorization_header() {
        let mut h = http::HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert("authorization", "Bearer abc.def.ghi".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc.def.ghi"));
        h.insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
