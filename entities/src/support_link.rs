use sea_orm::entity::prelude::*;

/// Casework's side of a support request it received: who received and
/// closed it, and the contact or case it led to. Never shown to the
/// requester.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "support_link")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub support_request_id: Uuid,
    pub received_by: Uuid,
    pub contact_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub closed_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
