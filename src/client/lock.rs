//! Application-level locks (the README's `$lock`): [`Client::lock`],
//! [`Client::lock_with`], [`Client::with_lock`] and the [`LockGuard`].
//!
//! A lock is a row in the litestone-owned `_litestone_locks` table of the
//! `main` database, written through the writer, so exclusion holds between
//! tasks and between processes that open the same file. Each acquisition has
//! its own owner token (`<random client id>:<sequence>`), so two tasks of one
//! client exclude each other too. A row whose `expires_at` has passed may be
//! taken over by the next acquirer (a crashed holder cannot block forever).
//!
//! Waiting: a waiter retries when a holder in the same process releases
//! (a `tokio::sync::Notify` per name) and otherwise polls with exponential
//! backoff (2 ms doubling up to [`LockOptions::max_poll_interval`]), never
//! sleeping past the holder's expiry or the wait deadline. Past
//! `wait_timeout` the call fails with [`Error::Timeout`].
//!
//! Locks cannot be taken from inside a transaction: the transaction pins the
//! writer that lock rows are written through.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::sync::Notify;

use super::Client;
use crate::error::{Error, Result};
use crate::runtime::Runtime;
use crate::runtime::lock::{self, Attempt};

/// Options of [`Client::lock_with`].
#[derive(Debug, Clone)]
pub struct LockOptions {
    /// How long the lock is held before others may take it over, unless
    /// extended with [`LockGuard::extend`] (default 30 s).
    pub ttl: Duration,
    /// How long to wait for a held lock; `None` waits until it is free
    /// (default 30 s).
    pub wait_timeout: Option<Duration>,
    /// Longest pause between two attempts while waiting (default 100 ms).
    pub max_poll_interval: Duration,
}

impl Default for LockOptions {
    fn default() -> Self {
        LockOptions {
            ttl: Duration::from_secs(30),
            wait_timeout: Some(Duration::from_secs(30)),
            max_poll_interval: Duration::from_millis(100),
        }
    }
}

/// Per-client lock bookkeeping: the owner prefix and same-process waiters.
pub(crate) struct LockRegistry {
    client_id: String,
    seq: AtomicU64,
    table_ready: AtomicBool,
    waiters: Mutex<HashMap<String, Arc<Notify>>>,
}

impl LockRegistry {
    pub(crate) fn new() -> LockRegistry {
        LockRegistry {
            client_id: uuid::Uuid::new_v4().simple().to_string(),
            seq: AtomicU64::new(0),
            table_ready: AtomicBool::new(false),
            waiters: Mutex::new(HashMap::new()),
        }
    }

    fn notify_for(&self, name: &str) -> Arc<Notify> {
        self.waiters
            .lock()
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone()
    }

    /// Forgets the waiter entry of `name` once nobody waits on it.
    fn forget(&self, name: &str, notify: Arc<Notify>) {
        let mut waiters = self.waiters.lock();
        // The map's reference plus ours: nobody else is waiting.
        if Arc::strong_count(&notify) == 2 {
            waiters.remove(name);
        }
    }

    fn wake(&self, name: &str) {
        if let Some(n) = self.waiters.lock().get(name) {
            n.notify_waiters();
        }
    }
}

/// Deletes the row of an acquisition whose caller went away mid-request.
struct PendingAcquire {
    rt: Runtime,
    name: String,
    owner: String,
    armed: bool,
}

impl Drop for PendingAcquire {
    fn drop(&mut self) {
        if self.armed {
            release_detached(&self.rt, &self.name, &self.owner);
        }
    }
}

fn release_detached(rt: &Runtime, name: &str, owner: &str) {
    let (name, owner) = (name.to_string(), owner.to_string());
    // Queued on the writer ahead of any retry a woken waiter sends next.
    if !rt.write_detached(move |c| lock::release(c, &name, &owner).map(|_| ())) {
        tracing::warn!("could not queue a lock release; the lock expires with its ttl");
    }
}

/// A held application lock; released by [`LockGuard::release`] or on drop.
#[derive(Debug)]
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard {
    client: Client,
    name: String,
    owner: String,
    expires_at: i64,
    released: bool,
}

