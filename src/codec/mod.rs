//! SQLite values ⇄ JSON / serde, per field type.
//!
//! Owns the storage conventions: Boolean as INTEGER 0/1, DateTime as canonical
//! UTC ISO-8601 text, Json / typed shapes / `Type[]` / File as JSON text, Blob
//! as bytes (base64 text in JSON), enums as checked TEXT. Writing validates and
//! normalises ([`encode`]); reading decodes a column either into a
//! `serde_json::Value` ([`decode`]) or straight into a serde visitor
//! ([`de::RowDeserializer`]).
//!
//! Knows nothing of queries: it never builds SQL.
//!
//! Decisions where the README is silent:
//! - A JSON string for an Integer/Real/Boolean is a `type` validation error
//!   (no coercion, matching STRICT tables); an integral float (`3.0`) is
//!   accepted for an Integer, a fractional one is a `type` error, one outside
//!   the i64 range a `range` error.
//! - Blob accepts a standard or URL-safe base64 string (padding optional) or
//!   an array of byte numbers, and reads back as standard padded base64.
//! - DateTime accepts only strings (see [`datetime`]); values are stored and
//!   returned in the canonical form.

pub(crate) mod crypto;
pub(crate) mod datetime;
pub(crate) mod de;

use base64::Engine as _;
use rusqlite::types::{Value as SqlValue, ValueRef};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::schema::{EnumId, Field, FieldType, ScalarType, Schema, TypeId};

/// What a stored column holds, for encoding and decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Base {
    /// INTEGER.
    Integer,
    /// REAL.
    Real,
    /// TEXT.
    Text,
    /// INTEGER 0/1 ⇄ bool.
    Boolean,
    /// Canonical ISO-8601 TEXT.
    DateTime,
    /// JSON TEXT, any value.
    Json,
    /// BLOB ⇄ base64.
    Blob,
    /// JSON TEXT file reference.
    File,
    /// Checked TEXT.
    Enum(EnumId),
    /// JSON TEXT validated against a shape.
    Shape(TypeId),
    /// The value as SQLite returns it (aggregates, raw SQL).
    Raw,
}

/// A column kind: its base type and whether it is a `Type[]` JSON array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Kind {
    /// Element type.
    pub(crate) base: Base,
    /// `Type[]`: stored as a JSON array of `base` values.
    pub(crate) list: bool,
}

impl Kind {
    /// A raw SQLite value.
    pub(crate) const RAW: Kind = Kind {
        base: Base::Raw,
        list: false,
    };

    /// The kind of a stored field.
    pub(crate) fn of(field: &Field) -> Kind {
        let base = match &field.ty {
            FieldType::Scalar(s) => match s {
                ScalarType::Integer => Base::Integer,
                ScalarType::Real => Base::Real,
                ScalarType::Text => Base::Text,
                ScalarType::Boolean => Base::Boolean,
                ScalarType::DateTime => Base::DateTime,
                ScalarType::Json => Base::Json,
                ScalarType::Blob => Base::Blob,
                ScalarType::File => Base::File,
            },
            FieldType::Enum(e) => Base::Enum(*e),
            FieldType::Shape(t) => Base::Shape(*t),
            FieldType::Relation(_) => Base::Raw,
        };
        Kind {
            base,
            list: field.list,
        }
    }

    /// Whether the stored text is JSON to parse on read.
    pub(crate) fn is_json_text(self) -> bool {
        self.list || matches!(self.base, Base::Json | Base::File | Base::Shape(_))
    }

    /// Whether the column stores text that `contains`/`startsWith` apply to.
    pub(crate) fn is_textual(self) -> bool {
        !self.list && matches!(self.base, Base::Text | Base::DateTime | Base::Enum(_))
    }

    /// Whether the column is numeric (atomic arithmetic updates apply).
    pub(crate) fn is_numeric(self) -> bool {
        !self.list && matches!(self.base, Base::Integer | Base::Real)
    }
}

