//! `window` on `find_many`: `{name: {fn…, partitionBy, orderBy, rows |
//! range, filter}}` → typed [`WindowCol`]s, mixed into each row under their
//! names (after the model's fields).
//!
//! Function keys (README "Window functions"): `rowNumber`, `rank`,
//! `denseRank`, `cumeDist`, `percentRank` (`true`); `ntile: n`; `lag` /
//! `lead: field` with `offset` (default 1) and `default`; `firstValue` /
//! `lastValue: field`; `nthValue: field` with `n`; `sum` / `avg` / `min` /
//! `max: field`; `count: true | field`. Frames: `rows` / `range: [start,
//! end]`, negative = PRECEDING, positive = FOLLOWING, 0 = CURRENT ROW,
//! `null` = UNBOUNDED. `filter` (a `sql` fragment) applies to the aggregate
//! functions only (SQLite's `FILTER` clause).

use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::aggregate::column_field;
use super::ast::{Filter, Order, OutCol};
use super::filter::parse_raw;
use super::read::parse_order;
use crate::codec::{self, Kind};
use crate::error::{Error, Result};
use crate::schema::{Model, Schema};

/// A window function.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WinFn {
    /// `ROW_NUMBER()`.
    RowNumber,
    /// `RANK()`.
    Rank,
    /// `DENSE_RANK()`.
    DenseRank,
    /// `CUME_DIST()`.
    CumeDist,
    /// `PERCENT_RANK()`.
    PercentRank,
    /// `NTILE(n)`.
    Ntile(i64),
    /// `LAG(col, offset, default)` / `LEAD(…)`.
    Shift {
        /// LEAD rather than LAG.
        lead: bool,
        /// Column.
        column: String,
        /// Offset.
        offset: i64,
        /// Default value.
        default: Option<SqlValue>,
    },
    /// `FIRST_VALUE(col)`.
    FirstValue(String),
    /// `LAST_VALUE(col)`.
    LastValue(String),
    /// `NTH_VALUE(col, n)`.
    NthValue(String, i64),
    /// `SUM/AVG/MIN/MAX/COUNT(col | *)`.
    Agg(&'static str, Option<String>),
}

/// A frame clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame {
    /// RANGE rather than ROWS.
    pub(crate) range: bool,
    /// Start offset (`None` = UNBOUNDED PRECEDING).
    pub(crate) start: Option<i64>,
    /// End offset (`None` = UNBOUNDED FOLLOWING).
    pub(crate) end: Option<i64>,
}

/// One computed window column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WindowCol {
    /// Output key and decoding kind (`column` unused).
    pub(crate) out: OutCol,
    /// Function.
    pub(crate) func: WinFn,
    /// PARTITION BY columns.
    pub(crate) partition: Vec<String>,
    /// ORDER BY.
    pub(crate) order: Vec<Order>,
    /// Frame.
    pub(crate) frame: Option<Frame>,
    /// FILTER (WHERE …).
    pub(crate) filter: Option<Filter>,
}

impl WindowCol {
    /// Every column the window reads: its argument, PARTITION BY and ORDER BY.
    pub(crate) fn columns(&self) -> impl Iterator<Item = &str> {
        let arg = match &self.func {
            WinFn::Shift { column, .. }
            | WinFn::FirstValue(column)
            | WinFn::LastValue(column)
            | WinFn::NthValue(column, _) => Some(column.as_str()),
            WinFn::Agg(_, c) => c.as_deref(),
            _ => None,
        };
        arg.into_iter()
            .chain(self.partition.iter().map(String::as_str))
            .chain(self.order.iter().map(|o| o.column.as_str()))
    }
}

fn join(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

const FUNCS: &[&str] = &[
    "rowNumber",
    "rank",
    "denseRank",
    "cumeDist",
    "percentRank",
    "ntile",
    "lag",
    "lead",
    "firstValue",
    "lastValue",
    "nthValue",
    "sum",
    "avg",
    "min",
    "max",
    "count",
];

fn positive(o: &Map<String, Value>, key: &str, path: &str, default: Option<i64>) -> Result<i64> {
    match o.get(key) {
        None | Some(Value::Null) => {
            default.ok_or_else(|| Error::invalid_args(join(path, key), "required"))
        }
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => Ok(n),
            _ => Err(Error::invalid_args(
                join(path, key),
                "expected a non-negative integer",
            )),
        },
    }
}

fn frame(v: &Value, range: bool, path: &str) -> Result<Frame> {
    let bound = |x: &Value, p: String| match x {
        Value::Null => Ok(None),
        v => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| Error::invalid_args(p, "expected an integer or null")),
    };
    match v {
        Value::Array(a) if a.len() == 2 => Ok(Frame {
            range,
            start: bound(&a[0], format!("{path}[0]"))?,
            end: bound(&a[1], format!("{path}[1]"))?,
        }),
        _ => Err(Error::invalid_args(path, "expected [start, end]")),
    }
}

