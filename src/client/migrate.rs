//! The async face of [`crate::migrate`]: [`Client::push`],
//! [`Client::migrator`] and the [`Migrator`] (create / apply / status /
//! verify / dry-run, Rust data migrations).
//!
//! Owns only orchestration: reading the migrations directory, ordering SQL
//! and Rust migrations, holding the application lock, and shipping the
//! synchronous engine work to the database's writer thread through the
//! runtime (`exclusive`, outside any group-committed transaction). Builds no
//! SQL itself; see [`crate::migrate`] for the rules it follows.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::Connection;

use super::Client;
use super::lock::{LockGuard, LockOptions};
use crate::error::{Error, Result};
use crate::migrate::diff::Change;
use crate::migrate::introspect::{self, Ignore, Snapshot};
use crate::migrate::plan::{self, Plan, Rename};
use crate::migrate::{engine, files, history};
use crate::schema::Driver;

/// Options of [`Client::push_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushOptions {
    /// Allow dropping tables and columns that hold data.
    pub allow_destructive: bool,
    /// Declared renames, applied in order before diffing.
    pub renames: Vec<Rename>,
}

impl PushOptions {
    /// Allows (or forbids) dropping tables and columns holding data.
    pub fn allow_destructive(mut self, on: bool) -> Self {
        self.allow_destructive = on;
        self
    }

    /// Declares a rename.
    pub fn rename(mut self, r: Rename) -> Self {
        self.renames.push(r);
        self
    }
}

/// What [`Client::push`] did, per database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Database name → the changes applied to it (empty when it was in sync).
    pub databases: BTreeMap<String, Vec<Change>>,
}

impl PushReport {
    /// Whether no database needed a change.
    pub fn is_empty(&self) -> bool {
        self.databases.values().all(Vec::is_empty)
    }

    /// The changes applied to database `name` (empty when none or unknown).
    pub fn changes(&self, name: &str) -> &[Change] {
        self.databases.get(name).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// State of one migration in [`Migrator::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MigrationState {
    /// Recorded as applied, and the file is unchanged since.
    Applied,
    /// Not applied yet.
    Pending,
    /// Applied, but the file's checksum no longer matches the recorded one.
    Modified,
    /// Recorded as applied, but no file or registered Rust migration has
    /// that name any more.
    Missing,
}

/// One row of [`Migrator::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Migration name.
    pub name: String,
    /// Its state.
    pub state: MigrationState,
    /// When it was applied (UTC ISO-8601), for applied ones.
    pub applied_at: Option<String>,
}

/// What [`Migrator::verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Differences between the live database and the schema (what a push
    /// would do).
    pub drift: Vec<Change>,
    /// Migrations not applied yet.
    pub pending: Vec<String>,
    /// Applied migrations whose file changed since.
    pub modified: Vec<String>,
}

