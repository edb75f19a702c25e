//! `aggregate` arguments (`_count`, `_sum`, `_avg`, `_min`, `_max`,
//! `_stringAgg` and named aggregates such as `_countPaid: {count: true,
//! filter: sql…}`) → typed [`AggCol`]s, shared by `groupBy` (in
//! [`super::group_by`]).
//!
//! Output shape (README "aggregate() and groupBy()"): `_count: true` and
//! `_count: {distinct: field}` give a number at `_count`; `_count: {field:
//! true}` gives `_count: {field: n}` (non-null values); `_sum`/`_avg`/`_min`/
//! `_max: {field: true}` give `{field: value}` (null over an empty set);
//! `_stringAgg: {field, separator, orderBy}` gives `_stringAgg: {field:
//! text}`; a named aggregate gives its value at its own key.

use serde_json::{Map, Value};

use super::Cx;
use super::ast::Filter;
use super::filter::parse_raw;
use super::read::{ReadOpts, build};
use crate::codec::{Base, Kind};
use crate::error::{Error, Result};
use crate::schema::{Field, Model};
use crate::sql::analytics::{AggOut, AggPlan};
use crate::sql::{Plan, analytics as asql};

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggFn {
    /// `COUNT(*)`.
    CountAll,
    /// `COUNT(col)`.
    Count,
    /// `COUNT(DISTINCT col)`.
    CountDistinct,
    /// `SUM(col)`.
    Sum,
    /// `AVG(col)`.
    Avg,
    /// `MIN(col)`.
    Min,
    /// `MAX(col)`.
    Max,
    /// `group_concat(col, sep ORDER BY …)`.
    StringAgg,
}

/// One aggregate expression over alias `t0`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AggExpr {
    /// Function.
    pub(crate) func: AggFn,
    /// Argument column (none for `COUNT(*)`).
    pub(crate) column: Option<String>,
    /// `_stringAgg` separator (bound).
    pub(crate) separator: Option<String>,
    /// `_stringAgg` ORDER BY (column, desc).
    pub(crate) order: Vec<(String, bool)>,
    /// `FILTER (WHERE …)` (a raw fragment).
    pub(crate) filter: Option<Filter>,
}

impl AggExpr {
    fn new(func: AggFn, column: Option<String>) -> AggExpr {
        AggExpr {
            func,
            column,
            separator: None,
            order: Vec::new(),
            filter: None,
        }
    }

    /// Whether the aggregate is a count (0, never null, over an empty set).
    pub(crate) fn is_count(&self) -> bool {
        matches!(
            self.func,
            AggFn::CountAll | AggFn::Count | AggFn::CountDistinct
        )
    }
}

/// One requested aggregate and where its value goes in the result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AggCol {
    /// Enclosing object key (`_sum`), or none for a top-level key.
    pub(crate) group: Option<String>,
    /// Key.
    pub(crate) key: String,
    /// Decoding kind.
    pub(crate) kind: Kind,
    /// Expression.
    pub(crate) expr: AggExpr,
}

