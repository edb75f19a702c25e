//! Threads and protocol only: one writer and a reader pool per database.
//!
//! PLACEHOLDER IMPLEMENTATION: a single mutex-guarded connection driven through
//! `spawn_blocking`. It fixes the interface the client layer codes against
//! (`read`, `write`, `exclusive`, `begin`, `close`); the actor runtime replaces
//! the internals without changing these signatures.

use std::sync::Arc;

use parking_lot::Mutex;
use rusqlite::Connection;

use crate::error::{Error, Result};

/// How to open one database.
#[derive(Debug, Clone)]
pub(crate) struct RuntimeConfig {
    /// File path or `:memory:`.
    pub(crate) path: String,
    /// Reader threads.
    pub(crate) readers: usize,
    /// Extra pragmas applied to every connection, after the defaults.
    pub(crate) pragmas: Vec<(String, String)>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            path: ":memory:".into(),
            readers: 2,
            pragmas: Vec::new(),
        }
    }
}

/// Transaction modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TxMode {
    /// `BEGIN DEFERRED`.
    Deferred,
    /// `BEGIN IMMEDIATE` (default).
    #[default]
    Immediate,
    /// `BEGIN EXCLUSIVE`.
    Exclusive,
}

struct Inner {
    conn: Mutex<Option<Connection>>,
    gate: Arc<tokio::sync::Semaphore>,
}

/// Handle to one database's actors. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Runtime {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

fn run_on<R>(inner: &Inner, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
    let guard = inner.conn.lock();
    let conn = guard
        .as_ref()
        .ok_or_else(|| Error::closed("database closed"))?;
    f(conn)
}

impl Runtime {
    /// Opens the database and starts its actors.
    pub(crate) async fn open(cfg: RuntimeConfig) -> Result<Runtime> {
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection> {
            let conn = Connection::open(&cfg.path)?;
            conn.execute_batch(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
            )?;
            for (k, v) in &cfg.pragmas {
                conn.execute_batch(&format!("PRAGMA {k}={v}"))?;
            }
            Ok(conn)
        })
        .await
        .map_err(|e| Error::closed(e.to_string()))??;
        Ok(Runtime {
            inner: Arc::new(Inner {
                conn: Mutex::new(Some(conn)),
                gate: Arc::new(tokio::sync::Semaphore::new(1)),
            }),
        })
    }

    async fn call<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let _permit = self
            .inner
            .gate
            .acquire()
            .await
            .map_err(|_| Error::closed("closed"))?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || run_on(&inner, f))
            .await
            .map_err(|e| Error::Panic {
                message: e.to_string(),
            })?
    }

    /// Runs a read on a reader (one snapshot if `f` opens a transaction).
    pub(crate) async fn read<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        self.call(f).await
    }

    /// Runs a write on the writer, inside a transaction (group-committed).
    pub(crate) async fn write<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        self.call(|c| {
            c.execute_batch("BEGIN IMMEDIATE")?;
            match f(c) {
                Ok(r) => {
                    c.execute_batch("COMMIT")?;
                    Ok(r)
                }
                Err(e) => {
                    let _ = c.execute_batch("ROLLBACK");
                    Err(e)
                }
            }
        })
        .await
    }

    /// Runs `f` on the writer outside any transaction (DDL, VACUUM, backup, pragmas).
    pub(crate) async fn exclusive<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        self.call(f).await
    }

    /// Begins a transaction that pins the writer until commit/rollback/drop.
    pub(crate) async fn begin(&self, mode: TxMode) -> Result<TxConn> {
        let permit = self
            .inner
            .gate
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::closed("closed"))?;
        let inner = self.inner.clone();
        let sql = match mode {
            TxMode::Deferred => "BEGIN DEFERRED",
            TxMode::Immediate => "BEGIN IMMEDIATE",
            TxMode::Exclusive => "BEGIN EXCLUSIVE",
        };
        let i2 = inner.clone();
        tokio::task::spawn_blocking(move || run_on(&i2, |c| Ok(c.execute_batch(sql)?)))
            .await
            .map_err(|e| Error::Panic {
                message: e.to_string(),
            })??;
        Ok(TxConn {
            inner,
            _permit: permit,
            done: false,
        })
    }

    /// Finishes queued work and closes every connection.
    pub(crate) async fn close(&self) -> Result<()> {
        let _permit = self
            .inner
            .gate
            .acquire()
            .await
            .map_err(|_| Error::closed("closed"))?;
        self.inner.conn.lock().take();
        Ok(())
    }
}

/// A transaction pinned to the writer.
pub(crate) struct TxConn {
    inner: Arc<Inner>,
    _permit: tokio::sync::OwnedSemaphorePermit,
    done: bool,
}

impl std::fmt::Debug for TxConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxConn").finish_non_exhaustive()
    }
}

impl TxConn {
    /// Runs `f` inside the transaction.
    pub(crate) async fn run<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || run_on(&inner, f))
            .await
            .map_err(|e| Error::Panic {
                message: e.to_string(),
            })?
    }

    /// Commits.
    pub(crate) async fn commit(mut self) -> Result<()> {
        self.done = true;
        self.run(|c| Ok(c.execute_batch("COMMIT")?)).await
    }

    /// Rolls back.
    pub(crate) async fn rollback(mut self) -> Result<()> {
        self.done = true;
        self.run(|c| Ok(c.execute_batch("ROLLBACK")?)).await
    }
}

impl Drop for TxConn {
    fn drop(&mut self) {
        if !self.done {
            let _ = run_on(&self.inner, |c| Ok(c.execute_batch("ROLLBACK")?));
        }
    }
}
