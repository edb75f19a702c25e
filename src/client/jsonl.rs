//! The `driver jsonl` database (README "Multi-database"): append-only JSON
//! Lines files, one `<model>.jsonl` per model in the block's directory.
//!
//! Design: the files are the durable store; queries run on a private
//! in-memory SQLite database (the block's runtime) holding the same rows,
//! loaded from the files when the client opens. So every read of the query
//! API works on JSONL models (`find_many` with where/orderBy/paging/select,
//! `count`, `aggregate`, `group_by`, cursors, …), and the schema's types,
//! defaults and validators apply to appended rows as to any model.
//! - Writes are `create` and `create_many` only: each row is inserted into
//!   memory, then appended to the file as the row read back (defaults and
//!   generated ids included), one line per row, flushed before the call
//!   returns. Updates and deletes are refused (`InvalidArgs`): the log is
//!   append-only. Appends are not part of transactions: a JSONL write inside
//!   a transaction on another database is appended at once.
//! - `retention 30d` (units `m`, `h`, `d`, `w`): at open, rows whose first
//!   DateTime field with a default (typically `createdAt`) is older are
//!   dropped and the file is rewritten without them.
//! - Memory holds every row of every file: meant for logs of moderate size.
//!   Lines that do not parse, or no longer fit the schema, are skipped at
//!   load with a warning (never a failed open).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::Client;
use crate::error::{Error, Result};
use crate::exec::{self, Log};
use crate::query::Op;
use crate::schema::{Driver, Model};

