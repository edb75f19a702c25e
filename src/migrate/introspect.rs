//! Live database → [`Snapshot`]: a structured description of every object
//! litestone manages in one SQLite file.
//!
//! Owns reading the schema of a connection (`sqlite_master`, `PRAGMA
//! table_list / table_xinfo / foreign_key_list / index_list / index_xinfo`)
//! and the rules for what is *not* managed: SQLite's internal tables
//! (`sqlite_*`), litestone's own bookkeeping tables (`_litestone_*`), FTS
//! shadow tables, views, and the tables of `@@external` models (plus the
//! indexes and triggers that hang off them). Plain rusqlite, synchronous, no
//! tokio: callers run it on an actor thread or on a scratch connection.
//!
//! Also builds the *pristine* snapshot of a schema: the DDL executed on a
//! fresh `:memory:` connection and introspected the same way, so both sides
//! of a diff come from the same SQLite and compare like for like.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

use super::sqltext;
use crate::error::{Error, Result};

/// Everything litestone manages in one database file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Ordinary tables by name.
    pub tables: BTreeMap<String, Table>,
    /// Explicit indexes (`CREATE [UNIQUE] INDEX`) by name. Indexes SQLite
    /// creates for `UNIQUE` / `PRIMARY KEY` constraints are part of their
    /// table's definition instead.
    pub indexes: BTreeMap<String, IndexDef>,
    /// Triggers by name.
    pub triggers: BTreeMap<String, TriggerDef>,
    /// Virtual tables (FTS5) by name; their shadow tables are not listed.
    pub virtual_tables: BTreeMap<String, VirtualTable>,
    /// Table names in creation order (`sqlite_master` order), which
    /// satisfies foreign keys for a schema built by litestone.
    pub order: Vec<String>,
    /// Where each FTS table of the schema takes its rows from, for
    /// backfilling a new FTS table that has no `content=` table. Filled from
    /// the schema on the target side; empty for a live snapshot.
    pub fts_sources: BTreeMap<String, FtsSource>,
}

/// The source rows of an FTS table: `INSERT INTO fts(rowid, columns...)
/// SELECT rowid, source_columns... FROM table`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FtsSource {
    /// Source table.
    pub table: String,
    /// Rowid expression of the source (its integer primary key, or `rowid`).
    pub rowid: String,
    /// (FTS column, source column) pairs.
    pub columns: Vec<(String, String)>,
}

/// One ordinary table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Table name.
    pub name: String,
    /// The `CREATE TABLE` text as stored by SQLite.
    pub sql: String,
    /// Columns in table order.
    pub columns: Vec<Column>,
    /// Table constraints (`PRIMARY KEY (..)`, `UNIQUE (..)`, `CHECK (..)`,
    /// `FOREIGN KEY ..`), canonical text.
    pub constraints: Vec<String>,
    /// Canonical table options after the body (`STRICT`, `WITHOUT ROWID`).
    pub options: String,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Column lists of the UNIQUE constraints declared in the table.
    pub uniques: Vec<Vec<String>>,
    /// Every CHECK expression of the table and its columns, canonical text.
    pub checks: Vec<String>,
}

impl Table {
    /// The column called `name` (case-insensitive, like SQLite).
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Primary key columns in key order.
    pub fn primary_key(&self) -> Vec<String> {
        let mut pk: Vec<&Column> = self.columns.iter().filter(|c| c.pk > 0).collect();
        pk.sort_by_key(|c| c.pk);
        pk.into_iter().map(|c| c.name.clone()).collect()
    }
}

/// One column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Declared type (`INTEGER`, `TEXT`, ...; empty when none).
    pub ty: String,
    /// `NOT NULL`.
    pub not_null: bool,
    /// Default expression as written (`'member'`, `0`, `CURRENT_TIMESTAMP`).
    pub default: Option<String>,
    /// 1-based position in the primary key, 0 when not part of it.
    pub pk: u32,
    /// Generated column kind, when generated.
    pub generated: Option<GeneratedKind>,
    /// The whole column definition, canonical text; two columns are the
    /// same when their definitions are.
    pub definition: String,
    /// The column definition as written in the `CREATE TABLE` text.
    pub sql: String,
}

