//! The litestone-owned history table `_litestone_migrations(name TEXT
//! PRIMARY KEY, checksum TEXT, applied_at TEXT)` in every migrated database.
//!
//! Owns its DDL and the three queries on it. Rows are written only inside the
//! transaction of the migration they describe, so a row exists exactly when
//! the migration's effects are committed. Never touched by diffs (every
//! `_litestone_*` table is outside schema management).

use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;

/// Name of the history table.
pub const TABLE: &str = "_litestone_migrations";

/// One applied migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Migration name (file name without `.sql`, or the registered name).
    pub name: String,
    /// SHA-256 of the file as applied (`rust` for Rust migrations).
    pub checksum: String,
    /// When it was applied (UTC, `YYYY-MM-DDTHH:MM:SS.sssZ`).
    pub applied_at: String,
}

/// Creates the history table if missing.
pub(crate) fn ensure(conn: &Connection) -> Result<()> {
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS \"{TABLE}\" (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
    ))?;
    Ok(())
}

/// Whether `name` is recorded.
pub(crate) fn is_applied(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            &format!("SELECT 1 FROM \"{TABLE}\" WHERE name = ?1"),
            [name],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Records `name` as applied now.
pub(crate) fn record(conn: &Connection, name: &str, checksum: &str) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO \"{TABLE}\" (name, checksum, applied_at) VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
        ),
        [name, checksum],
    )?;
    Ok(())
}

/// Every recorded migration, by name. An absent table reads as empty.
pub(crate) fn list(conn: &Connection) -> Result<Vec<Applied>> {
    let exists: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [TABLE],
        |r| r.get(0),
    )?;
    if exists == 0 {
        return Ok(Vec::new());
    }
    let mut st = conn.prepare(&format!(
        "SELECT name, checksum, applied_at FROM \"{TABLE}\" ORDER BY name"
    ))?;
    let rows = st
        .query_map([], |r| {
            Ok(Applied {
                name: r.get(0)?,
                checksum: r.get(1)?,
                applied_at: r.get(2)?,
            })
        })?
        .collect::<std::result::Result<_, _>>()?;
    Ok(rows)
}
