//! Transactions through the public API: commit, the four rollback causes,
//! nested savepoints, modes, and a writer that is free afterwards.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use std::time::Duration;

use litestone::{Client, Error, ErrorKind, TxMode, TxOptions};
use serde_json::json;

async fn open(dir: &tempfile::TempDir) -> Client {
    let path = dir.path().join("tx.db");
    let db = Client::builder()
        .schema("")
        .db_path(path.to_str().unwrap())
        .open()
        .await
        .expect("open");
    db.exec("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)")
        .await
        .unwrap();
    db
}

async fn values(db: &Client) -> Vec<i64> {
    db.sql_read("SELECT v FROM t ORDER BY v", json!([]))
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["v"].as_i64().unwrap())
        .collect()
}

async fn writer_is_free(db: &Client, v: i64) {
    db.sql("INSERT INTO t VALUES (?)", json!([v]))
        .await
        .unwrap();
    db.sql("DELETE FROM t WHERE v = ?", json!([v]))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ok_commits_and_returns_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let out = db
        .transaction(|tx| async move {
            tx.sql("INSERT INTO t VALUES (1)", json!([])).await?;
            tx.sql("INSERT INTO t VALUES (2)", json!([])).await?;
            let n = tx.sql("SELECT count(*) AS n FROM t", json!([])).await?;
            Ok(n[0]["n"].as_i64())
        })
        .await
        .unwrap();
    assert_eq!(out, Some(2));
    assert_eq!(values(&db).await, vec![1, 2]);
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn err_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let err = db
        .transaction(async |tx| -> litestone::Result<()> {
            tx.sql("INSERT INTO t VALUES (1)", json!([])).await?;
            Err(Error::invalid_args("x", "changed my mind"))
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgs);
    assert!(values(&db).await.is_empty());
    writer_is_free(&db, 100).await;

    // A failing statement inside: its error is the transaction's error.
    db.sql("INSERT INTO t VALUES (7)", json!([])).await.unwrap();
    let err = db
        .transaction(async |tx| {
            tx.sql("INSERT INTO t VALUES (8)", json!([])).await?;
            tx.sql("INSERT INTO t VALUES (7)", json!([])).await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UniqueViolation);
    assert_eq!(values(&db).await, vec![7]);
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let err = db
        .transaction(async |tx| -> litestone::Result<()> {
            tx.sql("INSERT INTO t VALUES (1)", json!([])).await?;
            panic!("closure panicked");
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panic);
    assert!(err.to_string().contains("closure panicked"));
    assert!(values(&db).await.is_empty());
    writer_is_free(&db, 100).await;
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_future_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let (inserted_tx, inserted) = tokio::sync::oneshot::channel();
    let fut = db.transaction(async move |tx| -> litestone::Result<()> {
        tx.sql("INSERT INTO t VALUES (1)", json!([])).await?;
        let _ = inserted_tx.send(());
        std::future::pending::<()>().await;
        Ok(())
    });
    tokio::select! {
        r = fut => panic!("the transaction cannot finish: {r:?}"),
        _ = inserted => {}
    }
    // The select dropped the transaction future mid-way.
    assert!(values(&db).await.is_empty());
    writer_is_free(&db, 100).await;

    // Polled once (BEGIN queued) and dropped before the writer answered.
    let r = futures::FutureExt::now_or_never(db.transaction(async |tx| {
        tx.sql("INSERT INTO t VALUES (2)", json!([])).await?;
        Ok(())
    }));
    assert!(r.is_none());
    writer_is_free(&db, 101).await;
    assert!(values(&db).await.is_empty());
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let opts = TxOptions {
        timeout: Some(Duration::from_millis(100)),
        ..TxOptions::default()
    };
    let err = db
        .transaction_with(opts, async |tx| {
            tx.sql("INSERT INTO t VALUES (1)", json!([])).await?;
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(values(&db).await.is_empty());
    writer_is_free(&db, 100).await;

    // The builder's default applies when the options give none.
    let path = dir.path().join("tx.db");
    let short = Client::builder()
        .schema("")
        .db_path(path.to_str().unwrap())
        .transaction_timeout(Duration::from_millis(100))
        .open()
        .await
        .unwrap();
    let err = short
        .transaction(async |tx| {
            tx.sql("INSERT INTO t VALUES (2)", json!([])).await?;
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    short.close().await.unwrap();
    assert!(values(&db).await.is_empty());
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_transactions_are_savepoints() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    db.transaction(async |tx| {
        tx.sql("INSERT INTO t VALUES (1)", json!([])).await?;
        let inner = tx
            .transaction(async |inner| -> litestone::Result<()> {
                assert_eq!(inner.depth(), 1);
                inner.sql("INSERT INTO t VALUES (2)", json!([])).await?;
                Err(Error::invalid_args("inner", "fails alone"))
            })
            .await;
        assert_eq!(inner.unwrap_err().kind(), ErrorKind::InvalidArgs);
        let inner = tx
            .transaction(async |inner| -> litestone::Result<()> {
                inner.sql("INSERT INTO t VALUES (3)", json!([])).await?;
                panic!("inner panic");
            })
            .await;
        assert_eq!(inner.unwrap_err().kind(), ErrorKind::Panic);
        tx.transaction(async |inner| {
            inner.sql("INSERT INTO t VALUES (4)", json!([])).await?;
            // Two levels deep.
            inner
                .transaction(async |deeper| {
                    deeper.sql("INSERT INTO t VALUES (5)", json!([])).await?;
                    Ok(())
                })
                .await
        })
        .await?;
        // A client handle inside the transaction nests too.
        tx.client()
            .transaction(async |inner| {
                inner.sql("INSERT INTO t VALUES (6)", json!([])).await?;
                Ok(())
            })
            .await?;
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(values(&db).await, vec![1, 4, 5, 6]);

    // Closing from inside a transaction would wait for itself: refused.
    let err = db
        .transaction(async |tx| tx.client().close().await)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgs);

    // An outer rollback undoes released savepoints too.
    let _ = db
        .transaction(async |tx| -> litestone::Result<()> {
            tx.transaction(async |inner| {
                inner.sql("INSERT INTO t VALUES (9)", json!([])).await?;
                Ok(())
            })
            .await?;
            Err(Error::invalid_args("outer", "rollback"))
        })
        .await;
    assert_eq!(values(&db).await, vec![1, 4, 5, 6]);
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mode_begins_and_commits() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    for (i, mode) in [TxMode::Deferred, TxMode::Immediate, TxMode::Exclusive]
        .into_iter()
        .enumerate()
    {
        let opts = TxOptions {
            mode,
            ..TxOptions::default()
        };
        db.transaction_with(opts, async move |tx| {
            tx.sql("INSERT INTO t VALUES (?)", json!([i])).await?;
            Ok(())
        })
        .await
        .unwrap();
    }
    assert_eq!(values(&db).await, vec![0, 1, 2]);
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_futures_are_send() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let handle = tokio::spawn({
        let db = db.clone();
        async move {
            db.transaction(|tx| async move {
                tx.sql("INSERT INTO t VALUES (1)", json!([])).await?;
                Ok(())
            })
            .await
        }
    });
    handle.await.unwrap().unwrap();
    assert_eq!(values(&db).await, vec![1]);
    db.close().await.unwrap();
}
