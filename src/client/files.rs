//! File fields (`File`, `File[]`, README "File storage") with a local
//! storage directory (`ClientBuilder::file_storage(dir, base_url)`).
//!
//! - A write may give a File field an *upload*: `{"data": "<base64>",
//!   "name": "a.png", "type": "image/png"}`. The bytes are stored as
//!   `<dir>/<model>/<field>/<uuid>-<name>` and the column gets the *ref*
//!   `{"key", "name", "type", "size", "url"}` (`url` = base_url + key).
//!   A ref (an object with `key`) is stored as given. `File[]` takes an
//!   array of either.
//! - `@accept("image/*,application/pdf")` is checked against the upload's
//!   `type` before anything is stored (`Validation`, rule `accept`).
//! - Files stored for a write that then fails are deleted again.
//! - Replacing a File value in `update` / `upsert` deletes the old objects
//!   after the write commits, unless the field has `@keepVersions`; hard
//!   deletes (`delete`, `delete_many`, `remove*` without soft delete)
//!   delete the rows' objects after the write commits. Soft deletes keep
//!   them (the row can be restored).
//! - Without `file_storage`, an upload is a `Validation` error; refs pass.
//! - S3/R2 providers are not built: only the local directory.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::Client;
use crate::error::{Error, Result};
use crate::query::Op;
use crate::schema::{Field, Model, ScalarType};

/// Where files go.
#[derive(Debug, Clone)]
pub(crate) struct LocalStorage {
    pub(crate) dir: PathBuf,
    pub(crate) base_url: String,
}

/// The public URL of a stored file ref (`{"url": …}` or base URL + key).
pub fn file_url(file_ref: &Value) -> Option<String> {
    file_ref
        .get("url")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The URLs of a `File[]` value.
pub fn file_urls(refs: &Value) -> Vec<String> {
    refs.as_array()
        .map(|a| a.iter().filter_map(file_url).collect())
        .unwrap_or_default()
}

fn is_file(f: &Field) -> bool {
    f.scalar() == Some(ScalarType::File)
}

fn accepts(pattern: &str, mime: &str) -> bool {
    pattern.split(',').map(str::trim).any(|p| {
        p == "*/*"
            || p.eq_ignore_ascii_case(mime)
            || p.strip_suffix("/*").is_some_and(|prefix| {
                mime.split('/')
                    .next()
                    .is_some_and(|m| m.eq_ignore_ascii_case(prefix))
            })
    })
}

fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "file".into() } else { s }
}

/// The keys (storage paths) of the refs in a File / File[] value.
fn keys_of(v: &Value) -> Vec<String> {
    match v {
        Value::Object(o) => o
            .get("key")
            .and_then(Value::as_str)
            .map(|k| vec![k.to_string()])
            .unwrap_or_default(),
        Value::Array(a) => a.iter().flat_map(keys_of).collect(),
        Value::String(s) => serde_json::from_str::<Value>(s)
            .map(|v| keys_of(&v))
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

impl LocalStorage {
    fn path_of(&self, key: &str) -> Option<PathBuf> {
        // Keys are ours (`model/field/uuid-name`); refuse anything escaping.
        if key.split('/').any(|p| p == ".." || p.is_empty()) || key.starts_with('/') {
            return None;
        }
        Some(self.dir.join(key))
    }

    fn store(
        &self,
        m: &Model,
        f: &Field,
        up: &Map<String, Value>,
        path: &str,
        pending: &mut Vec<(PathBuf, Vec<u8>)>,
    ) -> Result<Value> {
        let bad = |rule: &str, msg: String| Error::validation(&m.name, &f.name, rule, msg);
        let data = up
            .get("data")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("file", format!("{path}: expected base64 `data`")))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| bad("file", format!("{path}: `data` is not base64: {e}")))?;
        let name = up.get("name").and_then(Value::as_str).unwrap_or("file");
        let mime = up
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("application/octet-stream");
        if let Some(acc) = &f.accept
            && !accepts(acc, mime)
        {
            return Err(bad(
                "accept",
                format!("{path}: type `{mime}` is not accepted ({acc})"),
            ));
        }
        let key = format!(
            "{}/{}/{}-{}",
            safe_name(&m.name),
            safe_name(&f.name),
            uuid::Uuid::new_v4().simple(),
            safe_name(name)
        );
        let full = self
            .path_of(&key)
            .ok_or_else(|| bad("file", "bad storage key".into()))?;
        let r = json!({
            "key": key,
            "name": name,
            "type": mime,
            "size": bytes.len(),
            "url": format!("{}{}", self.base_url, key),
        });
        // Written by `write_pending` on a blocking thread.
        pending.push((full, bytes));
        Ok(r)
    }

    /// Deletes stored objects (missing ones are fine).
    pub(crate) fn delete(&self, keys: &[String]) {
        for k in keys {
            if let Some(p) = self.path_of(k)
                && let Err(e) = std::fs::remove_file(&p)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(key = %k, error = %e, "could not delete a stored file");
            }
        }
    }
}

