//! The `request_id` log (AIP-155): a batch write is recorded with its request id and a digest of
//! its content in the same transaction as the write, so that a retried request returns the first
//! response and changes nothing, and a request id reused for different content is refused.

use sea_orm::{
    ConnectionTrait,
    sea_query::{ColumnDef, Expr, Index, Query, Table},
};
use sea_orm_migration::prelude::*;
use sha2::{Digest, Sha256};

use crate::Error;

/// Every service's migrator includes this migration, first.
pub struct CreateRequestLog;

impl MigrationName for CreateRequestLog {
    fn name(&self) -> &str {
        "m20261126_000001_request_log"
    }
}

#[derive(DeriveIden)]
enum RequestLog {
    Table,
    RequestId,
    Method,
    Digest,
    Response,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateRequestLog {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RequestLog::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(RequestLog::RequestId)
                        .string()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(RequestLog::Method).string().not_null())
                .col(ColumnDef::new(RequestLog::Digest).string().not_null())
                .col(ColumnDef::new(RequestLog::Response).string().not_null())
                .col(ColumnDef::new(RequestLog::CreatedAt).string().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .if_not_exists()
                .name("request_log_created_at")
                .table(RequestLog::Table)
                .col(RequestLog::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RequestLog::Table).to_owned())
            .await
    }
}

/// A digest of a request's content (its encoded protobuf bytes).
pub fn digest(bytes: &[u8]) -> String {
    let h = Sha256::digest(bytes);
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored response of an earlier request with this id, if any. A request id seen before with
/// other content or for another method is an error: the caller reused an id by mistake.
pub async fn lookup(
    db: &impl ConnectionTrait,
    request_id: &str,
    method: &str,
    digest: &str,
) -> Result<Option<String>, Error> {
    if request_id.is_empty() {
        return Ok(None);
    }
    let query = Query::select()
        .columns([RequestLog::Method, RequestLog::Digest, RequestLog::Response])
        .from(RequestLog::Table)
        .and_where(Expr::col(RequestLog::RequestId).eq(request_id))
        .to_owned();
    let row = db.query_one(&query).await?;
    let Some(row) = row else { return Ok(None) };
    let (m, d, resp): (String, String, String) = (
        row.try_get("", "method")?,
        row.try_get("", "digest")?,
        row.try_get("", "response")?,
    );
    if m != method || d != digest {
        return Err(Error::AlreadyExists(format!(
            "request_id {request_id:?} was already used for a different request; use a new request_id for new content"
        )));
    }
    Ok(Some(resp))
}

/// Records a request's response in the same transaction as its writes.
pub async fn record(
    db: &impl ConnectionTrait,
    request_id: &str,
    method: &str,
    digest: &str,
    response: &str,
) -> Result<(), Error> {
    if request_id.is_empty() {
        return Ok(());
    }
    let insert = Query::insert()
        .into_table(RequestLog::Table)
        .columns([
            RequestLog::RequestId,
            RequestLog::Method,
            RequestLog::Digest,
            RequestLog::Response,
            RequestLog::CreatedAt,
        ])
        .values_panic([
            request_id.into(),
            method.into(),
            digest.into(),
            response.into(),
            chrono::Utc::now().to_rfc3339().into(),
        ])
        .to_owned();
    db.execute(&insert).await?;
    Ok(())
}
