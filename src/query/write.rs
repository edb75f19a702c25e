//! `data` JSON → column values for INSERT and UPDATE: defaults filled in
//! Rust, transforms then validators, type checks and encoding.
//!
//! Decisions where the README is silent:
//! - A required column (not optional, no default, not an integer primary
//!   key, not a sequence) missing from `create` data is a `required`
//!   validation error raised before SQLite sees the row.
//! - `@default(auth().x)` with no auth (or no such key) leaves the column to
//!   its optionality / the required check.
//! - `@updatedAt` is stamped on create and on every update; `@updatedBy` on
//!   every update (and on create when the column is absent) from `ctx.auth`.
//! - Relation keys in `data` (nested writes) are not supported yet and are an
//!   `InvalidArgs` at `data.<relation>`; derived and generated fields are
//!   read-only.

use std::borrow::Cow;

use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::Cx;
use super::ast::{InsertRow, InsertVal, SetExpr};
use super::validate::{apply_transforms, check_validators};
use crate::codec::{self, Base, Kind, Target, datetime};
use crate::error::{Error, Result};
use crate::schema::{DefaultValue, Field, FieldType, Model, ScalarType};

fn join(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

fn nanoid() -> String {
    const ALPHABET: &[u8; 64] = b"_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let a = uuid::Uuid::new_v4();
    let b = uuid::Uuid::new_v4();
    a.as_bytes()
        .iter()
        .chain(b.as_bytes())
        .take(21)
        .map(|x| ALPHABET[usize::from(x & 63)] as char)
        .collect()
}

fn auth_path(cx: &Cx<'_>, path: &[String]) -> Option<Value> {
    let mut v = cx.auth?;
    for k in path {
        v = v.get(k)?;
    }
    (!v.is_null()).then(|| v.clone())
}

fn check_writable(model: &Model, f: &Field, path: impl Fn() -> String) -> Result<()> {
    if f.relation().is_some() {
        return Err(Error::invalid_args(
            path(),
            format!(
                "nested writes through `{}.{}` are not supported yet",
                model.name, f.name
            ),
        ));
    }
    if !f.is_column() || f.generated.is_some() {
        return Err(Error::invalid_args(
            path(),
            format!(
                "`{}.{}` is derived or generated: it is read-only",
                model.name, f.name
            ),
        ));
    }
    Ok(())
}

/// Transforms, validates and encodes one written value.
pub(crate) fn encode_value(cx: &Cx<'_>, model: &Model, f: &Field, v: Value) -> Result<SqlValue> {
    encode_ref(cx, model, f, &v)
}

/// [`encode_value`] on a borrowed value: clones only when a transform has
/// to rewrite it.
pub(crate) fn encode_ref(cx: &Cx<'_>, model: &Model, f: &Field, v: &Value) -> Result<SqlValue> {
    if v.is_null() {
        if !f.optional {
            return Err(Error::validation(
                &model.name,
                &f.name,
                "required",
                "null is not allowed: the field is not optional",
            ));
        }
        return Ok(SqlValue::Null);
    }
    let transformed;
    let v = if f.transforms.is_empty() {
        v
    } else {
        let mut t = v.clone();
        apply_transforms(&f.transforms, &mut t);
        transformed = t;
        &transformed
    };
    let kind = Kind::of(f);
    let enc = codec::encode(
        cx.schema,
        Target {
            model: &model.name,
            field: &f.name,
        },
        kind,
        v,
    )?;
    // Validators see the normalised value (a canonical DateTime, say).
    if !f.validators.is_empty() {
        match (&enc, kind.base) {
            (SqlValue::Text(s), Base::DateTime) => check_validators(
                &model.name,
                &f.name,
                &f.validators,
                &Value::String(s.clone()),
            )?,
            _ => check_validators(&model.name, &f.name, &f.validators, v)?,
        }
    }
    if let Some(e) = f.encrypted {
        return encrypt(cx, model, f, enc, e.searchable);
    }
    Ok(enc)
}

/// The stored form of an `@encrypted` field's value.
fn encrypt(
    cx: &Cx<'_>,
    model: &Model,
    f: &Field,
    v: SqlValue,
    searchable: bool,
) -> Result<SqlValue> {
    let SqlValue::Text(s) = v else {
        return Ok(v);
    };
    let Some(c) = cx.crypto else {
        return Err(Error::validation(
            &model.name,
            &f.name,
            "encrypted",
            "the field is @encrypted but the client has no encryption_key",
        ));
    };
    Ok(SqlValue::Text(c.encrypt(&s, searchable)))
}

fn default_value(cx: &Cx<'_>, d: &DefaultValue) -> Option<Value> {
    match d {
        DefaultValue::Literal(v) => Some(v.clone()),
        DefaultValue::Now => Some(Value::String(datetime::now())),
        DefaultValue::Uuid => Some(Value::String(uuid::Uuid::new_v4().to_string())),
        DefaultValue::Ulid => Some(Value::String(ulid::Ulid::generate().to_string())),
        DefaultValue::Nanoid => Some(Value::String(nanoid())),
        DefaultValue::Auth(p) => auth_path(cx, p),
        DefaultValue::Env { var, fallback } => std::env::var(var)
            .ok()
            .map(Value::String)
            .or_else(|| fallback.clone()),
        DefaultValue::Field(_) | DefaultValue::Autoincrement | DefaultValue::Sql(_) => None,
    }
}

fn is_rowid_alias(model: &Model, f: &Field) -> bool {
    f.is_id && model.primary_key.len() == 1 && f.ty == FieldType::Scalar(ScalarType::Integer)
}

/// Builds one INSERT row from a `data` object.
pub(crate) fn insert_row(
    cx: &Cx<'_>,
    model: &Model,
    data: &Value,
    path: &str,
) -> Result<InsertRow> {
    let mut b = RowBuilder::new(model);
    b.build(cx, model, data, &|| path.to_string())?;
    Ok(b.take_row(model))
}

/// Builds INSERT rows from `data` objects, for one row ([`insert_row`]) or
/// many (`createMany`): the buffers are reused from row to row, and the keys
/// of a row are resolved to fields (checked to exist and be writable) once
/// for a run of rows whose keys come in the same order, instead of two hash
/// lookups per key and row.
pub(crate) struct RowBuilder<'a> {
    /// The keys of the last row built and the index of their fields.
    keys: Vec<(&'a str, usize)>,
    /// Per field index: the value the current row gives it.
    given: Vec<Option<&'a Value>>,
    /// Whether a `@default(otherField)` needs the written values kept.
    keep_raw: bool,
    /// The row built last: field index and value per column, in the order
    /// [`insert_row`] lists the columns.
    pub(crate) values: Vec<(usize, InsertVal)>,
}

impl<'a> RowBuilder<'a> {
    /// An empty builder for rows of `model`.
    pub(crate) fn new(model: &Model) -> Self {
        RowBuilder {
            keys: Vec::new(),
            given: Vec::with_capacity(model.fields.len()),
            keep_raw: model
                .fields
                .iter()
                .any(|f| matches!(f.default, Some(DefaultValue::Field(_)))),
            values: Vec::with_capacity(model.fields.len()),
        }
    }

    /// Whether the row built last has a `@sequence` column (whose value
    /// SQLite computes, so its statement is not all parameters).
    pub(crate) fn has_sequence(&self) -> bool {
        self.values
            .iter()
            .any(|(_, v)| matches!(v, InsertVal::Sequence { .. }))
    }

    /// A copy of the row built last, with its column names.
    pub(crate) fn row(&self, model: &Model) -> InsertRow {
        InsertRow {
            values: self
                .values
                .iter()
                .map(|(i, v)| (model.fields[*i].column.clone(), v.clone()))
                .collect(),
        }
    }

    /// The row built last, with its column names (empties `values`).
    pub(crate) fn take_row(&mut self, model: &Model) -> InsertRow {
        InsertRow {
            values: self
                .values
                .drain(..)
                .map(|(i, v)| (model.fields[i].column.clone(), v))
                .collect(),
        }
    }

    /// Resolves the keys of `obj` to fields (unknown and read-only keys are
    /// errors, the first in key order) into `self.given`.
    fn resolve(
        &mut self,
        model: &Model,
        obj: &'a Map<String, Value>,
        path: &dyn Fn() -> String,
    ) -> Result<()> {
        let same = self.keys.len() == obj.len()
            && self
                .keys
                .iter()
                .zip(obj.keys())
                .all(|((k, _), o)| *k == o.as_str());
        if !same {
            self.keys.clear();
            for key in obj.keys() {
                let found = model.field_id(key).map(|id| id.0 as usize);
                let Some(i) = found else {
                    self.keys.clear();
                    return Err(Error::UnknownField {
                        model: model.name.clone(),
                        field: key.clone(),
                        path: join(&path(), key),
                    });
                };
                if let Err(e) = check_writable(model, &model.fields[i], || join(&path(), key)) {
                    self.keys.clear();
                    return Err(e);
                }
                self.keys.push((key.as_str(), i));
            }
        }
        self.given.clear();
        self.given.resize(model.fields.len(), None);
        for ((_, i), v) in self.keys.iter().zip(obj.values()) {
            self.given[*i] = Some(v);
        }
        Ok(())
    }

    /// Builds one row from a `data` object into `self.values`; `path`
    /// names the object in errors (formatted only when there is one).
    pub(crate) fn build(
        &mut self,
        cx: &Cx<'_>,
        model: &Model,
        data: &'a Value,
        path: &dyn Fn() -> String,
    ) -> Result<()> {
        let Value::Object(obj) = data else {
            return Err(Error::invalid_args(path(), "expected a data object"));
        };
        self.resolve(model, obj, path)?;
        self.values.clear();
        let given = &self.given;
        let values = &mut self.values;
        // Written values kept only when a `@default(otherField)` needs them.
        let mut raw: Vec<(usize, Value)> = Vec::new();
        let mut copies = Vec::new();
        for (i, f) in model.fields.iter().enumerate() {
            if !f.is_column() || f.generated.is_some() {
                continue;
            }
            let v: Option<Cow<'_, Value>> = match given[i] {
                Some(v) => Some(Cow::Borrowed(v)),
                None if f.sequence.is_some() => {
                    let scope = match f.sequence.as_ref().and_then(|s| s.scope) {
                        Some(sid) => {
                            let sf = model.field_by_id(sid);
                            let sv = given[sid.0 as usize]
                                .cloned()
                                .or_else(|| sf.default.as_ref().and_then(|d| default_value(cx, d)))
                                .unwrap_or(Value::Null);
                            Some((sf.column.clone(), encode_value(cx, model, sf, sv)?))
                        }
                        None => None,
                    };
                    values.push((i, InsertVal::Sequence { scope }));
                    continue;
                }
                None if f.updated_at => Some(Cow::Owned(Value::String(datetime::now()))),
                None if f.updated_by.is_some() => f
                    .updated_by
                    .as_deref()
                    .and_then(|p| auth_path(cx, p))
                    .map(Cow::Owned),
                None => match &f.default {
                    Some(DefaultValue::Field(src)) => {
                        copies.push((i, *src));
                        continue;
                    }
                    Some(d) => default_value(cx, d).map(Cow::Owned),
                    None => None,
                },
            };
            match v {
                Some(v) => {
                    if self.keep_raw {
                        raw.push((i, v.clone().into_owned()));
                    }
                    values.push((i, InsertVal::Param(encode_ref(cx, model, f, &v)?)));
                }
                None => {
                    // Required lists without a default get `'[]'` in the DDL.
                    let db_default = matches!(
                        f.default,
                        Some(DefaultValue::Sql(_) | DefaultValue::Autoincrement)
                    ) || (f.list && f.default.is_none() && !model.external);
                    if !f.optional && !db_default && !is_rowid_alias(model, f) {
                        return Err(Error::validation(
                            &model.name,
                            &f.name,
                            "required",
                            format!("`{}` is required", f.name),
                        ));
                    }
                }
            }
        }
        for (i, src) in copies {
            let f = &model.fields[i];
            let v = raw
                .iter()
                .find(|(j, _)| *j == src.0 as usize)
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null);
            values.push((i, InsertVal::Param(encode_value(cx, model, f, v)?)));
        }
        Ok(())
    }
}

