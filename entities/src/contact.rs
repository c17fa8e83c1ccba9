use sea_orm::entity::prelude::*;

/// `occurred_at` is fixed-width RFC 3339 text, so that ranges and cursors
/// compare the same way on every backend.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub worker_id: Uuid,
    pub branch_id: Uuid,
    pub patron_id: Option<Uuid>,
    pub occurred_at: String,
    pub recorded_at: DateTimeUtc,
    pub duration_minutes: Option<i32>,
    pub kind: String,
    /// JSON array of needs.
    pub needs: String,
    /// JSON array of services given.
    pub services_given: String,
    pub note: Option<String>,
    pub version: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
