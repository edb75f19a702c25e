//! `groupBy` arguments (`by`, `where`, `having`, `orderBy`, `limit`,
//! `offset`, aggregates, `interval`, `fillGaps`) → [`GroupQuery`].
//!
//! Decisions where the README is silent:
//! - Interval labels (DateTime stored as ISO-8601 UTC text): `year` →
//!   `"2024"`, `quarter` → `"2024-Q1"`, `month` → `"2024-01"`, `week` → the
//!   Monday starting the week, `"2024-01-01"`, `day` → `"2024-01-05"`,
//!   `hour` → `"2024-01-05T13:00"`. Labels sort chronologically as text.
//! - `fillGaps` (default `true` with an interval) needs `by` to hold only
//!   the interval field; with other `by` fields the default turns it off and
//!   an explicit `true` is an error. Buckets run from the `where` bounds on
//!   the interval field (`gte`/`gt`, `lte`/`lt`) when given, else from the
//!   first to the last bucket with data. Filled buckets have counts `0` and
//!   other aggregates `null`; `having` filters the buckets with data only.
//! - Without `orderBy`, groups come back sorted by their `by` keys.
//! - `having` takes aggregates (`{_count: {gt: 5}}`, `{_sum: {amount:
//!   {gte: 10}}}`, a named aggregate of the same call) and `by` fields (any
//!   where condition), all ANDed; operators: `equals`, `not`, `gt`, `gte`,
//!   `lt`, `lte`, `in`, `notIn` (a bare value means `equals`).

use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::Cx;
use super::aggregate::{AggCol, AggExpr, AggFn, column_field, parse_aggs, split_args};
use super::ast::{CmpOp, Filter, Nulls};
use super::filter::parse_where;
use super::read::{ReadOpts, build};
use crate::codec::{self, Base, Kind};
use crate::error::{Error, Result};
use crate::schema::Model;
use crate::sql::analytics::{AggOut, AggPlan};
use crate::sql::{Plan, analytics as asql};

/// A time bucket of `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bucket {
    /// Calendar year.
    Year,
    /// Calendar quarter.
    Quarter,
    /// Calendar month.
    Month,
    /// ISO week (Monday first).
    Week,
    /// Day.
    Day,
    /// Hour.
    Hour,
}

/// One `by` key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupKey {
    /// JSON key (field name).
    pub(crate) key: String,
    /// Column.
    pub(crate) column: String,
    /// Decoding kind.
    pub(crate) kind: Kind,
    /// `interval` bucketing.
    pub(crate) bucket: Option<Bucket>,
}

/// What a `having` / `orderBy` term of a group query refers to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum GroupRef {
    /// The n-th `by` key.
    Key(usize),
    /// An aggregate (`Some(j)` when it is the j-th requested aggregate).
    Agg(Box<AggExpr>, Option<usize>),
}

/// A comparison in `having`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HavingCmp {
    /// `agg op ?`.
    Cmp(CmpOp, SqlValue),
    /// `agg [NOT] IN (…)`.
    In(Vec<SqlValue>, bool),
    /// `agg IS [NOT] NULL`.
    Null(bool),
}

/// One `having` term.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Having {
    /// On an aggregate.
    Agg(AggExpr, HavingCmp),
    /// On `by` fields (a where-tree over `t0`).
    Keys(Filter),
}

/// One ORDER BY term of a group query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupOrder {
    /// Target.
    pub(crate) target: GroupRef,
    /// DESC.
    pub(crate) desc: bool,
    /// Null placement.
    pub(crate) nulls: Option<Nulls>,
}

/// Gap filling of an interval group query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fill {
    /// Lower bound (a DateTime text), else the first bucket with data.
    pub(crate) lo: Option<SqlValue>,
    /// Upper bound, else the last bucket with data.
    pub(crate) hi: Option<SqlValue>,
}

/// A compiled `groupBy`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupQuery {
    /// Table.
    pub(crate) table: String,
    /// Where-tree (soft delete included).
    pub(crate) filter: Filter,
    /// Keys.
    pub(crate) keys: Vec<GroupKey>,
    /// Aggregates.
    pub(crate) aggs: Vec<AggCol>,
    /// HAVING terms (ANDed).
    pub(crate) having: Vec<Having>,
    /// ORDER BY.
    pub(crate) order: Vec<GroupOrder>,
    /// LIMIT.
    pub(crate) limit: Option<i64>,
    /// OFFSET.
    pub(crate) offset: Option<i64>,
    /// Gap filling (single interval key only).
    pub(crate) fill: Option<Fill>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn bucket_of(v: &Value, path: &str) -> Result<Bucket> {
    Ok(match v.as_str() {
        Some("year") => Bucket::Year,
        Some("quarter") => Bucket::Quarter,
        Some("month") => Bucket::Month,
        Some("week") => Bucket::Week,
        Some("day") => Bucket::Day,
        Some("hour") => Bucket::Hour,
        _ => {
            return Err(Error::invalid_args(
                path,
                "expected year, quarter, month, week, day or hour",
            ));
        }
    })
}