const ARITH: &[(&str, &str)] = &[
    ("increment", "+"),
    ("decrement", "-"),
    ("multiply", "*"),
    ("divide", "/"),
];

/// Builds the SET list of an UPDATE from a `data` object (plus `@updatedAt`
/// / `@updatedBy` stamps).
pub(crate) fn update_set(
    cx: &Cx<'_>,
    model: &Model,
    data: &Value,
    path: &str,
) -> Result<Vec<(String, SetExpr)>> {
    let Value::Object(obj) = data else {
        return Err(Error::invalid_args(path, "expected a data object"));
    };
    let mut set = Vec::with_capacity(obj.len() + 1);
    for (key, v) in obj {
        let p = join(path, key);
        let Some(f) = model.field(key) else {
            return Err(Error::UnknownField {
                model: model.name.clone(),
                field: key.clone(),
                path: p,
            });
        };
        check_writable(model, f, || p.clone())?;
        set.push((f.column.clone(), set_expr(cx, model, f, v, &p)?));
    }
    for f in &model.fields {
        if obj.contains_key(&f.name) {
            continue;
        }
        if f.updated_at {
            set.push((
                f.column.clone(),
                SetExpr::Value(SqlValue::Text(datetime::now())),
            ));
        } else if let Some(v) = f.updated_by.as_deref().and_then(|p| auth_path(cx, p)) {
            set.push((
                f.column.clone(),
                SetExpr::Value(encode_value(cx, model, f, v)?),
            ));
        }
    }
    Ok(set)
}

