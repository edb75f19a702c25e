//! Transactions: [`Client::transaction`], [`Client::transaction_with`] and
//! nested [`Tx::transaction`] (SAVEPOINTs).
//!
//! The outer transaction pins the database's writer from `BEGIN` to
//! `COMMIT`/`ROLLBACK`; every call made through the [`Tx`] handle (models,
//! `sql`, reads included) runs on that writer and sees the transaction's own
//! writes. The closure's outcome decides: `Ok` commits, `Err` rolls back,
//! a panic rolls back and becomes [`Error::Panic`], exceeding the timeout rolls
//! back and becomes [`Error::Timeout`], and dropping the returned future rolls
//! back (the writer sees the transaction's queue disconnect).
//!
//! Inside the closure, use the `Tx` handle: a write through the outer
//! `Client` handle queues behind the transaction that pins the writer and
//! waits until it ends (at worst its timeout).
//!
//! Default timeout: 30 s from BEGIN (builder `transaction_timeout`, or
//! [`TxOptions::timeout`]). It bounds how long one transaction can hold every
//! other write back; waiting for the writer before BEGIN is not counted.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;

use super::{Client, Ctx, Tx, TxState};
use crate::error::{Error, Result};
use crate::runtime::TxMode;

/// Options of [`Client::transaction_with`].
#[derive(Debug, Clone, Default)]
pub struct TxOptions {
    /// `BEGIN DEFERRED`, `IMMEDIATE` (default) or `EXCLUSIVE`.
    pub mode: TxMode,
    /// Longest time the transaction may run, from BEGIN; `None` uses the
    /// client's default (30 s unless the builder set another).
    pub timeout: Option<Duration>,
}

/// Runs `f(tx)` catching panics (both while creating the future and while
/// polling it) and bounding it by `timeout`.
async fn run_closure<T, F, Fut>(tx: Tx, f: F, timeout: Option<Duration>) -> Result<T>
where
    F: FnOnce(Tx) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let fut = match std::panic::catch_unwind(AssertUnwindSafe(|| f(tx))) {
        Ok(fut) => fut,
        Err(payload) => return Err(Error::from_panic(&*payload)),
    };
    let guarded = AssertUnwindSafe(fut).catch_unwind();
    let out = match timeout {
        Some(t) => match tokio::time::timeout(t, guarded).await {
            Ok(out) => out,
            Err(_) => {
                return Err(Error::Timeout {
                    message: format!("transaction exceeded its timeout of {t:?}"),
                });
            }
        },
        None => guarded.await,
    };
    out.unwrap_or_else(|payload| Err(Error::from_panic(&*payload)))
}

impl Client {
    /// Runs `f` in a transaction (`BEGIN IMMEDIATE`): commits when it returns
    /// `Ok`, rolls back when it returns `Err`, panics, times out (default
    /// 30 s) or its future is dropped. Calls through the [`Tx`] handle run
    /// inside the transaction. Called on a handle that is already inside a
    /// transaction, it nests as a SAVEPOINT.
    ///
    /// ```no_run
    /// # async fn demo(db: litestone::Client) -> litestone::Result<()> {
    /// use serde_json::json;
    /// let n = db.transaction(async |tx| {
    ///     tx.sql("INSERT INTO t (v) VALUES (?)", json!([1])).await?;
    ///     tx.sql("INSERT INTO t (v) VALUES (?)", json!([2])).await?;
    ///     Ok(2)
    /// }).await?;
    /// # let _ = n; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The closure's error; [`Error::Panic`] if it panicked;
    /// [`Error::Timeout`] past the timeout; [`Error::Busy`] if another process
    /// holds the write lock past `busy_timeout`; COMMIT failures;
    /// [`Error::Closed`] after `close()`.
    ///
    /// # Cancel safety
    /// Dropping the future rolls the transaction back; nothing is committed.
    pub async fn transaction<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = Result<T>> + Send,
        T: Send,
    {
        self.transaction_with(TxOptions::default(), f).await
    }

    /// [`Client::transaction`] with a mode or timeout.
    ///
    /// ```no_run
    /// # async fn demo(db: litestone::Client) -> litestone::Result<()> {
    /// use litestone::{TxMode, TxOptions};
    /// let opts = TxOptions { mode: TxMode::Deferred, timeout: Some(std::time::Duration::from_secs(5)) };
    /// db.transaction_with(opts, async |tx| tx.exec("DELETE FROM t").await).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Client::transaction`].
    ///
    /// # Cancel safety
    /// Dropping the future rolls the transaction back.
    pub async fn transaction_with<T, F, Fut>(&self, opts: TxOptions, f: F) -> Result<T>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = Result<T>> + Send,
        T: Send,
    {
        self.transaction_on("main", opts, f).await
    }

