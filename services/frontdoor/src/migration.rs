//! The front door's schema, as sea-orm migrations.
//!
//! Each table's primary key is the record's natural key, with its columns ordered LA, then the
//! date the measures select on, then the child: one B-tree serves uniqueness, upserts and the
//! measures' date-range scans (on SQLite the tables are `WITHOUT ROWID`, so that B-tree is the
//! table itself). Every extra index costs about as much again on ingest (docs/performance.md),
//! so a table has one only where the measures select on a second date (assessments by
//! authorisation, S47 enquiries by ICPC date) or where the key is not dated (contacts).

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
            Box::new(m0002_early_help::Migration),
        ]
    }
}

mod m0001_initial {
    use csc_runtime::schema::{
        create_index, create_keyed_table, date, drop_tables, flag, opt_date, opt_text, text,
    };

    use super::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261126_000002_frontdoor_initial"
        }
    }

    const TABLES: [&str; 6] = [
        "contact",
        "referral",
        "assessment",
        "section47_enquiry",
        "strategy_discussion",
        "icpc",
    ];

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            create_keyed_table(
                m,
                "contact",
                vec![
                    text("la_code"),
                    text("contact_id"),
                    text("child_id"),
                    date("contact_date"),
                    text("source"),
                    flag("became_referral"),
                ],
                &["la_code", "contact_id"],
            )
            .await?;
            create_index(m, "contact", &["la_code", "contact_date"]).await?;
            create_keyed_table(
                m,
                "referral",
                vec![
                    text("la_code"),
                    text("child_id"),
                    date("referral_date"),
                    text("source"),
                    flag("nfa"),
                ],
                &["la_code", "referral_date", "child_id"],
            )
            .await?;
            create_keyed_table(
                m,
                "assessment",
                vec![
                    text("la_code"),
                    text("child_id"),
                    date("start_date"),
                    date("referral_date"),
                    opt_date("authorisation_date"),
                    text("factors"),
                    text("outcome"),
                    opt_text("closure_reason"),
                ],
                &["la_code", "start_date", "child_id"],
            )
            .await?;
            create_index(m, "assessment", &["la_code", "authorisation_date"]).await?;
            create_keyed_table(
                m,
                "section47_enquiry",
                vec![
                    text("la_code"),
                    text("child_id"),
                    date("start_date"),
                    opt_date("referral_date"),
                    opt_date("icpc_target_date"),
                    opt_date("icpc_date"),
                    flag("icpc_not_required"),
                ],
                &["la_code", "start_date", "child_id"],
            )
            .await?;
            create_index(m, "section47_enquiry", &["la_code", "icpc_date"]).await?;
            create_keyed_table(
                m,
                "strategy_discussion",
                vec![
                    text("la_code"),
                    text("child_id"),
                    date("discussion_date"),
                    text("invited"),
                    text("attended"),
                ],
                &["la_code", "discussion_date", "child_id"],
            )
            .await?;
            create_keyed_table(
                m,
                "icpc",
                vec![
                    text("la_code"),
                    text("child_id"),
                    date("icpc_date"),
                    opt_date("s47_start_date"),
                ],
                &["la_code", "icpc_date", "child_id"],
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

/// Early help assessments (Ofsted Annex A List 2).
mod m0002_early_help {
    use csc_runtime::schema::{create_keyed_table, date, drop_tables, opt_date, opt_text, text};

    use super::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261128_000001_frontdoor_early_help"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            create_keyed_table(
                m,
                "early_help_assessment",
                vec![
                    text("la_code"),
                    text("child_id"),
                    date("start_date"),
                    opt_date("completion_date"),
                    opt_text("organisation"),
                ],
                &["la_code", "start_date", "child_id"],
            )
            .await
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            drop_tables(m, &["early_help_assessment"]).await
        }
    }
}
