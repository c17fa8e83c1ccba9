//! Keyset pagination shared by every list.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::{ColumnTrait, sea_query::Condition};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ServiceError, ServiceResult};

/// Largest page a list returns.
pub const MAX_PAGE: u64 = 200;
/// Page size when the caller gives none.
pub const DEFAULT_PAGE: u64 = 50;

pub fn page_size(limit: Option<u64>) -> u64 {
    limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
}

/// A keyset cursor: the sort key and id of the last row of a page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Cursor {
    pub k: String,
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// A cursor on the id alone (lists in id order).
    pub fn of_id(id: Uuid) -> String {
        Cursor {
            k: String::new(),
            id,
        }
        .encode()
    }

    /// The sort key, parsed as the list wrote it.
    pub fn key<T: std::str::FromStr>(&self) -> ServiceResult<T> {
        self.k.parse().map_err(|_| invalid_cursor())
    }

    pub fn decode(raw: Option<&str>) -> ServiceResult<Option<Cursor>> {
        let Some(raw) = raw else { return Ok(None) };
        URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|b| serde_json::from_slice::<Cursor>(&b).ok())
            .filter(|c| c.k.len() <= 200)
            .map(Some)
            .ok_or_else(invalid_cursor)
    }
}

fn invalid_cursor() -> ServiceError {
    ServiceError::invalid("cursor", "must be a next_cursor from a previous page")
}

/// Which way a keyset list runs over its (key, id) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

/// The rows after (`key`, `id`) in a list ordered by (`key_col`, `id_col`).
pub fn after<V>(
    key_col: impl ColumnTrait,
    id_col: impl ColumnTrait,
    key: V,
    id: Uuid,
    order: Order,
) -> Condition
where
    V: Into<sea_orm::Value> + Clone,
{
    let (past_key, past_id) = match order {
        Order::Asc => (key_col.gt(key.clone()), id_col.gt(id)),
        Order::Desc => (key_col.lt(key.clone()), id_col.lt(id)),
    };
    Condition::any()
        .add(past_key)
        .add(Condition::all().add(key_col.eq(key)).add(past_id))
}

/// One page of a list and where the next one starts.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Cuts `rows` (fetched with `limit + 1`) to a page, with the cursor of its
/// last row when more follow.
pub fn page<T, K>(mut rows: Vec<T>, limit: u64, key: impl Fn(&T) -> K) -> (Vec<T>, Option<K>) {
    if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        let next = rows.last().map(key);
        (rows, next)
    } else {
        (rows, None)
    }
}
