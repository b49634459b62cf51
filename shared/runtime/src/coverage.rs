//! What a service holds for each LA (`GetCoverage`) and the files imported into it
//! (`RecordImport`), so that a report can tell a real zero from data that is not there
//! (docs/coverage.md).
//!
//! Counts and date spans are read from the records themselves, so they are true whichever way the
//! records arrived (an import, another council system calling the API). The import log is kept
//! beside them: one row per LA, source, file and return year, replaced when the same file is
//! imported again.

use chrono::NaiveDate;
use csc_core::LaCode;
use csc_proto::common as cpb;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, Statement,
    sea_query::{Expr, OnConflict, Order, Query},
};
use sea_orm_migration::prelude::*;

use csc_core::Violations;

use crate::Error;

/// Every domain service's migrator includes this migration.
pub struct CreateImportLog;

impl MigrationName for CreateImportLog {
    fn name(&self) -> &str {
        "m20261128_000001_import_log"
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ImportLog {
    Table,
    LaCode,
    Source,
    File,
    ReturnYear,
    CoversFrom,
    CoversTo,
    ImportedAt,
    Accepted,
    Refused,
}

/// The log's key (an import of the same file again replaces its row), and what it records.
const KEY: [ImportLog; 4] = [
    ImportLog::LaCode,
    ImportLog::Source,
    ImportLog::File,
    ImportLog::ReturnYear,
];
const RECORDED: [ImportLog; 5] = [
    ImportLog::CoversFrom,
    ImportLog::CoversTo,
    ImportLog::ImportedAt,
    ImportLog::Accepted,
    ImportLog::Refused,
];

#[async_trait::async_trait]
impl MigrationTrait for CreateImportLog {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use crate::schema::{big_int, opt_text, text};
        crate::schema::create_keyed_table(
            m,
            "import_log",
            vec![
                text("la_code"),
                text("source"),
                text("file"),
                big_int("return_year"),
                opt_text("covers_from"),
                opt_text("covers_to"),
                text("imported_at"),
                big_int("accepted"),
                big_int("refused"),
            ],
            &["la_code", "source", "file", "return_year"],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::schema::drop_tables(m, &["import_log"]).await
    }
}

/// A record kind of a service and where its dates are: the table, the column of the event that
/// starts it (its earliest date), and the columns whose latest value says how recent the data is
/// (the start, and an end where the record has one).
pub struct Kind {
    pub kind: &'static str,
    pub table: &'static str,
    pub start: &'static str,
    pub latest: &'static [&'static str],
}

impl Kind {
    /// `kind`, kept in `table`, starting at its `start` column, recent as of its `latest` ones.
    pub const fn new(
        kind: &'static str,
        table: &'static str,
        start: &'static str,
        latest: &'static [&'static str],
    ) -> Self {
        Kind {
            kind,
            table,
            start,
            latest,
        }
    }
}

/// Longest source and file names kept.
const MAX_NAME: usize = 255;