/// Kinds of generated columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratedKind {
    /// `GENERATED ALWAYS AS (..) VIRTUAL`.
    Virtual,
    /// `GENERATED ALWAYS AS (..) STORED`.
    Stored,
}

/// One foreign key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForeignKey {
    /// Local columns.
    pub columns: Vec<String>,
    /// Referenced table.
    pub ref_table: String,
    /// Referenced columns (empty = the primary key).
    pub ref_columns: Vec<String>,
    /// `ON UPDATE` action.
    pub on_update: String,
    /// `ON DELETE` action.
    pub on_delete: String,
}

/// One explicit index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexDef {
    /// Index name.
    pub name: String,
    /// Indexed table.
    pub table: String,
    /// `CREATE UNIQUE INDEX`.
    pub unique: bool,
    /// Indexed columns (expressions show as `<expr>`).
    pub columns: Vec<String>,
    /// Partial index predicate (canonical text after `WHERE`).
    pub predicate: Option<String>,
    /// The statement as stored.
    pub sql: String,
    /// Canonical statement text, for comparison.
    pub canonical: String,
}

/// One trigger.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TriggerDef {
    /// Trigger name.
    pub name: String,
    /// Table the trigger is attached to.
    pub table: String,
    /// The statement as stored.
    pub sql: String,
    /// Canonical statement text, for comparison.
    pub canonical: String,
}

/// One virtual table (FTS5 and friends).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VirtualTable {
    /// Table name.
    pub name: String,
    /// Module (`fts5`).
    pub module: String,
    /// Module arguments, canonical text each (`title`, `content = 'posts'`).
    pub args: Vec<String>,
    /// The external content table (`content='posts'`), if any.
    pub content: Option<String>,
    /// The statement as stored.
    pub sql: String,
    /// Canonical statement text, for comparison.
    pub canonical: String,
}

impl VirtualTable {
    /// The indexed column names (arguments that are not `key = value` options).
    pub fn indexed_columns(&self) -> Vec<String> {
        self.args
            .iter()
            .filter(|a| !a.contains('='))
            .filter_map(|a| a.split(' ').next().map(str::to_string))
            .collect()
    }

    /// The value of option `key` (`content_rowid`), unquoted.
    pub fn option(&self, key: &str) -> Option<String> {
        self.args.iter().find_map(|a| {
            let (k, v) = a.split_once('=')?;
            if k.trim().eq_ignore_ascii_case(key) {
                Some(unquote(v.trim()))
            } else {
                None
            }
        })
    }
}

fn unquote(v: &str) -> String {
    let t = sqltext::tokenize(v);
    match t.as_slice() {
        [one] if one.kind == sqltext::TokKind::Str => {
            one.norm[1..one.norm.len() - 1].replace("''", "'")
        }
        [one] => one.norm.clone(),
        _ => v.to_string(),
    }
}

/// Which objects a snapshot leaves out, beyond the built-in rules.
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    /// Tables never touched (`@@external` models), lower-cased.
    tables: BTreeSet<String>,
}

impl Ignore {
    /// Ignores the given tables (and their indexes and triggers).
    pub fn tables<I, S>(names: I) -> Ignore
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Ignore {
            tables: names
                .into_iter()
                .map(|s| s.as_ref().to_ascii_lowercase())
                .collect(),
        }
    }

    /// Whether `table` is outside litestone's management.
    pub fn skips(&self, table: &str) -> bool {
        let lower = table.to_ascii_lowercase();
        lower.starts_with("sqlite_")
            || lower.starts_with("_litestone_")
            || self.tables.contains(&lower)
    }
}

