use sea_orm::entity::prelude::*;

/// A request from staff or security to social work: the one door through
/// the wall. It holds copies of the incident fields its requester chose to
/// share, never a key into either side.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "support_request")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub branch_id: Uuid,
    pub urgency: String,
    #[sea_orm(column_type = "Text")]
    pub needed: String,
    /// JSON object of the shared incident fields, as they were when the
    /// request was made; `None` when it shares none.
    #[sea_orm(column_type = "Text", nullable)]
    pub shared: Option<String>,
    pub status: String,
    pub received_at: Option<DateTimeUtc>,
    /// The receiving team's name, which the requester sees.
    pub received_team: Option<String>,
    pub closed_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
