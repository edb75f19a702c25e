//! `where` JSON → [`Filter`] trees, validated against the schema.
//!
//! Decisions where the README is silent:
//! - `{not: v}` is null-safe (`col IS NOT ?`): rows whose column is NULL are
//!   "not v", like the README's `notIn` convention. `NOT: {…}` keeps SQL's
//!   three-valued logic (a NULL comparison stays unknown and excludes the row).
//! - `contains` / `startsWith` / `endsWith` are case-sensitive by default and
//!   compile to `GLOB` with the needle's metacharacters escaped (SQLite's LIKE
//!   ignores ASCII case). `mode: "insensitive"` compiles to
//!   `LIKE ? ESCAPE '\'` (ASCII case folding, as SQLite does without ICU).
//! - On Json and typed-shape columns an object whose keys are not all
//!   operators is a JSON path filter: `{address: {city: "NYC"}}` →
//!   `json_extract("address", '$.city') = 'NYC'` (path segments must be
//!   identifiers; the path is bound as a parameter).
//! - To-many relation filters need an explicit `some` / `every` / `none`; a
//!   to-one relation takes `is` / `isNot`, `null`, or a bare where object
//!   (= `is`).

use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::Cx;
use super::ast::{CmpOp, Col, Filter, Link, Quant, TextOp};
use crate::codec::{self, Base, Kind, Target};
use crate::error::{Error, Result};
use crate::schema::{Field, FieldType, Model, RelationKind, Schema};

const OPERATORS: &[&str] = &[
    "equals",
    "not",
    "in",
    "notIn",
    "lt",
    "lte",
    "gt",
    "gte",
    "contains",
    "startsWith",
    "endsWith",
    "mode",
];

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The soft-delete "live rows" filter of a model, if it has one.
pub(crate) fn live_filter(model: &Model) -> Filter {
    match model.soft_delete {
        Some(sd) => Filter::Null {
            col: Col::Column(model.field_by_id(sd.field).column.clone()),
            is_null: true,
        },
        None => Filter::True,
    }
}

/// Parses a `where` object (`null` / absent = no restriction).
pub(crate) fn parse_where(cx: &Cx<'_>, model: &Model, v: &Value, path: &str) -> Result<Filter> {
    match v {
        Value::Null => Ok(Filter::True),
        Value::Object(obj) => parse_object(cx, model, obj, path),
        _ => Err(Error::invalid_args(path, "expected a where object")),
    }
}

fn parse_list(cx: &Cx<'_>, model: &Model, v: &Value, path: &str) -> Result<Vec<Filter>> {
    match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_where(cx, model, item, &format!("{path}[{i}]")))
            .collect(),
        Value::Object(_) => Ok(vec![parse_where(cx, model, v, path)?]),
        _ => Err(Error::invalid_args(
            path,
            "expected a where object or an array of them",
        )),
    }
}

fn parse_object(
    cx: &Cx<'_>,
    model: &Model,
    obj: &Map<String, Value>,
    path: &str,
) -> Result<Filter> {
    let mut out = Filter::True;
    for (key, v) in obj {
        let p = join(path, key);
        let f = match key.as_str() {
            "AND" => Filter::And(parse_list(cx, model, v, &p)?),
            "OR" => Filter::Or(parse_list(cx, model, v, &p)?),
            // Prisma semantics: every listed condition must be false.
            "NOT" => Filter::And(
                parse_list(cx, model, v, &p)?
                    .into_iter()
                    .map(|f| Filter::Not(Box::new(f)))
                    .collect(),
            ),
            "$raw" => parse_raw(v, &p)?,
            _ => {
                let Some(field) = model.field(key) else {
                    return Err(Error::UnknownField {
                        model: model.name.clone(),
                        field: key.clone(),
                        path: p,
                    });
                };
                match &field.ty {
                    FieldType::Relation(_) => parse_relation(cx, model, field, v, &p)?,
                    _ if !field.is_column() => {
                        return Err(Error::invalid_args(
                            p,
                            format!(
                                "`{}.{}` is derived, not stored: it cannot be filtered on",
                                model.name, field.name
                            ),
                        ));
                    }
                    _ if field.encrypted.is_some() => super::policy::guard_field_filter(
                        cx,
                        model,
                        field,
                        parse_encrypted(cx, model, field, v, &p)?,
                    )?,
                    _ => super::policy::guard_field_filter(
                        cx,
                        model,
                        field,
                        parse_field(cx.schema, model, field, v, &p)?,
                    )?,
                }
            }
        };
        out = out.and(f);
    }
    Ok(out)
}