/// What the service holds for `la`: each kind's count and date span, and the import log, newest
/// first.
pub async fn coverage(
    db: &impl ConnectionTrait,
    la: &LaCode,
    kinds: &[Kind],
) -> Result<cpb::Coverage, Error> {
    let backend = db.get_database_backend();
    let mut out = cpb::Coverage {
        la_code: la.to_string(),
        ..Default::default()
    };
    for k in kinds {
        // Dates are read as YYYY-MM-DD text on both databases, whatever PostgreSQL's DateStyle.
        let text = |agg: &str, c: &str| match backend {
            DbBackend::Postgres => format!("to_char({agg}({c}), 'YYYY-MM-DD')"),
            _ => format!("{agg}({c})"),
        };
        let mut select = format!("SELECT COUNT(*) AS n, {} AS earliest", text("MIN", k.start));
        for (i, c) in k.latest.iter().enumerate() {
            select.push_str(&format!(", {} AS latest{i}", text("MAX", c)));
        }
        let sql = format!(
            "{select} FROM {t} WHERE la_code = {p}",
            t = k.table,
            p = placeholder(backend)
        );
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [la.as_str().into()],
            ))
            .await?
            .ok_or_else(|| Error::Internal(format!("no row counting {}", k.table)))?;
        let records: i64 = row.try_get("", "n")?;
        let earliest: Option<String> = row.try_get("", "earliest")?;
        let mut latest: Option<String> = None;
        for i in 0..k.latest.len() {
            let v: Option<String> = row.try_get("", &format!("latest{i}"))?;
            latest = Ord::max(latest, v.map(|d| date_part(&d)));
        }
        out.kinds.push(cpb::KindCoverage {
            kind: k.kind.to_owned(),
            records,
            earliest: earliest.map(|d| date_part(&d)).unwrap_or_default(),
            latest: latest.unwrap_or_default(),
        });
    }
    let q = Query::select()
        .columns(KEY[1..].iter().chain(&RECORDED).copied())
        .from(ImportLog::Table)
        .and_where(Expr::col(ImportLog::LaCode).eq(la.as_str()))
        .order_by(ImportLog::ImportedAt, Order::Desc)
        .order_by(ImportLog::File, Order::Asc)
        .to_owned();
    for row in db.query_all(&q).await? {
        out.imports.push(cpb::ImportedSource {
            source: row.try_get("", "source")?,
            file: row.try_get("", "file")?,
            return_year: <i32 as TryFrom<i64>>::try_from(row.try_get("", "return_year")?)
                .unwrap_or(0),
            covers_from: row
                .try_get::<Option<String>>("", "covers_from")?
                .unwrap_or_default(),
            covers_to: row
                .try_get::<Option<String>>("", "covers_to")?
                .unwrap_or_default(),
            imported_at: row.try_get("", "imported_at")?,
            accepted: row.try_get("", "accepted")?,
            refused: row.try_get("", "refused")?,
        });
    }
    Ok(out)
}

/// `YYYY-MM-DD` of a date read as text (SQLite may hold a date-time).
fn date_part(text: &str) -> String {
    text.get(..10).unwrap_or(text).to_owned()
}

fn placeholder(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "$1",
        _ => "?",
    }
}

/// The LA of a `GetCoverage` request, validated.
pub fn request_la(req: &cpb::GetCoverageRequest) -> Result<LaCode, Error> {
    LaCode::parse(&req.la_code).map_err(|e| Error::invalid("la_code", e))
}

/// Checks and records one import; the same LA, source, file and return year replace the entry.
pub async fn record_import(
    db: &DatabaseConnection,
    req: &cpb::RecordImportRequest,
) -> Result<(), Error> {
    let mut v = Violations::new();
    let la = LaCode::parse(&req.la_code);
    if let Err(e) = &la {
        v.add("la_code", e.clone());
    }
    let Some(i) = &req.import else {
        v.add("import", "required");
        return Err(v.into());
    };
    for (field, value) in [("import.source", &i.source), ("import.file", &i.file)] {
        if value.trim().is_empty() {
            v.add(field, "required");
        } else if value.len() > MAX_NAME || value.chars().any(char::is_control) {
            v.add(
                field,
                format!("at most {MAX_NAME} bytes of text without control characters"),
            );
        }
    }
    if i.return_year != 0 && !(1990..=2100).contains(&i.return_year) {
        v.add(
            "import.return_year",
            format!(
                "{} is not a return year (e.g. 2024 for 2023-24), or 0",
                i.return_year
            ),
        );
    }
    let mut dates = [None, None];
    for (slot, (field, text)) in [
        ("import.covers_from", &i.covers_from),
        ("import.covers_to", &i.covers_to),
    ]
    .into_iter()
    .enumerate()
    {
        if !text.is_empty() {
            match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(d) => dates[slot] = Some(d),
                Err(_) => v.add(
                    field,
                    format!("{} is not a date (YYYY-MM-DD)", csc_core::text::quote(text)),
                ),
            }
        }
    }
    if let [Some(from), Some(to)] = dates
        && from > to
    {
        v.add(
            "import.covers_to",
            format!("{to} is before covers_from {from}"),
        );
    }
    for (field, n) in [
        ("import.accepted", i.accepted),
        ("import.refused", i.refused),
    ] {
        if n < 0 {
            v.add(field, "must not be negative");
        }
    }
    v.into_result(())?;
    let la = la.expect("checked above");
    let opt = |d: Option<NaiveDate>| d.map(|d| d.to_string());
    let insert = Query::insert()
        .into_table(ImportLog::Table)
        .columns(KEY.iter().chain(&RECORDED).copied())
        .values_panic([
            la.as_str().into(),
            i.source.trim().into(),
            i.file.trim().into(),
            i64::from(i.return_year).into(),
            opt(dates[0]).into(),
            opt(dates[1]).into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                .into(),
            i.accepted.into(),
            i.refused.into(),
        ])
        .on_conflict(OnConflict::columns(KEY).update_columns(RECORDED).to_owned())
        .to_owned();
    let (txn, _turn) = crate::db::begin_write(db).await?;
    txn.execute(&insert).await?;
    crate::audit::commit(txn, "", &[]).await?;
    Ok(())
}

