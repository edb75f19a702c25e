//! Row- and field-level policies (`@@allow` / `@@deny` / `@allow`) compiled
//! into where-trees that SQLite evaluates: the README's "policies compile to
//! SQL WHERE injections".
//!
//! Owns the meaning of policy expressions and the access checks of writes.
//! It writes no SQL text (the trees go to [`crate::sql`]) and never runs a
//! statement; [`crate::sql::Guard`]s run on the connection of the write they
//! protect, in the same command, before it.
//!
//! # Semantics
//! - Policies apply to handles without `as_system()`; a model with no policy
//!   for an operation costs nothing (no predicate is added).
//! - An operation's filter is `(allow1 OR allow2 …) AND NOT deny1 AND NOT
//!   deny2 …`: default open (no `@@allow` → `true`), the first `@@allow`
//!   closes the operation to everything it does not allow, and `@@deny`
//!   always wins. Model-level `'all'` covers every operation, `'write'`
//!   covers create, update and delete.
//! - Reads (every find, count, exists, cursor page, stream, and every
//!   included level, with the *included* model's read policies) only see
//!   permitted rows; a refused row is simply invisible (`find_*_or_throw`
//!   reports `NotFound`, a to-one include is `null`), never `AccessDenied`.
//! - Single-row `update` / `delete` / `remove` act on the first row matching
//!   `where` that the policy permits. When rows match `where` but the policy
//!   refuses all of them the call fails with [`Error::AccessDenied`] carrying
//!   the failing policy's message (the first true `@@deny`, else the message
//!   of the first `@@allow`, else a generic one); when no row matches at all,
//!   the method behaves as without policies (`NotFound` / `null`).
//! - `update_many` / `delete_many` / `remove_many` / `restore` silently affect
//!   only the permitted rows (their `{count}` says how many).
//! - `create` / `create_many` evaluate the create policy on the row about to
//!   be inserted (given values and Rust-side defaults; database-side values
//!   such as autoincrement ids and `@sequence` numbers are `NULL` at that
//!   point); a refused row fails the whole call before anything is written.
//!   `upsert` checks the update policy when the `where` row exists and the
//!   create policy otherwise; `upsert_many` checks both per row on its
//!   conflict target.
//! - Field `@allow('read', expr)`: the field is returned as `null` on rows
//!   where `expr` is false (`CASE WHEN expr THEN col END`), so row shapes
//!   stay stable. `@allow('write', expr)` (also `'create'`, `'update'`,
//!   `'all'`): writing the field is refused with `AccessDenied` — on create
//!   when `expr` is false for the new row; on `update` when it is false for
//!   the targeted row; on `update_many` when it is false for any targeted
//!   row (nothing is written).
//!
//! - A `where` condition on a field with a read policy only matches rows
//!   where the caller may read that field, and ordering by such a field is
//!   refused (`AccessDenied`) unless the policy is always true for the
//!   caller, so hidden values cannot be probed. Relation filters
//!   (`some`/`every`/`none`/`is`/`isNot`) and relation `_count`s only see
//!   related rows the caller may read.
//! - A client without `set_auth` (and not `as_system()`) is anonymous:
//!   policies apply with `auth()` missing.
//! - Not covered: rows returned by a write are not re-checked against the
//!   read policy; an update may move a row out of its update policy (there
//!   is no post-update rule in the README); raw SQL (`client.sql`, `$raw`
//!   fragments only add conditions) is the caller's responsibility.
//!   Aggregates and groupBy must AND [`read_filter`] into their where.
//! - Invalid expressions (unknown fields, to-many paths outside `check`)
//!   are schema errors when the client opens ([`validate`]).
//!
//! # Global query filters
//! The builder's `filters` option (README `filters: { posts: { status:
//! 'published' } }`) is applied by [`global_filters`] to the JSON arguments
//! of reads before they compile; see there.
//!
//! # Expressions
//! Fields (also through to-one relations: `author.accountId`), literals,
//! `auth()`, `auth().a.b`, `now()` (the current UTC timestamp in the stored
//! ISO-8601 form), `== != < <= > >=`, `&& || !`, and `check(relation, expr)`
//! (some live related row satisfies `expr`, evaluated on the related model).
//! Comparisons are two-valued (`IS`, `IS NOT`, `(a < b) IS 1`), so `!` and
//! `@@deny` never leak rows whose columns are NULL.
//!
//! Auth values are always bound parameters. A comparison against a missing
//! auth value (no `set_auth`, a missing key, or a JSON `null`) fails closed:
//! it is `false` where that would grant access and `true` where that would
//! deny it (inside `!`, and in `@@deny`), so a missing auth never opens a
//! row. The exception is an explicit null test: `auth() == null` and
//! `auth().x == null` are true exactly when the value is missing.

