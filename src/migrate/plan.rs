//! Changes → SQL: the statements of one migration, in an order SQLite accepts.
//!
//! Owns declared renames (simulated on a structure-only replay of the live
//! schema so the diff sees the renamed tables and columns exactly as SQLite
//! will rewrite them), the choice between `ALTER TABLE` and the table rebuild,
//! the rebuild itself (SQLite's documented procedure: create `_new_<t>`, copy
//! the common columns with conversions, drop the old table, rename, recreate
//! its indexes and triggers, refresh FTS), and FTS backfills.
//!
//! The statements never contain transaction control: whoever runs them wraps
//! them in one `BEGIN IMMEDIATE ... COMMIT` with foreign keys switched off
//! around it and `PRAGMA foreign_key_check` before the commit (see
//! [`engine`](super::engine)). Synchronous rusqlite on scratch connections
//! only; never touches the live database.

use std::collections::BTreeSet;

use super::diff::{Change, diff};
use super::introspect::{self, Ignore, Snapshot, Table};
use super::sqltext::{self, quote};
use crate::error::{Error, Result};

/// A declared rename. Renames are applied only when declared, never guessed
/// from a drop plus an add. Names are table and column names (the model and
/// field names unless `@@map` / `@map` say otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rename {
    /// `ALTER TABLE from RENAME TO to`.
    Table {
        /// Current name in the database.
        from: String,
        /// Name in the schema.
        to: String,
    },
    /// `ALTER TABLE table RENAME COLUMN from TO to`.
    Column {
        /// Table (its name in the schema, after any table rename).
        table: String,
        /// Current column name in the database.
        from: String,
        /// Column name in the schema.
        to: String,
    },
}

impl Rename {
    /// Declares that table `from` is now called `to`.
    pub fn table(from: &str, to: &str) -> Rename {
        Rename::Table {
            from: from.to_string(),
            to: to.to_string(),
        }
    }

    /// Declares that column `from` of `table` is now called `to`.
    pub fn column(table: &str, from: &str, to: &str) -> Rename {
        Rename::Column {
            table: table.to_string(),
            from: from.to_string(),
            to: to.to_string(),
        }
    }
}

/// The result of planning: what changes and the SQL that does it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// The changes, renames first.
    pub changes: Vec<Change>,
    /// The statements, in execution order, without transaction control.
    pub statements: Vec<String>,
    /// The live snapshot after declared renames (what the changes apply to).
    pub live: Snapshot,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The statements as one SQL script, one statement per line, each
    /// preceded by a comment naming the change it belongs to.
    pub fn script(&self) -> String {
        let mut s = String::new();
        for c in &self.changes {
            s.push_str(&format!("-- {c}\n"));
        }
        if !self.changes.is_empty() {
            s.push('\n');
        }
        for st in &self.statements {
            s.push_str(st.trim_end_matches(';'));
            s.push_str(";\n");
        }
        s
    }
}

/// Plans the migration from `live` to `target`, applying the declared
/// `renames` that fit (a rename whose old name is gone and new name exists is
/// taken as already applied and skipped).
///
/// # Errors
/// [`Error::InvalidArgs`] for a rename whose names exist on neither side;
/// SQLite errors simulating a rename.
pub fn plan(live: &Snapshot, target: &Snapshot, renames: &[Rename]) -> Result<Plan> {
    let mut statements = Vec::new();
    let mut changes = Vec::new();
    let mut live = live.clone();
    if !renames.is_empty() {
        let mut rename_sql = Vec::new();
        for r in renames {
            match r {
                Rename::Table { from, to } => {
                    let has_from = live.tables.contains_key(from);
                    let has_to = live.tables.contains_key(to);
                    if has_from && !has_to && target.tables.contains_key(to) {
                        rename_sql.push(format!(
                            "ALTER TABLE {} RENAME TO {}",
                            quote(from),
                            quote(to)
                        ));
                        changes.push(Change::RenameTable {
                            from: from.clone(),
                            to: to.clone(),
                        });
                    } else if !has_from && !has_to {
                        return Err(Error::invalid_args(
                            "renames",
                            format!("rename of table `{from}` to `{to}`: neither table exists"),
                        ));
                    }
                }
                Rename::Column { table, from, to } => {
                    // The table may have been renamed just before.
                    let current = changes
                        .iter()
                        .find_map(|c| match c {
                            Change::RenameTable { from: f, to: t } if t == table => Some(f),
                            _ => None,
                        })
                        .unwrap_or(table);
                    let Some(lt) = live.tables.get(current) else {
                        return Err(Error::invalid_args(
                            "renames",
                            format!("rename of column `{table}.{from}`: no table `{table}`"),
                        ));
                    };
                    let has_from = lt.column(from).is_some();
                    let has_to = lt.column(to).is_some();
                    let wanted = target
                        .tables
                        .get(table)
                        .is_some_and(|t| t.column(to).is_some());
                    if has_from && !has_to && wanted {
                        rename_sql.push(format!(
                            "ALTER TABLE {} RENAME COLUMN {} TO {}",
                            quote(table),
                            quote(from),
                            quote(to)
                        ));
                        changes.push(Change::RenameColumn {
                            table: table.clone(),
                            from: from.clone(),
                            to: to.clone(),
                        });
                    } else if !has_from && !has_to {
                        return Err(Error::invalid_args(
                            "renames",
                            format!(
                                "rename of column `{table}.{from}` to `{to}`: neither column exists"
                            ),
                        ));
                    }
                }
            }
        }
        if !rename_sql.is_empty() {
            let scratch = introspect::replay(&live)?;
            for s in &rename_sql {
                scratch.execute_batch(s)?;
            }
            live = introspect::introspect(&scratch, &Ignore::default())?;
            statements.extend(rename_sql);
        }
    }
    let diffed = diff(&live, target);
    statements.extend(statements_for(&live, target, &diffed));
    changes.extend(diffed);
    Ok(Plan {
        changes,
        statements,
        live,
    })
}

