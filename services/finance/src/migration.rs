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
        ]
    }
}

mod m0001_initial {
    use super::*;

    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261126_000003_finance_initial"
        }
    }

    fn s(name: &'static str) -> ColumnDef {
        ColumnDef::new(Alias::new(name))
            .string()
            .not_null()
            .to_owned()
    }
    fn opt_s(name: &'static str) -> ColumnDef {
        ColumnDef::new(Alias::new(name)).string().null().to_owned()
    }
    fn date(name: &'static str) -> ColumnDef {
        ColumnDef::new(Alias::new(name))
            .date()
            .not_null()
            .to_owned()
    }

    type TableSpec = (&'static str, Vec<ColumnDef>, Vec<&'static str>);

    fn tables() -> Vec<TableSpec> {
        vec![
            (
                "category",
                vec![
                    s("la_code"),
                    s("key"),
                    s("name"),
                    s("group_name"),
                    opt_s("parent_key"),
                ],
                vec!["la_code", "key"],
            ),
            (
                "category_mapping",
                vec![
                    s("la_code"),
                    s("place"),
                    s("place_provider"),
                    s("category_key"),
                ],
                vec!["la_code", "place", "place_provider"],
            ),
            (
                "commitment",
                vec![
                    s("la_code"),
                    s("child_id"),
                    date("placement_start"),
                    date("start_date"),
                    ColumnDef::new(Alias::new("end_date"))
                        .date()
                        .null()
                        .to_owned(),
                    ColumnDef::new(Alias::new("weekly_cost_pence"))
                        .big_integer()
                        .not_null()
                        .to_owned(),
                    s("category_key"),
                    opt_s("place"),
                    opt_s("place_provider"),
                    opt_s("provider_name"),
                    opt_s("provider_urn"),
                ],
                vec!["la_code", "child_id", "placement_start", "start_date"],
            ),
        ]
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
            let sqlite = m.get_database_backend() == sea_orm::DbBackend::Sqlite;
            for (table, columns, key) in tables() {
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
            }
            m.create_index(
                Index::create()
                    .if_not_exists()
                    .name("commitment_la_end_date")
                    .table(Alias::new("commitment"))
                    .col(Alias::new("la_code"))
                    .col(Alias::new("end_date"))
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
