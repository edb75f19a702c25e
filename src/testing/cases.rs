//! Generated test cases: validation boundaries (README
//! `generateValidationCases`) and gate permissions (`generateGateMatrix`).

use serde::Serialize;
use serde_json::{Value, json};

use super::{Rng, generate_factory};
use crate::error::{Error, Result};
use crate::schema::{FieldType, Schema, Validator};

/// One generated case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationCase {
    /// The field.
    pub field: String,
    /// The value to put in it (over the valid record).
    pub value: Value,
    /// The rule exercised (`email`, `gte`, `length`, `required`, `enum`, …).
    pub rule: String,
    /// `"fail"` or `"pass"`.
    pub expect: String,
    /// Why (for failing cases: what the validation error says).
    pub message: String,
}

/// The cases of one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationCases {
    /// A complete valid record (correct by construction).
    pub valid: Value,
    /// One failing case per constraint.
    pub invalid: Vec<ValidationCase>,
    /// Boundary values that must pass.
    pub boundary: Vec<ValidationCase>,
}

fn case(field: &str, value: Value, rule: &str, expect: &str, message: String) -> ValidationCase {
    ValidationCase {
        field: field.to_string(),
        value,
        rule: rule.to_string(),
        expect: expect.to_string(),
        message,
    }
}

/// Boundary and failing data for every constraint of `model`'s fields:
/// validators, required fields and enums.
///
/// # Errors
/// [`Error::UnknownModel`].
pub fn generate_validation_cases(schema: &Schema, model: &str) -> Result<ValidationCases> {
    let m = schema.model(model).ok_or_else(|| Error::UnknownModel {
        model: model.to_string(),
    })?;
    let valid = Value::Object(generate_factory(schema, model)?(1, &mut Rng::new(1)));
    let mut invalid = Vec::new();
    let mut boundary = Vec::new();
    for f in m
        .fields
        .iter()
        .filter(|f| f.is_column() && f.generated.is_none())
    {
        let name = f.name.as_str();
        if !f.optional && f.default.is_none() && !f.is_id && f.sequence.is_none() {
            invalid.push(case(
                name,
                Value::Null,
                "required",
                "fail",
                format!("{name} is required"),
            ));
        }
        if let FieldType::Enum(id) = &f.ty {
            let e = schema.enum_by_id(*id);
            invalid.push(case(
                name,
                json!("__not_a_value__"),
                "enum",
                "fail",
                format!("{name} must be one of {}", e.values.join(", ")),
            ));
            for v in &e.values {
                boundary.push(case(name, json!(v), "enum", "pass", String::new()));
            }
        }
        for v in &f.validators {
            match v {
                Validator::Email => {
                    invalid.push(case(
                        name,
                        json!("not-an-email"),
                        "email",
                        "fail",
                        format!("{name} must be an email address"),
                    ));
                }
                Validator::Url => {
                    invalid.push(case(
                        name,
                        json!("not a url"),
                        "url",
                        "fail",
                        format!("{name} must be a URL"),
                    ));
                }
                Validator::Phone => {
                    invalid.push(case(
                        name,
                        json!("phone?"),
                        "phone",
                        "fail",
                        format!("{name} must be a phone number"),
                    ));
                }
                Validator::Date => {
                    invalid.push(case(
                        name,
                        json!("2024-13-45"),
                        "date",
                        "fail",
                        format!("{name} must be a date"),
                    ));
                }
                Validator::DateTime => {
                    invalid.push(case(
                        name,
                        json!("yesterday"),
                        "datetime",
                        "fail",
                        format!("{name} must be a date-time"),
                    ));
                }
                Validator::Regex(_) => {}
                Validator::Length { min, max } => {
                    if let Some(n) = min.filter(|n| *n > 0) {
                        invalid.push(case(
                            name,
                            json!("x".repeat(n as usize - 1)),
                            "length",
                            "fail",
                            format!("{name} must be at least {n} characters"),
                        ));
                        boundary.push(case(
                            name,
                            json!("x".repeat(n as usize)),
                            "length",
                            "pass",
                            String::new(),
                        ));
                    }
                    if let Some(n) = max {
                        invalid.push(case(
                            name,
                            json!("x".repeat(*n as usize + 1)),
                            "length",
                            "fail",
                            format!("{name} must be at most {n} characters"),
                        ));
                        boundary.push(case(
                            name,
                            json!("x".repeat(*n as usize)),
                            "length",
                            "pass",
                            String::new(),
                        ));
                    }
                }
                Validator::Gt(n) => {
                    invalid.push(case(
                        name,
                        json!(n),
                        "gt",
                        "fail",
                        format!("{name} must be greater than {n}"),
                    ));
                    boundary.push(case(name, json!(n + 1.0), "gt", "pass", String::new()));
                }
                Validator::Gte(n) => {
                    invalid.push(case(
                        name,
                        json!(n - 1.0),
                        "gte",
                        "fail",
                        format!("{name} must be at least {n}"),
                    ));
                    boundary.push(case(name, json!(n), "gte", "pass", String::new()));
                }
                Validator::Lt(n) => {
                    invalid.push(case(
                        name,
                        json!(n),
                        "lt",
                        "fail",
                        format!("{name} must be less than {n}"),
                    ));
                    boundary.push(case(name, json!(n - 1.0), "lt", "pass", String::new()));
                }
                Validator::Lte(n) => {
                    invalid.push(case(
                        name,
                        json!(n + 1.0),
                        "lte",
                        "fail",
                        format!("{name} must be at most {n}"),
                    ));
                    boundary.push(case(name, json!(n), "lte", "pass", String::new()));
                }
                Validator::StartsWith(s) => {
                    invalid.push(case(
                        name,
                        json!(format!("~{s}")),
                        "startsWith",
                        "fail",
                        format!("{name} must start with {s}"),
                    ));
                }
                Validator::EndsWith(s) => {
                    invalid.push(case(
                        name,
                        json!(format!("{s}~")),
                        "endsWith",
                        "fail",
                        format!("{name} must end with {s}"),
                    ));
                }
                Validator::Contains(s) => {
                    invalid.push(case(
                        name,
                        json!("~"),
                        "contains",
                        "fail",
                        format!("{name} must contain {s}"),
                    ));
                }
            }
        }
    }
    // Integer fields: whole numbers at the boundaries.
    for c in invalid.iter_mut().chain(boundary.iter_mut()) {
        let int = m
            .field(&c.field)
            .and_then(|f| f.scalar())
            .is_some_and(|s| s == crate::schema::ScalarType::Integer);
        if let (true, Some(x)) = (int, c.value.as_f64()) {
            c.value = json!(x as i64);
        }
    }
    Ok(ValidationCases {
        valid,
        invalid,
        boundary,
    })
}

