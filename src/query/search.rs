//! FTS5 `search` and `optimize_fts` on `@@fts` models.
//!
//! `search` takes a plain JSON string (the FTS5 query), `{query, where,
//! limit, offset, orderBy, select, include, withDeleted, onlyDeleted,
//! highlight, snippet}`, or the README's two arguments as an array
//! `[query, {where, …}]`. Rows match the FTS5 query AND the `where`, ranked
//! by bm25 (best first; `orderBy` terms break ties). Decisions where the
//! README is silent:
//! - `highlight: true` adds `_highlight: {field: text}` for every indexed
//!   field, matches wrapped in `<mark>`…`</mark>`; `highlight: {fields |
//!   field, open, close}` narrows the fields and sets the markers.
//! - `snippet: true` adds `_snippet: {field: text}` (same markers, `…` as
//!   ellipsis, 10 tokens); `snippet: {fields | field, open, close,
//!   ellipsis, tokens}` tunes it.
//! - `@@external` models whose table is itself the FTS5 table are searched
//!   directly; other models through their `<table>_fts` external-content
//!   table joined on rowid.
//!
//! `optimize_fts` runs FTS5's `'optimize'` command and returns `null`.

use std::sync::Arc;

use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::Cx;
use super::ast::OutCol;
use super::derived::{Computed, ExtOrder, ExtRead, OrderExpr, Source};
use super::read::{ReadOpts, allowed_keys, args_object, build};
use crate::codec::{Base, Kind};
use crate::error::{Error, Result};
use crate::schema::Model;
use crate::sql::writer::SqlWriter;
use crate::sql::{Plan, RowsPlan, Shape, Stmt, analytics as asql};

/// The FTS5 table a search reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FtsSource {
    /// FTS5 table name.
    pub(crate) table: String,
    /// The model's table is the FTS5 table (`@@external`).
    pub(crate) self_table: bool,
    /// The MATCH query (bound).
    pub(crate) query: String,
}

/// `_highlight` / `_snippet`: a JSON object of one auxiliary call per field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FtsCol {
    /// The FTS5 table.
    pub(crate) source: FtsSource,
    /// `snippet()` rather than `highlight()`.
    pub(crate) snippet: bool,
    /// (key, FTS column index).
    pub(crate) fields: Vec<(String, i64)>,
    /// Opening marker.
    pub(crate) open: String,
    /// Closing marker.
    pub(crate) close: String,
    /// Snippet ellipsis.
    pub(crate) ellipsis: String,
    /// Snippet tokens.
    pub(crate) tokens: i64,
}

/// (FTS table, is the model's own table, indexed (field, FTS column index)).
type FtsTable = (String, bool, Vec<(String, i64)>);

fn fts_table(model: &Model) -> Result<FtsTable> {
    let Some(fts) = &model.fts else {
        return Err(Error::invalid_args(
            "",
            format!("{} has no @@fts index to search", model.name),
        ));
    };
    if model.external {
        let cols: Vec<(String, i64)> = model
            .columns()
            .enumerate()
            .filter(|(_, f)| fts.fields.contains(&f.id))
            .map(|(i, f)| (f.name.clone(), i as i64))
            .collect();
        return Ok((model.table.clone(), true, cols));
    }
    let cols = fts
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| (model.field_by_id(*f).name.clone(), i as i64))
        .collect();
    Ok((fts.table.clone(), false, cols))
}

fn marker_spec(
    v: &Value,
    path: &str,
    all: &[(String, i64)],
    snippet: bool,
    source: &FtsSource,
) -> Result<Option<FtsCol>> {
    let mut col = FtsCol {
        source: source.clone(),
        snippet,
        fields: all.to_vec(),
        open: "<mark>".into(),
        close: "</mark>".into(),
        ellipsis: "…".into(),
        tokens: 10,
    };
    match v {
        Value::Null | Value::Bool(false) => return Ok(None),
        Value::Bool(true) => {}
        Value::Object(o) => {
            for (k, x) in o {
                let p = format!("{path}.{k}");
                let text = || {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| Error::invalid_args(p.clone(), "expected a string"))
                };
                match k.as_str() {
                    "open" => col.open = text()?,
                    "close" => col.close = text()?,
                    "ellipsis" if snippet => col.ellipsis = text()?,
                    "tokens" if snippet => match x.as_i64() {
                        Some(n) if (1..=64).contains(&n) => col.tokens = n,
                        _ => return Err(Error::invalid_args(p, "expected 1 to 64")),
                    },
                    "field" | "fields" => {
                        let names: Vec<&Value> = match x {
                            Value::Array(a) => a.iter().collect(),
                            v => vec![v],
                        };
                        let mut picked = Vec::new();
                        for n in names {
                            let Some(hit) =
                                n.as_str().and_then(|n| all.iter().find(|(k, _)| k == n))
                            else {
                                return Err(Error::invalid_args(
                                    p.clone(),
                                    format!(
                                        "expected indexed fields ({})",
                                        all.iter()
                                            .map(|(k, _)| k.as_str())
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ),
                                ));
                            };
                            picked.push(hit.clone());
                        }
                        col.fields = picked;
                    }
                    _ => return Err(Error::invalid_args(p, "unknown key")),
                }
            }
        }
        _ => {
            return Err(Error::invalid_args(
                path,
                "expected true or an options object",
            ));
        }
    }
    Ok(Some(col))
}