/// Orders and renders the statements of `changes`.
fn statements_for(live: &Snapshot, target: &Snapshot, changes: &[Change]) -> Vec<String> {
    let mut out = Vec::new();
    for c in changes {
        match c {
            Change::DropTrigger { trigger, .. } => {
                out.push(format!("DROP TRIGGER IF EXISTS {}", quote(trigger)));
            }
            Change::DropVirtualTable { table } => {
                out.push(format!("DROP TABLE IF EXISTS {}", quote(table)));
            }
            Change::DropIndex { index, .. } => {
                out.push(format!("DROP INDEX IF EXISTS {}", quote(index)));
            }
            _ => {}
        }
    }
    for name in &target.order {
        if changes
            .iter()
            .any(|c| matches!(c, Change::CreateTable { table } if table == name))
        {
            if let Some(t) = target.tables.get(name) {
                out.push(t.sql.clone());
            }
        }
    }
    for c in changes {
        match c {
            Change::AddColumn { table, column } => {
                if let Some(col) = target.tables.get(table).and_then(|t| t.column(column)) {
                    out.push(format!(
                        "ALTER TABLE {} ADD COLUMN {}",
                        quote(table),
                        col.sql
                    ));
                }
            }
            Change::DropColumn { table, column } => {
                out.push(format!(
                    "ALTER TABLE {} DROP COLUMN {}",
                    quote(table),
                    quote(column)
                ));
            }
            _ => {}
        }
    }
    for c in changes {
        if let Change::RebuildTable { table, .. } = c {
            if let (Some(l), Some(t)) = (live.tables.get(table), target.tables.get(table)) {
                out.extend(rebuild(l, t));
            }
        }
    }
    for c in changes {
        if let Change::DropTable { table } = c {
            out.push(format!("DROP TABLE IF EXISTS {}", quote(table)));
        }
    }
    for c in changes {
        if let Change::CreateIndex { index, .. } = c {
            if let Some(i) = target.indexes.get(index) {
                out.push(i.sql.clone());
            }
        }
    }
    let mut filled: BTreeSet<&str> = BTreeSet::new();
    for c in changes {
        if let Change::CreateVirtualTable { table } = c {
            if let Some(v) = target.virtual_tables.get(table) {
                out.push(v.sql.clone());
                if v.content.is_some() {
                    out.push(fts_rebuild(table));
                } else if let Some(src) = target.fts_sources.get(table) {
                    let cols: Vec<String> = src.columns.iter().map(|(f, _)| quote(f)).collect();
                    let srcs: Vec<String> = src.columns.iter().map(|(_, s)| quote(s)).collect();
                    out.push(format!(
                        "INSERT INTO {} (rowid, {}) SELECT {}, {} FROM {}",
                        quote(table),
                        cols.join(", "),
                        quote(&src.rowid),
                        srcs.join(", "),
                        quote(&src.table)
                    ));
                }
                filled.insert(table);
            }
        }
    }
    for c in changes {
        if let Change::CreateTrigger { trigger, .. } = c {
            if let Some(t) = target.triggers.get(trigger) {
                out.push(t.sql.clone());
            }
        }
    }
    for c in changes {
        if let Change::RefreshFts { table } = c {
            if !filled.contains(table.as_str()) {
                out.push(fts_rebuild(table));
            }
        }
    }
    out
}

fn fts_rebuild(table: &str) -> String {
    format!("INSERT INTO {t} ({t}) VALUES ('rebuild')", t = quote(table))
}

