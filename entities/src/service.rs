use sea_orm::entity::prelude::*;

/// An outside service in the directory (a subset of Open Referral HSDS).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub hsds_id: Option<String>,
    pub organization_name: String,
    pub name: String,
    pub name_key: String,
    /// JSON array of needs.
    pub categories: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub eligibility: Option<String>,
    /// JSON array of languages.
    pub languages: String,
    pub status: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
