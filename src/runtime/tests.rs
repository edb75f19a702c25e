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
    // Every handle is gone now; the actors shut down on their own, ending
    // with a truncating checkpoint (waited for without a speed assertion:
    // the deadline only prevents a hang).
    let wal = dir.path().join("rt.db-wal");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&wal).map_or(0, |m| m.len()) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no final checkpoint after drop"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let rt = open_file(&dir).await;
    assert_eq!(count(&rt).await, 100);
    rt.close().await.unwrap();
}

/// A job whose `run` panics outside the per-command `catch_unwind`: stands in
/// for a bug in the actor itself, which kills the thread.
struct Bomb;

impl super::command::Job for Bomb {
    fn abandoned(&self) -> bool {
        false
    }
    fn run(&mut self, _: &rusqlite::Connection) -> super::command::Outcome {
        panic!("actor bug");
    }
    fn finish(self: Box<Self>, _: Option<crate::Error>) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_an_actor_thread_dies_pending_and_later_calls_get_closed() {
    use super::command::{ReadCmd, WriterCmd};
    let dir = tempfile::tempdir().unwrap();
    let rt = open_file(&dir).await;
    with_table(&rt).await;

    // Hold the writer, queue writes behind it, then the bomb, then more writes.
    let (go_tx, go) = std::sync::mpsc::channel::<()>();
    let blocker = {
        let rt = rt.clone();
        tokio::spawn(async move {
            rt.exclusive(move |_| {
                let _ = go.recv();
                Ok(())
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    rt.inner
        .writer
        .send(WriterCmd::Exclusive(Box::new(Bomb)))
        .await
        .unwrap();
    let mut pending = Vec::new();
    for i in 0..20i64 {
        let rt = rt.clone();
        pending.push(tokio::spawn(async move {
            rt.write(move |c| Ok(c.execute("INSERT INTO t VALUES (?1)", [i])?))
                .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    go_tx.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    for p in pending {
        assert_eq!(p.await.unwrap().unwrap_err().kind(), ErrorKind::Closed);
    }
    let err = rt.write(|_| Ok(())).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
    assert!(err.to_string().contains("stopped unexpectedly"), "{err}");

    // Readers: one bomb per reader thread.
    for _ in 0..2 {
        rt.inner
            .readers
            .send(ReadCmd::Read(Box::new(Bomb)))
            .await
            .unwrap();
    }
    let mut answered = 0;
    for _ in 0..50 {
        // Reads queued while the readers die are answered with errors.
        match rt.read(|_| Ok(())).await {
            Ok(()) => answered += 1,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Closed);
                break;
            }
        }
    }
    assert!(
        answered < 50,
        "the reader pool kept answering after every reader died"
    );
    assert_eq!(
        rt.read(|_| Ok(())).await.unwrap_err().kind(),
        ErrorKind::Closed
    );
    // close() still returns (nothing left to stop).
    rt.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_makes_callers_wait_and_batches_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let rt = open_file(&dir).await;
    with_table(&rt).await;
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
    let (go_tx, go) = std::sync::mpsc::channel::<()>();
    let blocker = {
        let rt = rt.clone();
        tokio::spawn(async move {
            rt.exclusive(move |_| {
                let _ = go.recv();
                Ok(())
            })
            .await
        })
    };
    // Three times the queue's capacity: the surplus waits to enqueue.
    let n = 3 * super::QUEUE_CAP;
    let mut writes = Vec::with_capacity(n);
    for i in 0..n {
        let rt = rt.clone();
        let v = i64::try_from(i).unwrap();
        writes.push(tokio::spawn(async move {
            rt.write(move |c| Ok(c.execute("INSERT INTO t VALUES (?1)", [v])?))
                .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    go_tx.send(()).unwrap();
    blocker.await.unwrap().unwrap();
    for w in writes {
        assert_eq!(w.await.unwrap().unwrap(), 1);
    }
    assert_eq!(count(&rt).await, i64::try_from(n).unwrap());
    let commits = commits.load(Ordering::SeqCst);
    assert!(
        commits >= n.div_ceil(super::writer::MAX_BATCH),
        "batches are capped at MAX_BATCH: {commits} commits"
    );
    assert!(commits < n, "queued writes were grouped: {commits} commits");
    rt.close().await.unwrap();
}
