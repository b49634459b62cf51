//! The front door's schema, as sea-orm migrations.
//!
//! Each table's primary key is the record's natural key, with its columns ordered LA, then the
//! date the measures select on, then the child: one B-tree serves uniqueness, upserts and the
//! measures' date-range scans. On SQLite the tables are `WITHOUT ROWID`, so that B-tree is the
//! table itself. Every extra index costs about as much again on ingest (docs/performance.md), so
//! a table has one only where the measures select on a second date (assessments by authorisation,
//! S47 enquiries by ICPC date) or where the key is not dated (contacts).

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(csc_runtime::idempotency::CreateRequestLog),
            Box::new(m0001_initial::Migration),
        ]
    }
}

mod m0001_initial {
    use super::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261126_000002_frontdoor_initial"
        }
    }

    fn s(name: &'static str) -> ColumnDef {
        ColumnDef::new(Alias::new(name))
            .string()
            .not_null()
            .to_owned()
    }
    fn date(name: &'static str) -> ColumnDef {
        ColumnDef::new(Alias::new(name))
            .date()
            .not_null()
            .to_owned()
    }
    fn opt_date(name: &'static str) -> ColumnDef {
        ColumnDef::new(Alias::new(name)).date().null().to_owned()
    }
    fn flag(name: &'static str) -> ColumnDef {
        ColumnDef::new(Alias::new(name))
            .boolean()
            .not_null()
            .to_owned()
    }

    /// (table, columns, primary key in index order, secondary index on (la_code, column) if any)
    type TableSpec = (
        &'static str,
        Vec<ColumnDef>,
        Vec<&'static str>,
        Option<&'static str>,
    );

    fn tables() -> Vec<TableSpec> {
        vec![
            (
                "contact",
                vec![
                    s("la_code"),
                    s("contact_id"),
                    s("child_id"),
                    date("contact_date"),
                    s("source"),
                    flag("became_referral"),
                ],
                vec!["la_code", "contact_id"],
                Some("contact_date"),
            ),
            (
                "referral",
                vec![
                    s("la_code"),
                    s("child_id"),
                    date("referral_date"),
                    s("source"),
                    flag("nfa"),
                ],
                vec!["la_code", "referral_date", "child_id"],
                None,
            ),
            (
                "assessment",
                vec![
                    s("la_code"),
                    s("child_id"),
                    date("start_date"),
                    date("referral_date"),
                    opt_date("authorisation_date"),
                    s("factors"),
                    s("outcome"),
                    ColumnDef::new(Alias::new("closure_reason"))
                        .string()
                        .null()
                        .to_owned(),
                ],
                vec!["la_code", "start_date", "child_id"],
                Some("authorisation_date"),
            ),
            (
                "section47_enquiry",
                vec![
                    s("la_code"),
                    s("child_id"),
                    date("start_date"),
                    opt_date("referral_date"),
                    opt_date("icpc_target_date"),
                    opt_date("icpc_date"),
                    flag("icpc_not_required"),
                ],
                vec!["la_code", "start_date", "child_id"],
                Some("icpc_date"),
            ),
            (
                "strategy_discussion",
                vec![
                    s("la_code"),
                    s("child_id"),
                    date("discussion_date"),
                    s("invited"),
                    s("attended"),
                ],
                vec!["la_code", "discussion_date", "child_id"],
                None,
            ),
            (
                "icpc",
                vec![
                    s("la_code"),
                    s("child_id"),
                    date("icpc_date"),
                    opt_date("s47_start_date"),
                ],
                vec!["la_code", "icpc_date", "child_id"],
                None,
            ),
        ]
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            let sqlite = m.get_database_backend() == sea_orm::DbBackend::Sqlite;
            for (table, columns, key, index) in tables() {
                let mut t = Table::create();
                t.table(Alias::new(table)).if_not_exists();
                for mut c in columns {
                    t.col(&mut c);
                }
                let mut pk = Index::create();
                for k in &key {
                    pk.col(Alias::new(*k));
                }
                t.primary_key(&mut pk);
                if sqlite {
                    t.extra("WITHOUT ROWID");
                }
                m.create_table(t.to_owned()).await?;
                if let Some(col) = index {
                    m.create_index(
                        Index::create()
                            .if_not_exists()
                            .name(format!("{table}_la_{col}"))
                            .table(Alias::new(table))
                            .col(Alias::new("la_code"))
                            .col(Alias::new(col))
                            .to_owned(),
                    )
                    .await?;
                }
            }
            Ok(())
        }

        async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
            for (table, ..) in tables().into_iter().rev() {
                m.drop_table(
                    Table::drop()
                        .table(Alias::new(table))
                        .if_exists()
                        .to_owned(),
                )
                .await?;
            }
            Ok(())
        }
    }
}
