//! Snapshot vs snapshot → the list of [`Change`]s that turn the live
//! database into the schema's pristine image.
//!
//! Pure: no connection, no I/O, no tokio. Decides, per table, whether SQLite's
//! `ALTER TABLE ADD COLUMN` / `DROP COLUMN` can do the job or whether the table
//! must be rebuilt (type, nullability, default, CHECK, key, constraint or
//! option changes; columns SQLite cannot add or drop in place). Never guesses
//! renames: a table or column that disappears while another appears is a
//! drop plus a create; declared renames are applied before diffing (see
//! [`plan`](super::plan)).
//!
//! Column order is not compared: `ADD COLUMN` appends, and litestone always
//! names columns explicitly.

use std::collections::BTreeSet;
use std::fmt;

use super::introspect::{Column, GeneratedKind, Snapshot, Table};
use super::sqltext;

/// One difference between the live database and the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A table of the schema is missing.
    CreateTable {
        /// Table name.
        table: String,
    },
    /// A table is not in the schema any more.
    DropTable {
        /// Table name.
        table: String,
    },
    /// A declared table rename.
    RenameTable {
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// A declared column rename.
    RenameColumn {
        /// Table (new name).
        table: String,
        /// Old column name.
        from: String,
        /// New column name.
        to: String,
    },
    /// A column SQLite can add in place.
    AddColumn {
        /// Table.
        table: String,
        /// Column.
        column: String,
    },
    /// A column SQLite can drop in place.
    DropColumn {
        /// Table.
        table: String,
        /// Column.
        column: String,
    },
    /// The table is rebuilt (create new, copy, drop old, rename).
    RebuildTable {
        /// Table.
        table: String,
        /// Why, one line per difference.
        reasons: Vec<String>,
        /// Live columns the schema no longer has (their data is not copied).
        dropped_columns: Vec<String>,
    },
    /// An index is created.
    CreateIndex {
        /// Indexed table.
        table: String,
        /// Index name.
        index: String,
    },
    /// An index is dropped.
    DropIndex {
        /// Indexed table.
        table: String,
        /// Index name.
        index: String,
    },
    /// A trigger is created.
    CreateTrigger {
        /// Table of the trigger.
        table: String,
        /// Trigger name.
        trigger: String,
    },
    /// A trigger is dropped.
    DropTrigger {
        /// Table of the trigger.
        table: String,
        /// Trigger name.
        trigger: String,
    },
    /// A virtual (FTS5) table is created and filled from its source table.
    CreateVirtualTable {
        /// Virtual table name.
        table: String,
    },
    /// A virtual (FTS5) table is dropped.
    DropVirtualTable {
        /// Virtual table name.
        table: String,
    },
    /// An external-content FTS index is rebuilt because its content table was.
    RefreshFts {
        /// Virtual table name.
        table: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::CreateTable { table } => write!(f, "create table `{table}`"),
            Change::DropTable { table } => write!(f, "drop table `{table}`"),
            Change::RenameTable { from, to } => write!(f, "rename table `{from}` to `{to}`"),
            Change::RenameColumn { table, from, to } => {
                write!(f, "rename column `{table}.{from}` to `{to}`")
            }
            Change::AddColumn { table, column } => write!(f, "add column `{table}.{column}`"),
            Change::DropColumn { table, column } => write!(f, "drop column `{table}.{column}`"),
            Change::RebuildTable { table, reasons, .. } => {
                write!(f, "rebuild table `{table}` ({})", reasons.join("; "))
            }
            Change::CreateIndex { index, table } => {
                write!(f, "create index `{index}` on `{table}`")
            }
            Change::DropIndex { index, table } => write!(f, "drop index `{index}` on `{table}`"),
            Change::CreateTrigger { trigger, table } => {
                write!(f, "create trigger `{trigger}` on `{table}`")
            }
            Change::DropTrigger { trigger, table } => {
                write!(f, "drop trigger `{trigger}` on `{table}`")
            }
            Change::CreateVirtualTable { table } => {
                write!(
                    f,
                    "create full-text table `{table}` (and index existing rows)"
                )
            }
            Change::DropVirtualTable { table } => write!(f, "drop full-text table `{table}`"),
            Change::RefreshFts { table } => write!(f, "rebuild full-text index `{table}`"),
        }
    }
}