use std::cmp::Ordering;

use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use super::Cx;
use super::ast::{CmpOp, Filter, InsertRow, InsertVal, Operand, OutCol, Quant, Target};
use super::filter::{live_filter, relation_link};
use crate::codec::datetime;
use crate::error::{Error, Result};
use crate::schema::{BinaryOp, Expr, Field, Model, Policy, PolicyEffect, PolicyOp};
use crate::sql::{Guard, Plan, guard};

/// The operation a policy is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Reads.
    Read,
    /// Inserts.
    Create,
    /// Updates (and `restore`).
    Update,
    /// Deletes (hard and soft).
    Delete,
}

impl Action {
    /// The name used in errors.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    fn covered_by_model(self, op: PolicyOp) -> bool {
        match op {
            PolicyOp::All => true,
            PolicyOp::Write => self != Action::Read,
            PolicyOp::Read => self == Action::Read,
            PolicyOp::Create => self == Action::Create,
            PolicyOp::Update => self == Action::Update,
            PolicyOp::Delete => self == Action::Delete,
        }
    }

    fn covered_by_field(self, op: PolicyOp) -> bool {
        match op {
            PolicyOp::All => true,
            PolicyOp::Read => self == Action::Read,
            PolicyOp::Write => matches!(self, Action::Create | Action::Update),
            PolicyOp::Create => self == Action::Create,
            PolicyOp::Update => self == Action::Update,
            PolicyOp::Delete => false,
        }
    }
}

fn never() -> Filter {
    Filter::Or(Vec::new())
}

fn constant(b: bool) -> Filter {
    if b { Filter::True } else { never() }
}

fn is_never(f: &Filter) -> bool {
    matches!(f, Filter::Or(v) if v.is_empty())
}

/// `a AND b`, folding constants.
fn and(a: Filter, b: Filter) -> Filter {
    if is_never(&a) || is_never(&b) {
        never()
    } else {
        a.and(b)
    }
}

/// `a OR b OR …`, folding constants and flattening.
fn or(items: Vec<Filter>) -> Filter {
    let mut out = Vec::with_capacity(items.len());
    for f in items {
        match f {
            Filter::True => return Filter::True,
            Filter::Or(v) => out.extend(v),
            f => out.push(f),
        }
    }
    if out.len() == 1 {
        if let Some(f) = out.pop() {
            return f;
        }
    }
    Filter::Or(out)
}

fn not(f: Filter) -> Filter {
    match f {
        Filter::True => never(),
        Filter::Or(v) if v.is_empty() => Filter::True,
        f => Filter::Not(Box::new(f)),
    }
}

/// One policy set compiled for one action: its filter and, for access
/// checks, one flag per way it can refuse.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    /// Rows the policies permit.
    pub(crate) ok: Filter,
    /// Refusal flags (true = refused for this reason) and their messages.
    pub(crate) flags: Vec<(Filter, Option<String>)>,
}

impl Rules {
    fn merge(a: Option<Rules>, b: Option<Rules>) -> Option<Rules> {
        match (a, b) {
            (None, x) | (x, None) => x,
            (Some(mut a), Some(b)) => {
                a.ok = a.ok.and(b.ok);
                a.flags.extend(b.flags);
                Some(a)
            }
        }
    }
}

fn compile_set<'p>(
    cx: &Cx<'_>,
    model: &Model,
    policies: impl Iterator<Item = &'p Policy>,
) -> Result<Option<Rules>> {
    let mut allows = Vec::new();
    let mut allow_msg = None;
    let mut denies = Vec::new();
    let mut any = false;
    for p in policies {
        any = true;
        match p.effect {
            PolicyEffect::Allow => {
                allows.push(pred(cx, model, &p.expr, false)?);
                if allow_msg.is_none() {
                    allow_msg.clone_from(&p.message);
                }
            }
            PolicyEffect::Deny => denies.push((pred(cx, model, &p.expr, true)?, p.message.clone())),
        }
    }
    if !any {
        return Ok(None);
    }
    // Deny flags first: a true `@@deny` explains a refusal best.
    let mut ok = Filter::True;
    let mut flags = Vec::new();
    for (d, m) in denies {
        ok = and(ok, not(d.clone()));
        if !is_never(&d) {
            flags.push((d, m));
        }
    }
    if !allows.is_empty() {
        let allowed = or(allows);
        if !allowed.is_true() {
            flags.push((not(allowed.clone()), allow_msg));
        }
        ok = and(allowed, ok);
    }
    Ok(Some(Rules { ok, flags }))
}

