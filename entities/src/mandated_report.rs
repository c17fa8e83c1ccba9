use sea_orm::entity::prelude::*;

/// A report to a protective agency: the most restricted record.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mandated_report")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patron_id: Uuid,
    pub case_id: Option<Uuid>,
    pub branch_id: Uuid,
    pub kind: String,
    pub agency: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub legal_basis: Option<String>,
    pub learned_at: DateTimeUtc,
    pub reported_at: Option<DateTimeUtc>,
    pub reported_how: Option<String>,
    pub intake_number: Option<String>,
    pub agency_worker: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub persons_concerned: String,
    #[sea_orm(column_type = "Text")]
    pub what_was_reported: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub screening_outcome: Option<String>,
    pub status: String,
    pub version: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
