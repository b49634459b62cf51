//! sea-orm entities: one table per record kind, keyed by the record's natural key. The key's
//! fields are declared in the order records are listed (`StoredRecord::key_columns`).

pub mod contact {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "contact")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub contact_id: String,
        pub child_id: String,
        pub contact_date: Date,
        pub source: String,
        pub became_referral: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod referral {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "referral")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub referral_date: Date,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        pub source: String,
        pub nfa: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod assessment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "assessment")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub start_date: Date,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        pub referral_date: Date,
        pub authorisation_date: Option<Date>,
        /// Factor codes, comma-separated, in the order given.
        pub factors: String,
        /// "", "nfa" or "further_action".
        pub outcome: String,
        pub closure_reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod section47_enquiry {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "section47_enquiry")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub start_date: Date,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        pub referral_date: Option<Date>,
        pub icpc_target_date: Option<Date>,
        pub icpc_date: Option<Date>,
        pub icpc_not_required: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod strategy_discussion {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "strategy_discussion")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub discussion_date: Date,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        /// Agency keys ("police", "health", "education", "other"), comma-separated, sorted.
        pub invited: String,
        pub attended: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod icpc {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "icpc")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub icpc_date: Date,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        pub s47_start_date: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod early_help_assessment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "early_help_assessment")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub la_code: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub start_date: Date,
        #[sea_orm(primary_key, auto_increment = false)]
        pub child_id: String,
        pub completion_date: Option<Date>,
        pub organisation: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