/// Files stored for one write, and old ones to delete once it commits.
#[derive(Debug, Default)]
pub(crate) struct FileWork {
    pub(crate) stored: Vec<String>,
    pub(crate) replaced: Vec<String>,
    /// Uploads decoded and checked, not yet on disk.
    pending: Vec<(PathBuf, Vec<u8>)>,
}

impl Client {
    fn storage(&self) -> Option<&LocalStorage> {
        self.inner.files.as_ref()
    }

    /// Whether `model` has File / File[] fields.
    pub(crate) fn has_files(&self, model: &str) -> bool {
        self.inner
            .schema
            .model(model)
            .is_some_and(|m| m.fields.iter().any(is_file))
    }

    /// Stores the uploads of a write's data and swaps them for refs.
    pub(crate) fn store_uploads(
        &self,
        model: &str,
        op: Op,
        args: &mut Value,
        work: &mut FileWork,
    ) -> Result<()> {
        let schema = self.inner.schema.clone();
        let Some(m) = schema.model(model) else {
            return Ok(());
        };
        if !m.fields.iter().any(is_file) || !op.is_write() {
            return Ok(());
        }
        for key in ["data", "create", "update"] {
            let Some(v) = args.get_mut(key) else { continue };
            let objs: Vec<&mut Map<String, Value>> = match v {
                Value::Object(o) => vec![o],
                Value::Array(a) => a.iter_mut().filter_map(Value::as_object_mut).collect(),
                _ => Vec::new(),
            };
            for o in objs {
                for f in m.fields.iter().filter(|f| is_file(f)) {
                    let Some(val) = o.get_mut(&f.name) else {
                        continue;
                    };
                    let path = format!("{key}.{}", f.name);
                    let items: Vec<&mut Value> = match val {
                        Value::Array(a) if f.list => a.iter_mut().collect(),
                        other => vec![other],
                    };
                    for item in items {
                        let Value::Object(up) = item else { continue };
                        if !up.contains_key("data") || up.contains_key("key") {
                            continue;
                        }
                        let Some(st) = self.storage() else {
                            return Err(Error::validation(
                                &m.name,
                                &f.name,
                                "file",
                                format!("{path}: an upload needs ClientBuilder::file_storage"),
                            ));
                        };
                        let r = st.store(m, f, up, &path, &mut work.pending)?;
                        work.stored.extend(keys_of(&r));
                        *item = r;
                    }
                }
            }
        }
        Ok(())
    }