/// The rebuild of `live` into `target` (same name): SQLite's generalized
/// ALTER TABLE procedure, minus the transaction and foreign-key switches the
/// engine adds around the whole migration.
pub(crate) fn rebuild(live: &Table, target: &Table) -> Vec<String> {
    let tmp = format!("_new_{}", target.name);
    let body = sqltext::split_table(&target.sql)
        .map(|p| target.sql[p.body_start..].to_string())
        .unwrap_or_default();
    let mut cols = Vec::new();
    let mut exprs = Vec::new();
    // Keep rowids of rowid tables without an INTEGER PRIMARY KEY alias:
    // external-content FTS indexes and implicit references point at them.
    let pk = target.primary_key();
    let aliased = pk.len() == 1
        && target
            .column(&pk[0])
            .is_some_and(|c| c.ty.eq_ignore_ascii_case("INTEGER"));
    let rowid_table = |t: &Table| !t.options.contains("WITHOUT ROWID");
    if !aliased && rowid_table(target) && rowid_table(live) {
        cols.push("rowid".to_string());
        exprs.push("rowid".to_string());
    }
    for t in &target.columns {
        if t.generated.is_some() {
            continue;
        }
        let Some(l) = live.column(&t.name) else {
            continue;
        };
        cols.push(quote(&t.name));
        exprs.push(copy_expr(l, t));
    }
    vec![
        format!("CREATE TABLE {} {}", quote(&tmp), body),
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            quote(&tmp),
            cols.join(", "),
            exprs.join(", "),
            quote(&live.name)
        ),
        format!("DROP TABLE {}", quote(&live.name)),
        // Legacy mode keeps SQLite from re-checking views and triggers of
        // other tables that mention the (momentarily absent) table name.
        "PRAGMA legacy_alter_table = ON".to_string(),
        format!(
            "ALTER TABLE {} RENAME TO {}",
            quote(&tmp),
            quote(&target.name)
        ),
        "PRAGMA legacy_alter_table = OFF".to_string(),
    ]
}

/// How a live column's values are carried into the rebuilt column: cast when
/// the declared type changes, `coalesce` with the new default when the column
/// becomes NOT NULL.
fn copy_expr(l: &introspect::Column, t: &introspect::Column) -> String {
    let mut e = quote(&l.name);
    if l.definition == t.definition {
        return e;
    }
    let ty = t.ty.trim().to_ascii_uppercase();
    if !l.ty.eq_ignore_ascii_case(&t.ty) && !ty.is_empty() && ty != "ANY" {
        e = format!("CAST({e} AS {ty})");
    }
    if t.not_null {
        if let Some(d) = t.default.as_deref() {
            let d = d.trim();
            if !d.eq_ignore_ascii_case("NULL") {
                let d = if d.starts_with('(') {
                    d.to_string()
                } else {
                    format!("({d})")
                };
                e = format!("coalesce({e}, {d})");
            }
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::super::introspect::{Ignore, pristine};
    use super::*;
    use rusqlite::Connection;

    fn ddl(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn run(conn: &Connection, p: &Plan) {
        conn.execute_batch("PRAGMA foreign_keys=OFF; BEGIN")
            .unwrap();
        for s in &p.statements {
            conn.execute_batch(s).unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
    }

    #[test]
    fn rebuild_converts_and_fills_defaults() {
        let old = ddl(&[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT, r TEXT)",
            "CREATE INDEX t_r ON t(r)",
        ]);
        let new = ddl(&[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, r TEXT NOT NULL DEFAULT 'x')",
            "CREATE INDEX t_r ON t(r)",
        ]);
        let conn = Connection::open_in_memory().unwrap();
        for s in &old {
            conn.execute_batch(s).unwrap();
        }
        conn.execute_batch("INSERT INTO t VALUES (1, '42', NULL), (2, '7', 'y')")
            .unwrap();
        let live = introspect::introspect(&conn, &Ignore::default()).unwrap();
        let target = pristine(&new, &Ignore::default()).unwrap();
        let p = plan(&live, &target, &[]).unwrap();
        run(&conn, &p);
        let rows: Vec<(i64, String)> = conn
            .prepare("SELECT n, r FROM t ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(rows, vec![(42, "x".to_string()), (7, "y".to_string())]);
        let after = introspect::introspect(&conn, &Ignore::default()).unwrap();
        assert!(
            diff(&after, &target).is_empty(),
            "{:?}",
            diff(&after, &target)
        );
    }

    #[test]
    fn declared_column_rename_keeps_data() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, 'a');",
        )
        .unwrap();
        let live = introspect::introspect(&conn, &Ignore::default()).unwrap();
        let target = pristine(
            &ddl(&["CREATE TABLE t (id INTEGER PRIMARY KEY, title TEXT)"]),
            &Ignore::default(),
        )
        .unwrap();
        // Undeclared: a drop plus an add.
        let guess = plan(&live, &target, &[]).unwrap();
        assert!(
            guess
                .changes
                .iter()
                .any(|c| matches!(c, Change::DropColumn { .. }))
        );
        let p = plan(&live, &target, &[Rename::column("t", "name", "title")]).unwrap();
        assert_eq!(p.changes.len(), 1);
        run(&conn, &p);
        let v: String = conn
            .query_row("SELECT title FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, "a");
        // Running the same plan again finds nothing to do.
        let live = introspect::introspect(&conn, &Ignore::default()).unwrap();
        let again = plan(&live, &target, &[Rename::column("t", "name", "title")]).unwrap();
        assert!(again.is_empty());
    }
}
