//! The generic shape of a record kind's gRPC methods, written once for every service: validate a
//! whole batch (every problem reported, nothing applied if any), then write it atomically and
//! idempotently; get, list and delete by natural key.

use csc_core::{ChildDateKey, FieldCheck, LaCode, Violations};
use csc_proto::common as cpb;
use prost::Message;
use sea_orm::DatabaseConnection;
use tonic::{Response, Status};

use crate::store::{self, Indexed, StoredRecord};
use crate::{
    Error, MAX_BATCH, idempotency, paging,
    writer::{Work, WriteTxn},
};

/// Longest `request_id` accepted (a UUID is 36).
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// A record kind as its service's gRPC API carries it: the one conversion each way between the
/// wire and the domain, and its key. Implemented in each service's `api/convert.rs`.
pub trait WireRecord: StoredRecord + PartialEq {
    /// The record on the wire.
    type Proto: Send + Sync + 'static;
    /// The message naming one record (`Get…`, `Delete…`).
    type ProtoKey: Send + Sync + 'static;
    /// The `BatchUpsert…` request, and its method's name (in metrics, logs and idempotency).
    type Batch: Message + Send + Sync + 'static;
    const BATCH_UPSERT: &'static str;
    /// The `List…` response.
    type List: Send + 'static;
    /// The wire record in the domain's shape, validated: every problem is named by its field
    /// within the record (`start_date`, `factors[1]`); [`upsert`] places it in the batch.
    fn from_proto(p: &Self::Proto) -> Result<Self, Violations>;
    fn to_proto(&self) -> Self::Proto;
    fn key_from_proto(k: &Self::ProtoKey) -> Result<Self::Key, Error>;
}

/// A batch check that has nothing to check.
pub fn no_check<'t, R>(_: &'t WriteTxn<'t>, _: &'t mut Indexed<R>) -> Work<'t, ()> {
    Box::pin(async { Ok(()) })
}

/// With `keep` (a batch request's `keep_stored`), each record's empty fields keep what is stored
/// for it ([`store::KeepStored`]).
pub async fn keep_stored_if<R: store::KeepStored>(
    txn: &WriteTxn<'_>,
    batch: &mut Indexed<R>,
    keep: bool,
) -> Result<(), Error> {
    if keep {
        store::keep_stored(txn, batch).await
    } else {
        Ok(())
    }
}

/// Validates every record of a batch (all problems reported together, each under its
/// `records[i]`; nothing applied if any), drops identical repeats, runs `check` inside the write
/// transaction (for rules that need stored data), then upserts the batch atomically; a replayed
/// `request_id` returns the first response.
pub async fn upsert<R, M>(
    db: &DatabaseConnection,
    method: &str,
    request: &M,
    request_id: &str,
    records: &[R::Proto],
    check: impl for<'t> FnOnce(&'t WriteTxn<'t>, &'t mut Indexed<R>) -> Work<'t, ()> + Send + 'static,
) -> Result<Response<cpb::BatchUpsertResponse>, Status>
where
    R: WireRecord,
    M: Message,
{
    // Refusals are counted here, once, whichever step refuses.
    let result: Result<_, Status> = async {
        let mut violations = Violations::new();
        if request_id.len() > MAX_REQUEST_ID_LEN {
            violations.add(
                "request_id",
                format!("longer than {MAX_REQUEST_ID_LEN} characters"),
            );
        }
        if records.len() > MAX_BATCH {
            violations.add(
                "records",
                format!(
                    "{} records; a batch holds at most {MAX_BATCH}",
                    records.len()
                ),
            );
            return Err(Error::Invalid(violations).into());
        }
        let mut domain = Vec::with_capacity(records.len());
        for (i, p) in records.iter().enumerate() {
            match R::from_proto(p) {
                Ok(r) => domain.push(r),
                Err(v) => violations.extend(v.under(&format!("records[{i}]"))),
            }
        }
        if !violations.is_empty() {
            return Err(Error::Invalid(violations).into());
        }
        let domain = store::dedupe_batch(domain, R::key).map_err(Error::Invalid)?;
        let digest = idempotency::digest(&request.encode_to_vec());
        let outcome = store::batch_upsert_checked(
            db,
            method,
            request_id,
            &digest,
            records.len(),
            domain,
            check,
        )
        .await?;
        crate::metrics::rows_written(method, outcome.received, outcome.written, outcome.unchanged);
        tracing::info!(
            method,
            received = outcome.received,
            written = outcome.written,
            "batch upsert"
        );
        Ok(Response::new(cpb::BatchUpsertResponse {
            request_id: request_id.to_owned(),
            received: outcome.received as i64,
            written: outcome.written as i64,
            unchanged: outcome.unchanged as i64,
        }))
    }
    .await;
    if let Err(s) = &result
        && matches!(
            s.code(),
            tonic::Code::InvalidArgument | tonic::Code::FailedPrecondition
        )
    {
        crate::metrics::batch_refused(method);
    }
    result
}

