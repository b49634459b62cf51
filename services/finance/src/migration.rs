//! The finance service's schema. Natural keys are primary keys (`WITHOUT ROWID` on SQLite); the
//! one secondary index serves the measures, which select commitments by their end date.

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
        ]
    }
}

mod m0001_initial {
    use csc_runtime::schema::{
        big_int, create_index, create_keyed_table, date, drop_tables, opt_date, opt_text, text,
    };

    use super::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261126_000003_finance_initial"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            create_keyed_table(
                m,
                "category",
                vec![
                    text("la_code"),
                    text("key"),
                    text("name"),
                    text("group_name"),
                    opt_text("parent_key"),
                ],
                &["la_code", "key"],
            )
            .await?;
            create_keyed_table(
                m,
                "category_mapping",
                vec![
                    text("la_code"),
                    text("place"),
                    text("place_provider"),
                    text("category_key"),
                ],
                &["la_code", "place", "place_provider"],
            )
            .await?;
            create_keyed_table(
                m,
                "commitment",
                vec![
                    text("la_code"),
                    text("child_id"),
                    date("placement_start"),
                    date("start_date"),
                    opt_date("end_date"),
                    big_int("weekly_cost_pence"),
                    text("category_key"),
                    opt_text("place"),
                    opt_text("place_provider"),
                    opt_text("provider_name"),
                    opt_text("provider_urn"),
                ],
                &["la_code", "child_id", "placement_start", "start_date"],
            )
            .await?;
            create_index(m, "commitment", &["la_code", "end_date"]).await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            drop_tables(m, &["commitment", "category_mapping", "category"]).await
        }
    }
}
