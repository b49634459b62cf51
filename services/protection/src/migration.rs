//! The protection service's schema, as sea-orm migrations.
//!
//! Each table's primary key is the record's natural key. Plans and episodes are keyed LA, child,
//! start date: the repeat-plan measures read a child's whole history, and batch writes of plans
//! read back the stored plans of the batch's children to merge their review dates, both along that
//! key. The measures' date conditions scan the LA's rows (docs/performance.md has the figures);
//! no second index is kept, since each costs about as much again on ingest.

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
        create_index, create_keyed_table, date, drop_tables, opt_date, opt_int, opt_text, text,
    };

    use super::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261126_000004_protection_initial"
        }
    }

    const TABLES: [&str; 4] = ["cin_plan", "cp_plan", "missing_episode", "feedback"];

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            let plan_key = ["la_code", "child_id", "start_date"];
            create_keyed_table(
                m,
                "cin_plan",
                vec![
                    text("la_code"),
                    text("child_id"),
                    date("start_date"),
                    opt_date("end_date"),
                ],
                &plan_key,
            )
            .await?;
            create_keyed_table(
                m,
                "cp_plan",
                vec![
                    text("la_code"),
                    text("child_id"),
                    date("start_date"),
                    opt_date("end_date"),
                    text("initial_category"),
                    opt_text("latest_category"),
                    opt_int("previous_plans"),
                    text("review_dates"),
                ],
                &plan_key,
            )
            .await?;
            create_keyed_table(
                m,
                "missing_episode",
                vec![
                    text("la_code"),
                    text("child_id"),
                    date("start_date"),
                    text("kind"),
                    text("absent_from"),
                    opt_text("start_time"),
                    opt_date("end_date"),
                    opt_text("end_time"),
                    opt_date("interview_offered_date"),
                    opt_text("interview_outcome"),
                    opt_date("interview_completed_date"),
                    opt_text("interview_completed_time"),
                ],
                &plan_key,
            )
            .await?;
            create_keyed_table(
                m,
                "feedback",
                vec![
                    text("la_code"),
                    text("response_id"),
                    text("question"),
                    text("respondent"),
                    date("response_date"),
                    text("rating"),
                    opt_text("child_id"),
                ],
                &["la_code", "response_id"],
            )
            .await?;
            create_index(m, "feedback", &["la_code", "response_date"]).await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            let mut tables = TABLES;
            tables.reverse();
            drop_tables(m, &tables).await
        }
    }
}
