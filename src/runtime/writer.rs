//! The writer actor: one OS thread owning the read-write connection.
//!
//! Group commit: after taking a write off the queue, the writer also takes
//! every write already queued behind it (no timer, so a lone caller pays
//! nothing), up to [`MAX_BATCH`], and runs them in one `BEGIN IMMEDIATE …
//! COMMIT`, each inside its own SAVEPOINT. A member that fails (or panics) is
//! rolled back to its savepoint and fails alone; replies go out only after
//! COMMIT returned, and a failed COMMIT fails every member. One fsync (or
//! none, with `synchronous=NORMAL` in WAL) then covers the whole group, and
//! each acknowledged write is exactly as durable as the configured
//! `synchronous` makes a single COMMIT.
//!
//! Late members: writes that arrive while the group's members run join the
//! group before its COMMIT (a second non-blocking drain, no timer, so a lone
//! writer still commits at once). Without it a busy writer committed the
//! few writes queued at its first drain and the 64-task `insert_conc`
//! callers, woken by that commit, refilled the queue just behind it. Measured
//! (quick harness, medians of 3, same build A/B, loaded 2-core VM):
//! insert_conc 15.2k/22.4k → 32.6k/24.2k rows/s, insert_conc_durable
//! 8.9k/9.7k → 13.2k/19.3k rows/s (the rusqlite baseline swung between 14k
//! and 25k in the same runs, so compare the litestone columns).
//!
//! A pinned transaction ([`WriterCmd::Begin`]) makes the writer serve only that
//! transaction's queue until COMMIT, ROLLBACK, the handle being dropped
//! (queue disconnected → ROLLBACK) or the timeout (→ ROLLBACK); other writes
//! stay queued meanwhile. Each transaction command runs in its own savepoint
//! too, so a failing or panicking command leaves no partial effect.

use std::sync::Arc;
use std::time::Instant;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::command::{
    BeginCmd, ChanShared, Job, Outcome, StopReason, TxCmd, WriterCmd, exec, recv_spin,
};
use crate::error::{Error, Result};

/// Most writes committed together; bounds the latency of the first member
/// and the memory of held replies.
pub(crate) const MAX_BATCH: usize = 256;

/// Stops the queue when the thread ends, however it ends (panics included),
/// so that no caller waits on a queue nobody reads.
struct StopOnExit(Arc<ChanShared<WriterCmd>>, StopReason);

impl Drop for StopOnExit {
    fn drop(&mut self) {
        let reason = if std::thread::panicking() {
            StopReason::Died
        } else {
            self.1
        };
        self.0.stop(reason);
    }
}

