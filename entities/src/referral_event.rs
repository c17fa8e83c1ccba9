use sea_orm::entity::prelude::*;

/// One move in a referral's history.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub referral_id: Uuid,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: Uuid,
    pub occurred_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub outcome: Option<String>,
    pub on_behalf_of_agency: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
