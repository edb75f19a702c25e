//! The reader pool: N OS threads, each owning one `query_only` connection,
//! all pulling from one shared bounded queue, so an idle reader takes the next
//! read and one slow query never holds up the reads queued behind it (unlike
//! round-robin).
//!
//! A read closure that needs one snapshot for several statements opens its
//! own `BEGIN` (the connection is in autocommit mode between jobs); a reader
//! rolls back any transaction a job leaves open.
//!
//! Idle readers take turns at waiting on the queue (a mutex held only while
//! receiving): the one holding the turn spins, then parks on the queue, and
//! hands the turn on as soon as it has a command. Without it, a command sent
//! while one reader spins would be handed by the channel to another reader
//! parked on it, paying a thread wake-up (tens of µs on a loaded machine)
//! while the spinning reader idles.
//!
//! Statements that must run on every connection after open (ATTACH, DETACH,
//! `set_pragma`) are appended to a [`SetupLog`]; each reader replays what it
//! has not applied yet before its next job (one atomic load when nothing
//! changed).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use rusqlite::Connection;

use super::command::{ChanShared, ReadCmd, StopReason, exec, recv_spin};

/// Statements every reader replays, in order.
#[derive(Debug, Default)]
pub(crate) struct SetupLog {
    len: AtomicUsize,
    stmts: Mutex<Vec<String>>,
}

impl SetupLog {
    /// Appends a statement for every reader to run before its next job.
    pub(crate) fn push(&self, sql: String) {
        let mut stmts = self.stmts.lock();
        stmts.push(sql);
        self.len.store(stmts.len(), Ordering::Release);
    }

    fn sync(&self, conn: &Connection, applied: &mut usize) {
        if self.len.load(Ordering::Acquire) == *applied {
            return;
        }
        let stmts = self.stmts.lock();
        for sql in &stmts[*applied..] {
            if let Err(e) = conn.execute_batch(sql) {
                tracing::warn!(error = %e, sql = %sql, "reader could not apply a setup statement");
            }
        }
        *applied = stmts.len();
    }
}

/// Decrements the live-reader count when a reader thread ends, however it
/// ends; the last one stops the shared queue so no read waits forever.
struct LastOneStops {
    queue: Arc<ChanShared<ReadCmd>>,
    live: Arc<AtomicUsize>,
}

impl Drop for LastOneStops {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        if self.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.queue.stop(if panicking {
                StopReason::Died
            } else {
                StopReason::Closed
            });
        }
    }
}

/// One reader thread's main loop. `turn` makes the idle readers take turns
/// at waiting on the queue (see the module docs).
pub(crate) fn run(
    conn: Connection,
    queue: Arc<ChanShared<ReadCmd>>,
    live: Arc<AtomicUsize>,
    setup: Arc<SetupLog>,
    turn: Arc<Mutex<()>>,
) {
    let _guard = LastOneStops {
        queue: queue.clone(),
        live,
    };
    let mut applied = 0;
    loop {
        let next = {
            let _turn = turn.lock();
            recv_spin(&queue.rx, None)
        };
        match next {
            Ok(ReadCmd::Read(mut job)) => {
                if job.abandoned() {
                    continue;
                }
                setup.sync(&conn, &mut applied);
                job.run(&conn);
                if !conn.is_autocommit() {
                    let _ = exec(&conn, "ROLLBACK");
                }
                job.finish(None);
            }
            Ok(ReadCmd::Stop(ack)) => {
                if let Err((_, e)) = conn.close() {
                    tracing::warn!(error = %e, "closing a reader connection failed");
                }
                let _ = ack.send(());
                return;
            }
            Err(_) => return,
        }
    }
}