/// `30d` → seconds.
pub(crate) fn retention_secs(r: &str) -> Option<i64> {
    let r = r.trim();
    let (num, unit) = r.split_at(r.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let mult = match unit.trim() {
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    Some(n * mult)
}

fn file_of(dir: &Path, model: &Model) -> PathBuf {
    dir.join(format!("{}.jsonl", model.name))
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::invalid_args(
        "database.path",
        format!("JSONL file `{}`: {e}", path.display()),
    )
}

impl Client {
    /// The directory of the JSONL database `db`, when it is one.
    pub(crate) fn jsonl_dir(&self, db: &str) -> Option<&Path> {
        self.inner.jsonl.get(db).map(PathBuf::as_path)
    }

    /// Creates the JSONL models' tables in memory and loads their files.
    pub(crate) async fn load_jsonl(&self) -> Result<()> {
        let schema = self.inner.schema.clone();
        for d in schema
            .databases
            .iter()
            .filter(|d| d.driver == Driver::Jsonl)
        {
            let Some(dir) = self.inner.jsonl.get(&d.name).cloned() else {
                continue;
            };
            let cutoff = d
                .retention
                .as_deref()
                .and_then(retention_secs)
                .map(crate::codec::datetime::now_minus_secs);
            let models: Vec<&Model> = schema
                .models
                .iter()
                .filter(|m| m.database.as_deref() == Some(d.name.as_str()))
                .collect();
            let rt = self.runtime(&d.name)?;
            let mut ddl = Vec::new();
            for m in &models {
                // Not `model_statements`: that skips tables litestone does
                // not migrate, and JSONL tables are rebuilt at every open.
                ddl.push(crate::ddl::create_table(&schema, m));
                ddl.extend(crate::ddl::index_statements(&schema, m));
            }
            rt.exclusive(move |c| {
                for s in &ddl {
                    c.execute_batch(s)?;
                }
                Ok(())
            })
            .await?;
            for m in models {
                let path = file_of(&dir, m);
                let text = match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_err(&path, e)),
                };
                let stamp = m
                    .fields
                    .iter()
                    .find(|f| {
                        f.default.is_some()
                            && crate::codec::Kind::of(f).base == crate::codec::Base::DateTime
                    })
                    .map(|f| f.name.clone());
                let mut kept = Vec::new();
                let mut dropped = 0usize;
                for (i, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let Ok(Value::Object(row)) = serde_json::from_str::<Value>(line) else {
                        tracing::warn!(file = %path.display(), line = i + 1, "skipping a JSONL line that is not an object");
                        continue;
                    };
                    let old = match (&cutoff, &stamp) {
                        (Some(c), Some(f)) => row
                            .get(f)
                            .and_then(Value::as_str)
                            .is_some_and(|t| t < c.as_str()),
                        _ => false,
                    };
                    if old {
                        dropped += 1;
                    } else {
                        kept.push((line.to_string(), row));
                    }
                }
                let mut good_lines = Vec::with_capacity(kept.len());
                for (line, row) in kept {
                    match self.jsonl_insert(m, vec![Value::Object(row)]).await {
                        Ok(_) => good_lines.push(line),
                        Err(e) => {
                            tracing::warn!(file = %path.display(), error = %e, "skipping a JSONL row the schema refuses");
                        }
                    }
                }
                if dropped > 0 {
                    let mut body = good_lines.join("\n");
                    if !body.is_empty() {
                        body.push('\n');
                    }
                    std::fs::write(&path, body).map_err(|e| io_err(&path, e))?;
                }
            }
        }
        Ok(())
    }

    /// Inserts rows into the in-memory table (one `create` each, in one
    /// write) and returns them as read back.
    async fn jsonl_insert(&self, m: &Model, rows: Vec<Value>) -> Result<Vec<Value>> {
        let model = self.model(&m.name);
        let mut plans = Vec::with_capacity(rows.len());
        let mut db = String::new();
        for (i, r) in rows.into_iter().enumerate() {
            let (plan, d) =
                model
                    .prepare(Op::Create, &json!({ "data": r }))
                    .map_err(|e| match e {
                        Error::InvalidArgs { path, message } if !path.is_empty() => {
                            Error::InvalidArgs {
                                path: format!("data[{i}].{}", path.trim_start_matches("data.")),
                                message,
                            }
                        }
                        other => other,
                    })?;
            plans.push(plan);
            db = d;
        }
        if plans.is_empty() {
            return Ok(Vec::new());
        }
        self.runtime(&db)?
            .write(move |c| {
                plans
                    .iter()
                    .map(|p| exec::run(c, p, &mut Log::new(false)))
                    .collect::<Result<Vec<Value>>>()
            })
            .await
    }

    /// `create` / `create_many` on a JSONL model: insert in memory, then
    /// append the rows to the model's file.
    pub(crate) async fn jsonl_write(
        &self,
        model_name: &str,
        dir: &Path,
        op: Op,
        args: &Value,
    ) -> Result<Value> {
        let schema = self.inner.schema.clone();
        let m = schema
            .model(model_name)
            .ok_or_else(|| Error::UnknownModel {
                model: model_name.to_string(),
            })?;
        let data = args.get("data").cloned().unwrap_or(Value::Null);
        let rows: Vec<Value> = match (op, data) {
            (Op::Create, Value::Object(o)) => vec![Value::Object(o)],
            (Op::CreateMany, Value::Array(a)) => a,
            (Op::Create | Op::CreateMany, _) => {
                return Err(Error::invalid_args(
                    "data",
                    if op == Op::Create {
                        "expected an object"
                    } else {
                        "expected an array of objects"
                    },
                ));
            }
            _ => {
                return Err(Error::invalid_args(
                    "",
                    format!(
                        "`{model_name}` lives in a JSONL database: it is append-only (create, create_many and reads)"
                    ),
                ));
            }
        };
        let created = self.jsonl_insert(m, rows).await?;
        let path = file_of(dir, m);
        let mut body = String::new();
        for r in &created {
            body.push_str(&r.to_string());
            body.push('\n');
        }
        // File I/O on a blocking thread, not on the caller's tokio worker.
        let target = path.clone();
        tokio::task::spawn_blocking(move || {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&target)?;
            f.write_all(body.as_bytes())?;
            f.flush()
        })
        .await
        .map_err(|e| Error::closed(format!("the JSONL writer stopped: {e}")))?
        .map_err(|e| io_err(&path, e))?;
        Ok(match op {
            Op::CreateMany => json!({ "count": created.len() }),
            _ if args.get("select") == Some(&Value::Bool(false)) => Value::Null,
            _ => project(
                created.into_iter().next().unwrap_or(Value::Null),
                args.get("select").and_then(Value::as_object),
            ),
        })
    }
}

/// Keeps only the keys a `select` asks for (JSONL `create` results).
pub(crate) fn project(row: Value, select: Option<&Map<String, Value>>) -> Value {
    match (row, select) {
        (Value::Object(o), Some(s)) if s.values().any(|v| v == &Value::Bool(true)) => {
            Value::Object(
                o.into_iter()
                    .filter(|(k, _)| s.get(k) == Some(&Value::Bool(true)))
                    .collect(),
            )
        }
        (row, _) => row,
    }
}

#[cfg(test)]
mod tests {
    use super::retention_secs;

    #[test]
    fn retention_units() {
        assert_eq!(retention_secs("30d"), Some(30 * 86_400));
        assert_eq!(retention_secs("12h"), Some(12 * 3600));
        assert_eq!(retention_secs("2w"), Some(14 * 86_400));
        assert_eq!(retention_secs("5x"), None);
        assert_eq!(retention_secs("d"), None);
    }
}
