//! Audit logging (README `@@log(db)`, `@log(db)`, `@secret`, and the
//! `driver logger` database).
//!
//! A `driver logger` database is a SQLite file (the block's path when it
//! names a file, else `<dir>/<name>.db`) holding one synthesized model,
//! `auditLogs` (`<db>AuditLogs` when there are several loggers), queried
//! like any model: `client.model("auditLogs").find_many(…)`. Its rows:
//! `model`, `action` (`create`/`update`/`upsert`/`remove`/`delete`/
//! `restore`), `operation` (the call), `recordId` (the written row's primary
//! key, single-row writes), `actorId` (`auth().id`), `fields` (the fields
//! the call wrote), `data` and `createdAt`.
//!
//! - `@@log(db)` on a model: one entry per committed write call. `data` is
//!   the row the write returned (single-row writes), or `{count, where}`
//!   for bulk writes. Encrypted and guarded values never enter the log.
//! - `@log(db)` on a field (and `@secret`): an entry when a write's `data`
//!   names the field (`fields` lists them), without its value.
//! - Entries are written after the write commits (inside a transaction:
//!   after COMMIT; rolled-back work, savepoints included, is never logged),
//!   before the call returns. The log lives in another file, so a crash
//!   between the two can lose an entry; a failing log write is reported
//!   through `tracing` and does not fail the committed call.
//! - `retention 30d` (units `m`, `h`, `d`, `w`) deletes older entries when
//!   the client opens.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use super::{Client, Ctx};
use crate::error::{Error, Result};
use crate::query::Op;
use crate::schema::Driver;

/// `on_log`: the entry and the caller's auth in, the entry's `meta` out.
pub(crate) type LogMetaFn = std::sync::Arc<dyn Fn(&Value, Option<&Value>) -> Value + Send + Sync>;

/// One pending log row for the audit model `log_model`.
#[derive(Debug, Clone)]
pub(crate) struct AuditEntry {
    pub(crate) log_model: String,
    pub(crate) row: Value,
}

/// The SQLite file of a logger database declared with `path`.
pub(crate) fn logger_file(name: &str, path: &str) -> Result<String> {
    let p = Path::new(path);
    let dir_like = path.ends_with('/') || p.is_dir() || p.extension().is_none();
    let io = |e: std::io::Error| {
        Error::invalid_args(
            format!("database.{name}.path"),
            format!("cannot create the logger directory: {e}"),
        )
    };
    if dir_like {
        std::fs::create_dir_all(p).map_err(io)?;
        Ok(p.join(format!("{name}.db")).to_string_lossy().into_owned())
    } else {
        if let Some(parent) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        Ok(path.to_string())
    }
}

/// The README's event/audit action of a write operation.
pub(crate) fn action(op: Op) -> &'static str {
    match op {
        Op::Create | Op::CreateMany => "create",
        Op::Update | Op::UpdateMany => "update",
        Op::Upsert | Op::UpsertMany => "upsert",
        Op::Remove | Op::RemoveMany => "remove",
        Op::Delete | Op::DeleteMany => "delete",
        Op::Restore => "restore",
        _ => "change",
    }
}

impl Client {
    /// A handle for the log itself: system, outside any transaction.
    fn log_handle(&self) -> Client {
        Client {
            inner: self.inner.clone(),
            ctx: Ctx {
                system: true,
                ..Ctx::default()
            },
        }
    }

    /// Whether writes to `model` may produce audit entries.
    pub(crate) fn audited(&self, model: &str) -> bool {
        self.inner
            .schema
            .model(model)
            .is_some_and(|m| m.log.is_some() || m.fields.iter().any(|f| f.log.is_some()))
    }

