//! The intake's schema: what it holds for each child, and the audit log every service keeps.

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(csc_runtime::audit::CreateAuditLog),
        ]
    }
}

mod m0001_initial {
    use csc_runtime::schema::{create_keyed_table, drop_tables, text};

    use super::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261207_000001_intake_initial"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            // One row per child: every record received for it, merged (`crate::merge`), as JSON;
            // the schema version it last came in; when.
            create_keyed_table(
                m,
                "dfe_child",
                vec![
                    text("la_code"),
                    text("child_id"),
                    text("doc"),
                    text("schema_version"),
                    text("received_at"),
                ],
                &["la_code", "child_id"],
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            drop_tables(m, &["dfe_child"]).await
        }
    }
}
