//! Builders for `$raw` where fragments: [`raw`] and the [`crate::sql!`]
//! macro produce the `{"sql": "…", "params": […]}` JSON that `where.$raw`
//! accepts, so values are bound, never spliced into the text.

use serde::Serialize;
use serde_json::Value;

/// A raw SQL fragment with bound parameters; serializes to
/// `{"sql": "...", "params": [...]}` for use inside `json!` arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawSql {
    /// SQL text with `?` placeholders.
    pub sql: String,
    /// One parameter per placeholder.
    pub params: Vec<Value>,
}

/// A fragment from SQL text with `?` placeholders and its parameters:
/// `litestone::raw("price > ?", vec![json!(10)])`.
pub fn raw(sql: impl Into<String>, params: Vec<Value>) -> RawSql {
    RawSql {
        sql: sql.into(),
        params,
    }
}

impl RawSql {
    /// Builds a fragment from a template whose `{}` holes become `?`
    /// placeholders (`{{` / `}}` are literal braces). Used by [`crate::sql!`].
    pub fn from_template(template: &str, params: Vec<Value>) -> RawSql {
        let mut sql = String::with_capacity(template.len());
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, chars.peek()) {
                ('{', Some('}')) => {
                    chars.next();
                    sql.push('?');
                }
                ('{', Some('{')) | ('}', Some('}')) => {
                    chars.next();
                    sql.push(c);
                }
                _ => sql.push(c),
            }
        }
        RawSql { sql, params }
    }
}

impl From<RawSql> for Value {
    fn from(r: RawSql) -> Value {
        serde_json::json!({"sql": r.sql, "params": r.params})
    }
}

/// Converts a macro argument to a JSON parameter (`null` if it cannot be
/// represented).
pub fn to_param<T: Serialize + ?Sized>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Builds a [`RawSql`] fragment: each `{}` becomes a bound `?` parameter.
///
/// ```
/// let frag = litestone::sql!("price > {} AND state = {}", 10, "NY");
/// assert_eq!(frag.sql, "price > ? AND state = ?");
/// ```
#[macro_export]
macro_rules! sql {
    ($template:literal $(, $arg:expr)* $(,)?) => {
        $crate::RawSql::from_template(
            $template,
            ::std::vec![$($crate::query::raw::to_param(&$arg)),*],
        )
    };
}
