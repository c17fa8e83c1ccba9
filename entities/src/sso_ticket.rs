use sea_orm::entity::prelude::*;

/// A finished single sign-on, handed to the app once: the app redeems the
/// ticket for the session's tokens, which never travel in a URL.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_ticket")]
pub struct Model {
    /// SHA-256 (hex) of the ticket.
    #[sea_orm(primary_key, auto_increment = false)]
    pub ticket_hash: String,
    pub session_id: Uuid,
    pub staff_id: Uuid,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
