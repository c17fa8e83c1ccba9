use sea_orm::entity::prelude::*;

/// An audit event flagged when it was written for an anomaly view (a
/// refusal, a failed sign-in, an access to a patron of another branch),
/// with what the view groups it by: an actor, an account or an address.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_flag")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub event_id: Uuid,
    pub key: Option<String>,
    pub actor_role: Option<String>,
    pub recorded_at: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
