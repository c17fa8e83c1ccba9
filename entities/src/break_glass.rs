use sea_orm::entity::prelude::*;

/// A supervisor's time-limited access to one case outside their scope.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "break_glass")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub supervisor_id: Uuid,
    pub case_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    /// The reason names the restricted notes, which the grant then opens.
    pub restricted_notes: bool,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub reviewed_at: Option<DateTimeUtc>,
    pub reviewed_by: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub review_comment: Option<String>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