/// One record by its key.
pub async fn get<R: WireRecord>(
    db: &DatabaseConnection,
    key: &R::ProtoKey,
) -> Result<Response<R::Proto>, Status> {
    let key = R::key_from_proto(key)?;
    match store::get::<R>(db, &key).await? {
        Some(r) => Ok(Response::new(r.to_proto())),
        None => Err(Error::NotFound("no such record".into()).into()),
    }
}

pub async fn delete<R: WireRecord>(
    db: &DatabaseConnection,
    key: &R::ProtoKey,
) -> Result<Response<cpb::DeleteResponse>, Status> {
    let key = R::key_from_proto(key)?;
    if store::delete::<R>(db, &key).await? {
        Ok(Response::new(cpb::DeleteResponse {}))
    } else {
        Err(Error::NotFound("no such record".into()).into())
    }
}

/// One page of an LA's records (one child's when `child_id` is set), and the next page's token.
pub async fn list<R: WireRecord>(
    db: &DatabaseConnection,
    req: &cpb::ListRequest,
) -> Result<(Vec<R::Proto>, String), Status> {
    let la = LaCode::parse(&req.la_code).map_err(|e| Error::invalid("la_code", e))?;
    let size = paging::page_size(req.page_size)?;
    let after = paging::decode::<R::Key>(&req.page_token)?;
    let child = req.child_id.trim();
    let child = (!child.is_empty()).then_some(child);
    let (records, next) = store::list::<R>(db, la, child, size, after).await?;
    Ok((
        records.iter().map(R::to_proto).collect(),
        next.map(|k| paging::encode(&k)).unwrap_or_default(),
    ))
}

/// A [`ChildDateKey`] from a request's fields, each problem named (`date_field` is the API's name
/// for the date, e.g. `referral_date`).
pub fn child_date_key(
    la_code: &str,
    child_id: &str,
    date_field: &str,
    date: &str,
) -> Result<ChildDateKey, Error> {
    let mut c = FieldCheck::new("");
    let la_code = c.la_code("la_code", la_code);
    let child_id = c.id("child_id", child_id);
    let date = c.date(date_field, date);
    let k = (|| {
        Some(ChildDateKey {
            la_code: la_code?,
            child_id: child_id?,
            date: date?,
        })
    })();
    Ok(c.done(k)?)
}

/// The LA and an id of a key keyed by them (a contact id, a response id, a child), each problem
/// named (`id_field` is the API's name for the id).
pub fn la_id_key(la_code: &str, id_field: &str, id: &str) -> Result<(LaCode, String), Error> {
    let mut c = FieldCheck::new("");
    let la_code = c.la_code("la_code", la_code);
    let id = c.id(id_field, id);
    let k = (|| Some((la_code?, id?)))();
    Ok(c.done(k)?)
}

/// The LA and period of a `ComputeMeasures` request, both validated (each problem named).
pub fn measures_request(
    req: &cpb::ComputeMeasuresRequest,
) -> Result<(LaCode, csc_core::Period), Status> {
    Ok(la_and_period(&req.la_code, &req.period)?)
}

