//! Application locks within one process: exclusion between tasks, waking
//! waiters on release, wait timeouts, expiry takeover, extend, `with_lock`.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use litestone::{Client, ErrorKind, LockOptions};
use serde_json::json;

async fn open(dir: &tempfile::TempDir) -> Client {
    let path = dir.path().join("lock.db");
    Client::builder()
        .schema("")
        .db_path(path.to_str().unwrap())
        .open()
        .await
        .expect("open")
}

fn opts(wait: Duration) -> LockOptions {
    LockOptions {
        wait_timeout: Some(wait),
        ..LockOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_exclude_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let inside = Arc::new(AtomicUsize::new(0));
    let entries = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (db, inside, entries) = (db.clone(), inside.clone(), entries.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..3 {
                db.with_lock("report", || async {
                    assert_eq!(
                        inside.fetch_add(1, Ordering::SeqCst),
                        0,
                        "two holders at once"
                    );
                    entries.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                })
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(entries.load(Ordering::SeqCst), 60);
    // Released locks leave no rows behind.
    let rows = db
        .sql_read("SELECT count(*) AS n FROM _litestone_locks", json!([]))
        .await
        .unwrap();
    assert_eq!(rows[0]["n"], json!(0));
    // The lock table is litestone's own: hidden from introspection.
    assert!(db.tables().await.unwrap().is_empty());
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_gets_the_lock_when_the_holder_releases() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let guard = db.lock("job").await.unwrap();
    let waiter = {
        let db = db.clone();
        tokio::spawn(async move {
            let g = db.lock_with("job", opts(Duration::from_secs(20))).await?;
            g.release().await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !waiter.is_finished(),
        "the waiter must wait while the lock is held"
    );
    guard.release().await.unwrap();
    waiter.await.unwrap().unwrap();

    // Release by drop wakes waiters as well.
    let guard = db.lock("job").await.unwrap();
    let waiter = {
        let db = db.clone();
        tokio::spawn(async move {
            db.lock_with("job", opts(Duration::from_secs(20)))
                .await
                .map(drop)
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(guard);
    waiter.await.unwrap().unwrap();
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_past_the_wait_timeout_fails_with_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let _held = db.lock("busy").await.unwrap();
    let err = db
        .lock_with("busy", opts(Duration::from_millis(150)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    // Other names are independent.
    db.lock("other").await.unwrap().release().await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lock_is_taken_over_and_its_old_guard_cannot_extend() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let short = LockOptions {
        ttl: Duration::from_millis(100),
        ..LockOptions::default()
    };
    let mut stale = db.lock_with("lease", short).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fresh = db
        .lock_with("lease", opts(Duration::from_secs(5)))
        .await
        .unwrap();
    let err = stale.extend(Duration::from_secs(10)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    // The stale guard's release must not free the new holder's lock.
    stale.release().await.unwrap();
    let err = db
        .lock_with("lease", opts(Duration::from_millis(100)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    fresh.release().await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extend_keeps_a_lock_past_its_first_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let short = LockOptions {
        ttl: Duration::from_millis(300),
        ..LockOptions::default()
    };
    let mut guard = db.lock_with("long", short).await.unwrap();
    let before = guard.expires_at();
    guard.extend(Duration::from_secs(30)).await.unwrap();
    assert!(guard.expires_at() > before);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let err = db
        .lock_with("long", opts(Duration::from_millis(50)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    guard.release().await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_lock_returns_the_value_and_releases_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let v = db.with_lock("w", || async { Ok(42) }).await.unwrap();
    assert_eq!(v, 42);
    let err = db
        .with_lock("w", async || -> litestone::Result<()> {
            Err(litestone::Error::invalid_args("x", "fails"))
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgs);
    // Released despite the error.
    db.lock_with("w", opts(Duration::from_millis(100)))
        .await
        .unwrap()
        .release()
        .await
        .unwrap();
    // Not from inside a transaction (it pins the writer locks are written through).
    let err = db
        .transaction(async |tx| tx.client().lock("w").await.map(drop))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgs);
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_lock_keeps_the_lock_alive_past_its_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let short = LockOptions {
        ttl: Duration::from_millis(300),
        ..LockOptions::default()
    };
    let contender = db.clone();
    db.with_lock_opts("beat", short, || async move {
        // Well past the first ttl, the lock is still ours.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let err = contender
            .lock_with("beat", opts(Duration::from_millis(50)))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        Ok(())
    })
    .await
    .unwrap();
    db.lock_with("beat", opts(Duration::from_secs(5)))
        .await
        .unwrap()
        .release()
        .await
        .unwrap();
    db.close().await.unwrap();
}