fn set_expr(cx: &Cx<'_>, model: &Model, f: &Field, v: &Value, path: &str) -> Result<SetExpr> {
    if let Value::Object(o) = v {
        if o.len() == 1 {
            if let Some(x) = o.get("set") {
                return Ok(SetExpr::Value(encode_ref(cx, model, f, x)?));
            }
            let kind = Kind::of(f);
            if let Some((key, op)) = ARITH.iter().find(|(k, _)| o.contains_key(*k)) {
                if !kind.is_numeric() {
                    return Err(Error::UnknownOperator {
                        model: model.name.clone(),
                        field: f.name.clone(),
                        operator: (*key).to_string(),
                        path: join(path, key),
                    });
                }
                let operand = o.get(*key).unwrap_or(&Value::Null);
                let n = codec::encode(
                    cx.schema,
                    Target {
                        model: &model.name,
                        field: &f.name,
                    },
                    kind,
                    operand,
                )?;
                if matches!(n, SqlValue::Null) {
                    return Err(Error::invalid_args(join(path, key), "expected a number"));
                }
                return Ok(SetExpr::Arith(op, n));
            }
        }
        if !Kind::of(f).is_json_text() {
            let key = o.keys().next().cloned().unwrap_or_default();
            return Err(Error::UnknownOperator {
                model: model.name.clone(),
                field: f.name.clone(),
                operator: key.clone(),
                path: join(path, &key),
            });
        }
    }
    Ok(SetExpr::Value(encode_ref(cx, model, f, v)?))
}

