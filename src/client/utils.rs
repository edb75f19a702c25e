//! SQLite utilities on the client (the seeds' database helpers): raw
//! [`Client::sql`] / [`Client::exec`], pragmas, online backup, integrity
//! check, VACUUM / ANALYZE, ATTACH / DETACH, WAL status and checkpoints, and
//! schema introspection. All of them act on the `main` database.
//!
//! Where each runs: `sql` on the writer (DML group-committed, anything else —
//! DDL, PRAGMA, VACUUM — outside a transaction), or inside the transaction of
//! a [`crate::Tx`] handle; `exec`, `set_pragma`, `vacuum`, `analyze`,
//! `attach`, `detach` and checkpoints on the writer outside any transaction;
//! `backup`, `integrity_check`, WAL status and introspection on a reader.
//! `vacuum`, `analyze`, `attach`, `detach`, `wal_checkpoint` and `backup` need
//! the writer outside any transaction, so on a transaction's handle they fail
//! with [`Error::InvalidArgs`] instead of waiting for the transaction itself.
//! `sql` and `sql_read` report each statement to `on_query` listeners
//! (operation `sql`, duration measured on the actor thread).
//!
//! JSON ⇄ SQLite values: `null` → NULL, `true`/`false` → 1/0, integral numbers
//! → INTEGER (u64 beyond i64 → REAL), other numbers → REAL, strings → TEXT,
//! arrays and objects → their JSON text. Out: INTEGER and REAL → numbers
//! (NaN/∞ → `null`), TEXT → strings, BLOB → standard base64 strings (JSON has
//! no bytes type and base64 round-trips losslessly), NULL → `null`.

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{Connection, ToSql};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{Client, QueryEvent};
use crate::error::{Error, Result};
use crate::runtime::Runtime;
use crate::runtime::open::validate_pragma;

/// Binds a JSON value as an SQLite parameter (see the module docs).
struct JsonParam<'a>(&'a Value);

impl ToSql for JsonParam<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Owned(SqlValue::Null),
            Value::Bool(b) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*b))),
            Value::Number(n) => match n.as_i64() {
                Some(i) => ToSqlOutput::Owned(SqlValue::Integer(i)),
                None => ToSqlOutput::Owned(SqlValue::Real(n.as_f64().unwrap_or(f64::NAN))),
            },
            Value::String(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            other => ToSqlOutput::Owned(SqlValue::Text(other.to_string())),
        })
    }
}

/// An SQLite value as JSON (see the module docs).
fn to_json(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        ValueRef::Text(t) => Value::String(crate::codec::text(t).into_owned()),
        ValueRef::Blob(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
    }
}

/// Binds `params`: an array (positional), an object (named: `{"id": 1}`
/// binds `:id`, `@id` or `$id`), or `null` (none).
fn bind(stmt: &mut rusqlite::Statement<'_>, params: &Value) -> Result<()> {
    match params {
        Value::Null => Ok(()),
        Value::Array(items) => {
            let expected = stmt.parameter_count();
            if items.len() != expected {
                return Err(Error::invalid_args(
                    "params",
                    format!(
                        "the statement takes {expected} parameters, {} given",
                        items.len()
                    ),
                ));
            }
            for (i, v) in items.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, JsonParam(v))?;
            }
            Ok(())
        }
        Value::Object(map) => {
            for (k, v) in map {
                let index = if k.starts_with([':', '@', '$']) {
                    stmt.parameter_index(k)?
                } else {
                    [":", "@", "$"]
                        .iter()
                        .find_map(|p| stmt.parameter_index(&format!("{p}{k}")).ok().flatten())
                };
                let Some(index) = index else {
                    return Err(Error::invalid_args(
                        format!("params.{k}"),
                        "the statement has no such named parameter",
                    ));
                };
                stmt.raw_bind_parameter(index, JsonParam(v))?;
            }
            Ok(())
        }
        _ => Err(Error::invalid_args(
            "params",
            "parameters must be a JSON array, an object or null",
        )),
    }
}