/// A filter on an `@encrypted` field. `null` checks work as usual. With
/// `searchable: true`, equality, `equals`, `in`, `not` and `notIn` compare
/// the deterministic ciphertext of the given values; other operators are
/// refused. Without `searchable`, any value comparison matches nothing (the
/// README: "always null (not searchable)").
fn parse_encrypted(
    cx: &Cx<'_>,
    model: &Model,
    field: &Field,
    v: &Value,
    path: &str,
) -> Result<Filter> {
    let searchable = field.encrypted.is_some_and(|e| e.searchable);
    let col = || Col::Column(field.column.clone());
    let null_check = |v: &Value| -> Option<Filter> {
        match v {
            Value::Null => Some(Filter::Null {
                col: col(),
                is_null: true,
            }),
            Value::Object(o) if o.len() == 1 && o.get("not") == Some(&Value::Null) => {
                Some(Filter::Null {
                    col: col(),
                    is_null: false,
                })
            }
            _ => None,
        }
    };
    if let Some(f) = null_check(v) {
        return Ok(f);
    }
    if !searchable {
        return Ok(Filter::Or(Vec::new()));
    }
    let seal = |x: &Value| -> Value {
        match (x, cx.crypto) {
            (Value::String(s), Some(c)) => Value::String(c.encrypt(s, true)),
            _ => x.clone(),
        }
    };
    let sealed = match v {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, x) in o {
                let x = match (k.as_str(), x) {
                    ("equals" | "not", _) => seal(x),
                    ("in" | "notIn", Value::Array(a)) => Value::Array(a.iter().map(seal).collect()),
                    _ => {
                        return Err(Error::invalid_args(
                            join(path, k),
                            format!(
                                "`{}.{}` is encrypted: only equality, in, not and notIn apply",
                                model.name, field.name
                            ),
                        ));
                    }
                };
                out.insert(k.clone(), x);
            }
            Value::Object(out)
        }
        other => seal(other),
    };
    parse_field(cx.schema, model, field, &sealed, path)
}

