//! The protocol between handles and actor threads: typed commands, the boxed
//! job they carry, and [`Chan`], a bounded queue that guarantees every command
//! gets an answer.
//!
//! A job is the caller's closure plus its oneshot reply sender, boxed once
//! (one allocation per call). The actor runs it (`run`, panics caught) and
//! later sends the result (`finish`); the split lets the writer hold replies
//! of a group commit until COMMIT has returned.
//!
//! Never-hang guarantee: a command dropped anywhere (queue drained on
//! shutdown, actor thread unwinding) drops its reply sender, and the waiting
//! caller maps the closed oneshot to the queue's [`ChanShared::closed_error`].
//! Queued messages are dropped by whoever notices the actor has stopped, so
//! nothing can sit forever in a queue that nobody reads (see [`Chan::send`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::TxMode;
use crate::error::{Error, Result};

/// How a job's closure ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Returned `Ok`.
    Ok,
    /// Returned `Err`.
    Err,
    /// Panicked (caught); the caller gets [`Error::Panic`].
    Panicked,
}

/// A type-erased unit of work for an actor thread.
pub(crate) trait Job: Send {
    /// True when nobody awaits the reply any more: the actor skips the work.
    fn abandoned(&self) -> bool;
    /// Runs the closure on `conn`, catching panics; keeps the result.
    fn run(&mut self, conn: &Connection) -> Outcome;
    /// Sends the kept result, or `err` instead of a successful result (a
    /// failed COMMIT fails every member of the group).
    fn finish(self: Box<Self>, err: Option<Error>);
}

/// The one [`Job`] implementation: closure, result slot, reply, caller span.
pub(crate) struct Task<R, F> {
    f: Option<F>,
    out: Option<Result<R>>,
    reply: oneshot::Sender<Result<R>>,
    span: tracing::Span,
    /// Runs even though nobody awaits the reply (fire-and-forget cleanup).
    detached: bool,
}

impl<R, F> Task<R, F>
where
    F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    R: Send + 'static,
{
    /// Boxes `f` with its reply sender and the caller's current span.
    pub(crate) fn boxed(f: F, reply: oneshot::Sender<Result<R>>) -> Box<dyn Job> {
        Box::new(Task {
            f: Some(f),
            out: None,
            reply,
            span: tracing::Span::current(),
            detached: false,
        })
    }

    /// Boxes `f` as a job that runs although nobody awaits its result.
    pub(crate) fn detached(f: F) -> Box<dyn Job> {
        let (reply, _) = oneshot::channel();
        Box::new(Task {
            f: Some(f),
            out: None,
            reply,
            span: tracing::Span::current(),
            detached: true,
        })
    }
}

impl<R, F> Job for Task<R, F>
where
    F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    R: Send + 'static,
{
    fn abandoned(&self) -> bool {
        !self.detached && self.reply.is_closed()
    }

    fn run(&mut self, conn: &Connection) -> Outcome {
        let Some(f) = self.f.take() else {
            return Outcome::Err;
        };
        let _entered = self.span.enter();
        let (out, outcome) = match catch_unwind(AssertUnwindSafe(|| f(conn))) {
            Ok(Ok(v)) => (Ok(v), Outcome::Ok),
            Ok(Err(e)) => (Err(e), Outcome::Err),
            Err(payload) => {
                let e = Error::from_panic(&*payload);
                tracing::error!(error = %e, "command panicked; its work was rolled back");
                (Err(e), Outcome::Panicked)
            }
        };
        self.out = Some(out);
        outcome
    }

    fn finish(self: Box<Self>, err: Option<Error>) {
        let this = *self;
        let out = match (this.out, err) {
            (Some(Ok(_)), Some(e)) => Err(e),
            (Some(out), _) => out,
            (None, Some(e)) => Err(e),
            (None, None) => Err(Error::closed("the command was not run")),
        };
        // The caller may have gone away; nothing to do then.
        let _ = this.reply.send(out);
    }
}

/// Commands of the writer actor.
pub(crate) enum WriterCmd {
    /// A write, group-committed with whatever else is queued.
    Write(Box<dyn Job>),
    /// Runs outside any transaction (DDL, VACUUM, PRAGMA, backup).
    Exclusive(Box<dyn Job>),
    /// Begins a transaction that pins the writer.
    Begin(Box<BeginCmd>),
    /// Finishes and stops the actor; the reply is sent once it has.
    Close(oneshot::Sender<Result<()>>),
}