/// The writer thread's main loop.
pub(crate) fn run(conn: Connection, queue: Arc<ChanShared<WriterCmd>>) {
    let mut guard = StopOnExit(queue.clone(), StopReason::Died);
    let mut pending: Option<WriterCmd> = None;
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(16);
    let mut close_reply: Option<oneshot::Sender<Result<()>>> = None;
    loop {
        let cmd = match pending.take() {
            Some(c) => c,
            None => match recv_spin(&queue.rx, None) {
                Ok(c) => c,
                // Every handle was dropped: shut down like close().
                Err(_) => break,
            },
        };
        match cmd {
            WriterCmd::Write(job) => {
                batch.push(job);
                while batch.len() < MAX_BATCH {
                    match queue.rx.try_recv() {
                        Ok(WriterCmd::Write(j)) => batch.push(j),
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                group_commit(&conn, &mut batch, &queue, &mut pending);
            }
            WriterCmd::Exclusive(job) => exclusive(&conn, job),
            WriterCmd::Begin(begin) => serve_tx(&conn, *begin),
            WriterCmd::Close(reply) => {
                close_reply = Some(reply);
                break;
            }
        }
    }
    // Refuse further commands before the (possibly slow) final checkpoint.
    queue.begin_close();
    let result = finish(conn);
    guard.1 = StopReason::Closed;
    drop(guard);
    if let Some(reply) = close_reply {
        let _ = reply.send(result);
    }
}

/// Final work on the writer connection: `PRAGMA optimize`, a truncating WAL
/// checkpoint, and closing the connection.
fn finish(conn: Connection) -> Result<()> {
    if !conn.is_autocommit() {
        let _ = exec(&conn, "ROLLBACK");
    }
    conn.execute_batch("PRAGMA optimize")?;
    // Reports (busy, log, checkpointed); a busy checkpoint is not an error.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    conn.close().map_err(|(_, e)| Error::from(e))
}

/// Runs a job outside any transaction; a job that leaves a transaction open
/// gets it rolled back, so the writer is always free afterwards.
fn exclusive(conn: &Connection, mut job: Box<dyn Job>) {
    if job.abandoned() {
        return;
    }
    job.run(conn);
    if !conn.is_autocommit() {
        tracing::warn!("an exclusive command left a transaction open; rolling it back");
        let _ = exec(conn, "ROLLBACK");
    }
    job.finish(None);
}

/// Makes sure a transaction is open (a member may have ended it).
fn ensure_tx(conn: &Connection) -> Result<()> {
    if conn.is_autocommit() {
        exec(conn, "BEGIN IMMEDIATE")?;
    }
    Ok(())
}

/// Commits `batch` together (see the module docs); empties it.
fn group_commit(
    conn: &Connection,
    batch: &mut Vec<Box<dyn Job>>,
    queue: &ChanShared<WriterCmd>,
    pending: &mut Option<WriterCmd>,
) {
    batch.retain(|j| !j.abandoned());
    if batch.is_empty() {
        return;
    }
    if let Err(e) = ensure_tx(conn) {
        for j in batch.drain(..) {
            j.finish(Some(e.clone()));
        }
        return;
    }
    let result = if batch.len() == 1 {
        // Alone: the transaction itself is the savepoint.
        match batch[0].run(conn) {
            Outcome::Ok => Ok(()),
            _ => {
                rollback(conn);
                batch.drain(..).for_each(|j| j.finish(None));
                return;
            }
        }
    } else {
        run_members(conn, batch)
    };
    let result = result.and_then(|()| late_members(conn, batch, queue, pending));
    let result = result.and_then(|()| {
        if conn.is_autocommit() {
            Ok(())
        } else {
            exec(conn, "COMMIT")
        }
    });
    match result {
        Ok(()) => batch.drain(..).for_each(|j| j.finish(None)),
        Err(e) => {
            rollback(conn);
            batch.drain(..).for_each(|j| j.finish(Some(e.clone())));
        }
    }
}

fn run_members(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<()> {
    for job in batch.iter_mut() {
        run_member(conn, job)?;
    }
    Ok(())
}

fn run_member(conn: &Connection, job: &mut Box<dyn Job>) -> Result<()> {
    ensure_tx(conn)?;
    exec(conn, "SAVEPOINT litestone_member")?;
    let outcome = job.run(conn);
    if conn.is_autocommit() {
        // The member ended the group's transaction itself; the next one
        // starts a fresh transaction.
        return Ok(());
    }
    if outcome != Outcome::Ok {
        exec(conn, "ROLLBACK TO litestone_member")?;
    }
    exec(conn, "RELEASE litestone_member")
}

/// Writes queued while the group ran join it before COMMIT (no waiting: a
/// lone writer finds the queue empty and commits at once). Under load this
/// is what makes the group as large as what callers have queued.
fn late_members(
    conn: &Connection,
    batch: &mut Vec<Box<dyn Job>>,
    queue: &ChanShared<WriterCmd>,
    pending: &mut Option<WriterCmd>,
) -> Result<()> {
    if pending.is_some() {
        return Ok(());
    }
    while batch.len() < MAX_BATCH {
        match queue.rx.try_recv() {
            Ok(WriterCmd::Write(mut job)) => {
                if job.abandoned() {
                    continue;
                }
                // Pushed first: an error below fails it with the group.
                let res = run_member(conn, &mut job);
                batch.push(job);
                res?;
            }
            Ok(other) => {
                *pending = Some(other);
                break;
            }
            Err(_) => break,
        }
    }
    Ok(())
}

fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        if let Err(e) = exec(conn, "ROLLBACK") {
            tracing::error!(error = %e, "ROLLBACK failed");
        }
    }
}

/// Serves one pinned transaction until it ends.
fn serve_tx(conn: &Connection, begin: BeginCmd) {
    let BeginCmd {
        mode,
        timeout,
        queue,
        reply,
        span,
    } = begin;
    let _entered = span.enter();
    if reply.is_closed() {
        queue.stop(StopReason::Finished);
        return;
    }
    let sql = match mode {
        super::TxMode::Deferred => "BEGIN DEFERRED",
        super::TxMode::Immediate => "BEGIN IMMEDIATE",
        super::TxMode::Exclusive => "BEGIN EXCLUSIVE",
    };
    if let Err(e) = exec(conn, sql) {
        queue.stop(StopReason::Finished);
        let _ = reply.send(Err(e));
        return;
    }
    let deadline = Instant::now() + timeout;
    if reply.send(Ok(())).is_err() {
        rollback(conn);
        queue.stop(StopReason::Finished);
        return;
    }
    let reason = loop {
        match recv_spin(&queue.rx, Some(deadline)) {
            Ok(TxCmd::Run(mut job)) => {
                if job.abandoned() {
                    continue;
                }
                let res = tx_member(conn, &mut *job);
                job.finish(None);
                if let Err(e) = res {
                    tracing::error!(error = %e, "transaction savepoint failed; rolling back");
                    rollback(conn);
                    break StopReason::Finished;
                }
                if conn.is_autocommit() {
                    // The command ended the transaction itself.
                    break StopReason::Finished;
                }
            }
            Ok(TxCmd::Raw(mut job)) => {
                if job.abandoned() {
                    continue;
                }
                job.run(conn);
                job.finish(None);
                if conn.is_autocommit() {
                    break StopReason::Finished;
                }
            }
            Ok(TxCmd::Commit(reply)) => {
                let res = if conn.is_autocommit() {
                    Err(Error::closed("the transaction was already ended"))
                } else {
                    exec(conn, "COMMIT")
                };
                if res.is_err() {
                    rollback(conn);
                }
                let _ = reply.send(res);
                break StopReason::Finished;
            }
            Ok(TxCmd::Rollback(reply)) => {
                rollback(conn);
                let _ = reply.send(Ok(()));
                break StopReason::Finished;
            }
            Err(flume::RecvTimeoutError::Disconnected) => {
                // Handle dropped (future cancelled, panic unwound): roll back.
                rollback(conn);
                break StopReason::Finished;
            }
            Err(flume::RecvTimeoutError::Timeout) => {
                tracing::warn!(?timeout, "transaction timed out; rolling back");
                rollback(conn);
                break StopReason::TimedOut;
            }
        }
    };
    queue.stop(reason);
}

/// One command of a pinned transaction, inside its own savepoint.
fn tx_member(conn: &Connection, job: &mut dyn Job) -> Result<()> {
    exec(conn, "SAVEPOINT litestone_cmd")?;
    let outcome = job.run(conn);
    if conn.is_autocommit() {
        return Ok(());
    }
    if outcome != Outcome::Ok {
        exec(conn, "ROLLBACK TO litestone_cmd")?;
    }
    exec(conn, "RELEASE litestone_cmd")
}