/// Counts `?` placeholders outside string literals and quoted identifiers.
fn count_placeholders(sql: &str) -> usize {
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' || c == '`' => quote = Some(c),
            None if c == '?' => n += 1,
            None => {}
        }
    }
    n
}

/// `$raw`: a parameterless string or `{sql, params}`.
pub(crate) fn parse_raw(v: &Value, path: &str) -> Result<Filter> {
    let (sql, params) = match v {
        Value::String(s) => (s.clone(), Vec::new()),
        Value::Object(o) => {
            let Some(Value::String(sql)) = o.get("sql") else {
                return Err(Error::invalid_args(
                    join(path, "sql"),
                    "expected the SQL text of the fragment",
                ));
            };
            for k in o.keys() {
                if k != "sql" && k != "params" {
                    return Err(Error::invalid_args(
                        join(path, k),
                        "unknown key (a raw fragment has `sql` and `params`)",
                    ));
                }
            }
            let params = match o.get("params") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a.iter().map(codec::json_to_sql).collect(),
                Some(_) => {
                    return Err(Error::invalid_args(
                        join(path, "params"),
                        "expected an array of parameters",
                    ));
                }
            };
            (sql.clone(), params)
        }
        _ => {
            return Err(Error::invalid_args(
                path,
                "expected a SQL string or {sql, params}",
            ));
        }
    };
    if sql.trim().is_empty() {
        return Err(Error::invalid_args(path, "empty raw SQL fragment"));
    }
    let n = count_placeholders(&sql);
    if n != params.len() {
        return Err(Error::invalid_args(
            path,
            format!(
                "the fragment has {n} `?` placeholder(s) but {} parameter(s)",
                params.len()
            ),
        ));
    }
    Ok(Filter::Raw { sql, params })
}

fn is_operator_object(obj: &Map<String, Value>) -> bool {
    !obj.is_empty() && obj.keys().all(|k| OPERATORS.contains(&k.as_str()))
}

struct Operand<'a> {
    schema: &'a Schema,
    model: &'a str,
    field: &'a str,
    kind: Kind,
}

impl Operand<'_> {
    fn encode(&self, v: &Value) -> Result<SqlValue> {
        if self.kind.base == Base::Raw {
            return Ok(codec::json_to_sql(v));
        }
        codec::encode(
            self.schema,
            Target {
                model: self.model,
                field: self.field,
            },
            self.kind,
            v,
        )
    }
}

fn parse_field(
    schema: &Schema,
    model: &Model,
    field: &Field,
    v: &Value,
    path: &str,
) -> Result<Filter> {
    let kind = Kind::of(field);
    let col = Col::Column(field.column.clone());
    let json_like = kind.list || matches!(kind.base, Base::Json | Base::Shape(_));
    if let (true, Value::Object(obj)) = (json_like && !kind.list, v) {
        if !is_operator_object(obj) {
            return parse_json_path(
                schema,
                model,
                field,
                kind.base,
                &field.column,
                "$",
                obj,
                path,
            );
        }
    }
    let op = Operand {
        schema,
        model: &model.name,
        field: &field.name,
        kind,
    };
    parse_cond(&op, col, v, path)
}

#[allow(clippy::too_many_arguments)]
fn parse_json_path(
    schema: &Schema,
    model: &Model,
    field: &Field,
    base: Base,
    column: &str,
    json_path: &str,
    obj: &Map<String, Value>,
    path: &str,
) -> Result<Filter> {
    let mut out = Filter::True;
    for (key, v) in obj {
        let p = join(path, key);
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::invalid_args(
                p,
                "JSON path keys must be identifiers ([A-Za-z0-9_])",
            ));
        }
        let sub_base = match base {
            Base::Shape(id) => {
                let ty = schema.type_by_id(id);
                let Some(sf) = ty.fields.iter().find(|f| &f.name == key) else {
                    return Err(Error::UnknownField {
                        model: format!("{}.{} ({})", model.name, field.name, ty.name),
                        field: key.clone(),
                        path: p,
                    });
                };
                match &sf.ty {
                    FieldType::Shape(t) if !sf.list => Base::Shape(*t),
                    _ => Base::Raw,
                }
            }
            _ => Base::Json,
        };
        let jp = format!("{json_path}.{key}");
        let f = match v {
            Value::Object(inner) if !is_operator_object(inner) => {
                parse_json_path(schema, model, field, sub_base, column, &jp, inner, &p)?
            }
            _ => {
                let op = Operand {
                    schema,
                    model: &model.name,
                    field: &field.name,
                    kind: Kind::RAW,
                };
                let col = Col::Json {
                    column: column.to_string(),
                    path: jp,
                };
                parse_cond(&op, col, v, &p)?
            }
        };
        out = out.and(f);
    }
    Ok(out)
}

fn parse_cond(op: &Operand<'_>, col: Col, v: &Value, path: &str) -> Result<Filter> {
    match v {
        Value::Null => Ok(Filter::Null { col, is_null: true }),
        Value::Object(obj) => parse_ops(op, col, obj, path),
        _ => Ok(Filter::Cmp {
            col,
            op: CmpOp::Eq,
            value: op.encode(v)?,
        }),
    }
}

fn parse_ops(op: &Operand<'_>, col: Col, obj: &Map<String, Value>, path: &str) -> Result<Filter> {
    let insensitive = match obj.get("mode") {
        None => false,
        Some(Value::String(m)) if m == "insensitive" => true,
        Some(Value::String(m)) if m == "default" => false,
        Some(_) => {
            return Err(Error::invalid_args(
                join(path, "mode"),
                "expected \"default\" or \"insensitive\"",
            ));
        }
    };
    if obj.is_empty() {
        return Err(Error::invalid_args(path, "empty condition object"));
    }
    let mut out = Filter::True;
    for (key, v) in obj {
        let p = join(path, key);
        let f = match key.as_str() {
            "mode" => continue,
            "equals" => parse_cond(op, col.clone(), v, &p)?,
            "not" => match v {
                Value::Null => Filter::Null {
                    col: col.clone(),
                    is_null: false,
                },
                Value::Object(inner) if is_operator_object(inner) => {
                    Filter::Not(Box::new(parse_ops(op, col.clone(), inner, &p)?))
                }
                _ => Filter::Cmp {
                    col: col.clone(),
                    op: CmpOp::Ne,
                    value: op.encode(v)?,
                },
            },
            "in" | "notIn" => {
                let Value::Array(items) = v else {
                    return Err(Error::invalid_args(p, "expected an array"));
                };
                let mut values = Vec::with_capacity(items.len());
                let mut with_null = false;
                for item in items {
                    if item.is_null() {
                        with_null = true;
                    } else {
                        values.push(op.encode(item)?);
                    }
                }
                Filter::In {
                    col: col.clone(),
                    values,
                    with_null,
                    negated: key == "notIn",
                }
            }
            "lt" | "lte" | "gt" | "gte" => {
                if v.is_null() {
                    return Err(Error::invalid_args(p, "cannot compare with null"));
                }
                Filter::Cmp {
                    col: col.clone(),
                    op: match key.as_str() {
                        "lt" => CmpOp::Lt,
                        "lte" => CmpOp::Lte,
                        "gt" => CmpOp::Gt,
                        _ => CmpOp::Gte,
                    },
                    value: op.encode(v)?,
                }
            }
            "contains" | "startsWith" | "endsWith" => {
                let textual = op.kind.is_textual() || op.kind.base == Base::Raw;
                if !textual {
                    return Err(Error::UnknownOperator {
                        model: op.model.to_string(),
                        field: op.field.to_string(),
                        operator: key.clone(),
                        path: p,
                    });
                }
                let Value::String(s) = v else {
                    return Err(Error::invalid_args(p, "expected a string"));
                };
                // GLOB/LIKE patterns end at a NUL: refuse rather than match everything.
                if s.contains('\0') {
                    return Err(Error::invalid_args(
                        p,
                        "NUL characters are not supported in text patterns",
                    ));
                }
                Filter::Text {
                    col: col.clone(),
                    op: match key.as_str() {
                        "contains" => TextOp::Contains,
                        "startsWith" => TextOp::StartsWith,
                        _ => TextOp::EndsWith,
                    },
                    value: s.clone(),
                    insensitive,
                }
            }
            _ => {
                return Err(Error::UnknownOperator {
                    model: op.model.to_string(),
                    field: op.field.to_string(),
                    operator: key.clone(),
                    path: p,
                });
            }
        };
        out = out.and(f);
    }
    Ok(out)
}

/// The link from `model` to the target of relation field `field`.
pub(crate) fn relation_link(schema: &Schema, model: &Model, field: &Field) -> Result<(Link, bool)> {
    let rel = field
        .relation()
        .ok_or_else(|| Error::invalid_args(&field.name, "not a relation"))?;
    let target = schema.model_by_id(rel.target);
    Ok(match &rel.kind {
        RelationKind::BelongsTo {
            fields, references, ..
        } => (
            Link::Direct {
                pairs: references
                    .iter()
                    .zip(fields)
                    .map(|(r, f)| {
                        (
                            target.field_by_id(*r).column.clone(),
                            model.field_by_id(*f).column.clone(),
                        )
                    })
                    .collect(),
            },
            false,
        ),
        RelationKind::HasMany { inverse } | RelationKind::HasOne { inverse } => {
            let inv = target.field_by_id(*inverse);
            let Some(RelationKind::BelongsTo {
                fields, references, ..
            }) = inv.relation().map(|r| &r.kind)
            else {
                return Err(Error::invalid_args(
                    &field.name,
                    "relation has no belongs-to inverse",
                ));
            };
            (
                Link::Direct {
                    pairs: fields
                        .iter()
                        .zip(references)
                        .map(|(f, r)| {
                            (
                                target.field_by_id(*f).column.clone(),
                                model.field_by_id(*r).column.clone(),
                            )
                        })
                        .collect(),
                },
                matches!(rel.kind, RelationKind::HasMany { .. }),
            )
        }
        RelationKind::ManyToMany(jt) => (
            Link::Through {
                table: jt.table.clone(),
                source_col: jt.source_column.clone(),
                source_ref: model.field_by_id(jt.source_ref).column.clone(),
                target_col: jt.target_column.clone(),
                target_ref: target.field_by_id(jt.target_ref).column.clone(),
            },
            true,
        ),
    })
}

fn parse_relation(
    cx: &Cx<'_>,
    model: &Model,
    field: &Field,
    v: &Value,
    path: &str,
) -> Result<Filter> {
    let Some(rel) = field.relation() else {
        return Err(Error::invalid_args(path, "not a relation"));
    };
    let target = cx.schema.model_by_id(rel.target);
    let (link, to_many) = relation_link(cx.schema, model, field)?;
    let rel_filter = |quant: Quant, inner: Filter| Filter::Rel {
        table: target.table.clone(),
        link: link.clone(),
        quant,
        inner: Box::new(inner),
    };
    // Related rows the caller may not read neither match nor count.
    let live = live_filter(target).and(super::policy::read_filter(cx, target)?);
    if to_many {
        let Value::Object(obj) = v else {
            return Err(Error::invalid_args(
                path,
                "expected {some|every|none: where} for a to-many relation",
            ));
        };
        let mut out = Filter::True;
        for (key, w) in obj {
            let p = join(path, key);
            let quant = match key.as_str() {
                "some" => Quant::Some,
                "none" => Quant::None,
                "every" => Quant::Every,
                _ => {
                    return Err(Error::UnknownOperator {
                        model: model.name.clone(),
                        field: field.name.clone(),
                        operator: key.clone(),
                        path: p,
                    });
                }
            };
            let inner = parse_where(cx, target, w, &p)?;
            let f = match quant {
                Quant::Every => rel_filter(Quant::Every, with_live_every(live.clone(), inner)),
                q => rel_filter(q, live.clone().and(inner)),
            };
            out = out.and(f);
        }
        return Ok(out);
    }
    match v {
        Value::Null => Ok(rel_filter(Quant::None, live)),
        Value::Object(obj) if obj.keys().all(|k| k == "is" || k == "isNot") && !obj.is_empty() => {
            let mut out = Filter::True;
            for (key, w) in obj {
                let p = join(path, key);
                let f = match (key.as_str(), w) {
                    ("is", Value::Null) => rel_filter(Quant::None, live.clone()),
                    ("isNot", Value::Null) => rel_filter(Quant::Some, live.clone()),
                    ("is", w) => rel_filter(
                        Quant::Some,
                        live.clone().and(parse_where(cx, target, w, &p)?),
                    ),
                    (_, w) => rel_filter(
                        Quant::None,
                        live.clone().and(parse_where(cx, target, w, &p)?),
                    ),
                };
                out = out.and(f);
            }
            Ok(out)
        }
        Value::Object(_) => Ok(rel_filter(
            Quant::Some,
            live.and(parse_where(cx, target, v, path)?),
        )),
        _ => Err(Error::invalid_args(
            path,
            "expected {is|isNot: where}, a where object or null for a to-one relation",
        )),
    }
}

/// `every` compiles to `NOT EXISTS (… AND NOT (inner))`; soft-deleted rows
/// must not count as violations, so the inner condition becomes
/// "deleted, or matches".
fn with_live_every(live: Filter, inner: Filter) -> Filter {
    if live.is_true() {
        inner
    } else {
        Filter::Or(vec![Filter::Not(Box::new(live)), inner])
    }
}
