//! JSON arguments → typed, schema-validated operations → compiled [`Plan`]s.
//!
//! Owns the meaning of every argument key of the README's model methods
//! (`where`, `orderBy`, `select`, `include`, `data`, `cursor`, …) and every
//! error about them, each naming the JSON path at fault (`where.author.email`).
//! It never runs SQL and never touches threads or channels; the SQL text
//! itself is written by [`crate::sql`].
//!
//! Whole-table writes: `update_many`, `delete_many` and `remove_many` without
//! a `where` (or with an empty one) are rejected with `InvalidArgs` at
//! `where`; pass `"all": true` to opt in explicitly. Single-row `update`,
//! `delete` and `remove` always need a non-empty `where` and touch the first
//! matching row only.
//!
//! Later issues slot in here as sibling files: `aggregate.rs` / `group_by.rs`
//! (building on [`filter`] and [`read`]), window/recursive reads, FTS
//! `search`, nested writes (in [`write`]) and policies (ANDed into the
//! filters built here).

pub(crate) mod aggregate;
pub(crate) mod ast;
pub(crate) mod cache;
pub(crate) mod cascade;
pub(crate) mod cursor;
pub(crate) mod derived;
pub(crate) mod dispatch;
pub(crate) mod filter;
pub mod gate;
pub(crate) mod group_by;
pub(crate) mod nested;
pub(crate) mod policy;
pub mod raw;
pub(crate) mod read;
pub(crate) mod recursive;
pub(crate) mod search;
pub(crate) mod shape;
pub(crate) mod validate;
pub(crate) mod window;
pub(crate) mod write;

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use self::ast::{Conflict, Filter, InsertRow, Order, ReadQuery, SetExpr, Target};
use self::read::{ReadOpts, allowed_keys, args_object};
use crate::error::{Error, Result};
use crate::schema::{Model, Schema};
use crate::sql::{self, Plan, Shape, Stmt};

/// Who is asking: the schema and the caller's auth context.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cx<'a> {
    /// The schema.
    pub(crate) schema: &'a Schema,
    /// `ctx.auth`.
    pub(crate) auth: Option<&'a Value>,
    /// `as_system()`.
    pub(crate) system: bool,
    /// The client's compile caches (`None` in pure compile tests).
    pub(crate) cache: Option<&'a cache::QueryCache>,
    /// Field-encryption keys (`None` without `encryption_key`).
    pub(crate) crypto: Option<&'a crate::codec::crypto::Crypto>,
}

/// The model operations of this layer (one per `Model` method).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `findMany`.
    FindMany,
    /// `findFirst`.
    FindFirst,
    /// `findFirstOrThrow`.
    FindFirstOrThrow,
    /// `findUnique`.
    FindUnique,
    /// `findUniqueOrThrow`.
    FindUniqueOrThrow,
    /// `findManyAndCount`.
    FindManyAndCount,
    /// `count`.
    Count,
    /// `exists`.
    Exists,
    /// `findManyCursor`.
    FindManyCursor,
    /// `create`.
    Create,
    /// `createMany`.
    CreateMany,
    /// `update`.
    Update,
    /// `updateMany`.
    UpdateMany,
    /// `upsert`.
    Upsert,
    /// `upsertMany`.
    UpsertMany,
    /// `remove`.
    Remove,
    /// `removeMany`.
    RemoveMany,
    /// `delete`.
    Delete,
    /// `deleteMany`.
    DeleteMany,
    /// `restore`.
    Restore,
    /// `aggregate`.
    Aggregate,
    /// `groupBy`.
    GroupBy,
    /// `query` (routed to findMany, aggregate or groupBy by shape).
    Query,
    /// `search` (FTS5).
    Search,
    /// `optimizeFts`.
    OptimizeFts,
}

impl Op {
    /// The README's camelCase name (used in query events).
    pub fn name(self) -> &'static str {
        match self {
            Op::FindMany => "findMany",
            Op::FindFirst => "findFirst",
            Op::FindFirstOrThrow => "findFirstOrThrow",
            Op::FindUnique => "findUnique",
            Op::FindUniqueOrThrow => "findUniqueOrThrow",
            Op::FindManyAndCount => "findManyAndCount",
            Op::Count => "count",
            Op::Exists => "exists",
            Op::FindManyCursor => "findManyCursor",
            Op::Create => "create",
            Op::CreateMany => "createMany",
            Op::Update => "update",
            Op::UpdateMany => "updateMany",
            Op::Upsert => "upsert",
            Op::UpsertMany => "upsertMany",
            Op::Remove => "remove",
            Op::RemoveMany => "removeMany",
            Op::Delete => "delete",
            Op::DeleteMany => "deleteMany",
            Op::Restore => "restore",
            Op::Aggregate => "aggregate",
            Op::GroupBy => "groupBy",
            Op::Query => "query",
            Op::Search => "search",
            Op::OptimizeFts => "optimizeFts",
        }
    }

    /// Whether the operation writes (runs on the writer).
    pub fn is_write(self) -> bool {
        !matches!(
            self,
            Op::FindMany
                | Op::FindFirst
                | Op::FindFirstOrThrow
                | Op::FindUnique
                | Op::FindUniqueOrThrow
                | Op::FindManyAndCount
                | Op::Count
                | Op::Exists
                | Op::FindManyCursor
                | Op::Aggregate
                | Op::GroupBy
                | Op::Query
                | Op::Search
        )
    }
}

