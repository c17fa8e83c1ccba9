use sea_orm::entity::prelude::*;

/// One audited access. Times are stored as fixed-width RFC 3339 text so that
/// the hash over a row is the same on every backend.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    #[sea_orm(unique)]
    pub id: Uuid,
    pub recorded_at: String,
    pub occurred_at: Option<String>,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    /// JSON array of branch ids.
    pub actor_branches: String,
    pub session_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    pub action: String,
    pub record_type: Option<String>,
    pub record_id: Option<Uuid>,
    pub patron_id: Option<Uuid>,
    /// JSON array of the patron ids a list or search disclosed.
    pub patron_ids: String,
    pub outcome: String,
    pub rule: String,
    pub purpose: Option<String>,
    /// JSON array of field names.
    pub fields: String,
    pub query: Option<String>,
    /// JSON array of record ids returned by a search.
    pub result_ids: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
