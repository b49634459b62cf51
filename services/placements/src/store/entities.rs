//! sea-orm entities: one table per record kind, keyed by the record's natural key.

pub mod child {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "child")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        /// "M", "F" or "U".
        pub sex: String,
        pub date_of_birth: Date,
        pub ethnicity: Option<String>,
        pub upn: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod episode {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "episode")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub decom: Date,
        pub rne: String,
        pub legal_status: String,
        pub cin: Option<String>,
        pub place: String,
        pub place_provider: Option<String>,
        pub dec: Option<Date>,
        pub rec: Option<String>,
        pub reason_place_change: Option<String>,
        pub home_post: Option<String>,
        pub pl_post: Option<String>,
        pub urn: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sw_allocation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sw_allocation")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub sw_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub start_date: Date,
        pub end_date: Option<Date>,
        pub reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod cla_review {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cla_review")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub review_date: Date,
        pub review_code: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod care_summary {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "care_summary")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub care_start_date: Date,
        pub legal_status: Option<String>,
        pub legal_status_start_date: Option<Date>,
        pub last_visit_date: Option<Date>,
        pub ceased_date: Option<Date>,
        pub reason_ceased: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