const DEFAULT_CURSOR_LIMIT: i64 = 20;

fn not_found(model: &Model, what: &str) -> Shape {
    Shape::OrThrow(
        model.name.clone(),
        format!("no {} row matched {what}", model.name),
    )
}

/// Compiles one model call.
///
/// # Errors
/// `UnknownField`, `UnknownOperator`, `InvalidArgs` (with the JSON path) and
/// `Validation` for written values.
pub(crate) fn compile(cx: &Cx<'_>, model: &Model, op: Op, args: &Value) -> Result<Plan> {
    if let Some(plan) = derived::hook(cx, model, op, args)? {
        return Ok(plan);
    }
    match op {
        Op::Aggregate => aggregate::compile(cx, model, args),
        Op::GroupBy => group_by::compile(cx, model, args),
        Op::Query => compile(cx, model, dispatch::route(args), args),
        Op::Search => search::compile(cx, model, args),
        Op::OptimizeFts => search::optimize(model, args),
        Op::FindMany | Op::FindFirst | Op::FindFirstOrThrow => {
            let opts = ReadOpts {
                list: true,
                paging: true,
                ordering: true,
                projection: true,
                distinct: true,
                cursor: false,
            };
            let o = args_object(args, &allowed_keys(opts), "")?;
            let mut q = read::build(cx, model, o, opts, "")?;
            let shape = match op {
                Op::FindMany => Shape::Many,
                Op::FindFirst => Shape::First,
                _ => not_found(model, "the where of findFirstOrThrow"),
            };
            if op != Op::FindMany {
                q.limit = Some(1);
            }
            Ok(Plan::Rows {
                rows: rows_plan(cx, &q, false),
                shape,
            })
        }
        Op::FindUnique | Op::FindUniqueOrThrow => {
            let opts = ReadOpts {
                list: false,
                projection: true,
                ..ReadOpts::default()
            };
            let o = args_object(args, &allowed_keys(opts), "")?;
            let w = o.and_then(|o| o.get("where"));
            match w {
                Some(Value::Object(wo)) if write::unique_target(model, wo).is_some() => {}
                Some(Value::Object(wo)) => {
                    let given: Vec<&str> = wo.keys().map(String::as_str).collect();
                    return Err(Error::invalid_args(
                        "where",
                        format!(
                            "findUnique needs equality on a unique field of {} ({}); got {}",
                            model.name,
                            write::unique_names(model),
                            if given.is_empty() {
                                "nothing".to_string()
                            } else {
                                format!("`{}`", given.join("`, `"))
                            }
                        ),
                    ));
                }
                _ => {
                    return Err(Error::invalid_args(
                        "where",
                        format!(
                            "findUnique needs a where on a unique field of {}",
                            model.name
                        ),
                    ));
                }
            }
            // Validate field names first so an unknown key reports as such.
            let q = read::build(cx, model, o, opts, "")?;
            Ok(Plan::Rows {
                rows: rows_plan(cx, &q, false),
                shape: if op == Op::FindUnique {
                    Shape::First
                } else {
                    not_found(model, "the unique where of findUniqueOrThrow")
                },
            })
        }
        Op::FindManyAndCount => {
            let opts = ReadOpts {
                list: true,
                paging: true,
                ordering: true,
                projection: true,
                distinct: true,
                cursor: false,
            };
            let o = args_object(args, &allowed_keys(opts), "")?;
            let q = read::build(cx, model, o, opts, "")?;
            let mut cq = q.clone();
            cq.limit = None;
            cq.offset = None;
            Ok(Plan::RowsAndCount {
                rows: rows_plan(cx, &q, false),
                count: sql::select::count(&cq),
            })
        }
        Op::Count | Op::Exists => {
            let opts = ReadOpts::default();
            let o = args_object(args, &allowed_keys(opts), "")?;
            let q = read::build(cx, model, o, opts, "")?;
            Ok(if op == Op::Count {
                Plan::Count(sql::select::count(&q))
            } else {
                Plan::Exists(sql::select::exists(&q))
            })
        }
        Op::FindManyCursor => compile_cursor(cx, model, args),
        Op::Create => {
            let o = args_object(args, &["data", "select", "include"], "")?;
            let data = o.and_then(|o| o.get("data")).unwrap_or(&Value::Null);
            let row = write::insert_row(cx, model, data, "data")?;
            let guards = policy::guard_insert(
                cx,
                model,
                &row,
                policy::data_fields(model, data).into_iter(),
                None,
            )?;
            let ret = returning(cx, model, o)?;
            Ok(policy::wrap(
                rows_write(
                    ret.as_ref(),
                    |r| sql::write::insert(&model.table, &row, &Conflict::Fail, r),
                    Shape::First,
                ),
                guards.into_iter().collect(),
            ))
        }
        Op::CreateMany => {
            let o = args_object(args, &["data", "skipDuplicates"], "")?;
            let Some(Value::Array(items)) = o.and_then(|o| o.get("data")) else {
                return Err(Error::invalid_args("data", "expected an array of rows"));
            };
            let conflict = match o.and_then(|o| o.get("skipDuplicates")) {
                Some(Value::Bool(true)) => Conflict::Ignore,
                None | Some(Value::Bool(false)) | Some(Value::Null) => Conflict::Fail,
                Some(_) => return Err(Error::invalid_args("skipDuplicates", "expected a boolean")),
            };
            let mut shapes = ShapeCache::default();
            let mut bulk = Bulk::new(model, &conflict);
            let mut rows = write::RowBuilder::new(model);
            // Create guards exist only where a model or field policy does:
            // skip the per-row policy walk (and its field list) otherwise.
            let policed = !cx.system
                && (!model.policies.is_empty()
                    || model.fields.iter().any(|f| !f.policies.is_empty()));
            let mut stmts = Vec::with_capacity(items.len());
            let mut guards = Vec::new();
            for (i, item) in items.iter().enumerate() {
                // The path is formatted only for an error.
                rows.build(cx, model, item, &|| format!("data[{i}]"))?;
                if policed {
                    guards.extend(policy::guard_insert(
                        cx,
                        model,
                        &rows.row(model),
                        policy::data_fields(model, item).into_iter(),
                        None,
                    )?);
                }
                if rows.values.is_empty() || rows.has_sequence() {
                    let row = rows.take_row(model);
                    stmts.push(shapes.insert(&model.table, &row, &conflict));
                } else {
                    stmts.push(bulk.stmt(&mut rows.values));
                }
            }
            Ok(policy::wrap(Plan::Exec(stmts), guards))
        }
        Op::Update => {
            let o = args_object(args, &["where", "data", "select", "include"], "")?;
            let mut target = target(cx, model, o, true, true)?;
            let data = o.and_then(|o| o.get("data")).unwrap_or(&Value::Null);
            let set = write::update_set(cx, model, data, "data")?;
            if set.is_empty() {
                return Err(Error::invalid_args("data", "nothing to update"));
            }
            let guards = policy::guard_target(
                cx,
                model,
                policy::Action::Update,
                &mut target,
                policy::data_fields(model, data).into_iter(),
            )?;
            let ret = returning(cx, model, o)?;
            Ok(policy::wrap(
                rows_write(
                    ret.as_ref(),
                    |r| sql::write::update(&model.table, &set, &target, r),
                    Shape::First,
                ),
                guards,
            ))
        }
        Op::UpdateMany => {
            let o = args_object(args, &["where", "data", "all"], "")?;
            let mut target = target(cx, model, o, false, true)?;
            let data = o.and_then(|o| o.get("data")).unwrap_or(&Value::Null);
            let set = write::update_set(cx, model, data, "data")?;
            if set.is_empty() {
                return Err(Error::invalid_args("data", "nothing to update"));
            }
            let guards = policy::guard_target(
                cx,
                model,
                policy::Action::Update,
                &mut target,
                policy::data_fields(model, data).into_iter(),
            )?;
            Ok(policy::wrap(
                Plan::Exec(vec![sql::write::update(&model.table, &set, &target, None)]),
                guards,
            ))
        }
        Op::Upsert => compile_upsert(cx, model, args),
        Op::UpsertMany => compile_upsert_many(cx, model, args),
        Op::Delete | Op::Remove => {
            let o = args_object(args, &["where", "select"], "")?;
            let soft = op == Op::Remove && model.soft_delete.is_some();
            let mut target = target(cx, model, o, true, soft)?;
            let guards = policy::guard_target(
                cx,
                model,
                policy::Action::Delete,
                &mut target,
                std::iter::empty(),
            )?;
            let ret = returning(cx, model, o)?;
            let shape = not_found(model, &format!("the where of {}", op.name()));
            let set = soft.then(|| soft_set(model, true));
            let plan = rows_write(
                ret.as_ref(),
                |r| removal_stmt(model, set.as_deref(), &target, r),
                shape,
            );
            Ok(policy::wrap(
                cascade_removal(cx, model, set.as_deref(), plan),
                guards,
            ))
        }
        Op::DeleteMany | Op::RemoveMany => {
            let o = args_object(args, &["where", "all"], "")?;
            let soft = op == Op::RemoveMany && model.soft_delete.is_some();
            let mut target = target(cx, model, o, false, soft)?;
            let guards = policy::guard_target(
                cx,
                model,
                policy::Action::Delete,
                &mut target,
                std::iter::empty(),
            )?;
            let set = soft.then(|| soft_set(model, true));
            let plan = Plan::Exec(vec![removal_stmt(model, set.as_deref(), &target, None)]);
            Ok(policy::wrap(
                cascade_removal(cx, model, set.as_deref(), plan),
                guards,
            ))
        }
        Op::Restore => {
            if model.soft_delete.is_none() {
                return Err(Error::invalid_args(
                    "",
                    format!("restore needs @@softDelete on {}", model.name),
                ));
            }
            let o = args_object(args, &["where", "select", "include", "all"], "")?;
            let mut t = target(cx, model, o, false, false)?;
            t.filter = t
                .filter
                .and(Filter::Not(Box::new(filter::live_filter(model))));
            let guards = policy::guard_target(
                cx,
                model,
                policy::Action::Update,
                &mut t,
                std::iter::empty(),
            )?;
            let ret = returning(cx, model, o)?;
            let plan = rows_write(
                ret.as_ref(),
                |r| sql::write::update(&model.table, &soft_set(model, false), &t, r),
                Shape::Many,
            );
            let before = cascade::restoral(cx.schema, model, &t);
            let plan = if before.is_empty() {
                plan
            } else {
                Plan::Around {
                    before,
                    plan: Box::new(plan),
                    after: Vec::new(),
                }
            };
            Ok(policy::wrap(plan, guards))
        }
    }
}

