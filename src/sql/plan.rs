//! Compiled plans: what `exec/` runs on a connection and how it shapes the
//! result. Plain data (`Send + 'static`), built on the caller's task and moved
//! to an actor thread.

use std::sync::Arc;

use rusqlite::types::Value as SqlValue;

use crate::query::ast::OutCol;
use crate::query::cursor::CursorSpec;

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stmt {
    /// SQL text (shared between identical statements of a bulk write).
    pub(crate) sql: Arc<str>,
    /// Parameters, in `?` order.
    pub(crate) params: Vec<SqlValue>,
}

/// A statement returning rows, with the includes stitched onto them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RowsPlan {
    /// The statement (a SELECT, or a write with RETURNING).
    pub(crate) stmt: Stmt,
    /// Visible columns: row positions `0..cols.len()`.
    pub(crate) cols: std::sync::Arc<Vec<OutCol>>,
    /// Hidden columns after them (keys), kept raw.
    pub(crate) hidden: usize,
    /// Relations to fetch for these rows, one statement each.
    pub(crate) includes: Vec<IncludePlan>,
}

/// One relation level: a statement over `json_each(?)` of the parent keys,
/// whose first hidden column is the parent key each row belongs to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IncludePlan {
    /// JSON key on the parent row.
    pub(crate) key: String,
    /// Array (to-many) or object/null (to-one).
    pub(crate) to_many: bool,
    /// Index of the parent key among the parent's hidden columns.
    pub(crate) parent_key: usize,
    /// The child rows; the named parameter `:keys` of its statement is bound
    /// to the parent keys (a JSON array), the other parameters in order.
    pub(crate) child: RowsPlan,
}

/// How a rows result is returned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    /// An array.
    Many,
    /// The first row or `null`.
    First,
    /// The first row or [`crate::Error::NotFound`] (model, message).
    OrThrow(String, String),
    /// Nothing (`select: false` writes): `null`.
    Null,
}

/// Everything a model call runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Plan {
    /// Rows (reads and writes with RETURNING).
    Rows {
        /// The rows.
        rows: RowsPlan,
        /// The result shape.
        shape: Shape,
    },
    /// `SELECT COUNT(*)` → a number.
    Count(Stmt),
    /// `SELECT EXISTS(…)` → a bool.
    Exists(Stmt),
    /// `{rows, total}` in one snapshot.
    RowsAndCount {
        /// The page.
        rows: RowsPlan,
        /// The total.
        count: Stmt,
    },
    /// A keyset page: `limit + 1` rows fetched; hidden columns `order` hold
    /// the cursor values.
    Cursor {
        /// The rows.
        rows: RowsPlan,
        /// Page size.
        limit: usize,
        /// Hidden indexes of the ordering columns (primary key last).
        order: Vec<usize>,
        /// How to seal the next cursor.
        spec: CursorSpec,
    },
    /// Statements whose changes are summed → `{count}`.
    Exec(Vec<Stmt>),
    /// Extra writes around a plan in the same command (soft-delete
    /// cascades): `before` runs first, then `plan` (whose result is the
    /// call's), then `after`.
    Around {
        /// Run before the plan.
        before: Vec<Stmt>,
        /// The plan.
        plan: Box<Plan>,
        /// Run after the plan.
        after: Vec<Stmt>,
    },
    /// `aggregate` / `groupBy` (see [`super::analytics`]).
    Agg(super::analytics::AggPlan),
    /// Recursive rows, flat or nested into trees (see [`super::analytics`]).
    Tree(super::analytics::TreePlan),
    /// A create/update with nested relation writes.
    Nested(super::analytics::NestedPlan),
    /// Access checks run first (same connection, same command); the first
    /// that refuses fails the call with [`crate::Error::AccessDenied`] before
    /// anything is written.
    Guarded {
        /// The checks, in order.
        guards: Vec<Guard>,
        /// What runs when every check passes.
        plan: Box<Plan>,
    },
}

/// One access check (see [`crate::query::policy`]): a statement returning no
/// row (pass) or one row `ok, flag1, …, flagN`. `ok = 1` passes; otherwise
/// the message is that of the first set flag (or the default).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Guard {
    /// The check.
    pub(crate) stmt: Stmt,
    /// Model name (for the error).
    pub(crate) model: String,
    /// `read`, `create`, `update` or `delete`.
    pub(crate) operation: &'static str,
    /// Per flag: its custom message (`None`: the default).
    pub(crate) messages: Vec<Option<String>>,
    /// The message when no flag carries one.
    pub(crate) default: String,
}

impl Plan {
    /// Every statement of the plan with its nesting (for snapshots).
    pub(crate) fn statements(&self) -> Vec<&Stmt> {
        fn rows<'a>(r: &'a RowsPlan, out: &mut Vec<&'a Stmt>) {
            out.push(&r.stmt);
            for i in &r.includes {
                rows(&i.child, out);
            }
        }
        let mut out = Vec::new();
        match self {
            Plan::Rows { rows: r, .. } | Plan::Cursor { rows: r, .. } => rows(r, &mut out),
            Plan::Count(s) | Plan::Exists(s) => out.push(s),
            Plan::RowsAndCount { rows: r, count } => {
                rows(r, &mut out);
                out.push(count);
            }
            Plan::Exec(s) => out.extend(s.iter()),
            Plan::Around {
                before,
                plan,
                after,
            } => {
                out.extend(before.iter());
                out.extend(plan.statements());
                out.extend(after.iter());
            }
            Plan::Agg(a) => out.push(&a.stmt),
            Plan::Tree(t) => rows(&t.rows, &mut out),
            Plan::Nested(n) => {
                out.extend(n.steps.iter().map(|s| &s.stmt));
                if let Some((r, _)) = &n.result {
                    rows(r, &mut out);
                }
            }
            Plan::Guarded { guards, plan } => {
                out.extend(guards.iter().map(|g| &g.stmt));
                out.extend(plan.statements());
            }
        }
        out
    }
}
