//! Typed operations → SQL text + bound parameters, in ONE walk
//! ([`writer::SqlWriter`] appends text and pushes the parameter of each `?`
//! at the same time, so the two cannot drift).
//!
//! Owns SQL syntax only: it reads no JSON and touches no connection. Every
//! identifier it writes comes from the validated schema (copied into the
//! query AST by `query/`) and is double-quoted; every value is a parameter.
//! Aggregates, groupBy, window functions, recursive CTEs and FTS will slot in
//! as sibling files writing through the same [`writer::SqlWriter`].

pub(crate) mod analytics;
pub(crate) mod guard;
pub(crate) mod plan;
pub(crate) mod select;
pub(crate) mod write;
pub(crate) mod writer;

pub(crate) use plan::{Guard, IncludePlan, Plan, RowsPlan, Shape, Stmt};
pub(crate) use writer::KEY_SEP;