fn count_arg(o: &Map<String, Value>, key: &str) -> Result<Option<i64>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => Ok(Some(n)),
            _ => Err(Error::invalid_args(key, "expected a non-negative integer")),
        },
    }
}

fn find_agg(aggs: &[AggCol], e: &AggExpr) -> Option<usize> {
    aggs.iter().position(|a| &a.expr == e)
}

/// Resolves an aggregate reference of `having` / `orderBy` (`_count`,
/// `_sum: {field}` …, a named aggregate) and returns it with the rest of
/// the value (the condition or direction).
fn agg_ref<'v>(
    model: &Model,
    aggs: &[AggCol],
    key: &str,
    v: &'v Value,
    path: &str,
) -> Result<Vec<(AggExpr, &'v Value, String)>> {
    let mut out = Vec::new();
    match key {
        "_count" => match v {
            Value::Object(m) if m.keys().all(|k| model.field(k).is_some() || k == "_all") => {
                for (n, x) in m {
                    let p = join(path, n);
                    let e = if n == "_all" {
                        AggExpr {
                            func: AggFn::CountAll,
                            column: None,
                            separator: None,
                            order: Vec::new(),
                            filter: None,
                        }
                    } else {
                        AggExpr {
                            func: AggFn::Count,
                            column: Some(column_field(model, n, &p)?.column.clone()),
                            separator: None,
                            order: Vec::new(),
                            filter: None,
                        }
                    };
                    out.push((e, x, p));
                }
            }
            _ => out.push((
                AggExpr {
                    func: AggFn::CountAll,
                    column: None,
                    separator: None,
                    order: Vec::new(),
                    filter: None,
                },
                v,
                path.to_string(),
            )),
        },
        "_sum" | "_avg" | "_min" | "_max" => {
            let func = match key {
                "_sum" => AggFn::Sum,
                "_avg" => AggFn::Avg,
                "_min" => AggFn::Min,
                _ => AggFn::Max,
            };
            let Value::Object(m) = v else {
                return Err(Error::invalid_args(path, "expected {field: …}"));
            };
            for (n, x) in m {
                let p = join(path, n);
                let f = column_field(model, n, &p)?;
                out.push((
                    AggExpr {
                        func,
                        column: Some(f.column.clone()),
                        separator: None,
                        order: Vec::new(),
                        filter: None,
                    },
                    x,
                    p,
                ));
            }
        }
        named => {
            let Some(a) = aggs.iter().find(|a| a.group.is_none() && a.key == named) else {
                return Err(Error::invalid_args(
                    path,
                    format!("`{named}` is not an aggregate of this call"),
                ));
            };
            out.push((a.expr.clone(), v, path.to_string()));
        }
    }
    Ok(out)
}

fn having_cmp(v: &Value, path: &str) -> Result<Vec<HavingCmp>> {
    let scalar = |x: &Value, p: &str| -> Result<SqlValue> {
        match x {
            Value::Number(_) | Value::String(_) | Value::Bool(_) => Ok(codec::json_to_sql(x)),
            _ => Err(Error::invalid_args(p, "expected a number or string")),
        }
    };
    let Value::Object(ops) = v else {
        return Ok(vec![match v {
            Value::Null => HavingCmp::Null(true),
            _ => HavingCmp::Cmp(CmpOp::Eq, scalar(v, path)?),
        }]);
    };
    let mut out = Vec::new();
    for (op, x) in ops {
        let p = join(path, op);
        let cmp = match op.as_str() {
            "equals" | "not" if x.is_null() => HavingCmp::Null(op == "equals"),
            "equals" => HavingCmp::Cmp(CmpOp::Eq, scalar(x, &p)?),
            "not" => HavingCmp::Cmp(CmpOp::Ne, scalar(x, &p)?),
            "gt" => HavingCmp::Cmp(CmpOp::Gt, scalar(x, &p)?),
            "gte" => HavingCmp::Cmp(CmpOp::Gte, scalar(x, &p)?),
            "lt" => HavingCmp::Cmp(CmpOp::Lt, scalar(x, &p)?),
            "lte" => HavingCmp::Cmp(CmpOp::Lte, scalar(x, &p)?),
            "in" | "notIn" => {
                let Value::Array(items) = x else {
                    return Err(Error::invalid_args(p, "expected an array"));
                };
                let mut vals = Vec::new();
                for (i, it) in items.iter().enumerate() {
                    vals.push(scalar(it, &format!("{p}[{i}]"))?);
                }
                HavingCmp::In(vals, op == "notIn")
            }
            _ => {
                return Err(Error::invalid_args(
                    p,
                    "unknown operator (expected equals, not, gt, gte, lt, lte, in, notIn)",
                ));
            }
        };
        out.push(cmp);
    }
    Ok(out)
}