    /// [`Client::transaction_with`] on the database block `database` (models
    /// of other databases keep running outside the transaction).
    ///
    /// # Errors
    /// As [`Client::transaction`]; [`Error::InvalidArgs`] for an unknown
    /// database.
    ///
    /// # Cancel safety
    /// Dropping the future rolls the transaction back.
    pub async fn transaction_on<T, F, Fut>(
        &self,
        database: &str,
        opts: TxOptions,
        f: F,
    ) -> Result<T>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = Result<T>> + Send,
        T: Send,
    {
        let database = database.to_string();
        if self.ctx.tx.as_ref().is_some_and(|t| t.database == database) {
            return Tx {
                client: self.clone(),
            }
            .transaction(f)
            .await;
        }
        let timeout = opts.timeout.unwrap_or(self.inner.tx_timeout);
        let conn = self
            .runtime(&database)?
            .begin_with(opts.mode, timeout)
            .await?;
        let state = Arc::new(TxState {
            database,
            conn: Arc::new(parking_lot::Mutex::new(Some(conn))),
            depth: 0,
            events: Arc::default(),
            audits: Arc::default(),
        });
        let tx = Tx {
            client: Client {
                inner: self.inner.clone(),
                ctx: Ctx {
                    tx: Some(state.clone()),
                    ..self.ctx.clone()
                },
            },
        };
        let out = run_closure(tx, f, Some(timeout)).await;
        let conn = state.conn.lock().take();
        match (out, conn) {
            (Ok(v), Some(conn)) => {
                conn.commit().await?;
                let events = std::mem::take(&mut *state.events.lock());
                self.deliver(&events);
                let audits = std::mem::take(&mut *state.audits.lock());
                if !audits.is_empty() {
                    self.write_audit(audits).await;
                }
                Ok(v)
            }
            (Ok(_), None) => Err(Error::closed(
                "the transaction was ended inside its closure",
            )),
            (Err(e), Some(conn)) => {
                // A failed rollback (writer already rolled back on timeout)
                // changes nothing for the caller: the closure's error wins.
                let _ = conn.rollback().await;
                Err(e)
            }
            (Err(e), None) => Err(e),
        }
    }
}

/// Rolls a nested savepoint back if its future is dropped mid-way.
struct SavepointGuard {
    state: Arc<TxState>,
    name: String,
    armed: bool,
}

impl Drop for SavepointGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(conn) = self.state.conn.lock().as_ref() {
            let sql = format!("ROLLBACK TO {0}; RELEASE {0}", self.name);
            // Best effort: queued behind whatever the transaction runs next.
            conn.spawn_raw(move |c| Ok(c.execute_batch(&sql)?));
        }
    }
}

impl Tx {
    fn state(&self) -> Result<&Arc<TxState>> {
        self.client
            .ctx
            .tx
            .as_ref()
            .ok_or_else(|| Error::closed("not inside a transaction"))
    }

    async fn raw(&self, sql: String) -> Result<()> {
        let conn = self.state()?.conn.lock().clone();
        match conn {
            Some(conn) => conn.run_raw(move |c| Ok(c.execute_batch(&sql)?)).await,
            None => Err(Error::closed("the transaction has already finished")),
        }
    }

    /// Runs `f` in a nested transaction (a SAVEPOINT): if `f` returns `Err` or
    /// panics, only its writes are rolled back and the error is returned to
    /// the outer closure, which may go on.
    ///
    /// # Errors
    /// The closure's error, [`Error::Panic`], or a failure of the savepoint
    /// statements.
    ///
    /// # Cancel safety
    /// Dropping the future rolls the savepoint back (queued on the
    /// transaction); the outer transaction goes on.
    pub async fn transaction<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = Result<T>> + Send,
        T: Send,
    {
        let parent = self.state()?.clone();
        let depth = parent.depth + 1;
        let name = format!("litestone_sp_{depth}");
        self.raw(format!("SAVEPOINT {name}")).await?;
        let mut guard = SavepointGuard {
            state: parent.clone(),
            name: name.clone(),
            armed: true,
        };
        let child = Tx {
            client: Client {
                inner: self.client.inner.clone(),
                ctx: Ctx {
                    tx: Some(Arc::new(TxState {
                        database: parent.database.clone(),
                        conn: parent.conn.clone(),
                        depth,
                        events: parent.events.clone(),
                        audits: parent.audits.clone(),
                    })),
                    ..self.client.ctx.clone()
                },
            },
        };
        let held = parent.events.lock().len();
        let held_audits = parent.audits.lock().len();
        let out = run_closure(child, f, None).await;
        guard.armed = false;
        match out {
            Ok(v) => {
                self.raw(format!("RELEASE {name}")).await?;
                Ok(v)
            }
            Err(e) => {
                // The savepoint's writes are undone: so are their events.
                parent.events.lock().truncate(held);
                parent.audits.lock().truncate(held_audits);
                self.raw(format!("ROLLBACK TO {name}; RELEASE {name}"))
                    .await?;
                Err(e)
            }
        }
    }

    /// [`Client::sql`] inside this transaction (sees its writes).
    ///
    /// # Errors
    /// As [`Client::sql`].
    ///
    /// # Cancel safety
    /// As [`Client::sql`].
    pub async fn sql(&self, sql: &str, params: serde_json::Value) -> Result<serde_json::Value> {
        self.client.sql(sql, params).await
    }

    /// [`Client::sql_read`] inside this transaction: runs on the pinned
    /// writer and sees the transaction's writes.
    ///
    /// # Errors
    /// As [`Client::sql_read`].
    ///
    /// # Cancel safety
    /// Cancel-safe (reading has no effect).
    pub async fn sql_read(
        &self,
        sql: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value> {
        self.client.sql_read(sql, params).await
    }

    /// [`Client::exec`] inside this transaction.
    ///
    /// # Errors
    /// As [`Client::exec`].
    ///
    /// # Cancel safety
    /// As [`Client::exec`].
    pub async fn exec(&self, sql: &str) -> Result<()> {
        self.client.exec(sql).await
    }

    /// Nesting depth: 0 for the outer transaction, n inside the n-th savepoint.
    pub fn depth(&self) -> u32 {
        self.client.ctx.tx.as_ref().map_or(0, |t| t.depth)
    }
}