/// The rows plan of a read, reusing the statement texts of its shape when
/// this client compiled the same shape before.
fn rows_plan(cx: &Cx<'_>, q: &ReadQuery, explicit_nulls: bool) -> sql::RowsPlan {
    let Some(cache) = cx.cache else {
        return sql::select::rows(q, explicit_nulls);
    };
    let key = shape::read_key(q, explicit_nulls);
    if let Some(texts) = cache.texts(key) {
        let plan = sql::select::rows_cached(q, explicit_nulls, &texts);
        debug_assert_eq!(
            plan,
            sql::select::rows(q, explicit_nulls),
            "the shape key missed an input of the SQL text"
        );
        return plan;
    }
    let plan = sql::select::rows(q, explicit_nulls);
    let mut texts = Vec::new();
    sql::select::texts(&plan, &mut texts);
    cache.remember(key, texts.into());
    plan
}

/// The statement removing the rows of `target`: a soft delete stamping the
/// SET list `soft`, or a hard DELETE when there is none.
fn removal_stmt(
    model: &Model,
    soft: Option<&[(String, SetExpr)]>,
    target: &Target,
    ret: Option<&ReadQuery>,
) -> Stmt {
    match soft {
        Some(set) => sql::write::update(&model.table, set, target, ret),
        None => sql::write::delete(&model.table, target, ret),
    }
}