/// Payload of [`WriterCmd::Begin`] (boxed to keep the enum small).
pub(crate) struct BeginCmd {
    pub(crate) mode: TxMode,
    /// Longest time the writer stays pinned, counted from BEGIN.
    pub(crate) timeout: Duration,
    /// The transaction's own command queue.
    pub(crate) queue: Arc<ChanShared<TxCmd>>,
    pub(crate) reply: oneshot::Sender<Result<()>>,
    pub(crate) span: tracing::Span,
}

/// Commands of a pinned transaction.
pub(crate) enum TxCmd {
    /// Runs inside the transaction (in its own savepoint).
    Run(Box<dyn Job>),
    /// Runs inside the transaction without a savepoint of its own (the
    /// SAVEPOINT / RELEASE statements of nested transactions).
    Raw(Box<dyn Job>),
    /// COMMIT and unpin.
    Commit(oneshot::Sender<Result<()>>),
    /// ROLLBACK and unpin.
    Rollback(oneshot::Sender<Result<()>>),
}

/// Commands of the reader pool.
pub(crate) enum ReadCmd {
    /// A read on whichever reader is idle first.
    Read(Box<dyn Job>),
    /// Stops the reader that takes it; acknowledged once its connection is closed.
    Stop(oneshot::Sender<()>),
}

const OPEN: u8 = 0;
const CLOSING: u8 = 1;
const STOPPED: u8 = 2;

/// Why a queue stopped answering; decides the error callers get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum StopReason {
    /// `close()` or the last handle was dropped.
    Closed = 0,
    /// The actor thread ended unexpectedly.
    Died = 1,
    /// A transaction exceeded its timeout and was rolled back.
    TimedOut = 2,
    /// The transaction was committed or rolled back.
    Finished = 3,
}

/// The receiving side of a queue, shared by its actor thread(s) and the
/// handles (which drain it when the actor has stopped).
pub(crate) struct ChanShared<T> {
    pub(crate) rx: flume::Receiver<T>,
    state: AtomicU8,
    reason: AtomicU8,
    what: &'static str,
    /// Requests sent on this queue whose reply has not arrived yet.
    inflight: AtomicUsize,
}

