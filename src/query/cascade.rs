//! `@@softDelete(cascade)`: soft-deleting a row soft-deletes the rows that
//! point at it, and restoring it restores them.
//!
//! Decisions where the README is silent:
//! - The cascade follows belongsTo foreign keys (single-column) of
//!   `@@softDelete` models that reference the removed model: its FK
//!   children. Children that are not soft-delete models are left alone
//!   (their `onDelete` action applies to hard deletes only).
//! - One level of children, plus whole subtrees of self-relations (a removed
//!   category takes its sub-categories, at any depth, with it).
//! - Every row one call soft-deletes gets the same `deletedAt` as the parent.
//!   Restore uses that: restoring a parent restores the children whose
//!   `deletedAt` equals the parent's — the rows its removal took — and not
//!   children removed earlier on their own.
//!
//! Builds statements only; they run in the same write command as the parent
//! statement (after it for removal, before it for restore), so a failure
//! rolls everything back together.

use rusqlite::types::Value as SqlValue;

use super::ast::Target;
use crate::schema::{Model, RelationKind, Schema};
use crate::sql::Stmt;
use crate::sql::writer::SqlWriter;

/// A foreign-key child edge: `child.fk` references `parent.key`.
struct Edge<'s> {
    child: &'s Model,
    fk: &'s str,
    key: &'s str,
    child_deleted: &'s str,
}

fn edges<'s>(schema: &'s Schema, parent: &'s Model) -> Vec<Edge<'s>> {
    let mut out = Vec::new();
    for child in &schema.models {
        let Some(sd) = child.soft_delete else {
            continue;
        };
        for (_, r) in child.relations() {
            let RelationKind::BelongsTo {
                fields, references, ..
            } = &r.kind
            else {
                continue;
            };
            if r.target != parent.id {
                continue;
            }
            let ([fk], [key]) = (fields.as_slice(), references.as_slice()) else {
                continue;
            };
            out.push(Edge {
                child,
                fk: &child.field_by_id(*fk).column,
                key: &parent.field_by_id(*key).column,
                child_deleted: &child.field_by_id(sd.field).column,
            });
        }
    }
    // Self-relations first: their subtrees are part of the parent set the
    // other edges look at.
    out.sort_by_key(|e| e.child.id != parent.id);
    out
}

fn deleted_column(model: &Model) -> Option<&str> {
    model
        .soft_delete
        .filter(|sd| sd.cascade)
        .map(|sd| model.field_by_id(sd.field).column.as_str())
}

fn finish(w: SqlWriter) -> Stmt {
    Stmt {
        sql: std::sync::Arc::from(w.sql),
        params: w.params,
    }
}

/// Statements to run after `parent` rows were soft-deleted with `deleted_at`.
pub(crate) fn removal(schema: &Schema, parent: &Model, deleted_at: &SqlValue) -> Vec<Stmt> {
    let Some(pdel) = deleted_column(parent) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in edges(schema, parent) {
        let mut w = SqlWriter::default();
        if e.child.id == parent.id {
            // Live descendants of the rows just removed, at any depth.
            w.push("WITH RECURSIVE d(k) AS (SELECT ")
                .ident(e.key)
                .push(" FROM ")
                .ident(&parent.table)
                .push(" WHERE ")
                .ident(pdel)
                .push(" = ");
            w.param(deleted_at.clone());
            w.push(" UNION SELECT ")
                .qcol("c", e.key)
                .push(" FROM ")
                .ident(&parent.table)
                .push(" AS c JOIN d ON ")
                .qcol("c", e.fk)
                .push(" = d.k WHERE ")
                .qcol("c", pdel)
                .push(" IS NULL) UPDATE ")
                .ident(&parent.table)
                .push(" SET ")
                .ident(pdel)
                .push(" = ");
            w.param(deleted_at.clone());
            w.push(" WHERE ")
                .ident(pdel)
                .push(" IS NULL AND ")
                .ident(e.key)
                .push(" IN (SELECT k FROM d)");
        } else {
            w.push("UPDATE ")
                .ident(&e.child.table)
                .push(" SET ")
                .ident(e.child_deleted)
                .push(" = ");
            w.param(deleted_at.clone());
            w.push(" WHERE ")
                .ident(e.child_deleted)
                .push(" IS NULL AND ")
                .ident(e.fk)
                .push(" IN (SELECT ")
                .ident(e.key)
                .push(" FROM ")
                .ident(&parent.table)
                .push(" WHERE ")
                .ident(pdel)
                .push(" = ");
            w.param(deleted_at.clone());
            w.push(")");
        }
        out.push(finish(w));
    }
    out
}

/// Statements to run before the `parent` rows selected by `target` (a
/// filter over alias `t0`) are restored.
pub(crate) fn restoral(schema: &Schema, parent: &Model, target: &Target) -> Vec<Stmt> {
    let Some(pdel) = deleted_column(parent) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in edges(schema, parent) {
        let mut w = SqlWriter::default();
        if e.child.id == parent.id {
            // Descendants removed together with a restored row (same
            // timestamp down the chain), at any depth; the rows themselves
            // are restored by the main statement.
            w.push("WITH RECURSIVE r(k, ts, depth) AS (SELECT ")
                .qcol("t0", e.key)
                .push(", ")
                .qcol("t0", pdel)
                .push(", 0 FROM ")
                .ident(&parent.table)
                .push(" AS t0 WHERE ")
                .qcol("t0", pdel)
                .push(" IS NOT NULL AND (");
            w.filter(&target.filter, "t0");
            w.push(") UNION SELECT ")
                .qcol("c", e.key)
                .push(", ")
                .qcol("c", pdel)
                .push(", r.depth + 1 FROM ")
                .ident(&parent.table)
                .push(" AS c JOIN r ON ")
                .qcol("c", e.fk)
                .push(" = r.k AND ")
                .qcol("c", pdel)
                .push(" = r.ts) UPDATE ")
                .ident(&parent.table)
                .push(" SET ")
                .ident(pdel)
                .push(" = NULL WHERE ")
                .ident(e.key)
                .push(" IN (SELECT k FROM r WHERE depth > 0)");
        } else {
            w.push("UPDATE ")
                .ident(&e.child.table)
                .push(" SET ")
                .ident(e.child_deleted)
                .push(" = NULL WHERE ")
                .ident(e.child_deleted)
                .push(" IS NOT NULL AND EXISTS (SELECT 1 FROM ")
                .ident(&parent.table)
                .push(" AS t0 WHERE ")
                .qcol("t0", e.key)
                .push(" = ")
                .ident(&e.child.table)
                .push(".")
                .ident(e.fk)
                .push(" AND ")
                .qcol("t0", pdel)
                .push(" = ")
                .ident(&e.child.table)
                .push(".")
                .ident(e.child_deleted)
                .push(" AND (");
            w.filter(&target.filter, "t0");
            w.push("))");
        }
        out.push(finish(w));
    }
    out
}
