use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patron")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub preferred_name: String,
    pub legal_name: Option<String>,
    pub birth_year: Option<i32>,
    pub birth_date: Option<Date>,
    pub language: Option<String>,
    pub contact_preference: Option<String>,
    pub do_not_contact: bool,
    pub home_branch_id: Uuid,
    pub version: i32,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
