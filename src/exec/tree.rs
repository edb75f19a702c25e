//! Typed reads with includes, decoded straight into `T`.
//!
//! A plan with includes is fetched as a tree of owned rows ([`Node`]: the
//! raw SQLite values of the row, then its included children per relation)
//! and `T` is deserialized from that tree through [`NodeDe`], reusing the
//! per-column [`ValueDe`] of typed flat reads. No `serde_json::Value` (and no
//! per-row `Map` with its key strings) is built on the way.
//!
//! Measured on BENCH.md's include workload (quick mode, same run, loaded
//! 2-core machine): the previous path built JSON rows and then ran
//! `serde_json::from_value` per parent, at 0.47–0.61× the rusqlite
//! baseline; this path measured 0.71–0.81× (p50 ≈ 0.93 ms vs 0.47 ms).
//! Deserializing consumes the tree, so text values move into `T`'s
//! `String`s instead of being copied (include p50 ≈ 1.0 ms → 0.81 ms in the
//! quick harness, same machine).
//! The JSON path (`find_many`) still builds `serde_json::Map`s per row
//! (`preserve_order`: an `IndexMap` with an owned key per column), which is
//! what keeps include_json near 0.5–0.75×.

use std::collections::HashMap;

use rusqlite::Connection;
use rusqlite::types::{Value as SqlValue, ValueRef};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use super::{Key, Log, bind, key_of};
use crate::codec::{self, de::DeError, de::ValueDe};
use crate::error::Result;
use crate::sql::{IncludePlan, RowsPlan};

/// One fetched row: visible then hidden column values, then one child list
/// per include of its plan (in plan order).
#[derive(Clone)]
pub(super) struct Node {
    vals: Vec<SqlValue>,
    kids: Vec<Vec<Node>>,
}

/// Whether the typed tree path handles `plan` (no `_count` columns at any
/// level: those nest under an extra object and take the JSON path).
pub(super) fn supported(plan: &RowsPlan) -> bool {
    plan.cols.iter().all(|c| c.count.is_none()) && plan.includes.iter().all(|i| supported(&i.child))
}

/// Runs `plan` (and its includes, one statement per level) into nodes.
pub(super) fn fetch(
    conn: &Connection,
    plan: &RowsPlan,
    extra: Option<&SqlValue>,
    log: &mut Log,
) -> Result<Vec<Node>> {
    let t = log.start();
    let width = plan.cols.len() + plan.hidden;
    let mut st = bind(conn, &plan.stmt, extra)?;
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut vals = Vec::with_capacity(width);
        for i in 0..width {
            vals.push(codec::owned(row.get_ref(i)?));
        }
        out.push(Node {
            vals,
            kids: Vec::with_capacity(plan.includes.len()),
        });
    }
    drop(rows);
    log.record(t, &plan.stmt, extra, out.len() as u64);
    for inc in &plan.includes {
        attach(conn, plan.cols.len(), inc, &mut out, log)?;
    }
    Ok(out)
}

fn attach(
    conn: &Connection,
    ncols: usize,
    inc: &IncludePlan,
    parents: &mut [Node],
    log: &mut Log,
) -> Result<()> {
    let at = ncols + inc.parent_key;
    // Distinct parent keys as a JSON array text, with how many parents share
    // each one.
    let mut keys = String::from("[");
    let mut uses: HashMap<Key, usize> = HashMap::with_capacity(parents.len());
    for p in parents.iter() {
        if let Some(k) = p.vals.get(at).and_then(key_of) {
            let n = uses.entry(k).or_insert(0);
            if *n == 0 {
                if keys.len() > 1 {
                    keys.push(',');
                }
                keys.push_str(&codec::sql_to_json(&p.vals[at]).to_string());
            }
            *n += 1;
        }
    }
    keys.push(']');
    let mut groups: HashMap<Key, Vec<Node>> = HashMap::with_capacity(uses.len());
    if !uses.is_empty() {
        let param = SqlValue::Text(keys);
        let key_at = inc.child.cols.len();
        for child in fetch(conn, &inc.child, Some(&param), log)? {
            if let Some(k) = child.vals.get(key_at).and_then(key_of) {
                groups.entry(k).or_default().push(child);
            }
        }
    }
    for p in parents.iter_mut() {
        let key = p.vals.get(at).and_then(key_of);
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
        let mut kids = found.unwrap_or_default();
        if !inc.to_many {
            kids.truncate(1);
        }
        p.kids.push(kids);
    }
    Ok(())
}