/// The fields of a unique constraint (or primary key) that `where` pins by
/// plain equality, when there is one.
pub(crate) fn unique_target<'m>(
    model: &'m Model,
    w: &Map<String, Value>,
) -> Option<Vec<&'m Field>> {
    let pinned = |f: &Field| match w.get(&f.name) {
        None | Some(Value::Null) => false,
        Some(Value::Object(o)) => o.len() == 1 && o.get("equals").is_some_and(|x| !x.is_null()),
        Some(_) => true,
    };
    // Primary key first, then @@unique sets, then single @unique / @id fields.
    let pk = std::iter::once(model.primary_key.as_slice());
    let uniques = model.uniques.iter().map(|u| u.fields.as_slice());
    let singles = model
        .fields
        .iter()
        .filter(|f| (f.is_unique || f.is_id) && f.is_column())
        .map(|f| std::slice::from_ref(&f.id));
    pk.chain(uniques)
        .chain(singles)
        .filter(|s| !s.is_empty())
        .find(|s| s.iter().all(|id| pinned(model.field_by_id(*id))))
        .map(|s| s.iter().map(|id| model.field_by_id(*id)).collect())
}

/// Names of the unique keys of a model, for error messages.
pub(crate) fn unique_names(model: &Model) -> String {
    let mut names: Vec<String> = Vec::new();
    if !model.primary_key.is_empty() {
        names.push(
            model
                .primary_key
                .iter()
                .map(|id| model.field_by_id(*id).name.clone())
                .collect::<Vec<_>>()
                .join(" + "),
        );
    }
    for u in &model.uniques {
        names.push(
            u.fields
                .iter()
                .map(|id| model.field_by_id(*id).name.clone())
                .collect::<Vec<_>>()
                .join(" + "),
        );
    }
    for f in &model.fields {
        if f.is_unique && !names.contains(&f.name) {
            names.push(f.name.clone());
        }
    }
    names.join(", ")
}

/// A bare data object's keys that are columns, for `upsert_many` defaults.
pub(crate) fn data_columns(model: &Model, data: &Map<String, Value>) -> Vec<String> {
    model
        .fields
        .iter()
        .filter(|f| f.is_column() && data.contains_key(&f.name))
        .map(|f| f.column.clone())
        .collect()
}