impl VerifyReport {
    /// No drift, nothing pending, nothing modified.
    pub fn is_clean(&self) -> bool {
        self.drift.is_empty() && self.pending.is_empty() && self.modified.is_empty()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return write!(f, "database matches the schema");
        }
        for c in &self.drift {
            writeln!(f, "drift: {c}")?;
        }
        for p in &self.pending {
            writeln!(f, "pending: {p}")?;
        }
        for m in &self.modified {
            writeln!(f, "modified: {m}")?;
        }
        Ok(())
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<()>> + Send + 'static>>;
type RustMigration = Arc<dyn Fn(Client) -> BoxFuture + Send + Sync>;

/// File-based migrations of one database; see [`crate::migrate`].
/// Obtained from [`Client::migrator`]; cheap to clone.
#[derive(Clone)]
pub struct Migrator {
    client: Client,
    dir: PathBuf,
    database: String,
    renames: Vec<Rename>,
    allow_destructive: bool,
    rust: Vec<(String, RustMigration)>,
}

impl fmt::Debug for Migrator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migrator")
            .field("dir", &self.dir)
            .field("database", &self.database)
            .field("renames", &self.renames)
            .field("allow_destructive", &self.allow_destructive)
            .field(
                "rust",
                &self
                    .rust
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The application lock [`Migrator::apply`] holds (in the main database).
pub const MIGRATE_LOCK: &str = "litestone:migrate";

/// Lease of the migrate lock, renewed before each migration: a crashed
/// process frees it after this long.
const LOCK_TTL: Duration = Duration::from_secs(120);

/// How long `apply` waits for another process's `apply` to finish.
const LOCK_WAIT: Duration = Duration::from_secs(600);

enum Entry {
    Sql(files::MigrationFile),
    Rust(String, RustMigration),
}

impl Entry {
    fn name(&self) -> &str {
        match self {
            Entry::Sql(f) => &f.name,
            Entry::Rust(n, _) => n,
        }
    }
}

impl Migrator {
    /// Migrates database block `name` instead of `main`.
    pub fn database(mut self, name: &str) -> Self {
        self.database = name.to_string();
        self
    }

    /// Declares a rename for [`create`](Self::create) and
    /// [`dry_run`](Self::dry_run).
    pub fn rename(mut self, r: Rename) -> Self {
        self.renames.push(r);
        self
    }

    /// Lets [`create`](Self::create) write a migration that drops tables or
    /// columns holding data.
    pub fn allow_destructive(mut self, on: bool) -> Self {
        self.allow_destructive = on;
        self
    }

    /// Registers a Rust data migration (the README's JS migrations): run by
    /// [`apply`](Self::apply) in name order together with the SQL files,
    /// receiving the client as system ([`Client::as_system`]: data
    /// migrations are not subject to row policies), recorded once it returns
    /// `Ok`. Name it like a file (`20240101000001_backfill-slugs`) to place
    /// it between files.
    pub fn register<F, Fut>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(Client) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let f: RustMigration = Arc::new(move |c| Box::pin(f(c)));
        self.rust.push((name.to_string(), f));
        self
    }

    /// The migrations directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn db_arg(&self) -> Option<&str> {
        if self.database == "main" {
            None
        } else {
            Some(self.database.as_str())
        }
    }

    fn target(&self) -> Result<(Snapshot, Ignore)> {
        let schema = self.client.schema();
        Ok((
            crate::migrate::target(schema, self.db_arg())?,
            crate::migrate::ignore_for(schema),
        ))
    }

