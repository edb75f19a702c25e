//! `@computed` fields and `$validate` rules (README "Computed fields"):
//! application code registered on the builder, run on the caller's task.
//!
//! - A computed field's function receives the row as read (the fields the
//!   call returns) and its result is added under the field's name, after the
//!   stored fields. It runs for every row a model call returns: top-level
//!   rows, `{rows}` / `{items}` pages and included rows (through the
//!   schema's relations), and rows returned by writes. Typed calls
//!   (`*_as::<T>`) of a model with computed fields decode through JSON so
//!   `T` can carry them. A `select` naming no computed field leaves them out.
//!   A `@computed` field without a registered function is left out of rows
//!   (a warning is logged at open).
//! - `$validate` rules check the `data` of `create`, `create_many`,
//!   `update`, `update_many`, `upsert` (its `create` and `update`) and
//!   `upsert_many` before anything is compiled or written; a failing rule is
//!   [`Error::Validation`] with rule `$validate`, the rule's message and its
//!   path as the field.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::query::Op;
use crate::schema::{Model, Schema};

/// Runs application code, turning a panic into [`Error::Panic`] naming
/// `what` (no panic reaches the caller's task).
pub(crate) fn run_user<T>(what: &str, f: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let e = Error::from_panic(&*p);
        Error::Panic {
            message: format!("{what} panicked: {e}"),
        }
    })
}

/// A computed field's function: the row in, the value out.
pub(crate) type ComputedFn = Arc<dyn Fn(&Map<String, Value>) -> Value + Send + Sync>;
/// A `before_write` hook: model, action and one data object (mutable).
pub(crate) type BeforeFn = Arc<dyn Fn(&str, &str, &mut Map<String, Value>) + Send + Sync>;
/// An `after_read` hook: model and one returned row (mutable).
pub(crate) type AfterFn = Arc<dyn Fn(&str, &mut Map<String, Value>) + Send + Sync>;

/// A `$validate` check: the written data in, `true` when valid.
pub(crate) type CheckFn = Arc<dyn Fn(&Map<String, Value>) -> bool + Send + Sync>;

/// One `$validate` rule.
#[derive(Clone)]
pub(crate) struct Rule {
    pub(crate) check: CheckFn,
    pub(crate) message: String,
    pub(crate) path: Vec<String>,
}

