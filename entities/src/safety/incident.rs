use sea_orm::entity::prelude::*;

/// An incident security or staff recorded.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub branch_id: Uuid,
    pub occurred_at: DateTimeUtc,
    pub category: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// The description folded for word search (lowercase, no accents).
    #[sea_orm(column_type = "Text")]
    pub description_key: String,
    pub action_taken: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub persons_involved: Option<String>,
    /// JSON array of `{"staff_id", "part"}`.
    #[sea_orm(column_type = "Text")]
    pub responders: String,
    /// How it was resolved (`ResolutionPath`).
    pub resolution: Option<String>,
    pub police_called: bool,
    /// Minutes between the first de-escalation attempt and the police call.
    pub minutes_before_police: Option<i32>,
    /// The rule of behavior involved.
    pub rule_id: Option<Uuid>,
    pub version: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
