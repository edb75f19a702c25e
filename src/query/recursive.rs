//! `recursive` on `find_many` for self-relations (README "Recursive tree
//! queries"): `where` selects the root rows; `true` or `{direction:
//! "descendants"}` walks down the children, `{direction: "ancestors"}` up
//! the parents; `maxDepth: n` stops n levels from the roots (roots are depth
//! 0); `via: "field"` picks the self-relation (its belongs-to or has-many
//! side) when there are several.
//!
//! The walk is a recursive CTE that carries the path of visited keys and
//! never re-enters a key already on it, so cyclic data terminates. The
//! result holds the roots and every row reached, each once (soft-deleted
//! rows excluded unless `withDeleted`), ordered by depth then primary key
//! unless `orderBy` is given. `nested: true` returns trees instead: every
//! row gets its children under the has-many field name (`children` when the
//! model declares none), and a row whose parent is not in the result is a
//! top-level node.

use serde_json::{Map, Value};

use super::Cx;
use super::ast::Filter;
use super::derived::{ExtOrder, ExtRead, OrderExpr, Source};
use crate::error::{Error, Result};
use crate::schema::{FieldId, Model, RelationKind};
use crate::sql::analytics::{self as asql, TreePlan};
use crate::sql::{Plan, Shape};

/// A recursive walk over a self-relation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TreeSource {
    /// Table.
    pub(crate) table: String,
    /// Key column (referenced by the parent column).
    pub(crate) id_col: String,
    /// Parent foreign-key column.
    pub(crate) parent_col: String,
    /// Walk down (children) rather than up (parents).
    pub(crate) descendants: bool,
    /// Depth limit.
    pub(crate) max_depth: Option<i64>,
    /// Selects the roots (the call's `where`), over `t0`.
    pub(crate) roots: Filter,
}

/// Finds the belongs-to self-relation to walk and the has-many name for
/// nested children.
fn self_relation(model: &Model, via: Option<&str>) -> Result<(FieldId, String)> {
    let belongs: Vec<FieldId> = model
        .fields
        .iter()
        .filter(|f| {
            f.relation().is_some_and(|r| {
                r.target == model.id && matches!(r.kind, RelationKind::BelongsTo { .. })
            })
        })
        .map(|f| f.id)
        .collect();
    let children_of = |b: FieldId| {
        model
            .fields
            .iter()
            .find(|f| {
                f.relation().is_some_and(|r| {
                    r.target == model.id
                        && matches!(r.kind, RelationKind::HasMany { inverse } if inverse == b)
                })
            })
            .map(|f| f.name.clone())
            .unwrap_or_else(|| "children".to_string())
    };
    let chosen = match via {
        Some(name) => {
            let Some(f) = model.field(name) else {
                return Err(Error::UnknownField {
                    model: model.name.clone(),
                    field: name.to_string(),
                    path: "recursive.via".into(),
                });
            };
            match f.relation().map(|r| (r.target, &r.kind)) {
                Some((t, RelationKind::BelongsTo { .. })) if t == model.id => f.id,
                Some((t, RelationKind::HasMany { inverse })) if t == model.id => *inverse,
                _ => {
                    return Err(Error::invalid_args(
                        "recursive.via",
                        format!("`{name}` is not a self-relation of {}", model.name),
                    ));
                }
            }
        }
        None => match belongs.as_slice() {
            [one] => *one,
            [] => {
                return Err(Error::invalid_args(
                    "recursive",
                    format!("{} has no self-relation to walk", model.name),
                ));
            }
            _ => {
                return Err(Error::invalid_args(
                    "recursive.via",
                    format!(
                        "{} has several self-relations: pick one with `via`",
                        model.name
                    ),
                ));
            }
        },
    };
    Ok((chosen, children_of(chosen)))
}

/// Compiles a recursive `find_many` from its spec and the already-built
/// extended read (whose filter is `where` + soft delete).
///
/// # Errors
/// `InvalidArgs` naming `recursive.*`.
pub(crate) fn compile(
    cx: &Cx<'_>,
    model: &Model,
    spec: &Value,
    mut ext: ExtRead,
    kept: Filter,
) -> Result<Option<Plan>> {
    let _ = cx;
    let empty = Map::new();
    let o = match spec {
        Value::Bool(true) => &empty,
        Value::Object(o) => o,
        _ => {
            return Err(Error::invalid_args(
                "recursive",
                "expected true or {direction, nested, maxDepth, via}",
            ));
        }
    };
    for k in o.keys() {
        if !matches!(k.as_str(), "direction" | "nested" | "maxDepth" | "via") {
            return Err(Error::invalid_args(
                format!("recursive.{k}"),
                "unknown key (expected direction, nested, maxDepth, via)",
            ));
        }
    }
    let descendants = match o.get("direction") {
        None | Some(Value::Null) => true,
        Some(v) => match v.as_str() {
            Some("descendants") => true,
            Some("ancestors") => false,
            _ => {
                return Err(Error::invalid_args(
                    "recursive.direction",
                    "expected \"descendants\" or \"ancestors\"",
                ));
            }
        },
    };
    let nested = match o.get("nested") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(Error::invalid_args(
                "recursive.nested",
                "expected true or false",
            ));
        }
    };
    let max_depth = match o.get("maxDepth") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) if n >= 0 => Some(n),
            _ => {
                return Err(Error::invalid_args(
                    "recursive.maxDepth",
                    "expected a non-negative integer",
                ));
            }
        },
    };
    let via = match o.get("via") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            return Err(Error::invalid_args(
                "recursive.via",
                "expected a field name",
            ));
        }
    };
    let (bt, children_key) = self_relation(model, via)?;
    let Some(RelationKind::BelongsTo {
        fields, references, ..
    }) = model.field_by_id(bt).relation().map(|r| &r.kind)
    else {
        return Err(Error::invalid_args(
            "recursive",
            "not a belongs-to relation",
        ));
    };
    let ([fk], [rf]) = (fields.as_slice(), references.as_slice()) else {
        return Err(Error::invalid_args(
            "recursive",
            "recursive walks need a single-column self-relation",
        ));
    };
    let id_col = model.field_by_id(*rf).column.clone();
    let parent_col = model.field_by_id(*fk).column.clone();
    let roots = std::mem::replace(&mut ext.q.filter, kept);
    if ext.order.is_empty() {
        ext.order = vec![
            ExtOrder {
                expr: OrderExpr::Depth,
                desc: false,
                nulls: None,
            },
            ExtOrder {
                expr: OrderExpr::Col("t0".into(), id_col.clone()),
                desc: false,
                nulls: None,
            },
        ];
    }
    ext.source = Source::Tree(TreeSource {
        table: model.table.clone(),
        id_col: id_col.clone(),
        parent_col: parent_col.clone(),
        descendants,
        max_depth,
        roots,
    });
    if !nested {
        return Ok(Some(Plan::Rows {
            rows: asql::ext_rows(&ext),
            shape: Shape::Many,
        }));
    }
    ext.q.hidden.push(id_col);
    let id_hidden = ext.q.hidden.len() - 1;
    ext.q.hidden.push(parent_col);
    let parent_hidden = ext.q.hidden.len() - 1;
    Ok(Some(Plan::Tree(TreePlan {
        rows: asql::ext_rows(&ext),
        id_hidden,
        parent_hidden,
        children_key,
    })))
}
