//! Runs a compiled [`Plan`] on a `&rusqlite::Connection` and shapes the
//! result: JSON rows built directly from `rusqlite::Row` (no intermediate
//! maps of columns), or typed rows decoded straight into `T` through
//! [`crate::codec::de::RowDeserializer`].
//!
//! Synchronous and thread-agnostic: it is called inside the closures the
//! client hands to the runtime, on an actor thread. It never builds SQL text
//! (that is `sql/`) and never sees the caller's JSON arguments.
//!
//! Statements go through `prepare_cached`, so a query shape is prepared once
//! per connection. A plan with several statements (includes,
//! findManyAndCount) runs inside one read transaction when the connection is
//! in autocommit mode, so every statement sees the same snapshot.
//!
//! Typed reads with includes decode from a tree of owned rows (`tree`),
//! never through JSON; bulk writes (`Plan::Exec`) reuse one prepared
//! statement across consecutive statements sharing one text, which the
//! per-row statements of a `createMany` do.

mod analytics;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::codec::{self, de::RowDeserializer};
use crate::error::{Error, Result};
use crate::sql::{Guard, IncludePlan, Plan, RowsPlan, Shape, Stmt};

pub(crate) mod stream;
mod tree;

/// One executed statement, recorded only when someone listens.
#[derive(Debug, Clone)]
pub(crate) struct StmtLog {
    /// SQL text.
    pub(crate) sql: Arc<str>,
    /// Parameters.
    pub(crate) params: Vec<SqlValue>,
    /// Time in SQLite, ms.
    pub(crate) duration_ms: f64,
    /// Rows returned or changed.
    pub(crate) rows: u64,
}

/// Statement logging (off unless listeners or taps exist).
#[derive(Debug, Default)]
pub(crate) struct Log {
    enabled: bool,
    /// What ran.
    pub(crate) entries: Vec<StmtLog>,
}

impl Log {
    /// A log that records when `enabled`.
    pub(crate) fn new(enabled: bool) -> Log {
        Log {
            enabled,
            entries: Vec::new(),
        }
    }

    fn start(&self) -> Option<Instant> {
        self.enabled.then(Instant::now)
    }

    fn record(&mut self, t: Option<Instant>, stmt: &Stmt, extra: Option<&SqlValue>, rows: u64) {
        if let Some(t) = t {
            let mut params = Vec::with_capacity(stmt.params.len() + 1);
            params.extend(extra.cloned());
            params.extend(stmt.params.iter().cloned());
            self.entries.push(StmtLog {
                sql: stmt.sql.clone(),
                params,
                duration_ms: t.elapsed().as_secs_f64() * 1000.0,
                rows,
            });
        }
    }
}

struct Fetched {
    obj: Map<String, Value>,
    hidden: Vec<SqlValue>,
}

fn bind<'c>(
    conn: &'c Connection,
    stmt: &Stmt,
    extra: Option<&SqlValue>,
) -> Result<rusqlite::CachedStatement<'c>> {
    let mut st = conn.prepare_cached(&stmt.sql)?;
    let keys_at = match extra {
        Some(e) => {
            let at = st.parameter_index(":keys")?.ok_or_else(|| Error::Sqlite {
                code: None,
                message: "include statement lacks its :keys parameter".into(),
            })?;
            st.raw_bind_parameter(at, e)?;
            Some(at)
        }
        None => None,
    };
    let mut i = 1;
    for p in &stmt.params {
        if Some(i) == keys_at {
            i += 1;
        }
        st.raw_bind_parameter(i, p)?;
        i += 1;
    }
    Ok(st)
}

fn fetch(
    conn: &Connection,
    plan: &RowsPlan,
    extra: Option<&SqlValue>,
    log: &mut Log,
) -> Result<Vec<Fetched>> {
    let t = log.start();
    let mut st = bind(conn, &plan.stmt, extra)?;
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode_row(plan, row)?);
    }
    drop(rows);
    log.record(t, &plan.stmt, extra, out.len() as u64);
    for inc in &plan.includes {
        attach(conn, inc, &mut out, log)?;
    }
    Ok(out)
}

