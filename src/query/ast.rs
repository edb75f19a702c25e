//! The typed operations the argument parser produces and the SQL writer
//! consumes. Every identifier in here was copied from the validated schema
//! (never from the caller's JSON); every value is a bound parameter.

use std::sync::Arc;

use rusqlite::types::Value as SqlValue;

use crate::codec::Kind;

/// A column reference inside a filter, relative to the current table alias.
#[derive(Debug, Clone, PartialEq, Hash)]
pub(crate) enum Col {
    /// A stored column.
    Column(String),
    /// `json_extract(column, path)` (the path is bound as a parameter).
    Json {
        /// Column holding JSON text.
        column: String,
        /// JSON path (`$.a.b`).
        path: String,
    },
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CmpOp {
    /// `=`.
    Eq,
    /// `IS NOT` (null-safe: NULL rows are "not v").
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
}

/// Text matching operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TextOp {
    /// `contains`.
    Contains,
    /// `startsWith`.
    StartsWith,
    /// `endsWith`.
    EndsWith,
}

/// Quantifiers of relation filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Quant {
    /// At least one related row matches (`some`, `is`).
    Some,
    /// No related row matches (`none`, `isNot`, `is: null`).
    None,
    /// Every related row matches (`every`).
    Every,
}

/// How a related table joins to the current one.
#[derive(Debug, Clone, PartialEq, Hash)]
pub(crate) enum Link {
    /// `target.col = current.col` pairs.
    Direct {
        /// (target column, current column).
        pairs: Vec<(String, String)>,
    },
    /// Through a join table.
    Through {
        /// Join table.
        table: String,
        /// Join column referencing the current table.
        source_col: String,
        /// Referenced column of the current table.
        source_ref: String,
        /// Join column referencing the target table.
        target_col: String,
        /// Referenced column of the target table.
        target_ref: String,
    },
}

/// One side of a [`Filter::Compare`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    /// A column of the current table alias.
    Column(String),
    /// A bound value.
    Value(SqlValue),
}

/// A where-tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    /// Always true (an empty where).
    True,
    /// All of.
    And(Vec<Filter>),
    /// Any of (an empty OR is false).
    Or(Vec<Filter>),
    /// Negation (SQL three-valued).
    Not(Box<Filter>),
    /// `col op ?`.
    Cmp {
        /// Column.
        col: Col,
        /// Operator.
        op: CmpOp,
        /// Operand (never NULL: nulls become [`Filter::Null`]).
        value: SqlValue,
    },
    /// `col IS [NOT] NULL`.
    Null {
        /// Column.
        col: Col,
        /// `IS NULL` when true.
        is_null: bool,
    },
    /// `col IN (…)` / `(col NOT IN (…) OR col IS NULL)`.
    In {
        /// Column.
        col: Col,
        /// Values (nulls removed: `null` in the list becomes `OR col IS NULL`).
        values: Vec<SqlValue>,
        /// Whether the list contained null.
        with_null: bool,
        /// `notIn`.
        negated: bool,
    },
    /// `contains` / `startsWith` / `endsWith`.
    Text {
        /// Column.
        col: Col,
        /// Operator.
        op: TextOp,
        /// Needle.
        value: String,
        /// `mode: "insensitive"` (ASCII case folding, SQLite LIKE).
        insensitive: bool,
    },
    /// A `$raw` fragment, parenthesised and ANDed.
    Raw {
        /// SQL text with `?` placeholders.
        sql: String,
        /// Its parameters.
        params: Vec<SqlValue>,
    },
    /// A two-valued policy comparison (`l IS r`, `l IS NOT r`,
    /// `(l < r) IS 1`): never NULL, so `NOT` of it is exact.
    Compare {
        /// Left side.
        left: Operand,
        /// Operator.
        op: CmpOp,
        /// Right side.
        right: Operand,
    },
    /// A relation filter via (NOT) EXISTS.
    Rel {
        /// Related table.
        table: String,
        /// How it joins.
        link: Link,
        /// Quantifier.
        quant: Quant,
        /// Condition on the related rows (soft-delete filter included).
        inner: Box<Filter>,
    },
}

impl Filter {
    /// `a AND b`, flattening trivial cases.
    pub(crate) fn and(self, other: Filter) -> Filter {
        match (self, other) {
            (Filter::True, f) | (f, Filter::True) => f,
            (Filter::And(mut a), Filter::And(b)) => {
                a.extend(b);
                Filter::And(a)
            }
            (Filter::And(mut a), f) => {
                a.push(f);
                Filter::And(a)
            }
            (f, Filter::And(mut b)) => {
                b.insert(0, f);
                Filter::And(b)
            }
            (a, b) => Filter::And(vec![a, b]),
        }
    }

    /// Whether the filter restricts nothing.
    pub(crate) fn is_true(&self) -> bool {
        match self {
            Filter::True => true,
            Filter::And(v) => v.iter().all(Filter::is_true),
            _ => false,
        }
    }
}

/// NULLS FIRST / LAST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Nulls {
    /// NULLS FIRST.
    First,
    /// NULLS LAST.
    Last,
}

/// One ORDER BY term.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Order {
    /// Field name (for cursor shapes).
    pub(crate) field: String,
    /// Column.
    pub(crate) column: String,
    /// DESC.
    pub(crate) desc: bool,
    /// Explicit null placement.
    pub(crate) nulls: Option<Nulls>,
    /// Whether the column may hold NULL.
    pub(crate) nullable: bool,
    /// Sort by a related value instead of `column` (relation orderBy).
    pub(crate) related: Option<Box<RelatedSort>>,
}