/// Compiles `search`.
///
/// # Errors
/// `InvalidArgs` for models without `@@fts`, a missing query, or bad
/// options (naming the path: `highlight.open`).
pub(crate) fn compile(cx: &Cx<'_>, model: &Model, args: &Value) -> Result<Plan> {
    let (table, self_table, all) = fts_table(model)?;
    let mut o = match args {
        Value::String(s) => Map::from_iter([("query".to_string(), Value::String(s.clone()))]),
        Value::Object(o) => o.clone(),
        // The README's two positional arguments: `["query", {where, …}]`.
        Value::Array(a)
            if matches!(
                a.as_slice(),
                [Value::String(_)] | [Value::String(_), Value::Object(_)]
            ) =>
        {
            let mut o = a
                .get(1)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            if o.contains_key("query") {
                return Err(Error::invalid_args(
                    "query",
                    "given twice: as the first element and inside the options",
                ));
            }
            o.insert("query".to_string(), a[0].clone());
            o
        }
        _ => {
            return Err(Error::invalid_args(
                "",
                "expected a query string, {query, where, limit, …} or [query, {where, limit, …}]",
            ));
        }
    };
    let query = match o.remove("query") {
        Some(Value::String(s)) if !s.trim().is_empty() => s,
        _ => {
            return Err(Error::invalid_args(
                "query",
                "expected a non-empty search string",
            ));
        }
    };
    let highlight = o.remove("highlight").unwrap_or(Value::Null);
    let snippet = o.remove("snippet").unwrap_or(Value::Null);
    let opts = ReadOpts {
        list: true,
        paging: true,
        ordering: true,
        projection: true,
        distinct: false,
        cursor: false,
    };
    let ov = Value::Object(o);
    let po = args_object(&ov, &allowed_keys(opts), "")?;
    let q = build(cx, model, po, opts, "")?;
    let source = FtsSource {
        table,
        self_table,
        query,
    };
    let select = ov.get("select");
    let mut ext = ExtRead::new(q);
    ext.extra = super::derived::derived_cols(cx, model, select)?;
    ext.order.insert(
        0,
        ExtOrder {
            expr: OrderExpr::Rank,
            desc: false,
            nulls: None,
        },
    );
    let json = Kind {
        base: Base::Json,
        list: false,
    };
    for (key, spec, snip) in [
        ("_highlight", &highlight, false),
        ("_snippet", &snippet, true),
    ] {
        if let Some(c) = marker_spec(spec, &key[1..], &all, snip, &source)? {
            ext.extra.push((
                OutCol {
                    key: key.into(),
                    column: "".into(),
                    kind: json,
                    count: None,
                    mask: None,
                    derived: None,
                    decrypt: false,
                },
                Computed::Fts(c),
            ));
        }
    }
    ext.source = Source::Fts(source);
    Ok(Plan::Rows {
        rows: asql::ext_rows(&ext),
        shape: Shape::Many,
    })
}

/// Compiles `optimize_fts` (arguments must be null or `{}`).
///
/// # Errors
/// `InvalidArgs` for models without `@@fts` or with arguments.
pub(crate) fn optimize(model: &Model, args: &Value) -> Result<Plan> {
    args_object(args, &[], "")?;
    let (table, _, _) = fts_table(model)?;
    let mut w = SqlWriter::default();
    w.push("INSERT INTO ")
        .ident(&table)
        .push("(")
        .ident(&table)
        .push(") VALUES (")
        .param(SqlValue::Text("optimize".into()))
        .push(")");
    Ok(Plan::Rows {
        rows: RowsPlan {
            stmt: Stmt {
                sql: Arc::from(w.sql),
                params: w.params,
            },
            cols: Vec::new().into(),
            hidden: 0,
            includes: Vec::new(),
        },
        shape: Shape::Null,
    })
}
