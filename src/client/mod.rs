//! The public handle: [`Client`], its [`ClientBuilder`], [`Model`] and [`Tx`].
//!
//! Compiles arguments on the caller's task, sends commands to the runtime and
//! awaits the reply. Builds no SQL text itself (that is `query`/`sql`) and owns
//! no threads (that is `runtime`).

mod audit;
mod batch;
mod builder;
mod computed;
mod crypto;
mod events;
mod files;
mod jsonl;
mod lock;
pub(crate) mod migrate;
mod model;
mod scope;
mod stream;
mod tx;
mod utils;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

pub use builder::ClientBuilder;
pub use events::{EventListener, QueryEvent, TapHandle, WriteEvent};
pub use files::{file_url, file_urls};
pub use lock::{LockGuard, LockOptions};
pub use model::Model;
pub use stream::RowStream;
pub use tx::TxOptions;
pub use utils::{
    BackupOptions, BackupProgress, CheckpointMode, CheckpointResult, ColumnInfo, ForeignKeyInfo,
    IndexInfo, WalStatus,
};

use crate::error::{Error, Result};
use crate::runtime::{Runtime, TxConn};
use crate::schema::Schema;

/// A listener for executed statements.
pub type QueryListener = Arc<dyn Fn(&QueryEvent) + Send + Sync>;

impl Client {
    /// `auth().id` of this handle, when set.
    pub(crate) fn actor_id(&self) -> Option<Value> {
        self.ctx.auth.as_deref().and_then(|a| a.get("id")).cloned()
    }

    /// Delivers a committed write's event, or holds it until the enclosing
    /// transaction on its database commits.
    pub(crate) fn write_event(&self, e: WriteEvent) {
        if self.inner.event_listeners.is_empty() {
            return;
        }
        match self.ctx.tx.as_ref().filter(|t| t.database == e.database) {
            Some(t) => t.events.lock().push(e),
            None => self.deliver(&[e]),
        }
    }

    pub(crate) fn deliver(&self, events: &[WriteEvent]) {
        for e in events {
            for l in &self.inner.event_listeners {
                // A panicking listener must not fail the (committed) write.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| l(e)));
            }
        }
    }
}

impl TxState {
    /// Runs `f` on the pinned writer inside this transaction (in its own
    /// savepoint: a failing `f` leaves no partial effect).
    pub(crate) async fn run<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&rusqlite::Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        // Clone the handle out so no lock is held across the await.
        let conn = self.conn.lock().clone();
        match conn {
            Some(conn) => conn.run(f).await,
            None => Err(Error::closed("the transaction has already finished")),
        }
    }
}

/// Shared state of every clone of a client.
pub(crate) struct ClientInner {
    pub(crate) schema: Arc<Schema>,
    /// Runtimes by database block name; `main` always exists.
    pub(crate) databases: HashMap<String, Runtime>,
    pub(crate) listeners: Vec<QueryListener>,
    /// `tap_query` captures.
    pub(crate) observers: events::Observers,
    /// The `@@gate` level callback.
    pub(crate) gate: Option<crate::query::gate::GateFn>,
    /// Global query filters: model name → where object.
    pub(crate) filters: HashMap<String, Value>,
    /// Compile caches of the query layer.
    pub(crate) query_cache: crate::query::cache::QueryCache,
    /// Application locks held or awaited through this client.
    pub(crate) locks: lock::LockRegistry,
    /// Longest time a transaction may pin the writer, unless its options say otherwise.
    pub(crate) tx_timeout: std::time::Duration,
    /// Named read scopes per model.
    pub(crate) scopes: scope::Scopes,
    /// Field-encryption keys (`encryption_key`).
    pub(crate) crypto: Option<crate::codec::crypto::Crypto>,
    /// `@computed` functions and `$validate` rules.
    pub(crate) hooks: computed::Hooks,
    /// `on_event` listeners (committed writes).
    pub(crate) event_listeners: Vec<EventListener>,
    /// `on_log`: metadata for audit entries.
    pub(crate) on_log: Option<audit::LogMetaFn>,
    /// `file_storage`: where File uploads go.
    pub(crate) files: Option<files::LocalStorage>,
    /// Directories of the `driver jsonl` databases, by name.
    pub(crate) jsonl: HashMap<String, std::path::PathBuf>,
}

/// Per-handle context: who is asking, and inside which transaction.
#[derive(Clone, Default)]
pub(crate) struct Ctx {
    pub(crate) auth: Option<Arc<Value>>,
    pub(crate) system: bool,
    pub(crate) tx: Option<Arc<TxState>>,
}

/// A transaction in progress on one database's writer.
pub(crate) struct TxState {
    pub(crate) database: String,
    /// The pinned writer; shared by nested levels, taken out at COMMIT/ROLLBACK
    /// (so a leaked `Tx` clone cannot keep the writer pinned).
    pub(crate) conn: Arc<parking_lot::Mutex<Option<TxConn>>>,
    /// Nesting depth: 0 for the outer transaction, n for the n-th SAVEPOINT.
    pub(crate) depth: u32,
    /// Write events held until the outer COMMIT (shared by nested levels).
    pub(crate) events: Arc<parking_lot::Mutex<Vec<WriteEvent>>>,
    /// Audit entries held until the outer COMMIT (shared by nested levels).
    pub(crate) audits: Arc<parking_lot::Mutex<Vec<audit::AuditEntry>>>,
}

