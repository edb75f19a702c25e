//! INSERT / UPDATE / DELETE statements, with optional RETURNING of the
//! visible and hidden columns of a [`ReadQuery`] (for single-row writes that
//! return the row and its includes).
//!
//! `createMany` writes one single-row `INSERT` per row, its text shared by
//! the rows of one column shape (see `Bulk` in `query/`); multi-row
//! `VALUES (…), (…)` statements were tried and dropped (they make SQLite
//! keep a statement journal).

use std::sync::Arc;

use super::plan::Stmt;
use super::writer::SqlWriter;
use crate::query::ast::{Conflict, InsertRow, InsertVal, ReadQuery, SetExpr, Target};

fn returning(w: &mut SqlWriter, ret: Option<&ReadQuery>) {
    let Some(q) = ret else { return };
    w.push(" RETURNING ");
    let mut first = true;
    // Field read policies refer to the written row by its table name.
    let mut table = SqlWriter::default();
    table.ident(&q.table);
    let cols = q.cols.iter().map(|c| {
        (
            &*c.column,
            c.mask.as_deref(),
            c.derived.as_deref(),
            c.decrypt,
        )
    });
    for (c, mask, derived, decrypt) in
        cols.chain(q.hidden.iter().map(|h| (h.as_str(), None, None, false)))
    {
        if !first {
            w.push(", ");
        }
        first = false;
        match (derived, mask) {
            // `@from`: a subquery correlated with the written row, which
            // RETURNING names by its table.
            (Some(s), _) => super::analytics::sub_agg(w, s, &table.sql),
            (None, Some(_)) => w.out_col_dec(&table.sql, c, mask, decrypt),
            (None, None) if decrypt => {
                w.push("litestone_decrypt(");
                w.ident(c);
                w.push(")");
            }
            (None, None) => {
                w.col_or_key(c);
            }
        }
    }
    if first {
        w.push("1");
    }
}

fn finish(w: SqlWriter) -> Stmt {
    Stmt {
        sql: Arc::from(w.sql),
        params: w.params,
    }
}

/// One INSERT (optionally OR IGNORE / ON CONFLICT DO UPDATE, RETURNING).
pub(crate) fn insert(
    table: &str,
    row: &InsertRow,
    conflict: &Conflict,
    ret: Option<&ReadQuery>,
) -> Stmt {
    let mut w = SqlWriter::default();
    insert_walk(&mut w, table, row, conflict, ret);
    finish(w)
}

/// The parameters of [`insert`] for a row whose statement text is already
/// known (same shape as a previous row).
pub(crate) fn insert_params(
    table: &str,
    row: &InsertRow,
    conflict: &Conflict,
) -> Vec<rusqlite::types::Value> {
    let mut w = SqlWriter::params_only();
    insert_walk(&mut w, table, row, conflict, None);
    w.params
}

fn insert_walk(
    w: &mut SqlWriter,
    table: &str,
    row: &InsertRow,
    conflict: &Conflict,
    ret: Option<&ReadQuery>,
) {
    w.push(if matches!(conflict, Conflict::Ignore) {
        "INSERT OR IGNORE INTO "
    } else {
        "INSERT INTO "
    });
    w.ident(table);
    if row.values.is_empty() {
        w.push(" DEFAULT VALUES");
    } else {
        w.push(" (");
        for (i, (c, _)) in row.values.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.ident(c);
        }
        w.push(") VALUES (");
        for (i, (c, v)) in row.values.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            match v {
                InsertVal::Param(p) => {
                    w.param(p.clone());
                }
                InsertVal::Sequence { scope } => {
                    w.push("(SELECT COALESCE(MAX(")
                        .ident(c)
                        .push("), 0) + 1 FROM ")
                        .ident(table);
                    if let Some((sc, sv)) = scope {
                        w.push(" WHERE ").ident(sc).push(" IS ").param(sv.clone());
                    }
                    w.push(")");
                }
            }
        }
        w.push(")");
    }
    if let Conflict::Update {
        target,
        target_where,
        set,
    } = conflict
    {
        w.push(" ON CONFLICT (");
        for (i, c) in target.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.ident(c);
        }
        w.push(")");
        if let Some(pred) = target_where {
            // Schema-generated SQL: the index predicate must be repeated for
            // SQLite to match a partial unique index.
            w.push(" WHERE ").push(pred);
        }
        w.push(" DO UPDATE SET ");
        set_list(w, set, target.first().map(String::as_str));
    }
    returning(w, ret);
}

fn set_list(w: &mut SqlWriter, set: &[(String, SetExpr)], keep: Option<&str>) {
    if set.is_empty() {
        if let Some(k) = keep {
            w.ident(k).push(" = ").ident(k);
        }
        return;
    }
    for (i, (c, e)) in set.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.ident(c).push(" = ");
        match e {
            SetExpr::Value(v) => {
                w.param(v.clone());
            }
            SetExpr::Arith(op, v) => {
                w.ident(c).push(" ").push(op).push(" ");
                w.param(v.clone());
            }
            SetExpr::Excluded => {
                w.push("excluded.").ident(c);
            }
            SetExpr::Keep => {
                w.ident(c);
            }
        }
    }
}

fn target_where(w: &mut SqlWriter, table: &str, t: &Target) {
    match &t.single {
        Some(key) => {
            w.push(" WHERE ")
                .ident(key)
                .push(" IN (SELECT ")
                .qcol("t0", key);
            w.push(" FROM ").ident(table).push(" AS t0");
            if !t.filter.is_true() {
                w.push(" WHERE ");
                w.filter(&t.filter, "t0");
            }
            w.push(" LIMIT 1)");
        }
        None => {
            if !t.filter.is_true() {
                w.push(" WHERE ");
                w.filter(&t.filter, "t0");
            }
        }
    }
}

/// `UPDATE … SET … WHERE …` (optionally RETURNING).
pub(crate) fn update(
    table: &str,
    set: &[(String, SetExpr)],
    t: &Target,
    ret: Option<&ReadQuery>,
) -> Stmt {
    let mut w = SqlWriter::default();
    w.push("UPDATE ").ident(table);
    if t.single.is_none() {
        w.push(" AS t0");
    }
    w.push(" SET ");
    set_list(&mut w, set, None);
    target_where(&mut w, table, t);
    returning(&mut w, ret);
    finish(w)
}

/// `DELETE FROM … WHERE …` (optionally RETURNING).
pub(crate) fn delete(table: &str, t: &Target, ret: Option<&ReadQuery>) -> Stmt {
    let mut w = SqlWriter::default();
    w.push("DELETE FROM ").ident(table);
    if t.single.is_none() {
        w.push(" AS t0");
    }
    target_where(&mut w, table, t);
    returning(&mut w, ret);
    finish(w)
}