impl AggCol {
    /// The output descriptor.
    pub(crate) fn out(&self) -> AggOut {
        AggOut {
            group: self.group.clone(),
            key: self.key.clone(),
            kind: self.kind,
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

/// Looks up a stored column field by name.
pub(crate) fn column_field<'m>(model: &'m Model, name: &str, path: &str) -> Result<&'m Field> {
    match model.field(name) {
        Some(f) if f.is_column() => Ok(f),
        Some(_) => Err(Error::invalid_args(
            path,
            format!("`{}.{name}` is not a stored column", model.name),
        )),
        None => Err(Error::UnknownField {
            model: model.name.clone(),
            field: name.to_string(),
            path: path.to_string(),
        }),
    }
}

fn numeric(model: &Model, f: &Field, path: &str) -> Result<()> {
    if Kind::of(f).is_numeric() {
        Ok(())
    } else {
        Err(Error::invalid_args(
            path,
            format!("`{}.{}` is not a numeric field", model.name, f.name),
        ))
    }
}

fn kind_for(func: AggFn, f: Option<&Field>) -> Kind {
    match (func, f) {
        (AggFn::Min | AggFn::Max, Some(f)) => Kind::of(f),
        (AggFn::StringAgg, _) => Kind {
            base: Base::Text,
            list: false,
        },
        _ => Kind::RAW,
    }
}

fn func_of(name: &str) -> Option<AggFn> {
    Some(match name {
        "_sum" | "sum" => AggFn::Sum,
        "_avg" | "avg" => AggFn::Avg,
        "_min" | "min" => AggFn::Min,
        "_max" | "max" => AggFn::Max,
        _ => return None,
    })
}

/// Whether `key` is an aggregate key of `aggregate` / `groupBy` (used by the
/// `query()` dispatcher).
pub(crate) fn is_agg_key(key: &str, v: &Value) -> bool {
    match key {
        "_count" | "_sum" | "_avg" | "_min" | "_max" | "_stringAgg" => true,
        k => k.starts_with('_') && k.len() > 1 && is_named_spec(v),
    }
}

fn is_named_spec(v: &Value) -> bool {
    v.as_object().is_some_and(|o| {
        ["count", "sum", "avg", "min", "max"]
            .iter()
            .any(|k| o.contains_key(*k))
    })
}

fn parse_string_agg(model: &Model, v: &Value, path: &str) -> Result<AggCol> {
    let Value::Object(o) = v else {
        return Err(Error::invalid_args(
            path,
            "expected {field, separator?, orderBy?}",
        ));
    };
    for k in o.keys() {
        if !matches!(k.as_str(), "field" | "separator" | "orderBy") {
            return Err(Error::invalid_args(
                join(path, k),
                "unknown key (expected field, separator, orderBy)",
            ));
        }
    }
    let fp = join(path, "field");
    let Some(name) = o.get("field").and_then(Value::as_str) else {
        return Err(Error::invalid_args(fp, "expected a field name"));
    };
    let f = column_field(model, name, &fp)?;
    let separator = match o.get("separator") {
        None | Some(Value::Null) => ",".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(Error::invalid_args(
                join(path, "separator"),
                "expected a string",
            ));
        }
    };
    let op = join(path, "orderBy");
    let mut order = Vec::new();
    let mut add = |v: &Value, p: &str| -> Result<()> {
        match v {
            Value::String(n) => {
                order.push((column_field(model, n, p)?.column.clone(), false));
            }
            Value::Object(m) => {
                for (n, d) in m {
                    let kp = join(p, n);
                    let desc = match d.as_str() {
                        Some("asc") => false,
                        Some("desc") => true,
                        _ => return Err(Error::invalid_args(kp, "expected \"asc\" or \"desc\"")),
                    };
                    order.push((column_field(model, n, &kp)?.column.clone(), desc));
                }
            }
            _ => {
                return Err(Error::invalid_args(
                    p,
                    "expected a field name or {field: \"asc\"|\"desc\"}",
                ));
            }
        }
        Ok(())
    };
    match o.get("orderBy") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                add(item, &format!("{op}[{i}]"))?;
            }
        }
        Some(v) => add(v, &op)?,
    }
    let mut expr = AggExpr::new(AggFn::StringAgg, Some(f.column.clone()));
    expr.separator = Some(separator);
    expr.order = order;
    Ok(AggCol {
        group: Some("_stringAgg".into()),
        key: f.name.clone(),
        kind: kind_for(AggFn::StringAgg, Some(f)),
        expr,
    })
}