/// Reads the managed schema of `conn` (database `main`).
///
/// # Errors
/// SQLite errors reading the catalogue.
pub fn introspect(conn: &Connection, ignore: &Ignore) -> Result<Snapshot> {
    let mut kinds: BTreeMap<String, String> = BTreeMap::new();
    {
        let mut st =
            conn.prepare("SELECT name, type FROM pragma_table_list WHERE schema = 'main'")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (n, t) = row?;
            kinds.insert(n, t);
        }
    }
    let mut master: Vec<(String, String, String, String)> = Vec::new();
    {
        let mut st = conn.prepare(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            master.push(row?);
        }
    }
    let mut snap = Snapshot::default();
    for (ty, name, tbl, sql) in &master {
        if ignore.skips(name) || ignore.skips(tbl) {
            continue;
        }
        match ty.as_str() {
            "table" => match kinds.get(name).map(String::as_str) {
                Some("shadow") => {}
                Some("virtual") => {
                    snap.virtual_tables
                        .insert(name.clone(), read_virtual(name, sql));
                }
                _ => {
                    snap.order.push(name.clone());
                    snap.tables
                        .insert(name.clone(), read_table(conn, name, sql)?);
                }
            },
            "index" => {
                snap.indexes
                    .insert(name.clone(), read_index(conn, name, tbl, sql)?);
            }
            "trigger" => {
                snap.triggers.insert(
                    name.clone(),
                    TriggerDef {
                        name: name.clone(),
                        table: tbl.clone(),
                        sql: sql.clone(),
                        canonical: sqltext::normalize(sql),
                    },
                );
            }
            _ => {}
        }
    }
    // Triggers and indexes on tables outside management (views, virtual
    // tables of external models) are not ours either.
    let managed: BTreeSet<String> = snap
        .tables
        .keys()
        .chain(snap.virtual_tables.keys())
        .map(|k| k.to_ascii_lowercase())
        .collect();
    snap.triggers
        .retain(|_, t| managed.contains(&t.table.to_ascii_lowercase()));
    snap.indexes
        .retain(|_, i| managed.contains(&i.table.to_ascii_lowercase()));
    Ok(snap)
}

