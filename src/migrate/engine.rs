//! Running a migration on a live connection: the transaction envelope and the
//! safety checks before it.
//!
//! Owns the envelope every migration (pushed plan, SQL file) runs in:
//! `PRAGMA foreign_keys = OFF`, `BEGIN IMMEDIATE`, (re-check the history
//! table so two processes never apply the same file twice), the statements,
//! `PRAGMA foreign_key_check` (any violation rolls everything back), the
//! history row, `COMMIT`, then the connection's settings restored. A failure
//! anywhere rolls back: the database is exactly as before.
//!
//! Also owns the preflight checks that turn would-be silent data loss into
//! errors naming what would be lost. Synchronous rusqlite; callers run it on
//! the writer thread via the runtime.

use rusqlite::Connection;

use super::diff::Change;
use super::history;
use super::introspect::{self, Snapshot};
use super::plan::Plan;
use super::sqltext::quote;
use crate::error::{Error, Result};

/// Something a plan would delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLoss {
    /// Table losing rows or a column.
    pub table: String,
    /// The column dropped, or `None` when the whole table is dropped.
    pub column: Option<String>,
    /// Rows (for a table) or non-NULL values (for a column) that would be lost.
    pub rows: i64,
}

impl std::fmt::Display for DataLoss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(
                f,
                "column `{}.{}` ({} non-null value{})",
                self.table,
                c,
                self.rows,
                if self.rows == 1 { "" } else { "s" }
            ),
            None => write!(
                f,
                "table `{}` ({} row{})",
                self.table,
                self.rows,
                if self.rows == 1 { "" } else { "s" }
            ),
        }
    }
}