fn parse_having(
    cx: &Cx<'_>,
    model: &Model,
    keys: &[GroupKey],
    aggs: &[AggCol],
    v: Option<&Value>,
) -> Result<Vec<Having>> {
    let mut out = Vec::new();
    let o = match v {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(Error::invalid_args("having", "expected an object")),
    };
    let mut key_where = Map::new();
    for (k, x) in o {
        let p = join("having", k);
        if k.starts_with('_') {
            for (e, cond, cp) in agg_ref(model, aggs, k, x, &p)? {
                for c in having_cmp(cond, &cp)? {
                    out.push(Having::Agg(e.clone(), c));
                }
            }
        } else if keys.iter().any(|g| &g.key == k && g.bucket.is_none()) {
            key_where.insert(k.clone(), x.clone());
        } else {
            return Err(Error::invalid_args(
                p,
                format!("`{k}` is neither an aggregate nor a (non-interval) `by` field"),
            ));
        }
    }
    if !key_where.is_empty() {
        out.push(Having::Keys(parse_where(
            cx,
            model,
            &Value::Object(key_where),
            "having",
        )?));
    }
    Ok(out)
}

fn dir_of(v: &Value, path: &str) -> Result<(bool, Option<Nulls>)> {
    let dir = |x: &Value, p: &str| match x.as_str() {
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
                    "dir" | "sort" => desc = dir(x, &p)?,
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
        _ => Ok((dir(v, path)?, None)),
    }
}

fn parse_order(
    model: &Model,
    keys: &[GroupKey],
    aggs: &[AggCol],
    v: Option<&Value>,
) -> Result<Vec<GroupOrder>> {
    let mut out = Vec::new();
    let items: Vec<(String, &Value)> = match v {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, x)| (format!("orderBy[{i}]"), x))
            .collect(),
        Some(x) => vec![("orderBy".to_string(), x)],
    };
    for (path, item) in items {
        let Value::Object(o) = item else {
            return Err(Error::invalid_args(
                path,
                "expected {key: \"asc\"|\"desc\"}",
            ));
        };
        for (k, x) in o {
            let p = join(&path, k);
            if k.starts_with('_') {
                for (e, d, dp) in agg_ref(model, aggs, k, x, &p)? {
                    let (desc, nulls) = dir_of(d, &dp)?;
                    let j = find_agg(aggs, &e);
                    out.push(GroupOrder {
                        target: GroupRef::Agg(Box::new(e), j),
                        desc,
                        nulls,
                    });
                }
            } else if let Some(i) = keys.iter().position(|g| &g.key == k) {
                let (desc, nulls) = dir_of(x, &p)?;
                out.push(GroupOrder {
                    target: GroupRef::Key(i),
                    desc,
                    nulls,
                });
            } else {
                return Err(Error::invalid_args(
                    p,
                    format!("`{k}` is neither an aggregate nor a `by` field"),
                ));
            }
        }
    }
    Ok(out)
}

/// The lower/upper bounds the `where` puts on the interval field.
fn where_bounds(o: &Map<String, Value>, field: &str) -> (Option<SqlValue>, Option<SqlValue>) {
    let Some(Value::Object(c)) = o.get("where").and_then(|w| w.get(field)) else {
        return (None, None);
    };
    let pick = |keys: [&str; 2]| {
        keys.iter()
            .find_map(|k| c.get(*k).and_then(Value::as_str))
            .map(|s| SqlValue::Text(s.to_string()))
    };
    (pick(["gte", "gt"]), pick(["lte", "lt"]))
}

