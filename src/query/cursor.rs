//! Opaque cursors for `find_many_cursor` and the keyset condition they
//! resume from.
//!
//! Format (a decision; the README only says the cursor is opaque): base64url
//! (no padding) of the JSON `{"v": [values…], "k": tag}` where `values` are
//! the raw SQLite values of the ordering columns of the last row (primary key
//! last; blobs as `{"b": base64}`) and `tag` is the first 16 bytes, hex, of
//! HMAC-SHA256 over the model name, the ordering shape (`field:dir:nulls,…`)
//! and the canonical JSON of the values. A cursor that was edited, or that was
//! made for another model or another `orderBy`, fails the tag check and is an
//! `InvalidArgs` at `cursor` — never a wrong page.
//!
//! The HMAC key is fixed per crate version so cursors survive restarts and
//! work across processes sharing a schema: the tag is an integrity check, not
//! a secret. A forged cursor can only position a page (its values are bound
//! parameters), i.e. select rows the caller could reach with a `where`.

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use rusqlite::types::Value as SqlValue;
use serde_json::{Value, json};

use super::ast::{CmpOp, Col, Filter, Nulls, Order};
use crate::error::{Error, Result};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const KEY: &[u8] = b"litestone/find_many_cursor/v1";

/// What a cursor is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CursorSpec {
    /// Model name.
    pub(crate) model: String,
    /// Ordering shape.
    pub(crate) shape: String,
}

impl CursorSpec {
    /// The spec of a model and its full ordering (tiebreaker included).
    pub(crate) fn new(model: &str, order: &[Order]) -> CursorSpec {
        let shape = order
            .iter()
            .map(|o| {
                format!(
                    "{}:{}:{}",
                    o.field,
                    if o.desc { "desc" } else { "asc" },
                    if o.effective_nulls() == Nulls::First {
                        "first"
                    } else {
                        "last"
                    }
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        CursorSpec {
            model: model.to_string(),
            shape,
        }
    }

    fn tag(&self, values: &str) -> String {
        let mut mac = match <HmacSha256 as KeyInit>::new_from_slice(KEY) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(self.model.as_bytes());
        mac.update(&[0]);
        mac.update(self.shape.as_bytes());
        mac.update(&[0]);
        mac.update(values.as_bytes());
        let out = mac.finalize().into_bytes();
        out.iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    /// Seals the ordering values of the last row into a cursor.
    pub(crate) fn seal(&self, values: &[SqlValue]) -> String {
        let v: Vec<Value> = values.iter().map(to_json).collect();
        let text = Value::Array(v.clone()).to_string();
        let token = json!({"v": v, "k": self.tag(&text)});
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
    }

    /// Opens and verifies a cursor; `n` is the number of ordering columns.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] at `cursor` for a malformed, tampered or
    /// foreign cursor.
    pub(crate) fn open(&self, token: &str, n: usize) -> Result<Vec<SqlValue>> {
        let bad = |why: &str| Error::invalid_args("cursor", format!("invalid cursor: {why}"));
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|_| bad("not base64url"))?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad("not a cursor"))?;
        let (Some(Value::Array(values)), Some(Value::String(tag))) = (v.get("v"), v.get("k"))
        else {
            return Err(bad("not a cursor"));
        };
        let text = Value::Array(values.clone()).to_string();
        let expected = self.tag(&text);
        if expected.is_empty() || !constant_eq(expected.as_bytes(), tag.as_bytes()) {
            return Err(bad("it was modified, or made for another model or orderBy"));
        }
        if values.len() != n {
            return Err(bad("wrong number of values"));
        }
        values
            .iter()
            .map(|x| from_json(x).ok_or_else(|| bad("bad value")))
            .collect()
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn to_json(v: &SqlValue) -> Value {
    match v {
        SqlValue::Blob(b) => json!({"b": base64::engine::general_purpose::STANDARD.encode(b)}),
        other => crate::codec::sql_to_json(other),
    }
}

fn from_json(v: &Value) -> Option<SqlValue> {
    Some(match v {
        Value::Null => SqlValue::Null,
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64()?),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        Value::Object(o) => SqlValue::Blob(
            base64::engine::general_purpose::STANDARD
                .decode(o.get("b")?.as_str()?)
                .ok()?,
        ),
        _ => return None,
    })
}

/// "Strictly after the row with these values" under `order`:
/// `(c1 after v1) OR (c1 IS v1 AND c2 after v2) OR …`, honouring each
/// term's direction and NULL placement.
pub(crate) fn keyset(order: &[Order], values: &[SqlValue]) -> Filter {
    let mut alts = Vec::new();
    for i in 0..order.len() {
        let mut conj = Filter::True;
        for (o, v) in order[..i].iter().zip(values) {
            conj = conj.and(equal(o, v));
        }
        let after = after(&order[i], &values[i]);
        if after == Filter::Or(Vec::new()) {
            continue;
        }
        alts.push(conj.and(after));
    }
    Filter::Or(alts)
}

fn col(o: &Order) -> Col {
    Col::Column(o.column.clone())
}

fn equal(o: &Order, v: &SqlValue) -> Filter {
    match v {
        SqlValue::Null => Filter::Null {
            col: col(o),
            is_null: true,
        },
        v => Filter::Cmp {
            col: col(o),
            op: CmpOp::Eq,
            value: v.clone(),
        },
    }
}

fn after(o: &Order, v: &SqlValue) -> Filter {
    let nulls = o.effective_nulls();
    match v {
        SqlValue::Null => match nulls {
            Nulls::First => Filter::Null {
                col: col(o),
                is_null: false,
            },
            Nulls::Last => Filter::Or(Vec::new()),
        },
        v => {
            let cmp = Filter::Cmp {
                col: col(o),
                op: if o.desc { CmpOp::Lt } else { CmpOp::Gt },
                value: v.clone(),
            };
            if nulls == Nulls::Last && o.nullable {
                Filter::Or(vec![
                    cmp,
                    Filter::Null {
                        col: col(o),
                        is_null: true,
                    },
                ])
            } else {
                cmp
            }
        }
    }
}