    /// The stored-file keys of the rows a write is about to replace or
    /// delete (read before the write; as system).
    pub(crate) async fn files_to_release(
        &self,
        model: &str,
        op: Op,
        args: &Value,
    ) -> Result<Vec<String>> {
        let schema = self.inner.schema.clone();
        let Some(m) = schema.model(model) else {
            return Ok(Vec::new());
        };
        if self.storage().is_none() {
            return Ok(Vec::new());
        }
        let hard = match op {
            Op::Delete | Op::DeleteMany => true,
            Op::Remove | Op::RemoveMany => m.soft_delete.is_none(),
            _ => false,
        };
        let data_fields: Vec<&Field> = match op {
            Op::Update | Op::UpdateMany | Op::Upsert => {
                let data = args
                    .get(if op == Op::Upsert { "update" } else { "data" })
                    .and_then(Value::as_object);
                m.fields
                    .iter()
                    .filter(|f| is_file(f) && !f.keep_versions)
                    .filter(|f| data.is_some_and(|d| d.contains_key(&f.name)))
                    .collect()
            }
            _ if hard => m.fields.iter().filter(|f| is_file(f)).collect(),
            _ => Vec::new(),
        };
        if data_fields.is_empty() {
            return Ok(Vec::new());
        }
        let mut select = Map::new();
        for f in &data_fields {
            select.insert(f.name.clone(), Value::Bool(true));
        }
        let mut read = json!({"select": select});
        if let Some(w) = args.get("where") {
            read["where"] = w.clone();
        }
        let sys = Client {
            inner: self.inner.clone(),
            ctx: super::Ctx {
                system: true,
                tx: self.ctx.tx.clone(),
                ..super::Ctx::default()
            },
        };
        // Straight to the runtime (not through `Model::find_many`, whose
        // future would contain this one).
        let (plan, db) = sys.model(model).prepare(Op::FindMany, &read)?;
        let rows = sys
            .run_read(&db, move |c| {
                crate::exec::run(c, &plan, &mut crate::exec::Log::new(false))
            })
            .await?;
        let mut keys = Vec::new();
        for r in rows.as_array().into_iter().flatten() {
            for f in &data_fields {
                if let Some(v) = r.get(&f.name) {
                    keys.extend(keys_of(v));
                }
            }
        }
        Ok(keys)
    }

    /// Writes the checked uploads to disk (on a blocking thread, never on
    /// the caller's tokio worker).
    pub(crate) async fn write_pending(&self, work: &mut FileWork) -> Result<()> {
        let pending = std::mem::take(&mut work.pending);
        if pending.is_empty() {
            return Ok(());
        }
        tokio::task::spawn_blocking(move || {
            for (full, bytes) in pending {
                if let Some(parent) = full.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&full, &bytes)?;
            }
            Ok::<(), std::io::Error>(())
        })
        .await
        .map_err(|e| Error::closed(format!("the file writer stopped: {e}")))?
        .map_err(|e| Error::invalid_args("data", format!("cannot store an uploaded file: {e}")))
    }

    /// After a write: deletes what it replaced (success) or what it stored
    /// (failure), on a blocking thread.
    pub(crate) async fn finish_files(&self, work: FileWork, ok: bool, result: Option<&Value>) {
        let Some(st) = self.storage().cloned() else {
            return;
        };
        let gone: Vec<String> = if ok {
            // Keep anything the new values still reference.
            let keep: Vec<String> = result.map(keys_of_deep).unwrap_or_default();
            work.replaced
                .into_iter()
                .filter(|k| !keep.contains(k))
                .collect()
        } else {
            work.stored
        };
        if gone.is_empty() {
            return;
        }
        let _ = tokio::task::spawn_blocking(move || st.delete(&gone)).await;
    }
}

/// Every ref key anywhere in a JSON value.
fn keys_of_deep(v: &Value) -> Vec<String> {
    let mut out = keys_of(v);
    match v {
        Value::Object(o) => {
            for x in o.values() {
                out.extend(keys_of_deep(x));
            }
        }
        Value::Array(a) => {
            for x in a {
                out.extend(keys_of_deep(x));
            }
        }
        _ => {}
    }
    out
}

/// The storage directory for a configured root.
pub(crate) fn local(dir: &str, base_url: &str) -> LocalStorage {
    LocalStorage {
        dir: Path::new(dir).to_path_buf(),
        base_url: base_url.to_string(),
    }
}