/// Runs one statement: rows as objects keyed by column, or
/// `{"changes", "lastInsertRowid"}` for a statement without result columns.
fn run_sql(conn: &Connection, sql: &str, params: &Value) -> Result<Value> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, params)?;
    if stmt.column_count() == 0 {
        let changes = stmt.raw_execute()?;
        return Ok(json!({
            "changes": changes,
            "lastInsertRowid": conn.last_insert_rowid(),
        }));
    }
    collect_rows(&mut stmt)
}

fn collect_rows(stmt: &mut rusqlite::Statement<'_>) -> Result<Value> {
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut obj = Map::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            obj.insert(name.clone(), to_json(row.get_ref(i)?));
        }
        out.push(Value::Object(obj));
    }
    Ok(Value::Array(out))
}

/// Runs a PRAGMA: one row with one column → that value; no rows (or no
/// result columns) → null; else the rows as objects.
fn run_pragma(conn: &Connection, sql: &str) -> Result<Value> {
    let mut stmt = conn.prepare(sql)?;
    if stmt.column_count() == 0 {
        stmt.raw_execute()?;
        return Ok(Value::Null);
    }
    Ok(pragma_value(collect_rows(&mut stmt)?))
}

/// Where a raw statement runs outside a transaction.
#[derive(Debug, Clone, Copy)]
enum Route {
    /// Group-committed on the writer.
    Write,
    /// On the writer, outside any transaction.
    Exclusive,
    /// On the reader pool.
    Read,
}

/// True when the first keyword makes the statement plain DML that can ride
/// in a group commit; anything else runs outside a transaction.
fn is_dml(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase();
    matches!(
        word.as_str(),
        "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "WITH" | "VALUES"
    )
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Pragmas that are per connection and matter for reads: `set_pragma`
/// applies these on the readers too.
const READER_PRAGMAS: &[&str] = &[
    "analysis_limit",
    "automatic_index",
    "busy_timeout",
    "cache_size",
    "cache_spill",
    "case_sensitive_like",
    "cell_size_check",
    "hard_heap_limit",
    "mmap_size",
    "reverse_unordered_selects",
    "soft_heap_limit",
    "temp_store",
    "threads",
    "trusted_schema",
];

/// Progress callback of a backup: `(pages_done, total_pages)`.
pub type BackupProgress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// Options of [`Client::backup_with`].
#[derive(Clone)]
pub struct BackupOptions {
    /// Write a compacted copy with `VACUUM INTO` instead of copying pages.
    pub vacuum: bool,
    /// Called after every step with `(pages_done, total_pages)` (once at the
    /// end for a vacuum backup).
    pub progress: Option<BackupProgress>,
    /// Pages copied per step (default 256, i.e. 2 MiB with 8 KiB pages).
    pub pages_per_step: u32,
}

impl Default for BackupOptions {
    fn default() -> Self {
        BackupOptions {
            vacuum: false,
            progress: None,
            pages_per_step: 256,
        }
    }
}

impl BackupOptions {
    /// Sets the progress callback.
    pub fn on_progress(mut self, f: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
}

impl fmt::Debug for BackupOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackupOptions")
            .field("vacuum", &self.vacuum)
            .field("progress", &self.progress.is_some())
            .field("pages_per_step", &self.pages_per_step)
            .finish()
    }
}

/// Modes of [`Client::wal_checkpoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckpointMode {
    /// Checkpoint what it can without waiting (default).
    #[default]
    Passive,
    /// Wait for writers, then checkpoint everything.
    Full,
    /// Like `Full`, then wait until readers are done with the WAL.
    Restart,
    /// Like `Restart`, then truncate the WAL file to zero bytes.
    Truncate,
}

/// Result of a WAL checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointResult {
    /// True when the checkpoint could not complete (readers or writers in the way).
    pub busy: bool,
    /// Frames in the WAL.
    pub log_frames: i64,
    /// Frames copied back into the database.
    pub checkpointed_frames: i64,
}