fn type_name(base: Base, schema: &Schema) -> String {
    match base {
        Base::Integer => "Integer".into(),
        Base::Real => "Real".into(),
        Base::Text => "Text".into(),
        Base::Boolean => "Boolean".into(),
        Base::DateTime => "DateTime".into(),
        Base::Json => "Json".into(),
        Base::Blob => "Blob".into(),
        Base::File => "File".into(),
        Base::Enum(e) => schema.enum_by_id(e).name.clone(),
        Base::Shape(t) => schema.type_by_id(t).name.clone(),
        Base::Raw => "value".into(),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Where a value being encoded belongs, for error messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    /// Model name.
    pub(crate) model: &'a str,
    /// Field name (or `field.key.key` inside shapes).
    pub(crate) field: &'a str,
}

fn type_err(schema: &Schema, t: Target<'_>, base: Base, v: &Value) -> Error {
    Error::validation(
        t.model,
        t.field,
        "type",
        format!("expected {}, got {}", type_name(base, schema), json_kind(v)),
    )
}

/// Encodes a JSON value for a column of kind `kind` (null handling is the
/// caller's: `v` must not be `null` here unless the kind allows it).
///
/// # Errors
/// [`Error::Validation`] with rule `type`, `range`, `enum` or `datetime`.
pub(crate) fn encode(schema: &Schema, t: Target<'_>, kind: Kind, v: &Value) -> Result<SqlValue> {
    if v.is_null() {
        return Ok(SqlValue::Null);
    }
    if kind.list {
        let Value::Array(items) = v else {
            return Err(Error::validation(
                t.model,
                t.field,
                "type",
                format!(
                    "expected an array of {}, got {}",
                    type_name(kind.base, schema),
                    json_kind(v)
                ),
            ));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(json_element(schema, t, kind.base, item)?);
        }
        return Ok(SqlValue::Text(Value::Array(out).to_string()));
    }
    encode_scalar(schema, t, kind.base, v)
}

fn encode_scalar(schema: &Schema, t: Target<'_>, base: Base, v: &Value) -> Result<SqlValue> {
    Ok(match base {
        Base::Integer => SqlValue::Integer(to_i64(schema, t, v)?),
        Base::Real => match v.as_f64() {
            Some(f) => SqlValue::Real(f),
            None => return Err(type_err(schema, t, base, v)),
        },
        Base::Text => match v {
            Value::String(s) => SqlValue::Text(s.clone()),
            _ => return Err(type_err(schema, t, base, v)),
        },
        Base::Boolean => match v {
            Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
            _ => return Err(type_err(schema, t, base, v)),
        },
        Base::DateTime => match v {
            Value::String(s) => SqlValue::Text(datetime::normalize(s).ok_or_else(|| {
                Error::validation(
                    t.model,
                    t.field,
                    "datetime",
                    format!("`{s}` is not an ISO-8601 date-time"),
                )
            })?),
            _ => return Err(type_err(schema, t, base, v)),
        },
        Base::Json | Base::File => SqlValue::Text(v.to_string()),
        Base::Blob => SqlValue::Blob(blob_bytes(schema, t, v)?),
        Base::Enum(e) => {
            let en = schema.enum_by_id(e);
            match v {
                Value::String(s) if en.values.iter().any(|x| x == s) => SqlValue::Text(s.clone()),
                Value::String(s) => {
                    return Err(Error::validation(
                        t.model,
                        t.field,
                        "enum",
                        format!(
                            "`{s}` is not a value of enum {} ({})",
                            en.name,
                            en.values.join(", ")
                        ),
                    ));
                }
                _ => return Err(type_err(schema, t, base, v)),
            }
        }
        Base::Shape(_) => SqlValue::Text(json_element(schema, t, base, v)?.to_string()),
        Base::Raw => json_to_sql(v),
    })
}

fn to_i64(schema: &Schema, t: Target<'_>, v: &Value) -> Result<i64> {
    let Value::Number(n) = v else {
        return Err(type_err(schema, t, Base::Integer, v));
    };
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    if n.is_u64() {
        return Err(Error::validation(
            t.model,
            t.field,
            "range",
            format!("{n} is outside the 64-bit integer range"),
        ));
    }
    match n.as_f64() {
        Some(f)
            if f.fract() == 0.0
                && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) =>
        {
            Ok(f as i64)
        }
        Some(f) if f.fract() == 0.0 => Err(Error::validation(
            t.model,
            t.field,
            "range",
            format!("{n} is outside the 64-bit integer range"),
        )),
        _ => Err(Error::validation(
            t.model,
            t.field,
            "type",
            format!("expected Integer, got the fractional number {n}"),
        )),
    }
}

fn blob_bytes(schema: &Schema, t: Target<'_>, v: &Value) -> Result<Vec<u8>> {
    match v {
        Value::String(s) => {
            let trimmed = s.trim_end_matches('=');
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(trimmed)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed))
                .map_err(|_| {
                    Error::validation(t.model, t.field, "type", "expected base64 text for a Blob")
                })
        }
        Value::Array(items) => items
            .iter()
            .map(|x| {
                x.as_u64()
                    .filter(|b| *b <= 255)
                    .map(|b| b as u8)
                    .ok_or_else(|| type_err(schema, t, Base::Blob, v))
            })
            .collect(),
        _ => Err(type_err(schema, t, Base::Blob, v)),
    }
}