/// The model's policies for `action` (`None`: none apply, or a system
/// handle).
pub(crate) fn model_rules(cx: &Cx<'_>, model: &Model, action: Action) -> Result<Option<Rules>> {
    if cx.system || model.policies.is_empty() {
        return Ok(None);
    }
    compile_set(
        cx,
        model,
        model
            .policies
            .iter()
            .filter(|p| p.ops.iter().any(|o| action.covered_by_model(*o))),
    )
}

/// The field policies of `fields` for `action` (write or read), combined.
pub(crate) fn field_rules<'f>(
    cx: &Cx<'_>,
    model: &Model,
    fields: impl Iterator<Item = &'f Field>,
    action: Action,
) -> Result<Option<Rules>> {
    if cx.system {
        return Ok(None);
    }
    let mut out = None;
    for f in fields {
        if f.policies.is_empty() {
            continue;
        }
        let set = compile_set(
            cx,
            model,
            f.policies
                .iter()
                .filter(|p| p.ops.iter().any(|o| action.covered_by_field(*o))),
        )?;
        if let Some(mut r) = set {
            let default = format!(
                "{} of `{}.{}` is not permitted",
                if action == Action::Read {
                    "reading"
                } else {
                    "writing"
                },
                model.name,
                f.name
            );
            // One flag per field: the field's own message or a naming one.
            let msg = r
                .flags
                .iter()
                .find_map(|(_, m)| m.clone())
                .unwrap_or(default);
            r.flags = vec![(not(r.ok.clone()), Some(msg))];
            out = Rules::merge(out, Some(r));
        }
    }
    Ok(out)
}

/// The read filter of `model` (`Filter::True` when nothing applies).
///
/// # Errors
/// A policy expression that does not fit the schema.
pub(crate) fn read_filter(cx: &Cx<'_>, model: &Model) -> Result<Filter> {
    Ok(model_rules(cx, model, Action::Read)?.map_or(Filter::True, |r| r.ok))
}

/// Sets the mask of every output column whose field has read policies.
/// The list is only copied (it may be a cached, shared projection) when a
/// mask actually applies.
pub(crate) fn mask_cols(
    cx: &Cx<'_>,
    model: &Model,
    cols: &mut std::sync::Arc<Vec<OutCol>>,
) -> Result<()> {
    if cx.system || model.fields.iter().all(|f| f.policies.is_empty()) {
        return Ok(());
    }
    let mut masks = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        if c.count.is_some() {
            continue;
        }
        let Some(f) = model.field(&c.key).filter(|f| !f.policies.is_empty()) else {
            continue;
        };
        if let Some(r) = field_rules(cx, model, std::iter::once(f), Action::Read)? {
            if !r.ok.is_true() {
                masks.push((i, r.ok));
            }
        }
    }
    if !masks.is_empty() {
        let cols = std::sync::Arc::make_mut(cols);
        for (i, m) in masks {
            if let Some(c) = cols.get_mut(i) {
                c.mask = Some(Box::new(m));
            }
        }
    }
    Ok(())
}

