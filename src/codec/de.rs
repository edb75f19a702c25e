//! A serde `Deserializer` over one `rusqlite::Row`, so typed reads
//! (`find_many_as::<T>`) decode straight from SQLite into `T` without an
//! intermediate `serde_json::Value`.
//!
//! The row is presented as a map from field names to values; each value is
//! decoded by its column [`Kind`] exactly as [`super::decode`] would render it
//! in JSON (Boolean as bool, JSON text parsed, Blob as base64 text — or as
//! bytes / a byte sequence when `T` asks for them).

use std::fmt;

use base64::Engine as _;
use rusqlite::types::ValueRef;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};

use super::{Base, Kind};

/// A decode error: the row does not fit `T`.
#[derive(Debug)]
pub(crate) struct DeError(pub(crate) String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

/// One output column: the JSON key and how to decode it.
pub(crate) trait ColumnInfo {
    /// JSON key (field name).
    fn key(&self) -> &str;
    /// Decoding kind.
    fn kind(&self) -> Kind;
}

/// Deserializes one row as a map `{field: value}` over its first
/// `cols.len()` columns.
pub(crate) struct RowDeserializer<'a, 'r, C> {
    pub(crate) row: &'a rusqlite::Row<'r>,
    pub(crate) cols: &'a [C],
}

impl<'de, C: ColumnInfo> de::Deserializer<'de> for RowDeserializer<'_, '_, C> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_map(RowMap {
            row: self.row,
            cols: self.cols,
            i: 0,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct RowMap<'a, 'r, C> {
    row: &'a rusqlite::Row<'r>,
    cols: &'a [C],
    i: usize,
}

impl<'de, C: ColumnInfo> MapAccess<'de> for RowMap<'_, '_, C> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.cols.get(self.i) {
            Some(c) => seed.deserialize(c.key().into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let i = self.i;
        self.i += 1;
        let col = &self.cols[i];
        let v = self.row.get_ref(i).map_err(|e| DeError(e.to_string()))?;
        seed.deserialize(ValueDe {
            v,
            kind: col.kind(),
        })
        .map_err(|e| DeError(format!("field `{}`: {e}", col.key())))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.cols.len() - self.i)
    }
}

/// Deserializes one SQLite value by its column kind.
pub(crate) struct ValueDe<'a> {
    pub(crate) v: ValueRef<'a>,
    pub(crate) kind: Kind,
}

impl<'de> de::Deserializer<'de> for ValueDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.v {
            ValueRef::Null => visitor.visit_unit(),
            ValueRef::Integer(i) => {
                if self.kind.base == Base::Boolean && !self.kind.list {
                    visitor.visit_bool(i != 0)
                } else {
                    visitor.visit_i64(i)
                }
            }
            ValueRef::Real(f) => visitor.visit_f64(f),
            ValueRef::Text(t) => {
                let s = std::str::from_utf8(t).map_err(|e| DeError(e.to_string()))?;
                if self.kind.is_json_text() {
                    let v: serde_json::Value =
                        serde_json::from_str(s).map_err(|e| DeError(e.to_string()))?;
                    de::Deserializer::deserialize_any(v, visitor)
                        .map_err(|e| DeError(e.to_string()))
                } else {
                    visitor.visit_str(s)
                }
            }
            ValueRef::Blob(b) => {
                visitor.visit_string(base64::engine::general_purpose::STANDARD.encode(b))
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.v {
            ValueRef::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.v {
            ValueRef::Blob(b) => visitor.visit_bytes(b),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.v {
            ValueRef::Blob(b) => {
                visitor.visit_seq(de::value::SeqDeserializer::new(b.iter().copied()))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.v {
            ValueRef::Text(t) if !self.kind.is_json_text() => {
                let s = std::str::from_utf8(t).map_err(|e| DeError(e.to_string()))?;
                visitor.visit_enum(s.into_deserializer())
            }
            ValueRef::Text(t) => {
                let s = std::str::from_utf8(t).map_err(|e| DeError(e.to_string()))?;
                let v: serde_json::Value =
                    serde_json::from_str(s).map_err(|e| DeError(e.to_string()))?;
                de::Deserializer::deserialize_enum(v, name, variants, visitor)
                    .map_err(|e| DeError(e.to_string()))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct tuple tuple_struct map struct identifier ignored_any
    }
}