/// Registered computed fields and rules, by model name.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) fields: HashMap<String, Vec<(String, ComputedFn)>>,
    pub(crate) rules: HashMap<String, Vec<Rule>>,
    /// `before_write` hooks (every model), in registration order.
    pub(crate) before: Vec<BeforeFn>,
    /// `after_read` hooks (every model), in registration order.
    pub(crate) after: Vec<AfterFn>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .field("rules", &self.rules.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Hooks {
    /// Checks the registrations against the schema (at open).
    pub(crate) fn validate(&self, schema: &Schema) -> Result<()> {
        for (model, fields) in &self.fields {
            let m = schema.model(model).ok_or_else(|| Error::UnknownModel {
                model: model.clone(),
            })?;
            for (name, _) in fields {
                match m.field(name) {
                    Some(f) if f.computed => {}
                    Some(_) => {
                        return Err(Error::invalid_args(
                            format!("computed.{model}.{name}"),
                            format!("`{model}.{name}` is not declared @computed"),
                        ));
                    }
                    None => {
                        return Err(Error::UnknownField {
                            model: model.clone(),
                            field: name.clone(),
                            path: format!("computed.{model}.{name}"),
                        });
                    }
                }
            }
        }
        for model in self.rules.keys() {
            if schema.model(model).is_none() {
                return Err(Error::UnknownModel {
                    model: model.clone(),
                });
            }
        }
        for m in &schema.models {
            for f in m.fields.iter().filter(|f| f.computed) {
                let known = self
                    .fields
                    .get(&m.name)
                    .is_some_and(|v| v.iter().any(|(n, _)| n == &f.name));
                if !known {
                    tracing::warn!(
                        model = %m.name,
                        field = %f.name,
                        "@computed field has no registered function; it is left out of rows"
                    );
                }
            }
        }
        Ok(())
    }

    /// Whether any computed field is registered (rows of any model may
    /// then need them, through includes).
    pub(crate) fn any(&self) -> bool {
        !self.fields.is_empty() || !self.after.is_empty()
    }

    /// Runs the `before_write` hooks on every data object of a write
    /// (`data`, or upsert's `create` / `update`; each row of bulk forms).
    /// `None` when there are no hooks (the arguments stay as given).
    pub(crate) fn before_write(&self, model: &str, op: Op, args: &Value) -> Result<Option<Value>> {
        if self.before.is_empty() {
            return Ok(None);
        }
        let action = super::audit::action(op);
        let mut args = args.clone();
        for key in ["data", "create", "update"] {
            let Some(v) = args.get_mut(key) else { continue };
            let mut objs: Vec<&mut Map<String, Value>> = match v {
                Value::Object(o) => vec![o],
                Value::Array(a) => a.iter_mut().filter_map(Value::as_object_mut).collect(),
                _ => Vec::new(),
            };
            for o in objs.iter_mut() {
                for h in &self.before {
                    run_user("a before_write hook", || h(model, action, o))?;
                }
            }
        }
        Ok(Some(args))
    }

    /// Runs the `$validate` rules of `model` on a write's data.
    pub(crate) fn check_write(&self, model: &str, op: Op, args: &Value) -> Result<()> {
        let Some(rules) = self.rules.get(model) else {
            return Ok(());
        };
        fn push<'a>(datas: &mut Vec<&'a Map<String, Value>>, v: Option<&'a Value>) {
            match v {
                Some(Value::Object(o)) => datas.push(o),
                Some(Value::Array(a)) => datas.extend(a.iter().filter_map(Value::as_object)),
                _ => {}
            }
        }
        let mut datas: Vec<&Map<String, Value>> = Vec::new();
        match op {
            Op::Create | Op::CreateMany | Op::Update | Op::UpdateMany | Op::UpsertMany => {
                push(&mut datas, args.get("data"));
            }
            Op::Upsert => {
                push(&mut datas, args.get("create"));
                push(&mut datas, args.get("update"));
            }
            _ => return Ok(()),
        }
        for d in datas {
            for r in rules {
                let ok = run_user(&format!("the $validate rule of `{model}`"), || (r.check)(d))?;
                if !ok {
                    return Err(Error::validation(
                        model,
                        r.path.join("."),
                        "$validate",
                        r.message.clone(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Adds the computed fields to every row of `model` in `v` (a row, a
    /// list, a `{rows}` / `{items}` page), following includes; `args` are
    /// the call's arguments (their `select` / `include` decide).
    pub(crate) fn apply(
        &self,
        schema: &Schema,
        model: &Model,
        args: &Value,
        v: &mut Value,
    ) -> Result<()> {
        match v {
            Value::Array(rows) => {
                for r in rows {
                    self.apply_row(schema, model, args, r)?;
                }
                Ok(())
            }
            Value::Object(o) if o.contains_key("items") && o.contains_key("hasMore") => {
                match o.get_mut("items") {
                    Some(items) => self.apply(schema, model, args, items),
                    None => Ok(()),
                }
            }
            Value::Object(o) if o.contains_key("rows") && o.contains_key("total") => {
                match o.get_mut("rows") {
                    Some(rows) => self.apply(schema, model, args, rows),
                    None => Ok(()),
                }
            }
            Value::Object(_) => self.apply_row(schema, model, args, v),
            _ => Ok(()),
        }
    }

    fn apply_row(&self, schema: &Schema, model: &Model, args: &Value, v: &mut Value) -> Result<()> {
        let Value::Object(row) = v else {
            return Ok(());
        };
        let select = args.get("select").and_then(Value::as_object);
        let include = args.get("include").and_then(Value::as_object);
        // Included rows first (their computed fields are part of the row
        // the parent's functions see).
        for (k, child) in row.iter_mut() {
            let Some(rel) = model.field(k).and_then(|f| f.relation()) else {
                continue;
            };
            let target = schema.model_by_id(rel.target);
            let sub = select
                .and_then(|s| s.get(k))
                .or_else(|| include.and_then(|i| i.get(k)))
                .filter(|a| a.is_object())
                .unwrap_or(&Value::Null);
            match child {
                Value::Array(items) => {
                    for it in items {
                        self.apply_row(schema, target, sub, it)?;
                    }
                }
                Value::Object(_) => self.apply_row(schema, target, sub, child)?,
                _ => {}
            }
        }
        let none = Vec::new();
        let fields = self.fields.get(&model.name).unwrap_or(&none);
        // With a select, only the computed fields it names with `true`
        // (unless it only switches fields off).
        let picks = select.filter(|s| s.values().any(|x| x == &Value::Bool(true)));
        let values: Vec<(String, Value)> = fields
            .iter()
            .filter(|(name, _)| {
                let chosen = select.and_then(|s| s.get(name));
                match picks {
                    Some(_) => chosen == Some(&Value::Bool(true)),
                    None => chosen != Some(&Value::Bool(false)),
                }
            })
            .map(|(name, f)| {
                let what = format!("the @computed function of `{}.{name}`", model.name);
                Ok((name.clone(), run_user(&what, || f(row))?))
            })
            .collect::<Result<_>>()?;
        for (name, value) in values {
            row.insert(name, value);
        }
        for h in &self.after {
            run_user("an after_read hook", || h(&model.name, row))?;
        }
        Ok(())
    }
}
