//! The aggregator's schema: kept reports, commentary, population overrides and the reference
//! tables, the custom benchmarking groups, and the audit log of who generated or fetched which report. It holds no child-level
//! records.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            // Reports hand out an LA's unsuppressed figures: every generation and fetch is
            // audited (the API marks those methods `audited`).
            Box::new(csc_runtime::audit::CreateAuditLog),
            Box::new(m0003_groups::Migration),
        ]
    }
}

mod m0001_initial {
    use csc_runtime::schema::{big_int, create_index, create_keyed_table, drop_tables, flag, text};

    use super::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261126_000006_aggregator_initial"
        }
    }

    fn long_text(name: &'static str) -> ColumnDef {
        ColumnDef::new(Alias::new(name))
            .text()
            .not_null()
            .to_owned()
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            create_keyed_table(
                m,
                "report",
                vec![
                    text("id"),
                    text("la_code"),
                    text("period_id"),
                    text("generated_at"),
                    text("requested_by"),
                    flag("published"),
                    long_text("document"),
                ],
                &["id"],
            )
            .await?;
            create_index(m, "report", &["la_code", "generated_at"]).await?;
            create_keyed_table(
                m,
                "commentary",
                vec![
                    text("la_code"),
                    text("period_id"),
                    text("section"),
                    long_text("body"),
                    text("author"),
                    text("updated_at"),
                ],
                &["la_code", "period_id", "section"],
            )
            .await?;
            create_keyed_table(
                m,
                "population_override",
                vec![
                    text("la_code"),
                    big_int("year"),
                    big_int("population"),
                    text("set_at"),
                ],
                &["la_code", "year"],
            )
            .await?;
            create_keyed_table(
                m,
                "reference_table",
                vec![
                    text("name"),
                    text("source"),
                    text("loaded_at"),
                    long_text("content"),
                ],
                &["name"],
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            drop_tables(
                m,
                &[
                    "reference_table",
                    "population_override",
                    "commentary",
                    "report",
                ],
            )
            .await
        }
    }
}

mod m0003_groups {
    use csc_runtime::schema::{create_keyed_table, drop_tables, text};

    use super::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261205_000001_aggregator_groups"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // Members as one comma-separated text of LA codes: a group is read whole, never
            // searched by member.
            create_keyed_table(
                m,
                "report_group",
                vec![
                    text("name"),
                    text("title"),
                    text("members"),
                    text("updated_by"),
                    text("updated_at"),
                ],
                &["name"],
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            drop_tables(m, &["report_group"]).await
        }
    }
}
