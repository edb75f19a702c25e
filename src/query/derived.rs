//! Extended row reads: the `find_*` calls that need more than a plain
//! SELECT of stored columns. [`hook`] takes over a read when it has a
//! `window`, a `recursive` spec, a relation `orderBy` term, or when the
//! model has `@from` derived fields, and compiles it to an [`ExtRead`]
//! (written by [`crate::sql::analytics::ext_rows`]).
//!
//! - `@from` fields are correlated subqueries over the related rows
//!   (soft-deleted related rows excluded), returned after the stored
//!   fields unless `select` leaves them out. They are read-only (writes
//!   reject them in `query/write.rs`). `first`/`last` order by the related
//!   primary key; without a field they return the related row as an object.
//!   Derived fields are not filterable in `where`, and they are computed on
//!   the top level of `find_many`/`find_first`/`find_unique` (not inside
//!   `include`, `find_many_cursor` or `find_many_and_count`).
//! - Relation `orderBy` (README "Sorting"): `{author: {name: "asc"}}` on
//!   belongs-to relations (any number of hops, LEFT JOINs, rows without a
//!   related row sort as NULL), and `{books: {_count: "desc"}}` /
//!   `{books: {_sum: {price: "desc"}}}` (`_sum`/`_avg`/`_min`/`_max` on
//!   has-many; `_count` also on many-to-many) as correlated subqueries.

use serde_json::{Map, Value};

use super::ast::{Filter, Link, Nulls, Order, OutCol, ReadQuery};
use super::filter::{live_filter, relation_link};
use super::read::{ReadOpts, allowed_keys, args_object, build, parse_order};
use super::window::WindowCol;
use super::{Cx, Op, not_found, write};
use crate::codec::{Base, Kind};
use crate::error::{Error, Result};
use crate::schema::{DerivedAgg, Field, Model, RelationKind};
use crate::sql::{Plan, Shape, analytics as asql};

/// The aggregate of a correlated subquery over related rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubFn {
    /// `COUNT(*)`.
    Count,
    /// `SUM(col)`.
    Sum,
    /// `AVG(col)`.
    Avg,
    /// `MIN(col)`.
    Min,
    /// `MAX(col)`.
    Max,
    /// The first related value / row by primary key.
    First,
    /// The last related value / row by primary key.
    Last,
    /// `EXISTS`.
    Exists,
}

/// A correlated subquery over the rows related to `t0`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SubAgg {
    /// Related table.
    pub(crate) table: String,
    /// How it links to `t0`.
    pub(crate) link: Link,
    /// Aggregate.
    pub(crate) func: SubFn,
    /// Argument column (`None`: `COUNT(*)`, or the whole row for first/last).
    pub(crate) column: Option<String>,
    /// The related row as `(key, column)` pairs (first/last without a field).
    pub(crate) row: Vec<(String, String)>,
    /// Primary-key column of the related table (first/last order).
    pub(crate) pk: String,
    /// Soft-delete filter of the related table.
    pub(crate) live: Filter,
    /// The schema's `where:` SQL (trusted: written by the schema author).
    pub(crate) schema_filter: Option<String>,
}

/// An extra SELECT expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Computed {
    /// A window function.
    Window(WindowCol),
    /// A derived field or relation aggregate.
    Sub(SubAgg),
    /// FTS5 `highlight()` / `snippet()` per field as a JSON object.
    Fts(super::search::FtsCol),
}

/// An ORDER BY expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OrderExpr {
    /// `alias."column"`.
    Col(String, String),
    /// A correlated subquery.
    Sub(Box<SubAgg>),
    /// FTS5 rank (bm25).
    Rank,
    /// The depth of a row in a recursive walk.
    Depth,
}

/// One ORDER BY term.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExtOrder {
    /// Expression.
    pub(crate) expr: OrderExpr,
    /// DESC.
    pub(crate) desc: bool,
    /// Null placement.
    pub(crate) nulls: Option<Nulls>,
}

