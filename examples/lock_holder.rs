//! A second process for the runtime's cross-process tests.
//!
//! `lock_holder lock <db> <name> <hold_ms>`: takes application lock `name`
//! on database file `db`, prints `locked`, holds it `hold_ms` milliseconds,
//! releases it and prints `released` (or prints `timeout` if it could not
//! get the lock within 30 s).
//!
//! `lock_holder write <db> <count>`: inserts `count` rows into table
//! `acked(id INTEGER PRIMARY KEY)` one by one, printing `acked <id>` after
//! each insert returned (committed); used to check that acknowledged writes
//! survive SIGKILL.

use std::io::Write;
use std::time::Duration;

use litestone::{Client, ErrorKind, LockOptions};
use serde_json::json;

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn arg(args: &[String], i: usize) -> litestone::Result<&str> {
    args.get(i)
        .map(String::as_str)
        .ok_or_else(|| litestone::Error::invalid_args("argv", format!("missing argument {i}")))
}

#[tokio::main]
async fn main() -> litestone::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mode = arg(&args, 1)?;
    let db = Client::builder()
        .schema("")
        .db_path(arg(&args, 2)?)
        .open()
        .await?;
    match mode {
        "lock" => {
            let name = arg(&args, 3)?;
            let hold: u64 = arg(&args, 4)?.parse().unwrap_or(1000);
            let opts = LockOptions {
                wait_timeout: Some(Duration::from_secs(30)),
                ..LockOptions::default()
            };
            match db.lock_with(name, opts).await {
                Ok(guard) => {
                    say("locked");
                    tokio::time::sleep(Duration::from_millis(hold)).await;
                    guard.release().await?;
                    say("released");
                }
                Err(e) if e.kind() == ErrorKind::Timeout => say("timeout"),
                Err(e) => return Err(e),
            }
        }
        "write" => {
            let count: u64 = arg(&args, 3)?.parse().unwrap_or(1000);
            db.exec("CREATE TABLE IF NOT EXISTS acked (id INTEGER PRIMARY KEY)")
                .await?;
            say("ready");
            for id in 1..=count {
                db.sql("INSERT INTO acked (id) VALUES (?)", json!([id]))
                    .await?;
                say(&format!("acked {id}"));
            }
        }
        other => {
            return Err(litestone::Error::invalid_args(
                "argv",
                format!("unknown mode `{other}`"),
            ));
        }
    }
    db.close().await
}
