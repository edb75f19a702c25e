//! # litestone
//!
//! A schema-first, async SQLite ORM for tokio services. Write a `.lite` schema,
//! open one [`Client`], share it across tasks and `.await` queries whose
//! arguments and results are JSON shaped like the Litestone README
//! (`where`, `orderBy`, `include`, `select`, ...), or typed rows via the
//! `*_as::<T>` methods.
//!
//! # Guide
//!
//! ```no_run
//! # async fn demo() -> litestone::Result<()> {
//! use serde_json::json;
//! let db = litestone::Client::builder()
//!     .schema("model users { id Integer @id  email Text @unique }")
//!     .db_path(":memory:")
//!     .auto_migrate(true)
//!     .open()
//!     .await?;
//! # let _ = db; let _ = json!({});
//! # Ok(()) }
//! ```
//!
//! # Design
//!
//! Layers, each a module with one job: [`schema`] (the `.lite` language),
//! [`ddl`] (schema → SQL DDL), `query` (JSON args → typed, validated
//! operations), `sql` (operations → SQL + parameters), `exec` (run on a
//! connection, decode rows), `runtime` (writer actor, reader pool, group
//! commit, transactions, locks), and `client` (the public handles). Every
//! database gets one writer thread and a pool of reader threads; the client
//! sends typed commands over bounded channels and awaits oneshot replies.

#![warn(missing_docs)]

pub mod codegen;
pub mod ddl;
pub mod error;
pub mod migrate;
pub mod schema;
pub mod testing;

mod client;
mod codec;
mod exec;
#[doc(hidden)]
pub mod query;
mod runtime;
mod sql;

pub use client::{
    BackupOptions, BackupProgress, CheckpointMode, CheckpointResult, Client, ClientBuilder,
    ColumnInfo, EventListener, ForeignKeyInfo, IndexInfo, LockGuard, LockOptions, Model,
    QueryEvent, QueryListener, RowStream, TapHandle, Tx, TxOptions, WalStatus, WriteEvent,
};
pub use client::{file_url, file_urls};
pub use error::{ConstraintKind, Diagnostic, Error, ErrorKind, Result};
pub use query::gate::{GateFn, Level};
pub use query::raw::{RawSql, raw};
pub use runtime::TxMode;
