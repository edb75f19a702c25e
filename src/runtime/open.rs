//! Opening connections: where the database lives, and the pragmas every
//! connection gets.
//!
//! Defaults follow the design's conventions and the seeds' pragma lists:
//! `busy_timeout=5000` (set first, so the other pragmas wait on a locked file),
//! `page_size=8192` on a new (empty) file before `journal_mode=WAL`,
//! `synchronous=NORMAL`, `foreign_keys=ON`, `cache_size=-16000` (16 MiB per
//! connection), `temp_store=MEMORY`, `mmap_size=268435456` (256 MiB),
//! `wal_autocheckpoint=1000` on the writer. Builder pragmas run after the
//! defaults, so they override them; database-level ones (`journal_mode`,
//! `page_size`, `auto_vacuum`, `user_version`, ...) run on the writer only.
//! Readers end with `query_only=ON`.
//!
//! `:memory:` decision: each runtime gets a private, named in-memory database
//! on SQLite's `memdb` VFS (`file:/litestone-mem-<uuid>?vfs=memdb`). Every
//! connection of the runtime opens the same name, so readers see the writer's
//! committed data with ordinary locking (no shared-cache mode, no
//! `read_uncommitted`, so a reader never sees a half-committed transaction).
//! memdb has no WAL: a reader holding its snapshot makes the writer's COMMIT
//! wait (busy_timeout), exactly like a rollback-journal file. The database
//! vanishes when the runtime's last connection closes.

use rusqlite::Connection;

use super::RuntimeConfig;
use crate::error::{Error, Result};

/// Where the connections of one runtime point.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// What SQLite opens (a path or a URI).
    pub(crate) uri: String,
    /// The file on disk, when there is one (for `-wal` sizes and messages).
    pub(crate) file: Option<String>,
}

impl Target {
    pub(crate) fn resolve(path: &str) -> Target {
        if path == ":memory:" || path.is_empty() {
            Target {
                uri: format!("file:/litestone-mem-{}?vfs=memdb", uuid::Uuid::new_v4()),
                file: None,
            }
        } else if path.starts_with("file:") {
            Target {
                uri: path.to_string(),
                file: None,
            }
        } else {
            Target {
                uri: path.to_string(),
                file: Some(path.to_string()),
            }
        }
    }
}

/// Checks a builder pragma so that it cannot smuggle in a second statement.
pub(crate) fn validate_pragma(name: &str, value: &str) -> Result<()> {
    let name_ok = !name.is_empty()
        && name
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if !name_ok {
        return Err(Error::invalid_args(
            "pragma",
            format!("invalid pragma name `{name}`"),
        ));
    }
    let value_ok = !value.trim().is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _-+.'\"".contains(c));
    if !value_ok {
        return Err(Error::invalid_args(
            "pragma",
            format!("invalid value `{value}` for pragma `{name}`"),
        ));
    }
    Ok(())
}

/// `PRAGMA name = value`, consuming whatever rows it returns.
pub(crate) fn set_pragma(conn: &Connection, name: &str, value: &str) -> Result<()> {
    let mut stmt = conn.prepare(&format!("PRAGMA {name} = {value}"))?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

fn common(conn: &Connection, cfg: &RuntimeConfig) -> Result<()> {
    set_pragma(conn, "busy_timeout", "5000")?;
    set_pragma(conn, "foreign_keys", "ON")?;
    set_pragma(conn, "cache_size", "-16000")?;
    set_pragma(conn, "temp_store", "MEMORY")?;
    set_pragma(conn, "mmap_size", "268435456")?;
    conn.set_prepared_statement_cache_capacity(cfg.statement_cache);
    load_extensions(conn, &cfg.extensions)?;
    for init in &cfg.init {
        init(conn)?;
    }
    Ok(())
}

/// Loads the builder's extensions into `conn`.
///
/// Extension loading stays disabled except for the duration of these calls
/// (the guard re-disables it), and no SQL runs meanwhile, so SQL text can
/// never load a library: only paths the application gave the builder are
/// loaded.
#[cfg(feature = "load_extension")]
#[allow(unsafe_code)]
fn load_extensions(conn: &Connection, exts: &[(String, Option<String>)]) -> Result<()> {
    for (path, entry) in exts {
        // SAFETY: loading runs native code from `path`; the application
        // opted in explicitly through `ClientBuilder::load_extension` (whose
        // docs say the library must be trusted), and no SQL statement runs
        // while loading is enabled.
        unsafe {
            let _guard = rusqlite::LoadExtensionGuard::new(conn)?;
            conn.load_extension(path, entry.as_deref())?;
        }
    }
    Ok(())
}

#[cfg(not(feature = "load_extension"))]
fn load_extensions(_conn: &Connection, exts: &[(String, Option<String>)]) -> Result<()> {
    match exts.first() {
        None => Ok(()),
        Some((path, _)) => Err(Error::invalid_args(
            "load_extension",
            format!(
                "cannot load `{path}`: litestone was built without the `load_extension` feature"
            ),
        )),
    }
}

/// Pragmas that change the database file rather than the connection: set
/// once, on the writer; a reader has nothing to do with them (and a
/// `query_only` reader could not).
const DATABASE_LEVEL: &[&str] = &[
    "application_id",
    "auto_vacuum",
    "journal_mode",
    "page_size",
    "query_only",
    "user_version",
    "wal_autocheckpoint",
];

fn user_pragmas(conn: &Connection, cfg: &RuntimeConfig, reader: bool) -> Result<()> {
    for (name, value) in &cfg.pragmas {
        let bare = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
        if reader && DATABASE_LEVEL.contains(&bare.as_str()) {
            continue;
        }
        set_pragma(conn, name, value)?;
    }
    Ok(())
}

/// Opens the read-write connection and sets the file up (page size, WAL).
pub(crate) fn writer(target: &Target, cfg: &RuntimeConfig) -> Result<Connection> {
    let conn = Connection::open(&target.uri).map_err(|e| open_error(target, e))?;
    set_pragma(&conn, "busy_timeout", "5000")?;
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    if pages == 0 {
        // Only effective before the first table exists and before WAL.
        set_pragma(&conn, "page_size", "8192")?;
    }
    set_pragma(&conn, "journal_mode", "WAL")?;
    set_pragma(&conn, "synchronous", "NORMAL")?;
    set_pragma(&conn, "wal_autocheckpoint", "1000")?;
    common(&conn, cfg)?;
    user_pragmas(&conn, cfg, false)?;
    Ok(conn)
}

/// Opens one read-only (`query_only`) connection of the reader pool.
pub(crate) fn reader(target: &Target, cfg: &RuntimeConfig) -> Result<Connection> {
    let conn = Connection::open(&target.uri).map_err(|e| open_error(target, e))?;
    common(&conn, cfg)?;
    user_pragmas(&conn, cfg, true)?;
    set_pragma(&conn, "query_only", "ON")?;
    Ok(conn)
}

fn open_error(target: &Target, e: rusqlite::Error) -> Error {
    match Error::from(e) {
        Error::Sqlite { code, message } => Error::Sqlite {
            code,
            message: format!("cannot open `{}`: {message}", target.uri),
        },
        other => other,
    }
}
