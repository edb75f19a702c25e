//! Nested writes (README "Nested writes on relations", "Include on writes"):
//! `create` / `update` whose `data` holds relation fields compile to a
//! [`NestedPlan`]: statements run in order inside one SAVEPOINT on the
//! writer, values (new keys, looked-up keys) flowing between them through
//! numbered slots; any failure rolls every statement back. The written row
//! is then read back with `select` / `include` (and `@from` fields).
//!
//! Operations per relation kind (Prisma semantics where the README is
//! silent):
//! - belongs-to, in `create` and `update`: `create: {…}`, `connect:
//!   {unique where}`, `connectOrCreate: {where, create}`; in `update` also
//!   `disconnect: true` (optional relations), `update: {…}` (the related
//!   row), `upsert: {create, update}`, `delete: true`.
//! - has-many / has-one: `create` (object or array), `createMany: {data:
//!   [...]}`, `connect` (re-points the related rows' foreign key),
//!   `connectOrCreate`; in `update` also `disconnect` (sets their foreign
//!   key to NULL; `true` on has-one), `set: [wheres]` (disconnect all, then
//!   connect these), `update: {where, data}` (has-one: the data), `updateMany:
//!   {where, data}`, `upsert: {where, create, update}`, `delete: where |
//!   [wheres]` (has-one: `true`), `deleteMany: where`. Nested `where`s are
//!   always restricted to the rows related to the parent.
//! - many-to-many: `create`, `connect`, `connectOrCreate` (insert join rows,
//!   existing links kept), and in `update` `disconnect`, `set`, `delete`,
//!   `deleteMany`.
//!
//! `connect` / `delete` / `update` of a row that does not exist fail with
//! `NotFound` (rolling back the whole write). A nested `create` may nest
//! further relations. An `update` matching no row returns `null` and
//! writes nothing.

use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::ast::{
    CmpOp, Col, Conflict, Filter, InsertRow, InsertVal, Link, OutCol, Quant, ReadQuery, SetExpr,
    Target,
};
use super::derived::{ExtRead, derived_cols};
use super::filter::{live_filter, parse_where};
use super::read::{ReadOpts, args_object, build};
use super::{Cx, Op, returning, write};
use crate::codec::{Base, Kind};
use crate::error::{Error, Result};
use crate::schema::{Field, Model, RelationKind};
use crate::sql::analytics::{Expect, NestedPlan, Step, When, ext_rows};
use crate::sql::{self, Plan, Stmt};

/// Integer placeholders of slot n are `MAGIC + n` until filled at run time.
const MAGIC: i64 = i64::MIN + 0x4C53_0000;
const TEXT_MARK: &str = "\u{1}litestone-slot:";

fn ph_sql(n: usize) -> SqlValue {
    SqlValue::Integer(MAGIC + n as i64)
}

fn ph_json(f: &Field, n: usize) -> Value {
    if Kind::of(f).base == Base::Integer {
        Value::from(MAGIC + n as i64)
    } else {
        Value::String(format!("{TEXT_MARK}{n}"))
    }
}

/// The (parameter index, slot) pairs of a compiled statement.
fn scan(stmt: &Stmt, slots: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, p) in stmt.params.iter().enumerate() {
        let n = match p {
            SqlValue::Integer(v) if *v >= MAGIC && *v < MAGIC + slots as i64 => {
                Some((*v - MAGIC) as usize)
            }
            SqlValue::Text(t) => t
                .strip_prefix(TEXT_MARK)
                .and_then(|n| n.parse::<usize>().ok()),
            _ => None,
        };
        if let Some(n) = n.filter(|n| *n < slots) {
            out.push((i, n));
        }
    }
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The read-back rows plan and its (parameter, slot) fills.
type ReadBack = (sql::RowsPlan, Vec<(usize, usize)>);

/// Column → slot of a written or looked-up row.
type Cols = Vec<(String, usize)>;

fn slot_of(cols: &Cols, column: &str, path: &str) -> Result<usize> {
    cols.iter()
        .find(|(c, _)| c == column)
        .map(|(_, s)| *s)
        .ok_or_else(|| Error::invalid_args(path, format!("no key column `{column}`")))
}

fn items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    }
}

fn obj<'v>(v: &'v Value, path: &str) -> Result<&'v Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| Error::invalid_args(path, "expected an object"))
}

fn eq(column: &str, slot: usize) -> Filter {
    Filter::Cmp {
        col: Col::Column(column.to_string()),
        op: CmpOp::Eq,
        value: ph_sql(slot),
    }
}