fn parse_one(
    schema: &Schema,
    model: &Model,
    name: &str,
    v: &Value,
    path: &str,
) -> Result<WindowCol> {
    let Value::Object(o) = v else {
        return Err(Error::invalid_args(path, "expected a window spec object"));
    };
    let fkeys: Vec<&String> = o.keys().filter(|k| FUNCS.contains(&k.as_str())).collect();
    let fname = match fkeys.as_slice() {
        [one] => one.as_str(),
        [] => {
            return Err(Error::invalid_args(
                path,
                format!("expected one window function ({})", FUNCS.join(", ")),
            ));
        }
        _ => {
            return Err(Error::invalid_args(
                path,
                "only one window function per column",
            ));
        }
    };
    let fp = join(path, fname);
    let arg = &o[fname];
    let field = |v: &Value| -> Result<&crate::schema::Field> {
        let Some(n) = v.as_str() else {
            return Err(Error::invalid_args(fp.clone(), "expected a field name"));
        };
        column_field(model, n, &fp)
    };
    let flag = || -> Result<()> {
        match arg {
            Value::Bool(true) => Ok(()),
            _ => Err(Error::invalid_args(fp.clone(), "expected true")),
        }
    };
    let mut allowed = vec!["partitionBy", "orderBy", "rows", "range", "filter"];
    let (func, kind) = match fname {
        "rowNumber" => (flag().map(|()| WinFn::RowNumber)?, Kind::RAW),
        "rank" => (flag().map(|()| WinFn::Rank)?, Kind::RAW),
        "denseRank" => (flag().map(|()| WinFn::DenseRank)?, Kind::RAW),
        "cumeDist" => (flag().map(|()| WinFn::CumeDist)?, Kind::RAW),
        "percentRank" => (flag().map(|()| WinFn::PercentRank)?, Kind::RAW),
        "ntile" => match arg.as_i64() {
            Some(n) if n > 0 => (WinFn::Ntile(n), Kind::RAW),
            _ => return Err(Error::invalid_args(fp, "expected a positive integer")),
        },
        "lag" | "lead" => {
            allowed.extend(["offset", "default"]);
            let f = field(arg)?;
            (
                WinFn::Shift {
                    lead: fname == "lead",
                    column: f.column.clone(),
                    offset: positive(o, "offset", path, Some(1))?,
                    default: o
                        .get("default")
                        .filter(|d| !d.is_null())
                        .map(codec::json_to_sql),
                },
                Kind::of(f),
            )
        }
        "firstValue" | "lastValue" => {
            let f = field(arg)?;
            let c = f.column.clone();
            (
                if fname == "firstValue" {
                    WinFn::FirstValue(c)
                } else {
                    WinFn::LastValue(c)
                },
                Kind::of(f),
            )
        }
        "nthValue" => {
            allowed.push("n");
            let f = field(arg)?;
            let n = positive(o, "n", path, None)?;
            if n == 0 {
                return Err(Error::invalid_args(join(path, "n"), "expected n >= 1"));
            }
            (WinFn::NthValue(f.column.clone(), n), Kind::of(f))
        }
        "count" => match arg {
            Value::Bool(true) => (WinFn::Agg("COUNT", None), Kind::RAW),
            v => (
                WinFn::Agg("COUNT", Some(field(v)?.column.clone())),
                Kind::RAW,
            ),
        },
        agg => {
            let f = field(arg)?;
            let (name, kind) = match agg {
                "sum" => ("SUM", Kind::RAW),
                "avg" => ("AVG", Kind::RAW),
                "min" => ("MIN", Kind::of(f)),
                _ => ("MAX", Kind::of(f)),
            };
            if matches!(name, "SUM" | "AVG") && !Kind::of(f).is_numeric() {
                return Err(Error::invalid_args(fp, "expected a numeric field"));
            }
            (WinFn::Agg(name, Some(f.column.clone())), kind)
        }
    };
    for k in o.keys() {
        if k != fname && !allowed.contains(&k.as_str()) {
            return Err(Error::invalid_args(
                join(path, k),
                format!("unknown key (expected {})", allowed.join(", ")),
            ));
        }
    }
    let pp = join(path, "partitionBy");
    let mut partition = Vec::new();
    match o.get("partitionBy") {
        None | Some(Value::Null) => {}
        Some(Value::String(n)) => partition.push(column_field(model, n, &pp)?.column.clone()),
        Some(Value::Array(a)) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{pp}[{i}]");
                let Some(n) = x.as_str() else {
                    return Err(Error::invalid_args(p, "expected a field name"));
                };
                partition.push(column_field(model, n, &p)?.column.clone());
            }
        }
        Some(_) => {
            return Err(Error::invalid_args(
                pp,
                "expected a field name or an array of them",
            ));
        }
    }
    let order = parse_order(schema, model, o.get("orderBy"), &join(path, "orderBy"))?;
    let frame = match (o.get("rows"), o.get("range")) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid_args(path, "give either `rows` or `range`"));
        }
        (Some(v), None) => Some(frame(v, false, &join(path, "rows"))?),
        (None, Some(v)) => Some(frame(v, true, &join(path, "range"))?),
        (None, None) => None,
    };
    let filter = match o.get("filter") {
        None | Some(Value::Null) => None,
        Some(v) => {
            if !matches!(func, WinFn::Agg(..)) {
                return Err(Error::invalid_args(
                    join(path, "filter"),
                    "filter applies to sum, avg, min, max and count only",
                ));
            }
            Some(parse_raw(v, &join(path, "filter"))?)
        }
    };
    if model.field(name).is_some() {
        return Err(Error::invalid_args(
            path,
            format!("`{name}` is already a field of {}", model.name),
        ));
    }
    Ok(WindowCol {
        out: OutCol {
            key: name.into(),
            column: "".into(),
            kind,
            count: None,
            mask: None,
            derived: None,
            decrypt: false,
        },
        func,
        partition,
        order,
        frame,
        filter,
    })
}

/// Parses `window`.
///
/// # Errors
/// `InvalidArgs` / `UnknownField` naming the path (`window.rn.partitionBy`).
pub(crate) fn parse(schema: &Schema, model: &Model, v: &Value) -> Result<Vec<WindowCol>> {
    let Value::Object(o) = v else {
        return Err(Error::invalid_args("window", "expected {name: spec}"));
    };
    o.iter()
        .map(|(k, spec)| parse_one(schema, model, k, spec, &join("window", k)))
        .collect()
}
