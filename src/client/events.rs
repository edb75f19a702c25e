//! Query events delivered to `on_query` listeners and `tap_query` captures.

use serde::Serialize;
use serde_json::Value;

/// One executed statement, shaped like the Litestone `onQuery` event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryEvent {
    /// Model the operation ran on (`None` for raw SQL and utilities).
    pub model: Option<String>,
    /// Operation name in the README's camelCase (`findMany`, `create`, `sql`, ...).
    pub operation: String,
    /// Database block name (`main` by default).
    pub database: String,
    /// `auth().id` of the calling client, when set.
    pub actor_id: Option<Value>,
    /// The SQL text.
    pub sql: String,
    /// Bound parameters.
    pub params: Vec<Value>,
    /// Time spent in SQLite, in milliseconds.
    pub duration: f64,
    /// Rows returned or changed.
    pub row_count: u64,
    /// The arguments of the call.
    pub args: Value,
}
