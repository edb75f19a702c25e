//! Migrations: dev push and file-based create / apply / status / verify /
//! dry-run, for every SQLite `database` block of a schema.
//!
//! # Guide
//!
//! ```no_run
//! # async fn demo() -> litestone::Result<()> {
//! use litestone::migrate::{PushOptions, Rename};
//! let db = litestone::Client::builder()
//!     .schema("model users { id Integer @id  email Text @unique }")
//!     .db_path("app.db")
//!     .open()
//!     .await?;
//!
//! // Dev: apply the diff directly (like `prisma db push`); refuses to drop
//! // data unless allowed.
//! db.push_with(PushOptions::default().rename(Rename::column("users", "mail", "email")))
//!     .await?;
//!
//! // Production: reviewed SQL files, applied once each.
//! let m = db.migrator("./migrations");
//! if let Some(path) = m.create("add-users").await? {
//!     println!("wrote {}", path.display());
//! }
//! let applied = m.apply().await?;
//! assert!(m.verify().await?.is_clean());
//! # let _ = applied; Ok(()) }
//! ```
//!
//! # Design
//!
//! - **Diff, no shadow database.** The schema's DDL
//!   ([`ddl::create_statements`](crate::ddl::create_statements)) is run on a
//!   fresh `:memory:` connection and both it and the live file are read by
//!   [`introspect`](introspect::introspect) into a [`Snapshot`]; [`diff`]
//!   compares tables, columns (type, NOT NULL, default, CHECK — enum value
//!   lists included —, primary key, generated), table constraints (foreign
//!   keys with their actions), indexes (unique and partial ones included by
//!   their full text), triggers and FTS5 tables. SQLite's and litestone's own
//!   tables (`sqlite_*`, `_litestone_*`), FTS shadow tables, views and
//!   `@@external` models' tables are never compared nor touched. Column order
//!   is not compared.
//! - **ALTER where possible, rebuild otherwise.** Added columns SQLite can
//!   add (`ADD COLUMN`: nullable, or NOT NULL with a constant default, not
//!   unique/key/stored-generated) and dropped columns it can drop in place
//!   are; every other change rebuilds the table (create `_new_<t>`, copy the
//!   common columns — `CAST` to the new type, `coalesce` with the new default
//!   for columns becoming NOT NULL, the rowid kept —, drop, rename, recreate
//!   indexes and triggers, rebuild external-content FTS indexes).
//! - **One transaction per migration.** Foreign keys are switched off around
//!   it, `BEGIN IMMEDIATE`, statements, `PRAGMA foreign_key_check` (any
//!   violation rolls back), history row, `COMMIT`: a failing migration leaves
//!   schema and data exactly as before. Files therefore must not contain
//!   `BEGIN`/`COMMIT`.
//! - **Renames are declared, never guessed** ([`Rename::table`],
//!   [`Rename::column`] on [`PushOptions`] or the [`Migrator`]). A rename whose
//!   new name already exists and old name does not is treated as done.
//! - **Destructive changes need an opt-in.** Dropping a table that holds rows,
//!   or a column holding non-NULL values (in place or by a rebuild), fails with
//!   [`Error::Validation`](crate::Error::Validation) (`rule` =
//!   `"destructive"`, `model` = table, `field` = column or `*`, the message
//!   listing every loss with row counts) unless `allow_destructive` is set.
//!   Dropping empty tables and all-NULL columns is always allowed. Rebuilds
//!   that existing rows cannot survive are refused the same way, before
//!   anything runs: a column becoming NOT NULL without a default while NULLs
//!   exist (`rule` = `"not_null"`), rows holding a value a new CHECK rejects —
//!   e.g. an enum value removed while in use — (`rule` = `"check"`, the message
//!   naming the values and their row counts).
//! - **Files.** `create` writes `YYYYMMDDHHMMSS_label.sql` (timestamps always
//!   increase) holding the diff between the schema and the live database
//!   *with the pending files applied* (simulated on a structure-only copy), so
//!   creating twice without applying does not duplicate work. `create`
//!   refuses data loss in the live database like push does, unless
//!   [`Migrator::allow_destructive`]; `apply` runs files as written (the file
//!   is the reviewed opt-in).
//! - **History.** `_litestone_migrations(name, checksum, applied_at)` in each
//!   database; name = file name without `.sql` (or the registered name of a
//!   Rust migration), checksum = SHA-256 of the file (`rust` for Rust
//!   migrations). An applied file whose checksum changed is
//!   [`MigrationState::Modified`] in `status` and `verify` and is not re-run.
//! - **Rust data migrations** ([`Migrator::register`], the README's JS
//!   migrations) are ordered with the SQL files by name, so name them like
//!   files (`20240101000001_backfill-slugs`). Each receives the [`Client`]
//!   and is recorded after it returns `Ok`; it is not wrapped in a
//!   transaction by the migrator (use `client.transaction` inside it) and is
//!   not re-run once recorded.
//! - **Concurrency.** `apply` holds the application lock
//!   `litestone:migrate` for its whole run, and each SQL file re-checks the
//!   history inside its own `BEGIN IMMEDIATE` transaction, so two processes
//!   applying at once apply each migration once.
//! - **Multi-database.** Each SQLite `database` block migrates its own file
//!   with only its models ([`Migrator::database`]); give each block its own
//!   migrations directory. `push` covers every SQLite database.
//!
//! Layering: [`introspect`], [`diff`], [`plan`], [`engine`], [`files`] and
//! [`history`] are synchronous and never touch tokio or the runtime; the
//! async [`Migrator`] and [`Client::push`] live in the client layer and run
//! the engine on the writer thread through the runtime.
//!
//! [`Client`]: crate::Client
//! [`Client::push`]: crate::Client::push