fn read_table(conn: &Connection, name: &str, sql: &str) -> Result<Table> {
    let parts = sqltext::split_table(sql).unwrap_or_default();
    let mut columns = Vec::new();
    {
        let mut st = conn.prepare(
            "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1)",
        )?;
        let rows = st.query_map([name], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        for row in rows {
            let (cname, ty, nn, dflt, pk, hidden) = row?;
            let (definition, sql) = parts
                .columns
                .iter()
                .find(|(n, _, _)| n.eq_ignore_ascii_case(&cname))
                .map(|(_, d, r)| (d.clone(), r.clone()))
                .unwrap_or_default();
            columns.push(Column {
                name: cname,
                ty,
                not_null: nn != 0,
                default: dflt,
                pk: u32::try_from(pk).unwrap_or(0),
                generated: match hidden {
                    2 => Some(GeneratedKind::Virtual),
                    3 => Some(GeneratedKind::Stored),
                    _ => None,
                },
                definition,
                sql,
            });
        }
    }
    let mut fks: BTreeMap<i64, ForeignKey> = BTreeMap::new();
    {
        let mut st = conn.prepare(
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        )?;
        let rows = st.query_map([name], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        for row in rows {
            let (id, table, from, to, upd, del) = row?;
            let fk = fks.entry(id).or_insert_with(|| ForeignKey {
                ref_table: table,
                on_update: upd,
                on_delete: del,
                ..ForeignKey::default()
            });
            fk.columns.push(from);
            if let Some(to) = to {
                fk.ref_columns.push(to);
            }
        }
    }
    let mut uniques = Vec::new();
    {
        let mut st =
            conn.prepare("SELECT name FROM pragma_index_list(?1) WHERE origin = 'u' ORDER BY seq")?;
        let names: Vec<String> = st
            .query_map([name], |r| r.get::<_, String>(0))?
            .collect::<std::result::Result<_, _>>()?;
        for idx in names {
            uniques.push(index_columns(conn, &idx)?);
        }
    }
    let mut checks = Vec::new();
    for def in parts
        .columns
        .iter()
        .map(|(_, d, _)| d)
        .chain(parts.constraints.iter())
    {
        checks.extend(extract_checks(def));
    }
    Ok(Table {
        name: name.to_string(),
        sql: sql.to_string(),
        columns,
        constraints: parts.constraints,
        options: parts.options,
        foreign_keys: fks.into_values().collect(),
        uniques,
        checks,
    })
}

/// The `CHECK (...)` expressions inside a canonical definition.
pub(crate) fn extract_checks(def: &str) -> Vec<String> {
    let toks = sqltext::tokenize(def);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i].is_kw("CHECK") && toks.get(i + 1).is_some_and(|t| t.is_punct("(")) {
            let mut depth = 0usize;
            let start = i + 2;
            let mut j = i + 1;
            while j < toks.len() {
                if toks[j].is_punct("(") {
                    depth += 1;
                } else if toks[j].is_punct(")") {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                j += 1;
            }
            out.push(sqltext::join(&toks[start..j.min(toks.len())]));
            i = j;
        }
        i += 1;
    }
    out
}

fn index_columns(conn: &Connection, index: &str) -> Result<Vec<String>> {
    let mut st = conn.prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")?;
    let cols = st
        .query_map([index], |r| r.get::<_, Option<String>>(0))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(cols
        .into_iter()
        .map(|c| c.unwrap_or_else(|| "<expr>".to_string()))
        .collect())
}

fn read_index(conn: &Connection, name: &str, table: &str, sql: &str) -> Result<IndexDef> {
    let toks = sqltext::tokenize(sql);
    let unique = toks.get(1).is_some_and(|t| t.is_kw("UNIQUE"));
    // The predicate is whatever follows a top-level WHERE.
    let mut depth = 0i32;
    let mut predicate = None;
    for (n, t) in toks.iter().enumerate() {
        if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            depth -= 1;
        } else if depth == 0 && t.is_kw("WHERE") {
            let rest: Vec<_> = toks[n + 1..]
                .iter()
                .filter(|t| !t.is_punct(";"))
                .cloned()
                .collect();
            predicate = Some(sqltext::join(&rest));
            break;
        }
    }
    Ok(IndexDef {
        name: name.to_string(),
        table: table.to_string(),
        unique,
        columns: index_columns(conn, name)?,
        predicate,
        sql: sql.to_string(),
        canonical: sqltext::normalize(sql),
    })
}

fn read_virtual(name: &str, sql: &str) -> VirtualTable {
    let toks = sqltext::tokenize(sql);
    let using = toks.iter().position(|t| t.is_kw("USING"));
    let module = using
        .and_then(|u| toks.get(u + 1))
        .map(|t| t.norm.to_ascii_lowercase())
        .unwrap_or_default();
    let mut args = Vec::new();
    if let Some(open) = using
        .map(|u| u + 2)
        .filter(|o| toks.get(*o).is_some_and(|t| t.is_punct("(")))
    {
        let mut depth = 0usize;
        let mut cur: Vec<sqltext::Token> = Vec::new();
        for t in &toks[open..] {
            if t.is_punct("(") {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            } else if t.is_punct(")") {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            } else if depth == 1 && t.is_punct(",") {
                args.push(sqltext::join(&cur));
                cur.clear();
                continue;
            }
            cur.push(t.clone());
        }
        if !cur.is_empty() {
            args.push(sqltext::join(&cur));
        }
    }
    let mut vt = VirtualTable {
        name: name.to_string(),
        module,
        args,
        content: None,
        sql: sql.to_string(),
        canonical: sqltext::normalize(sql),
    };
    vt.content = vt.option("content").filter(|c| !c.is_empty());
    vt
}

/// Builds `statements` on a fresh in-memory database and introspects it:
/// the pristine image of a schema.
///
/// # Errors
/// [`Error::Sqlite`] naming the statement SQLite refused.
pub fn pristine(statements: &[String], ignore: &Ignore) -> Result<Snapshot> {
    let conn = Connection::open_in_memory()?;
    for s in statements {
        conn.execute_batch(s).map_err(|e| Error::Sqlite {
            code: None,
            message: format!("schema DDL failed on a pristine database: {e}; statement: {s}"),
        })?;
    }
    introspect(&conn, ignore)
}

