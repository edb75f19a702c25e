//! Query events delivered to `on_query` listeners and `tap_query` captures,
//! and the registry of taps.
//!
//! Events are built only when a listener or a live tap exists: the model
//! methods ask [`Observers::active`] (one atomic load) before asking the
//! executor to time and record statements.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::RwLock;
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

/// A committed write (README `onEvent`): delivered to
/// [`ClientBuilder::on_event`](super::ClientBuilder::on_event) listeners
/// after the write commits (for writes inside a transaction: after the
/// transaction commits; nothing for writes that were rolled back).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteEvent {
    /// Model written.
    pub model: String,
    /// `create`, `update`, `upsert` (created or updated: the row tells),
    /// `remove` (`remove` / `remove_many`: a soft delete, or a hard one on
    /// models without `@@softDelete`), `delete` or `restore` — the README's
    /// `create` / `update` / `remove` plus the others; its `change` is
    /// every event.
    pub action: String,
    /// Operation in the README's camelCase (`create`, `updateMany`, ...).
    pub operation: String,
    /// Database block name.
    pub database: String,
    /// `auth().id` of the calling client, when set.
    pub actor_id: Option<Value>,
    /// Rows returned by single-row writes (empty for bulk operations and
    /// `select: false`).
    pub rows: Vec<Value>,
    /// Rows written (`{count}` of bulk operations; rows returned otherwise).
    pub count: u64,
}

/// A listener for committed writes.
pub type EventListener = Arc<dyn Fn(&WriteEvent) + Send + Sync>;

type TapFn = Arc<dyn Fn(&QueryEvent) + Send + Sync>;

/// Live taps of one client (shared by its clones).
#[derive(Default)]
pub(crate) struct Observers {
    taps: RwLock<Vec<(u64, TapFn)>>,
    count: AtomicUsize,
    next: AtomicU64,
}

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observers")
            .field("taps", &self.count.load(Ordering::Relaxed))
            .finish()
    }
}

impl Observers {
    /// Whether any tap is live.
    pub(crate) fn active(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    pub(crate) fn add(&self, f: TapFn) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut taps = self.taps.write();
        taps.push((id, f));
        self.count.store(taps.len(), Ordering::Release);
        id
    }

    pub(crate) fn remove(&self, id: u64) {
        let mut taps = self.taps.write();
        taps.retain(|(i, _)| *i != id);
        self.count.store(taps.len(), Ordering::Release);
    }

    /// Calls every live tap.
    pub(crate) fn emit(&self, e: &QueryEvent) {
        let taps: Vec<TapFn> = self.taps.read().iter().map(|(_, f)| f.clone()).collect();
        for f in taps {
            f(e);
        }
    }
}

/// A live `tap_query` capture: stops when dropped or [`TapHandle::stop`]ped.
#[must_use = "the tap stops when the handle is dropped"]
pub struct TapHandle {
    pub(crate) observers: std::sync::Weak<super::ClientInner>,
    pub(crate) id: u64,
}

impl std::fmt::Debug for TapHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TapHandle").field("id", &self.id).finish()
    }
}

impl TapHandle {
    /// Stops capturing (same as dropping the handle).
    pub fn stop(self) {}
}

impl Drop for TapHandle {
    fn drop(&mut self) {
        if let Some(inner) = self.observers.upgrade() {
            inner.observers.remove(self.id);
        }
    }
}