impl<T> ChanShared<T> {
    /// Refuses new commands; already queued ones are still served.
    pub(crate) fn begin_close(&self) -> bool {
        self.state
            .compare_exchange(OPEN, CLOSING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// The actor stopped: record why, then drop whatever is queued (their
    /// callers get an error). Handles that enqueue later drain again.
    pub(crate) fn stop(&self, reason: StopReason) {
        // The first reason wins: a timeout stays a timeout.
        if self.state.load(Ordering::SeqCst) != STOPPED {
            self.reason.store(reason as u8, Ordering::SeqCst);
        }
        self.state.store(STOPPED, Ordering::SeqCst);
        self.drain();
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.state.load(Ordering::SeqCst) == STOPPED
    }

    fn drain(&self) {
        while let Ok(msg) = self.rx.try_recv() {
            drop(msg);
        }
    }

    /// The error a caller gets when this queue can no longer answer.
    pub(crate) fn closed_error(&self) -> Error {
        let reason = self.reason.load(Ordering::SeqCst);
        match reason {
            r if r == StopReason::TimedOut as u8 => Error::Timeout {
                message: format!("{} exceeded its timeout and was rolled back", self.what),
            },
            r if r == StopReason::Died as u8 => {
                Error::closed(format!("the {} thread stopped unexpectedly", self.what))
            }
            r if r == StopReason::Finished as u8 => {
                Error::closed(format!("the {} has already finished", self.what))
            }
            _ => Error::closed(format!("the {} is closed", self.what)),
        }
    }
}

/// A bounded queue to an actor: the sender plus the shared receiving side.
/// Dropping every `Chan` of a queue disconnects it, which the actor sees
/// once it has served what is queued.
pub(crate) struct Chan<T> {
    tx: flume::Sender<T>,
    pub(crate) shared: Arc<ChanShared<T>>,
}

impl<T> Clone for Chan<T> {
    fn clone(&self) -> Self {
        Chan {
            tx: self.tx.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<T> Chan<T> {
    /// A queue holding at most `cap` commands; `what` names it in errors.
    pub(crate) fn bounded(cap: usize, what: &'static str) -> Chan<T> {
        let (tx, rx) = flume::bounded(cap);
        Chan {
            tx,
            shared: Arc::new(ChanShared {
                rx,
                state: AtomicU8::new(OPEN),
                reason: AtomicU8::new(StopReason::Closed as u8),
                what,
                inflight: AtomicUsize::new(0),
            }),
        }
    }

    /// Enqueues `msg`, waiting while the queue is full (back-pressure).
    ///
    /// Fails fast once the queue is closing. If the actor stopped while we
    /// were enqueueing, drains the queue so our message (and any other) is
    /// dropped and answered with an error instead of waiting forever.
    pub(crate) async fn send(&self, msg: T) -> Result<()> {
        if self.shared.state.load(Ordering::SeqCst) != OPEN {
            return Err(self.shared.closed_error());
        }
        self.send_any(msg).await
    }

    /// Like [`Chan::send`] but also accepted while closing (the close and
    /// stop commands themselves).
    pub(crate) async fn send_any(&self, msg: T) -> Result<()> {
        let sent = match self.tx.try_send(msg) {
            Ok(()) => Ok(()),
            Err(flume::TrySendError::Full(msg)) => self.tx.send_async(msg).await.map_err(|_| ()),
            Err(flume::TrySendError::Disconnected(_)) => Err(()),
        };
        if self.shared.is_stopped() {
            self.shared.drain();
        }
        sent.map_err(|()| self.shared.closed_error())
    }

    /// Enqueues without waiting; false when the queue is full or closed.
    pub(crate) fn try_send(&self, msg: T) -> bool {
        let ok = self.tx.try_send(msg).is_ok();
        if self.shared.is_stopped() {
            self.shared.drain();
        }
        ok
    }

    /// Sends the command built around a fresh reply channel and awaits the reply.
    pub(crate) async fn request<R>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<R>>) -> T,
    ) -> Result<R> {
        let (reply, mut answer) = oneshot::channel();
        let _inflight = InFlight::enter(&self.shared.inflight);
        self.send(make(reply)).await?;
        // Alone on the queue: the actor is (almost always) spinning and
        // answers within microseconds, so poll the reply briefly instead of
        // parking this worker thread and paying a futex wake-up.
        if self.shared.inflight.load(Ordering::Relaxed) == 1 {
            let start = Instant::now();
            let mut spins = 0u32;
            loop {
                match answer.try_recv() {
                    Ok(r) => return r,
                    Err(oneshot::error::TryRecvError::Closed) => {
                        return Err(self.shared.closed_error());
                    }
                    Err(oneshot::error::TryRecvError::Empty) => {}
                }
                spins += 1;
                if spins % 16 == 0 && start.elapsed() >= CALLER_SPIN {
                    break;
                }
                std::hint::spin_loop();
            }
        }
        match answer.await {
            Ok(r) => r,
            Err(_) => Err(self.shared.closed_error()),
        }
    }
}

/// How long a caller alone on a queue polls for its reply before parking.
const CALLER_SPIN: Duration = Duration::from_micros(30);

/// Counts a request as in flight until dropped (reply received, error, or
/// the caller's future dropped).
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(n: &'a AtomicUsize) -> InFlight<'a> {
        n.fetch_add(1, Ordering::Relaxed);
        InFlight(n)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How long an actor keeps polling its queue after finishing a command
/// before it parks the thread. A caller awaiting a reply typically sends its
/// next command within a few microseconds; catching it without a
/// park/unpark round trip (tens of µs) is most of the point-read latency.
const SPIN: Duration = Duration::from_micros(40);

/// Receives the next message: spins briefly, then parks until a message,
/// disconnection or `deadline`.
pub(crate) fn recv_spin<T>(
    rx: &flume::Receiver<T>,
    deadline: Option<Instant>,
) -> std::result::Result<T, flume::RecvTimeoutError> {
    let start = Instant::now();
    let mut spins = 0u32;
    loop {
        match rx.try_recv() {
            Ok(m) => return Ok(m),
            Err(flume::TryRecvError::Disconnected) => {
                return Err(flume::RecvTimeoutError::Disconnected);
            }
            Err(flume::TryRecvError::Empty) => {}
        }
        spins += 1;
        // Reading the clock every few spins keeps the loop cheap.
        if spins % 16 == 0 && start.elapsed() >= SPIN {
            break;
        }
        std::hint::spin_loop();
    }
    match deadline {
        Some(d) => rx.recv_deadline(d),
        None => rx.recv().map_err(|_| flume::RecvTimeoutError::Disconnected),
    }
}

/// Runs one control statement through the statement cache.
pub(crate) fn exec(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}
