//! [`ClientBuilder`]: options and the open sequence (parse schema, open one
//! runtime per SQLite database block, optionally push the schema).

use std::collections::HashMap;
use std::sync::Arc;

use super::{Client, ClientInner, Ctx, QueryEvent, QueryListener};
use crate::error::{Error, Result};
use crate::runtime::{Runtime, RuntimeConfig};
use crate::schema::{self, Driver};

/// Builder for [`Client`]; see [`Client::builder`].
#[derive(Default, Clone)]
pub struct ClientBuilder {
    pub(crate) schema_src: Option<String>,
    pub(crate) schema_file: Option<String>,
    pub(crate) db_path: Option<String>,
    pub(crate) auto_migrate: bool,
    pub(crate) pragmas: Vec<(String, String)>,
    pub(crate) readers: Option<usize>,
    pub(crate) statement_cache: Option<usize>,
    pub(crate) extensions: Vec<(String, Option<String>)>,
    pub(crate) tx_timeout: Option<std::time::Duration>,
    pub(crate) listeners: Vec<QueryListener>,
    pub(crate) gate: Option<crate::query::gate::GateFn>,
    pub(crate) filters: Option<serde_json::Value>,
    pub(crate) scopes: Vec<(String, String, super::scope::ScopeDef)>,
    pub(crate) encryption_key: Option<String>,
    pub(crate) hooks: super::computed::Hooks,
    pub(crate) event_listeners: Vec<super::EventListener>,
    pub(crate) on_log: Option<super::audit::LogMetaFn>,
    pub(crate) files: Option<super::files::LocalStorage>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("schema_file", &self.schema_file)
            .field("db_path", &self.db_path)
            .field("auto_migrate", &self.auto_migrate)
            .field("pragmas", &self.pragmas)
            .field("readers", &self.readers)
            .field("statement_cache", &self.statement_cache)
            .field("tx_timeout", &self.tx_timeout)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Uses `src` as the schema text.
    pub fn schema(mut self, src: &str) -> Self {
        self.schema_src = Some(src.to_string());
        self
    }

    /// Reads the schema from `path` (imports resolve relative to it).
    pub fn schema_file(mut self, path: &str) -> Self {
        self.schema_file = Some(path.to_string());
        self
    }

    /// Path of the main database file (`:memory:` for an in-memory database).
    /// Overrides the path of a `database main { ... }` block.
    pub fn db_path(mut self, path: &str) -> Self {
        self.db_path = Some(path.to_string());
        self
    }

    /// Pushes the schema on open ([`Client::push`]): creates and alters
    /// tables, columns, indexes, triggers and FTS tables to match it; refuses
    /// (with an error from `open`) to drop tables or columns holding data.
    pub fn auto_migrate(mut self, on: bool) -> Self {
        self.auto_migrate = on;
        self
    }

    /// Applies `PRAGMA name = value` on every connection, after the defaults
    /// (database-level pragmas such as `journal_mode`, `page_size` or
    /// `user_version` on the writer only). Names and values are checked so
    /// that they cannot carry a second statement.
    pub fn pragma(mut self, name: &str, value: &str) -> Self {
        self.pragmas.push((name.to_string(), value.to_string()));
        self
    }

    /// Number of reader threads per database (default: available cores, at
    /// least 2; `0` is taken as 1).
    pub fn readers(mut self, n: usize) -> Self {
        self.readers = Some(n);
        self
    }

    /// Prepared statements cached per connection (default 128).
    pub fn statement_cache(mut self, capacity: usize) -> Self {
        self.statement_cache = Some(capacity);
        self
    }

    /// Loads the SQLite extension at `path` (with `entry_point`, or SQLite's
    /// default entry point) into every connection, writer and readers.
    ///
    /// Opt-in twice: this method exists only with the `load_extension` cargo
    /// feature. The library runs native code inside the process, so only
    /// pass libraries you trust. Loading is enabled just for the load itself;
    /// SQL's `load_extension()` function stays disabled.
    #[cfg(feature = "load_extension")]
    pub fn load_extension(mut self, path: &str, entry_point: Option<&str>) -> Self {
        self.extensions
            .push((path.to_string(), entry_point.map(str::to_string)));
        self
    }