/// Validates one JSON element (list items, shape values) and returns its
/// normalised JSON form.
fn json_element(schema: &Schema, t: Target<'_>, base: Base, v: &Value) -> Result<Value> {
    Ok(match base {
        Base::Shape(id) => {
            let ty = schema.type_by_id(id);
            let Value::Object(obj) = v else {
                return Err(type_err(schema, t, base, v));
            };
            for key in obj.keys() {
                if !ty.fields.iter().any(|f| &f.name == key) {
                    return Err(Error::validation(
                        t.model,
                        format!("{}.{key}", t.field),
                        "shape",
                        format!("`{key}` is not a key of type {}", ty.name),
                    ));
                }
            }
            let mut out = serde_json::Map::new();
            for sf in &ty.fields {
                let path = format!("{}.{}", t.field, sf.name);
                let inner = Target {
                    model: t.model,
                    field: &path,
                };
                match obj.get(&sf.name) {
                    None | Some(Value::Null) if sf.optional => {
                        if obj.contains_key(&sf.name) {
                            out.insert(sf.name.clone(), Value::Null);
                        }
                    }
                    None | Some(Value::Null) => {
                        return Err(Error::validation(
                            t.model,
                            path.clone(),
                            "required",
                            format!("type {} requires `{}`", ty.name, sf.name),
                        ));
                    }
                    Some(x) => {
                        let sub = Kind::of_shape_field(&sf.ty, sf.list);
                        let val = if sub.list {
                            let Value::Array(items) = x else {
                                return Err(type_err(schema, inner, sub.base, x));
                            };
                            Value::Array(
                                items
                                    .iter()
                                    .map(|i| json_element(schema, inner, sub.base, i))
                                    .collect::<Result<_>>()?,
                            )
                        } else {
                            json_element(schema, inner, sub.base, x)?
                        };
                        crate::query::validate::check_validators(
                            t.model,
                            &path,
                            &sf.validators,
                            &val,
                        )?;
                        out.insert(sf.name.clone(), val);
                    }
                }
            }
            Value::Object(out)
        }
        Base::Json | Base::File | Base::Raw => v.clone(),
        _ => match encode_scalar(schema, t, base, v)? {
            SqlValue::Integer(i) if base == Base::Boolean => Value::Bool(i != 0),
            SqlValue::Blob(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
            other => sql_to_json(&other),
        },
    })
}

impl Kind {
    fn of_shape_field(ty: &FieldType, list: bool) -> Kind {
        let base = match ty {
            FieldType::Scalar(ScalarType::Integer) => Base::Integer,
            FieldType::Scalar(ScalarType::Real) => Base::Real,
            FieldType::Scalar(ScalarType::Text) => Base::Text,
            FieldType::Scalar(ScalarType::Boolean) => Base::Boolean,
            FieldType::Scalar(ScalarType::DateTime) => Base::DateTime,
            FieldType::Scalar(ScalarType::Blob) => Base::Blob,
            FieldType::Scalar(ScalarType::File) => Base::File,
            FieldType::Scalar(ScalarType::Json) | FieldType::Relation(_) => Base::Json,
            FieldType::Enum(e) => Base::Enum(*e),
            FieldType::Shape(t) => Base::Shape(*t),
        };
        Kind { base, list }
    }
}

/// A JSON value as a raw SQLite value (booleans as 0/1, containers as JSON text).
pub(crate) fn json_to_sql(v: &Value) -> SqlValue {
    match v {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        other => SqlValue::Text(other.to_string()),
    }
}

/// A raw SQLite value as JSON (for events and cursors).
pub(crate) fn sql_to_json(v: &SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => Value::from(*i),
        SqlValue::Real(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        SqlValue::Text(s) => Value::String(s.clone()),
        SqlValue::Blob(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
    }
}

/// Decodes a column read from SQLite into JSON by its kind.
pub(crate) fn decode(kind: Kind, v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => {
            if kind.base == Base::Boolean && !kind.list {
                Value::Bool(i != 0)
            } else {
                Value::from(i)
            }
        }
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        ValueRef::Text(t) => {
            let s = text(t);
            if kind.is_json_text() {
                serde_json::from_str(&s).unwrap_or(Value::String(s.into_owned()))
            } else {
                Value::String(s.into_owned())
            }
        }
        ValueRef::Blob(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
    }
}

/// Reads an owned raw value from a row column.
pub(crate) fn owned(v: ValueRef<'_>) -> SqlValue {
    match v {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(i) => SqlValue::Integer(i),
        ValueRef::Real(f) => SqlValue::Real(f),
        ValueRef::Text(t) => SqlValue::Text(text(t).into_owned()),
        ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
    }
}

/// SQLite text as `str`: borrowed when it is valid UTF-8 (the common case,
/// checked with the fast validator), lossily repaired otherwise.
pub(crate) fn text(t: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(t) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(t),
    }
}
