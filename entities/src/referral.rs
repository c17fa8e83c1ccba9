use sea_orm::entity::prelude::*;

/// A closed-loop referral to an outside service.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patron_id: Uuid,
    pub case_id: Option<Uuid>,
    pub branch_id: Uuid,
    pub service_id: Option<Uuid>,
    pub recipient_name: String,
    pub recipient_phone: Option<String>,
    /// JSON array of needs.
    pub needs: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    pub shares_identifying_data: bool,
    pub status: String,
    pub outcome: Option<String>,
    pub follow_up_on: Option<Date>,
    pub version: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
