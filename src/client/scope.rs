//! Scopes (README "Scopes"): named, reusable read fragments registered per
//! model on the builder and applied with `model.scope("active")`, chainable
//! (`.scope("active").scope("premium")`).
//!
//! A scope is an object shaped like `find_many` arguments, or a function of
//! the caller's auth returning one (the README's `where: (ctx) => …`).
//! Merging, as the README says: every `where` (each scope's and the
//! caller's) is AND-ed; other keys are last-write-wins in chain order, the
//! caller's arguments last. Soft-delete filtering and policies still apply
//! (a scope is not access control). Decisions where the README is silent:
//! - Reads only. A write through a scoped accessor is refused with
//!   `InvalidArgs` instead of silently ignoring the scope.
//! - `count`, `exists`, `aggregate` and `group_by` (and `query` calls that
//!   route to them) take only the scopes' `where`, `withDeleted` and
//!   `onlyDeleted`; paging, ordering and projection keys of a scope apply to
//!   row reads.
//! - `find_unique` under a scope runs as `find_first` with the merged where
//!   (the unique row, if it is also in scope).
//! - `search` takes its options merged the same way (a plain query string
//!   or `[query, options]` is normalised first).
//! - Names are checked at open: not empty, not starting with `$` or `_`, not
//!   a built-in method name (snake_case or the README's camelCase), and not
//!   a relation field of the model; static scopes are compiled once as
//!   `find_many` arguments so unknown fields fail at open.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::query::Op;

/// A dynamic scope: the caller's auth in, `find_many` arguments out.
pub(crate) type ScopeFn = Arc<dyn Fn(Option<&Value>) -> Value + Send + Sync>;

/// A scope's arguments: fixed, or computed from the caller's auth.
#[derive(Clone)]
pub(crate) enum ScopeDef {
    /// Fixed `find_many`-shaped arguments.
    Static(Value),
    /// A function of `auth()` (None outside `set_auth`) returning them.
    Dynamic(ScopeFn),
}

impl std::fmt::Debug for ScopeDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScopeDef::Static(v) => f.debug_tuple("Static").field(v).finish(),
            ScopeDef::Dynamic(_) => f.write_str("Dynamic(..)"),
        }
    }
}

/// Scopes by model name, then scope name.
pub(crate) type Scopes = HashMap<String, HashMap<String, ScopeDef>>;

/// Method names a scope may not shadow.
const BUILT_INS: &[&str] = &[
    "find_many",
    "find_first",
    "find_unique",
    "find_first_or_throw",
    "find_unique_or_throw",
    "find_many_and_count",
    "find_many_cursor",
    "find_many_stream",
    "count",
    "exists",
    "aggregate",
    "group_by",
    "query",
    "search",
    "create",
    "create_many",
    "update",
    "update_many",
    "upsert",
    "upsert_many",
    "remove",
    "remove_many",
    "delete",
    "delete_many",
    "restore",
    "optimize_fts",
    "scope",
    "name",
    "to_sql",
    "findMany",
    "findFirst",
    "findUnique",
    "findFirstOrThrow",
    "findUniqueOrThrow",
    "findManyAndCount",
    "findManyCursor",
    "groupBy",
    "createMany",
    "updateMany",
    "upsertMany",
    "removeMany",
    "deleteMany",
    "optimizeFts",
];

/// Checks a scope's name and shape against its model (at open).
pub(crate) fn validate(
    schema: &crate::schema::Schema,
    model: &str,
    name: &str,
    def: &ScopeDef,
) -> Result<()> {
    let path = format!("scopes.{model}.{name}");
    let m = schema.model(model).ok_or_else(|| Error::UnknownModel {
        model: model.to_string(),
    })?;
    if name.is_empty() || name.starts_with('$') || name.starts_with('_') {
        return Err(Error::invalid_args(
            path,
            "a scope name must not be empty or start with `$` or `_`",
        ));
    }
    if BUILT_INS.contains(&name) {
        return Err(Error::invalid_args(
            path,
            format!("`{name}` is a built-in method of every model"),
        ));
    }
    if m.field(name).is_some_and(|f| f.relation().is_some()) {
        return Err(Error::invalid_args(
            path,
            format!("`{name}` is a relation field of `{model}`"),
        ));
    }
    if let ScopeDef::Static(v) = def
        && !v.is_object()
    {
        return Err(Error::invalid_args(
            path,
            "expected an object of find_many arguments",
        ));
    }
    Ok(())
}

