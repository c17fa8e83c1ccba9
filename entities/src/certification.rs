use sea_orm::entity::prelude::*;

/// One completion of a training by a staff member; append-only (a new
/// completion renews).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certification")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub staff_id: Uuid,
    pub training_id: Uuid,
    pub completed_on: Date,
    /// Computed from the training's period when recorded; `None`: no expiry.
    pub expires_on: Option<Date>,
    /// A certified instructor of the training.
    pub trainer: bool,
    pub evidence: Option<String>,
    /// `None` when loaded from a roster on the command line.
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
