//! Extended row reads: the `find_*` calls that need more than a plain
//! SELECT of stored columns. [`hook`] takes over a read when it has a
//! `window` or a `recursive` spec, or when the
//! model has `@from` derived fields, and compiles it to an [`ExtRead`]
//! (written by [`crate::sql::analytics::ext_rows`]).
//!
//! - `@from` fields are correlated subqueries over the related rows
//!   (soft-deleted related rows excluded), returned after the stored
//!   fields unless `select` leaves them out. They are read-only (writes
//!   reject them in `query/write.rs`). `first`/`last` order by the related
//!   primary key; without a field they return the related row as an object.
//!   Derived fields are not filterable in `where`. They are computed on
//!   the top level of `find_many`/`find_first`/`find_unique`/
//!   `find_many_and_count` (as extended-read columns) and of rows returned
//!   by nested writes; included rows and `find_many_cursor` pages get them
//!   as `OutCol::derived` columns (`read.rs`), and single-row write results
//!   (`create`/`update`/`upsert`/`delete`) as RETURNING subqueries
//!   correlated with the written row.
//! - `orderBy` (including relation terms, parsed by `read.rs`) and
//!   relation `_count` selections keep working on extended reads.

use serde_json::{Map, Value};

use super::ast::{Filter, Link, Nulls, Order, OutCol, ReadQuery};
use super::filter::{live_filter, relation_link};
use super::read::{ReadOpts, allowed_keys, args_object, build};
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
    /// A term of the plain read (a column or a relation sort).
    Plain(Box<Order>),
    /// `alias."column"`.
    Col(String, String),
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
                expr: OrderExpr::Plain(Box::new(o.clone())),
                desc: o.desc,
                nulls: o.nulls,
            })
            .collect();
        ExtRead {
            q,
            extra: Vec::new(),
            order,
            source: Source::Table,
        }
    }
}

fn pk_column(m: &Model) -> String {
    m.single_pk()
        .map(|f| f.column.clone())
        .unwrap_or_else(|| "rowid".to_string())
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
                key: f.name.as_str().into(),
                column: "".into(),
                kind,
                count: None,
                mask: None,
                derived: None,
                decrypt: false,
            },
            Computed::Sub(sub),
        ));
    }
    Ok(out)
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
    if matches!(op, Op::Create | Op::Update) {
        return super::nested::hook(cx, model, op, args);
    }
    if !matches!(
        op,
        Op::FindMany
            | Op::FindFirst
            | Op::FindFirstOrThrow
            | Op::FindUnique
            | Op::FindUniqueOrThrow
            | Op::FindManyAndCount
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
    let derived = model.fields.iter().any(|f| f.from.is_some());
    if window.is_none() && recursive.is_none() && !derived {
        return Ok(None);
    }
    if op != Op::FindMany {
        let keys: &[&str] = if op == Op::FindManyAndCount {
            &["recursive"]
        } else {
            &["window", "recursive"]
        };
        if let Some(k) = keys
            .iter()
            .copied()
            .find(|k| o.get(*k).is_some_and(|v| !v.is_null()))
        {
            return Err(Error::invalid_args(
                k,
                format!("`{k}` is not supported by {}", op.name()),
            ));
        }
    }
    let mut plain = o.clone();
    plain.remove("window");
    plain.remove("recursive");
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
    if !matches!(op, Op::FindMany | Op::FindManyAndCount) {
        q.limit = Some(1);
    }
    let select = o.get("select");
    let mut ext = ExtRead::new(q);
    ext.extra = derived_cols(cx, model, select)?;
    if let Some(w) = window {
        for c in super::window::parse(cx.schema, model, w)? {
            // A window over a field the caller may not read would reveal it.
            super::policy::check_readable_columns(cx, model, c.columns(), "a window over")?;
            ext.extra.push((c.out.clone(), Computed::Window(c)));
        }
    }
    let shape = match op {
        Op::FindMany => Shape::Many,
        Op::FindFirst | Op::FindUnique => Shape::First,
        Op::FindUniqueOrThrow => not_found(model, "the unique where of findUniqueOrThrow"),
        _ => not_found(model, "the where of findFirstOrThrow"),
    };
    if op == Op::FindManyAndCount {
        let mut cq = ext.q.clone();
        cq.limit = None;
        cq.offset = None;
        return Ok(Some(Plan::RowsAndCount {
            rows: asql::ext_rows(&ext),
            count: crate::sql::select::count(&cq),
        }));
    }
    if let Some(r) = recursive {
        let kept = super::read::deleted_filter(model, po, "")?;
        return super::recursive::compile(cx, model, r, ext, kept);
    }
    Ok(Some(Plan::Rows {
        rows: asql::ext_rows(&ext),
        shape,
    }))
}