    /// Longest time a transaction may pin the writer, counted from its BEGIN
    /// (default 30 s); past it the transaction is rolled back and the call
    /// fails with [`Error::Timeout`]. [`crate::TxOptions::timeout`] overrides it
    /// per transaction.
    pub fn transaction_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.tx_timeout = Some(timeout);
        self
    }

    /// Calls `f` for every executed statement.
    pub fn on_query(mut self, f: impl Fn(&QueryEvent) + Send + Sync + 'static) -> Self {
        self.listeners.push(Arc::new(f));
        self
    }

    /// Sets the `@@gate` level callback (the README's `GatePlugin` with its
    /// `getLevel(user, model)`): a synchronous closure from the handle's auth
    /// (`None` without `set_auth`) and the model name to a level, usually a
    /// [`Level`](crate::Level) constant. Results above `SYSADMIN` (7) are
    /// capped: SYSTEM (8) is reserved for `as_system()`. Without a callback
    /// every non-system caller is `STRANGER` (0).
    pub fn gate(
        mut self,
        f: impl Fn(Option<&serde_json::Value>, &str) -> u8 + Send + Sync + 'static,
    ) -> Self {
        self.gate = Some(Arc::new(f));
        self
    }

    /// Global query filters per model (README `filters: { posts: { status:
    /// 'published' } }`): an object of model name → `where`. Every read of
    /// that model — find*, count, exists, cursor pages, and includes of it at
    /// any depth — gets the filter ANDed into its `where`. Writes are not
    /// filtered (use `@@allow`/`@@deny` for rules that must hold), and
    /// `as_system()` does not bypass them (they are not access control).
    /// Checked on open: unknown models are [`Error::UnknownModel`]; the
    /// where objects are validated on each call like any `where`.
    pub fn filters(mut self, filters: serde_json::Value) -> Self {
        self.filters = Some(filters);
        self
    }

    /// The key of `@encrypted` / `@secret` fields: 64 hexadecimal characters
    /// (32 bytes), as the README's `encryptionKey`. Values are stored
    /// AES-256-GCM encrypted and decrypted on read (for `as_system()`
    /// handles: encrypted fields are guarded). Without a key, writing an
    /// encrypted field is a [`Error::Validation`] error (nothing is stored
    /// in plain text). Rotate with [`Client::rotate_key`](super::Client::rotate_key).
    pub fn encryption_key(mut self, hex: &str) -> Self {
        self.encryption_key = Some(hex.to_string());
        self
    }

    /// Calls `f` for every committed write (README `onEvent`): the model,
    /// the action (`create`, `update`, `remove`, `delete`, `restore`), the
    /// rows single-row writes returned and the count. Inside a transaction
    /// events are delivered after COMMIT, and dropped on rollback. Runs on
    /// the calling task: keep it short (hand work to a channel).
    pub fn on_event(mut self, f: impl Fn(&super::WriteEvent) + Send + Sync + 'static) -> Self {
        self.event_listeners.push(Arc::new(f));
        self
    }

    /// Adds metadata to every audit-log entry (README `onLog`): `f` gets the
    /// entry (model, action, recordId, …) and the caller's auth, and returns
    /// a JSON value stored in the entry's `meta` field (`null`: none).
    pub fn on_log(
        mut self,
        f: impl Fn(&serde_json::Value, Option<&serde_json::Value>) -> serde_json::Value
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.on_log = Some(Arc::new(f));
        self
    }

    /// A hook run on every data object a write is given, before validation
    /// (README `hooks.before`): `f(model, action, &mut data)` with action
    /// `create`, `update`, `upsert`, … — normalise, stamp, or fill fields.
    pub fn before_write(
        mut self,
        f: impl Fn(&str, &str, &mut serde_json::Map<String, serde_json::Value>) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.before.push(Arc::new(f));
        self
    }

    /// A hook run on every row a model call returns, after computed fields
    /// (README `hooks.after`): `f(model, &mut row)` — mask, rename, derive.
    /// Typed calls decode after it.
    pub fn after_read(
        mut self,
        f: impl Fn(&str, &mut serde_json::Map<String, serde_json::Value>) + Send + Sync + 'static,
    ) -> Self {
        self.hooks.after.push(Arc::new(f));
        self
    }

    /// Stores `File` / `File[]` uploads (`{"data": base64, "name", "type"}`)
    /// under the local directory `dir`; refs get `url` = `base_url` + key
    /// (README "File storage", local provider).
    pub fn file_storage(mut self, dir: &str, base_url: &str) -> Self {
        self.files = Some(super::files::local(dir, base_url));
        self
    }

    /// The function of the `@computed` field `model.field`: it gets each
    /// row as read (a JSON object) and returns the field's value, added to
    /// every row the model's calls return (README "Computed fields").
    /// Checked on open: the field must be declared `@computed`.
    pub fn computed(
        mut self,
        model: &str,
        field: &str,
        f: impl Fn(&serde_json::Map<String, serde_json::Value>) -> serde_json::Value
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.hooks
            .fields
            .entry(model.to_string())
            .or_default()
            .push((field.to_string(), Arc::new(f)));
        self
    }

    /// A `$validate` rule of `model`: `check` gets the `data` of every
    /// create / update / upsert (each row of the bulk forms) and returns
    /// whether it is valid; when not, the call fails with
    /// [`Error::Validation`] (rule `$validate`, this `message`, `path` —
    /// dot-separated — as the field) and nothing is written.
    pub fn validate(
        mut self,
        model: &str,
        path: &str,
        message: &str,
        check: impl Fn(&serde_json::Map<String, serde_json::Value>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.hooks
            .rules
            .entry(model.to_string())
            .or_default()
            .push(super::computed::Rule {
                check: Arc::new(check),
                message: message.to_string(),
                path: path.split('.').map(str::to_string).collect(),
            });
        self
    }

    /// Registers the read scope `name` on `model` (README "Scopes"): an
    /// object of `find_many` arguments applied by
    /// `client.model(model).scope(name)`. Wheres AND-merge with the
    /// caller's; other keys are overridden by the caller's. Checked on open
    /// (unknown model or field, a name that shadows a method or relation).
    pub fn scope(mut self, model: &str, name: &str, args: serde_json::Value) -> Self {
        self.scopes.push((
            model.to_string(),
            name.to_string(),
            super::scope::ScopeDef::Static(args),
        ));
        self
    }

    /// Registers a dynamic read scope: `f` receives the caller's auth
    /// (`None` without `set_auth`) and returns the `find_many` arguments,
    /// e.g. `|auth| json!({"where": {"ownerId": auth.and_then(|a| a.get("id"))}})`.
    pub fn scope_fn(
        mut self,
        model: &str,
        name: &str,
        f: impl Fn(Option<&serde_json::Value>) -> serde_json::Value + Send + Sync + 'static,
    ) -> Self {
        self.scopes.push((
            model.to_string(),
            name.to_string(),
            super::scope::ScopeDef::Dynamic(Arc::new(f)),
        ));
        self
    }

    /// Parses the schema, opens every SQLite database and starts its actors.
    ///
    /// # Errors
    /// [`Error::Schema`] for schema problems; SQLite errors opening a file;
    /// [`Error::InvalidArgs`] when no schema or no main database path is given.
    pub async fn open(self) -> Result<Client> {
        let schema = match (&self.schema_src, &self.schema_file) {
            (Some(src), _) => schema::parse(src)?,
            (None, Some(path)) => schema::parse_file(path)?,
            (None, None) => {
                return Err(Error::invalid_args(
                    "schema",
                    "no schema given: call .schema(src) or .schema_file(path)",
                ));
            }
        };
        crate::query::policy::validate(&schema)?;
        self.hooks.validate(&schema)?;
        let crypto = match &self.encryption_key {
            Some(k) => Some(crate::codec::crypto::Crypto::from_hex(k)?),
            None => None,
        };
        for m in &schema.models {
            for f in m.fields.iter().filter(|f| f.encrypted.is_some()) {
                let kind = crate::codec::Kind::of(f);
                if kind.base != crate::codec::Base::Text || kind.list {
                    return Err(Error::invalid_args(
                        format!("{}.{}", m.name, f.name),
                        "@encrypted / @secret fields must be Text",
                    ));
                }
            }
        }
        let mut scopes = super::scope::Scopes::new();
        for (model, name, def) in &self.scopes {
            super::scope::validate(&schema, model, name, def)?;
            if let (super::scope::ScopeDef::Static(args), Some(m)) = (def, schema.model(model)) {
                let cx = crate::query::Cx {
                    schema: &schema,
                    auth: None,
                    system: true,
                    cache: None,
                    crypto: crypto.as_ref(),
                };
                crate::query::compile(&cx, m, crate::query::Op::FindMany, args).map_err(|e| {
                    Error::invalid_args(format!("scopes.{model}.{name}"), e.to_string())
                })?;
            }
            let slot = scopes.entry(model.clone()).or_default();
            if slot.insert(name.clone(), def.clone()).is_some() {
                return Err(Error::invalid_args(
                    format!("scopes.{model}.{name}"),
                    "registered twice",
                ));
            }
        }
        let mut filters = HashMap::new();
        match &self.filters {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(o)) => {
                for (name, w) in o {
                    if schema.model(name).is_none() {
                        return Err(Error::UnknownModel {
                            model: name.clone(),
                        });
                    }
                    if !w.is_object() {
                        return Err(Error::invalid_args(
                            format!("filters.{name}"),
                            "expected a where object",
                        ));
                    }
                    filters.insert(name.clone(), w.clone());
                }
            }
            Some(_) => {
                return Err(Error::invalid_args(
                    "filters",
                    "expected an object of model name: where",
                ));
            }
        }
        let readers = self.readers.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                .max(2)
        });
        let mut paths: HashMap<String, String> = HashMap::new();
        let mut jsonl: HashMap<String, std::path::PathBuf> = HashMap::new();
        for db in &schema.databases {
            let Some(p) = db.path.as_ref().and_then(|p| p.resolve()) else {
                continue;
            };
            match db.driver {
                Driver::Sqlite => {
                    paths.insert(db.name.clone(), p);
                }
                // The audit logger keeps its entries in a SQLite file: the
                // path itself when it names a file, else `<dir>/<name>.db`.
                Driver::Logger => {
                    paths.insert(db.name.clone(), super::audit::logger_file(&db.name, &p)?);
                }
                // Queried in memory, stored as `<dir>/<model>.jsonl`.
                Driver::Jsonl => {
                    std::fs::create_dir_all(&p).map_err(|e| {
                        Error::invalid_args(
                            format!("database.{}.path", db.name),
                            format!("cannot create the JSONL directory: {e}"),
                        )
                    })?;
                    jsonl.insert(db.name.clone(), std::path::PathBuf::from(&p));
                    paths.insert(db.name.clone(), ":memory:".to_string());
                }
            }
        }
        if let Some(p) = &self.db_path {
            paths.insert("main".to_string(), p.clone());
        }
        if !paths.contains_key("main") {
            return Err(Error::invalid_args(
                "db_path",
                "no main database: call .db_path(path) or declare `database main { path ... }`",
            ));
        }
        let mut databases = HashMap::new();
        for (name, path) in paths {
            let rt = Runtime::open(RuntimeConfig {
                path,
                readers,
                pragmas: self.pragmas.clone(),
                statement_cache: self.statement_cache.unwrap_or(128),
                extensions: self.extensions.clone(),
                init: crypto
                    .iter()
                    .map(|c| {
                        let c = c.clone();
                        let f: crate::runtime::ConnInit = Arc::new(move |conn| c.register(conn));
                        f
                    })
                    .collect(),
            })
            .await?;
            databases.insert(name, rt);
        }
        let schema = Arc::new(schema);
        let client = Client {
            inner: Arc::new(ClientInner {
                schema,
                databases,
                listeners: self.listeners,
                observers: Default::default(),
                gate: self.gate,
                filters,
                query_cache: Default::default(),
                locks: super::lock::LockRegistry::new(),
                tx_timeout: self
                    .tx_timeout
                    .unwrap_or(crate::runtime::DEFAULT_TX_TIMEOUT),
                scopes,
                crypto,
                hooks: self.hooks,
                event_listeners: self.event_listeners,
                on_log: self.on_log,
                files: self.files,
                jsonl,
            }),
            ctx: Ctx::default(),
        };
        if self.auto_migrate {
            // Dev push of every SQLite database: non-destructive, no renames.
            client.push().await?;
        }
        if !client.inner.jsonl.is_empty() {
            client.load_jsonl().await?;
        }
        if client
            .inner
            .schema
            .databases
            .iter()
            .any(|d| d.driver == Driver::Logger)
        {
            if let Err(e) = client.apply_retention().await {
                // The log's table may not exist yet (no push, no migration).
                tracing::warn!(error = %e, "audit log retention was not applied");
            }
        }
        Ok(client)
    }
}
