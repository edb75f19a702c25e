//! Running the analytical plans: aggregate rows decoded into the README's
//! nested objects (`{_count, _sum: {field}, …}`), and recursive rows
//! stitched into `children` trees, and nested writes (steps sharing slots
//! inside one SAVEPOINT).

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::{Fetched, Key, Log, bind, fetch, key_of, snapshot};
use crate::codec;
use crate::error::{Error, Result};
use crate::sql::analytics::{AggOut, AggPlan, Expect, NestedPlan, TreePlan, When};

fn agg_object(row: &rusqlite::Row<'_>, cols: &[AggOut]) -> Result<Value> {
    let mut obj = Map::new();
    for (i, c) in cols.iter().enumerate() {
        let v = codec::decode(c.kind, row.get_ref(i)?);
        match &c.group {
            None => {
                obj.insert(c.key.clone(), v);
            }
            Some(g) => {
                let slot = obj
                    .entry(g.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = slot {
                    m.insert(c.key.clone(), v);
                }
            }
        }
    }
    Ok(Value::Object(obj))
}

/// Runs an `aggregate` (one object) or `groupBy` (an array) plan.
///
/// # Errors
/// SQLite errors.
pub(crate) fn run_agg(conn: &Connection, plan: &AggPlan, log: &mut Log) -> Result<Value> {
    let t = log.start();
    let mut st = bind(conn, &plan.stmt, None)?;
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(agg_object(row, &plan.cols)?);
        if !plan.many {
            break;
        }
    }
    drop(rows);
    log.record(t, &plan.stmt, None, out.len() as u64);
    if plan.many {
        Ok(Value::Array(out))
    } else {
        Ok(out.pop().unwrap_or_else(|| Value::Object(Map::new())))
    }
}

/// Runs a recursive plan and nests the rows: a row is a root when its
/// parent is not among the rows; every row gets a `children` array (under
/// the has-many field name). Cycles cannot loop: each row is placed once.
///
/// # Errors
/// SQLite errors.
pub(crate) fn run_tree(conn: &Connection, plan: &TreePlan, log: &mut Log) -> Result<Value> {
    let rows = snapshot(conn, !plan.rows.includes.is_empty(), || {
        fetch(conn, &plan.rows, None, log)
    })?;
    let ids: Vec<Option<Key>> = rows
        .iter()
        .map(|r| r.hidden.get(plan.id_hidden).and_then(key_of))
        .collect();
    let present: HashSet<&Key> = ids.iter().flatten().collect();
    let mut by_parent: HashMap<Key, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        match r.hidden.get(plan.parent_hidden).and_then(key_of) {
            Some(p) if present.contains(&p) && ids[i].as_ref() != Some(&p) => {
                by_parent.entry(p).or_default().push(i);
            }
            _ => roots.push(i),
        }
    }
    let mut placed = vec![false; rows.len()];
    let mut objs: Vec<Option<Map<String, Value>>> =
        rows.into_iter().map(|r: Fetched| Some(r.obj)).collect();
    fn build(
        i: usize,
        ids: &[Option<Key>],
        by_parent: &HashMap<Key, Vec<usize>>,
        objs: &mut [Option<Map<String, Value>>],
        placed: &mut [bool],
        key: &str,
    ) -> Option<Value> {
        if placed[i] {
            return None;
        }
        placed[i] = true;
        let mut obj = objs[i].take()?;
        let mut children = Vec::new();
        if let Some(kids) = ids[i].as_ref().and_then(|k| by_parent.get(k)) {
            for &c in kids {
                if let Some(v) = build(c, ids, by_parent, objs, placed, key) {
                    children.push(v);
                }
            }
        }
        obj.insert(key.to_string(), Value::Array(children));
        Some(Value::Object(obj))
    }
    let mut out = Vec::new();
    for i in roots {
        if let Some(v) = build(
            i,
            &ids,
            &by_parent,
            &mut objs,
            &mut placed,
            &plan.children_key,
        ) {
            out.push(v);
        }
    }
    // Rows only reachable through a cycle have no root: start from them.
    for i in 0..placed.len() {
        if let Some(v) = build(
            i,
            &ids,
            &by_parent,
            &mut objs,
            &mut placed,
            &plan.children_key,
        ) {
            out.push(v);
        }
    }
    Ok(Value::Array(out))
}

fn run_steps(
    conn: &Connection,
    plan: &NestedPlan,
    slots: &mut [SqlValue],
    log: &mut Log,
) -> Result<bool> {
    for step in &plan.steps {
        if let When::IfUnset(s) = step.when {
            if slots.get(s).is_some_and(|v| *v != SqlValue::Null) {
                continue;
            }
        }
        let mut stmt = step.stmt.clone();
        for (i, s) in &step.fill {
            if let (Some(p), Some(v)) = (stmt.params.get_mut(*i), slots.get(*s)) {
                *p = v.clone();
            }
        }
        let t = log.start();
        let mut st = bind(conn, &stmt, None)?;
        let mut rows = st.raw_query();
        let first = rows.next()?;
        let found = first.is_some();
        if let Some(row) = first {
            for (i, s) in step.capture.iter().enumerate() {
                if let Some(slot) = slots.get_mut(*s) {
                    *slot = codec::owned(row.get_ref(i)?);
                }
            }
        }
        // Drain so that every row of an UPDATE/DELETE … RETURNING is applied.
        while rows.next()?.is_some() {}
        drop(rows);
        log.record(t, &stmt, None, u64::from(found));
        if !found {
            match &step.expect {
                Expect::Nothing => {}
                Expect::OrStop => return Ok(false),
                Expect::Row(model, message) => {
                    return Err(Error::NotFound {
                        model: model.clone(),
                        message: message.clone(),
                    });
                }
            }
        }
    }
    Ok(true)
}

/// Runs a nested create/update inside one SAVEPOINT (so a failing step
/// rolls back every step, also inside a caller's transaction), then reads
/// the row back.
///
/// # Errors
/// SQLite errors, `NotFound` for a `connect` to a missing row.
pub(crate) fn run_nested(conn: &Connection, plan: &NestedPlan, log: &mut Log) -> Result<Value> {
    conn.execute_batch("SAVEPOINT litestone_nested")?;
    let mut slots = vec![SqlValue::Null; plan.slots];
    let r = (|| -> Result<Value> {
        if !run_steps(conn, plan, &mut slots, log)? {
            return Ok(Value::Null);
        }
        let Some((rows, fill)) = &plan.result else {
            return Ok(Value::Null);
        };
        let mut rows = rows.clone();
        for (i, s) in fill {
            if let (Some(p), Some(v)) = (rows.stmt.params.get_mut(*i), slots.get(*s)) {
                *p = v.clone();
            }
        }
        let mut fetched = fetch(conn, &rows, None, log)?;
        Ok(if fetched.is_empty() {
            Value::Null
        } else {
            Value::Object(fetched.swap_remove(0).obj)
        })
    })();
    match r {
        Ok(v) => {
            conn.execute_batch("RELEASE litestone_nested")?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO litestone_nested; RELEASE litestone_nested");
            Err(e)
        }
    }
}
