//! The `query()` dispatcher (README "query() — unified dispatcher"): one
//! arguments object routed by its shape, checked in order: `by` present →
//! `groupBy`; any of `_count`, `_sum`, `_avg`, `_min`, `_max`, `_stringAgg`
//! or a named aggregate (`_x: {count|sum|avg|min|max: …}`) → `aggregate`;
//! anything else → `findMany` (window and recursive reads included).

use serde_json::Value;

use super::Op;
use super::aggregate::is_agg_key;

/// The operation `model.query(args)` runs.
pub(crate) fn route(args: &Value) -> Op {
    let Value::Object(o) = args else {
        return Op::FindMany;
    };
    if o.contains_key("by") {
        Op::GroupBy
    } else if o.iter().any(|(k, v)| is_agg_key(k, v)) {
        Op::Aggregate
    } else {
        Op::FindMany
    }
}
