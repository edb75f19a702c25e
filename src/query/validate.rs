//! Field transforms (`@trim @lower @upper @slug`) and validators (`@email`,
//! `@length`, `@gt`, …) applied to written values, in that order.
//!
//! Pure functions over JSON values; errors are [`Error::Validation`] naming
//! the model, field and rule. Nulls are never validated (optionality is
//! checked by the caller).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::schema::{Transform, Validator};

/// Applies transforms in declaration order to a string value.
pub(crate) fn apply_transforms(transforms: &[Transform], v: &mut Value) {
    let Value::String(s) = v else { return };
    for t in transforms {
        *s = match t {
            Transform::Trim => s.trim().to_string(),
            Transform::Lower => s.to_lowercase(),
            Transform::Upper => s.to_uppercase(),
            Transform::Slug => slugify(s),
        };
    }
}

/// `"Hello, World!"` → `"hello-world"`.
pub(crate) fn slugify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut dash = false;
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

fn regex(pattern: &str) -> std::result::Result<Arc<regex::Regex>, regex::Error> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().get(pattern) {
        return Ok(r.clone());
    }
    let r = Arc::new(regex::Regex::new(pattern)?);
    cache.lock().insert(pattern.to_string(), r.clone());
    Ok(r)
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains(char::is_whitespace)
        && !domain.contains('@')
}

fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&digits)
        && s.chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

/// Checks every validator of a field against a (non-null) value.
///
/// # Errors
/// [`Error::Validation`] with the validator's rule name.
pub(crate) fn check_validators(
    model: &str,
    field: &str,
    validators: &[Validator],
    v: &Value,
) -> Result<()> {
    if v.is_null() {
        return Ok(());
    }
    let fail = |rule: &str, msg: String| Err(Error::validation(model, field, rule, msg));
    for val in validators {
        match val {
            Validator::Email => {
                if !v.as_str().is_some_and(is_email) {
                    return fail("email", format!("{v} is not an email address"));
                }
            }
            Validator::Url => {
                if !v.as_str().is_some_and(is_url) {
                    return fail("url", format!("{v} is not an http(s) URL"));
                }
            }
            Validator::Date => {
                if !v.as_str().is_some_and(crate::codec::datetime::is_date) {
                    return fail("date", format!("{v} is not a YYYY-MM-DD date"));
                }
            }
            Validator::DateTime => {
                if v.as_str()
                    .and_then(crate::codec::datetime::parse_millis)
                    .is_none()
                {
                    return fail("datetime", format!("{v} is not an ISO-8601 date-time"));
                }
            }
            Validator::Phone => {
                if !v.as_str().is_some_and(is_phone) {
                    return fail("phone", format!("{v} is not a phone number"));
                }
            }
            Validator::Regex(p) => {
                let re = regex(p).map_err(|e| {
                    Error::validation(model, field, "regex", format!("invalid pattern: {e}"))
                })?;
                if !v.as_str().is_some_and(|s| re.is_match(s)) {
                    return fail("regex", format!("{v} does not match /{p}/"));
                }
            }
            Validator::Length { min, max } => {
                let len = match v {
                    Value::String(s) => s.chars().count() as u64,
                    Value::Array(a) => a.len() as u64,
                    _ => continue,
                };
                if min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m) {
                    return fail(
                        "length",
                        format!(
                            "length {len} is outside [{}, {}]",
                            min.map_or("-".into(), |m| m.to_string()),
                            max.map_or("-".into(), |m| m.to_string())
                        ),
                    );
                }
            }
            Validator::Gt(n) | Validator::Gte(n) | Validator::Lt(n) | Validator::Lte(n) => {
                let Some(x) = v.as_f64() else { continue };
                let (ok, rule) = match val {
                    Validator::Gt(_) => (x > *n, "gt"),
                    Validator::Gte(_) => (x >= *n, "gte"),
                    Validator::Lt(_) => (x < *n, "lt"),
                    _ => (x <= *n, "lte"),
                };
                if !ok {
                    return fail(rule, format!("{x} fails {rule} {n}"));
                }
            }
            Validator::StartsWith(p) => {
                if !v.as_str().is_some_and(|s| s.starts_with(p.as_str())) {
                    return fail("startsWith", format!("{v} does not start with `{p}`"));
                }
            }
            Validator::EndsWith(p) => {
                if !v.as_str().is_some_and(|s| s.ends_with(p.as_str())) {
                    return fail("endsWith", format!("{v} does not end with `{p}`"));
                }
            }
            Validator::Contains(p) => {
                if !v.as_str().is_some_and(|s| s.contains(p.as_str())) {
                    return fail("contains", format!("{v} does not contain `{p}`"));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_checks() {
        assert_eq!(slugify("  Hello, World! "), "hello-world");
        assert!(is_email("a@b.co"));
        assert!(!is_email("a@b"));
        assert!(is_url("https://x.io/a"));
        assert!(!is_url("ftp://x"));
        assert!(is_phone("+1 (555) 123-4567"));
    }
}
