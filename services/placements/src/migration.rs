//! The looked-after children service's schema, as sea-orm migrations.
//!
//! Every table is keyed LA, child, then the record's own key: the measures read whole histories
//! of the children who matter for a period, child by child, along that key; no second index is
//! kept (each costs about as much again on ingest, docs/performance.md).

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(csc_runtime::idempotency::CreateRequestLog),
            Box::new(m0001_initial::Migration),
            Box::new(csc_runtime::audit::CreateAuditLog),
            Box::new(csc_runtime::coverage::CreateImportLog),
            Box::new(m0002_care_summary::Migration),
        ]
    }
}

mod m0001_initial {
    use csc_runtime::schema::{create_keyed_table, date, drop_tables, opt_date, opt_text, text};

    use super::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261126_000005_placements_initial"
        }
    }

    const TABLES: [&str; 4] = ["child", "episode", "sw_allocation", "cla_review"];

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            create_keyed_table(
                m,
                "child",
                vec![
                    text("la_code"),
                    text("child_id"),
                    text("sex"),
                    date("date_of_birth"),
                    opt_text("ethnicity"),
                    opt_text("upn"),
                ],
                &["la_code", "child_id"],
            )
            .await?;
            create_keyed_table(
                m,
                "episode",
                vec![
                    text("la_code"),
                    text("child_id"),
                    date("decom"),
                    text("rne"),
                    text("legal_status"),
                    opt_text("cin"),
                    text("place"),
                    opt_text("place_provider"),
                    opt_date("dec"),
                    opt_text("rec"),
                    opt_text("reason_place_change"),
                    opt_text("home_post"),
                    opt_text("pl_post"),
                    opt_text("urn"),
                ],
                &["la_code", "child_id", "decom"],
            )
            .await?;
            create_keyed_table(
                m,
                "sw_allocation",
                vec![
                    text("la_code"),
                    text("child_id"),
                    text("sw_id"),
                    date("start_date"),
                    opt_date("end_date"),
                    opt_text("reason"),
                ],
                &["la_code", "child_id", "sw_id", "start_date"],
            )
            .await?;
            create_keyed_table(
                m,
                "cla_review",
                vec![
                    text("la_code"),
                    text("child_id"),
                    date("review_date"),
                    opt_text("review_code"),
                ],
                &["la_code", "child_id", "review_date"],
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            let mut tables = TABLES;
            tables.reverse();
            drop_tables(m, &tables).await
        }
    }
}

/// Care summaries (Ofsted Annex A List 8), beside the 903 episodes.
mod m0002_care_summary {
    use csc_runtime::schema::{create_keyed_table, date, drop_tables, opt_date, opt_text, text};

    use super::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261128_000002_placements_care_summary"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            create_keyed_table(
                m,
                "care_summary",
                vec![
                    text("la_code"),
                    text("child_id"),
                    date("care_start_date"),
                    opt_text("legal_status"),
                    opt_date("legal_status_start_date"),
                    opt_date("last_visit_date"),
                    opt_date("ceased_date"),
                    opt_text("reason_ceased"),
                ],
                &["la_code", "child_id", "care_start_date"],
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            drop_tables(m, &["care_summary"]).await
        }
    }
}