/// Rebuilds the structure of `snap` (no rows) on a fresh in-memory database,
/// so renames and pending migrations can be simulated without touching the
/// live file.
///
/// # Errors
/// SQLite errors replaying a statement.
pub fn replay(snap: &Snapshot) -> Result<Connection> {
    let conn = Connection::open_in_memory()?;
    for name in &snap.order {
        if let Some(t) = snap.tables.get(name) {
            conn.execute_batch(&t.sql)?;
        }
    }
    for v in snap.virtual_tables.values() {
        conn.execute_batch(&v.sql)?;
    }
    for i in snap.indexes.values() {
        conn.execute_batch(&i.sql)?;
    }
    for t in snap.triggers.values() {
        conn.execute_batch(&t.sql)?;
    }
    Ok(conn)
}

/// Number of rows of `table`.
pub(crate) fn count_rows(conn: &Connection, table: &str) -> Result<i64> {
    Ok(conn.query_row(
        &format!("SELECT count(*) FROM {}", sqltext::quote(table)),
        [],
        |r| r.get(0),
    )?)
}

/// Number of rows of `table` whose `column` is not NULL.
pub(crate) fn count_values(conn: &Connection, table: &str, column: &str) -> Result<i64> {
    Ok(conn.query_row(
        &format!(
            "SELECT count(*) FROM {} WHERE {} IS NOT NULL",
            sqltext::quote(table),
            sqltext::quote(column)
        ),
        [],
        |r| r.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tables_indexes_triggers_and_fts() {
        let ddl = vec![
            "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x' CHECK (name IN ('x','y')), UNIQUE(name)) STRICT".to_string(),
            "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id) ON DELETE CASCADE, g TEXT GENERATED ALWAYS AS (upper(name2)) VIRTUAL, name2 TEXT)".to_string(),
            "CREATE INDEX b_a ON b(a_id) WHERE a_id IS NOT NULL".to_string(),
            "CREATE VIRTUAL TABLE a_fts USING fts5(name, content='a', content_rowid='id')".to_string(),
            "CREATE TRIGGER a_ai AFTER INSERT ON a BEGIN INSERT INTO a_fts(rowid, name) VALUES (new.id, new.name); END".to_string(),
            "CREATE TABLE _litestone_migrations (name TEXT PRIMARY KEY)".to_string(),
            "CREATE TABLE ext (id INTEGER PRIMARY KEY)".to_string(),
        ];
        let s = pristine(&ddl, &Ignore::tables(["ext"])).unwrap();
        assert_eq!(s.order, vec!["a", "b"]);
        let a = &s.tables["a"];
        assert_eq!(a.columns[1].default.as_deref(), Some("'x'"));
        assert!(a.columns[1].not_null);
        assert_eq!(a.checks, vec!["name IN ( 'x' , 'y' )"]);
        assert_eq!(a.uniques, vec![vec!["name".to_string()]]);
        assert_eq!(a.options, "STRICT");
        let b = &s.tables["b"];
        assert_eq!(b.foreign_keys[0].on_delete, "CASCADE");
        assert_eq!(b.columns[2].generated, Some(GeneratedKind::Virtual));
        assert_eq!(
            s.indexes["b_a"].predicate.as_deref(),
            Some("a_id IS NOT NULL")
        );
        let v = &s.virtual_tables["a_fts"];
        assert_eq!(v.module, "fts5");
        assert_eq!(v.content.as_deref(), Some("a"));
        assert_eq!(v.indexed_columns(), vec!["name"]);
        assert_eq!(v.option("content_rowid").as_deref(), Some("id"));
        assert!(s.triggers.contains_key("a_ai"));
        assert_eq!(s.tables.len(), 2);
        // replay reproduces the same structure
        let c = replay(&s).unwrap();
        let again = introspect(&c, &Ignore::default()).unwrap();
        assert_eq!(again, s);
    }
}
