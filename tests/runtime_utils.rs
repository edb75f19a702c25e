//! Client utilities and shutdown through the public API: close with a full
//! queue, backup under concurrent writes, attach/detach on every connection,
//! WAL status and checkpoints, pragmas, introspection.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use std::sync::{Arc, Mutex};

use litestone::{BackupOptions, CheckpointMode, Client, ErrorKind};
use serde_json::json;

async fn open(path: &std::path::Path) -> Client {
    Client::builder()
        .schema("")
        .db_path(path.to_str().unwrap())
        .open()
        .await
        .expect("open")
}

fn n(v: &serde_json::Value) -> i64 {
    v[0]["n"].as_i64().expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_with_a_thousand_queued_calls_answers_each_and_refuses_later_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("close.db");
    let db = open(&path).await;
    db.exec("CREATE TABLE t (v INTEGER)").await.unwrap();
    let mut calls = Vec::new();
    for i in 0..1000 {
        let db = db.clone();
        calls.push(tokio::spawn(async move {
            if i % 3 == 0 {
                db.sql_read("SELECT count(*) AS n FROM t", json!([]))
                    .await
                    .map(|_| false)
            } else {
                db.sql("INSERT INTO t VALUES (?)", json!([i]))
                    .await
                    .map(|_| true)
            }
        }));
    }
    tokio::task::yield_now().await;
    let closer = db.clone();
    closer.close().await.unwrap();
    let mut acked = 0;
    for c in calls {
        match c.await.unwrap() {
            Ok(true) => acked += 1,
            Ok(false) => {}
            Err(e) => assert_eq!(e.kind(), ErrorKind::Closed),
        }
    }
    // Every handle is closed, not only the one close() was called on.
    let e = db.sql("SELECT 1", json!([])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
    let e = db.sql_read("SELECT 1", json!([])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
    let e = db.transaction(async |_tx| Ok(())).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
    let e = db.lock("x").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
    db.close().await.unwrap();

    // The final checkpoint emptied the WAL, and every acknowledged write is there.
    let wal = std::fs::metadata(dir.path().join("close.db-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0);
    let db = open(&path).await;
    let c = db
        .sql_read("SELECT count(*) AS n FROM t", json!([]))
        .await
        .unwrap();
    assert_eq!(n(&c), acked);
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_concurrent_writes_is_a_valid_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir.path().join("src.db")).await;
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
        .await
        .unwrap();
    db.sql(
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 2000) \
         INSERT INTO t (body) SELECT randomblob(1000) FROM s",
        json!([]),
    )
    .await
    .unwrap();
    let before = n(&db
        .sql_read("SELECT count(*) AS n FROM t", json!([]))
        .await
        .unwrap());
    assert!(before >= 2000);

    let writer = {
        let db = db.clone();
        tokio::spawn(async move {
            for _ in 0..300 {
                db.sql("INSERT INTO t (body) VALUES (randomblob(500))", json!([]))
                    .await
                    .unwrap();
            }
        })
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let target = dir.path().join("backup.db");
    let opts = BackupOptions {
        pages_per_step: 16,
        ..BackupOptions::default()
    }
    .on_progress({
        let seen = seen.clone();
        move |done, total| seen.lock().unwrap().push((done, total))
    });
    db.backup_with(target.to_str().unwrap(), opts)
        .await
        .unwrap();
    writer.await.unwrap();

    let steps = seen.lock().unwrap().clone();
    assert!(steps.len() > 1, "progress is reported per step: {steps:?}");
    let (done, total) = *steps.last().unwrap();
    assert_eq!(done, total);
    assert!(steps.windows(2).all(|w| w[0].0 <= w[1].0));

    let copy = open(&target).await;
    assert_eq!(
        copy.integrity_check().await.unwrap(),
        vec!["ok".to_string()]
    );
    let copied = n(&copy
        .sql_read("SELECT count(*) AS n FROM t", json!([]))
        .await
        .unwrap());
    // A snapshot: at least what was there before, at most everything.
    assert!(copied >= before && copied <= before + 300, "{copied}");
    copy.close().await.unwrap();

    // The vacuum variant writes a compact copy.
    let compact = dir.path().join("compact.db");
    let calls = Arc::new(Mutex::new(0));
    let opts = BackupOptions {
        vacuum: true,
        ..BackupOptions::default()
    }
    .on_progress({
        let calls = calls.clone();
        move |_, _| *calls.lock().unwrap() += 1
    });
    db.backup_with(compact.to_str().unwrap(), opts)
        .await
        .unwrap();
    assert_eq!(*calls.lock().unwrap(), 1);
    let copy = open(&compact).await;
    assert_eq!(
        copy.integrity_check().await.unwrap(),
        vec!["ok".to_string()]
    );
    assert_eq!(
        n(&copy
            .sql_read("SELECT count(*) AS n FROM t", json!([]))
            .await
            .unwrap()),
        before + 300
    );
    copy.close().await.unwrap();
    // Refuses to overwrite the database itself.
    let err = db
        .backup(dir.path().join("src.db").to_str().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgs);
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_reaches_the_readers_and_detach_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let archive_path = dir.path().join("archive.db");
    let archive = open(&archive_path).await;
    archive.exec("CREATE TABLE old (v INTEGER)").await.unwrap();
    archive
        .sql("INSERT INTO old VALUES (1), (2)", json!([]))
        .await
        .unwrap();
    archive.close().await.unwrap();

    let db = Client::builder()
        .schema("")
        .db_path(dir.path().join("main.db").to_str().unwrap())
        .readers(3)
        .open()
        .await
        .unwrap();
    db.attach(archive_path.to_str().unwrap(), "archive")
        .await
        .unwrap();
    // Several reads so that every reader serves at least one.
    for _ in 0..12 {
        let r = db
            .sql_read("SELECT count(*) AS n FROM archive.old", json!([]))
            .await
            .unwrap();
        assert_eq!(n(&r), 2);
    }
    let r = db
        .sql("SELECT count(*) AS n FROM archive.old", json!([]))
        .await
        .unwrap();
    assert_eq!(n(&r), 2);
    db.detach("archive").await.unwrap();
    for _ in 0..6 {
        let e = db
            .sql_read("SELECT count(*) AS n FROM archive.old", json!([]))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Sqlite);
    }
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_status_checkpoint_and_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir.path().join("wal.db")).await;
    db.exec("CREATE TABLE t (v TEXT)").await.unwrap();
    for i in 0..50 {
        db.sql("INSERT INTO t VALUES (?)", json!([format!("row {i}")]))
            .await
            .unwrap();
    }
    let st = db.wal_status().await.unwrap();
    assert_eq!(st.journal_mode, "wal");
    assert_eq!(st.page_size, 8192);
    assert!(st.wal_frames > 0 && st.wal_file_size > 0);
    let cp = db.wal_checkpoint(CheckpointMode::Truncate).await.unwrap();
    assert!(!cp.busy);
    assert_eq!(db.wal_status().await.unwrap().wal_file_size, 0);

    // set_pragma reaches the writer and the readers.
    assert_eq!(
        db.set_pragma("cache_size", "-4000").await.unwrap(),
        json!(null)
    );
    assert_eq!(db.pragma("cache_size").await.unwrap(), json!(-4000));
    for _ in 0..6 {
        let r = db.sql_read("PRAGMA cache_size", json!([])).await.unwrap();
        assert_eq!(r[0]["cache_size"], json!(-4000));
    }
    let e = db
        .set_pragma("cache_size; DROP TABLE t", "1")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    db.analyze().await.unwrap();
    db.vacuum().await.unwrap();
    assert_eq!(db.integrity_check().await.unwrap(), vec!["ok".to_string()]);
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_lists_tables_columns_indexes_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir.path().join("i.db")).await;
    db.exec(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x');
         CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE
         );
         CREATE INDEX users_account ON users(account_id) WHERE account_id IS NOT NULL;",
    )
    .await
    .unwrap();
    assert_eq!(db.tables().await.unwrap(), vec!["accounts", "users"]);
    let cols = db.columns("accounts").await.unwrap();
    assert_eq!(cols[1].name, "name");
    assert_eq!(cols[1].decl_type, "TEXT");
    assert!(cols[1].not_null);
    assert_eq!(cols[1].default_value.as_deref(), Some("'x'"));
    let idx = db.indexes("users").await.unwrap();
    let partial = idx.iter().find(|i| i.name == "users_account").unwrap();
    assert!(partial.partial && !partial.unique);
    assert_eq!(partial.columns, vec!["account_id"]);
    let uniq = idx.iter().find(|i| i.origin == "u").unwrap();
    assert!(uniq.unique);
    assert_eq!(uniq.columns, vec!["email"]);
    let fks = db.foreign_keys("users").await.unwrap();
    assert_eq!(fks.len(), 1);
    assert_eq!(fks[0].table, "accounts");
    assert_eq!(fks[0].from, "account_id");
    assert_eq!(fks[0].to.as_deref(), Some("id"));
    assert_eq!(fks[0].on_delete, "CASCADE");
    assert!(db.columns("missing").await.unwrap().is_empty());
    // Foreign keys are enforced on every connection.
    let e = db
        .sql(
            "INSERT INTO users (email, account_id) VALUES ('a@b.c', 99)",
            json!([]),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ForeignKeyViolation);
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_sql_reports_to_on_query_and_writer_only_utilities_refuse_a_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let db = Client::builder()
        .schema("")
        .db_path(dir.path().join("ev.db").to_str().unwrap())
        .on_query({
            let events = events.clone();
            move |e| events.lock().unwrap().push(e.clone())
        })
        .open()
        .await
        .unwrap();
    db.sql("CREATE TABLE t (v INTEGER)", json!([]))
        .await
        .unwrap();
    db.sql("INSERT INTO t VALUES (?), (?)", json!([1, 2]))
        .await
        .unwrap();
    db.set_auth(json!({"id": "user_abc"}))
        .sql_read("SELECT v FROM t WHERE v > ?", json!([0]))
        .await
        .unwrap();
    {
        let events = events.lock().unwrap();
        assert_eq!(events.len(), 3);
        let insert = &events[1];
        assert_eq!(insert.operation, "sql");
        assert_eq!(insert.database, "main");
        assert_eq!(insert.params, vec![json!(1), json!(2)]);
        assert_eq!(insert.row_count, 2);
        assert!(insert.duration >= 0.0);
        let select = &events[2];
        assert_eq!(select.row_count, 2);
        assert_eq!(select.actor_id, Some(json!("user_abc")));
        assert_eq!(select.sql, "SELECT v FROM t WHERE v > ?");
    }
    db.transaction(async |tx| {
        for e in [
            tx.client().vacuum().await.unwrap_err(),
            tx.client().analyze().await.unwrap_err(),
            tx.client()
                .wal_checkpoint(CheckpointMode::Passive)
                .await
                .unwrap_err(),
            tx.client().backup("/nonexistent/x.db").await.unwrap_err(),
            tx.client()
                .attach("/nonexistent/x.db", "x")
                .await
                .unwrap_err(),
        ] {
            assert_eq!(e.kind(), ErrorKind::InvalidArgs);
        }
        // Pragmas read inside the transaction run on its writer.
        assert_eq!(tx.client().pragma("foreign_keys").await?, json!(1));
        Ok(())
    })
    .await
    .unwrap();
    db.close().await.unwrap();
}
