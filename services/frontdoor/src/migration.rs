//! The front door's schema, as sea-orm migrations. Each table's primary key is the record's
//! natural key; a second index per table serves the measures' date-range scans.

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

    /// (table, columns, primary key, date column for the measures' index)
    fn tables() -> Vec<(
        &'static str,
        Vec<ColumnDef>,
        Vec<&'static str>,
        &'static str,
    )> {
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
                "contact_date",
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
                vec!["la_code", "child_id", "referral_date"],
                "referral_date",
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
                vec!["la_code", "child_id", "start_date"],
                "authorisation_date",
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
                vec!["la_code", "child_id", "start_date"],
                "start_date",
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
                vec!["la_code", "child_id", "discussion_date"],
                "discussion_date",
            ),
            (
                "icpc",
                vec![
                    s("la_code"),
                    s("child_id"),
                    date("icpc_date"),
                    opt_date("s47_start_date"),
                ],
                vec!["la_code", "child_id", "icpc_date"],
                "icpc_date",
            ),
        ]
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            for (table, columns, key, date_col) in tables() {
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
                m.create_table(t.to_owned()).await?;
                m.create_index(
                    Index::create()
                        .if_not_exists()
                        .name(format!("{table}_la_{date_col}"))
                        .table(Alias::new(table))
                        .col(Alias::new("la_code"))
                        .col(Alias::new(date_col))
                        .to_owned(),
                )
                .await?;
            }
            // ICPC dates carried on section 47 enquiries are scanned by date too.
            m.create_index(
                Index::create()
                    .if_not_exists()
                    .name("section47_enquiry_la_icpc_date")
                    .table(Alias::new("section47_enquiry"))
                    .col(Alias::new("la_code"))
                    .col(Alias::new("icpc_date"))
                    .to_owned(),
            )
            .await
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
