//! `@@gate("R.C.U.D")`: level-based access control (the README's
//! GatePlugin), checked before a call compiles.
//!
//! The caller's level comes from the builder's
//! [`ClientBuilder::gate`](crate::ClientBuilder::gate) callback, a plain
//! synchronous closure `(auth, model) -> level` called once per gated model
//! a call touches (the model itself and every model it includes). Without a
//! callback every non-system caller is [`Level::STRANGER`]. An `as_system()`
//! handle is [`Level::SYSTEM`] (the callback is not asked); [`Level::LOCKED`]
//! refuses everyone, system included.
//!
//! Required levels per method: every read (and each included model) needs
//! the read level; `create`/`create_many` the create level;
//! `update`/`update_many`/`restore` the update level;
//! `delete`/`remove` (and their `_many`) the delete level; `upsert` /
//! `upsert_many` both create and update. A level below the requirement is
//! [`Error::AccessDenied`]. Owns no SQL: gates are decided in Rust.

use std::sync::Arc;

use serde_json::Value;

use super::Op;
use crate::error::{Error, Result};
use crate::schema::{Model, Schema};

/// The README's access levels (`LEVELS`), as `u8` constants for
/// `@@gate("R.C.U.D")` and the builder's gate callback.
#[derive(Debug, Clone, Copy)]
pub struct Level;

impl Level {
    /// 0: anyone (no auth).
    pub const STRANGER: u8 = 0;
    /// 1.
    pub const VISITOR: u8 = 1;
    /// 2.
    pub const READER: u8 = 2;
    /// 3.
    pub const CREATOR: u8 = 3;
    /// 4.
    pub const USER: u8 = 4;
    /// 5.
    pub const ADMINISTRATOR: u8 = 5;
    /// 6.
    pub const OWNER: u8 = 6;
    /// 7.
    pub const SYSADMIN: u8 = 7;
    /// 8: reserved for `as_system()` handles.
    pub const SYSTEM: u8 = 8;
    /// 9: impassable, even for `as_system()`.
    pub const LOCKED: u8 = 9;
}

/// The gate callback: `(auth, model name) -> level`. Values above
/// [`Level::SYSADMIN`] are capped at it (only `as_system()` reaches SYSTEM).
pub type GateFn = Arc<dyn Fn(Option<&Value>, &str) -> u8 + Send + Sync>;

fn required(model: &Model, op: Op) -> Vec<(u8, &'static str)> {
    let Some(g) = model.gate else {
        return Vec::new();
    };
    match op {
        Op::Create | Op::CreateMany => vec![(g.create, "create")],
        Op::Update | Op::UpdateMany | Op::Restore => vec![(g.update, "update")],
        Op::Upsert | Op::UpsertMany => vec![(g.create, "create"), (g.update, "update")],
        Op::Delete | Op::DeleteMany | Op::Remove | Op::RemoveMany => vec![(g.delete, "delete")],
        _ => vec![(g.read, "read")],
    }
}

/// Who is asking, for gate decisions.
pub(crate) struct Caller<'a> {
    /// `ctx.auth`.
    pub(crate) auth: Option<&'a Value>,
    /// `as_system()`.
    pub(crate) system: bool,
    /// The builder's callback.
    pub(crate) gate: Option<&'a GateFn>,
}

impl Caller<'_> {
    fn level(&self, model: &str) -> u8 {
        if self.system {
            return Level::SYSTEM;
        }
        match self.gate {
            Some(f) => f(self.auth, model).min(Level::SYSADMIN),
            None => Level::STRANGER,
        }
    }

    fn demand(&self, model: &Model, need: u8, operation: &str) -> Result<()> {
        let deny = |message: String| Error::AccessDenied {
            model: model.name.clone(),
            operation: operation.to_string(),
            message,
        };
        if need >= Level::LOCKED {
            return Err(deny(format!("{} is locked (@@gate level 9)", model.name)));
        }
        let have = self.level(&model.name);
        if have < need {
            return Err(deny(format!(
                "{operation} on {} needs gate level {need}, caller has {have}",
                model.name
            )));
        }
        Ok(())
    }
}

/// Checks the gates of `model` for `op` and the read gates of every model
/// reached through `include` / relation `select` in `args`.
///
/// # Errors
/// [`Error::AccessDenied`] naming the model and operation.
pub(crate) fn check(
    schema: &Schema,
    model: &Model,
    op: Op,
    args: &Value,
    caller: &Caller<'_>,
) -> Result<()> {
    for (need, name) in required(model, op) {
        caller.demand(model, need, name)?;
    }
    includes(schema, model, args, caller, 0)
}

fn includes(
    schema: &Schema,
    model: &Model,
    args: &Value,
    caller: &Caller<'_>,
    depth: usize,
) -> Result<()> {
    // Unknown keys and bad shapes are reported by the compiler; deep
    // nesting is bounded by the argument itself, the cap only guards cycles
    // in malformed input.
    if depth > 64 {
        return Ok(());
    }
    for key in ["include", "select"] {
        let Some(Value::Object(o)) = args.get(key) else {
            continue;
        };
        for (name, v) in o {
            if matches!(v, Value::Bool(false) | Value::Null) {
                continue;
            }
            let Some(rel) = model.field(name).and_then(|f| f.relation()) else {
                continue;
            };
            let target = schema.model_by_id(rel.target);
            if let Some(g) = target.gate {
                caller.demand(target, g.read, "read")?;
            }
            includes(schema, target, v, caller, depth + 1)?;
        }
    }
    Ok(())
}
