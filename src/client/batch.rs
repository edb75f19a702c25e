//! `client.query(spec)` (README "Multi-model — db.query(spec)"): many named
//! per-model queries, each routed like `model.query(args)`, run in ONE read
//! snapshot (one reader closure inside `BEGIN … COMMIT`, or the pinned
//! writer inside a transaction). Entry keys name the results; an entry's
//! `model:` picks the model (aliasing), else the key is the model name. The
//! batch fails as a whole: the first error (compile or run) is returned and
//! no partial result is.
//!
//! Every entry must live in the same database block (one snapshot spans one
//! file); mixing databases is an `InvalidArgs` at the offending entry.

use serde_json::{Map, Value};
use tracing::Instrument as _;

use super::{Client, QueryEvent};
use crate::error::{Error, Result};
use crate::exec::{self, Log};
use crate::query::{self, Cx, Op};

impl Client {
    /// Runs a multi-model read spec in one snapshot and returns the named
    /// results: `{"users": {"where": …}, "revenue": {"model": "orders",
    /// "by": ["status"], "_count": true}}` → `{"users": [...], "revenue":
    /// [...]}`.
    ///
    /// # Errors
    /// `InvalidArgs` for a spec that is not an object of objects (path = the
    /// entry key), `UnknownModel`, any argument error of an entry (its path
    /// prefixed with the entry key), and SQLite errors; the first one fails
    /// the whole batch.
    ///
    /// # Cancel safety
    /// Dropping the future abandons the reply; the read snapshot is
    /// committed on the actor thread either way (it changes nothing).
    pub async fn query(&self, spec: Value) -> Result<Value> {
        let Value::Object(entries) = spec else {
            return Err(Error::invalid_args("", "expected {name: args, …}"));
        };
        let schema = &self.inner.schema;
        let cx = Cx {
            schema,
            auth: self.ctx.auth.as_deref(),
            system: self.ctx.system,
            cache: Some(&self.inner.query_cache),
            crypto: self.inner.crypto.as_ref(),
        };
        let mut plans = Vec::with_capacity(entries.len());
        let mut db: Option<String> = None;
        for (name, args) in entries {
            let Value::Object(mut o) = args else {
                return Err(Error::invalid_args(name, "expected an arguments object"));
            };
            let model_name = match o.remove("model") {
                None => name.clone(),
                Some(Value::String(m)) => m,
                Some(_) => {
                    return Err(Error::invalid_args(
                        format!("{name}.model"),
                        "expected a model name",
                    ));
                }
            };
            let model = schema
                .model(&model_name)
                .ok_or_else(|| Error::UnknownModel {
                    model: model_name.clone(),
                })?;
            let this_db = model.database.clone().unwrap_or_else(|| "main".into());
            match &db {
                Some(d) if *d != this_db => {
                    return Err(Error::invalid_args(
                        name,
                        format!("`{model_name}` lives in database `{this_db}`, the batch in `{d}`"),
                    ));
                }
                Some(_) => {}
                None => db = Some(this_db),
            }
            let args = Value::Object(o);
            // The same gate and global filters as a single model call.
            query::gate::check(
                schema,
                model,
                Op::Query,
                &args,
                &query::gate::Caller {
                    auth: cx.auth,
                    system: cx.system,
                    gate: self.inner.gate.as_ref(),
                },
            )
            .map_err(|e| prefix(e, &name))?;
            let filtered = query::policy::global_filters(schema, model, &args, &self.inner.filters);
            let plan = query::compile(&cx, model, Op::Query, filtered.as_ref().unwrap_or(&args))
                .map_err(|e| prefix(e, &name))?;
            plans.push((name, model_name, args, plan));
        }
        let db = db.unwrap_or_else(|| "main".into());
        let observed = self.observed();
        let span = tracing::debug_span!("litestone.query", operation = "query", database = %db);
        let jobs: Vec<(String, crate::sql::Plan)> = plans
            .iter()
            .map(|(n, _, _, p)| (n.clone(), p.clone()))
            .collect();
        let (out, logs) = self
            .run_read(&db, move |conn| {
                let mut logs = Vec::new();
                let begin = conn.is_autocommit();
                if begin {
                    conn.execute_batch("BEGIN")?;
                }
                let mut run = || -> Result<Map<String, Value>> {
                    let mut out = Map::new();
                    for (name, plan) in &jobs {
                        let mut log = Log::new(observed);
                        let v = exec::run(conn, plan, &mut log)?;
                        logs.push((name.clone(), log.entries));
                        out.insert(name.clone(), v);
                    }
                    Ok(out)
                };
                let r = run();
                if begin {
                    match &r {
                        Ok(_) => conn.execute_batch("COMMIT")?,
                        Err(_) => {
                            let _ = conn.execute_batch("ROLLBACK");
                        }
                    }
                }
                Ok((r?, logs))
            })
            .instrument(span)
            .await?;
        if observed {
            for (name, entries) in logs {
                let Some((_, model, args, _)) = plans.iter().find(|(n, ..)| *n == name) else {
                    continue;
                };
                for l in entries {
                    self.emit(&QueryEvent {
                        model: Some(model.clone()),
                        operation: Op::Query.name().to_string(),
                        database: db.clone(),
                        actor_id: self.actor_id(),
                        sql: l.sql.to_string(),
                        params: l.params.iter().map(exec::param_json).collect(),
                        duration: l.duration_ms,
                        row_count: l.rows,
                        args: args.clone(),
                    });
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Prefixes the JSON path of an argument error with the entry key.
fn prefix(e: Error, name: &str) -> Error {
    match e {
        Error::InvalidArgs { path, message } => Error::InvalidArgs {
            path: if path.is_empty() {
                name.to_string()
            } else {
                format!("{name}.{path}")
            },
            message,
        },
        Error::UnknownField { model, field, path } => Error::UnknownField {
            model,
            field,
            path: format!("{name}.{path}"),
        },
        other => other,
    }
}