/// The WAL's state, read without side effects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalStatus {
    /// `wal`, or another journal mode (`memory` for `:memory:`).
    pub journal_mode: String,
    /// Size of the `-wal` file in bytes (0 when there is none).
    pub wal_file_size: u64,
    /// Frames (pages) in the `-wal` file.
    pub wal_frames: u64,
    /// Database page size.
    pub page_size: u64,
    /// Pages in the database.
    pub page_count: u64,
    /// WAL size in pages that triggers an automatic checkpoint.
    pub autocheckpoint: i64,
}

/// One column of a table (`PRAGMA table_xinfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Declared type (`INTEGER`, `TEXT`, ...; empty when none).
    pub decl_type: String,
    /// `NOT NULL`.
    pub not_null: bool,
    /// The default expression, as written.
    pub default_value: Option<String>,
    /// Position in the primary key (1-based), 0 when not part of it.
    pub primary_key: u32,
    /// 0 for an ordinary column, 2/3 for generated, 1 for hidden virtual-table columns.
    pub hidden: u32,
}

/// One index of a table (`PRAGMA index_list` / `index_info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexInfo {
    /// Index name.
    pub name: String,
    /// UNIQUE index.
    pub unique: bool,
    /// `c` (CREATE INDEX), `u` (UNIQUE constraint) or `pk`.
    pub origin: String,
    /// Has a WHERE clause.
    pub partial: bool,
    /// Indexed columns in order (empty names for expressions).
    pub columns: Vec<String>,
}

/// One foreign key column mapping (`PRAGMA foreign_key_list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ForeignKeyInfo {
    /// Constraint id (columns of a composite key share it).
    pub id: i64,
    /// Position within the constraint.
    pub seq: i64,
    /// Referenced table.
    pub table: String,
    /// Column of this table.
    pub from: String,
    /// Referenced column (`None` when it is the referenced primary key).
    pub to: Option<String>,
    /// ON UPDATE action.
    pub on_update: String,
    /// ON DELETE action.
    pub on_delete: String,
}