/// One gate permission case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateCase {
    /// `read`, `create`, `update` or `delete`.
    pub op: String,
    /// The caller's level (0–7).
    pub level: u8,
    /// The level's name (`STRANGER`, `VISITOR`, … `SYSADMIN`).
    pub label: String,
    /// `"allow"` or `"deny"`.
    pub expect: String,
}

/// The README's level names.
const LEVELS: [&str; 8] = [
    "STRANGER",
    "VISITOR",
    "READER",
    "CREATOR",
    "USER",
    "ADMINISTRATOR",
    "OWNER",
    "SYSADMIN",
];

/// Every (operation, level 0–7) pair of `model`'s `@@gate` with the
/// expected outcome (a model without a gate allows everything; level 9
/// locks an operation for every level).
///
/// # Errors
/// [`Error::UnknownModel`].
pub fn generate_gate_matrix(schema: &Schema, model: &str) -> Result<Vec<GateCase>> {
    let m = schema.model(model).ok_or_else(|| Error::UnknownModel {
        model: model.to_string(),
    })?;
    let mut out = Vec::new();
    for (op, need) in [
        ("read", m.gate.as_ref().map(|g| g.read)),
        ("create", m.gate.as_ref().map(|g| g.create)),
        ("update", m.gate.as_ref().map(|g| g.update)),
        ("delete", m.gate.as_ref().map(|g| g.delete)),
    ] {
        for (level, label) in LEVELS.iter().enumerate() {
            let level = level as u8;
            let allow = match need {
                None => true,
                Some(9) => false,
                Some(n) => level >= n,
            };
            out.push(GateCase {
                op: op.to_string(),
                level,
                label: (*label).to_string(),
                expect: if allow { "allow" } else { "deny" }.to_string(),
            });
        }
    }
    Ok(out)
}