/// Compiles `groupBy`.
///
/// # Errors
/// Argument errors with their JSON path (`by[1]`, `having._sum.amount`,
/// `interval.createdAt`).
pub(crate) fn compile(cx: &Cx<'_>, model: &Model, args: &Value) -> Result<Plan> {
    let (plain, agg_args) = split_args(
        args,
        &[
            "by",
            "where",
            "having",
            "orderBy",
            "limit",
            "offset",
            "interval",
            "fillGaps",
            "withDeleted",
            "onlyDeleted",
        ],
    )?;
    let mut read_args = Map::new();
    for k in ["where", "withDeleted", "onlyDeleted"] {
        if let Some(v) = plain.get(k) {
            read_args.insert(k.to_string(), v.clone());
        }
    }
    let q = build(cx, model, Some(&read_args), ReadOpts::default(), "")?;
    let by: Vec<(String, &Value)> = match plain.get("by") {
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .enumerate()
            .map(|(i, x)| (format!("by[{i}]"), x))
            .collect(),
        Some(v @ Value::String(_)) => vec![("by".to_string(), v)],
        _ => {
            return Err(Error::invalid_args(
                "by",
                "expected a non-empty array of field names",
            ));
        }
    };
    let mut keys: Vec<GroupKey> = Vec::new();
    for (p, v) in by {
        let Some(name) = v.as_str() else {
            return Err(Error::invalid_args(p, "expected a field name"));
        };
        let f = column_field(model, name, &p)?;
        keys.push(GroupKey {
            key: f.name.clone(),
            column: f.column.clone(),
            kind: Kind::of(f),
            bucket: None,
        });
    }
    match plain.get("interval") {
        None | Some(Value::Null) => {}
        Some(Value::Object(iv)) => {
            for (k, u) in iv {
                let p = join("interval", k);
                let b = bucket_of(u, &p)?;
                let f = column_field(model, k, &p)?;
                if !matches!(Kind::of(f).base, Base::DateTime | Base::Text) {
                    return Err(Error::invalid_args(p, "interval needs a DateTime field"));
                }
                let Some(g) = keys.iter_mut().find(|g| g.key == f.name) else {
                    return Err(Error::invalid_args(
                        p,
                        format!("`{k}` must also be listed in `by`"),
                    ));
                };
                g.bucket = Some(b);
                g.kind = Kind {
                    base: Base::Text,
                    list: false,
                };
            }
        }
        Some(_) => {
            return Err(Error::invalid_args(
                "interval",
                "expected {field: \"month\"|…}",
            ));
        }
    }
    let aggs = parse_aggs(model, &agg_args, "")?;
    super::aggregate::check_agg_columns(cx, model, &aggs)?;
    super::policy::check_readable_columns(
        cx,
        model,
        keys.iter().map(|k| k.column.as_str()),
        "grouping by",
    )?;
    let having = parse_having(cx, model, &keys, &aggs, plain.get("having"))?;
    let order = parse_order(model, &keys, &aggs, plain.get("orderBy"))?;
    let interval_key = keys.iter().find(|k| k.bucket.is_some());
    let fill_arg = match plain.get("fillGaps") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(Error::invalid_args("fillGaps", "expected true or false")),
    };
    let fill = match (interval_key, fill_arg) {
        (None, Some(true)) => {
            return Err(Error::invalid_args(
                "fillGaps",
                "fillGaps needs an interval",
            ));
        }
        (Some(k), f) if f != Some(false) => {
            if keys.len() > 1 {
                if f == Some(true) {
                    return Err(Error::invalid_args(
                        "fillGaps",
                        "fillGaps needs `by` to hold only the interval field",
                    ));
                }
                None
            } else {
                let (lo, hi) = where_bounds(&read_args, &k.key);
                Some(Fill { lo, hi })
            }
        }
        _ => None,
    };
    if fill.is_some() {
        for (i, o) in order.iter().enumerate() {
            if let GroupRef::Agg(_, None) = o.target {
                return Err(Error::invalid_args(
                    format!("orderBy[{i}]"),
                    "with fillGaps, order only by `by` fields or aggregates the call returns",
                ));
            }
        }
    }
    let gq = GroupQuery {
        table: q.table.clone(),
        filter: q.filter,
        keys,
        aggs,
        having,
        order,
        limit: count_arg(&plain, "limit")?,
        offset: count_arg(&plain, "offset")?,
        fill,
    };
    let stmt = asql::group_by(&gq);
    let mut cols: Vec<AggOut> = gq
        .keys
        .iter()
        .map(|k| AggOut {
            group: None,
            key: k.key.clone(),
            kind: k.kind,
        })
        .collect();
    cols.extend(gq.aggs.iter().map(AggCol::out));
    Ok(Plan::Agg(AggPlan {
        stmt,
        cols,
        many: true,
    }))
}
