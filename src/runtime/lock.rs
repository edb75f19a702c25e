//! Application lock rows: the synchronous statements behind `client.lock`,
//! run on the writer (one row per held lock in `_litestone_locks`).
//!
//! The table is litestone-owned (the `_litestone_` prefix; migrations must
//! leave it alone). `expires_at` is wall-clock milliseconds since the Unix
//! epoch, so processes on one machine agree on expiry; an expired row is
//! taken over by the next acquirer.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;

const CREATE: &str = "CREATE TABLE IF NOT EXISTS _litestone_locks (\
     name TEXT PRIMARY KEY NOT NULL, \
     owner TEXT NOT NULL, \
     expires_at INTEGER NOT NULL\
     ) STRICT, WITHOUT ROWID";

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Creates the lock table if needed.
pub(crate) fn ensure_table(conn: &Connection) -> Result<()> {
    conn.prepare_cached(CREATE)?.execute([])?;
    Ok(())
}

/// What an acquire attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// The lock is ours until this time (ms).
    Acquired { expires_at: i64 },
    /// Someone else holds it until this time (ms).
    Held { expires_at: i64 },
}

/// Takes `name` for `owner` for `ttl_ms` if it is free or expired.
pub(crate) fn try_acquire(
    conn: &Connection,
    name: &str,
    owner: &str,
    ttl_ms: i64,
) -> Result<Attempt> {
    let now = now_ms();
    let expires_at = now.saturating_add(ttl_ms);
    let changed = conn
        .prepare_cached(
            "INSERT INTO _litestone_locks (name, owner, expires_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
             WHERE _litestone_locks.expires_at <= ?4",
        )?
        .execute(params![name, owner, expires_at, now])?;
    if changed == 1 {
        return Ok(Attempt::Acquired { expires_at });
    }
    let held: Option<i64> = conn
        .prepare_cached("SELECT expires_at FROM _litestone_locks WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?;
    Ok(Attempt::Held {
        expires_at: held.unwrap_or(now),
    })
}

/// Moves the expiry of a lock `owner` still holds; false when it no longer
/// holds it (it expired and was taken over, or was released).
pub(crate) fn extend(
    conn: &Connection,
    name: &str,
    owner: &str,
    ttl_ms: i64,
) -> Result<Option<i64>> {
    let expires_at = now_ms().saturating_add(ttl_ms);
    let changed = conn
        .prepare_cached(
            "UPDATE _litestone_locks SET expires_at = ?3 WHERE name = ?1 AND owner = ?2",
        )?
        .execute(params![name, owner, expires_at])?;
    Ok((changed == 1).then_some(expires_at))
}

/// Deletes the lock row if `owner` still holds it; true when it did.
pub(crate) fn release(conn: &Connection, name: &str, owner: &str) -> Result<bool> {
    let changed = conn
        .prepare_cached("DELETE FROM _litestone_locks WHERE name = ?1 AND owner = ?2")?
        .execute(params![name, owner])?;
    Ok(changed == 1)
}