/// Adds the `@@softDelete(cascade)` statements after a soft delete whose
/// SET list is `soft` (they reuse its timestamp); hard deletes get none.
fn cascade_removal(
    cx: &Cx<'_>,
    model: &Model,
    soft: Option<&[(String, SetExpr)]>,
    plan: Plan,
) -> Plan {
    let Some((_, SetExpr::Value(ts))) = soft.and_then(|s| s.first()) else {
        return plan;
    };
    let after = cascade::removal(cx.schema, model, ts);
    if after.is_empty() {
        return plan;
    }
    Plan::Around {
        before: Vec::new(),
        plan: Box::new(plan),
        after,
    }
}

fn soft_set(model: &Model, remove: bool) -> Vec<(String, SetExpr)> {
    let mut set = Vec::new();
    if let Some(sd) = model.soft_delete {
        set.push((
            model.field_by_id(sd.field).column.clone(),
            SetExpr::Value(if remove {
                SqlValue::Text(crate::codec::datetime::now())
            } else {
                SqlValue::Null
            }),
        ));
    }
    set
}

/// Bulk-insert statement reuse: rows of the same shape (columns, sequence
/// columns, conflict clause) share one SQL text, written once; later rows
/// only collect their parameters through the same walk
/// ([`sql::write::insert_params`]). Debug builds re-render every reused
/// statement and assert the text is identical.
#[derive(Default)]
struct ShapeCache(HashMap<String, Arc<str>>);

