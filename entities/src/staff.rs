use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub active: bool,
    pub password_hash: String,
    /// Set when an admin set the password: the account must choose its own
    /// before it can do anything else.
    pub must_change_password: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    /// The single sign-on provider's subject (`sub`) this account is linked to.
    #[sea_orm(unique)]
    pub sso_subject: Option<String>,
    /// A verified email the provider may name once to link the account
    /// (setting `oidc_link_by_email`).
    #[sea_orm(unique)]
    pub sso_email: Option<String>,
    /// Whether the local password may sign in (off: single sign-on only).
    pub password_sign_in: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