fn parse_named(model: &Model, key: &str, v: &Value, path: &str) -> Result<AggCol> {
    let Value::Object(o) = v else {
        return Err(Error::invalid_args(
            path,
            "expected a named aggregate {count|sum|avg|min|max: …, filter?}",
        ));
    };
    let mut expr: Option<(AggExpr, Option<&Field>)> = None;
    let mut filter = None;
    for (k, x) in o {
        let kp = join(path, k);
        match k.as_str() {
            "filter" => filter = Some(parse_raw(x, &kp)?),
            "count" => {
                let e = match x {
                    Value::Bool(true) => (AggExpr::new(AggFn::CountAll, None), None),
                    Value::String(n) => {
                        let f = column_field(model, n, &kp)?;
                        (AggExpr::new(AggFn::Count, Some(f.column.clone())), Some(f))
                    }
                    Value::Object(d) if d.len() == 1 && d.contains_key("distinct") => {
                        let dp = join(&kp, "distinct");
                        let Some(n) = d.get("distinct").and_then(Value::as_str) else {
                            return Err(Error::invalid_args(dp, "expected a field name"));
                        };
                        let f = column_field(model, n, &dp)?;
                        (
                            AggExpr::new(AggFn::CountDistinct, Some(f.column.clone())),
                            Some(f),
                        )
                    }
                    _ => {
                        return Err(Error::invalid_args(
                            kp,
                            "expected true, a field name or {distinct: field}",
                        ));
                    }
                };
                if expr.replace(e).is_some() {
                    return Err(Error::invalid_args(
                        kp,
                        "only one aggregate function per key",
                    ));
                }
            }
            "sum" | "avg" | "min" | "max" => {
                let func = func_of(k).unwrap_or(AggFn::Sum);
                let Some(n) = x.as_str() else {
                    return Err(Error::invalid_args(kp, "expected a field name"));
                };
                let f = column_field(model, n, &kp)?;
                if matches!(func, AggFn::Sum | AggFn::Avg) {
                    numeric(model, f, &kp)?;
                }
                if expr
                    .replace((AggExpr::new(func, Some(f.column.clone())), Some(f)))
                    .is_some()
                {
                    return Err(Error::invalid_args(
                        kp,
                        "only one aggregate function per key",
                    ));
                }
            }
            _ => {
                return Err(Error::invalid_args(
                    kp,
                    "unknown key (expected count, sum, avg, min, max or filter)",
                ));
            }
        }
    }
    let Some((mut e, f)) = expr else {
        return Err(Error::invalid_args(
            path,
            "a named aggregate needs one of count, sum, avg, min, max",
        ));
    };
    let kind = kind_for(e.func, f);
    e.filter = filter;
    Ok(AggCol {
        group: None,
        key: key.to_string(),
        kind,
        expr: e,
    })
}

/// Parses every `_`-prefixed key of `o` into aggregate columns, in key order.
///
/// # Errors
/// `InvalidArgs` / `UnknownField` naming the path (`_sum.amount`).
pub(crate) fn parse_aggs(model: &Model, o: &Map<String, Value>, path: &str) -> Result<Vec<AggCol>> {
    let mut out = Vec::new();
    for (key, v) in o {
        if !key.starts_with('_') {
            continue;
        }
        let p = join(path, key);
        match key.as_str() {
            "_count" => match v {
                Value::Bool(false) | Value::Null => {}
                Value::Bool(true) => out.push(AggCol {
                    group: None,
                    key: "_count".into(),
                    kind: Kind::RAW,
                    expr: AggExpr::new(AggFn::CountAll, None),
                }),
                Value::Object(m) if m.contains_key("distinct") => {
                    let dp = join(&p, "distinct");
                    if m.len() != 1 {
                        return Err(Error::invalid_args(p, "expected only {distinct: field}"));
                    }
                    let Some(n) = m.get("distinct").and_then(Value::as_str) else {
                        return Err(Error::invalid_args(dp, "expected a field name"));
                    };
                    let f = column_field(model, n, &dp)?;
                    out.push(AggCol {
                        group: None,
                        key: "_count".into(),
                        kind: Kind::RAW,
                        expr: AggExpr::new(AggFn::CountDistinct, Some(f.column.clone())),
                    });
                }
                Value::Object(m) => {
                    for (n, on) in m {
                        let fp = join(&p, n);
                        match on {
                            Value::Bool(true) => {}
                            Value::Bool(false) | Value::Null => continue,
                            _ => return Err(Error::invalid_args(fp, "expected true or false")),
                        }
                        let expr = if n == "_all" {
                            AggExpr::new(AggFn::CountAll, None)
                        } else {
                            let f = column_field(model, n, &fp)?;
                            AggExpr::new(AggFn::Count, Some(f.column.clone()))
                        };
                        out.push(AggCol {
                            group: Some("_count".into()),
                            key: n.clone(),
                            kind: Kind::RAW,
                            expr,
                        });
                    }
                }
                _ => {
                    return Err(Error::invalid_args(
                        p,
                        "expected true, {distinct: field} or {field: true}",
                    ));
                }
            },
            "_sum" | "_avg" | "_min" | "_max" => {
                let func = func_of(key).unwrap_or(AggFn::Sum);
                let Value::Object(m) = v else {
                    return Err(Error::invalid_args(p, "expected {field: true}"));
                };
                for (n, on) in m {
                    let fp = join(&p, n);
                    match on {
                        Value::Bool(true) => {}
                        Value::Bool(false) | Value::Null => continue,
                        _ => return Err(Error::invalid_args(fp, "expected true or false")),
                    }
                    let f = column_field(model, n, &fp)?;
                    if matches!(func, AggFn::Sum | AggFn::Avg) {
                        numeric(model, f, &fp)?;
                    }
                    out.push(AggCol {
                        group: Some(key.clone()),
                        key: f.name.clone(),
                        kind: kind_for(func, Some(f)),
                        expr: AggExpr::new(func, Some(f.column.clone())),
                    });
                }
            }
            "_stringAgg" => out.push(parse_string_agg(model, v, &p)?),
            _ => out.push(parse_named(model, key, v, &p)?),
        }
    }
    Ok(out)
}

