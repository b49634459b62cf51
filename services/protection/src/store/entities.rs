//! sea-orm entities: one table per record kind, keyed by the record's natural key.

pub mod cin_plan {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cin_plan")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub start_date: Date,
        pub end_date: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod cp_plan {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cp_plan")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub start_date: Date,
        pub end_date: Option<Date>,
        pub initial_category: String,
        pub latest_category: Option<String>,
        pub previous_plans: Option<i32>,
        /// ISO dates, comma-separated, sorted.
        pub review_dates: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod missing_episode {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "missing_episode")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub start_date: Date,
        /// 903 code: "M" or "A".
        pub kind: String,
        /// "home" or "care".
        pub absent_from: String,
        /// "HH:MM" or "HH:MM:SS".
        pub start_time: Option<String>,
        pub end_date: Option<Date>,
        pub end_time: Option<String>,
        pub interview_offered_date: Option<Date>,
        /// "accepted" or "declined".
        pub interview_outcome: Option<String>,
        pub interview_completed_date: Option<Date>,
        pub interview_completed_time: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod feedback {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "feedback")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub response_id: String,
        pub question: String,
        /// "parent", "child" or "professional".
        pub respondent: String,
        pub response_date: Date,
        /// "positive", "neutral" or "negative".
        pub rating: String,
        pub child_id: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
