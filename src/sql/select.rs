//! SELECT statements: rows (with per-level include statements), COUNT and
//! EXISTS.
//!
//! Includes never cost N+1: each relation level is one statement selecting
//! the child rows of every parent key at once, `WHERE key IN (SELECT value
//! FROM json_each(:keys))`, with the key as the first hidden column so `exec/`
//! can group children by parent. A per-parent `limit`/`offset` uses
//! `ROW_NUMBER() OVER (PARTITION BY key …)`.

use std::sync::Arc;

use rusqlite::types::Value as SqlValue;

use super::plan::{IncludePlan, RowsPlan, Stmt};
use super::writer::SqlWriter;
use crate::query::ast::{Nulls, Order, ParentLink, ReadQuery};

fn order_by(w: &mut SqlWriter, alias: &str, order: &[Order], explicit_nulls: bool) {
    for (i, o) in order.iter().enumerate() {
        w.push(if i == 0 { " ORDER BY " } else { ", " });
        match &o.related {
            Some(r) => w.related_sort(r, alias),
            None => {
                w.qcol(alias, &o.column);
            }
        }
        w.push(if o.desc { " DESC" } else { " ASC" });
        let nulls = if explicit_nulls {
            Some(o.effective_nulls())
        } else {
            o.nulls
        };
        match nulls {
            Some(Nulls::First) => {
                w.push(" NULLS FIRST");
            }
            Some(Nulls::Last) => {
                w.push(" NULLS LAST");
            }
            None => {}
        }
    }
}

fn limit_offset(w: &mut SqlWriter, limit: Option<i64>, offset: Option<i64>) {
    match (limit, offset) {
        (None, None) => {}
        (Some(l), None) => {
            w.push(" LIMIT ").param(SqlValue::Integer(l));
        }
        (l, Some(o)) => {
            w.push(" LIMIT ").param(SqlValue::Integer(l.unwrap_or(-1)));
            w.push(" OFFSET ").param(SqlValue::Integer(o));
        }
    }
}

/// Compiles a read into its rows plan. `explicit_nulls` writes NULLS
/// FIRST/LAST on every ORDER BY term (cursor pages rely on it).
pub(crate) fn rows(q: &ReadQuery, explicit_nulls: bool) -> RowsPlan {
    rows_with(q, explicit_nulls, &mut None)
}

/// [`rows`] for a shape whose statement texts are known (pre-order, as
/// [`super::Plan::statements`] lists them): the same walk, collecting
/// parameters only.
pub(crate) fn rows_cached(q: &ReadQuery, explicit_nulls: bool, texts: &[Arc<str>]) -> RowsPlan {
    rows_with(q, explicit_nulls, &mut Some(texts.iter()))
}

/// The statement texts of a rows plan, in pre-order.
pub(crate) fn texts(plan: &RowsPlan, out: &mut Vec<Arc<str>>) {
    out.push(plan.stmt.sql.clone());
    for i in &plan.includes {
        texts(&i.child, out);
    }
}