/// Decodes one row of `plan` into its visible object and hidden keys.
fn decode_row(plan: &RowsPlan, row: &rusqlite::Row<'_>) -> Result<Fetched> {
    let n = plan.cols.len();
    let mut obj = Map::with_capacity(n + plan.includes.len());
    let mut counts: Option<Map<String, Value>> = None;
    for (i, c) in plan.cols.iter().enumerate() {
        let v = codec::decode(c.kind, row.get_ref(i)?);
        if c.count.is_some() {
            counts
                .get_or_insert_with(Map::new)
                .insert(c.key.to_string(), v);
        } else {
            obj.insert(c.key.to_string(), v);
        }
    }
    if let Some(c) = counts {
        obj.insert("_count".to_string(), Value::Object(c));
    }
    let mut hidden = Vec::with_capacity(plan.hidden);
    for i in 0..plan.hidden {
        hidden.push(codec::owned(row.get_ref(n + i)?));
    }
    Ok(Fetched { obj, hidden })
}

#[derive(Hash, PartialEq, Eq)]
enum Key {
    I(i64),
    R(u64),
    T(String),
    B(Vec<u8>),
}

fn key_of(v: &SqlValue) -> Option<Key> {
    Some(match v {
        SqlValue::Null => return None,
        SqlValue::Integer(i) => Key::I(*i),
        SqlValue::Real(f) => Key::R(f.to_bits()),
        SqlValue::Text(s) => Key::T(s.clone()),
        SqlValue::Blob(b) => Key::B(b.clone()),
    })
}

fn attach(
    conn: &Connection,
    inc: &IncludePlan,
    parents: &mut [Fetched],
    log: &mut Log,
) -> Result<()> {
    // Distinct parent keys, with how many parents share each one.
    let mut keys: Vec<Value> = Vec::new();
    let mut uses: HashMap<Key, usize> = HashMap::new();
    for p in parents.iter() {
        if let Some(k) = p.hidden.get(inc.parent_key).and_then(key_of) {
            let n = uses.entry(k).or_insert(0);
            if *n == 0 {
                keys.push(codec::sql_to_json(&p.hidden[inc.parent_key]));
            }
            *n += 1;
        }
    }
    let mut groups: HashMap<Key, Vec<Value>> = HashMap::new();
    if !keys.is_empty() {
        let param = SqlValue::Text(Value::Array(keys).to_string());
        for child in fetch(conn, &inc.child, Some(&param), log)? {
            if let Some(k) = child.hidden.first().and_then(key_of) {
                groups.entry(k).or_default().push(Value::Object(child.obj));
            }
        }
    }
    for p in parents.iter_mut() {
        let key = p.hidden.get(inc.parent_key).and_then(key_of);
        // Move a group to its last parent; copy it only for parents sharing a key.
        let found = key.and_then(|k| {
            let n = uses.get_mut(&k)?;
            *n -= 1;
            if *n == 0 {
                groups.remove(&k)
            } else {
                groups.get(&k).cloned()
            }
        });
        let v = if inc.to_many {
            Value::Array(found.unwrap_or_default())
        } else {
            found
                .and_then(|g| g.into_iter().next())
                .unwrap_or(Value::Null)
        };
        p.obj.insert(inc.key.clone(), v);
    }
    Ok(())
}

fn scalar(conn: &Connection, stmt: &Stmt, log: &mut Log) -> Result<i64> {
    let t = log.start();
    let mut st = bind(conn, stmt, None)?;
    let mut rows = st.raw_query();
    let v = match rows.next()? {
        Some(row) => row.get::<_, i64>(0)?,
        None => 0,
    };
    drop(rows);
    log.record(t, stmt, None, 1);
    Ok(v)
}

fn execute(conn: &Connection, stmt: &Stmt, log: &mut Log) -> Result<u64> {
    let t = log.start();
    let mut st = bind(conn, stmt, None)?;
    let n = st.raw_execute()? as u64;
    log.record(t, stmt, None, n);
    Ok(n)
}

/// Runs `before`, then `f` (whose result is returned), then `after`.
fn around<R>(
    conn: &Connection,
    before: &[Stmt],
    after: &[Stmt],
    log: &mut Log,
    f: impl FnOnce(&mut Log) -> Result<R>,
) -> Result<R> {
    for s in before {
        execute(conn, s, log)?;
    }
    let v = f(log)?;
    for s in after {
        execute(conn, s, log)?;
    }
    Ok(v)
}

