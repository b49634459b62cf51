//! sea-orm entities of the finance service.

pub mod category {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "category")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub name: String,
        pub group_name: String,
        pub parent_key: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod category_mapping {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "category_mapping")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub place: String,
        /// "" for any provider.
        #[sea_orm(primary_key, auto_increment = false)]
        pub place_provider: String,
        pub category_key: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod commitment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "commitment")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub placement_start: Date,
        #[sea_orm(primary_key, auto_increment = false)]
        pub start_date: Date,
        pub end_date: Option<Date>,
        pub weekly_cost_pence: i64,
        pub category_key: String,
        pub place: Option<String>,
        pub place_provider: Option<String>,
        pub provider_name: Option<String>,
        pub provider_urn: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