    /// The audit entries of a committed write call.
    pub(crate) fn audit_entries(
        &self,
        model: &str,
        op: Op,
        args: &Value,
        result: &Value,
    ) -> Vec<AuditEntry> {
        let schema = &self.inner.schema;
        let Some(m) = schema.model(model) else {
            return Vec::new();
        };
        let is_logger = |db: &str| {
            schema
                .database(db)
                .is_some_and(|d| d.driver == Driver::Logger)
                && self.inner.databases.contains_key(db)
        };
        // Fields the call wrote.
        let mut written: Vec<String> = Vec::new();
        for key in ["data", "create", "update"] {
            let mut add = |o: &Map<String, Value>| {
                for k in o.keys() {
                    if m.field(k).is_some() && !written.contains(k) {
                        written.push(k.clone());
                    }
                }
            };
            match args.get(key) {
                Some(Value::Object(o)) => add(o),
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_object).for_each(&mut add),
                _ => {}
            }
        }
        // Targets: the model's log, and each field log naming a written field.
        let mut targets: BTreeMap<String, Vec<String>> = BTreeMap::new();
        if let Some(db) = m.log.as_deref().filter(|db| is_logger(db)) {
            targets
                .entry(db.to_string())
                .or_default()
                .extend(written.iter().cloned());
        }
        for f in m.fields.iter().filter(|f| f.log.is_some()) {
            let db = f.log.as_deref().unwrap_or_default();
            if is_logger(db) && written.contains(&f.name) {
                let v = targets.entry(db.to_string()).or_default();
                if !v.contains(&f.name) {
                    v.push(f.name.clone());
                }
            }
        }
        if targets.is_empty() {
            return Vec::new();
        }
        let bulk = matches!(
            op,
            Op::CreateMany | Op::UpdateMany | Op::UpsertMany | Op::RemoveMany | Op::DeleteMany
        );
        let rows: Vec<&Map<String, Value>> = match result {
            Value::Array(a) => a.iter().filter_map(Value::as_object).collect(),
            Value::Object(o) if !bulk => vec![o],
            _ => Vec::new(),
        };
        let pk: Vec<&str> = m
            .primary_key
            .iter()
            .map(|id| m.field_by_id(*id).name.as_str())
            .collect();
        let record_id = |r: &Map<String, Value>| -> Value {
            let vals: Vec<String> = pk
                .iter()
                .filter_map(|k| r.get(*k))
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            if vals.is_empty() {
                Value::Null
            } else {
                Value::String(vals.join(","))
            }
        };
        let secret = |k: &str| {
            m.field(k).is_some_and(|f| {
                f.encrypted.is_some() || f.guarded != crate::schema::Visibility::None
            })
        };
        let actor = self
            .actor_id()
            .map(|v| match v {
                Value::String(s) => Value::String(s.clone()),
                other => Value::String(other.to_string()),
            })
            .unwrap_or(Value::Null);
        let mut out = Vec::new();
        for (db, fields) in targets {
            let log_model = crate::schema::audit_model_name(schema, &db);
            let model_level = m.log.as_deref() == Some(db.as_str());
            let base = |record: Value, data: Value| {
                let mut e = json!({
                    "model": m.name,
                    "action": action(op),
                    "operation": op.name(),
                    "recordId": record,
                    "actorId": actor.clone(),
                    "fields": fields.clone(),
                    "data": data,
                });
                if let Some(f) = &self.inner.on_log {
                    match super::computed::run_user("on_log", || f(&e, self.ctx.auth.as_deref())) {
                        Ok(meta) => e["meta"] = meta,
                        Err(err) => tracing::error!(error = %err, "on_log failed"),
                    }
                }
                e
            };
            if bulk || rows.is_empty() {
                let data = if model_level {
                    json!({
                        "count": result.get("count").cloned().unwrap_or(Value::Null),
                        "where": args.get("where").cloned().unwrap_or(Value::Null),
                    })
                } else {
                    Value::Null
                };
                out.push(AuditEntry {
                    log_model: log_model.clone(),
                    row: base(Value::Null, data),
                });
                continue;
            }
            for r in &rows {
                let data = if model_level {
                    Value::Object(
                        r.iter()
                            .filter(|(k, _)| !secret(k))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    )
                } else {
                    Value::Null
                };
                out.push(AuditEntry {
                    log_model: log_model.clone(),
                    row: base(record_id(r), data),
                });
            }
        }
        out
    }

    /// Writes audit entries (one `create_many` per log model).
    pub(crate) async fn write_audit(&self, entries: Vec<AuditEntry>) {
        let mut by_model: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for e in entries {
            by_model.entry(e.log_model).or_default().push(e.row);
        }
        let log = self.log_handle();
        for (model, rows) in by_model {
            // Straight to the log's writer (not through `Model::create_many`,
            // whose future would contain this one).
            let m = log.model(&model);
            let r = match m.prepare(Op::CreateMany, &json!({ "data": rows })) {
                Ok((plan, db)) => match log.runtime(&db) {
                    Ok(rt) => {
                        rt.write(move |c| {
                            crate::exec::run(c, &plan, &mut crate::exec::Log::new(false))
                        })
                        .await
                    }
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            if let Err(e) = r {
                tracing::error!(error = %e, model = %model, "writing audit entries failed");
            }
        }
    }

    /// Deletes audit entries past their database's `retention`.
    pub(crate) async fn apply_retention(&self) -> Result<()> {
        let schema = self.inner.schema.clone();
        let log = self.log_handle();
        for d in schema
            .databases
            .iter()
            .filter(|d| d.driver == Driver::Logger)
        {
            let Some(secs) = d
                .retention
                .as_deref()
                .and_then(super::jsonl::retention_secs)
            else {
                continue;
            };
            if !self.inner.databases.contains_key(&d.name) {
                continue;
            }
            let cutoff = crate::codec::datetime::now_minus_secs(secs);
            log.model(&crate::schema::audit_model_name(&schema, &d.name))
                .delete_many(json!({"where": {"createdAt": {"lt": cutoff}}}))
                .await?;
        }
        Ok(())
    }
}
