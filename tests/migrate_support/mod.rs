//! Shared helpers of the migration tests: real files in tempdirs, `.lite`
//! schemas, and a plain rusqlite connection to look at the result.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use litestone::Client;
use rusqlite::Connection;

/// A database file in a fresh temporary directory.
pub struct Db {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Db {
    pub fn new() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        Db { dir, path }
    }

    pub fn path_str(&self) -> &str {
        self.path.to_str().unwrap()
    }

    pub fn migrations(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    /// Opens a client on this file with `schema`, without pushing.
    pub async fn open(&self, schema: &str) -> Client {
        Client::builder()
            .schema(schema)
            .db_path(self.path_str())
            .open()
            .await
            .unwrap()
    }

    /// Opens a client with `auto_migrate(true)`.
    pub async fn open_pushed(&self, schema: &str) -> Client {
        Client::builder()
            .schema(schema)
            .db_path(self.path_str())
            .auto_migrate(true)
            .open()
            .await
            .unwrap()
    }

    /// A plain connection to the file.
    pub fn conn(&self) -> Connection {
        let c = Connection::open(&self.path).unwrap();
        c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        c
    }

    pub fn exec(&self, sql: &str) {
        self.conn().execute_batch(sql).unwrap();
    }

    /// Rows of `sql` as strings (`NULL` for nulls), one `Vec` per row.
    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        rows(&self.conn(), sql)
    }

    /// Every table's rows and every object's SQL: equal before and after a
    /// failed migration means nothing changed.
    pub fn image(&self) -> Vec<Vec<String>> {
        let c = self.conn();
        let mut out = rows(
            &c,
            "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name",
        );
        let tables: Vec<String> = rows(
            &c,
            // Lock leases change on every apply; they are not migration state.
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' AND name <> '_litestone_locks' ORDER BY name",
        )
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
        for t in tables {
            out.push(vec![format!("-- rows of {t}")]);
            out.extend(rows(&c, &format!("SELECT * FROM \"{t}\" ORDER BY rowid")));
        }
        out
    }

    /// `PRAGMA integrity_check` and `foreign_key_check` are clean.
    pub fn assert_sound(&self) {
        let c = self.conn();
        assert_eq!(rows(&c, "PRAGMA integrity_check"), vec![vec!["ok"]]);
        assert!(
            rows(&c, "PRAGMA foreign_key_check").is_empty(),
            "foreign key violations"
        );
    }
}

pub fn rows(c: &Connection, sql: &str) -> Vec<Vec<String>> {
    let mut st = c.prepare(sql).unwrap();
    let n = st.column_count();
    st.query_map([], |r| {
        Ok((0..n)
            .map(|i| match r.get_ref(i).unwrap() {
                rusqlite::types::ValueRef::Null => "NULL".to_string(),
                rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                rusqlite::types::ValueRef::Real(f) => f.to_string(),
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).to_string(),
                rusqlite::types::ValueRef::Blob(b) => format!("<{} bytes>", b.len()),
            })
            .collect())
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Shorthand for expected rows.
pub fn r(v: &[&[&str]]) -> Vec<Vec<String>> {
    v.iter()
        .map(|row| row.iter().map(|s| s.to_string()).collect())
        .collect()
}

/// Asserts the live database matches `client`'s schema.
pub async fn assert_clean(client: &Client, dir: &Path) {
    let report = client.migrator(dir).verify().await.unwrap();
    assert!(report.is_clean(), "verify not clean:\n{report}");
}