/// A correlated subquery to sort by: a field through belongsTo hops, or an
/// aggregate over a to-many relation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RelatedSort {
    /// Hops from the current table: (table, link from the previous alias),
    /// joined in order; the first link correlates with the outer row.
    pub(crate) hops: Vec<(String, Link)>,
    /// What to select from the last hop.
    pub(crate) value: SortValue,
    /// Extra condition on the last hop (soft-delete filter).
    pub(crate) filter: Filter,
}

/// The selected value of a [`RelatedSort`].
#[derive(Debug, Clone, PartialEq, Hash)]
pub(crate) enum SortValue {
    /// A column of the last hop.
    Column(String),
    /// `COUNT(*)`.
    Count,
    /// `SUM/AVG/MIN/MAX(column)`.
    Agg(&'static str, String),
}

impl Order {
    /// Where NULLs actually sort (SQLite: first ascending, last descending).
    pub(crate) fn effective_nulls(&self) -> Nulls {
        self.nulls
            .unwrap_or(if self.desc { Nulls::Last } else { Nulls::First })
    }
}

/// An output column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutCol {
    /// JSON key (field name).
    pub(crate) key: Arc<str>,
    /// Column name.
    pub(crate) column: Arc<str>,
    /// Decoding kind.
    pub(crate) kind: Kind,
    /// Field-level read policy: the column is selected as
    /// `CASE WHEN mask THEN col END` (null where the policy refuses).
    pub(crate) mask: Option<Box<Filter>>,
    /// A relation count (`_count: {select: {posts: true}}`) instead of a
    /// column; returned under the row's `_count` object.
    pub(crate) count: Option<Box<RelatedSort>>,
    /// A `@from` derived field: a correlated subquery instead of a column
    /// (include levels and cursor pages; top-level reads add theirs as
    /// extended-read columns).
    pub(crate) derived: Option<Box<super::derived::SubAgg>>,
    /// An `@encrypted` column read through `litestone_decrypt(…)`.
    pub(crate) decrypt: bool,
}

impl crate::codec::de::ColumnInfo for OutCol {
    fn key(&self) -> &str {
        &self.key
    }
    fn kind(&self) -> Kind {
        self.kind
    }
}

/// A SELECT over one model, with its nested includes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReadQuery {
    /// Table.
    pub(crate) table: String,
    /// Visible columns, in output order (shared with the compiled plan and,
    /// for default projections, with the per-client cache).
    pub(crate) cols: Arc<Vec<OutCol>>,
    /// Extra columns fetched after the visible ones (keys for includes and
    /// cursors), raw.
    pub(crate) hidden: Vec<String>,
    /// Where-tree (soft-delete filter included).
    pub(crate) filter: Filter,
    /// ORDER BY.
    pub(crate) order: Vec<Order>,
    /// LIMIT.
    pub(crate) limit: Option<i64>,
    /// OFFSET.
    pub(crate) offset: Option<i64>,
    /// SELECT DISTINCT.
    pub(crate) distinct: bool,
    /// Nested includes.
    pub(crate) includes: Vec<Include>,
    /// For an included level: how it links to its parent rows.
    pub(crate) parent_link: Option<ParentLink>,
}

/// How an included level selects the rows of its parent keys.
#[derive(Debug, Clone, PartialEq, Hash)]
pub(crate) enum ParentLink {
    /// `child.column IN (parent keys)`; the column is the group key.
    Column(String),
    /// Through a join table: `j.source_col IN (parent keys)` and
    /// `target.target_ref = j.target_col`; `j.source_col` is the group key.
    Through {
        /// Join table.
        table: String,
        /// Join column referencing the parent.
        source_col: String,
        /// Join column referencing the child.
        target_col: String,
        /// Child column the join references.
        target_ref: String,
    },
}

/// One included relation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Include {
    /// JSON key (relation field name).
    pub(crate) key: String,
    /// Array (to-many) or object/null (to-one).
    pub(crate) to_many: bool,
    /// Index in the parent's `hidden` list of the parent key.
    pub(crate) parent_key: usize,
    /// The child query (its `parent_link` is set).
    pub(crate) child: ReadQuery,
}

/// A value in an INSERT.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum InsertVal {
    /// A bound value.
    Param(SqlValue),
    /// `@sequence`: `(SELECT COALESCE(MAX(col), 0) + 1 FROM t [WHERE scope IS ?])`.
    Sequence {
        /// Scope column and value.
        scope: Option<(String, SqlValue)>,
    },
}

/// Right-hand side of an UPDATE SET.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SetExpr {
    /// `= ?`.
    Value(SqlValue),
    /// `= col op ?`.
    Arith(&'static str, SqlValue),
    /// `= excluded.col` (upserts).
    Excluded,
    /// `= col` (a no-op so that DO UPDATE still returns the row).
    Keep,
}

/// ON CONFLICT behaviour of an INSERT.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Conflict {
    /// Plain INSERT.
    Fail,
    /// `INSERT OR IGNORE` (skipDuplicates).
    Ignore,
    /// `ON CONFLICT(target) DO UPDATE SET …`.
    Update {
        /// Conflict target columns.
        target: Vec<String>,
        /// The partial-index predicate of the target's unique index
        /// (soft-delete models), from `ddl::unique_index_predicate`.
        target_where: Option<String>,
        /// Assignments.
        set: Vec<(String, SetExpr)>,
    },
}

/// An INSERT of one row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InsertRow {
    /// Columns and values.
    pub(crate) values: Vec<(String, InsertVal)>,
}

/// Which rows an UPDATE/DELETE touches.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    /// Where-tree over alias `t0`.
    pub(crate) filter: Filter,
    /// Single-row operations: the key column used to pick the first match
    /// (`rowid` when the key is composite).
    pub(crate) single: Option<String>,
}