impl ShapeCache {
    fn key(row: &InsertRow, conflict: &Conflict) -> String {
        let mut k = String::new();
        for (c, v) in &row.values {
            k.push_str(c);
            k.push(match v {
                ast::InsertVal::Param(_) => '\u{1}',
                ast::InsertVal::Sequence { scope: None } => '\u{2}',
                ast::InsertVal::Sequence { scope: Some(_) } => '\u{3}',
            });
        }
        match conflict {
            Conflict::Fail => k.push('F'),
            Conflict::Ignore => k.push('I'),
            Conflict::Update { set, .. } => {
                k.push('U');
                for (c, e) in set {
                    k.push_str(c);
                    k.push(match e {
                        SetExpr::Value(_) => '\u{1}',
                        SetExpr::Arith(op, _) => op.chars().next().unwrap_or('?'),
                        SetExpr::Excluded => '\u{4}',
                        SetExpr::Keep => '\u{5}',
                    });
                }
            }
        }
        k
    }

    fn insert(&mut self, table: &str, row: &InsertRow, conflict: &Conflict) -> Stmt {
        let key = Self::key(row, conflict);
        if let Some(sql) = self.0.get(&key) {
            let stmt = Stmt {
                sql: sql.clone(),
                params: sql::write::insert_params(table, row, conflict),
            };
            debug_assert_eq!(stmt, sql::write::insert(table, row, conflict, None));
            return stmt;
        }
        let stmt = sql::write::insert(table, row, conflict, None);
        self.0.insert(key, stmt.sql.clone());
        stmt
    }
}

/// `createMany` rows whose values are all parameters (no `@sequence`
/// column): one single-row `INSERT` per row,
/// its text written once per column shape and shared, so the executor
/// reuses one prepared statement for a run of rows of one shape (as a
/// hand-written loop over a prepared statement would), and the parameters
/// moved (not cloned) out of the built row.
///
/// Not one multi-row `INSERT … VALUES (…), (…)` per chunk: SQLite opens a
/// statement journal for a statement that writes several rows and may abort
/// (any NOT NULL, UNIQUE or foreign key check), and copies every page the
/// statement first touches into it, which cost more than the per-row
/// statement overhead it saved (insert_bulk, callgrind: the multi-row
/// chunks spent 25% of the writer's instructions in `subjournalPage`).
struct Bulk<'a> {
    model: &'a Model,
    conflict: &'a Conflict,
    /// Statement texts by column shape (field indexes).
    texts: Vec<(Vec<usize>, Arc<str>)>,
    /// Index in `texts` of the shape used last.
    last: usize,
}

impl<'a> Bulk<'a> {
    fn new(model: &'a Model, conflict: &'a Conflict) -> Self {
        Bulk {
            model,
            conflict,
            texts: Vec::new(),
            last: 0,
        }
    }

    /// The statement of one built row (all [`ast::InsertVal::Param`]
    /// values); empties `values`.
    fn stmt(&mut self, values: &mut Vec<(usize, ast::InsertVal)>) -> Stmt {
        let same = |shape: &[usize]| {
            shape.len() == values.len() && shape.iter().zip(values.iter()).all(|(a, (b, _))| a == b)
        };
        if !self.texts.get(self.last).is_some_and(|(s, _)| same(s)) {
            match self.texts.iter().position(|(s, _)| same(s)) {
                Some(at) => self.last = at,
                None => {
                    let placeholder = InsertRow {
                        values: values
                            .iter()
                            .map(|(i, _)| {
                                (
                                    self.model.fields[*i].column.clone(),
                                    ast::InsertVal::Param(SqlValue::Null),
                                )
                            })
                            .collect(),
                    };
                    let text =
                        sql::write::insert(&self.model.table, &placeholder, self.conflict, None)
                            .sql;
                    self.texts
                        .push((values.iter().map(|(i, _)| *i).collect(), text));
                    self.last = self.texts.len() - 1;
                }
            }
        }
        // Debug builds render the row in full and check the shared text.
        #[cfg(debug_assertions)]
        let full = sql::write::insert(
            &self.model.table,
            &InsertRow {
                values: values
                    .iter()
                    .map(|(i, v)| (self.model.fields[*i].column.clone(), v.clone()))
                    .collect(),
            },
            self.conflict,
            None,
        );
        let sql = self.texts[self.last].1.clone();
        let mut params = Vec::with_capacity(values.len());
        params.extend(values.drain(..).filter_map(|(_, v)| match v {
            ast::InsertVal::Param(p) => Some(p),
            ast::InsertVal::Sequence { .. } => None,
        }));
        let stmt = Stmt { sql, params };
        #[cfg(debug_assertions)]
        debug_assert_eq!(stmt, full);
        stmt
    }
}