/// (foreign-key field on the child side, referenced column on the parent
/// side) of relation `f` of `model`, plus the child model.
fn fk_pairs<'s>(
    cx: &Cx<'s>,
    model: &'s Model,
    f: &Field,
) -> Result<(Vec<(&'s Field, String)>, bool)> {
    let Some(rel) = f.relation() else {
        return Err(Error::invalid_args(&f.name, "not a relation"));
    };
    let target = cx.schema.model_by_id(rel.target);
    Ok(match &rel.kind {
        RelationKind::BelongsTo {
            fields, references, ..
        } => (
            fields
                .iter()
                .zip(references)
                .map(|(a, b)| (model.field_by_id(*a), target.field_by_id(*b).column.clone()))
                .collect(),
            true,
        ),
        RelationKind::HasMany { inverse } | RelationKind::HasOne { inverse } => {
            let inv = target.field_by_id(*inverse);
            let Some(RelationKind::BelongsTo {
                fields, references, ..
            }) = inv.relation().map(|r| &r.kind)
            else {
                return Err(Error::invalid_args(
                    &f.name,
                    "relation has no belongs-to inverse",
                ));
            };
            (
                fields
                    .iter()
                    .zip(references)
                    .map(|(a, b)| (target.field_by_id(*a), model.field_by_id(*b).column.clone()))
                    .collect(),
                false,
            )
        }
        RelationKind::ManyToMany(_) => (Vec::new(), false),
    })
}

struct Builder<'a, 'c> {
    cx: &'a Cx<'c>,
    steps: Vec<Step>,
    slots: usize,
}

impl<'a, 'c> Builder<'a, 'c> {
    fn slot(&mut self) -> usize {
        self.slots += 1;
        self.slots - 1
    }

    fn push(&mut self, stmt: Stmt, capture: Vec<usize>, when: When, expect: Expect) {
        let fill = scan(&stmt, self.slots);
        self.steps.push(Step {
            stmt,
            fill,
            capture,
            when,
            expect,
        });
    }

    fn base_query(&self, model: &Model) -> Result<ReadQuery> {
        let mut q = build(self.cx, model, None, ReadOpts::default(), "")?;
        q.filter = Filter::True;
        q.cols = std::sync::Arc::new(Vec::new());
        Ok(q)
    }

    fn all_cols(&self, model: &Model) -> Result<ReadQuery> {
        let mut q = self.base_query(model)?;
        q.cols = std::sync::Arc::new(
            model
                .columns()
                .map(|f| OutCol {
                    key: f.name.as_str().into(),
                    column: f.column.as_str().into(),
                    kind: Kind::of(f),
                    count: None,
                    mask: None,
                    derived: None,
                    decrypt: false,
                })
                .collect(),
        );
        Ok(q)
    }

    fn fresh(&mut self, q: &ReadQuery, into: Option<&Cols>) -> Cols {
        q.cols
            .iter()
            .map(|c| {
                let s = into
                    .and_then(|i| i.iter().find(|(k, _)| **k == *c.column).map(|(_, s)| *s))
                    .unwrap_or_else(|| self.slot());
                (c.column.to_string(), s)
            })
            .collect()
    }

    /// `SELECT <every column> FROM target WHERE where LIMIT 1`, captured.
    fn lookup(
        &mut self,
        target: &Model,
        w: &Value,
        path: &str,
        when: When,
        expect: Expect,
        into: Option<&Cols>,
    ) -> Result<Cols> {
        let mut q = self.all_cols(target)?;
        q.filter = parse_where(self.cx, target, w, path)?.and(live_filter(target));
        q.limit = Some(1);
        let cols = self.fresh(&q, into);
        let stmt = sql::select::rows(&q, false).stmt;
        self.push(stmt, cols.iter().map(|(_, s)| *s).collect(), when, expect);
        Ok(cols)
    }

    fn not_found(target: &Model, what: &str, path: &str) -> Expect {
        Expect::Row(
            target.name.clone(),
            format!("{what} at `{path}`: no {} row matched", target.name),
        )
    }

    /// Inserts one row (with nested relations) and returns its columns.
    fn create(
        &mut self,
        model: &Model,
        data: &Map<String, Value>,
        extra: &Map<String, Value>,
        path: &str,
        when: When,
        into: Option<&Cols>,
    ) -> Result<Cols> {
        let mut scalar = Map::new();
        let mut after = Vec::new();
        for (k, v) in data {
            let p = join(path, k);
            match model.field(k).and_then(|f| f.relation().map(|r| (f, r))) {
                None => {
                    scalar.insert(k.clone(), v.clone());
                }
                Some((f, rel)) if matches!(rel.kind, RelationKind::BelongsTo { .. }) => {
                    let target = self.cx.schema.model_by_id(rel.target);
                    let tcols = self.belongs_to_op(target, v, &p, when)?;
                    let (pairs, _) = fk_pairs(self.cx, model, f)?;
                    for (fk, refcol) in pairs {
                        scalar.insert(fk.name.clone(), ph_json(fk, slot_of(&tcols, &refcol, &p)?));
                    }
                }
                Some((f, _)) => after.push((f, v, p)),
            }
        }
        for (k, v) in extra {
            scalar.insert(k.clone(), v.clone());
        }
        let row = write::insert_row(self.cx, model, &Value::Object(scalar), path)?;
        let q = self.all_cols(model)?;
        let cols = self.fresh(&q, into);
        let stmt = sql::write::insert(&model.table, &row, &Conflict::Fail, Some(&q));
        self.push(
            stmt,
            cols.iter().map(|(_, s)| *s).collect(),
            when,
            Expect::Nothing,
        );
        for (f, v, p) in after {
            self.related_ops(model, f, v, &p, &cols, when, false)?;
        }
        Ok(cols)
    }

    /// A belongs-to operation of a create (`create`, `connect`,
    /// `connectOrCreate`): the related row's columns.
    fn belongs_to_op(&mut self, target: &Model, v: &Value, path: &str, when: When) -> Result<Cols> {
        let o = obj(v, path)?;
        let mut out = None;
        for (op, x) in o {
            let p = join(path, op);
            let cols = match op.as_str() {
                "create" => self.create(target, obj(x, &p)?, &Map::new(), &p, when, None)?,
                "connect" => {
                    let e = Self::not_found(target, "connect", &p);
                    self.lookup(target, x, &p, when, e, None)?
                }
                "connectOrCreate" => self.connect_or_create(target, x, &p, when)?,
                _ => {
                    return Err(Error::invalid_args(
                        p,
                        "expected create, connect or connectOrCreate",
                    ));
                }
            };
            if out.replace(cols).is_some() {
                return Err(Error::invalid_args(path, "only one operation per relation"));
            }
        }
        out.ok_or_else(|| Error::invalid_args(path, "expected create, connect or connectOrCreate"))
    }

    fn connect_or_create(
        &mut self,
        target: &Model,
        x: &Value,
        p: &str,
        when: When,
    ) -> Result<Cols> {
        let o = obj(x, p)?;
        let w = o.get("where").unwrap_or(&Value::Null);
        let cols = self.lookup(target, w, &join(p, "where"), when, Expect::Nothing, None)?;
        let first = cols.first().map(|(_, s)| *s).unwrap_or(0);
        let create = obj(o.get("create").unwrap_or(&Value::Null), &join(p, "create"))?;
        self.create(
            target,
            create,
            &Map::new(),
            &join(p, "create"),
            When::IfUnset(first),
            Some(&cols),
        )?;
        Ok(cols)
    }

    fn update_stmt(
        &self,
        model: &Model,
        set: &[(String, SetExpr)],
        filter: Filter,
        ret: Option<&ReadQuery>,
    ) -> Stmt {
        sql::write::update(
            &model.table,
            set,
            &Target {
                filter,
                single: None,
            },
            ret,
        )
    }

    fn delete_stmt(&self, table: &str, filter: Filter, ret: Option<&ReadQuery>) -> Stmt {
        sql::write::delete(
            table,
            &Target {
                filter,
                single: None,
            },
            ret,
        )
    }

    /// To-many / has-one operations after the parent row exists.
    #[allow(clippy::too_many_arguments)]
    fn related_ops(
        &mut self,
        model: &Model,
        f: &Field,
        v: &Value,
        path: &str,
        parent: &Cols,
        when: When,
        update: bool,
    ) -> Result<()> {
        let Some(rel) = f.relation() else {
            return Err(Error::invalid_args(path, "not a relation"));
        };
        let target = self.cx.schema.model_by_id(rel.target);
        let ops = obj(v, path)?;
        if let RelationKind::ManyToMany(jt) = &rel.kind {
            return self.many_to_many(model, target, jt, ops, path, parent, when, update);
        }
        let has_one = matches!(rel.kind, RelationKind::HasOne { .. });
        let (pairs, _) = fk_pairs(self.cx, model, f)?;
        let mut extra = Map::new();
        let mut link = Filter::True;
        let mut set_fk = Vec::new();
        let mut null_fk = Vec::new();
        for (fk, refcol) in &pairs {
            let s = slot_of(parent, refcol, path)?;
            extra.insert(fk.name.clone(), ph_json(fk, s));
            link = link.and(eq(&fk.column, s));
            set_fk.push((fk.column.clone(), SetExpr::Value(ph_sql(s))));
            null_fk.push((fk.column.clone(), SetExpr::Value(SqlValue::Null)));
        }
        let live = live_filter(target);
        let one = self.base_query(target)?;
        let pk = self.all_cols(target)?;
        for (op, x) in ops {
            let p = join(path, op);
            let update_only = matches!(
                op.as_str(),
                "disconnect" | "set" | "update" | "updateMany" | "upsert" | "delete" | "deleteMany"
            );
            if update_only && !update {
                return Err(Error::invalid_args(
                    p,
                    format!("`{op}` is only available in update"),
                ));
            }
            let wheres = |x: &Value, p: &str| -> Result<Vec<Filter>> {
                items(x)
                    .into_iter()
                    .enumerate()
                    .map(|(i, w)| {
                        let wp = if x.is_array() {
                            format!("{p}[{i}]")
                        } else {
                            p.to_string()
                        };
                        parse_where(self.cx, target, w, &wp)
                    })
                    .collect()
            };
            match op.as_str() {
                "create" => {
                    for (i, item) in items(x).into_iter().enumerate() {
                        let ip = if x.is_array() {
                            format!("{p}[{i}]")
                        } else {
                            p.clone()
                        };
                        self.create(target, obj(item, &ip)?, &extra, &ip, when, None)?;
                    }
                }
                "createMany" => {
                    let dp = join(&p, "data");
                    let Some(Value::Array(data)) = obj(x, &p)?.get("data") else {
                        return Err(Error::invalid_args(dp, "expected an array of rows"));
                    };
                    for (i, item) in data.iter().enumerate() {
                        let ip = format!("{dp}[{i}]");
                        self.create(target, obj(item, &ip)?, &extra, &ip, when, None)?;
                    }
                }
                "connect" => {
                    for w in wheres(x, &p)? {
                        let stmt =
                            self.update_stmt(target, &set_fk, w.and(live.clone()), Some(&one));
                        let e = Self::not_found(target, "connect", &p);
                        self.push(stmt, Vec::new(), when, e);
                    }
                }
                "connectOrCreate" => {
                    for (i, item) in items(x).into_iter().enumerate() {
                        let ip = if x.is_array() {
                            format!("{p}[{i}]")
                        } else {
                            p.clone()
                        };
                        let io = obj(item, &ip)?;
                        let w = parse_where(
                            self.cx,
                            target,
                            io.get("where").unwrap_or(&Value::Null),
                            &join(&ip, "where"),
                        )?;
                        let cols = self.fresh(&pk, None);
                        let stmt =
                            self.update_stmt(target, &set_fk, w.and(live.clone()), Some(&pk));
                        self.push(
                            stmt,
                            cols.iter().map(|(_, s)| *s).collect(),
                            when,
                            Expect::Nothing,
                        );
                        let first = cols.first().map(|(_, s)| *s).unwrap_or(0);
                        let cp = join(&ip, "create");
                        let create = obj(io.get("create").unwrap_or(&Value::Null), &cp)?;
                        self.create(
                            target,
                            create,
                            &extra,
                            &cp,
                            When::IfUnset(first),
                            Some(&cols),
                        )?;
                    }
                }
                "disconnect" => {
                    if pairs.iter().any(|(fk, _)| !fk.optional) {
                        return Err(Error::invalid_args(
                            p,
                            format!(
                                "`{}` is required on {}: delete instead of disconnecting",
                                pairs
                                    .iter()
                                    .map(|(f, _)| f.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                target.name
                            ),
                        ));
                    }
                    let filters = if has_one || *x == Value::Bool(true) {
                        vec![Filter::True]
                    } else {
                        wheres(x, &p)?
                    };
                    for w in filters {
                        let stmt = self.update_stmt(target, &null_fk, w.and(link.clone()), None);
                        self.push(stmt, Vec::new(), when, Expect::Nothing);
                    }
                }
                "set" => {
                    if pairs.iter().any(|(fk, _)| !fk.optional) {
                        return Err(Error::invalid_args(
                            p,
                            "set needs an optional foreign key (rows left out would be orphaned)",
                        ));
                    }
                    let stmt = self.update_stmt(target, &null_fk, link.clone(), None);
                    self.push(stmt, Vec::new(), when, Expect::Nothing);
                    for w in wheres(x, &p)? {
                        let stmt =
                            self.update_stmt(target, &set_fk, w.and(live.clone()), Some(&one));
                        let e = Self::not_found(target, "set", &p);
                        self.push(stmt, Vec::new(), when, e);
                    }
                }
                "update" | "updateMany" => {
                    for (i, item) in items(x).into_iter().enumerate() {
                        let ip = if x.is_array() {
                            format!("{p}[{i}]")
                        } else {
                            p.clone()
                        };
                        let io = obj(item, &ip)?;
                        let (w, data) = if has_one && !io.contains_key("data") {
                            (Filter::True, item)
                        } else {
                            (
                                parse_where(
                                    self.cx,
                                    target,
                                    io.get("where").unwrap_or(&Value::Null),
                                    &join(&ip, "where"),
                                )?,
                                io.get("data").unwrap_or(&Value::Null),
                            )
                        };
                        let set = write::update_set(self.cx, target, data, &join(&ip, "data"))?;
                        if set.is_empty() {
                            continue;
                        }
                        let expect = if op == "update" {
                            Self::not_found(target, "update", &ip)
                        } else {
                            Expect::Nothing
                        };
                        let stmt = self.update_stmt(
                            target,
                            &set,
                            w.and(link.clone()).and(live.clone()),
                            Some(&one),
                        );
                        self.push(stmt, Vec::new(), when, expect);
                    }
                }
                "upsert" => {
                    for (i, item) in items(x).into_iter().enumerate() {
                        let ip = if x.is_array() {
                            format!("{p}[{i}]")
                        } else {
                            p.clone()
                        };
                        let io = obj(item, &ip)?;
                        let w = if has_one && !io.contains_key("where") {
                            Filter::True
                        } else {
                            parse_where(
                                self.cx,
                                target,
                                io.get("where").unwrap_or(&Value::Null),
                                &join(&ip, "where"),
                            )?
                        };
                        let up = io
                            .get("update")
                            .cloned()
                            .unwrap_or(Value::Object(Map::new()));
                        let mut set =
                            write::update_set(self.cx, target, &up, &join(&ip, "update"))?;
                        if set.is_empty() {
                            set = set_fk.clone();
                        }
                        let cols = self.fresh(&pk, None);
                        let stmt = self.update_stmt(
                            target,
                            &set,
                            w.and(link.clone()).and(live.clone()),
                            Some(&pk),
                        );
                        self.push(
                            stmt,
                            cols.iter().map(|(_, s)| *s).collect(),
                            when,
                            Expect::Nothing,
                        );
                        let first = cols.first().map(|(_, s)| *s).unwrap_or(0);
                        let cp = join(&ip, "create");
                        let create = obj(io.get("create").unwrap_or(&Value::Null), &cp)?;
                        self.create(
                            target,
                            create,
                            &extra,
                            &cp,
                            When::IfUnset(first),
                            Some(&cols),
                        )?;
                    }
                }
                "delete" | "deleteMany" => {
                    let filters = if *x == Value::Bool(true) {
                        vec![Filter::True]
                    } else {
                        wheres(x, &p)?
                    };
                    for w in filters {
                        let expect = if op == "delete" {
                            Self::not_found(target, "delete", &p)
                        } else {
                            Expect::Nothing
                        };
                        let stmt = self.delete_stmt(&target.table, w.and(link.clone()), Some(&one));
                        self.push(stmt, Vec::new(), when, expect);
                    }
                }
                _ => {
                    return Err(Error::invalid_args(
                        p,
                        "unknown nested operation (expected create, createMany, connect, connectOrCreate, disconnect, set, update, updateMany, upsert, delete, deleteMany)",
                    ));
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn many_to_many(
        &mut self,
        model: &Model,
        target: &Model,
        jt: &crate::schema::JoinTable,
        ops: &Map<String, Value>,
        path: &str,
        parent: &Cols,
        when: When,
        update: bool,
    ) -> Result<()> {
        let src = slot_of(parent, &model.field_by_id(jt.source_ref).column, path)?;
        let tref = target.field_by_id(jt.target_ref).column.clone();
        let link_row = |b: &mut Self, t: usize, when: When| {
            let row = InsertRow {
                values: vec![
                    (jt.source_column.clone(), InsertVal::Param(ph_sql(src))),
                    (jt.target_column.clone(), InsertVal::Param(ph_sql(t))),
                ],
            };
            let stmt = sql::write::insert(&jt.table, &row, &Conflict::Ignore, None);
            b.push(stmt, Vec::new(), when, Expect::Nothing);
        };
        // Rows of the target linked to the parent (over alias t0 = target).
        let linked = Filter::Rel {
            table: jt.table.clone(),
            link: Link::Direct {
                pairs: vec![(jt.target_column.clone(), tref.clone())],
            },
            quant: Quant::Some,
            inner: Box::new(eq(&jt.source_column, src)),
        };
        for (op, x) in ops {
            let p = join(path, op);
            if matches!(op.as_str(), "disconnect" | "set" | "delete" | "deleteMany") && !update {
                return Err(Error::invalid_args(
                    p,
                    format!("`{op}` is only available in update"),
                ));
            }
            let each = |x: &Value| -> Vec<(String, Value)> {
                items(x)
                    .into_iter()
                    .enumerate()
                    .map(|(i, w)| {
                        (
                            if x.is_array() {
                                format!("{p}[{i}]")
                            } else {
                                p.clone()
                            },
                            w.clone(),
                        )
                    })
                    .collect()
            };
            match op.as_str() {
                "create" => {
                    for (ip, item) in each(x) {
                        let cols =
                            self.create(target, obj(&item, &ip)?, &Map::new(), &ip, when, None)?;
                        let t = slot_of(&cols, &tref, &ip)?;
                        link_row(self, t, when);
                    }
                }
                "connect" => {
                    for (ip, w) in each(x) {
                        let e = Self::not_found(target, "connect", &ip);
                        let cols = self.lookup(target, &w, &ip, when, e, None)?;
                        let t = slot_of(&cols, &tref, &ip)?;
                        link_row(self, t, when);
                    }
                }
                "connectOrCreate" => {
                    for (ip, item) in each(x) {
                        let cols = self.connect_or_create(target, &item, &ip, when)?;
                        let t = slot_of(&cols, &tref, &ip)?;
                        link_row(self, t, when);
                    }
                }
                "disconnect" | "set" => {
                    let mut jq = Filter::True.and(eq(&jt.source_column, src));
                    if op == "disconnect" {
                        let mut any = Vec::new();
                        for (ip, w) in each(x) {
                            any.push(parse_where(self.cx, target, &w, &ip)?);
                        }
                        jq = jq.and(Filter::Rel {
                            table: target.table.clone(),
                            link: Link::Direct {
                                pairs: vec![(tref.clone(), jt.target_column.clone())],
                            },
                            quant: Quant::Some,
                            inner: Box::new(Filter::Or(any)),
                        });
                    }
                    let stmt = self.delete_stmt(&jt.table, jq, None);
                    self.push(stmt, Vec::new(), when, Expect::Nothing);
                    if op == "set" {
                        for (ip, w) in each(x) {
                            let e = Self::not_found(target, "set", &ip);
                            let cols = self.lookup(target, &w, &ip, when, e, None)?;
                            let t = slot_of(&cols, &tref, &ip)?;
                            link_row(self, t, when);
                        }
                    }
                }
                "delete" | "deleteMany" => {
                    let one = self.base_query(target)?;
                    for (ip, w) in each(x) {
                        let f = parse_where(self.cx, target, &w, &ip)?.and(linked.clone());
                        let expect = if op == "delete" {
                            Self::not_found(target, "delete", &ip)
                        } else {
                            Expect::Nothing
                        };
                        let stmt = self.delete_stmt(&target.table, f, Some(&one));
                        self.push(stmt, Vec::new(), when, expect);
                    }
                }
                _ => {
                    return Err(Error::invalid_args(
                        p,
                        "unknown nested operation (expected create, connect, connectOrCreate, disconnect, set, delete, deleteMany)",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The row read back after the write: select/include over the parent's
    /// primary key.
    fn result(
        &self,
        model: &Model,
        o: Option<&Map<String, Value>>,
        parent: &Cols,
    ) -> Result<Option<ReadBack>> {
        let Some(mut q) = returning(self.cx, model, o)? else {
            return Ok(None);
        };
        let mut filter = Filter::True;
        if model.primary_key.is_empty() {
            return Err(Error::invalid_args(
                "data",
                format!("nested writes need a primary key on {}", model.name),
            ));
        }
        for id in &model.primary_key {
            let c = &model.field_by_id(*id).column;
            filter = filter.and(eq(c, slot_of(parent, c, "data")?));
        }
        q.filter = filter;
        q.limit = Some(1);
        let mut ext = ExtRead::new(q);
        ext.extra = derived_cols(self.cx, model, o.and_then(|o| o.get("select")))?;
        let rows = ext_rows(&ext);
        let fill = scan(&rows.stmt, self.slots);
        Ok(Some((rows, fill)))
    }
}

fn has_relation_data(model: &Model, data: Option<&Value>) -> bool {
    data.and_then(Value::as_object).is_some_and(|d| {
        d.keys()
            .any(|k| model.field(k).is_some_and(|f| f.relation().is_some()))
    })
}

/// Whether writes to `model` are subject to access control: row or field
/// policies, or a `@@gate`.
fn policed(model: &Model) -> bool {
    !model.policies.is_empty()
        || model.gate.is_some()
        || model.fields.iter().any(|f| !f.policies.is_empty())
}

/// Collects every model a nested `data` value may write: the relation keys
/// of `model` found anywhere inside it, followed into their target models
/// (an over-approximation: keys inside a nested `where` count too).
fn written_models<'s>(
    schema: &'s crate::schema::Schema,
    model: &'s Model,
    v: &Value,
    out: &mut Vec<&'s Model>,
) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let target = model
                    .field(k)
                    .and_then(|f| f.relation())
                    .map(|r| schema.model_by_id(r.target));
                match target {
                    Some(t) => {
                        if !out.iter().any(|m| m.name == t.name) {
                            out.push(t);
                        }
                        written_models(schema, t, x, out);
                    }
                    None => written_models(schema, model, x, out),
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                written_models(schema, model, x, out);
            }
        }
        _ => {}
    }
}

/// Nested writes are not yet checked against policies or gates model by
/// model, so one that touches a policed model is refused (fail closed)
/// rather than run unchecked. `as_system()` clients are not refused.
fn refuse_policed(
    schema: &crate::schema::Schema,
    model: &Model,
    op: Op,
    data: &Value,
) -> Result<()> {
    let mut touched = vec![model];
    written_models(schema, model, data, &mut touched);
    if let Some(m) = touched.into_iter().find(|m| policed(m)) {
        return Err(Error::AccessDenied {
            model: m.name.clone(),
            operation: if op == Op::Create { "create" } else { "update" }.to_string(),
            message: format!(
                "nested writes are not checked against access rules yet, and `{}` has \
                 @@allow/@@deny/@allow rules or a @@gate: write each model with its own \
                 call (inside a transaction), or use as_system()",
                m.name
            ),
        });
    }
    Ok(())
}

/// Takes over `create` / `update` calls whose `data` writes relations.
///
/// # Errors
/// Argument and validation errors with their JSON path (`data.posts.create[1].title`).
pub(crate) fn hook(cx: &Cx<'_>, model: &Model, op: Op, args: &Value) -> Result<Option<Plan>> {
    if !matches!(op, Op::Create | Op::Update) {
        return Ok(None);
    }
    let data = args.get("data");
    if !has_relation_data(model, data) {
        return Ok(None);
    }
    if !cx.system {
        refuse_policed(cx.schema, model, op, data.unwrap_or(&Value::Null))?;
    }
    let allowed: &[&str] = if op == Op::Create {
        &["data", "select", "include"]
    } else {
        &["where", "data", "select", "include"]
    };
    let o = args_object(args, allowed, "")?;
    let data = obj(data.unwrap_or(&Value::Null), "data")?;
    let mut b = Builder {
        cx,
        steps: Vec::new(),
        slots: 0,
    };
    let parent = if op == Op::Create {
        b.create(model, data, &Map::new(), "data", When::Always, None)?
    } else {
        update(&mut b, model, o, data)?
    };
    let result = b.result(model, o, &parent)?;
    Ok(Some(Plan::Nested(NestedPlan {
        slots: b.slots,
        steps: b.steps,
        result,
    })))
}

fn update(
    b: &mut Builder<'_, '_>,
    model: &Model,
    o: Option<&Map<String, Value>>,
    data: &Map<String, Value>,
) -> Result<Cols> {
    let w = o.and_then(|o| o.get("where")).unwrap_or(&Value::Null);
    if w.as_object().is_none_or(Map::is_empty) {
        return Err(Error::invalid_args(
            "where",
            format!(
                "a non-empty where is required to pick the {} row",
                model.name
            ),
        ));
    }
    let parent = b.lookup(model, w, "where", When::Always, Expect::OrStop, None)?;
    let mut scalar = Map::new();
    let mut set_extra: Vec<(String, SetExpr)> = Vec::new();
    let mut later: Vec<(&Field, &Value, String)> = Vec::new();
    let mut after_update: Vec<Stmt> = Vec::new();
    for (k, v) in data {
        let p = join("data", k);
        let Some((f, rel)) = model.field(k).and_then(|f| f.relation().map(|r| (f, r))) else {
            scalar.insert(k.clone(), v.clone());
            continue;
        };
        if !matches!(rel.kind, RelationKind::BelongsTo { .. }) {
            later.push((f, v, p));
            continue;
        }
        let target = b.cx.schema.model_by_id(rel.target);
        let (pairs, _) = fk_pairs(b.cx, model, f)?;
        let ops = obj(v, &p)?;
        // The related row as the parent currently points at it.
        let mut current = Filter::True;
        for (fk, refcol) in &pairs {
            current = current.and(eq(refcol, slot_of(&parent, &fk.column, &p)?));
        }
        for (op, x) in ops {
            let op_p = join(&p, op);
            match op.as_str() {
                "create" | "connect" | "connectOrCreate" => {
                    let single = Value::Object(Map::from_iter([(op.clone(), x.clone())]));
                    let tcols = b.belongs_to_op(target, &single, &p, When::Always)?;
                    for (fk, refcol) in &pairs {
                        set_extra.push((
                            fk.column.clone(),
                            SetExpr::Value(ph_sql(slot_of(&tcols, refcol, &op_p)?)),
                        ));
                    }
                }
                "disconnect" => {
                    if *x != Value::Bool(true) {
                        continue;
                    }
                    if pairs.iter().any(|(fk, _)| !fk.optional) {
                        return Err(Error::invalid_args(
                            op_p,
                            format!(
                                "`{}.{}` is required: it cannot be disconnected",
                                model.name, f.name
                            ),
                        ));
                    }
                    for (fk, _) in &pairs {
                        set_extra.push((fk.column.clone(), SetExpr::Value(SqlValue::Null)));
                    }
                }
                "update" => {
                    let set = write::update_set(b.cx, target, x, &op_p)?;
                    if !set.is_empty() {
                        let one = b.base_query(target)?;
                        after_update.push(b.update_stmt(
                            target,
                            &set,
                            current.clone().and(live_filter(target)),
                            Some(&one),
                        ));
                    }
                }
                "delete" => {
                    if *x == Value::Bool(true) {
                        let one = b.base_query(target)?;
                        after_update.push(b.delete_stmt(
                            &target.table,
                            current.clone(),
                            Some(&one),
                        ));
                    }
                }
                "upsert" => {
                    let uo = obj(x, &op_p)?;
                    let up = uo
                        .get("update")
                        .cloned()
                        .unwrap_or(Value::Object(Map::new()));
                    let set = write::update_set(b.cx, target, &up, &join(&op_p, "update"))?;
                    let all = b.all_cols(target)?;
                    let cols = b.fresh(&all, None);
                    let keep: Vec<(String, SetExpr)> = if set.is_empty() {
                        pairs
                            .iter()
                            .map(|(_, r)| (r.clone(), SetExpr::Keep))
                            .collect()
                    } else {
                        set
                    };
                    let stmt = b.update_stmt(
                        target,
                        &keep,
                        current.clone().and(live_filter(target)),
                        Some(&all),
                    );
                    b.push(
                        stmt,
                        cols.iter().map(|(_, s)| *s).collect(),
                        When::Always,
                        Expect::Nothing,
                    );
                    let first = cols.first().map(|(_, s)| *s).unwrap_or(0);
                    let cp = join(&op_p, "create");
                    let create = obj(uo.get("create").unwrap_or(&Value::Null), &cp)?;
                    b.create(
                        target,
                        create,
                        &Map::new(),
                        &cp,
                        When::IfUnset(first),
                        Some(&cols),
                    )?;
                    for (fk, refcol) in &pairs {
                        set_extra.push((
                            fk.column.clone(),
                            SetExpr::Value(ph_sql(slot_of(&cols, refcol, &op_p)?)),
                        ));
                    }
                }
                _ => {
                    return Err(Error::invalid_args(
                        op_p,
                        "expected create, connect, connectOrCreate, disconnect, update, upsert or delete",
                    ));
                }
            }
        }
    }
    let mut set = write::update_set(b.cx, model, &Value::Object(scalar), "data")?;
    set.extend(set_extra);
    if !set.is_empty() {
        let mut key = Filter::True;
        for (c, s) in &parent {
            if model
                .primary_key
                .iter()
                .any(|id| model.field_by_id(*id).column == *c)
            {
                key = key.and(eq(c, *s));
            }
        }
        let stmt = b.update_stmt(model, &set, key, None);
        b.push(stmt, Vec::new(), When::Always, Expect::Nothing);
    }
    for stmt in after_update {
        let e = Expect::Nothing;
        b.push(stmt, Vec::new(), When::Always, e);
    }
    for (f, v, p) in later {
        b.related_ops(model, f, v, &p, &parent, When::Always, true)?;
    }
    Ok(parent)
}
