//! The aggregator's storage: kept reports, commentary, population overrides, reference tables
//! and custom benchmarking groups.

pub mod entities;

use std::collections::HashMap;

use csc_runtime::error::Result;
use entities::{commentary, population_override, reference_table, report, report_group};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::OnConflict,
};

use crate::domain::reference::TABLES;

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Loads the shipped release of every reference table the database does not hold yet (at first
/// start, and when a release of the suite adds a table), then returns every table's text.
pub async fn ensure_reference(db: &DatabaseConnection) -> Result<HashMap<String, String>> {
    let held: Vec<reference_table::Model> = reference_table::Entity::find().all(db).await?;
    for spec in TABLES {
        if !held.iter().any(|t| t.name == spec.name) {
            tracing::info!(
                table = spec.name,
                source = spec.shipped_source,
                "loading shipped reference table"
            );
            put_reference(db, spec.name, spec.shipped_source, spec.shipped).await?;
        }
    }
    Ok(reference_table::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.name, t.content))
        .collect())
}

/// Replaces a reference table with a release (checked by the caller).
pub async fn put_reference(
    db: &DatabaseConnection,
    name: &str,
    source: &str,
    content: &str,
) -> Result<()> {
    reference_table::Entity::insert(reference_table::ActiveModel {
        name: Set(name.to_owned()),
        source: Set(source.to_owned()),
        loaded_at: Set(now()),
        content: Set(content.to_owned()),
    })
    .on_conflict(
        OnConflict::column(reference_table::Column::Name)
            .update_columns([
                reference_table::Column::Source,
                reference_table::Column::LoadedAt,
                reference_table::Column::Content,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Each table's name, source and load time.
pub async fn reference_sources(db: &DatabaseConnection) -> Result<Vec<(String, String, String)>> {
    Ok(reference_table::Entity::find()
        .select_only()
        .columns([
            reference_table::Column::Name,
            reference_table::Column::Source,
            reference_table::Column::LoadedAt,
        ])
        .into_tuple()
        .all(db)
        .await?)
}

pub async fn population_override(
    db: &DatabaseConnection,
    la: &str,
    year: i32,
) -> Result<Option<i64>> {
    Ok(
        population_override::Entity::find_by_id((la.to_owned(), i64::from(year)))
            .one(db)
            .await?
            .map(|m| m.population),
    )
}

/// Sets an override; population 0 removes it.
pub async fn set_population(
    db: &DatabaseConnection,
    la: &str,
    year: i32,
    population: i64,
) -> Result<()> {
    if population == 0 {
        population_override::Entity::delete_by_id((la.to_owned(), i64::from(year)))
            .exec(db)
            .await?;
        return Ok(());
    }
    population_override::Entity::insert(population_override::ActiveModel {
        la_code: Set(la.to_owned()),
        year: Set(i64::from(year)),
        population: Set(population),
        set_at: Set(now()),
    })
    .on_conflict(
        OnConflict::columns([
            population_override::Column::LaCode,
            population_override::Column::Year,
        ])
        .update_columns([
            population_override::Column::Population,
            population_override::Column::SetAt,
        ])
        .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

pub async fn commentary_for(
    db: &DatabaseConnection,
    la: &str,
    period: &str,
) -> Result<Vec<commentary::Model>> {
    Ok(commentary::Entity::find()
        .filter(commentary::Column::LaCode.eq(la))
        .filter(commentary::Column::PeriodId.eq(period))
        .order_by_asc(commentary::Column::Section)
        .all(db)
        .await?)
}

/// Sets one section's commentary; empty text removes it.
pub async fn set_commentary(db: &DatabaseConnection, c: commentary::Model) -> Result<()> {
    if c.body.trim().is_empty() {
        commentary::Entity::delete_by_id((c.la_code, c.period_id, c.section))
            .exec(db)
            .await?;
        return Ok(());
    }
    commentary::Entity::insert(commentary::ActiveModel {
        la_code: Set(c.la_code),
        period_id: Set(c.period_id),
        section: Set(c.section),
        body: Set(c.body),
        author: Set(c.author),
        updated_at: Set(c.updated_at),
    })
    .on_conflict(
        OnConflict::columns([
            commentary::Column::LaCode,
            commentary::Column::PeriodId,
            commentary::Column::Section,
        ])
        .update_columns([
            commentary::Column::Body,
            commentary::Column::Author,
            commentary::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

pub async fn save_report(db: &DatabaseConnection, r: report::Model) -> Result<()> {
    report::Entity::insert(report::ActiveModel {
        id: Set(r.id),
        la_code: Set(r.la_code),
        period_id: Set(r.period_id),
        generated_at: Set(r.generated_at),
        requested_by: Set(r.requested_by),
        published: Set(r.published),
        document: Set(r.document),
    })
    .exec(db)
    .await?;
    Ok(())
}

pub async fn get_report(db: &DatabaseConnection, id: &str) -> Result<Option<report::Model>> {
    Ok(report::Entity::find_by_id(id.to_owned()).one(db).await?)
}

/// An LA's reports, newest first, without their documents: `(id, period, generated_at,
/// requested_by, published)`, from `offset`.
pub async fn list_reports(
    db: &DatabaseConnection,
    la: &str,
    period: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<Vec<(String, String, String, String, bool)>> {
    let mut q = report::Entity::find().filter(report::Column::LaCode.eq(la));
    if let Some(p) = period {
        q = q.filter(report::Column::PeriodId.eq(p));
    }
    Ok(q.select_only()
        .columns([
            report::Column::Id,
            report::Column::PeriodId,
            report::Column::GeneratedAt,
            report::Column::RequestedBy,
            report::Column::Published,
        ])
        .order_by_desc(report::Column::GeneratedAt)
        .order_by_desc(report::Column::Id)
        .offset(offset)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?)
}

/// Creates or replaces a custom group; with no members, removes it.
pub async fn set_group(db: &DatabaseConnection, g: report_group::Model) -> Result<()> {
    if g.members.is_empty() {
        report_group::Entity::delete_by_id(g.name).exec(db).await?;
        return Ok(());
    }
    report_group::Entity::insert(report_group::ActiveModel {
        name: Set(g.name),
        title: Set(g.title),
        members: Set(g.members),
        updated_by: Set(g.updated_by),
        updated_at: Set(g.updated_at),
    })
    .on_conflict(
        OnConflict::column(report_group::Column::Name)
            .update_columns([
                report_group::Column::Title,
                report_group::Column::Members,
                report_group::Column::UpdatedBy,
                report_group::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

pub async fn get_group(db: &DatabaseConnection, name: &str) -> Result<Option<report_group::Model>> {
    Ok(report_group::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?)
}

/// Every custom group, by name.
pub async fn list_groups(db: &DatabaseConnection) -> Result<Vec<report_group::Model>> {
    Ok(report_group::Entity::find()
        .order_by_asc(report_group::Column::Name)
        .all(db)
        .await?)
}