/// The RETURNING projection of a single-row write (`None` for `select: false`).
fn returning(
    cx: &Cx<'_>,
    model: &Model,
    o: Option<&Map<String, Value>>,
) -> Result<Option<ReadQuery>> {
    let select = o.and_then(|o| o.get("select"));
    if matches!(select, Some(Value::Bool(false))) {
        if o.and_then(|o| o.get("include"))
            .is_some_and(|v| !v.is_null())
        {
            return Err(Error::invalid_args(
                "include",
                "cannot include with select: false",
            ));
        }
        return Ok(None);
    }
    let mut q = ReadQuery {
        table: model.table.clone(),
        cols: Arc::default(),
        hidden: Vec::new(),
        filter: Filter::True,
        order: Vec::new(),
        limit: None,
        offset: None,
        distinct: false,
        includes: Vec::new(),
        parent_link: None,
    };
    read::project(
        cx,
        model,
        select,
        o.and_then(|o| o.get("include")),
        false,
        "",
        &mut q,
    )?;
    if q.cols.iter().any(|c| c.count.is_some()) {
        return Err(Error::invalid_args(
            "include._count",
            "relation counts are available on reads, not on writes",
        ));
    }
    read::add_derived(cx, model, select, &mut q)?;
    Ok(Some(q))
}

fn rows_write(
    ret: Option<&ReadQuery>,
    stmt: impl FnOnce(Option<&ReadQuery>) -> Stmt,
    shape: Shape,
) -> Plan {
    match ret {
        Some(q) => {
            let mut rows = sql::select::rows(q, false);
            rows.stmt = stmt(Some(q));
            Plan::Rows { rows, shape }
        }
        None => {
            let rows = sql::RowsPlan {
                stmt: stmt(None),
                cols: Arc::default(),
                hidden: 0,
                includes: Vec::new(),
            };
            Plan::Rows {
                rows,
                shape: Shape::Null,
            }
        }
    }
}

/// The rows an UPDATE/DELETE touches; rejects an empty `where` unless
/// `all: true` (bulk) — single-row writes always need one.
fn target(
    cx: &Cx<'_>,
    model: &Model,
    o: Option<&Map<String, Value>>,
    single: bool,
    live_only: bool,
) -> Result<Target> {
    let w = o.and_then(|o| o.get("where")).unwrap_or(&Value::Null);
    let all = match o.and_then(|o| o.get("all")) {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => return Err(Error::invalid_args("all", "expected true or false")),
    };
    let empty = match w {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    };
    if empty && (single || !all) {
        return Err(Error::invalid_args(
            "where",
            if single {
                format!(
                    "a non-empty where is required to pick the {} row",
                    model.name
                )
            } else {
                format!(
                    "a non-empty where is required; pass \"all\": true to affect every {} row",
                    model.name
                )
            },
        ));
    }
    let mut filter = filter::parse_where(cx, model, w, "where")?;
    if live_only {
        filter = filter.and(filter::live_filter(model));
    }
    Ok(Target {
        filter,
        single: single.then(|| {
            model
                .single_pk()
                .map_or_else(|| "rowid".to_string(), |f| f.column.clone())
        }),
    })
}

fn compile_cursor(cx: &Cx<'_>, model: &Model, args: &Value) -> Result<Plan> {
    let opts = ReadOpts {
        list: true,
        paging: false,
        ordering: true,
        projection: true,
        distinct: false,
        cursor: true,
    };
    let mut keys = allowed_keys(opts);
    keys.push("limit");
    let o = args_object(args, &keys, "")?;
    let mut q = read::build(cx, model, o, opts, "")?;
    let limit = match o.and_then(|o| o.get("limit")) {
        None | Some(Value::Null) => DEFAULT_CURSOR_LIMIT,
        Some(v) => match v.as_i64() {
            Some(n) if n > 0 => n,
            _ => return Err(Error::invalid_args("limit", "expected a positive integer")),
        },
    };
    if model.primary_key.is_empty() {
        return Err(Error::invalid_args(
            "",
            format!("findManyCursor needs a primary key on {}", model.name),
        ));
    }
    for id in &model.primary_key {
        let f = model.field_by_id(*id);
        if !q.order.iter().any(|o| o.column == f.column) {
            q.order.push(Order {
                field: f.name.clone(),
                column: f.column.clone(),
                desc: false,
                nulls: None,
                nullable: false,
                related: None,
            });
        }
    }
    if let Some(o) = q.order.iter().find(|o| o.related.is_some()) {
        return Err(Error::invalid_args(
            format!("orderBy.{}", o.field),
            "findManyCursor orders by the model's own columns only",
        ));
    }
    let spec = cursor::CursorSpec::new(&model.name, &q.order);
    let mut order_idx = Vec::with_capacity(q.order.len());
    for o in &q.order {
        let i = match q.hidden.iter().position(|h| h == &o.column) {
            Some(i) => i,
            None => {
                q.hidden.push(o.column.clone());
                q.hidden.len() - 1
            }
        };
        order_idx.push(i);
    }
    match o.and_then(|o| o.get("cursor")) {
        None | Some(Value::Null) => {}
        Some(Value::String(token)) => {
            let values = spec.open(token, q.order.len())?;
            q.filter = q.filter.and(cursor::keyset(&q.order, &values));
        }
        Some(_) => return Err(Error::invalid_args("cursor", "expected a cursor string")),
    }
    q.limit = Some(limit + 1);
    Ok(Plan::Cursor {
        rows: rows_plan(cx, &q, true),
        limit: limit as usize,
        order: order_idx,
        spec,
    })
}