/// Deserializes one [`Node`] as the map `{field: value, relation: …}`,
/// consuming it: text values move into `T`'s strings without a copy.
pub(super) struct NodeDe<'a> {
    pub(super) node: Node,
    pub(super) plan: &'a RowsPlan,
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_map(NodeMap {
            vals: self.node.vals.into_iter(),
            kids: self.node.kids.into_iter(),
            plan: self.plan,
            i: 0,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct NodeMap<'a> {
    vals: std::vec::IntoIter<SqlValue>,
    kids: std::vec::IntoIter<Vec<Node>>,
    plan: &'a RowsPlan,
    i: usize,
}

impl<'de> MapAccess<'de> for NodeMap<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let n = self.plan.cols.len();
        let key: &str = match self.plan.cols.get(self.i) {
            Some(c) => &c.key,
            None => match self.plan.includes.get(self.i - n) {
                Some(inc) => &inc.key,
                None => return Ok(None),
            },
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let i = self.i;
        self.i += 1;
        let n = self.plan.cols.len();
        if let Some(col) = self.plan.cols.get(i) {
            let v = self.vals.next().unwrap_or(SqlValue::Null);
            return seed
                .deserialize(OwnedDe { v, kind: col.kind })
                .map_err(|e| DeError(format!("field `{}`: {e}", col.key)));
        }
        let (Some(inc), Some(kids)) = (self.plan.includes.get(i - n), self.kids.next()) else {
            return Err(DeError("include without its rows".into()));
        };
        seed.deserialize(KidsDe {
            kids,
            plan: &inc.child,
            many: inc.to_many,
        })
        .map_err(|e| DeError(format!("field `{}`: {e}", inc.key)))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.plan.cols.len() + self.plan.includes.len() - self.i)
    }
}

/// One owned column value: plain text is handed over as a `String`;
/// everything else decodes as [`ValueDe`] does.
struct OwnedDe {
    v: SqlValue,
    kind: codec::Kind,
}

impl OwnedDe {
    fn by_ref(&self) -> ValueDe<'_> {
        ValueDe {
            v: ValueRef::from(&self.v),
            kind: self.kind,
        }
    }
}

impl<'de> de::Deserializer<'de> for OwnedDe {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.v {
            SqlValue::Text(s) if !self.kind.is_json_text() => visitor.visit_string(s),
            _ => self.by_ref().deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.v {
            SqlValue::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.by_ref().deserialize_bytes(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.by_ref().deserialize_byte_buf(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.by_ref().deserialize_seq(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.by_ref().deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct tuple tuple_struct map struct identifier ignored_any
    }
}

/// An include's value: a sequence (to-many) or one row / null (to-one).
struct KidsDe<'a> {
    kids: Vec<Node>,
    plan: &'a RowsPlan,
    many: bool,
}

impl<'de> de::Deserializer<'de> for KidsDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.many {
            return visitor.visit_seq(KidsSeq {
                kids: self.kids.into_iter(),
                plan: self.plan,
            });
        }
        match self.kids.into_iter().next() {
            Some(node) => de::Deserializer::deserialize_any(
                NodeDe {
                    node,
                    plan: self.plan,
                },
                visitor,
            ),
            None => visitor.visit_unit(),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if !self.many && self.kids.is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct KidsSeq<'a> {
    kids: std::vec::IntoIter<Node>,
    plan: &'a RowsPlan,
}

impl<'de> SeqAccess<'de> for KidsSeq<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.kids.next() {
            Some(node) => seed
                .deserialize(NodeDe {
                    node,
                    plan: self.plan,
                })
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.kids.len())
    }
}