fn get_str(o: &Map<String, Value>, k: &str) -> String {
    o.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn get_i64(o: &Map<String, Value>, k: &str) -> i64 {
    o.get(k).and_then(Value::as_i64).unwrap_or_default()
}

fn check_ident(what: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.contains('\0') {
        return Err(Error::invalid_args(what, format!("invalid name `{name}`")));
    }
    Ok(())
}

impl Client {
    fn main_runtime(&self) -> Result<&Runtime> {
        self.runtime("main")
    }

    /// Refuses `what` inside a transaction on `main`: it needs the writer
    /// outside any transaction, which the transaction itself pins.
    fn outside_tx(&self, what: &str) -> Result<&Runtime> {
        if self.ctx.tx.as_ref().is_some_and(|t| t.database == "main") {
            return Err(Error::invalid_args(
                what,
                format!("`{what}` cannot run inside a transaction"),
            ));
        }
        self.main_runtime()
    }

    /// Runs `f` on the transaction's writer when this handle is inside a
    /// transaction on `main`, else on the writer outside any transaction.
    async fn on_writer<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        match self.ctx.tx.as_ref().filter(|t| t.database == "main") {
            Some(tx) => tx.run(f).await,
            None => self.main_runtime()?.exclusive(f).await,
        }
    }

    /// Runs one SQL statement with bound parameters (a JSON array for `?`
    /// placeholders, or an object for `:name` ones) on the `main` database's
    /// writer, or inside this handle's transaction. Returns the rows as an
    /// array of objects keyed by column name, or
    /// `{"changes": n, "lastInsertRowid": id}` for a statement without result
    /// columns. Values convert as described in the module docs.
    ///
    /// # Errors
    /// SQLite errors (constraint violations classified, e.g.
    /// [`crate::ErrorKind::UniqueViolation`]); [`Error::InvalidArgs`] for a
    /// parameter count or name mismatch or several statements;
    /// [`Error::Closed`] after `close()`.
    ///
    /// # Cancel safety
    /// A cancelled call may or may not have run; if the writer had not
    /// started it yet, it is skipped.
    pub async fn sql(&self, sql: &str, params: Value) -> Result<Value> {
        let route = if is_dml(sql) {
            Route::Write
        } else {
            Route::Exclusive
        };
        self.run_sql_routed(sql, params, route).await
    }

    /// Runs `sql` where `route` says (or inside this handle's transaction),
    /// timing it on the actor thread and reporting it to `on_query` listeners.
    async fn run_sql_routed(&self, sql: &str, params: Value, route: Route) -> Result<Value> {
        let text = sql.to_string();
        let args = self.observed().then(|| params.clone());
        let f = move |c: &Connection| {
            let started = std::time::Instant::now();
            let out = run_sql(c, &text, &params)?;
            Ok((out, started.elapsed()))
        };
        let (out, took) = match self.ctx.tx.as_ref().filter(|t| t.database == "main") {
            Some(tx) => tx.run(f).await?,
            None => match route {
                Route::Write => self.main_runtime()?.write(f).await?,
                Route::Exclusive => self.main_runtime()?.exclusive(f).await?,
                Route::Read => self.main_runtime()?.read(f).await?,
            },
        };
        if let Some(args) = args {
            let row_count = match &out {
                Value::Array(rows) => rows.len() as u64,
                other => other["changes"].as_u64().unwrap_or(0),
            };
            let event = QueryEvent {
                model: None,
                operation: "sql".into(),
                database: "main".into(),
                actor_id: self.ctx.auth.as_ref().and_then(|a| a.get("id").cloned()),
                sql: sql.to_string(),
                params: match &args {
                    Value::Array(items) => items.clone(),
                    Value::Object(map) => map.values().cloned().collect(),
                    _ => Vec::new(),
                },
                duration: took.as_secs_f64() * 1000.0,
                row_count,
                args,
            };
            self.emit(&event);
        }
        Ok(out)
    }

    /// Runs one read-only statement on the reader pool (one snapshot; writes
    /// committed meanwhile are not seen half-way). Same parameters and result
    /// shape as [`Client::sql`]; inside a transaction it runs on the
    /// transaction's writer (read-your-writes).
    ///
    /// # Errors
    /// As [`Client::sql`]; a statement that writes fails with an SQLite
    /// error (readers are `query_only`).
    ///
    /// # Cancel safety
    /// Cancel-safe (reading has no effect).
    pub async fn sql_read(&self, sql: &str, params: Value) -> Result<Value> {
        self.run_sql_routed(sql, params, Route::Read).await
    }

    /// Runs a batch of `;`-separated statements without parameters on the
    /// writer (outside any transaction, or inside this handle's transaction).
    ///
    /// # Errors
    /// The first failing statement's SQLite error; the statements before it
    /// stay applied unless the batch is inside a transaction.
    ///
    /// # Cancel safety
    /// A cancelled call may or may not have run.
    pub async fn exec(&self, sql: &str) -> Result<()> {
        let text = sql.to_string();
        self.on_writer(move |c| Ok(c.execute_batch(&text)?)).await
    }

    /// Reads `PRAGMA name` on the writer: a scalar for one-value pragmas,
    /// an array of row objects otherwise, `null` when it returns nothing.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for a malformed name; SQLite errors.
    ///
    /// # Cancel safety
    /// Cancel-safe (reading has no effect).
    pub async fn pragma(&self, name: &str) -> Result<Value> {
        validate_pragma(name, "x")?;
        let sql = format!("PRAGMA {name}");
        self.on_writer(move |c| run_pragma(c, &sql)).await
    }

    /// Sets `PRAGMA name = value` on the writer and, for per-connection
    /// pragmas that affect reads (`cache_size`, `busy_timeout`, `mmap_size`,
    /// `temp_store`, ...), on every reader before its next read. Returns what
    /// the pragma returns (like [`Client::pragma`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for a malformed name or value; SQLite errors.
    ///
    /// # Cancel safety
    /// A cancelled call may or may not have applied the pragma.
    pub async fn set_pragma(&self, name: &str, value: &str) -> Result<Value> {
        validate_pragma(name, value)?;
        let sql = format!("PRAGMA {name} = {value}");
        let text = sql.clone();
        let out = self.on_writer(move |c| run_pragma(c, &text)).await?;
        if READER_PRAGMAS.contains(&name.to_ascii_lowercase().as_str()) {
            self.main_runtime()?.push_reader_setup(sql);
        }
        Ok(out)
    }

    /// Online backup of `main` to the file `path`, safe while writes go on.
    ///
    /// # Errors
    /// As [`Client::backup_with`].
    ///
    /// # Cancel safety
    /// As [`Client::backup_with`].
    pub async fn backup(&self, path: &str) -> Result<()> {
        self.backup_with(path, BackupOptions::default()).await
    }

    /// Online backup of `main` to `path`. The copy runs on a reader inside one
    /// read transaction, so it is a consistent snapshot and writes continue
    /// meanwhile (WAL); pages are copied `pages_per_step` at a time with
    /// `progress(pages_done, total)` after each step. With `vacuum: true` the
    /// copy is written by `VACUUM INTO` (compacted, also a snapshot).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] on a transaction's handle; [`Error::InvalidArgs`] when `path` is the database itself or (for
    /// `vacuum`) already exists; SQLite and I/O errors.
    ///
    /// # Cancel safety
    /// Cancelling stops waiting; a backup already running completes.
    pub async fn backup_with(&self, path: &str, opts: BackupOptions) -> Result<()> {
        let rt = self.outside_tx("backup")?;
        if let Some(file) = rt.file() {
            let same = match (std::fs::canonicalize(file), std::fs::canonicalize(path)) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            };
            if same {
                return Err(Error::invalid_args(
                    "path",
                    "the backup target is the database itself",
                ));
            }
        }
        let dest = path.to_string();
        if opts.vacuum {
            if std::path::Path::new(path).exists() {
                return Err(Error::invalid_args(
                    "path",
                    format!("`{path}` exists; VACUUM INTO needs a new file"),
                ));
            }
            return rt
                .exclusive(move |c| {
                    c.execute("VACUUM INTO ?1", [&dest])?;
                    if let Some(cb) = &opts.progress {
                        let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
                        let pages = u64::try_from(pages).unwrap_or(0);
                        cb(pages, pages);
                    }
                    Ok(())
                })
                .await;
        }
        rt.read(move |c| backup_snapshot(c, &dest, &opts)).await
    }

    /// `PRAGMA integrity_check` on a reader: `["ok"]` for a sound database,
    /// otherwise the problems found.
    ///
    /// # Errors
    /// SQLite errors (e.g. a file that is not a database).
    ///
    /// # Cancel safety
    /// Cancel-safe (reading has no effect).
    pub async fn integrity_check(&self) -> Result<Vec<String>> {
        self.main_runtime()?
            .read(|c| {
                let mut stmt = c.prepare("PRAGMA integrity_check")?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// `VACUUM` on the writer (writes wait meanwhile; reads go on).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] on a transaction's handle; SQLite errors; [`Error::Busy`] if another process holds the database.
    ///
    /// # Cancel safety
    /// A cancelled call may or may not have run.
    pub async fn vacuum(&self) -> Result<()> {
        self.outside_tx("vacuum")?
            .exclusive(|c| Ok(c.execute_batch("VACUUM")?))
            .await
    }

    /// `ANALYZE` on the writer: refreshes the planner's statistics.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] on a transaction's handle; SQLite errors.
    ///
    /// # Cancel safety
    /// A cancelled call may or may not have run.
    pub async fn analyze(&self) -> Result<()> {
        self.outside_tx("analyze")?
            .exclusive(|c| Ok(c.execute_batch("ANALYZE")?))
            .await
    }

    /// `ATTACH DATABASE path AS alias` on the writer and on every reader, so
    /// raw SQL and reads can use `alias.table`.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] on a transaction's handle; [`Error::InvalidArgs`] for an empty alias; SQLite errors (too many
    /// attached databases, unreadable file).
    ///
    /// # Cancel safety
    /// If cancelled, the database may be attached on the writer only; call
    /// `detach` to undo.
    pub async fn attach(&self, path: &str, alias: &str) -> Result<()> {
        check_ident("alias", alias)?;
        let (p, a) = (path.to_string(), quote_ident(alias));
        let sql = format!("ATTACH DATABASE ?1 AS {a}");
        self.outside_tx("attach")?
            .exclusive(move |c| {
                c.execute(&sql, [&p])?;
                Ok(())
            })
            .await?;
        self.main_runtime()?.push_reader_setup(format!(
            "ATTACH DATABASE {} AS {}",
            quote_text(path),
            quote_ident(alias)
        ));
        Ok(())
    }

    /// `DETACH DATABASE alias` on the writer and every reader.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] on a transaction's handle; SQLite errors (no such database, database in use).
    ///
    /// # Cancel safety
    /// If cancelled, the readers may keep the database attached.
    pub async fn detach(&self, alias: &str) -> Result<()> {
        check_ident("alias", alias)?;
        let sql = format!("DETACH DATABASE {}", quote_ident(alias));
        let text = sql.clone();
        self.outside_tx("detach")?
            .exclusive(move |c| Ok(c.execute_batch(&text)?))
            .await?;
        self.main_runtime()?.push_reader_setup(sql);
        Ok(())
    }

    /// The WAL's size and the database's page counts, without checkpointing.
    ///
    /// # Errors
    /// SQLite errors; I/O errors other than a missing `-wal` file.
    ///
    /// # Cancel safety
    /// Cancel-safe (reading has no effect).
    pub async fn wal_status(&self) -> Result<WalStatus> {
        let rt = self.main_runtime()?;
        let wal_file = rt.file().map(|f| format!("{f}-wal"));
        rt.read(move |c| {
            let journal_mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            let page_size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            let page_count: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let autocheckpoint: i64 = c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?;
            let wal_file_size = match wal_file.map(std::fs::metadata) {
                Some(Ok(m)) => m.len(),
                Some(Err(e)) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::Sqlite {
                        code: None,
                        message: format!("cannot read the WAL file: {e}"),
                    });
                }
                _ => 0,
            };
            let page_size = u64::try_from(page_size).unwrap_or(0);
            // A WAL file is a 32-byte header, then frames of a 24-byte
            // header plus one page.
            let wal_frames = wal_file_size.saturating_sub(32) / (page_size + 24).max(1);
            Ok(WalStatus {
                journal_mode,
                wal_file_size,
                wal_frames,
                page_size,
                page_count: u64::try_from(page_count).unwrap_or(0),
                autocheckpoint,
            })
        })
        .await
    }

    /// `PRAGMA wal_checkpoint(mode)` on the writer.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] on a transaction's handle; SQLite errors.
    ///
    /// # Cancel safety
    /// A cancelled call may or may not have checkpointed.
    pub async fn wal_checkpoint(&self, mode: CheckpointMode) -> Result<CheckpointResult> {
        let sql = match mode {
            CheckpointMode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
            CheckpointMode::Full => "PRAGMA wal_checkpoint(FULL)",
            CheckpointMode::Restart => "PRAGMA wal_checkpoint(RESTART)",
            CheckpointMode::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
        };
        self.outside_tx("wal_checkpoint")?
            .exclusive(move |c| {
                Ok(c.query_row(sql, [], |r| {
                    Ok(CheckpointResult {
                        busy: r.get::<_, i64>(0)? != 0,
                        log_frames: r.get(1)?,
                        checkpointed_frames: r.get(2)?,
                    })
                })?)
            })
            .await
    }

    /// Names of the tables of `main`, sorted, without SQLite's and
    /// litestone's internal tables (`sqlite_*`, `_litestone_*`).
    ///
    /// # Errors
    /// SQLite errors.
    ///
    /// # Cancel safety
    /// Cancel-safe (reading has no effect).
    pub async fn tables(&self) -> Result<Vec<String>> {
        self.main_runtime()?
            .read(|c| {
                let mut stmt = c.prepare(
                    "SELECT name FROM sqlite_schema WHERE type = 'table' \
                     AND substr(name, 1, 7) <> 'sqlite_' AND substr(name, 1, 11) <> '_litestone_' \
                     ORDER BY name",
                )?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    /// Columns of `table` (empty when there is no such table).
    ///
    /// # Errors
    /// SQLite errors.
    ///
    /// # Cancel safety
    /// Cancel-safe (reading has no effect).
    pub async fn columns(&self, table: &str) -> Result<Vec<ColumnInfo>> {
        let table = table.to_string();
        self.main_runtime()?
            .read(move |c| {
                let rows = run_sql(c, "SELECT * FROM pragma_table_xinfo(?1)", &json!([table]))?;
                Ok(as_objects(rows)
                    .iter()
                    .map(|o| ColumnInfo {
                        name: get_str(o, "name"),
                        decl_type: get_str(o, "type"),
                        not_null: get_i64(o, "notnull") != 0,
                        default_value: o
                            .get("dflt_value")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        primary_key: u32::try_from(get_i64(o, "pk")).unwrap_or(0),
                        hidden: u32::try_from(get_i64(o, "hidden")).unwrap_or(0),
                    })
                    .collect())
            })
            .await
    }

    /// Indexes of `table`, automatic ones (UNIQUE, PRIMARY KEY) included.
    ///
    /// # Errors
    /// SQLite errors.
    ///
    /// # Cancel safety
    /// Cancel-safe (reading has no effect).
    pub async fn indexes(&self, table: &str) -> Result<Vec<IndexInfo>> {
        let table = table.to_string();
        self.main_runtime()?
            .read(move |c| {
                let list = as_objects(run_sql(
                    c,
                    "SELECT * FROM pragma_index_list(?1) ORDER BY name",
                    &json!([table]),
                )?);
                let mut out = Vec::with_capacity(list.len());
                for o in &list {
                    let name = get_str(o, "name");
                    let cols = as_objects(run_sql(
                        c,
                        "SELECT name FROM pragma_index_info(?1) ORDER BY seqno",
                        &json!([name]),
                    )?);
                    out.push(IndexInfo {
                        unique: get_i64(o, "unique") != 0,
                        origin: get_str(o, "origin"),
                        partial: get_i64(o, "partial") != 0,
                        columns: cols.iter().map(|c| get_str(c, "name")).collect(),
                        name,
                    });
                }
                Ok(out)
            })
            .await
    }

    /// Foreign keys of `table`, one entry per column mapping.
    ///
    /// # Errors
    /// SQLite errors.
    ///
    /// # Cancel safety
    /// Cancel-safe (reading has no effect).
    pub async fn foreign_keys(&self, table: &str) -> Result<Vec<ForeignKeyInfo>> {
        let table = table.to_string();
        self.main_runtime()?
            .read(move |c| {
                let rows = run_sql(
                    c,
                    "SELECT * FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
                    &json!([table]),
                )?;
                Ok(as_objects(rows)
                    .iter()
                    .map(|o| ForeignKeyInfo {
                        id: get_i64(o, "id"),
                        seq: get_i64(o, "seq"),
                        table: get_str(o, "table"),
                        from: get_str(o, "from"),
                        to: o.get("to").and_then(Value::as_str).map(str::to_string),
                        on_update: get_str(o, "on_update"),
                        on_delete: get_str(o, "on_delete"),
                    })
                    .collect())
            })
            .await
    }
}

fn as_objects(rows: Value) -> Vec<Map<String, Value>> {
    match rows {
        Value::Array(rows) => rows
            .into_iter()
            .filter_map(|r| match r {
                Value::Object(o) => Some(o),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// One row with one column → that value; no rows → null; else the rows.
fn pragma_value(rows: Value) -> Value {
    match rows {
        Value::Array(mut rows) if rows.len() == 1 => match rows.pop() {
            Some(Value::Object(o)) if o.len() == 1 => {
                o.into_iter().next().map_or(Value::Null, |(_, v)| v)
            }
            Some(other) => Value::Array(vec![other]),
            None => Value::Null,
        },
        Value::Array(rows) if rows.is_empty() => Value::Null,
        other => other,
    }
}

/// Copies the database page by page inside one read transaction (one
/// snapshot: concurrent commits by other connections do not restart it).
fn backup_snapshot(conn: &Connection, dest: &str, opts: &BackupOptions) -> Result<()> {
    use rusqlite::backup::{Backup, StepResult};
    conn.execute_batch("BEGIN")?;
    // Starts the read transaction now: the snapshot the copy is taken from.
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
    let mut target = Connection::open(dest)?;
    let step = i32::try_from(opts.pages_per_step.max(1)).unwrap_or(i32::MAX);
    {
        let backup = Backup::new(conn, &mut target)?;
        loop {
            let r = backup.step(step)?;
            let p = backup.progress();
            let total = u64::try_from(p.pagecount).unwrap_or(0);
            let done = total.saturating_sub(u64::try_from(p.remaining).unwrap_or(0));
            if let Some(cb) = &opts.progress {
                cb(done, total);
            }
            match r {
                StepResult::Done => break,
                StepResult::More => {}
                // Only the target can be busy here; give it a moment.
                _ => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
    }
    target.close().map_err(|(_, e)| Error::from(e))?;
    conn.execute_batch("COMMIT")?;
    Ok(())
}

impl Client {
    /// The database blocks (README `$databases`): `{name: {driver, path}}`
    /// (`path`: the SQLite file, the JSONL directory, or `:memory:`).
    pub fn databases(&self) -> Value {
        let schema = self.schema();
        let mut out = serde_json::Map::new();
        for name in self.inner.databases.keys() {
            let driver = schema
                .database(name)
                .map_or(crate::schema::Driver::Sqlite, |d| d.driver);
            let path = match self.inner.jsonl.get(name) {
                Some(dir) => Value::String(dir.display().to_string()),
                None => self
                    .runtime(name)
                    .ok()
                    .and_then(|r| r.file().map(str::to_string))
                    .map_or(Value::String(":memory:".into()), Value::String),
            };
            let driver = match driver {
                crate::schema::Driver::Sqlite => "sqlite",
                crate::schema::Driver::Jsonl => "jsonl",
                crate::schema::Driver::Logger => "logger",
            };
            out.insert(
                name.clone(),
                serde_json::json!({"driver": driver, "path": path}),
            );
        }
        Value::Object(out)
    }

    /// Which models soft-delete (README `$softDelete`): `{model: bool}`.
    pub fn soft_delete_models(&self) -> Value {
        Value::Object(
            self.schema()
                .models
                .iter()
                .map(|m| (m.name.clone(), Value::Bool(m.soft_delete.is_some())))
                .collect(),
        )
    }

    /// The schema's enums (README `$enums`): `{Enum: [values…]}`.
    pub fn enums(&self) -> Value {
        Value::Object(
            self.schema()
                .enums
                .iter()
                .map(|e| (e.name.clone(), serde_json::json!(e.values)))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statements() {
        assert!(is_dml("  insert into t values (1)"));
        assert!(is_dml("-- note\nSELECT 1"));
        assert!(is_dml("/* x */ with a as (select 1) select * from a"));
        assert!(!is_dml("CREATE TABLE t (a)"));
        assert!(!is_dml("vacuum"));
        assert!(!is_dml("PRAGMA user_version = 3"));
    }

    #[test]
    fn pragma_values_flatten() {
        assert_eq!(pragma_value(json!([{"journal_mode": "wal"}])), json!("wal"));
        assert_eq!(pragma_value(json!([])), Value::Null);
        assert_eq!(
            pragma_value(json!([{"a": 1}, {"a": 2}])),
            json!([{"a": 1}, {"a": 2}])
        );
    }
}