/// The litestone client: one per service, cheap to clone, shared by every task.
///
/// Built with [`Client::builder`] or [`Client::open`].
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
    pub(crate) ctx: Ctx,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("models", &self.inner.schema.models.len())
            .field(
                "databases",
                &self.inner.databases.keys().collect::<Vec<_>>(),
            )
            .field("system", &self.ctx.system)
            .field("in_transaction", &self.ctx.tx.is_some())
            .finish()
    }
}

impl Client {
    /// Starts building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Opens a client from a schema file whose `database` blocks name the files.
    ///
    /// # Errors
    /// Schema errors, or the database cannot be opened.
    pub async fn open(schema_path: impl AsRef<std::path::Path>) -> Result<Client> {
        Client::builder()
            .schema_file(schema_path.as_ref().to_string_lossy().as_ref())
            .open()
            .await
    }

    /// The validated schema.
    pub fn schema(&self) -> &Schema {
        &self.inner.schema
    }

    /// The accessor for model `name`. Infallible: an unknown model surfaces as
    /// [`Error::UnknownModel`] from the call.
    pub fn model(&self, name: &str) -> Model {
        Model::new(self.clone(), name)
    }

    /// A handle whose calls run as `auth` (policies and field rules apply).
    ///
    /// `auth` is the JSON the schema's `auth()` expressions read
    /// (`auth().id`, `auth().accountId`, …); its values are always bound
    /// as SQL parameters. The handle is not a system handle, even when
    /// derived from one. Transactions opened from it inherit it.
    pub fn set_auth(&self, auth: Value) -> Client {
        let mut c = self.clone();
        c.ctx.auth = Some(Arc::new(auth));
        c.ctx.system = false;
        c
    }

    /// A handle that bypasses `@@allow`/`@@deny` and field policies, passes
    /// every `@@gate` below LOCKED (9) at level SYSTEM (8), and sees
    /// `@guarded` fields. The auth (if any) is kept for stamping
    /// `@default(auth().id)` / `@updatedBy`.
    pub fn as_system(&self) -> Client {
        let mut c = self.clone();
        c.ctx.system = true;
        c
    }

    /// Captures every query event until the returned handle is dropped or
    /// stopped (README `$tapQuery`).
    pub fn tap_query(&self, f: impl Fn(&QueryEvent) + Send + Sync + 'static) -> TapHandle {
        let id = self.inner.observers.add(Arc::new(f));
        TapHandle {
            observers: Arc::downgrade(&self.inner),
            id,
        }
    }

    /// Whether query events are wanted (listeners or live taps).
    pub(crate) fn observed(&self) -> bool {
        !self.inner.listeners.is_empty() || self.inner.observers.active()
    }

    /// Delivers one event to listeners and taps.
    pub(crate) fn emit(&self, e: &QueryEvent) {
        for l in &self.inner.listeners {
            l(e);
        }
        self.inner.observers.emit(e);
    }

    /// Runs a read on database `db`: on the reader pool, or on the pinned
    /// writer when this handle is inside a transaction on that database
    /// (read-your-writes). `f` runs on an actor thread.
    pub(crate) async fn run_read<R, F>(&self, db: &str, f: F) -> Result<R>
    where
        F: FnOnce(&rusqlite::Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        if let Some(tx) = self.ctx.tx.as_ref().filter(|t| t.database == db) {
            return tx.run(f).await;
        }
        self.runtime(db)?.read(f).await
    }

    /// Runs a write on database `db`: group-committed on the writer, or inside
    /// the transaction this handle belongs to.
    pub(crate) async fn run_write<R, F>(&self, db: &str, f: F) -> Result<R>
    where
        F: FnOnce(&rusqlite::Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        if let Some(tx) = self.ctx.tx.as_ref().filter(|t| t.database == db) {
            return tx.run(f).await;
        }
        self.runtime(db)?.write(f).await
    }

    /// Closes the client for every clone: refuses new calls, finishes queued
    /// work, runs `PRAGMA optimize` and a WAL checkpoint (TRUNCATE) on every
    /// database, and joins the actor threads. Calling it again returns the
    /// first result. Dropping the last handle shuts down the same way
    /// in the background.
    ///
    /// # Errors
    /// The first error of a database's final `optimize`/checkpoint;
    /// [`Error::InvalidArgs`] on a transaction's handle (closing waits for the
    /// writer, which that transaction pins).
    ///
    /// # Cancel safety
    /// Cancelling stops waiting, not the shutdown; a later `close()` waits for it.
    pub async fn close(&self) -> Result<()> {
        if self.ctx.tx.is_some() {
            return Err(Error::invalid_args(
                "close",
                "a client cannot be closed from inside one of its transactions",
            ));
        }
        let mut first = Ok(());
        for rt in self.inner.databases.values() {
            let r = rt.close().await;
            if first.is_ok() {
                first = r;
            }
        }
        first
    }

    /// The runtime of database `name`.
    pub(crate) fn runtime(&self, name: &str) -> Result<&Runtime> {
        self.inner
            .databases
            .get(name)
            .ok_or_else(|| Error::invalid_args("", format!("unknown database `{name}`")))
    }
}

/// A transaction handle passed to [`Client::transaction`] closures; `tx.model(..)`
/// has the same methods as on the client and sees the transaction's writes.
#[derive(Clone, Debug)]
pub struct Tx {
    pub(crate) client: Client,
}

impl Tx {
    /// The accessor for model `name` inside the transaction.
    pub fn model(&self, name: &str) -> Model {
        self.client.model(name)
    }

    /// The client handle bound to this transaction.
    pub fn client(&self) -> &Client {
        &self.client
    }
}
