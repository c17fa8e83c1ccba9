use sea_orm::entity::prelude::*;

/// The last signed audit checkpoint made with each checkpoint key (each
/// instance keeps its own key and file): where that file must reach, so
/// that a file removed or cut short is seen.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_checkpoint_mark")]
pub struct Model {
    /// Hex Ed25519 public key of the checkpoint key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub public_key: String,
    pub seq: i64,
    /// When it was made, fixed-width RFC 3339.
    pub at: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