/// Ordering by a field whose read policy may hide it from this caller would
/// reveal the hidden values' order (and put them in cursors): refused with
/// [`Error::AccessDenied`] unless the policy is always true for the caller
/// (an admin-only field ordered by an admin is fine).
///
/// # Errors
/// [`Error::AccessDenied`] naming the field.
pub(crate) fn check_order(cx: &Cx<'_>, model: &Model, order: &[super::ast::Order]) -> Result<()> {
    if cx.system || model.fields.iter().all(|f| f.policies.is_empty()) {
        return Ok(());
    }
    for o in order.iter().filter(|o| o.related.is_none()) {
        let Some(f) = model.field(&o.field).filter(|f| !f.policies.is_empty()) else {
            continue;
        };
        if let Some(r) = field_rules(cx, model, std::iter::once(f), Action::Read)? {
            if !r.ok.is_true() {
                return Err(Error::AccessDenied {
                    model: model.name.clone(),
                    operation: "read".into(),
                    message: format!(
                        "ordering by `{}.{}` is not permitted: its read policy hides it from this caller",
                        model.name, f.name
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Aggregating or grouping by a field whose read policy may hide it from
/// this caller would reveal the hidden values (a `_sum` of salaries, the
/// groups of a hidden column): refused with [`Error::AccessDenied`] unless
/// the policy is always true for the caller. `columns` are column names of
/// `model`; `what` names the use in the message (`aggregating`, `grouping by`).
///
/// # Errors
/// [`Error::AccessDenied`] naming the field.
pub(crate) fn check_readable_columns<'c>(
    cx: &Cx<'_>,
    model: &Model,
    columns: impl IntoIterator<Item = &'c str>,
    what: &str,
) -> Result<()> {
    if cx.system || model.fields.iter().all(|f| f.policies.is_empty()) {
        return Ok(());
    }
    for c in columns {
        let Some(f) = model
            .columns()
            .find(|f| f.column == c && !f.policies.is_empty())
        else {
            continue;
        };
        if let Some(r) = field_rules(cx, model, std::iter::once(f), Action::Read)? {
            if !r.ok.is_true() {
                return Err(Error::AccessDenied {
                    model: model.name.clone(),
                    operation: "read".into(),
                    message: format!(
                        "{what} `{}.{}` is not permitted: its read policy hides it from this caller",
                        model.name, f.name
                    ),
                });
            }
        }
    }
    Ok(())
}

/// A `where` condition on a field with read policies only holds on rows
/// where the caller may read the field (otherwise filtering would reveal
/// the hidden value).
///
/// # Errors
/// A policy expression that does not fit the schema.
pub(crate) fn guard_field_filter(
    cx: &Cx<'_>,
    model: &Model,
    field: &Field,
    cond: Filter,
) -> Result<Filter> {
    if cx.system || field.policies.is_empty() {
        return Ok(cond);
    }
    Ok(
        match field_rules(cx, model, std::iter::once(field), Action::Read)? {
            Some(r) => and(r.ok, cond),
            None => cond,
        },
    )
}

fn default_message(model: &Model, action: Action) -> String {
    format!(
        "{} on {} is not permitted by its policies",
        action.name(),
        model.name
    )
}

fn make_guard(model: &Model, action: Action, stmt: crate::sql::Stmt, rules: &Rules) -> Guard {
    Guard {
        stmt,
        model: model.name.clone(),
        operation: action.name(),
        messages: rules.flags.iter().map(|(_, m)| m.clone()).collect(),
        default: default_message(model, action),
    }
}

fn flag_filters(rules: &Rules) -> Vec<Filter> {
    rules.flags.iter().map(|(f, _)| f.clone()).collect()
}

/// Restricts an UPDATE/DELETE target to the permitted rows and returns the
/// checks to run first (see the module docs for single vs many).
///
/// # Errors
/// A policy expression that does not fit the schema.
pub(crate) fn guard_target<'f>(
    cx: &Cx<'_>,
    model: &Model,
    action: Action,
    target: &mut Target,
    written: impl Iterator<Item = &'f Field>,
) -> Result<Vec<Guard>> {
    let rules = model_rules(cx, model, action)?;
    let fields = if action == Action::Update {
        field_rules(cx, model, written, Action::Update)?
    } else {
        None
    };
    let mut guards = Vec::new();
    if target.single.is_some() {
        if let Some(all) = Rules::merge(rules, fields).filter(|r| !r.ok.is_true()) {
            let stmt = guard::rows(&model.table, &target.filter, &all.ok, &flag_filters(&all));
            guards.push(make_guard(model, action, stmt, &all));
            target.filter = and(std::mem::replace(&mut target.filter, Filter::True), all.ok);
        }
        return Ok(guards);
    }
    if let Some(r) = rules {
        target.filter = and(std::mem::replace(&mut target.filter, Filter::True), r.ok);
    }
    if let Some(fr) = fields.filter(|r| !r.ok.is_true()) {
        let violating = target.filter.clone().and(not(fr.ok.clone()));
        let stmt = guard::rows(&model.table, &violating, &never(), &flag_filters(&fr));
        guards.push(make_guard(model, action, stmt, &fr));
    }
    Ok(guards)
}

/// The check of a row about to be inserted (`None` when nothing applies).
/// `unless`: a where-tree over the table; when a row matches it the check
/// passes (the upsert will update that row instead).
///
/// # Errors
/// A policy expression that does not fit the schema.
pub(crate) fn guard_insert<'f>(
    cx: &Cx<'_>,
    model: &Model,
    row: &InsertRow,
    written: impl Iterator<Item = &'f Field>,
    unless: Option<&Filter>,
) -> Result<Option<Guard>> {
    let rules = Rules::merge(
        model_rules(cx, model, Action::Create)?,
        field_rules(cx, model, written, Action::Create)?,
    );
    let Some(rules) = rules.filter(|r| !r.ok.is_true()) else {
        return Ok(None);
    };
    let cols: Vec<(String, SqlValue)> = model
        .columns()
        .map(|f| {
            let v = row
                .values
                .iter()
                .find(|(c, _)| *c == f.column)
                .and_then(|(_, v)| match v {
                    InsertVal::Param(p) => Some(p.clone()),
                    InsertVal::Sequence { .. } => None,
                })
                .unwrap_or(SqlValue::Null);
            (f.column.clone(), v)
        })
        .collect();
    let stmt = guard::values(
        &model.table,
        &cols,
        &rules.ok,
        &flag_filters(&rules),
        unless,
    );
    Ok(Some(make_guard(model, Action::Create, stmt, &rules)))
}

/// The update check of an upsert: the existing row matching `existing` must
/// pass the update policies.
///
/// # Errors
/// A policy expression that does not fit the schema.
pub(crate) fn guard_existing<'f>(
    cx: &Cx<'_>,
    model: &Model,
    existing: &Filter,
    written: impl Iterator<Item = &'f Field>,
) -> Result<Option<Guard>> {
    let rules = Rules::merge(
        model_rules(cx, model, Action::Update)?,
        field_rules(cx, model, written, Action::Update)?,
    );
    Ok(rules.filter(|r| !r.ok.is_true()).map(|r| {
        let stmt = guard::rows(&model.table, existing, &r.ok, &flag_filters(&r));
        make_guard(model, Action::Update, stmt, &r)
    }))
}

/// The policy checks of `upsert`: the update policies on the row `where`
/// matches, else the create policies on the new row.
///
/// # Errors
/// A policy expression that does not fit the schema; `where` errors.
pub(crate) fn guard_upsert(
    cx: &Cx<'_>,
    model: &Model,
    w: &serde_json::Map<String, Value>,
    row: &InsertRow,
    create: &Value,
    update: &Value,
) -> Result<Vec<Guard>> {
    let mut guards = Vec::new();
    if cx.system {
        return Ok(guards);
    }
    let existing = super::filter::parse_where(cx, model, &Value::Object(w.clone()), "where")?;
    guards.extend(guard_existing(
        cx,
        model,
        &existing,
        data_fields(model, update).into_iter(),
    )?);
    guards.extend(guard_insert(
        cx,
        model,
        row,
        data_fields(model, create).into_iter(),
        Some(&existing),
    )?);
    Ok(guards)
}

/// The policy checks of one `upsert_many` row: the update policies on the
/// row its conflict target matches, else the create policies on the new row.
///
/// # Errors
/// A policy expression that does not fit the schema.
pub(crate) fn guard_upsert_row(
    cx: &Cx<'_>,
    model: &Model,
    row: &InsertRow,
    target: &[String],
    item: &Value,
    set: &[(String, super::ast::SetExpr)],
) -> Result<Vec<Guard>> {
    let mut existing = Filter::True;
    for col in target {
        let v = row.values.iter().find(|(c, _)| c == col).map(|(_, v)| v);
        let f = match v {
            Some(InsertVal::Param(SqlValue::Null)) | None => Filter::Null {
                col: super::ast::Col::Column(col.clone()),
                is_null: true,
            },
            Some(InsertVal::Param(p)) => Filter::Cmp {
                col: super::ast::Col::Column(col.clone()),
                op: CmpOp::Eq,
                value: p.clone(),
            },
            // A sequence value cannot conflict with an existing row.
            Some(InsertVal::Sequence { .. }) => Filter::Or(Vec::new()),
        };
        existing = existing.and(f);
    }
    let updated = model
        .columns()
        .filter(|f| set.iter().any(|(c, _)| *c == f.column));
    let mut guards = Vec::new();
    guards.extend(guard_existing(cx, model, &existing, updated)?);
    guards.extend(guard_insert(
        cx,
        model,
        row,
        data_fields(model, item).into_iter(),
        Some(&existing),
    )?);
    Ok(guards)
}

/// Wraps `plan` with its checks (unchanged when there are none).
pub(crate) fn wrap(plan: Plan, guards: Vec<Guard>) -> Plan {
    if guards.is_empty() {
        plan
    } else {
        Plan::Guarded {
            guards,
            plan: Box::new(plan),
        }
    }
}

/// The fields named by the keys of a `data` object.
pub(crate) fn data_fields<'m>(model: &'m Model, data: &Value) -> Vec<&'m Field> {
    match data {
        Value::Object(o) => o.keys().filter_map(|k| model.field(k)).collect(),
        _ => Vec::new(),
    }
}

/// Compiles every policy of the schema once (without auth) so that an
/// expression naming a missing field or a to-many path fails when the client
/// opens, as a schema diagnostic at the policy, not on the first call.
///
/// # Errors
/// [`Error::Schema`] listing every policy that does not compile.
pub(crate) fn validate(schema: &crate::schema::Schema) -> Result<()> {
    let cx = Cx {
        schema,
        auth: None,
        system: false,
        cache: None,
        crypto: None,
    };
    let mut diags = Vec::new();
    for m in &schema.models {
        let all = m
            .policies
            .iter()
            .chain(m.fields.iter().flat_map(|f| f.policies.iter()));
        for p in all {
            let allow = p.effect == PolicyEffect::Allow;
            if let Err(e) = pred(&cx, m, &p.expr, !allow) {
                let message = match e {
                    Error::InvalidArgs { message, .. } => message,
                    other => other.to_string(),
                };
                diags.push(crate::error::Diagnostic {
                    file: schema
                        .files
                        .get(p.span.file as usize)
                        .cloned()
                        .unwrap_or_else(|| "<schema>".into()),
                    line: p.span.line,
                    column: p.span.column,
                    message: format!("policy on {}: {message}", m.name),
                    snippet: String::new(),
                });
            }
        }
    }
    if diags.is_empty() {
        Ok(())
    } else {
        Err(Error::schema(diags))
    }
}

// ---- global query filters ----------------------------------------------

/// ANDs `extra` into the `where` of an arguments object, keeping the
/// caller's top-level keys (so `find_unique` still sees its unique fields).
fn and_where(args: &mut serde_json::Map<String, Value>, extra: &Value) {
    let mut w = match args.remove("where") {
        Some(Value::Object(o)) => o,
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(other) => {
            // Not an object: leave it for the compiler to report.
            args.insert("where".into(), other);
            return;
        }
    };
    let and = match w.remove("AND") {
        None | Some(Value::Null) => vec![extra.clone()],
        Some(Value::Array(mut a)) => {
            a.push(extra.clone());
            a
        }
        Some(o) => vec![o, extra.clone()],
    };
    w.insert("AND".into(), Value::Array(and));
    args.insert("where".into(), Value::Object(w));
}

/// Applies the builder's global query filters (README `filters: { posts:
/// { status: 'published' } }`) to a read: the model's filter is ANDed into
/// `where`, and each included (or relation-selected) model's filter into
/// that include's `where`, at every depth. Writes are not filtered.
/// Returns `None` when nothing applies (the arguments are used as given).
pub(crate) fn global_filters(
    schema: &crate::schema::Schema,
    model: &Model,
    args: &Value,
    filters: &std::collections::HashMap<String, Value>,
) -> Option<Value> {
    if filters.is_empty() {
        return None;
    }
    fn walk(
        schema: &crate::schema::Schema,
        model: &Model,
        args: &mut serde_json::Map<String, Value>,
        filters: &std::collections::HashMap<String, Value>,
        depth: usize,
    ) {
        if let Some(f) = filters.get(&model.name) {
            and_where(args, f);
        }
        if depth > 32 {
            return;
        }
        for key in ["include", "select"] {
            let Some(Value::Object(rels)) = args.get_mut(key) else {
                continue;
            };
            for (name, v) in rels.iter_mut() {
                let Some(rel) = model.field(name).and_then(|f| f.relation()) else {
                    continue;
                };
                let target = schema.model_by_id(rel.target);
                match v {
                    Value::Bool(true) => {
                        let mut o = serde_json::Map::new();
                        walk(schema, target, &mut o, filters, depth + 1);
                        if !o.is_empty() {
                            *v = Value::Object(o);
                        }
                    }
                    Value::Object(o) => walk(schema, target, o, filters, depth + 1),
                    _ => {}
                }
            }
        }
    }
    let mut o = match args {
        Value::Object(o) => o.clone(),
        Value::Null => serde_json::Map::new(),
        _ => return None,
    };
    walk(schema, model, &mut o, filters, 0);
    Some(Value::Object(o))
}

// ---- expressions -------------------------------------------------------

/// A policy operand, resolved.
enum Term {
    /// A column, reached through `hops` to-one relations from the model.
    Col {
        hops: Vec<String>,
        column: String,
        base: crate::codec::Base,
    },
    /// A known value.
    Val(Value),
    /// A missing auth value.
    Unknown,
}

fn schema_err(model: &Model, msg: String) -> Error {
    Error::invalid_args(format!("@@policy({})", model.name), msg)
}

fn term(cx: &Cx<'_>, model: &Model, e: &Expr) -> Result<Option<Term>> {
    Ok(Some(match e {
        Expr::Literal(v) => Term::Val(v.clone()),
        Expr::Now => Term::Val(Value::String(datetime::now())),
        Expr::Auth(path) => {
            let mut v = cx.auth;
            for k in path {
                v = v.and_then(|x| x.get(k));
            }
            match v {
                Some(x) if !x.is_null() => Term::Val(x.clone()),
                _ => Term::Unknown,
            }
        }
        Expr::Field(path) => {
            let mut m = model;
            let mut hops = Vec::new();
            let Some((last, rels)) = path.split_last() else {
                return Err(schema_err(model, "empty field path".into()));
            };
            for r in rels {
                let Some(f) = m.field(r) else {
                    return Err(schema_err(m, format!("unknown field `{}.{r}`", m.name)));
                };
                let Some(rel) = f.relation() else {
                    return Err(schema_err(m, format!("`{}.{r}` is not a relation", m.name)));
                };
                let (_, to_many) = relation_link(cx.schema, m, f)?;
                if to_many {
                    return Err(schema_err(
                        m,
                        format!("`{}.{r}` is a to-many relation: use check({r}, …)", m.name),
                    ));
                }
                hops.push(r.clone());
                m = cx.schema.model_by_id(rel.target);
            }
            let Some(f) = m.field(last).filter(|f| f.is_column()) else {
                return Err(schema_err(
                    m,
                    format!("`{}.{last}` is not a stored field", m.name),
                ));
            };
            Term::Col {
                hops,
                column: f.column.clone(),
                base: crate::codec::Kind::of(f).base,
            }
        }
        _ => return Ok(None),
    }))
}

/// A policy value bound against a column of `base`: booleans as 0/1,
/// DateTime text normalised to the stored ISO form.
fn to_sql(v: &Value, base: crate::codec::Base) -> SqlValue {
    match v {
        Value::String(s) if base == crate::codec::Base::DateTime => {
            SqlValue::Text(datetime::normalize(s).unwrap_or_else(|| s.clone()))
        }
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        other => SqlValue::Text(other.to_string()),
    }
}

fn cmp_values(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Number(y)) | (Value::Number(y), Value::Bool(x)) => {
            // Booleans are stored as 0/1.
            let o = f64::from(u8::from(*x)).partial_cmp(&y.as_f64()?)?;
            Some(if matches!(a, Value::Bool(_)) {
                o
            } else {
                o.reverse()
            })
        }
        _ => (a == b).then_some(Ordering::Equal),
    }
}

