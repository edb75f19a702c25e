//! Per-client caches of compile work that depends only on the schema and
//! the caller's visibility (never on argument values).
//!
//! - The default projection of each (model, list read, system) — the
//!   visible output columns a read returns when nothing is selected — shared
//!   as an `Arc` by every plan that uses it.
//! - The statement texts of every read shape compiled so far, keyed by
//!   [`super::shape::read_key`] (model, operation and argument structure
//!   with values stripped, as the typed query shows them): a repeated shape
//!   only collects its parameters ([`crate::sql::select::rows_cached`]).
//!
//! SQLite's own preparation is cached per connection by statement text
//! (`prepare_cached` in `exec/`), which the stable texts make effective, and
//! bulk writes reuse each statement shape's text within a call
//! (`query::ShapeCache`).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use super::ast::OutCol;
use super::shape::ShapeKey;
use crate::schema::ModelId;

type ProjectionKey = (ModelId, bool, bool);

/// Distinct read shapes kept before the text cache is reset (raw SQL
/// fragments make shapes unbounded; a reset only costs re-rendering).
const MAX_SHAPES: usize = 4096;

/// Compile caches of one client (shared by its clones).
#[derive(Debug, Default)]
pub(crate) struct QueryCache {
    projections: RwLock<HashMap<ProjectionKey, Arc<Vec<OutCol>>>>,
    texts: RwLock<HashMap<ShapeKey, Arc<[Arc<str>]>>>,
}

impl QueryCache {
    /// The default projection of `model`, built by `build` on first use.
    pub(crate) fn default_cols(
        &self,
        model: ModelId,
        list: bool,
        system: bool,
        build: impl FnOnce() -> Arc<Vec<OutCol>>,
    ) -> Arc<Vec<OutCol>> {
        let key = (model, list, system);
        if let Some(cols) = self.projections.read().get(&key) {
            return cols.clone();
        }
        let cols = build();
        self.projections.write().insert(key, cols.clone());
        cols
    }

    /// The statement texts (pre-order: the read, then each include level)
    /// of a read shape seen before.
    pub(crate) fn texts(&self, key: ShapeKey) -> Option<Arc<[Arc<str>]>> {
        self.texts.read().get(&key).cloned()
    }

    /// Remembers the statement texts of a read shape.
    pub(crate) fn remember(&self, key: ShapeKey, texts: Arc<[Arc<str>]>) {
        let mut map = self.texts.write();
        if map.len() >= MAX_SHAPES {
            map.clear();
        }
        map.insert(key, texts);
    }
}
