use sea_orm::entity::prelude::*;

/// A suspension (ban) from one branch or every branch.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "suspension")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// A name if known, otherwise a description.
    pub person: String,
    /// `None`: system-wide.
    pub branch_id: Option<Uuid>,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub incident_id: Option<Uuid>,
    pub notified_how: String,
    pub appeal_status: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub appeal_decision: Option<String>,
    pub lifted_at: Option<DateTimeUtc>,
    pub lifted_by: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub lift_reason: Option<String>,
    pub version: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
