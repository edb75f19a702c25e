//! [`Model`]: the per-model accessor with the README's read and write
//! methods.
//!
//! Each call compiles its JSON arguments on the caller's task
//! (`query::compile`: validation errors come back without touching a
//! thread), sends the plan to the runtime — reads to the reader pool, writes
//! to the writer, everything to the pinned writer inside a transaction — and
//! awaits the reply, decoded on the actor thread. Builds no SQL text itself.
//!
//! Observability: every call runs inside a `tracing` span
//! `litestone.query{model, operation, database}`; when `on_query` listeners
//! or `tap_query` captures exist, each executed statement becomes a
//! [`QueryEvent`](super::QueryEvent). With none, nothing is recorded.

use std::sync::Arc;

use rusqlite::Connection;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument as _;

use super::{Client, QueryEvent};
use crate::error::{Error, Result};
use crate::exec::{self, Log, StmtLog};
use crate::query::{self, Cx, Op};
use crate::sql::Plan;

/// Accessor for one model: `client.model("users")`. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Model {
    pub(crate) client: Client,
    pub(crate) name: Arc<str>,
    /// Scopes applied to every read, in chain order.
    pub(crate) scopes: Arc<[Arc<str>]>,
}

macro_rules! json_methods {
    ($( $(#[$doc:meta])* $name:ident => $op:ident; )*) => {
        $(
            $(#[$doc])*
            ///
            /// # Errors
            /// [`Error::UnknownModel`], [`Error::UnknownField`] /
            /// [`Error::InvalidArgs`] (with the JSON path) for bad arguments,
            /// [`Error::Validation`] for bad values, constraint and SQLite
            /// errors from the database.
            pub async fn $name(&self, args: Value) -> Result<Value> {
                self.call(Op::$op, args).await
            }
        )*
    };
}

/// Operations whose result is rows of the model (computed fields apply).
fn returns_rows(op: Op) -> bool {
    matches!(
        op,
        Op::FindMany
            | Op::FindFirst
            | Op::FindFirstOrThrow
            | Op::FindUnique
            | Op::FindUniqueOrThrow
            | Op::FindManyAndCount
            | Op::FindManyCursor
            | Op::Search
            | Op::Create
            | Op::Update
            | Op::Upsert
            | Op::Delete
            | Op::Remove
            | Op::Restore
    )
}

impl Model {
    pub(crate) fn new(client: Client, name: &str) -> Model {
        Model {
            client,
            name: Arc::from(name),
            scopes: Arc::from([]),
        }
    }

    /// This accessor with the builder-registered scope `name` applied to
    /// its reads (chainable: `.scope("active").scope("premium")`). Wheres
    /// AND-merge; the call's own arguments override the scopes' other
    /// keys. An unknown scope is an [`Error::InvalidArgs`] from the call;
    /// writes through a scoped accessor are refused.
    pub fn scope(&self, name: &str) -> Model {
        let mut scopes: Vec<Arc<str>> = self.scopes.to_vec();
        scopes.push(Arc::from(name));
        Model {
            client: self.client.clone(),
            name: self.name.clone(),
            scopes: Arc::from(scopes),
        }
    }

    /// The model name this accessor was created with.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn prepare(&self, op: Op, args: &Value) -> Result<(Plan, String)> {
        if !self.scopes.is_empty() {
            let (op, merged) = super::scope::apply(
                &self.client.inner.scopes,
                &self.name,
                &self.scopes,
                self.client.ctx.auth.as_deref(),
                op,
                args,
            )?;
            return self.prepare_unscoped(op, &merged);
        }
        self.prepare_unscoped(op, args)
    }

    fn prepare_unscoped(&self, op: Op, args: &Value) -> Result<(Plan, String)> {
        if op.is_write() {
            self.client.inner.hooks.check_write(&self.name, op, args)?;
        }
        let schema = &self.client.inner.schema;
        let model = schema
            .model(&self.name)
            .ok_or_else(|| Error::UnknownModel {
                model: self.name.to_string(),
            })?;
        let cx = Cx {
            schema,
            auth: self.client.ctx.auth.as_deref(),
            system: self.client.ctx.system,
            cache: Some(&self.client.inner.query_cache),
            crypto: self.client.inner.crypto.as_ref(),
        };
        {
            query::gate::check(
                schema,
                model,
                op,
                args,
                &query::gate::Caller {
                    auth: cx.auth,
                    system: cx.system,
                    gate: self.client.inner.gate.as_ref(),
                },
            )?;
        }
        let filtered = if op.is_write() {
            None
        } else {
            query::policy::global_filters(schema, model, args, &self.client.inner.filters)
        };
        let plan = query::compile(&cx, model, op, filtered.as_ref().unwrap_or(args))?;
        let db = model.database.clone().unwrap_or_else(|| "main".to_string());
        Ok((plan, db))
    }

    async fn dispatch<R, F>(
        &self,
        op: Op,
        db: &str,
        observed: bool,
        f: F,
    ) -> Result<(R, Vec<StmtLog>)>
    where
        F: FnOnce(&Connection, &mut Log) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let g = move |conn: &Connection| {
            let mut log = Log::new(observed);
            let r = f(conn, &mut log)?;
            Ok((r, log.entries))
        };
        if op.is_write() {
            self.client.run_write(db, g).await
        } else {
            self.client.run_read(db, g).await
        }
    }

    pub(super) fn emit(&self, op: Op, db: &str, args: &Value, logs: Vec<StmtLog>) {
        let actor_id = self.client.actor_id();
        for l in logs {
            let e = QueryEvent {
                model: Some(self.name.to_string()),
                operation: op.name().to_string(),
                database: db.to_string(),
                actor_id: actor_id.clone(),
                sql: l.sql.to_string(),
                params: l.params.iter().map(exec::param_json).collect(),
                duration: l.duration_ms,
                row_count: l.rows,
                args: args.clone(),
            };
            self.client.emit(&e);
        }
    }

    /// Names the model and fields of a constraint error in schema terms
    /// (SQLite reports table and column names, which `@@map`/`@map` change).
    fn schema_terms(&self, e: Error) -> Error {
        match e {
            Error::Constraint {
                kind,
                model,
                columns,
                message,
            } => {
                let schema = &self.client.inner.schema;
                let m = model
                    .as_deref()
                    .and_then(|t| schema.models.iter().find(|m| m.table == t))
                    .or_else(|| schema.model(&self.name));
                let columns = match m {
                    Some(m) => columns
                        .into_iter()
                        .map(|c| {
                            m.fields
                                .iter()
                                .find(|f| f.is_column() && f.column == c)
                                .map_or(c, |f| f.name.clone())
                        })
                        .collect(),
                    None => columns,
                };
                Error::Constraint {
                    kind,
                    model: m.map(|m| m.name.clone()).or(model),
                    columns,
                    message,
                }
            }
            other => other,
        }
    }

    /// The [`WriteEvent`](super::WriteEvent) of a successful write.
    fn event(&self, op: Op, db: &str, v: &Value) -> super::WriteEvent {
        let action = super::audit::action(op);
        let (rows, count) = match v {
            Value::Object(o) if o.len() == 1 && o.contains_key("count") => {
                (Vec::new(), o["count"].as_u64().unwrap_or(0))
            }
            Value::Array(a) => (a.clone(), a.len() as u64),
            Value::Null => (Vec::new(), 1),
            other => (vec![other.clone()], 1),
        };
        super::WriteEvent {
            model: self.name.to_string(),
            action: action.to_string(),
            operation: op.name().to_string(),
            database: db.to_string(),
            actor_id: self.client.actor_id(),
            rows,
            count,
        }
    }

    fn span(&self, op: Op, db: &str) -> tracing::Span {
        tracing::debug_span!(
            "litestone.query",
            model = %self.name,
            operation = op.name(),
            database = %db
        )
    }

    /// The JSONL directory of this model's database, when it is one.
    fn jsonl(&self) -> Option<(&std::path::Path, String)> {
        // Every write asks: no lookup or allocation without JSONL databases.
        if self.client.inner.jsonl.is_empty() {
            return None;
        }
        let m = self.client.inner.schema.model(&self.name)?;
        let db = m.database.as_deref().unwrap_or("main");
        self.client.jsonl_dir(db).map(|d| (d, db.to_string()))
    }

    async fn call(&self, op: Op, args: Value) -> Result<Value> {
        let mut args = if op.is_write() {
            match self
                .client
                .inner
                .hooks
                .before_write(&self.name, op, &args)?
            {
                Some(changed) => changed,
                None => args,
            }
        } else {
            args
        };
        if !(op.is_write() && self.client.has_files(&self.name)) {
            return self.call_core(op, args).await;
        }
        let mut work = super::files::FileWork::default();
        let prepared = match self
            .client
            .store_uploads(&self.name, op, &mut args, &mut work)
        {
            Ok(()) => self.client.write_pending(&mut work).await,
            Err(e) => Err(e),
        };
        if let Err(e) = prepared {
            self.client.finish_files(work, false, None).await;
            return Err(e);
        }
        match self.client.files_to_release(&self.name, op, &args).await {
            Ok(keys) => work.replaced = keys,
            Err(e) => {
                self.client.finish_files(work, false, None).await;
                return Err(e);
            }
        }
        let r = self.call_core(op, args).await;
        match &r {
            Ok(v) => {
                if self.client.ctx.tx.is_some() {
                    // Inside a transaction the replaced objects stay (it may
                    // still roll back).
                    work.replaced.clear();
                }
                let updated = matches!(op, Op::Update | Op::UpdateMany | Op::Upsert);
                self.client
                    .finish_files(work, true, updated.then_some(v))
                    .await;
            }
            Err(_) => self.client.finish_files(work, false, None).await,
        }
        r
    }

    async fn call_core(&self, op: Op, args: Value) -> Result<Value> {
        if op.is_write()
            && self.scopes.is_empty()
            && let Some((dir, db)) = self.jsonl()
        {
            self.client.inner.hooks.check_write(&self.name, op, &args)?;
            let v = self.client.jsonl_write(&self.name, dir, op, &args).await?;
            if !self.client.inner.event_listeners.is_empty() {
                self.client.write_event(self.event(op, &db, &v));
            }
            return Ok(v);
        }
        let (plan, db) = self.prepare(op, &args)?;
        let observed = self.client.observed();
        let span = self.span(op, &db);
        // Unless something after the reply needs them (query events, audit
        // entries, computed fields), the arguments are dropped while the
        // actor runs the plan (polled just after the request is sent)
        // instead of after the reply: freeing the 20k-row `createMany`
        // argument of the quick insert_bulk took ~3 ms of the caller's time.
        let audited = op.is_write() && self.client.audited(&self.name);
        let computed = self.client.inner.hooks.any() && returns_rows(op);
        let (kept, spent) = if observed || audited || computed {
            (Some(args), None)
        } else {
            (None, Some(args))
        };
        async move {
            let run = self.dispatch(op, &db, observed, move |c, log| exec::run(c, &plan, log));
            let (res, ()) = futures::future::join(run, async move { drop(spent) }).await;
            let (mut v, logs) = res.map_err(|e| self.schema_terms(e))?;
            let args = kept.unwrap_or(Value::Null);
            if observed {
                self.emit(op, &db, &args, logs);
            }
            if op.is_write() && !self.client.inner.event_listeners.is_empty() {
                self.client.write_event(self.event(op, &db, &v));
            }
            if audited {
                let entries = self.client.audit_entries(&self.name, op, &args, &v);
                if !entries.is_empty() {
                    match self.client.ctx.tx.as_ref().filter(|t| t.database == db) {
                        Some(t) => t.audits.lock().extend(entries),
                        None => self.client.write_audit(entries).await,
                    }
                }
            }
            let hooks = &self.client.inner.hooks;
            if computed {
                let schema = &self.client.inner.schema;
                if let Some(m) = schema.model(&self.name) {
                    hooks.apply(schema, m, &args, &mut v)?;
                }
            }
            Ok(v)
        }
        .instrument(span)
        .await
    }

    async fn call_typed<T>(&self, op: Op, args: Value) -> Result<Vec<T>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let events = op.is_write()
            && (!self.client.inner.event_listeners.is_empty()
                || !self.client.inner.hooks.before.is_empty()
                || self.client.has_files(&self.name)
                || self.client.audited(&self.name)
                || self.jsonl().is_some());
        if (self.client.inner.hooks.any() && returns_rows(op)) || events {
            // Computed fields and write events work on JSON rows; decode
            // from those.
            let v = self.call(op, args).await?;
            let decode = |x: Value| {
                serde_json::from_value::<T>(x).map_err(|e| {
                    Error::invalid_args("", format!("cannot decode row into the target type: {e}"))
                })
            };
            return match v {
                Value::Null => Ok(Vec::new()),
                Value::Array(items) => items.into_iter().map(decode).collect(),
                other => Ok(vec![decode(other)?]),
            };
        }
        let (plan, db) = self.prepare(op, &args)?;
        let observed = self.client.observed();
        let span = self.span(op, &db);
        async move {
            let (v, logs) = self
                .dispatch(op, &db, observed, move |c, log| {
                    exec::run_typed::<T>(c, &plan, log)
                })
                .await
                .map_err(|e| self.schema_terms(e))?;
            if observed {
                self.emit(op, &db, &args, logs);
            }
            Ok(v)
        }
        .instrument(span)
        .await
    }

    /// The SQL and parameters a call would run, without running it (for
    /// snapshot tests and debugging): `[{"sql": …, "params": […]}, …]` in
    /// execution order (include levels after their parent).
    ///
    /// # Errors
    /// The compile errors of the call.
    #[doc(hidden)]
    pub fn to_sql(&self, op: Op, args: Value) -> Result<Value> {
        let (plan, _) = self.prepare(op, &args)?;
        Ok(Value::Array(
            plan.statements()
                .into_iter()
                .map(|s| {
                    serde_json::json!({
                        "sql": &*s.sql,
                        "params": s.params.iter().map(exec::param_json).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        ))
    }

    json_methods! {
        /// Rows matching `where`, with `orderBy`, `limit`, `offset`, `select`,
        /// `include`, `distinct`, `withDeleted` / `onlyDeleted` → an array.
        find_many => FindMany;
        /// The first matching row or `null`.
        find_first => FindFirst;
        /// The row matching a `where` on `@id` / `@unique` / `@@unique`
        /// fields, or `null`.
        find_unique => FindUnique;
        /// Like `find_first`, but no row is [`Error::NotFound`].
        find_first_or_throw => FindFirstOrThrow;
        /// Like `find_unique`, but no row is [`Error::NotFound`].
        find_unique_or_throw => FindUniqueOrThrow;
        /// `{"rows": [...], "total": n}` from one snapshot.
        find_many_and_count => FindManyAndCount;
        /// The number of matching rows.
        count => Count;
        /// Whether any row matches.
        exists => Exists;
        /// A keyset page: `{"items", "nextCursor", "hasMore"}`; pass
        /// `nextCursor` back as `cursor` for the next page.
        find_many_cursor => FindManyCursor;
        /// Inserts one row (`data`) and returns it (`select`/`include`
        /// honoured; `select: false` returns `null`).
        create => Create;
        /// Inserts many rows (`data: [...]`, `skipDuplicates`) → `{"count"}`.
        create_many => CreateMany;
        /// Updates the first row matching `where` with `data` (values or
        /// `{increment|decrement|multiply|divide|set: n}`) → the row or `null`.
        update => Update;
        /// Updates every matching row → `{"count"}` (`"all": true` for no where).
        update_many => UpdateMany;
        /// `where` on a unique target, `create`, `update` → the row.
        upsert => Upsert;
        /// `data: [...]`, `conflictTarget: [fields]`, `update` → `{"count"}`.
        upsert_many => UpsertMany;
        /// Soft-deletes (on `@@softDelete` models) or deletes the first
        /// matching row → the row; no row is [`Error::NotFound`].
        remove => Remove;
        /// Soft-deletes or deletes every matching row → `{"count"}`.
        remove_many => RemoveMany;
        /// Hard-deletes the first matching row → the row; no row is
        /// [`Error::NotFound`].
        delete => Delete;
        /// Hard-deletes every matching row → `{"count"}`.
        delete_many => DeleteMany;
        /// Clears `deletedAt` on matching soft-deleted rows → the rows.
        restore => Restore;
        /// `_count`, `_sum`, `_avg`, `_min`, `_max`, `_stringAgg` and named
        /// aggregates over the rows matching `where` → `{"_count": n, "_sum":
        /// {field: x}, …}`.
        aggregate => Aggregate;
        /// Groups by `by` (with `interval`/`fillGaps` buckets), `having`,
        /// `orderBy`, `limit`/`offset` and aggregates → an array of groups.
        group_by => GroupBy;
        /// Routes by shape: `by` → `group_by`; aggregate keys → `aggregate`;
        /// else `find_many`.
        query => Query;
        /// FTS5 search on `@@fts` models: a query string or `{query, where,
        /// limit, offset, highlight, snippet}` → rows ranked by bm25.
        search => Search;
        /// Merges the FTS5 index segments of an `@@fts` model → `null`.
        optimize_fts => OptimizeFts;
    }

    /// `find_many`, decoded straight from SQLite into `T`.
    ///
    /// # Errors
    /// As [`Model::find_many`], plus `InvalidArgs` when a row does not fit `T`.
    pub async fn find_many_as<T: DeserializeOwned + Send + 'static>(
        &self,
        args: Value,
    ) -> Result<Vec<T>> {
        self.call_typed(Op::FindMany, args).await
    }

    /// `find_first` into `T`.
    ///
    /// # Errors
    /// As [`Model::find_first`], plus a decode error.
    pub async fn find_first_as<T: DeserializeOwned + Send + 'static>(
        &self,
        args: Value,
    ) -> Result<Option<T>> {
        Ok(self
            .call_typed(Op::FindFirst, args)
            .await?
            .into_iter()
            .next())
    }

    /// `find_unique` into `T`.
    ///
    /// # Errors
    /// As [`Model::find_unique`], plus a decode error.
    pub async fn find_unique_as<T: DeserializeOwned + Send + 'static>(
        &self,
        args: Value,
    ) -> Result<Option<T>> {
        Ok(self
            .call_typed(Op::FindUnique, args)
            .await?
            .into_iter()
            .next())
    }

    /// `find_first_or_throw` into `T`.
    ///
    /// # Errors
    /// As [`Model::find_first_or_throw`], plus a decode error.
    pub async fn find_first_or_throw_as<T: DeserializeOwned + Send + 'static>(
        &self,
        args: Value,
    ) -> Result<T> {
        self.one(Op::FindFirstOrThrow, args).await
    }

    /// `find_unique_or_throw` into `T`.
    ///
    /// # Errors
    /// As [`Model::find_unique_or_throw`], plus a decode error.
    pub async fn find_unique_or_throw_as<T: DeserializeOwned + Send + 'static>(
        &self,
        args: Value,
    ) -> Result<T> {
        self.one(Op::FindUniqueOrThrow, args).await
    }

    /// `create` into `T`.
    ///
    /// # Errors
    /// As [`Model::create`], plus a decode error; `select: false` is an
    /// `InvalidArgs` (there is no row to return).
    pub async fn create_as<T: DeserializeOwned + Send + 'static>(&self, args: Value) -> Result<T> {
        self.one(Op::Create, args).await
    }

    /// `update` into `T` (`None` when no row matched).
    ///
    /// # Errors
    /// As [`Model::update`], plus a decode error.
    pub async fn update_as<T: DeserializeOwned + Send + 'static>(
        &self,
        args: Value,
    ) -> Result<Option<T>> {
        Ok(self.call_typed(Op::Update, args).await?.into_iter().next())
    }

    /// `upsert` into `T`.
    ///
    /// # Errors
    /// As [`Model::upsert`], plus a decode error.
    pub async fn upsert_as<T: DeserializeOwned + Send + 'static>(&self, args: Value) -> Result<T> {
        self.one(Op::Upsert, args).await
    }

    async fn one<T: DeserializeOwned + Send + 'static>(&self, op: Op, args: Value) -> Result<T> {
        self.call_typed(op, args)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Error::invalid_args("select", format!("{} returned no row to decode", op.name()))
            })
    }
}
