//! Access-check statements for [`super::plan::Guard`]: one row of flags
//! (`ok, flag1, …`) computed by SQLite from the policy filters built in
//! `query::policy`, so a check sees exactly what the write that follows it
//! would see (same connection, same command).

use std::sync::Arc;

use rusqlite::types::Value as SqlValue;

use super::plan::Stmt;
use super::writer::SqlWriter;
use crate::query::ast::Filter;

fn flags(w: &mut SqlWriter, ok: &Filter, flags: &[Filter], alias: &str) {
    w.push("SELECT ");
    for (i, f) in std::iter::once(ok).chain(flags).enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push("COALESCE(");
        w.filter(f, alias);
        w.push(", 0)");
    }
}

fn finish(w: SqlWriter) -> Stmt {
    Stmt {
        sql: Arc::from(w.sql),
        params: w.params,
    }
}

/// `SELECT ok, flags… FROM table AS t0 WHERE target ORDER BY 1 DESC LIMIT 1`:
/// a permitted row wins, so the check only fails when every targeted row is
/// refused (and passes when none is targeted).
pub(crate) fn rows(table: &str, target: &Filter, ok: &Filter, fl: &[Filter]) -> Stmt {
    let mut w = SqlWriter::default();
    flags(&mut w, ok, fl, "t0");
    w.push(" FROM ").ident(table).push(" AS t0");
    if !target.is_true() {
        w.push(" WHERE ");
        w.filter(target, "t0");
    }
    w.push(" ORDER BY 1 DESC LIMIT 1");
    finish(w)
}

/// The flags of a row about to be inserted: `SELECT ok, flags… FROM (SELECT
/// ? AS "col", …) AS t0`, optionally only when no row of `table` matches
/// `unless` (upserts that will update instead).
pub(crate) fn values(
    table: &str,
    cols: &[(String, SqlValue)],
    ok: &Filter,
    fl: &[Filter],
    unless: Option<&Filter>,
) -> Stmt {
    let mut w = SqlWriter::default();
    flags(&mut w, ok, fl, "t0");
    w.push(" FROM (SELECT ");
    if cols.is_empty() {
        w.push("1");
    }
    for (i, (c, v)) in cols.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.param(v.clone()).push(" AS ").ident(c);
    }
    w.push(") AS t0");
    if let Some(u) = unless {
        w.push(" WHERE NOT EXISTS (SELECT 1 FROM ")
            .ident(table)
            .push(" AS u0 WHERE ");
        w.filter(u, "u0");
        w.push(")");
    }
    finish(w)
}