/// Runs `f` in one read snapshot when the plan has several statements and
/// the connection is not already inside a transaction.
fn snapshot<R>(conn: &Connection, multi: bool, f: impl FnOnce() -> Result<R>) -> Result<R> {
    if !(multi && conn.is_autocommit()) {
        return f();
    }
    conn.execute_batch("BEGIN")?;
    match f() {
        Ok(r) => {
            conn.execute_batch("COMMIT")?;
            Ok(r)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn shape_rows(mut rows: Vec<Fetched>, shape: &Shape) -> Result<Value> {
    Ok(match shape {
        Shape::Many => Value::Array(rows.into_iter().map(|r| Value::Object(r.obj)).collect()),
        Shape::First => match rows.is_empty() {
            true => Value::Null,
            false => Value::Object(rows.swap_remove(0).obj),
        },
        Shape::OrThrow(model, message) => match rows.is_empty() {
            true => {
                return Err(Error::NotFound {
                    model: model.clone(),
                    message: message.clone(),
                });
            }
            false => Value::Object(rows.swap_remove(0).obj),
        },
        Shape::Null => Value::Null,
    })
}

/// Runs one access check: no row or `ok = 1` passes.
fn check(conn: &Connection, g: &Guard, log: &mut Log) -> Result<()> {
    let t = log.start();
    let mut st = bind(conn, &g.stmt, None)?;
    let mut rows = st.raw_query();
    let denied = match rows.next()? {
        None => None,
        Some(row) => {
            let flag =
                |i: usize| -> Result<bool> { Ok(row.get::<_, Option<i64>>(i)?.unwrap_or(0) != 0) };
            if flag(0)? {
                None
            } else {
                let mut msg = None;
                for (i, m) in g.messages.iter().enumerate() {
                    if flag(i + 1)? {
                        msg = Some(m.clone().unwrap_or_else(|| g.default.clone()));
                        break;
                    }
                }
                Some(msg.unwrap_or_else(|| g.default.clone()))
            }
        }
    };
    drop(rows);
    log.record(t, &g.stmt, None, u64::from(denied.is_some()));
    match denied {
        None => Ok(()),
        Some(message) => Err(Error::AccessDenied {
            model: g.model.clone(),
            operation: g.operation.to_string(),
            message,
        }),
    }
}

/// Runs a plan and returns its JSON result.
///
/// # Errors
/// SQLite errors (constraints classified), [`Error::NotFound`] for
/// `*_or_throw` shapes.
pub(crate) fn run(conn: &Connection, plan: &Plan, log: &mut Log) -> Result<Value> {
    match plan {
        Plan::Rows { rows, shape } => {
            if *shape == Shape::Null {
                execute(conn, &rows.stmt, log)?;
                return Ok(Value::Null);
            }
            let fetched = snapshot(conn, !rows.includes.is_empty(), || {
                fetch(conn, rows, None, log)
            })?;
            shape_rows(fetched, shape)
        }
        Plan::Count(s) => Ok(Value::from(scalar(conn, s, log)?)),
        Plan::Exists(s) => Ok(Value::Bool(scalar(conn, s, log)? != 0)),
        Plan::RowsAndCount { rows, count } => snapshot(conn, true, || {
            let fetched = fetch(conn, rows, None, log)?;
            let total = scalar(conn, count, log)?;
            Ok(json!({
                "rows": shape_rows(fetched, &Shape::Many)?,
                "total": total,
            }))
        }),
        Plan::Cursor {
            rows,
            limit,
            order,
            spec,
        } => {
            let mut fetched = snapshot(conn, !rows.includes.is_empty(), || {
                fetch(conn, rows, None, log)
            })?;
            let has_more = fetched.len() > *limit;
            fetched.truncate(*limit);
            let next = match (has_more, fetched.last()) {
                (true, Some(last)) => {
                    let values: Vec<SqlValue> =
                        order.iter().map(|i| last.hidden[*i].clone()).collect();
                    Value::String(spec.seal(&values))
                }
                _ => Value::Null,
            };
            Ok(json!({
                "items": shape_rows(fetched, &Shape::Many)?,
                "nextCursor": next,
                "hasMore": has_more,
            }))
        }
        Plan::Guarded { guards, plan } => {
            for g in guards {
                check(conn, g, log)?;
            }
            run(conn, plan, log)
        }
        Plan::Around {
            before,
            plan,
            after,
        } => around(conn, before, after, log, |log| run(conn, plan, log)),
        Plan::Exec(stmts) => {
            // Consecutive statements sharing one text (bulk writes) reuse one
            // prepared statement instead of a cache lookup per row.
            let mut n = 0u64;
            let mut current: Option<(&Arc<str>, rusqlite::CachedStatement<'_>)> = None;
            for s in stmts {
                let t = log.start();
                let reuse = matches!(&current, Some((sql, _)) if Arc::ptr_eq(sql, &s.sql));
                if !reuse {
                    current = Some((&s.sql, conn.prepare_cached(&s.sql)?));
                }
                let Some((_, st)) = current.as_mut() else {
                    continue;
                };
                for (i, p) in s.params.iter().enumerate() {
                    st.raw_bind_parameter(i + 1, p)?;
                }
                let changed = st.raw_execute()? as u64;
                log.record(t, s, None, changed);
                n += changed;
            }
            Ok(json!({ "count": n }))
        }
        Plan::Agg(a) => analytics::run_agg(conn, a, log),
        Plan::Tree(t) => analytics::run_tree(conn, t, log),
        Plan::Nested(n) => analytics::run_nested(conn, n, log),
    }
}

/// Runs a rows plan and decodes every row straight into `T`. Plans with
/// includes decode from a tree of owned rows ([`tree`]); only `_count`
/// selections fall back to JSON rows converted with `serde_json`.
///
/// # Errors
/// As [`run`], plus `InvalidArgs` when a row does not fit `T`.
pub(crate) fn run_typed<T: DeserializeOwned>(
    conn: &Connection,
    plan: &Plan,
    log: &mut Log,
) -> Result<Vec<T>> {
    let decode_err =
        |e: String| Error::invalid_args("", format!("cannot decode row into the target type: {e}"));
    if let Plan::Guarded { guards, plan } = plan {
        for g in guards {
            check(conn, g, log)?;
        }
        return run_typed(conn, plan, log);
    }
    if let Plan::Around {
        before,
        plan,
        after,
    } = plan
    {
        return around(conn, before, after, log, |log| run_typed(conn, plan, log));
    }
    let Plan::Rows { rows, shape } = plan else {
        return Err(Error::invalid_args("", "typed results need a rows plan"));
    };
    if !rows.includes.is_empty() && *shape != Shape::Null && tree::supported(rows) {
        let mut nodes = snapshot(conn, true, || tree::fetch(conn, rows, None, log))?;
        if !matches!(shape, Shape::Many) {
            nodes.truncate(1);
        }
        if nodes.is_empty() {
            if let Shape::OrThrow(model, message) = shape {
                return Err(Error::NotFound {
                    model: model.clone(),
                    message: message.clone(),
                });
            }
        }
        return nodes
            .into_iter()
            .map(|node| {
                T::deserialize(tree::NodeDe { node, plan: rows }).map_err(|e| decode_err(e.0))
            })
            .collect();
    }
    let nested = rows.cols.iter().any(|c| c.count.is_some());
    if !rows.includes.is_empty() || nested || *shape == Shape::Null {
        let v = run(conn, plan, log)?;
        return match v {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items
                .into_iter()
                .map(|x| serde_json::from_value(x).map_err(|e| decode_err(e.to_string())))
                .collect(),
            other => Ok(vec![
                serde_json::from_value(other).map_err(|e| decode_err(e.to_string()))?,
            ]),
        };
    }
    let t = log.start();
    let mut st = bind(conn, &rows.stmt, None)?;
    let mut cursor = st.raw_query();
    let mut out = Vec::new();
    while let Some(row) = cursor.next()? {
        let de = RowDeserializer {
            row,
            cols: &rows.cols,
        };
        out.push(T::deserialize(de).map_err(|e| decode_err(e.0))?);
        if !matches!(shape, Shape::Many) {
            break;
        }
    }
    drop(cursor);
    log.record(t, &rows.stmt, None, out.len() as u64);
    if out.is_empty() {
        if let Shape::OrThrow(model, message) = shape {
            return Err(Error::NotFound {
                model: model.clone(),
                message: message.clone(),
            });
        }
    }
    Ok(out)
}

/// A raw value as JSON, for events.
pub(crate) fn param_json(v: &SqlValue) -> Value {
    codec::sql_to_json(v)
}