/// A LEFT JOIN of a belongs-to relation (relation orderBy).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Join {
    /// Alias of the joined table.
    pub(crate) alias: String,
    /// Table.
    pub(crate) table: String,
    /// Alias joined from.
    pub(crate) from: String,
    /// (joined column, from column) pairs.
    pub(crate) pairs: Vec<(String, String)>,
}

/// Where the rows come from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Source {
    /// The model's table.
    Table,
    /// Rows matching an FTS5 query.
    Fts(super::search::FtsSource),
    /// Rows of a recursive walk.
    Tree(super::recursive::TreeSource),
}

/// A row read with computed columns and extended ordering.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExtRead {
    /// The plain query (columns, hidden keys, filter, paging, includes).
    pub(crate) q: ReadQuery,
    /// Computed columns, after `q.cols`.
    pub(crate) extra: Vec<(OutCol, Computed)>,
    /// LEFT JOINs.
    pub(crate) joins: Vec<Join>,
    /// ORDER BY (replaces `q.order`).
    pub(crate) order: Vec<ExtOrder>,
    /// Row source.
    pub(crate) source: Source,
}

impl ExtRead {
    /// A plain extended read of `q`.
    pub(crate) fn new(q: ReadQuery) -> ExtRead {
        let order = q
            .order
            .iter()
            .map(|o| ExtOrder {
                expr: OrderExpr::Col("t0".into(), o.column.clone()),
                desc: o.desc,
                nulls: o.nulls,
            })
            .collect();
        ExtRead {
            q,
            extra: Vec::new(),
            joins: Vec::new(),
            order,
            source: Source::Table,
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn pk_column(m: &Model) -> String {
    m.single_pk()
        .map(|f| f.column.clone())
        .unwrap_or_else(|| "rowid".to_string())
}

/// The subquery of a related-rows aggregate over relation `f` of `model`.
fn sub_over(cx: &Cx<'_>, model: &Model, f: &Field, func: SubFn) -> Result<SubAgg> {
    let (link, _) = relation_link(cx.schema, model, f)?;
    let target = f
        .relation()
        .map(|r| cx.schema.model_by_id(r.target))
        .ok_or_else(|| Error::invalid_args(&f.name, "not a relation"))?;
    Ok(SubAgg {
        table: target.table.clone(),
        link,
        func,
        column: None,
        row: Vec::new(),
        pk: pk_column(target),
        live: live_filter(target),
        schema_filter: None,
    })
}

/// The subquery of a `@from` field.
fn derived_sub(cx: &Cx<'_>, model: &Model, f: &Field) -> Result<Option<SubAgg>> {
    let Some(d) = &f.from else { return Ok(None) };
    let target = cx.schema.model_by_id(d.target);
    let link = match d.inverse {
        Some(inv) => {
            let inv = target.field_by_id(inv);
            let Some(RelationKind::BelongsTo {
                fields, references, ..
            }) = inv.relation().map(|r| &r.kind)
            else {
                return Ok(None);
            };
            Link::Direct {
                pairs: fields
                    .iter()
                    .zip(references)
                    .map(|(a, b)| {
                        (
                            target.field_by_id(*a).column.clone(),
                            model.field_by_id(*b).column.clone(),
                        )
                    })
                    .collect(),
            }
        }
        None => relation_link(cx.schema, model, model.field_by_id(d.relation))?.0,
    };
    let col = |id| Some(target.field_by_id(id).column.clone());
    let (func, column) = match &d.agg {
        DerivedAgg::Count => (SubFn::Count, None),
        DerivedAgg::Sum(c) => (SubFn::Sum, col(*c)),
        DerivedAgg::Max(c) => (SubFn::Max, col(*c)),
        DerivedAgg::Min(c) => (SubFn::Min, col(*c)),
        DerivedAgg::First(c) => (SubFn::First, c.and_then(col)),
        DerivedAgg::Last(c) => (SubFn::Last, c.and_then(col)),
        DerivedAgg::Exists => (SubFn::Exists, None),
    };
    let row = target
        .fields
        .iter()
        .filter(|t| t.is_column())
        .map(|t| (t.name.clone(), t.column.clone()))
        .collect();
    Ok(Some(SubAgg {
        table: target.table.clone(),
        link,
        func,
        column,
        row,
        pk: pk_column(target),
        live: live_filter(target),
        schema_filter: d.filter.clone(),
    }))
}

/// The `@from` columns a read returns (honouring `select`).
pub(crate) fn derived_cols(
    cx: &Cx<'_>,
    model: &Model,
    select: Option<&Value>,
) -> Result<Vec<(OutCol, Computed)>> {
    let sel = match select {
        Some(Value::Object(s)) => Some(s),
        _ => None,
    };
    let any_on = sel.is_some_and(|s| {
        s.iter().any(|(k, v)| {
            v == &Value::Bool(true) && model.field(k).is_some_and(|f| f.relation().is_none())
        })
    });
    let mut out = Vec::new();
    for f in model.fields.iter().filter(|f| f.from.is_some()) {
        let chosen = sel.and_then(|s| s.get(&f.name));
        let on = if any_on {
            chosen == Some(&Value::Bool(true))
        } else {
            chosen != Some(&Value::Bool(false))
        };
        if !on {
            continue;
        }
        let Some(sub) = derived_sub(cx, model, f)? else {
            continue;
        };
        let kind = match (&sub.func, &sub.column) {
            (SubFn::First | SubFn::Last, None) => Kind {
                base: Base::Json,
                list: false,
            },
            (SubFn::Exists, _) => Kind {
                base: Base::Boolean,
                list: false,
            },
            _ => Kind::of(f),
        };
        out.push((
            OutCol {
                key: f.name.clone(),
                column: String::new(),
                kind,
            },
            Computed::Sub(sub),
        ));
    }
    Ok(out)
}

fn dir(v: &Value, path: &str) -> Result<(bool, Option<Nulls>)> {
    let d = |x: &Value, p: &str| match x.as_str() {
        Some("asc") | Some("ASC") => Ok(false),
        Some("desc") | Some("DESC") => Ok(true),
        _ => Err(Error::invalid_args(p, "expected \"asc\" or \"desc\"")),
    };
    match v {
        Value::Object(o) => {
            let mut desc = false;
            let mut nulls = None;
            for (k, x) in o {
                let p = join(path, k);
                match k.as_str() {
                    "dir" | "sort" => desc = d(x, &p)?,
                    "nulls" => {
                        nulls = Some(match x.as_str() {
                            Some("first") => Nulls::First,
                            Some("last") => Nulls::Last,
                            _ => return Err(Error::invalid_args(p, "expected first or last")),
                        })
                    }
                    _ => return Err(Error::invalid_args(p, "expected `dir` or `nulls`")),
                }
            }
            Ok((desc, nulls))
        }
        _ => Ok((d(v, path)?, None)),
    }
}

/// Whether an `orderBy` value needs the extended ordering (a relation term).
pub(crate) fn has_relation_order(model: &Model, v: Option<&Value>) -> bool {
    let term = |t: &Value| {
        t.as_object().is_some_and(|o| {
            o.keys()
                .any(|k| model.field(k).is_some_and(|f| f.relation().is_some()))
        })
    };
    match v {
        Some(Value::Array(a)) => a.iter().any(term),
        Some(t) => term(t),
        None => false,
    }
}

struct OrderCx<'a, 'c> {
    cx: &'a Cx<'c>,
    joins: Vec<Join>,
    paths: Vec<(String, String)>,
}

impl OrderCx<'_, '_> {
    fn join_alias(
        &mut self,
        key: &str,
        from: &str,
        table: &str,
        pairs: Vec<(String, String)>,
    ) -> String {
        if let Some((_, a)) = self.paths.iter().find(|(k, _)| k == key) {
            return a.clone();
        }
        let alias = format!("r{}", self.joins.len() + 1);
        self.joins.push(Join {
            alias: alias.clone(),
            table: table.to_string(),
            from: from.to_string(),
            pairs,
        });
        self.paths.push((key.to_string(), alias.clone()));
        alias
    }

    /// One orderBy object over `model` at table alias `alias`.
    fn term(
        &mut self,
        model: &Model,
        alias: &str,
        chain: &str,
        v: &Value,
        path: &str,
        out: &mut Vec<ExtOrder>,
    ) -> Result<()> {
        let Value::Object(o) = v else {
            return Err(Error::invalid_args(
                path,
                "expected {field: \"asc\"|\"desc\"}",
            ));
        };
        for (key, d) in o {
            let p = join(path, key);
            let Some(f) = model.field(key) else {
                return Err(Error::UnknownField {
                    model: model.name.clone(),
                    field: key.clone(),
                    path: p,
                });
            };
            let Some(rel) = f.relation() else {
                let one = Value::Object(Map::from_iter([(key.clone(), d.clone())]));
                let parsed: Vec<Order> = parse_order(model, Some(&one), path)?;
                for o in parsed {
                    out.push(ExtOrder {
                        expr: OrderExpr::Col(alias.to_string(), o.column),
                        desc: o.desc,
                        nulls: o.nulls,
                    });
                }
                continue;
            };
            let target = self.cx.schema.model_by_id(rel.target);
            match &rel.kind {
                RelationKind::BelongsTo { .. } => {
                    let (Link::Direct { pairs }, _) = relation_link(self.cx.schema, model, f)?
                    else {
                        return Err(Error::invalid_args(p, "unsupported relation link"));
                    };
                    let ck = join(chain, key);
                    let a = self.join_alias(&ck, alias, &target.table, pairs);
                    self.term(target, &a, &ck, d, &p, out)?;
                }
                RelationKind::HasMany { .. } | RelationKind::ManyToMany(_) => {
                    let m2m = matches!(rel.kind, RelationKind::ManyToMany(_));
                    let Value::Object(spec) = d else {
                        return Err(Error::invalid_args(
                            p,
                            "expected {_count: dir} or {_sum|_avg|_min|_max: {field: dir}}",
                        ));
                    };
                    if alias != "t0" {
                        return Err(Error::invalid_args(
                            p,
                            "relation aggregates sort only on the queried model's own relations",
                        ));
                    }
                    for (ak, av) in spec {
                        let ap = join(&p, ak);
                        let func = match ak.as_str() {
                            "_count" => SubFn::Count,
                            "_sum" => SubFn::Sum,
                            "_avg" => SubFn::Avg,
                            "_min" => SubFn::Min,
                            "_max" => SubFn::Max,
                            _ => {
                                return Err(Error::invalid_args(
                                    ap,
                                    "expected _count, _sum, _avg, _min or _max",
                                ));
                            }
                        };
                        if func == SubFn::Count {
                            let (desc, nulls) = dir(av, &ap)?;
                            out.push(ExtOrder {
                                expr: OrderExpr::Sub(Box::new(sub_over(self.cx, model, f, func)?)),
                                desc,
                                nulls,
                            });
                            continue;
                        }
                        if m2m {
                            return Err(Error::invalid_args(
                                ap,
                                "many-to-many relations sort by _count only",
                            ));
                        }
                        let Value::Object(fields) = av else {
                            return Err(Error::invalid_args(ap, "expected {field: dir}"));
                        };
                        for (fname, fd) in fields {
                            let fp = join(&ap, fname);
                            let tf = super::aggregate::column_field(target, fname, &fp)?;
                            let (desc, nulls) = dir(fd, &fp)?;
                            let mut sub = sub_over(self.cx, model, f, func)?;
                            sub.column = Some(tf.column.clone());
                            out.push(ExtOrder {
                                expr: OrderExpr::Sub(Box::new(sub)),
                                desc,
                                nulls,
                            });
                        }
                    }
                }
                RelationKind::HasOne { .. } => {
                    return Err(Error::invalid_args(
                        p,
                        "orderBy on a relation field needs a belongs-to relation",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Parses an `orderBy` with relation terms into ORDER BY terms and joins.
///
/// # Errors
/// `InvalidArgs` / `UnknownField` naming the path (`orderBy.author.name`).
pub(crate) fn parse_ext_order(
    cx: &Cx<'_>,
    model: &Model,
    v: Option<&Value>,
) -> Result<(Vec<ExtOrder>, Vec<Join>)> {
    let mut ocx = OrderCx {
        cx,
        joins: Vec::new(),
        paths: Vec::new(),
    };
    let mut out = Vec::new();
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for (i, t) in a.iter().enumerate() {
                ocx.term(model, "t0", "", t, &format!("orderBy[{i}]"), &mut out)?;
            }
        }
        Some(t) => ocx.term(model, "t0", "", t, "orderBy", &mut out)?,
    }
    Ok((out, ocx.joins))
}

fn find_opts(op: Op) -> ReadOpts {
    match op {
        Op::FindUnique | Op::FindUniqueOrThrow => ReadOpts {
            list: false,
            projection: true,
            ..ReadOpts::default()
        },
        _ => ReadOpts {
            list: true,
            paging: true,
            ordering: true,
            projection: true,
            distinct: true,
            cursor: false,
        },
    }
}

/// Takes over a `find_*` read that needs an [`ExtRead`]; `None` leaves it
/// to the plain read path.
///
/// # Errors
/// Argument errors with their JSON path.
pub(crate) fn hook(cx: &Cx<'_>, model: &Model, op: Op, args: &Value) -> Result<Option<Plan>> {
    if !matches!(
        op,
        Op::FindMany
            | Op::FindFirst
            | Op::FindFirstOrThrow
            | Op::FindUnique
            | Op::FindUniqueOrThrow
    ) {
        return Ok(None);
    }
    let empty = Map::new();
    let o = match args {
        Value::Object(o) => o,
        _ => &empty,
    };
    let window = o.get("window").filter(|v| !v.is_null());
    let recursive = o
        .get("recursive")
        .filter(|v| !v.is_null() && **v != Value::Bool(false));
    let rel_order = has_relation_order(model, o.get("orderBy"));
    let derived = model.fields.iter().any(|f| f.from.is_some());
    if window.is_none() && recursive.is_none() && !rel_order && !derived {
        return Ok(None);
    }
    if op != Op::FindMany {
        if let Some(k) = ["window", "recursive"]
            .into_iter()
            .find(|k| o.get(*k).is_some_and(|v| !v.is_null()))
        {
            return Err(Error::invalid_args(
                k,
                format!("`{k}` is supported by findMany only"),
            ));
        }
    }
    let mut plain = o.clone();
    plain.remove("window");
    plain.remove("recursive");
    if rel_order {
        plain.remove("orderBy");
    }
    let opts = find_opts(op);
    let plain_v = Value::Object(plain);
    let po = args_object(&plain_v, &allowed_keys(opts), "")?;
    if matches!(op, Op::FindUnique | Op::FindUniqueOrThrow) {
        let ok = matches!(po.and_then(|p| p.get("where")), Some(Value::Object(w)) if write::unique_target(model, w).is_some());
        if !ok {
            return Err(Error::invalid_args(
                "where",
                format!(
                    "findUnique needs equality on a unique field of {} ({})",
                    model.name,
                    write::unique_names(model)
                ),
            ));
        }
    }
    let mut q: ReadQuery = build(cx, model, po, opts, "")?;
    if op != Op::FindMany {
        q.limit = Some(1);
    }
    let select = o.get("select");
    let mut ext = ExtRead::new(q);
    if rel_order {
        let (order, joins) = parse_ext_order(cx, model, o.get("orderBy"))?;
        ext.order = order;
        ext.joins = joins;
    }
    ext.extra = derived_cols(cx, model, select)?;
    if let Some(w) = window {
        for c in super::window::parse(model, w)? {
            ext.extra.push((c.out.clone(), Computed::Window(c)));
        }
    }
    let shape = match op {
        Op::FindMany => Shape::Many,
        Op::FindFirst | Op::FindUnique => Shape::First,
        Op::FindUniqueOrThrow => not_found(model, "the unique where of findUniqueOrThrow"),
        _ => not_found(model, "the where of findFirstOrThrow"),
    };
    if let Some(r) = recursive {
        let kept = super::read::deleted_filter(model, po, "")?;
        return super::recursive::compile(cx, model, r, ext, kept);
    }
    Ok(Some(Plan::Rows {
        rows: asql::ext_rows(&ext),
        shape,
    }))
}