/// An LA and a period a request names (`la_code`, `period`), each problem its own violation;
/// and the LA in use in the period: a code retired by a reorganisation serves the periods before
/// it, its successors those after.
pub fn la_and_period(la: &str, period: &str) -> Result<(LaCode, csc_core::Period), Error> {
    let mut v = Violations::new();
    let la = LaCode::parse(la).map_err(|e| v.add("la_code", e)).ok();
    let period = period
        .parse::<csc_core::Period>()
        .map_err(|e| v.add("period", e.to_string()))
        .ok();
    match (la, period) {
        (Some(la), Some(period)) => {
            la.check_period(period.start(), period.end())
                .map_err(|e| Error::invalid("la_code", e))?;
            Ok((la, period))
        }
        _ => Err(Error::Invalid(v)),
    }
}

/// A whole `ComputeMeasures` call: validate the LA and period, `load` what the period needs,
/// `compute` the measures (pure), answer.
pub async fn compute_measures<D>(
    req: &cpb::ComputeMeasuresRequest,
    load: impl AsyncFnOnce(LaCode, &[csc_core::Period]) -> Result<D, Error>,
    compute: impl FnOnce(&csc_core::Period, &D) -> Vec<csc_core::Measure>,
) -> Result<Response<cpb::ComputeMeasuresResponse>, Status> {
    let (la, period) = measures_request(req)?;
    let data = load(la, std::slice::from_ref(&period)).await?;
    Ok(measures_response(la, &period, &compute(&period, &data)))
}

/// Most periods one `ComputeMeasureSeries` call may ask for (a report asks for 8).
pub const MAX_SERIES_PERIODS: usize = 16;

/// The LA and periods of a `ComputeMeasureSeries` request, each problem named (`periods[i]`): 1 to
/// [`MAX_SERIES_PERIODS`] periods, each one the LA was in use for.
pub fn series_request(
    req: &cpb::ComputeMeasureSeriesRequest,
) -> Result<(LaCode, Vec<csc_core::Period>), Error> {
    let mut v = Violations::new();
    let la = LaCode::parse(&req.la_code)
        .map_err(|e| v.add("la_code", e))
        .ok();
    if req.periods.is_empty() || req.periods.len() > MAX_SERIES_PERIODS {
        v.add(
            "periods",
            format!(
                "give 1 to {MAX_SERIES_PERIODS} periods, not {}",
                req.periods.len()
            ),
        );
    }
    let mut periods = Vec::with_capacity(req.periods.len());
    for (i, p) in req.periods.iter().enumerate() {
        match p.parse::<csc_core::Period>() {
            Ok(p) => {
                if let Some(Err(e)) = la.map(|la| la.check_period(p.start(), p.end())) {
                    v.add(format!("periods[{i}]"), e);
                }
                periods.push(p);
            }
            Err(e) => v.add(format!("periods[{i}]"), e.to_string()),
        }
    }
    match la {
        Some(la) if v.is_empty() => Ok((la, periods)),
        _ => Err(Error::Invalid(v)),
    }
}

/// A whole `ComputeMeasureSeries` call: validate the LA and periods, `load` once what all the
/// periods need (a superset of each one's: every measure filters by its own dates), `compute`
/// each period's measures from it, answer in the request's order.
pub async fn compute_measure_series<D>(
    req: &cpb::ComputeMeasureSeriesRequest,
    load: impl AsyncFnOnce(LaCode, &[csc_core::Period]) -> Result<D, Error>,
    compute: impl Fn(&csc_core::Period, &D) -> Vec<csc_core::Measure>,
) -> Result<Response<cpb::ComputeMeasureSeriesResponse>, Status> {
    let (la, periods) = series_request(req)?;
    let data = load(la, &periods).await?;
    Ok(Response::new(cpb::ComputeMeasureSeriesResponse {
        la_code: la.to_string(),
        periods: periods
            .iter()
            .map(|p| measures_response(la, p, &compute(p, &data)).into_inner())
            .collect(),
    }))
}

/// A `ComputeMeasures` response.
pub fn measures_response(
    la: LaCode,
    period: &csc_core::Period,
    measures: &[csc_core::Measure],
) -> Response<cpb::ComputeMeasuresResponse> {
    Response::new(cpb::ComputeMeasuresResponse {
        la_code: la.to_string(),
        period: Some(crate::convert::period_to_proto(period)),
        measures: measures
            .iter()
            .map(crate::convert::measure_to_proto)
            .collect(),
    })
}

