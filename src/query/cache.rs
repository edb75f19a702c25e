//! Per-client caches of compile work that depends only on the schema and
//! the caller's visibility (never on argument values).
//!
//! Today: the default projection of each (model, list read, system) — the
//! visible output columns a read returns when nothing is selected — shared
//! as an `Arc` by every plan that uses it, so a point read does not rebuild
//! and re-allocate its column list. SQLite's own preparation is cached per
//! connection by statement text (`prepare_cached` in `exec/`), and bulk
//! writes reuse each statement shape's text within a call
//! (`query::ShapeCache`).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use super::ast::OutCol;
use crate::schema::ModelId;

type ProjectionKey = (ModelId, bool, bool);

/// Compile caches of one client (shared by its clones).
#[derive(Debug, Default)]
pub(crate) struct QueryCache {
    projections: RwLock<HashMap<ProjectionKey, Arc<Vec<OutCol>>>>,
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
}