/// The changes that turn `live` into `target`, in no particular order (the
/// planner orders the statements).
pub fn diff(live: &Snapshot, target: &Snapshot) -> Vec<Change> {
    let mut out = Vec::new();
    let mut rebuilt: BTreeSet<String> = BTreeSet::new();
    let mut created: BTreeSet<String> = BTreeSet::new();
    let mut dropped: BTreeSet<String> = BTreeSet::new();

    for name in &target.order {
        let Some(t) = target.tables.get(name) else {
            continue;
        };
        match live.tables.get(name) {
            None => {
                created.insert(name.clone());
                out.push(Change::CreateTable {
                    table: name.clone(),
                });
            }
            Some(l) => {
                let changes = diff_table(live, l, t);
                if changes
                    .iter()
                    .any(|c| matches!(c, Change::RebuildTable { .. }))
                {
                    rebuilt.insert(name.clone());
                }
                out.extend(changes);
            }
        }
    }
    for name in &live.order {
        if !target.tables.contains_key(name) {
            dropped.insert(name.clone());
            out.push(Change::DropTable {
                table: name.clone(),
            });
        }
    }
    let fresh = |table: &str| rebuilt.contains(table) || created.contains(table);
    let gone = |table: &str| rebuilt.contains(table) || dropped.contains(table);

    // Virtual tables first: a changed FTS table is dropped and recreated,
    // which also covers its content table having been rebuilt.
    for (name, v) in &target.virtual_tables {
        match live.virtual_tables.get(name) {
            Some(l) if l.canonical == v.canonical => {
                if v.content.as_deref().is_some_and(|c| rebuilt.contains(c)) {
                    out.push(Change::RefreshFts {
                        table: name.clone(),
                    });
                }
            }
            Some(_) => {
                out.push(Change::DropVirtualTable {
                    table: name.clone(),
                });
                out.push(Change::CreateVirtualTable {
                    table: name.clone(),
                });
            }
            None => out.push(Change::CreateVirtualTable {
                table: name.clone(),
            }),
        }
    }
    for name in live.virtual_tables.keys() {
        if !target.virtual_tables.contains_key(name) {
            out.push(Change::DropVirtualTable {
                table: name.clone(),
            });
        }
    }

    for (name, i) in &target.indexes {
        let live_same = live
            .indexes
            .get(name)
            .filter(|l| l.canonical == i.canonical && !gone(&l.table));
        match live.indexes.get(name) {
            _ if fresh(&i.table) => {
                if let Some(l) = live.indexes.get(name).filter(|l| !gone(&l.table)) {
                    out.push(Change::DropIndex {
                        table: l.table.clone(),
                        index: name.clone(),
                    });
                }
                out.push(Change::CreateIndex {
                    table: i.table.clone(),
                    index: name.clone(),
                });
            }
            Some(_) if live_same.is_some() => {}
            Some(l) => {
                if !gone(&l.table) {
                    out.push(Change::DropIndex {
                        table: l.table.clone(),
                        index: name.clone(),
                    });
                }
                out.push(Change::CreateIndex {
                    table: i.table.clone(),
                    index: name.clone(),
                });
            }
            None => out.push(Change::CreateIndex {
                table: i.table.clone(),
                index: name.clone(),
            }),
        }
    }
    for (name, l) in &live.indexes {
        if !target.indexes.contains_key(name) && !gone(&l.table) {
            out.push(Change::DropIndex {
                table: l.table.clone(),
                index: name.clone(),
            });
        }
    }

    let vt_recreated = |t: &str| {
        target.virtual_tables.contains_key(t)
            && live.virtual_tables.get(t).is_none_or(|l| {
                Some(&l.canonical) != target.virtual_tables.get(t).map(|v| &v.canonical)
            })
    };
    let vt_gone = |t: &str| {
        live.virtual_tables.contains_key(t)
            && target.virtual_tables.get(t).is_none_or(|v| {
                Some(&v.canonical) != live.virtual_tables.get(t).map(|l| &l.canonical)
            })
    };
    for (name, t) in &target.triggers {
        let recreate = fresh(&t.table) || vt_recreated(&t.table);
        match live.triggers.get(name) {
            Some(l) if l.canonical == t.canonical && !recreate => {}
            Some(l) => {
                if !gone(&l.table) && !vt_gone(&l.table) {
                    out.push(Change::DropTrigger {
                        table: l.table.clone(),
                        trigger: name.clone(),
                    });
                }
                out.push(Change::CreateTrigger {
                    table: t.table.clone(),
                    trigger: name.clone(),
                });
            }
            None => out.push(Change::CreateTrigger {
                table: t.table.clone(),
                trigger: name.clone(),
            }),
        }
    }
    for (name, l) in &live.triggers {
        if !target.triggers.contains_key(name) && !gone(&l.table) && !vt_gone(&l.table) {
            out.push(Change::DropTrigger {
                table: l.table.clone(),
                trigger: name.clone(),
            });
        }
    }
    out
}