/// The future a tonic service method returns: what `#[tonic::async_trait]` makes of an `async fn`.
/// [`record_rpcs!`]'s methods are expanded after that attribute has run, so they spell it out.
pub type Reply<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<T>, Status>> + Send + 'a>>;

/// The four methods of one record kind — batch upsert, get, list and delete — written once for
/// every service, inside its `#[tonic::async_trait] impl …Service`, for a kind that is a
/// [`WireRecord`] (which names its messages):
///
/// ```text
/// csc_runtime::record_rpcs!(CpPlan:
///     batch_upsert_cp_plans, get_cp_plan, list_cp_plans, delete_cp_plan;
///     check = |r| merge_cp_plans(r.replace_reviews, r.keep_stored)
/// );
/// ```
///
/// `check`, when given, runs inside the batch's write transaction: `hook(txn, batch, args…)`, the
/// arguments read from the request `r` (e.g. `rpc::keep_stored_if` with `r.keep_stored`), in the
/// database's writer task ([`crate::writer`]). The service type needs a `db` field.
#[macro_export]
macro_rules! record_rpcs {
    (@check $req:ident) => { $crate::rpc::no_check };
    (@check $req:ident |$r:ident| [$($hook:tt)*] [$($arg:expr),*]) => {{
        let $r = std::sync::Arc::clone(&$req);
        move |txn, batch| Box::pin(async move { $($hook)*(txn, batch $(, $arg)*).await })
    }};
    ($rec:ident: $upsert:ident, $get:ident, $list:ident, $delete:ident
        $(; check = |$r:ident| $($hook:ident)::+ ( $($arg:expr),* ))? $(;)?
    ) => {
        fn $upsert<'a, 'b>(
            &'a self,
            req: tonic::Request<<$rec as $crate::rpc::WireRecord>::Batch>,
        ) -> $crate::rpc::Reply<'b, $crate::csc_proto::common::BatchUpsertResponse>
        where
            'a: 'b,
            Self: 'b,
        {
            Box::pin(async move {
                // Shared with `check`, which runs in the database's writer task.
                let request = std::sync::Arc::new(req.into_inner());
                $crate::rpc::upsert::<$rec, _>(
                    &self.db,
                    <$rec as $crate::rpc::WireRecord>::BATCH_UPSERT,
                    &*request,
                    &request.request_id,
                    &request.records,
                    $crate::record_rpcs!(@check request $(|$r| [$($hook)::+] [$($arg),*])?),
                )
                .await
            })
        }
        fn $get<'a, 'b>(
            &'a self,
            req: tonic::Request<<$rec as $crate::rpc::WireRecord>::ProtoKey>,
        ) -> $crate::rpc::Reply<'b, <$rec as $crate::rpc::WireRecord>::Proto>
        where
            'a: 'b,
            Self: 'b,
        {
            Box::pin(async move { $crate::rpc::get::<$rec>(&self.db, req.get_ref()).await })
        }
        fn $list<'a, 'b>(
            &'a self,
            req: tonic::Request<$crate::csc_proto::common::ListRequest>,
        ) -> $crate::rpc::Reply<'b, <$rec as $crate::rpc::WireRecord>::List>
        where
            'a: 'b,
            Self: 'b,
        {
            Box::pin(async move {
                let (records, next_page_token) =
                    $crate::rpc::list::<$rec>(&self.db, req.get_ref()).await?;
                type List = <$rec as $crate::rpc::WireRecord>::List;
                Ok(tonic::Response::new(List {
                    records,
                    next_page_token,
                }))
            })
        }
        fn $delete<'a, 'b>(
            &'a self,
            req: tonic::Request<<$rec as $crate::rpc::WireRecord>::ProtoKey>,
        ) -> $crate::rpc::Reply<'b, $crate::csc_proto::common::DeleteResponse>
        where
            'a: 'b,
            Self: 'b,
        {
            Box::pin(async move { $crate::rpc::delete::<$rec>(&self.db, req.get_ref()).await })
        }
    };
}