    async fn on_writer<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        self.client.runtime(&self.database)?.exclusive(f).await
    }

    fn entries(&self) -> Result<Vec<Entry>> {
        let mut out: Vec<Entry> = files::read_dir(&self.dir)?
            .into_iter()
            .map(Entry::Sql)
            .collect();
        out.extend(
            self.rust
                .iter()
                .map(|(n, f)| Entry::Rust(n.clone(), f.clone())),
        );
        out.sort_by(|a, b| a.name().cmp(b.name()));
        for w in out.windows(2) {
            if w[0].name() == w[1].name() {
                return Err(Error::invalid_args(
                    "migrations",
                    format!("two migrations are named `{}`", w[0].name()),
                ));
            }
        }
        Ok(out)
    }

    /// Plans the next migration: the schema vs the live database with the
    /// pending SQL files applied.
    async fn plan_next(&self) -> Result<Plan> {
        let (target, ignore) = self.target()?;
        let applied: BTreeSet<String> = self
            .on_writer(history::list)
            .await?
            .into_iter()
            .map(|a| a.name)
            .collect();
        let pending: Vec<(String, String)> = self
            .entries()?
            .into_iter()
            .filter_map(|e| match e {
                Entry::Sql(f) if !applied.contains(&f.name) => Some((f.name, f.sql)),
                _ => None,
            })
            .collect();
        let renames = self.renames.clone();
        let allow = self.allow_destructive;
        let simulated = !pending.is_empty();
        self.on_writer(move |conn| {
            let live = introspect::introspect(conn, &ignore)?;
            let base = if pending.is_empty() {
                live
            } else {
                let scratch = introspect::replay(&live)?;
                for (name, sql) in &pending {
                    scratch.execute_batch(sql).map_err(|e| Error::Sqlite {
                        code: None,
                        message: format!(
                            "pending migration `{name}` does not apply to the current schema: {e}"
                        ),
                    })?;
                }
                introspect::introspect(&scratch, &ignore)?
            };
            let plan = plan::plan(&base, &target, &renames)?;
            if !allow {
                let losses = engine::data_loss(conn, &plan)?;
                if !losses.is_empty() {
                    return Err(engine::destructive_error(&losses));
                }
            }
            // Row checks only mean something against the live structure.
            if !simulated {
                engine::preflight(conn, &plan, &target)?;
            }
            Ok(plan)
        })
        .await
    }

    fn render(&self, name: &str, plan: &Plan) -> String {
        format!(
            "-- litestone migration {name} (database `{}`)\n-- Statements run in one transaction; do not add BEGIN/COMMIT.\n{}",
            self.database,
            plan.script()
        )
    }

    /// Writes the next migration file, `YYYYMMDDHHMMSS_label.sql`, holding
    /// the SQL that brings the database (with pending files applied) to the
    /// schema. Returns `None` and writes nothing when there is no change.
    ///
    /// # Errors
    /// [`Error::Validation`] (`rule` `destructive`) when the migration would
    /// delete data in the live database and
    /// [`allow_destructive`](Self::allow_destructive) is off, or when
    /// existing rows cannot survive it (`not_null`, `check`);
    /// [`Error::InvalidArgs`] for unreadable/unwritable directories or bad
    /// renames; SQLite errors.
    ///
    /// # Cancel safety
    /// Cancel-safe: it only reads the database; the file is written last,
    /// in one call.
    pub async fn create(&self, label: &str) -> Result<Option<PathBuf>> {
        let plan = self.plan_next().await?;
        if plan.is_empty() {
            return Ok(None);
        }
        let existing: Vec<String> = files::read_dir(&self.dir)?
            .into_iter()
            .map(|f| f.name)
            .chain(self.rust.iter().map(|(n, _)| n.clone()))
            .collect();
        let name = files::next_name(&existing, label);
        let text = self.render(&name, &plan);
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            Error::invalid_args(
                "migrations",
                format!("cannot create {}: {e}", self.dir.display()),
            )
        })?;
        let path = self.dir.join(format!("{name}.sql"));
        std::fs::write(&path, text).map_err(|e| {
            Error::invalid_args(
                "migrations",
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
        Ok(Some(path))
    }

    /// The SQL [`create`](Self::create) would write, without writing it
    /// (empty when there is no change).
    ///
    /// # Errors
    /// As [`create`](Self::create).
    ///
    /// # Cancel safety
    /// Cancel-safe: it only reads.
    pub async fn dry_run(&self, label: &str) -> Result<String> {
        let plan = self.plan_next().await?;
        if plan.is_empty() {
            return Ok(String::new());
        }
        let name = format!("<timestamp>_{}", files::sanitize_label(label));
        Ok(self.render(&name, &plan))
    }

    /// Applies the pending migrations in name order (SQL files and registered
    /// Rust migrations), each in its own transaction, and returns the names
    /// applied. Holds the application lock `litestone:migrate` meanwhile
    /// (a two-minute lease renewed before each migration);
    /// each SQL file also re-checks the history inside its transaction, so a
    /// migration applied by another process in the meantime is skipped.
    ///
    /// # Errors
    /// The first failing migration's error (its name in the message); that
    /// migration is rolled back and later ones are not run. Lock errors
    /// ([`Error::Timeout`] after waiting 10 minutes for another `apply`),
    /// [`Error::InvalidArgs`] for duplicate names or an unreadable directory.
    ///
    /// # Cancel safety
    /// The engine work runs to completion on the writer thread even if this
    /// future is dropped; each migration is either fully applied (and
    /// recorded) or not at all.
    pub async fn apply(&self) -> Result<Vec<String>> {
        let mut guard = self
            .client
            .lock_with(
                MIGRATE_LOCK,
                LockOptions {
                    ttl: LOCK_TTL,
                    wait_timeout: Some(LOCK_WAIT),
                    ..LockOptions::default()
                },
            )
            .await?;
        let done = self.apply_locked(&mut guard).await?;
        guard.release().await?;
        Ok(done)
    }

    async fn apply_locked(&self, guard: &mut LockGuard) -> Result<Vec<String>> {
        let entries = self.entries()?;
        let applied: BTreeSet<String> = self
            .on_writer(history::list)
            .await?
            .into_iter()
            .map(|a| a.name)
            .collect();
        let mut done = Vec::new();
        for e in entries {
            if applied.contains(e.name()) {
                continue;
            }
            // Keep the lock while migrations run, however many there are.
            guard.extend(LOCK_TTL).await?;
            match e {
                Entry::Sql(f) => {
                    let name = f.name.clone();
                    let ran = self
                        .on_writer(move |conn| {
                            engine::run(conn, &f.sql, Some((&f.name, &f.checksum)))
                        })
                        .await?;
                    if ran {
                        done.push(name);
                    }
                }
                Entry::Rust(name, f) => {
                    let n = name.clone();
                    let already = self
                        .on_writer(move |conn| {
                            history::ensure(conn)?;
                            history::is_applied(conn, &n)
                        })
                        .await?;
                    if already {
                        continue;
                    }
                    f(self.client.as_system()).await.map_err(|e| match e {
                        Error::Sqlite { code, message } => Error::Sqlite {
                            code,
                            message: format!("migration `{name}` failed: {message}"),
                        },
                        other => other,
                    })?;
                    let n = name.clone();
                    self.on_writer(move |conn| history::record(conn, &n, "rust"))
                        .await?;
                    done.push(name);
                }
            }
        }
        Ok(done)
    }

    /// Records migration `name` (a file or a registered Rust migration) as
    /// applied without running it: for adopting file-based migrations on a
    /// database that already has their effect (created by `push`, or
    /// migrated by hand). A migration already recorded is left as is.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] when no file or registration has that name or
    /// the directory cannot be read; SQLite errors.
    ///
    /// # Cancel safety
    /// The record is written whole or not at all.
    pub async fn mark_applied(&self, name: &str) -> Result<()> {
        let checksum = self
            .entries()?
            .into_iter()
            .find(|e| e.name() == name)
            .map(|e| match e {
                Entry::Sql(f) => f.checksum,
                Entry::Rust(..) => "rust".to_string(),
            })
            .ok_or_else(|| {
                Error::invalid_args("migrations", format!("no migration is named `{name}`"))
            })?;
        let name = name.to_string();
        self.on_writer(move |conn| {
            engine::envelope(conn, |conn| {
                history::ensure(conn)?;
                if history::is_applied(conn, &name)? {
                    return Ok((false, ()));
                }
                history::record(conn, &name, &checksum)?;
                Ok((true, ()))
            })
        })
        .await
    }

    /// Every migration known to the directory, the registrations or the
    /// history table, in name order, with its state.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an unreadable directory; SQLite errors.
    ///
    /// # Cancel safety
    /// Cancel-safe: it only reads.
    pub async fn status(&self) -> Result<Vec<MigrationStatus>> {
        let entries = self.entries()?;
        let applied: BTreeMap<String, history::Applied> = self
            .on_writer(history::list)
            .await?
            .into_iter()
            .map(|a| (a.name.clone(), a))
            .collect();
        let mut out = Vec::new();
        for e in &entries {
            let row = applied.get(e.name());
            let state = match (e, row) {
                (_, None) => MigrationState::Pending,
                (Entry::Sql(f), Some(a)) if a.checksum != f.checksum => MigrationState::Modified,
                _ => MigrationState::Applied,
            };
            out.push(MigrationStatus {
                name: e.name().to_string(),
                state,
                applied_at: row.map(|a| a.applied_at.clone()),
            });
        }
        let known: BTreeSet<&str> = entries.iter().map(Entry::name).collect();
        for (name, a) in &applied {
            if !known.contains(name.as_str()) {
                out.push(MigrationStatus {
                    name: name.clone(),
                    state: MigrationState::Missing,
                    applied_at: Some(a.applied_at.clone()),
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Compares the live database with the schema (drift) and reports
    /// pending and modified migrations.
    ///
    /// # Errors
    /// SQLite errors; [`Error::InvalidArgs`] for an unreadable directory.
    ///
    /// # Cancel safety
    /// Cancel-safe: it only reads.
    pub async fn verify(&self) -> Result<VerifyReport> {
        let (target, ignore) = self.target()?;
        let drift = self
            .on_writer(move |conn| {
                let live = introspect::introspect(conn, &ignore)?;
                Ok(crate::migrate::diff(&live, &target))
            })
            .await?;
        let mut report = VerifyReport {
            drift,
            ..VerifyReport::default()
        };
        for s in self.status().await? {
            match s.state {
                MigrationState::Pending => report.pending.push(s.name),
                MigrationState::Modified => report.modified.push(s.name),
                _ => {}
            }
        }
        Ok(report)
    }
}

/// Pushes `target` onto the database behind `conn`: introspection, plan,
/// checks and statements all run inside one migration envelope, so two
/// processes pushing at once serialize and the second finds nothing to do.
pub(crate) fn push_on(
    conn: &Connection,
    target: &Snapshot,
    ignore: &Ignore,
    opts: &PushOptions,
) -> Result<Vec<Change>> {
    engine::envelope(conn, |conn| {
        let live = introspect::introspect(conn, ignore)?;
        let plan = plan::plan(&live, target, &opts.renames)?;
        if plan.is_empty() {
            return Ok((false, Vec::new()));
        }
        if !opts.allow_destructive {
            let losses = engine::data_loss(conn, &plan)?;
            if !losses.is_empty() {
                return Err(engine::destructive_error(&losses));
            }
        }
        engine::preflight(conn, &plan, target)?;
        let sql: Vec<String> = plan
            .statements
            .iter()
            .map(|s| format!("{};", s.trim_end_matches(';')))
            .collect();
        conn.execute_batch(&sql.join("\n"))?;
        Ok((true, plan.changes))
    })
}

impl Client {
    /// File-based migrations of the main database in `dir` (use
    /// [`Migrator::database`] for another database block).
    pub fn migrator(&self, dir: impl AsRef<Path>) -> Migrator {
        Migrator {
            client: self.clone(),
            dir: dir.as_ref().to_path_buf(),
            database: "main".to_string(),
            renames: Vec::new(),
            allow_destructive: false,
            rust: Vec::new(),
        }
    }

    /// Dev push: applies the schema diff directly to every SQLite database
    /// (like `prisma db push`), refusing to drop data. Nothing is recorded in
    /// the migrations history.
    ///
    /// # Errors
    /// As [`Client::push_with`].
    ///
    /// # Cancel safety
    /// As [`Client::push_with`].
    pub async fn push(&self) -> Result<PushReport> {
        self.push_with(PushOptions::default()).await
    }

    /// [`Client::push`] with declared renames and/or destructive changes
    /// allowed. Each database is migrated in one transaction.
    ///
    /// # Errors
    /// [`Error::Validation`] with rule `destructive` naming the table, column
    /// and row count that would be lost (unless `allow_destructive`), or
    /// `not_null` / `check` when existing rows cannot take the new
    /// definition; [`Error::InvalidArgs`] for a rename naming nothing;
    /// SQLite errors (the database is left as before).
    ///
    /// # Cancel safety
    /// Each database's push runs to completion on its writer thread even if
    /// this future is dropped; it is applied whole or not at all.
    pub async fn push_with(&self, opts: PushOptions) -> Result<PushReport> {
        let schema = self.schema();
        let ignore = crate::migrate::ignore_for(schema);
        let mut names: Vec<String> = self.inner.databases.keys().cloned().collect();
        names.sort();
        let mut report = PushReport::default();
        for name in names {
            let is_sqlite = schema
                .database(&name)
                .is_none_or(|d| d.driver != Driver::Jsonl);
            if !is_sqlite {
                continue;
            }
            let db = if name == "main" {
                None
            } else {
                Some(name.as_str())
            };
            let target = crate::migrate::target(schema, db)?;
            let ignore = ignore.clone();
            let opts = opts.clone();
            let changes = self
                .runtime(&name)?
                .exclusive(move |conn| push_on(conn, &target, &ignore, &opts))
                .await?;
            report.databases.insert(name, changes);
        }
        Ok(report)
    }
}
