//! Head-on tests of the actors through the crate-private runtime API:
//! panics, group-commit batching, shutdown with a full queue, transaction
//! timeouts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{Runtime, RuntimeConfig, TxMode};
use crate::error::ErrorKind;

async fn open_file(dir: &tempfile::TempDir) -> Runtime {
    Runtime::open(RuntimeConfig {
        path: dir.path().join("rt.db").to_string_lossy().into_owned(),
        readers: 2,
        ..RuntimeConfig::default()
    })
    .await
    .expect("open")
}

async fn count(rt: &Runtime) -> i64 {
    rt.read(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?))
        .await
        .expect("count")
}

async fn with_table(rt: &Runtime) {
    rt.exclusive(|c| Ok(c.execute_batch("CREATE TABLE t (v INTEGER UNIQUE)")?))
        .await
        .expect("create");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_command_fails_alone_and_the_actors_keep_serving() {
    let dir = tempfile::tempdir().unwrap();
    let rt = open_file(&dir).await;
    with_table(&rt).await;
    let err = rt
        .write(|c| -> crate::Result<()> {
            c.execute("INSERT INTO t VALUES (1)", [])?;
            panic!("boom in a write");
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panic);
    assert!(err.to_string().contains("boom in a write"));
    // Its insert was rolled back; the writer serves the next write.
    rt.write(|c| Ok(c.execute("INSERT INTO t VALUES (2)", [])?))
        .await
        .unwrap();
    assert_eq!(count(&rt).await, 1);

    let err = rt
        .read(|_| -> crate::Result<()> { panic!("boom in a read") })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panic);
    for _ in 0..4 {
        assert_eq!(count(&rt).await, 1);
    }

    // Inside a pinned transaction: the command's savepoint is rolled back,
    // the transaction goes on.
    let tx = rt.begin(TxMode::Immediate).await.unwrap();
    tx.run(|c| Ok(c.execute("INSERT INTO t VALUES (3)", [])?))
        .await
        .unwrap();
    let err = tx
        .run(|c| -> crate::Result<()> {
            c.execute("INSERT INTO t VALUES (4)", [])?;
            panic!("boom in a transaction");
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panic);
    tx.commit().await.unwrap();
    let vals: Vec<i64> = rt
        .read(|c| {
            let mut s = c.prepare("SELECT v FROM t ORDER BY v")?;
            let rows = s.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
        })
        .await
        .unwrap();
    assert_eq!(vals, vec![2, 3]);
    rt.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_writes_share_one_commit_and_a_failing_member_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let rt = open_file(&dir).await;
    with_table(&rt).await;
    rt.write(|c| Ok(c.execute("INSERT INTO t VALUES (-1)", [])?))
        .await
        .unwrap();
    let commits = Arc::new(AtomicUsize::new(0));
    let hook = commits.clone();
    rt.exclusive(move |c| {
        c.commit_hook(Some(move || {
            hook.fetch_add(1, Ordering::SeqCst);
            false
        }))?;
        Ok(())
    })
    .await
    .unwrap();

    // Hold the writer so that the next writes queue up behind it.
    let (started_tx, started) = std::sync::mpsc::channel::<()>();
    let (go_tx, go) = std::sync::mpsc::channel::<()>();
    let blocker = {
        let rt = rt.clone();
        tokio::spawn(async move {
            rt.exclusive(move |_| {
                let _ = started_tx.send(());
                let _ = go.recv();
                Ok(())
            })
            .await
        })
    };
    tokio::task::spawn_blocking(move || started.recv())
        .await
        .unwrap()
        .unwrap();
    let mut writes = Vec::new();
    for i in 0..50i64 {
        let rt = rt.clone();
        // Member 25 violates the UNIQUE constraint.
        let v = if i == 25 { -1 } else { i };
        writes.push(tokio::spawn(async move {
            rt.write(move |c| Ok(c.execute("INSERT INTO t VALUES (?1)", [v])?))
                .await
        }));
    }
    // Let every write reach the queue before the writer is released.
    tokio::time::sleep(Duration::from_millis(200)).await;
    go_tx.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    for (i, w) in writes.into_iter().enumerate() {
        let r = w.await.unwrap();
        if i == 25 {
            assert_eq!(r.unwrap_err().kind(), ErrorKind::UniqueViolation);
        } else {
            assert_eq!(r.unwrap(), 1);
        }
    }
    assert_eq!(count(&rt).await, 50);
    assert_eq!(
        commits.load(Ordering::SeqCst),
        1,
        "the 50 queued writes were committed together"
    );
    rt.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_answers_every_queued_command_and_refuses_later_ones() {
    let dir = tempfile::tempdir().unwrap();
    let rt = open_file(&dir).await;
    with_table(&rt).await;
    let mut calls = Vec::new();
    for i in 0..1000i64 {
        let rt = rt.clone();
        calls.push(tokio::spawn(async move {
            if i % 2 == 0 {
                rt.write(move |c| Ok(c.execute("INSERT INTO t VALUES (?1)", [i])?))
                    .await
                    .map(|_| ())
            } else {
                rt.read(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))?))
                    .await
                    .map(|_| ())
            }
        }));
    }
    tokio::task::yield_now().await;
    rt.close().await.unwrap();
    let mut acked_writes = 0;
    for (i, c) in calls.into_iter().enumerate() {
        // Awaiting every call proves each got an answer.
        match c.await.unwrap() {
            Ok(()) if i % 2 == 0 => acked_writes += 1,
            Ok(()) => {}
            Err(e) => assert_eq!(e.kind(), ErrorKind::Closed),
        }
    }
    let err = rt.read(|_| Ok(())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    let err = rt.write(|_| Ok(())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert_eq!(
        rt.begin(TxMode::Immediate).await.unwrap_err().kind(),
        ErrorKind::Closed
    );
    // Closing again is fine.
    rt.close().await.unwrap();
    // Every acknowledged write is in the file.
    let rt = open_file(&dir).await;
    assert_eq!(count(&rt).await, acked_writes);
    rt.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_past_its_timeout_is_rolled_back_and_frees_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let rt = open_file(&dir).await;
    with_table(&rt).await;
    let tx = rt
        .begin_with(TxMode::Immediate, Duration::from_millis(100))
        .await
        .unwrap();
    tx.run(|c| Ok(c.execute("INSERT INTO t VALUES (1)", [])?))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let err = tx.clone().commit().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let err = tx.run(|_| Ok(())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    rt.write(|c| Ok(c.execute("INSERT INTO t VALUES (2)", [])?))
        .await
        .unwrap();
    assert_eq!(count(&rt).await, 1);
    rt.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_finishes_queued_work() {
    let dir = tempfile::tempdir().unwrap();
    let rt = open_file(&dir).await;
    with_table(&rt).await;
    let mut calls = Vec::new();
    for i in 0..100i64 {
        let rt = rt.clone();
        calls.push(tokio::spawn(async move {
            rt.write(move |c| Ok(c.execute("INSERT INTO t VALUES (?1)", [i])?))
                .await
        }));
    }
    drop(rt);
    for c in calls {
        c.await.unwrap().unwrap();
    }
    // Every handle is gone now; the actors shut down on their own. The data
    // is there for the next opener.
    let rt = open_file(&dir).await;
    assert_eq!(count(&rt).await, 100);
    rt.close().await.unwrap();
}
