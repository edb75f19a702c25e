//! Many tasks against one client: no lost writes, no torn reads, and a
//! failing member of a group commit fails alone.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use litestone::{Client, ErrorKind};
use serde_json::json;

async fn open(dir: &tempfile::TempDir) -> Client {
    let path = dir.path().join("c.db");
    Client::builder()
        .schema("")
        .db_path(path.to_str().unwrap())
        .readers(3)
        .open()
        .await
        .expect("open")
}

fn count(v: &serde_json::Value) -> i64 {
    v[0]["n"].as_i64().expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_tasks_lose_no_write_and_never_see_half_a_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, grp INTEGER)")
        .await
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..60 {
        let (db, stop) = (db.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            let mut seen = 0;
            while !stop.load(Ordering::Relaxed) || seen == 0 {
                let r = db
                    .sql_read(
                        "SELECT count(*) AS n FROM items WHERE kind = 'pair'",
                        json!([]),
                    )
                    .await
                    .unwrap();
                // Pairs are written by one transaction each: a reader sees
                // both rows or neither.
                assert_eq!(count(&r) % 2, 0, "a reader saw half a transaction");
                seen += 1;
                tokio::task::yield_now().await;
            }
            seen
        }));
    }

    let mut writers = Vec::new();
    for t in 0..100 {
        let db = db.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..5 {
                db.sql(
                    "INSERT INTO items (kind, grp) VALUES ('single', ?)",
                    json!([t * 10 + i]),
                )
                .await
                .unwrap();
            }
        }));
    }
    for t in 0..60 {
        let db = db.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..3 {
                db.transaction(async |tx| {
                    let grp = t * 10 + i;
                    tx.sql(
                        "INSERT INTO items (kind, grp) VALUES ('pair', ?)",
                        json!([grp]),
                    )
                    .await?;
                    tokio::task::yield_now().await;
                    tx.sql(
                        "INSERT INTO items (kind, grp) VALUES ('pair', ?)",
                        json!([grp]),
                    )
                    .await?;
                    Ok(())
                })
                .await
                .unwrap();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.await.unwrap() > 0);
    }

    let singles = db
        .sql_read(
            "SELECT count(*) AS n FROM items WHERE kind = 'single'",
            json!([]),
        )
        .await
        .unwrap();
    let pairs = db
        .sql_read(
            "SELECT count(*) AS n FROM items WHERE kind = 'pair'",
            json!([]),
        )
        .await
        .unwrap();
    assert_eq!(count(&singles), 500);
    assert_eq!(count(&pairs), 360);
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unique_violation_among_concurrent_inserts_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)")
        .await
        .unwrap();
    db.sql("INSERT INTO users (email) VALUES ('taken@x.io')", json!([]))
        .await
        .unwrap();

    for round in 0..5 {
        let mut tasks = Vec::new();
        for i in 0..80 {
            let db = db.clone();
            let email = if i == 40 {
                "taken@x.io".to_string()
            } else {
                format!("u{round}-{i}@x.io")
            };
            tasks.push(tokio::spawn(async move {
                db.sql("INSERT INTO users (email) VALUES (?)", json!([email]))
                    .await
            }));
        }
        let mut failures = 0;
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(_) => assert_ne!(i, 40),
                Err(e) => {
                    assert_eq!(i, 40);
                    assert_eq!(e.kind(), ErrorKind::UniqueViolation);
                    failures += 1;
                }
            }
        }
        assert_eq!(failures, 1);
        let n = db
            .sql_read(
                "SELECT count(*) AS n FROM users WHERE email LIKE ?",
                json!([format!("u{round}-%")]),
            )
            .await
            .unwrap();
        assert_eq!(
            count(&n),
            79,
            "every other insert of round {round} committed"
        );
    }
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_continue_while_a_transaction_pins_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    db.exec("CREATE TABLE t (v INTEGER)").await.unwrap();
    db.sql("INSERT INTO t VALUES (1)", json!([])).await.unwrap();

    let (entered_tx, entered) = tokio::sync::oneshot::channel();
    let (release_tx, release) = tokio::sync::oneshot::channel::<()>();
    let tx_task = {
        let db = db.clone();
        tokio::spawn(async move {
            db.transaction(async move |tx| {
                tx.sql("INSERT INTO t VALUES (2)", json!([])).await?;
                // Inside the transaction, reads see its own write.
                let own = tx
                    .sql_read("SELECT count(*) AS n FROM t", json!([]))
                    .await?;
                assert_eq!(count(&own), 2);
                let _ = entered_tx.send(());
                let _ = release.await;
                Ok(())
            })
            .await
        })
    };
    entered.await.unwrap();
    // A write queued now waits for the transaction...
    let queued = {
        let db = db.clone();
        tokio::spawn(async move { db.sql("INSERT INTO t VALUES (3)", json!([])).await })
    };
    // ...while readers keep answering, from the last committed snapshot.
    for _ in 0..10 {
        let n = db
            .sql_read("SELECT count(*) AS n FROM t", json!([]))
            .await
            .unwrap();
        assert_eq!(count(&n), 1);
    }
    assert!(!queued.is_finished());
    release_tx.send(()).unwrap();
    tx_task.await.unwrap().unwrap();
    queued.await.unwrap().unwrap();
    let n = db
        .sql_read("SELECT count(*) AS n FROM t", json!([]))
        .await
        .unwrap();
    assert_eq!(count(&n), 3);
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_database_serves_concurrent_readers_and_writers_consistently() {
    let db = Client::builder()
        .schema("")
        .db_path(":memory:")
        .readers(3)
        .open()
        .await
        .unwrap();
    db.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, kind TEXT NOT NULL)")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                let r = db
                    .sql_read(
                        "SELECT count(*) AS n FROM items WHERE kind = 'pair'",
                        json!([]),
                    )
                    .await
                    .unwrap();
                assert_eq!(count(&r) % 2, 0);
            }
        }));
    }
    for _ in 0..20 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..5 {
                db.transaction(async |tx| {
                    tx.sql("INSERT INTO items (kind) VALUES ('pair')", json!([]))
                        .await?;
                    tx.sql("INSERT INTO items (kind) VALUES ('pair')", json!([]))
                        .await?;
                    Ok(())
                })
                .await
                .unwrap();
                db.sql("INSERT INTO items (kind) VALUES ('single')", json!([]))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = db
        .sql_read("SELECT count(*) AS n FROM items", json!([]))
        .await
        .unwrap();
    assert_eq!(count(&all), 300);
    db.close().await.unwrap();
}