fn holds(op: CmpOp, o: Option<Ordering>) -> bool {
    match (op, o) {
        (CmpOp::Eq, o) => o == Some(Ordering::Equal),
        (CmpOp::Ne, o) => o != Some(Ordering::Equal),
        (_, None) => false,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::Lte, Some(o)) => o != Ordering::Greater,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (CmpOp::Gte, Some(o)) => o != Ordering::Less,
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Lte => CmpOp::Gte,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Gte => CmpOp::Lte,
        o => o,
    }
}

/// Wraps `inner` (over the last model of `hops`) in EXISTS subqueries that
/// walk the to-one relations from `model`.
fn through(cx: &Cx<'_>, model: &Model, hops: &[String], inner: Filter) -> Result<Filter> {
    let Some((first, rest)) = hops.split_first() else {
        return Ok(inner);
    };
    let Some(f) = model.field(first) else {
        return Err(schema_err(model, format!("unknown field `{first}`")));
    };
    let Some(rel) = f.relation() else {
        return Err(schema_err(model, format!("`{first}` is not a relation")));
    };
    let target = cx.schema.model_by_id(rel.target);
    let (link, _) = relation_link(cx.schema, model, f)?;
    let inner = through(cx, target, rest, inner)?;
    if is_never(&inner) {
        return Ok(never());
    }
    Ok(Filter::Rel {
        table: target.table.clone(),
        link,
        quant: Quant::Some,
        inner: Box::new(live_filter(target).and(inner)),
    })
}

