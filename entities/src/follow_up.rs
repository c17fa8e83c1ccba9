use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "follow_up")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub patron_id: Option<Uuid>,
    pub branch_id: Uuid,
    pub assigned_to: Uuid,
    pub due_on: Date,
    pub note: Option<String>,
    pub status: String,
    pub done_at: Option<DateTimeUtc>,
    pub done_by: Option<Uuid>,
    pub version: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