/// Changes for one table present on both sides.
fn diff_table(live_snap: &Snapshot, live: &Table, target: &Table) -> Vec<Change> {
    let mut reasons = Vec::new();
    if live.options != target.options {
        reasons.push(format!(
            "table options `{}` → `{}`",
            live.options, target.options
        ));
    }
    let mut lc = live.constraints.clone();
    let mut tc = target.constraints.clone();
    lc.sort();
    tc.sort();
    if lc != tc {
        for c in tc.iter().filter(|c| !lc.contains(c)) {
            reasons.push(format!("add constraint `{c}`"));
        }
        for c in lc.iter().filter(|c| !tc.contains(c)) {
            reasons.push(format!("drop constraint `{c}`"));
        }
    }
    let mut added = Vec::new();
    for tcol in &target.columns {
        match live.column(&tcol.name) {
            Some(lcol) if lcol.definition == tcol.definition => {}
            Some(lcol) => reasons.push(describe_column_change(lcol, tcol)),
            None => added.push(tcol),
        }
    }
    let dropped: Vec<&Column> = live
        .columns
        .iter()
        .filter(|c| target.column(&c.name).is_none())
        .collect();

    for a in &added {
        if let Some(why) = cannot_add(a) {
            reasons.push(format!("add column `{}` ({why})", a.name));
        }
    }
    for d in &dropped {
        if let Some(why) = cannot_drop(live_snap, live, d) {
            reasons.push(format!("drop column `{}` ({why})", d.name));
        }
    }
    if !reasons.is_empty() {
        return vec![Change::RebuildTable {
            table: target.name.clone(),
            reasons,
            dropped_columns: dropped.iter().map(|c| c.name.clone()).collect(),
        }];
    }
    let mut out: Vec<Change> = added
        .iter()
        .map(|c| Change::AddColumn {
            table: target.name.clone(),
            column: c.name.clone(),
        })
        .collect();
    out.extend(dropped.iter().map(|c| Change::DropColumn {
        table: target.name.clone(),
        column: c.name.clone(),
    }));
    out
}

fn describe_column_change(l: &Column, t: &Column) -> String {
    let mut what = Vec::new();
    if !l.ty.eq_ignore_ascii_case(&t.ty) {
        what.push(format!("type {} → {}", l.ty, t.ty));
    }
    if l.not_null != t.not_null {
        what.push(if t.not_null {
            "now NOT NULL".to_string()
        } else {
            "now nullable".to_string()
        });
    }
    if l.default != t.default {
        what.push(format!(
            "default {} → {}",
            l.default.as_deref().unwrap_or("none"),
            t.default.as_deref().unwrap_or("none")
        ));
    }
    if l.pk != t.pk {
        what.push("primary key changed".to_string());
    }
    if l.generated != t.generated {
        what.push("generated expression changed".to_string());
    }
    let lchecks = super::introspect::extract_checks(&l.definition);
    let tchecks = super::introspect::extract_checks(&t.definition);
    if lchecks != tchecks {
        what.push(format!(
            "check `{}` → `{}`",
            lchecks.join(" AND "),
            tchecks.join(" AND ")
        ));
    }
    if what.is_empty() {
        what.push(format!(
            "definition `{}` → `{}`",
            l.definition, t.definition
        ));
    }
    format!("column `{}`: {}", t.name, what.join(", "))
}

/// Why `ALTER TABLE ADD COLUMN` cannot add `c`, if it cannot.
fn cannot_add(c: &Column) -> Option<&'static str> {
    let toks = sqltext::tokenize(&c.definition);
    if c.pk > 0 || toks.iter().any(|t| t.is_kw("PRIMARY")) {
        return Some("primary key");
    }
    if toks.iter().any(|t| t.is_kw("UNIQUE")) {
        return Some("unique");
    }
    if c.generated == Some(GeneratedKind::Stored) {
        return Some("stored generated column");
    }
    let default = c.default.as_deref().map(str::trim);
    let null_default = default.is_none_or(|d| d.eq_ignore_ascii_case("NULL"));
    if c.not_null && null_default && c.generated.is_none() {
        return Some("NOT NULL without a default");
    }
    if let Some(d) = default {
        let u = d.to_ascii_uppercase();
        if d.starts_with('(') || u.starts_with("CURRENT_") {
            return Some("default is an expression");
        }
    }
    if toks.iter().any(|t| t.is_kw("REFERENCES")) && !null_default {
        return Some("foreign key with a non-NULL default");
    }
    None
}