fn compile_upsert(cx: &Cx<'_>, model: &Model, args: &Value) -> Result<Plan> {
    let o = args_object(
        args,
        &["where", "create", "update", "select", "include"],
        "",
    )?;
    let Some(Value::Object(w)) = o.and_then(|o| o.get("where")) else {
        return Err(Error::invalid_args(
            "where",
            "upsert needs a where on a unique field",
        ));
    };
    for k in w.keys() {
        if model.field(k).is_none() {
            return Err(Error::UnknownField {
                model: model.name.clone(),
                field: k.clone(),
                path: format!("where.{k}"),
            });
        }
    }
    let Some(fields) = write::unique_target(model, w) else {
        return Err(Error::invalid_args(
            "where",
            format!(
                "upsert needs equality on a unique field of {} ({})",
                model.name,
                write::unique_names(model)
            ),
        ));
    };
    let mut create = match o.and_then(|o| o.get("create")) {
        Some(Value::Object(c)) => c.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(Error::invalid_args("create", "expected a data object")),
    };
    for f in &fields {
        if !create.contains_key(&f.name) {
            let v = match w.get(&f.name) {
                Some(Value::Object(eq)) => eq.get("equals").cloned().unwrap_or(Value::Null),
                Some(v) => v.clone(),
                None => Value::Null,
            };
            create.insert(f.name.clone(), v);
        }
    }
    let create = Value::Object(create);
    let row = write::insert_row(cx, model, &create, "create")?;
    let update = match o.and_then(|o| o.get("update")) {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v) => v.clone(),
    };
    let set = write::update_set(cx, model, &update, "update")?;
    let guards = policy::guard_upsert(cx, model, w, &row, &create, &update)?;
    let ids: Vec<_> = fields.iter().map(|f| f.id).collect();
    let conflict = Conflict::Update {
        target: fields.iter().map(|f| f.column.clone()).collect(),
        target_where: crate::ddl::unique_index_predicate(cx.schema, model, &ids),
        set,
    };
    let ret = returning(cx, model, o)?;
    Ok(policy::wrap(
        rows_write(
            ret.as_ref(),
            |r| sql::write::insert(&model.table, &row, &conflict, r),
            Shape::First,
        ),
        guards,
    ))
}