impl LockGuard {
    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When the lock expires unless extended.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(self.expires_at).unwrap_or(0))
    }

    /// Keeps the lock for `ttl` from now.
    ///
    /// # Errors
    /// [`Error::Timeout`] when the lock already expired and someone else took
    /// it over; [`Error::Closed`] after `close()`.
    ///
    /// # Cancel safety
    /// If cancelled, the new expiry may or may not have been written.
    pub async fn extend(&mut self, ttl: Duration) -> Result<()> {
        let (name, owner) = (self.name.clone(), self.owner.clone());
        let ttl_ms = millis(ttl);
        let rt = self.client.runtime("main")?;
        match rt
            .write(move |c| lock::extend(c, &name, &owner, ttl_ms))
            .await?
        {
            Some(expires_at) => {
                self.expires_at = expires_at;
                Ok(())
            }
            None => Err(Error::Timeout {
                message: format!("lock `{}` expired and was taken over", self.name),
            }),
        }
    }

    /// Releases the lock now and wakes waiters of this process.
    ///
    /// # Errors
    /// [`Error::Closed`] after `close()` (the lock then expires with its ttl);
    /// SQLite errors writing the lock table.
    ///
    /// # Cancel safety
    /// If cancelled, the release is still queued on the writer.
    pub async fn release(mut self) -> Result<()> {
        self.released = true;
        let (name, owner) = (self.name.clone(), self.owner.clone());
        let rt = self.client.runtime("main")?.clone();
        let mut pending = PendingAcquire {
            rt: rt.clone(),
            name: name.clone(),
            owner: owner.clone(),
            armed: true,
        };
        let res = rt
            .write(move |c| lock::release(c, &name, &owner).map(|_| ()))
            .await;
        pending.armed = false;
        self.client.inner.locks.wake(&self.name);
        res
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        if let Ok(rt) = self.client.runtime("main") {
            release_detached(rt, &self.name, &self.owner);
        }
        self.client.inner.locks.wake(&self.name);
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

impl Client {
    /// Takes the application lock `name` with default options (ttl 30 s,
    /// wait up to 30 s).
    ///
    /// # Errors
    /// As [`Client::lock_with`].
    ///
    /// # Cancel safety
    /// As [`Client::lock_with`].
    pub async fn lock(&self, name: &str) -> Result<LockGuard> {
        self.lock_with(name, LockOptions::default()).await
    }

    /// Takes the application lock `name`, waiting while another task or
    /// process holds it.
    ///
    /// # Errors
    /// [`Error::Timeout`] when the lock stayed held past `wait_timeout`;
    /// [`Error::InvalidArgs`] inside a transaction; [`Error::Closed`] after
    /// `close()`; [`Error::Busy`] when another process holds the database's
    /// write lock past `busy_timeout`.
    ///
    /// # Cancel safety
    /// Cancel-safe: a lock acquired by a cancelled call is released again.
    pub async fn lock_with(&self, name: &str, opts: LockOptions) -> Result<LockGuard> {
        if self.ctx.tx.is_some() {
            return Err(Error::invalid_args(
                "lock",
                "locks cannot be taken inside a transaction (it pins the writer the lock is written through)",
            ));
        }
        let registry = &self.inner.locks;
        let rt = self.runtime("main")?.clone();
        if !registry.table_ready.load(Ordering::Acquire) {
            rt.write(lock::ensure_table).await?;
            registry.table_ready.store(true, Ordering::Release);
        }
        let owner = format!(
            "{}:{}",
            registry.client_id,
            registry.seq.fetch_add(1, Ordering::Relaxed)
        );
        let ttl_ms = millis(opts.ttl);
        let deadline = opts.wait_timeout.map(|d| tokio::time::Instant::now() + d);
        let notify = registry.notify_for(name);
        let result = async {
            let mut backoff = Duration::from_millis(2);
            loop {
                // Registered before the attempt, so a release between the
                // attempt and the wait is not missed.
                let notified = notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let mut pending = PendingAcquire {
                    rt: rt.clone(),
                    name: name.to_string(),
                    owner: owner.clone(),
                    armed: true,
                };
                let (n, o) = (name.to_string(), owner.clone());
                let attempt = rt
                    .write(move |c| lock::try_acquire(c, &n, &o, ttl_ms))
                    .await;
                pending.armed = attempt.is_err();
                match attempt? {
                    Attempt::Acquired { expires_at } => return Ok(expires_at),
                    Attempt::Held { expires_at } => {
                        let now = tokio::time::Instant::now();
                        let mut wait = backoff.min(opts.max_poll_interval);
                        let until_expiry = expires_at.saturating_sub(lock::now_ms()).max(1);
                        wait = wait.min(Duration::from_millis(until_expiry.unsigned_abs()));
                        if let Some(d) = deadline {
                            if now >= d {
                                return Err(Error::Timeout {
                                    message: format!("waiting for lock `{name}`"),
                                });
                            }
                            wait = wait.min(d - now);
                        }
                        tokio::select! {
                            () = &mut notified => {}
                            () = tokio::time::sleep(wait) => {}
                        }
                        backoff = (backoff * 2).min(opts.max_poll_interval);
                    }
                }
            }
        }
        .await;
        registry.forget(name, notify);
        Ok(LockGuard {
            client: Client {
                inner: self.inner.clone(),
                ctx: Default::default(),
            },
            name: name.to_string(),
            owner,
            expires_at: result?,
            released: false,
        })
    }

    /// Runs `f` while holding the lock `name` (default options), releasing it
    /// afterwards whether `f` succeeds, fails or panics. While `f` runs the
    /// lock is extended every third of its ttl, so a long `f` keeps it.
    ///
    /// # Errors
    /// As [`Client::lock_with`], or `f`'s error; [`Error::Timeout`] if the
    /// lock was lost while `f` ran (then `f` is cancelled).
    ///
    /// # Cancel safety
    /// Dropping the future releases the lock.
    pub async fn with_lock<T, F, Fut>(&self, name: &str, f: F) -> Result<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.with_lock_opts(name, LockOptions::default(), f).await
    }

    /// [`Client::with_lock`] with options.
    ///
    /// # Errors
    /// As [`Client::with_lock`].
    ///
    /// # Cancel safety
    /// Dropping the future releases the lock.
    pub async fn with_lock_opts<T, F, Fut>(&self, name: &str, opts: LockOptions, f: F) -> Result<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let ttl = opts.ttl;
        let mut guard = self.lock_with(name, opts).await?;
        let work = f();
        tokio::pin!(work);
        let beat = (ttl / 3).max(Duration::from_millis(1));
        let out = loop {
            tokio::select! {
                out = &mut work => break out,
                () = tokio::time::sleep(beat) => {
                    if let Err(e) = guard.extend(ttl).await {
                        // Exclusion is gone: stop the work rather than let
                        // it run unprotected.
                        drop(guard);
                        return Err(e);
                    }
                }
            }
        };
        let released = guard.release().await;
        let v = out?;
        released.map(|()| v)
    }
}