/// Why `ALTER TABLE DROP COLUMN` cannot drop `c` from `table`, if it cannot.
fn cannot_drop(snap: &Snapshot, table: &Table, c: &Column) -> Option<&'static str> {
    if c.pk > 0 {
        return Some("primary key");
    }
    if table
        .uniques
        .iter()
        .any(|u| u.iter().any(|n| n.eq_ignore_ascii_case(&c.name)))
    {
        return Some("unique");
    }
    if table
        .foreign_keys
        .iter()
        .any(|f| f.columns.iter().any(|n| n.eq_ignore_ascii_case(&c.name)))
    {
        return Some("foreign key");
    }
    if table
        .columns
        .iter()
        .filter(|o| !o.name.eq_ignore_ascii_case(&c.name))
        .any(|o| sqltext::mentions(&o.definition, &c.name))
        || table
            .constraints
            .iter()
            .any(|k| sqltext::mentions(k, &c.name))
    {
        return Some("used by another column or constraint");
    }
    if snap
        .indexes
        .values()
        .filter(|i| i.table.eq_ignore_ascii_case(&table.name))
        .any(|i| sqltext::mentions(&i.canonical, &c.name))
    {
        return Some("indexed");
    }
    if snap
        .triggers
        .values()
        .any(|t| sqltext::mentions(&t.canonical, &c.name))
    {
        return Some("used by a trigger");
    }
    if snap
        .virtual_tables
        .values()
        .any(|v| v.content.as_deref() == Some(table.name.as_str()))
    {
        return Some("content of a full-text table");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::introspect::{Ignore, pristine};
    use super::*;

    fn snap(ddl: &[&str]) -> Snapshot {
        let v: Vec<String> = ddl.iter().map(|s| s.to_string()).collect();
        pristine(&v, &Ignore::default()).unwrap()
    }

    #[test]
    fn identical_schemas_have_no_changes() {
        let a = snap(&[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT)",
            "CREATE INDEX t_n ON t(n)",
        ]);
        let b = snap(&[
            "create table \"t\" (\"id\" integer primary key, \"n\" text)",
            "CREATE INDEX IF NOT EXISTS t_n ON t (n)",
        ]);
        assert_eq!(diff(&a, &b), vec![]);
    }

    #[test]
    fn nullable_column_is_added_in_place() {
        let a = snap(&["CREATE TABLE t (id INTEGER PRIMARY KEY)"]);
        let b = snap(&[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT, m INTEGER NOT NULL DEFAULT 0)",
        ]);
        assert_eq!(
            diff(&a, &b),
            vec![
                Change::AddColumn {
                    table: "t".into(),
                    column: "n".into()
                },
                Change::AddColumn {
                    table: "t".into(),
                    column: "m".into()
                },
            ]
        );
    }

    #[test]
    fn type_change_rebuilds() {
        let a = snap(&[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT)",
            "CREATE INDEX t_n ON t(n)",
        ]);
        let b = snap(&[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)",
            "CREATE INDEX t_n ON t(n)",
        ]);
        let d = diff(&a, &b);
        assert!(
            matches!(&d[0], Change::RebuildTable { reasons, .. } if reasons[0].contains("type TEXT → INTEGER"))
        );
        assert_eq!(
            d[1],
            Change::CreateIndex {
                table: "t".into(),
                index: "t_n".into()
            }
        );
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn drops_are_in_place_when_possible() {
        let a = snap(&[
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT, u TEXT UNIQUE)",
            "CREATE TABLE gone (id INTEGER)",
        ]);
        let b = snap(&["CREATE TABLE t (id INTEGER PRIMARY KEY, u TEXT UNIQUE)"]);
        assert_eq!(
            diff(&a, &b),
            vec![
                Change::DropColumn {
                    table: "t".into(),
                    column: "n".into()
                },
                Change::DropTable {
                    table: "gone".into()
                },
            ]
        );
        let c = snap(&["CREATE TABLE t (id INTEGER PRIMARY KEY, n TEXT)"]);
        assert!(
            matches!(&diff(&a, &c)[0], Change::RebuildTable { dropped_columns, .. } if dropped_columns == &vec!["u".to_string()])
        );
    }
}