pub mod diff;
pub mod engine;
pub mod files;
pub mod history;
pub mod introspect;
pub mod plan;
mod sqltext;

pub use crate::client::migrate::{
    MIGRATE_LOCK, MigrationState, MigrationStatus, Migrator, PushOptions, PushReport, VerifyReport,
};
pub use diff::{Change, diff};
pub use engine::DataLoss;
pub use introspect::{Ignore, Snapshot};
pub use plan::{Plan, Rename};

use crate::error::Result;
use crate::schema::Schema;

/// The objects of `schema` that migrations must leave alone: the tables of
/// `@@external` models (in any database).
pub fn ignore_for(schema: &Schema) -> Ignore {
    Ignore::tables(
        schema
            .models
            .iter()
            .filter(|m| m.external)
            .map(|m| m.table.as_str()),
    )
}

/// The pristine snapshot of the models `schema` routes to `database`
/// (`None` or `"main"` = the main database): its DDL run on a fresh
/// in-memory connection, introspected, with FTS sources filled in.
///
/// # Errors
/// [`Error::Sqlite`](crate::Error::Sqlite) when SQLite refuses a statement
/// of the schema's DDL.
pub fn target(schema: &Schema, database: Option<&str>) -> Result<Snapshot> {
    let database = database.filter(|d| *d != "main");
    let stmts = crate::ddl::create_statements(schema, database);
    let mut snap = introspect::pristine(&stmts, &ignore_for(schema))?;
    for m in &schema.models {
        let Some(fts) = &m.fts else { continue };
        if !crate::ddl::model_in_database(schema, m, database) {
            continue;
        }
        let rowid = if crate::ddl::is_rowid_alias(m) {
            m.single_pk()
                .map(|f| f.column.clone())
                .unwrap_or_else(|| "rowid".to_string())
        } else {
            "rowid".to_string()
        };
        let columns = fts
            .fields
            .iter()
            .map(|f| {
                let c = m.field_by_id(*f).column.clone();
                (c.clone(), c)
            })
            .collect();
        snap.fts_sources.insert(
            fts.table.clone(),
            introspect::FtsSource {
                table: m.table.clone(),
                rowid,
                columns,
            },
        );
    }
    Ok(snap)
}