fn compare(
    cx: &Cx<'_>,
    model: &Model,
    op: CmpOp,
    l: Term,
    r: Term,
    unknown: bool,
) -> Result<Filter> {
    Ok(match (l, r) {
        (Term::Unknown, Term::Val(Value::Null)) | (Term::Val(Value::Null), Term::Unknown) => {
            constant(op == CmpOp::Eq)
        }
        (Term::Unknown, _) | (_, Term::Unknown) => constant(unknown),
        (Term::Val(a), Term::Val(b)) => constant(holds(op, cmp_values(&a, &b))),
        (Term::Col { hops, column, base }, Term::Val(v)) => {
            col_val(cx, model, op, (&hops, column, base), &v)?
        }
        (Term::Val(v), Term::Col { hops, column, base }) => {
            col_val(cx, model, flip(op), (&hops, column, base), &v)?
        }
        (
            Term::Col {
                hops: h1,
                column: c1,
                ..
            },
            Term::Col {
                hops: h2,
                column: c2,
                ..
            },
        ) => {
            if h1 != h2 {
                return Err(schema_err(
                    model,
                    "comparing fields reached through different relations is not supported".into(),
                ));
            }
            let f = Filter::Compare {
                left: Operand::Column(c1),
                op,
                right: Operand::Column(c2),
            };
            through(cx, model, &h1, f)?
        }
    })
}

