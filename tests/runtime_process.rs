//! Two OS processes on one database file: application locks exclude across
//! processes, SQLITE_BUSY from another process surfaces as `Error::Busy`, and
//! writes acknowledged by a process killed with SIGKILL survive.
//!
//! The second process is `examples/lock_holder.rs`, built on demand with the
//! cargo that runs the tests (a no-op when it is up to date).

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use litestone::{Client, ErrorKind, LockOptions};
use serde_json::json;

/// Path of the built `lock_holder` example, next to this test binary.
fn lock_holder() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        // target/<profile>/deps/<test> → target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(|d| d.parent())
            .expect("target profile dir")
            .to_path_buf();
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(["build", "--quiet", "--example", "lock_holder"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build --example lock_holder");
        assert!(status.success(), "building the lock_holder example failed");
        profile_dir
            .join("examples")
            .join(format!("lock_holder{}", std::env::consts::EXE_SUFFIX))
    })
    .clone()
}

struct Proc {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Proc {
    fn spawn(args: &[&str]) -> Proc {
        let mut child = Command::new(lock_holder())
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn lock_holder");
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        Proc { child, out }
    }

    /// Next line of output (blocking; the child always prints or exits).
    fn line(&mut self) -> Option<String> {
        let mut s = String::new();
        match self.out.read_line(&mut s) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(s.trim_end().to_string()),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn open(path: &str) -> Client {
    Client::builder()
        .schema("")
        .db_path(path)
        .open()
        .await
        .expect("open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_by_another_process_excludes_us_until_released() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.db");
    let path = path.to_str().unwrap().to_string();
    let db = open(&path).await;
    let mut child = Proc::spawn(&["lock", &path, "nightly", "1500"]);
    let (locked, mut child) = tokio::task::spawn_blocking(move || (child.line(), child))
        .await
        .unwrap();
    assert_eq!(locked.as_deref(), Some("locked"));

    let err = db
        .lock_with(
            "nightly",
            LockOptions {
                wait_timeout: Some(Duration::from_millis(200)),
                ..LockOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);

    // Waiting longer: the child releases, we get it by polling.
    let guard = db
        .lock_with(
            "nightly",
            LockOptions {
                wait_timeout: Some(Duration::from_secs(30)),
                ..LockOptions::default()
            },
        )
        .await
        .unwrap();
    let rest = tokio::task::spawn_blocking(move || {
        let line = child.line();
        let status = child.child.wait().expect("wait");
        (line, status)
    })
    .await
    .unwrap();
    assert_eq!(rest.0.as_deref(), Some("released"));
    assert!(rest.1.success());

    // Now we hold it: a second process times out waiting... and gets it
    // after we release. Its wait (30 s) only bounds a hang.
    let mut child = Proc::spawn(&["lock", &path, "nightly", "10"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    guard.release().await.unwrap();
    let lines = tokio::task::spawn_blocking(move || (child.line(), child.line()))
        .await
        .unwrap();
    assert_eq!(lines.0.as_deref(), Some("locked"));
    assert_eq!(lines.1.as_deref(), Some("released"));
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lock_of_a_killed_process_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let path = path.to_str().unwrap().to_string();
    let db = open(&path).await;
    // The child holds the lock for a long time; we kill it. Its row stays
    // behind until its ttl (30 s by default) — shorten it by hand so the test
    // does not wait: rows carry their own expiry.
    let mut child = Proc::spawn(&["lock", &path, "crashy", "60000"]);
    let (line, child) = tokio::task::spawn_blocking(move || (child.line(), child))
        .await
        .unwrap();
    assert_eq!(line.as_deref(), Some("locked"));
    drop(child); // SIGKILL
    let err = db
        .lock_with(
            "crashy",
            LockOptions {
                wait_timeout: Some(Duration::from_millis(100)),
                ..LockOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    db.sql(
        "UPDATE _litestone_locks SET expires_at = expires_at - 60000 WHERE name = 'crashy'",
        json!([]),
    )
    .await
    .unwrap();
    let guard = db
        .lock_with(
            "crashy",
            LockOptions {
                wait_timeout: Some(Duration::from_secs(5)),
                ..LockOptions::default()
            },
        )
        .await
        .unwrap();
    guard.release().await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kill.db");
    let path = path.to_str().unwrap().to_string();
    let mut child = Proc::spawn(&["write", &path, "100000"]);
    let acked = tokio::task::spawn_blocking(move || {
        assert_eq!(child.line().as_deref(), Some("ready"));
        let mut acked = Vec::new();
        while acked.len() < 300 {
            match child.line() {
                Some(l) => acked.push(l["acked ".len()..].parse::<i64>().expect("id")),
                None => break,
            }
        }
        // SIGKILL mid-stream; lines already printed are acknowledged writes.
        child.child.kill().expect("kill");
        child.child.wait().expect("wait");
        while let Some(l) = child.line() {
            acked.push(l["acked ".len()..].parse::<i64>().expect("id"));
        }
        acked
    })
    .await
    .unwrap();
    assert!(acked.len() >= 300);

    let db = open(&path).await;
    assert_eq!(db.integrity_check().await.unwrap(), vec!["ok".to_string()]);
    let max = *acked.iter().max().unwrap();
    let present = db
        .sql_read(
            "SELECT count(*) AS n FROM acked WHERE id <= ?",
            json!([max]),
        )
        .await
        .unwrap();
    assert_eq!(
        present[0]["n"].as_i64(),
        Some(max),
        "an acknowledged write was lost"
    );
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_holding_the_write_lock_gives_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.db");
    let path = path.to_str().unwrap().to_string();
    let db = Client::builder()
        .schema("")
        .db_path(&path)
        .pragma("busy_timeout", "100")
        .open()
        .await
        .unwrap();
    db.exec("CREATE TABLE t (v INTEGER)").await.unwrap();
    // Another connection (as another process would) holds the write lock.
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch("PRAGMA busy_timeout = 100; BEGIN IMMEDIATE; INSERT INTO t VALUES (0)")
        .unwrap();
    let err = db
        .sql("INSERT INTO t VALUES (1)", json!([]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy);
    let err = db
        .transaction(async |tx| {
            tx.sql("INSERT INTO t VALUES (2)", json!([])).await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy);
    // Reads still work (WAL), and once the other side commits, writes do.
    let n = db
        .sql_read("SELECT count(*) AS n FROM t", json!([]))
        .await
        .unwrap();
    assert_eq!(n[0]["n"], json!(0));
    other.execute_batch("COMMIT").unwrap();
    db.sql("INSERT INTO t VALUES (3)", json!([])).await.unwrap();
    let n = db
        .sql_read("SELECT count(*) AS n FROM t", json!([]))
        .await
        .unwrap();
    assert_eq!(n[0]["n"], json!(2));
    db.close().await.unwrap();
}
