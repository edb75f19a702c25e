//! The *shape* of a read: everything in a [`ReadQuery`] that changes its SQL
//! text, and nothing that is a bound value. Two reads with the same shape
//! compile to the same statements and differ only in parameters, so the
//! text can be cached per client (see [`super::cache::QueryCache`]).
//!
//! The hash must cover every input the SQL writer turns into text; debug
//! builds check each cache hit against a fresh rendering, so a field missed
//! here fails the test suite instead of producing wrong SQL.

use std::hash::{Hash, Hasher};

use super::ast::{Filter, Operand, Order, OutCol, ReadQuery, RelatedSort};

/// A 128-bit shape key (two independently salted SipHash states).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ShapeKey(u64, u64);

struct Two(
    std::collections::hash_map::DefaultHasher,
    std::collections::hash_map::DefaultHasher,
);

impl Hasher for Two {
    fn finish(&self) -> u64 {
        self.0.finish()
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
        self.1.write(bytes);
    }
}

/// The shape key of a rows read (`explicit_nulls`: cursor pages).
pub(crate) fn read_key(q: &ReadQuery, explicit_nulls: bool) -> ShapeKey {
    let mut a = std::collections::hash_map::DefaultHasher::new();
    let mut b = std::collections::hash_map::DefaultHasher::new();
    0xa5u8.hash(&mut a);
    0x5au8.hash(&mut b);
    let mut h = Two(a, b);
    explicit_nulls.hash(&mut h);
    read(q, &mut h);
    ShapeKey(h.0.finish(), h.1.finish())
}

fn read(q: &ReadQuery, h: &mut impl Hasher) {
    q.table.hash(h);
    q.cols.len().hash(h);
    for c in q.cols.iter() {
        col(c, h);
    }
    q.hidden.hash(h);
    filter(&q.filter, h);
    q.order.len().hash(h);
    for o in &q.order {
        order(o, h);
    }
    q.limit.is_some().hash(h);
    q.offset.is_some().hash(h);
    q.distinct.hash(h);
    q.parent_link.hash(h);
    q.includes.len().hash(h);
    for i in &q.includes {
        i.key.hash(h);
        i.to_many.hash(h);
        i.parent_key.hash(h);
        read(&i.child, h);
    }
}

fn col(c: &OutCol, h: &mut impl Hasher) {
    c.key.hash(h);
    c.column.hash(h);
    c.kind.hash(h);
    match &c.count {
        Some(r) => {
            1u8.hash(h);
            related(r, h);
        }
        None => 0u8.hash(h),
    }
    // A `@from` subquery (fixed by the model and the field named by `key`).
    c.derived.is_some().hash(h);
    c.decrypt.hash(h);
    // Field read policy: `CASE WHEN mask THEN col END`.
    match &c.mask {
        Some(m) => {
            1u8.hash(h);
            filter(m, h);
        }
        None => 0u8.hash(h),
    }
}

fn operand(o: &Operand, h: &mut impl Hasher) {
    match o {
        Operand::Column(c) => {
            0u8.hash(h);
            c.hash(h);
        }
        Operand::Value(_) => 1u8.hash(h),
    }
}

fn order(o: &Order, h: &mut impl Hasher) {
    o.field.hash(h);
    o.column.hash(h);
    o.desc.hash(h);
    o.nulls.hash(h);
    o.nullable.hash(h);
    match &o.related {
        Some(r) => {
            1u8.hash(h);
            related(r, h);
        }
        None => 0u8.hash(h),
    }
}

fn related(r: &RelatedSort, h: &mut impl Hasher) {
    r.hops.hash(h);
    r.value.hash(h);
    filter(&r.filter, h);
}

fn filter(f: &Filter, h: &mut impl Hasher) {
    std::mem::discriminant(f).hash(h);
    match f {
        Filter::True => {}
        Filter::And(items) | Filter::Or(items) => {
            items.len().hash(h);
            for i in items {
                filter(i, h);
            }
        }
        Filter::Not(inner) => filter(inner, h),
        Filter::Cmp { col, op, .. } => {
            col.hash(h);
            op.hash(h);
        }
        Filter::Null { col, is_null } => {
            col.hash(h);
            is_null.hash(h);
        }
        Filter::In {
            col,
            values,
            with_null,
            negated,
        } => {
            col.hash(h);
            values.len().hash(h);
            with_null.hash(h);
            negated.hash(h);
        }
        Filter::Text {
            col,
            op,
            insensitive,
            ..
        } => {
            col.hash(h);
            op.hash(h);
            insensitive.hash(h);
        }
        Filter::Compare { left, op, right } => {
            operand(left, h);
            op.hash(h);
            operand(right, h);
        }
        Filter::Raw { sql, params } => {
            sql.hash(h);
            params.len().hash(h);
        }
        Filter::Rel {
            table,
            link,
            quant,
            inner,
        } => {
            table.hash(h);
            link.hash(h);
            quant.hash(h);
            filter(inner, h);
        }
    }
}