/// Splits the arguments into the plain read keys (checked against
/// `allowed`) and the aggregate keys.
pub(crate) fn split_args(
    args: &Value,
    allowed: &[&str],
) -> Result<(Map<String, Value>, Map<String, Value>)> {
    let mut plain = Map::new();
    let mut aggs = Map::new();
    match args {
        Value::Null => {}
        Value::Object(o) => {
            for (k, v) in o {
                if k.starts_with('_') {
                    aggs.insert(k.clone(), v.clone());
                } else if allowed.contains(&k.as_str()) {
                    plain.insert(k.clone(), v.clone());
                } else {
                    return Err(Error::invalid_args(
                        k.clone(),
                        format!(
                            "`{k}` unknown argument (expected one of: {}, or an `_` aggregate)",
                            allowed.join(", ")
                        ),
                    ));
                }
            }
        }
        _ => return Err(Error::invalid_args("", "expected an arguments object")),
    }
    Ok((plain, aggs))
}

/// Refuses aggregates over fields the caller's read policies may hide.
///
/// # Errors
/// [`crate::Error::AccessDenied`] naming the field.
pub(crate) fn check_agg_columns(cx: &Cx<'_>, model: &Model, cols: &[AggCol]) -> Result<()> {
    let used = cols.iter().flat_map(|c| {
        c.expr
            .column
            .as_deref()
            .into_iter()
            .chain(c.expr.order.iter().map(|(o, _)| o.as_str()))
    });
    super::policy::check_readable_columns(cx, model, used, "aggregating")
}

/// Compiles `aggregate`.
///
/// # Errors
/// Argument errors with their JSON path; [`crate::Error::AccessDenied`] for
/// aggregates over fields the caller may not read.
pub(crate) fn compile(cx: &Cx<'_>, model: &Model, args: &Value) -> Result<Plan> {
    let (plain, aggs) = split_args(args, &["where", "withDeleted", "onlyDeleted"])?;
    let q = build(cx, model, Some(&plain), ReadOpts::default(), "")?;
    let cols = parse_aggs(model, &aggs, "")?;
    check_agg_columns(cx, model, &cols)?;
    let stmt = asql::aggregate(&q.table, &q.filter, &cols);
    Ok(Plan::Agg(AggPlan {
        stmt,
        cols: cols.iter().map(AggCol::out).collect(),
        many: false,
    }))
}