/// A whole `GetCoverage` call.
pub async fn get_coverage_rpc(
    db: &impl ConnectionTrait,
    req: &cpb::GetCoverageRequest,
    kinds: &[Kind],
) -> Result<tonic::Response<cpb::Coverage>, tonic::Status> {
    let la = request_la(req)?;
    Ok(tonic::Response::new(coverage(db, &la, kinds).await?))
}

/// A whole `RecordImport` call.
pub async fn record_import_rpc(
    db: &DatabaseConnection,
    req: &cpb::RecordImportRequest,
) -> Result<tonic::Response<cpb::RecordImportResponse>, tonic::Status> {
    record_import(db, req).await?;
    Ok(tonic::Response::new(cpb::RecordImportResponse {}))
}

/// The methods every domain service has for the aggregator and the importers, inside its
/// `#[async_trait]` impl: `ComputeMeasures` (`$load` the LA's records a period needs from the
/// service's `db`, then `$compute` the measures: [`crate::rpc::compute_measures`]),
/// `ComputeMeasureSeries` (`$load` once what several periods need, `$compute` each:
/// [`crate::rpc::compute_measure_series`]), `GetCoverage` for its record `$kinds`, and
/// `RecordImport`. `$load` takes the periods as a slice. Written out as
/// [`crate::record_rpcs!`] writes its methods.
#[macro_export]
macro_rules! measure_rpcs {
    ($kinds:expr; $($load:ident)::+ => $($compute:ident)::+) => {
        fn compute_measures<'a, 'b>(
            &'a self,
            req: tonic::Request<$crate::csc_proto::common::ComputeMeasuresRequest>,
        ) -> $crate::rpc::Reply<'b, $crate::csc_proto::common::ComputeMeasuresResponse>
        where
            'a: 'b,
            Self: 'b,
        {
            Box::pin(async move {
                $crate::rpc::compute_measures(
                    req.get_ref(),
                    async |la, periods| $($load)::+(&self.db, la, periods).await,
                    $($compute)::+,
                )
                .await
            })
        }
        fn compute_measure_series<'a, 'b>(
            &'a self,
            req: tonic::Request<$crate::csc_proto::common::ComputeMeasureSeriesRequest>,
        ) -> $crate::rpc::Reply<'b, $crate::csc_proto::common::ComputeMeasureSeriesResponse>
        where
            'a: 'b,
            Self: 'b,
        {
            Box::pin(async move {
                $crate::rpc::compute_measure_series(
                    req.get_ref(),
                    async |la, periods| $($load)::+(&self.db, la, periods).await,
                    $($compute)::+,
                )
                .await
            })
        }
        fn get_coverage<'a, 'b>(
            &'a self,
            req: tonic::Request<$crate::csc_proto::common::GetCoverageRequest>,
        ) -> $crate::rpc::Reply<'b, $crate::csc_proto::common::Coverage>
        where
            'a: 'b,
            Self: 'b,
        {
            Box::pin(async move {
                $crate::coverage::get_coverage_rpc(&self.db, req.get_ref(), $kinds).await
            })
        }
        fn record_import<'a, 'b>(
            &'a self,
            req: tonic::Request<$crate::csc_proto::common::RecordImportRequest>,
        ) -> $crate::rpc::Reply<'b, $crate::csc_proto::common::RecordImportResponse>
        where
            'a: 'b,
            Self: 'b,
        {
            Box::pin(
                async move { $crate::coverage::record_import_rpc(&self.db, req.get_ref()).await },
            )
        }
    };
}