/// Keys a scope contributes to `op` besides `where`.
fn passes(op: Op, key: &str) -> bool {
    match op {
        Op::Count | Op::Exists | Op::Aggregate | Op::GroupBy => {
            matches!(key, "withDeleted" | "onlyDeleted")
        }
        _ => true,
    }
}

/// The caller's arguments as an object (search's string and array forms
/// normalised).
fn caller_object(op: Op, args: &Value) -> Result<Map<String, Value>> {
    match (op, args) {
        (_, Value::Null) => Ok(Map::new()),
        (_, Value::Object(o)) => Ok(o.clone()),
        (Op::Search, Value::String(q)) => Ok(Map::from_iter([(
            "query".to_string(),
            Value::String(q.clone()),
        )])),
        (Op::Search, Value::Array(a)) => {
            let mut o = a
                .get(1)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            if let Some(q) = a.first() {
                o.insert("query".to_string(), q.clone());
            }
            Ok(o)
        }
        _ => Err(Error::invalid_args("", "expected an object of arguments")),
    }
}

/// Applies the scopes `names` of `model` to a read: returns the operation
/// to run and its merged arguments.
pub(crate) fn apply(
    scopes: &Scopes,
    model: &str,
    names: &[Arc<str>],
    auth: Option<&Value>,
    op: Op,
    args: &Value,
) -> Result<(Op, Value)> {
    if op.is_write() {
        return Err(Error::invalid_args(
            "",
            format!(
                "scopes apply to reads; `{}` is a write: call it on `model(\"{model}\")` without a scope",
                op.name()
            ),
        ));
    }
    let caller = caller_object(op, args)?;
    let op = match op {
        Op::FindUnique => Op::FindFirst,
        Op::FindUniqueOrThrow => Op::FindFirstOrThrow,
        Op::Query => crate::query::dispatch::route(&Value::Object(caller.clone())),
        other => other,
    };
    let defs = scopes.get(model);
    let mut wheres: Vec<Value> = Vec::new();
    let mut out = Map::new();
    for name in names {
        let def = defs.and_then(|d| d.get(&**name)).ok_or_else(|| {
            Error::invalid_args(
                format!("scope.{name}"),
                format!("unknown scope `{name}` on model `{model}`"),
            )
        })?;
        let v = match def {
            ScopeDef::Static(v) => v.clone(),
            ScopeDef::Dynamic(f) => {
                super::computed::run_user(&format!("the scope `{name}` of `{model}`"), || f(auth))?
            }
        };
        let Value::Object(o) = v else {
            return Err(Error::invalid_args(
                format!("scope.{name}"),
                "the scope returned something other than an object of arguments",
            ));
        };
        for (k, v) in o {
            if k == "where" {
                if !v.is_null() {
                    wheres.push(v);
                }
            } else if passes(op, &k) {
                out.insert(k, v);
            }
        }
    }
    for (k, v) in caller {
        if k == "where" {
            if !v.is_null() {
                wheres.push(v);
            }
        } else {
            out.insert(k, v);
        }
    }
    match wheres.len() {
        0 => {}
        1 => {
            out.insert("where".to_string(), wheres.remove(0));
        }
        _ => {
            let mut w = Map::new();
            w.insert("AND".to_string(), Value::Array(wheres));
            out.insert("where".to_string(), Value::Object(w));
        }
    }
    Ok((op, Value::Object(out)))
}