fn rows_with(
    q: &ReadQuery,
    explicit_nulls: bool,
    texts: &mut Option<std::slice::Iter<'_, Arc<str>>>,
) -> RowsPlan {
    let cached = texts.as_mut().and_then(|t| t.next().cloned());
    let mut w = if cached.is_some() {
        SqlWriter::params_only()
    } else {
        SqlWriter::default()
    };
    let child = q.parent_link.is_some();
    let windowed = child && (q.limit.is_some() || q.offset.is_some());
    // The output expressions: visible columns, then the group key (children),
    // then the hidden keys.
    let mut exprs: Vec<(&str, &str)> = Vec::new();
    let mut masks: Vec<Option<&crate::query::ast::Filter>> = Vec::new();
    let mut count_exprs = Vec::new();
    for (i, c) in q.cols.iter().enumerate() {
        if let Some(r) = &c.count {
            count_exprs.push((i, r));
        }
        exprs.push(("t0", &c.column));
        masks.push(c.mask.as_deref());
    }
    match &q.parent_link {
        Some(ParentLink::Column(c)) => exprs.push(("t0", c)),
        Some(ParentLink::Through { source_col, .. }) => exprs.push(("j0", source_col)),
        None => {}
    }
    for h in &q.hidden {
        exprs.push(("t0", h));
    }
    w.push("SELECT ");
    if q.distinct {
        w.push("DISTINCT ");
    }
    if exprs.is_empty() {
        w.push("1");
    }
    for (i, (alias, col)) in exprs.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        match count_exprs.iter().find(|(j, _)| *j == i) {
            Some((_, r)) => w.related_sort(r, alias),
            None => match q.cols.get(i) {
                Some(c) if c.derived.is_some() => {
                    if let Some(s) = c.derived.as_deref() {
                        super::analytics::sub_agg(&mut w, s, alias);
                    }
                }
                Some(c) => w.out_col_dec(alias, col, masks.get(i).copied().flatten(), c.decrypt),
                None => w.out_col(alias, col, masks.get(i).copied().flatten()),
            },
        }
        if windowed {
            w.push(&format!(" AS c{i}"));
        }
    }
    if windowed {
        let key = match &q.parent_link {
            Some(ParentLink::Through { source_col, .. }) => ("j0", source_col.as_str()),
            Some(ParentLink::Column(c)) => ("t0", c.as_str()),
            None => ("t0", ""),
        };
        w.push(", ROW_NUMBER() OVER (PARTITION BY ")
            .qcol(key.0, key.1);
        if q.order.is_empty() {
            w.push(" ORDER BY t0.rowid");
        } else {
            order_by(&mut w, "t0", &q.order, explicit_nulls);
        }
        w.push(") AS __rn");
    }
    w.push(" FROM ");
    match &q.parent_link {
        Some(ParentLink::Through {
            table,
            target_col,
            target_ref,
            ..
        }) => {
            w.ident(table)
                .push(" AS j0 JOIN ")
                .ident(&q.table)
                .push(" AS t0 ON ");
            w.qcol("t0", target_ref).push(" = ").qcol("j0", target_col);
        }
        _ => {
            w.ident(&q.table).push(" AS t0");
        }
    }
    let mut where_started = false;
    if let Some(link) = &q.parent_link {
        w.push(" WHERE ");
        match link {
            ParentLink::Column(c) => w.qcol("t0", c),
            ParentLink::Through { source_col, .. } => w.qcol("j0", source_col),
        };
        // The parent keys are bound at run time to the named parameter.
        w.push(" IN (SELECT value FROM json_each(:keys))");
        where_started = true;
    }
    if !q.filter.is_true() {
        w.push(if where_started { " AND " } else { " WHERE " });
        w.filter(&q.filter, "t0");
    }
    if windowed {
        let n = exprs.len();
        let inner = std::mem::take(&mut w.sql);
        w.push("SELECT ");
        for i in 0..n {
            if i > 0 {
                w.push(", ");
            }
            w.push(&format!("c{i}"));
        }
        w.push(" FROM (").push(&inner).push(") WHERE __rn > ");
        let off = q.offset.unwrap_or(0);
        w.param(SqlValue::Integer(off));
        if let Some(l) = q.limit {
            w.push(" AND __rn <= ").param(SqlValue::Integer(off + l));
        }
        w.push(" ORDER BY __rn");
    } else {
        order_by(&mut w, "t0", &q.order, explicit_nulls);
        if !child {
            limit_offset(&mut w, q.limit, q.offset);
        }
    }
    let shift = usize::from(child);
    let includes = q
        .includes
        .iter()
        .map(|inc| IncludePlan {
            key: inc.key.clone(),
            to_many: inc.to_many,
            parent_key: inc.parent_key + shift,
            child: rows_with(&inc.child, false, texts),
        })
        .collect();
    RowsPlan {
        stmt: Stmt {
            sql: cached.unwrap_or_else(|| Arc::from(w.sql)),
            params: w.params,
        },
        cols: q.cols.clone(),
        hidden: q.hidden.len() + shift,
        includes,
    }
}

/// `SELECT COUNT(*)` over the query's filter (ignoring order; honouring
/// limit/offset through a subquery when given).
pub(crate) fn count(q: &ReadQuery) -> Stmt {
    let mut w = SqlWriter::default();
    if q.limit.is_some() || q.offset.is_some() {
        w.push("SELECT COUNT(*) FROM (SELECT 1 FROM ")
            .ident(&q.table)
            .push(" AS t0");
        if !q.filter.is_true() {
            w.push(" WHERE ");
            w.filter(&q.filter, "t0");
        }
        limit_offset(&mut w, q.limit, q.offset);
        w.push(")");
    } else {
        w.push("SELECT COUNT(*) FROM ")
            .ident(&q.table)
            .push(" AS t0");
        if !q.filter.is_true() {
            w.push(" WHERE ");
            w.filter(&q.filter, "t0");
        }
    }
    Stmt {
        sql: Arc::from(w.sql),
        params: w.params,
    }
}

/// `SELECT EXISTS(SELECT 1 … LIMIT 1)`.
pub(crate) fn exists(q: &ReadQuery) -> Stmt {
    let mut w = SqlWriter::default();
    w.push("SELECT EXISTS (SELECT 1 FROM ")
        .ident(&q.table)
        .push(" AS t0");
    if !q.filter.is_true() {
        w.push(" WHERE ");
        w.filter(&q.filter, "t0");
    }
    w.push(")");
    Stmt {
        sql: Arc::from(w.sql),
        params: w.params,
    }
}
