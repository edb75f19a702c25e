//! Smoke tests of the runtime through the public utilities: open, raw SQL,
//! `:memory:` readers, pragmas, introspection.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use litestone::{Client, ErrorKind};
use serde_json::json;

async fn open(path: &str) -> Client {
    Client::builder()
        .schema("")
        .db_path(path)
        .open()
        .await
        .expect("open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_database_has_the_conventional_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let db = open(path.to_str().unwrap()).await;
    assert_eq!(db.pragma("journal_mode").await.unwrap(), json!("wal"));
    assert_eq!(db.pragma("foreign_keys").await.unwrap(), json!(1));
    assert_eq!(db.pragma("busy_timeout").await.unwrap(), json!(5000));
    assert_eq!(db.pragma("page_size").await.unwrap(), json!(8192));
    assert_eq!(db.pragma("synchronous").await.unwrap(), json!(1));
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builder_pragmas_apply_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let db = Client::builder()
        .schema("")
        .db_path(path.to_str().unwrap())
        .pragma("synchronous", "FULL")
        .open()
        .await
        .unwrap();
    assert_eq!(db.pragma("synchronous").await.unwrap(), json!(2));
    db.close().await.unwrap();
    // A database-level pragma is set once, by the writer; readers still open.
    let db = Client::builder()
        .schema("")
        .db_path(path.to_str().unwrap())
        .pragma("user_version", "7")
        .pragma("cache_size", "-2000")
        .open()
        .await
        .unwrap();
    assert_eq!(db.pragma("user_version").await.unwrap(), json!(7));
    let r = db.sql_read("PRAGMA cache_size", json!([])).await.unwrap();
    assert_eq!(r[0]["cache_size"], json!(-2000));
    db.close().await.unwrap();
    let err = Client::builder()
        .schema("")
        .db_path(path.to_str().unwrap())
        .pragma("synchronous", "FULL; DROP TABLE x")
        .open()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_readers_see_the_writers_commits() {
    let db = open(":memory:").await;
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    let r = db
        .sql("INSERT INTO t (v) VALUES (?)", json!(["a"]))
        .await
        .unwrap();
    assert_eq!(r, json!({"changes": 1, "lastInsertRowid": 1}));
    // Introspection and integrity run on readers.
    assert_eq!(db.tables().await.unwrap(), vec!["t".to_string()]);
    assert_eq!(db.integrity_check().await.unwrap(), vec!["ok".to_string()]);
    for i in 0..20 {
        db.sql("INSERT INTO t (v) VALUES (?)", json!([format!("v{i}")]))
            .await
            .unwrap();
    }
    let cols = db.columns("t").await.unwrap();
    assert_eq!(cols.len(), 2);
    assert_eq!(cols[0].name, "id");
    assert_eq!(cols[0].primary_key, 1);
    // A second in-memory client is a different database.
    let other = open(":memory:").await;
    assert!(other.tables().await.unwrap().is_empty());
    db.close().await.unwrap();
    other.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_converts_values_both_ways() {
    let db = open(":memory:").await;
    db.exec("CREATE TABLE v (i INTEGER, r REAL, t TEXT, b BLOB, n ANY, j TEXT)")
        .await
        .unwrap();
    db.sql(
        "INSERT INTO v VALUES (?, ?, ?, x'00ff', ?, ?)",
        json!([true, 1.5, "x", null, {"a": [1]}]),
    )
    .await
    .unwrap();
    let rows = db.sql("SELECT * FROM v", json!([])).await.unwrap();
    assert_eq!(
        rows,
        json!([{"i": 1, "r": 1.5, "t": "x", "b": "AP8=", "n": null, "j": "{\"a\":[1]}"}])
    );
    let named = db
        .sql("SELECT :a + @b AS s", json!({"a": 1, "@b": 2}))
        .await
        .unwrap();
    assert_eq!(named, json!([{"s": 3}]));
    let err = db.sql("SELECT ?", json!([])).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgs);
    db.close().await.unwrap();
}