/// What the plan would delete in the database behind `conn`. Dropping an
/// empty table or a column holding only NULLs loses nothing and is not listed.
///
/// # Errors
/// SQLite errors counting rows.
pub fn data_loss(conn: &Connection, plan: &Plan) -> Result<Vec<DataLoss>> {
    let mut out = Vec::new();
    let exists = |t: &str| -> Result<bool> {
        Ok(conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [t],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)?)
    };
    // Declared renames have not run yet on the live file: map back.
    let live_name = |t: &str| -> String {
        plan.changes
            .iter()
            .find_map(|c| match c {
                Change::RenameTable { from, to } if to == t => Some(from.clone()),
                _ => None,
            })
            .unwrap_or_else(|| t.to_string())
    };
    for c in &plan.changes {
        match c {
            Change::DropTable { table } if exists(table)? => {
                let rows = introspect::count_rows(conn, table)?;
                if rows > 0 {
                    out.push(DataLoss {
                        table: table.clone(),
                        column: None,
                        rows,
                    });
                }
            }
            Change::DropColumn { table, column } => {
                push_column_loss(conn, &live_name(table), table, column, &mut out)?;
            }
            Change::RebuildTable {
                table,
                dropped_columns,
                ..
            } => {
                for column in dropped_columns {
                    push_column_loss(conn, &live_name(table), table, column, &mut out)?;
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn push_column_loss(
    conn: &Connection,
    live_table: &str,
    table: &str,
    column: &str,
    out: &mut Vec<DataLoss>,
) -> Result<()> {
    // A column that does not exist live (planned from pending files) loses nothing now.
    let Ok(rows) = introspect::count_values(conn, live_table, column) else {
        return Ok(());
    };
    if rows > 0 {
        out.push(DataLoss {
            table: table.to_string(),
            column: Some(column.to_string()),
            rows,
        });
    }
    Ok(())
}

/// The error for refused data loss: [`Error::Validation`] with rule
/// `destructive`, naming the first loss in `model`/`field` and every loss in
/// the message.
pub fn destructive_error(losses: &[DataLoss]) -> Error {
    let first = &losses[0];
    let all: Vec<String> = losses.iter().map(ToString::to_string).collect();
    Error::validation(
        first.table.clone(),
        first.column.clone().unwrap_or_else(|| "*".to_string()),
        "destructive",
        format!(
            "the migration would delete data: {}; declare a rename if this is one, or allow destructive changes",
            all.join(", ")
        ),
    )
}

/// Checks that rebuilt and added columns can take the existing rows: a column
/// becoming NOT NULL without a default while NULLs exist, a NOT NULL column
/// without a default added to a non-empty table, and rows holding values a
/// new CHECK (an enum's value list) rejects are reported as
/// [`Error::Validation`] naming the table, column and offending values.
///
/// # Errors
/// The first problem found, or SQLite errors.
pub fn preflight(conn: &Connection, plan: &Plan, target: &Snapshot) -> Result<()> {
    for c in &plan.changes {
        let Change::RebuildTable { table, .. } = c else {
            continue;
        };
        let (Some(live), Some(tt)) = (plan.live.tables.get(table), target.tables.get(table)) else {
            continue;
        };
        // Declared renames have not run yet on the live file.
        let live_table = plan
            .changes
            .iter()
            .find_map(|c| match c {
                Change::RenameTable { from, to } if to == table => Some(from.clone()),
                _ => None,
            })
            .unwrap_or_else(|| table.clone());
        let renamed_from = |col: &str| -> String {
            plan.changes
                .iter()
                .find_map(|c| match c {
                    Change::RenameColumn { table: t, from, to } if t == table && to == col => {
                        Some(from.clone())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| col.to_string())
        };
        let rows = introspect::count_rows(conn, &live_table)?;
        if rows == 0 {
            continue;
        }
        for tc in tt.columns.iter().filter(|c| c.generated.is_none()) {
            let has_default = tc
                .default
                .as_deref()
                .is_some_and(|d| !d.trim().eq_ignore_ascii_case("NULL"));
            match live.column(&tc.name) {
                None if tc.not_null && !has_default => {
                    return Err(Error::validation(
                        table.clone(),
                        tc.name.clone(),
                        "not_null",
                        format!(
                            "new column `{}` is NOT NULL without a default and `{table}` has {rows} rows; add a default or make it optional",
                            tc.name
                        ),
                    ));
                }
                None => {}
                Some(lc) => {
                    if lc.definition == tc.definition {
                        continue;
                    }
                    let col = renamed_from(&lc.name);
                    if tc.not_null && !has_default {
                        let nulls: i64 = conn.query_row(
                            &format!(
                                "SELECT count(*) FROM {} WHERE {} IS NULL",
                                quote(&live_table),
                                quote(&col)
                            ),
                            [],
                            |r| r.get(0),
                        )?;
                        if nulls > 0 {
                            return Err(Error::validation(
                                table.clone(),
                                tc.name.clone(),
                                "not_null",
                                format!(
                                    "`{table}.{}` becomes NOT NULL without a default but {nulls} rows hold NULL",
                                    tc.name
                                ),
                            ));
                        }
                    }
                    for check in introspect::extract_checks(&tc.definition) {
                        check_rows(conn, &live_table, table, &col, &tc.name, &check)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn check_rows(
    conn: &Connection,
    live_table: &str,
    table: &str,
    live_col: &str,
    col: &str,
    check: &str,
) -> Result<()> {
    // The check is written against the new column name; evaluate it over the
    // old table through a subquery that exposes the old column under it.
    let sql = format!(
        "SELECT {c}, count(*) FROM (SELECT *, {lc} AS {c} FROM {t}) WHERE NOT ({check}) GROUP BY {c} ORDER BY 2 DESC LIMIT 5",
        c = quote(col),
        lc = quote(live_col),
        t = quote(live_table),
    );
    // A check over columns that do not exist yet cannot be evaluated here;
    // the copy itself will enforce it.
    let Ok(mut st) = conn.prepare(&sql) else {
        return Ok(());
    };
    let bad: Vec<(String, i64)> = st
        .query_map([], |r| {
            let v: rusqlite::types::Value = r.get(0)?;
            let shown = match v {
                rusqlite::types::Value::Text(s) => format!("'{s}'"),
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Real(f) => f.to_string(),
                rusqlite::types::Value::Null => "NULL".to_string(),
                rusqlite::types::Value::Blob(_) => "<blob>".to_string(),
            };
            Ok((shown, r.get(1)?))
        })?
        .collect::<std::result::Result<_, _>>()?;
    if bad.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = bad
        .iter()
        .map(|(v, n)| format!("{v} ({n} row{})", if *n == 1 { "" } else { "s" }))
        .collect();
    Err(Error::validation(
        table,
        col,
        "check",
        format!(
            "rows of `{table}` hold values the new schema rejects for `{col}`: {}; update or delete them first",
            list.join(", ")
        ),
    ))
}

/// Runs `sql` (statements without transaction control) as one migration:
/// foreign keys off, `BEGIN IMMEDIATE`, the statements, `PRAGMA
/// foreign_key_check`, the history row when `record` names the migration,
/// `COMMIT`. When `record` is given and the history already holds that name
/// (another process applied it first), nothing runs and `Ok(false)` returns.
///
/// # Errors
/// The failing statement's error, or [`Error::Constraint`] (foreign key) when
/// the result violates a foreign key; the database is left as before.
pub fn run(conn: &Connection, sql: &str, record: Option<(&str, &str)>) -> Result<bool> {
    let fk_on: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let result = in_transaction(conn, sql, record);
    // Restore the connection whatever happened.
    let _ = conn.execute_batch("PRAGMA legacy_alter_table = OFF");
    if fk_on != 0 {
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
    }
    result
}

fn in_transaction(conn: &Connection, sql: &str, record: Option<(&str, &str)>) -> Result<bool> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let body = || -> Result<bool> {
        if let Some((name, _)) = record {
            history::ensure(conn)?;
            if history::is_applied(conn, name)? {
                return Ok(false);
            }
        }
        conn.execute_batch(sql).map_err(|e| {
            let err = Error::from(e);
            match record {
                Some((name, _)) => annotate(err, name),
                None => err,
            }
        })?;
        fk_check(conn)?;
        if let Some((name, checksum)) = record {
            history::record(conn, name, checksum)?;
        }
        Ok(true)
    };
    match body() {
        Ok(applied) => {
            if applied {
                conn.execute_batch("COMMIT")?;
            } else {
                conn.execute_batch("ROLLBACK")?;
            }
            Ok(applied)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn annotate(err: Error, name: &str) -> Error {
    match err {
        Error::Sqlite { code, message } => Error::Sqlite {
            code,
            message: format!("migration `{name}` failed: {message}"),
        },
        Error::Constraint {
            kind,
            model,
            columns,
            message,
        } => Error::Constraint {
            kind,
            model,
            columns,
            message: format!("migration `{name}` failed: {message}"),
        },
        other => other,
    }
}

fn fk_check(conn: &Connection) -> Result<()> {
    let mut st = conn.prepare("PRAGMA foreign_key_check")?;
    let bad: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(2)?)))?
        .collect::<std::result::Result<_, _>>()?;
    if let Some((table, parent)) = bad.first() {
        return Err(Error::Constraint {
            kind: crate::error::ConstraintKind::ForeignKey,
            model: Some(table.clone()),
            columns: Vec::new(),
            message: format!(
                "{} row(s) violate foreign keys after the migration (first: `{table}` → `{parent}`); nothing was applied",
                bad.len()
            ),
        });
    }
    Ok(())
}