fn col_val(
    cx: &Cx<'_>,
    model: &Model,
    op: CmpOp,
    (hops, column, base): (&[String], String, crate::codec::Base),
    v: &Value,
) -> Result<Filter> {
    let f = match (v, op) {
        (Value::Null, CmpOp::Eq | CmpOp::Ne) => Filter::Null {
            col: super::ast::Col::Column(column),
            is_null: op == CmpOp::Eq,
        },
        (Value::Null, _) => return Ok(never()),
        _ => Filter::Compare {
            left: Operand::Column(column),
            op,
            right: Operand::Value(to_sql(v, base)),
        },
    };
    through(cx, model, hops, f)
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// Compiles a boolean policy expression over `model` (alias of the current
/// table). `unknown` is the value a comparison with a missing auth value
/// takes at this polarity (see the module docs).
fn pred(cx: &Cx<'_>, model: &Model, e: &Expr, unknown: bool) -> Result<Filter> {
    match e {
        Expr::Binary { op, left, right } => {
            let cop = match op {
                BinaryOp::And | BinaryOp::Or => {
                    let l = pred(cx, model, left, unknown)?;
                    let r = pred(cx, model, right, unknown)?;
                    return Ok(if *op == BinaryOp::And {
                        and(l, r)
                    } else {
                        or(vec![l, r])
                    });
                }
                BinaryOp::Eq => CmpOp::Eq,
                BinaryOp::Ne => CmpOp::Ne,
                BinaryOp::Lt => CmpOp::Lt,
                BinaryOp::Le => CmpOp::Lte,
                BinaryOp::Gt => CmpOp::Gt,
                BinaryOp::Ge => CmpOp::Gte,
            };
            let (Some(l), Some(r)) = (term(cx, model, left)?, term(cx, model, right)?) else {
                return Err(schema_err(
                    model,
                    "comparisons take fields, literals, auth() or now() on both sides".into(),
                ));
            };
            compare(cx, model, cop, l, r, unknown)
        }
        Expr::Not(inner) => Ok(not(pred(cx, model, inner, !unknown)?)),
        Expr::Check { relation, expr } => {
            let Some(f) = model.field(relation).filter(|f| f.relation().is_some()) else {
                return Err(schema_err(
                    model,
                    format!("check(): `{}.{relation}` is not a relation", model.name),
                ));
            };
            let Some(rel) = f.relation() else {
                return Err(schema_err(model, format!("`{relation}` is not a relation")));
            };
            let target = cx.schema.model_by_id(rel.target);
            let (link, _) = relation_link(cx.schema, model, f)?;
            let inner = pred(cx, target, expr, unknown)?;
            if is_never(&inner) {
                return Ok(never());
            }
            Ok(Filter::Rel {
                table: target.table.clone(),
                link,
                quant: Quant::Some,
                inner: Box::new(live_filter(target).and(inner)),
            })
        }
        other => match term(cx, model, other)? {
            Some(Term::Col { hops, column, base }) => {
                col_val(cx, model, CmpOp::Eq, (&hops, column, base), &Value::from(1))
            }
            Some(Term::Val(v)) => Ok(constant(truthy(&v))),
            Some(Term::Unknown) => Ok(constant(unknown)),
            None => Err(schema_err(model, "unsupported policy expression".into())),
        },
    }
}
