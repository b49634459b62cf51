//! Helpers for services' migrations: tables keyed by natural keys, the same on SQLite and
//! PostgreSQL.

use sea_orm_migration::prelude::*;

pub fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string()
        .not_null()
        .to_owned()
}

pub fn opt_text(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).string().null().to_owned()
}

pub fn date(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .date()
        .not_null()
        .to_owned()
}

pub fn opt_date(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).date().null().to_owned()
}

pub fn flag(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .boolean()
        .not_null()
        .to_owned()
}

pub fn big_int(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .not_null()
        .to_owned()
}

pub fn opt_int(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).integer().null().to_owned()
}

/// Creates `table` with `key` (in index order) as its primary key. On SQLite the table is
/// `WITHOUT ROWID`, so the key's B-tree is the table itself: one B-tree to write per row instead of
/// two (docs/performance.md).
pub async fn create_keyed_table(
    m: &SchemaManager<'_>,
    table: &str,
    columns: Vec<ColumnDef>,
    key: &[&str],
) -> Result<(), DbErr> {
    let mut t = Table::create();
    t.table(Alias::new(table)).if_not_exists();
    for mut c in columns {
        t.col(&mut c);
    }
    let mut pk = Index::create();
    for k in key {
        pk.col(Alias::new(*k));
    }
    t.primary_key(&mut pk);
    if m.get_database_backend() == sea_orm::DbBackend::Sqlite {
        t.extra("WITHOUT ROWID");
    }
    m.create_table(t.to_owned()).await
}

/// Creates the index `{table}_{columns joined by _}`.
pub async fn create_index(
    m: &SchemaManager<'_>,
    table: &str,
    columns: &[&str],
) -> Result<(), DbErr> {
    let mut i = Index::create();
    i.if_not_exists()
        .name(format!("{table}_{}", columns.join("_")))
        .table(Alias::new(table));
    for c in columns {
        i.col(Alias::new(*c));
    }
    m.create_index(i.to_owned()).await
}

/// Drops tables, in the order given.
pub async fn drop_tables(m: &SchemaManager<'_>, tables: &[&str]) -> Result<(), DbErr> {
    for t in tables {
        m.drop_table(Table::drop().table(Alias::new(*t)).if_exists().to_owned())
            .await?;
    }
    Ok(())
}