fn compile_upsert_many(cx: &Cx<'_>, model: &Model, args: &Value) -> Result<Plan> {
    let o = args_object(args, &["data", "conflictTarget", "update"], "")?;
    let Some(Value::Array(items)) = o.and_then(|o| o.get("data")) else {
        return Err(Error::invalid_args("data", "expected an array of rows"));
    };
    let Some(Value::Array(tv)) = o.and_then(|o| o.get("conflictTarget")) else {
        return Err(Error::invalid_args(
            "conflictTarget",
            "expected an array of unique field names",
        ));
    };
    let mut target = Vec::new();
    let mut target_ids = Vec::new();
    for (i, t) in tv.iter().enumerate() {
        let p = format!("conflictTarget[{i}]");
        let Some(name) = t.as_str() else {
            return Err(Error::invalid_args(p, "expected a field name"));
        };
        let Some(f) = model.field(name).filter(|f| f.is_column()) else {
            return Err(Error::UnknownField {
                model: model.name.clone(),
                field: name.to_string(),
                path: p,
            });
        };
        target.push(f.column.clone());
        target_ids.push(f.id);
    }
    let target_where = crate::ddl::unique_index_predicate(cx.schema, model, &target_ids);
    if target.is_empty() {
        return Err(Error::invalid_args(
            "conflictTarget",
            "needs at least one field",
        ));
    }
    enum Upd {
        Excluded(Option<Vec<String>>),
        Set(Vec<(String, SetExpr)>),
    }
    let upd = match o.and_then(|o| o.get("update")) {
        None | Some(Value::Null) => Upd::Excluded(None),
        Some(Value::Array(names)) => {
            let mut cols = Vec::new();
            for (i, n) in names.iter().enumerate() {
                let p = format!("update[{i}]");
                let Some(f) = n
                    .as_str()
                    .and_then(|n| model.field(n))
                    .filter(|f| f.is_column())
                else {
                    return Err(Error::UnknownField {
                        model: model.name.clone(),
                        field: n.as_str().unwrap_or_default().to_string(),
                        path: p,
                    });
                };
                cols.push(f.column.clone());
            }
            Upd::Excluded(Some(cols))
        }
        Some(v @ Value::Object(_)) => Upd::Set(write::update_set(cx, model, v, "update")?),
        Some(_) => {
            return Err(Error::invalid_args(
                "update",
                "expected an array of field names or a data object",
            ));
        }
    };
    let mut shapes = ShapeCache::default();
    let mut stmts = Vec::with_capacity(items.len());
    let mut guards = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let row: InsertRow = write::insert_row(cx, model, item, &format!("data[{i}]"))?;
        let set = match &upd {
            Upd::Set(s) => s.clone(),
            Upd::Excluded(cols) => {
                let cols: Vec<String> = match cols {
                    Some(c) => c.clone(),
                    None => match item {
                        Value::Object(m) => write::data_columns(model, m),
                        _ => Vec::new(),
                    },
                };
                cols.into_iter()
                    .filter(|c| !target.contains(c))
                    .map(|c| (c, SetExpr::Excluded))
                    .collect()
            }
        };
        if !cx.system {
            guards.extend(policy::guard_upsert_row(
                cx, model, &row, &target, item, &set,
            )?);
        }
        let conflict = Conflict::Update {
            target: target.clone(),
            target_where: target_where.clone(),
            set,
        };
        stmts.push(shapes.insert(&model.table, &row, &conflict));
    }
    Ok(policy::wrap(Plan::Exec(stmts), guards))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn plan_sql(plan: &Plan) -> Arc<str> {
        plan.statements()[0].sql.clone()
    }

    #[test]
    fn same_shape_reuses_text_and_different_shape_does_not() {
        let schema = crate::schema::parse(
            "model users { id Integer @id  email Text @unique  age Integer?  posts posts[] }\n\
             model posts { id Integer @id  author users @relation(fields: [authorId], references: [id])  authorId Integer  views Integer }",
        )
        .expect("schema");
        let cache = cache::QueryCache::default();
        let cx = Cx {
            schema: &schema,
            auth: None,
            system: false,
            cache: Some(&cache),
            crypto: None,
        };
        let users = schema.model("users").expect("users");
        let args = |age: i64, limit: i64| json!({"where": {"age": {"gt": age}}, "include": {"posts": {"where": {"views": {"lt": age}}}}, "limit": limit});
        let a = compile(&cx, users, Op::FindMany, &args(1, 5)).expect("a");
        let b = compile(&cx, users, Op::FindMany, &args(2, 9)).expect("b");
        // same text objects (cache hit), different parameters
        assert!(Arc::ptr_eq(&plan_sql(&a), &plan_sql(&b)));
        assert!(Arc::ptr_eq(&a.statements()[1].sql, &b.statements()[1].sql));
        assert_ne!(a.statements()[0].params, b.statements()[0].params);
        assert_eq!(b.statements()[0].params.len(), 2);
        // a null changes the text, so it is another shape
        let c = compile(&cx, users, Op::FindMany, &json!({"where": {"age": null}})).expect("c");
        let d = compile(&cx, users, Op::FindMany, &json!({"where": {"age": 3}})).expect("d");
        assert_ne!(plan_sql(&c), plan_sql(&d));
        // in-lists of another length are another shape
        let e = compile(
            &cx,
            users,
            Op::FindMany,
            &json!({"where": {"id": {"in": [1, 2]}}}),
        )
        .expect("e");
        let f = compile(
            &cx,
            users,
            Op::FindMany,
            &json!({"where": {"id": {"in": [1, 2, 3]}}}),
        )
        .expect("f");
        assert_ne!(plan_sql(&e), plan_sql(&f));
        // find_first forces LIMIT 1 but binds it: same text as a limited find_many
        let g = compile(&cx, users, Op::FindFirst, &json!({"where": {"age": 4}})).expect("g");
        assert!(g.statements()[0].sql.contains("LIMIT ?"));
    }
}
