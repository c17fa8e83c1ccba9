use sea_orm::entity::prelude::*;

/// A training in the catalogue (NVCI, MHFA, trauma-informed care...).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "training")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub provider: String,
    /// `None`: never needs renewing.
    pub recertify_months: Option<i32>,
    /// Counts as de-escalation training for incident responders.
    pub de_escalation: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
