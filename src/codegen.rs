//! Type generation from a schema (README `litestone types`, `litestone
//! jsonschema`): Rust structs and enums for typed reads (`find_many_as`),
//! and JSON Schema documents for the rows of each model.
//!
//! Rust mapping: Integer → `i64`, Real → `f64`, Text / DateTime (ISO-8601
//! text) → `String`, Boolean → `bool`, Json and File → `serde_json::Value`,
//! Blob → `String` (base64, as the JSON API returns it), an enum → a Rust
//! enum with the schema's value names, a `type` shape → a struct, `T[]` →
//! `Vec<T>`, `T?` → `Option<T>`. Fields a read may leave out (relations,
//! which appear only when included; `@omit` / `@guarded` fields; derived and
//! computed fields) are `Option` with `#[serde(default)]`, so one struct
//! serves every read of the model. Field names become snake_case with a
//! `#[serde(rename)]` to the schema's name.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::schema::{
    FieldType, Model, RelationKind, ScalarType, Schema, ShapeField, Validator, Visibility,
};

fn pascal(s: &str) -> String {
    let mut out = String::new();
    let mut up = true;
    for c in s.chars() {
        if c == '_' || c == '-' || c == ' ' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    if out.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else if c == '-' || c == ' ' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else",
        "enum", "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod",
        "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait",
        "true", "type", "unsafe", "use", "where", "while", "yield", "try", "gen",
    ];
    if KEYWORDS.contains(&out.as_str()) {
        out = format!("r#{out}");
    }
    out
}

fn scalar_rust(s: ScalarType) -> &'static str {
    match s {
        ScalarType::Integer => "i64",
        ScalarType::Real => "f64",
        ScalarType::Text | ScalarType::DateTime | ScalarType::Blob => "String",
        ScalarType::Boolean => "bool",
        ScalarType::Json | ScalarType::File => "serde_json::Value",
    }
}

fn base_rust(schema: &Schema, ty: &FieldType) -> String {
    match ty {
        FieldType::Scalar(s) => scalar_rust(*s).to_string(),
        FieldType::Enum(id) => pascal(&schema.enum_by_id(*id).name),
        FieldType::Shape(id) => pascal(&schema.type_by_id(*id).name),
        FieldType::Relation(r) => pascal(&schema.model_by_id(r.target).name),
    }
}

fn doc(out: &mut String, indent: &str, text: Option<&str>) {
    if let Some(t) = text {
        for line in t.lines() {
            let _ = writeln!(out, "{indent}/// {}", line.trim());
        }
    }
}

fn field_line(out: &mut String, name: &str, ty: &str, lenient: bool) {
    let rust = snake(name);
    let bare = rust.trim_start_matches("r#");
    if bare != name {
        let _ = writeln!(out, "    #[serde(rename = \"{name}\")]");
    }
    if lenient {
        let _ = writeln!(
            out,
            "    #[serde(default, skip_serializing_if = \"Option::is_none\")]"
        );
    }
    let _ = writeln!(out, "    pub {rust}: {ty},");
}

fn model_struct(schema: &Schema, m: &Model, out: &mut String) {
    doc(out, "", m.doc.as_deref());
    if m.doc.is_none() {
        let _ = writeln!(out, "/// A row of `{}`.", m.name);
    }
    let _ = writeln!(
        out,
        "#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]"
    );
    let _ = writeln!(out, "pub struct {} {{", pascal(&m.name));
    for f in &m.fields {
        doc(out, "    ", f.doc.as_deref());
        let base = base_rust(schema, &f.ty);
        let (ty, lenient) = match &f.ty {
            FieldType::Relation(r) => match r.kind {
                RelationKind::BelongsTo { .. } | RelationKind::HasOne { .. } => {
                    (format!("Option<Box<{base}>>"), true)
                }
                _ => (format!("Option<Vec<{base}>>"), true),
            },
            _ => {
                let inner = if f.list { format!("Vec<{base}>") } else { base };
                let hidden = f.omit != Visibility::None
                    || f.guarded != Visibility::None
                    || f.from.is_some()
                    || f.computed;
                if f.optional || hidden {
                    (format!("Option<{inner}>"), hidden)
                } else {
                    (inner, false)
                }
            }
        };
        field_line(out, &f.name, &ty, lenient);
    }
    let _ = writeln!(out, "}}\n");
}

fn shape_struct(schema: &Schema, name: &str, fields: &[ShapeField], out: &mut String) {
    let _ = writeln!(out, "/// The JSON shape `{name}`.");
    let _ = writeln!(
        out,
        "#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]"
    );
    let _ = writeln!(out, "pub struct {} {{", pascal(name));
    for f in fields {
        let base = base_rust(schema, &f.ty);
        let inner = if f.list { format!("Vec<{base}>") } else { base };
        let ty = if f.optional {
            format!("Option<{inner}>")
        } else {
            inner
        };
        field_line(out, &f.name, &ty, f.optional);
    }
    let _ = writeln!(out, "}}\n");
}

/// Rust source declaring one struct per model (all, or those in `only`),
/// plus the enums and JSON shapes they use. The output is plain Rust that
/// depends on `serde` and `serde_json`.
pub fn rust_types(schema: &Schema, only: Option<&[&str]>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Generated by litestone from the schema; do not edit by hand.\n"
    );
    for e in &schema.enums {
        doc(&mut out, "", e.doc.as_deref());
        let _ = writeln!(
            out,
            "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]"
        );
        let _ = writeln!(out, "pub enum {} {{", pascal(&e.name));
        for v in &e.values {
            let _ = writeln!(out, "    #[serde(rename = \"{v}\")]");
            let _ = writeln!(out, "    {},", pascal(v));
        }
        let _ = writeln!(out, "}}\n");
    }
    for t in &schema.types {
        shape_struct(schema, &t.name, &t.fields, &mut out);
    }
    for m in &schema.models {
        if only.is_some_and(|o| !o.contains(&m.name.as_str())) {
            continue;
        }
        model_struct(schema, m, &mut out);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn json_type(schema: &Schema, ty: &FieldType, list: bool, validators: &[Validator]) -> Value {
    let mut t = match ty {
        FieldType::Scalar(ScalarType::Integer) => json!({"type": "integer"}),
        FieldType::Scalar(ScalarType::Real) => json!({"type": "number"}),
        FieldType::Scalar(ScalarType::Text) => json!({"type": "string"}),
        FieldType::Scalar(ScalarType::DateTime) => json!({"type": "string", "format": "date-time"}),
        FieldType::Scalar(ScalarType::Blob) => {
            json!({"type": "string", "contentEncoding": "base64"})
        }
        FieldType::Scalar(ScalarType::Boolean) => json!({"type": "boolean"}),
        FieldType::Scalar(ScalarType::Json | ScalarType::File) => json!({}),
        FieldType::Enum(id) => json!({"enum": schema.enum_by_id(*id).values}),
        FieldType::Shape(id) => {
            let ty = schema.type_by_id(*id);
            let mut props = Map::new();
            let mut required = Vec::new();
            for f in &ty.fields {
                props.insert(
                    f.name.clone(),
                    json_type(schema, &f.ty, f.list, &f.validators),
                );
                if !f.optional {
                    required.push(json!(f.name));
                }
            }
            json!({"type": "object", "properties": props, "required": required})
        }
        FieldType::Relation(_) => json!({}),
    };
    if let Value::Object(o) = &mut t {
        for v in validators {
            match v {
                Validator::Email => {
                    o.insert("format".into(), json!("email"));
                }
                Validator::Url => {
                    o.insert("format".into(), json!("uri"));
                }
                Validator::Regex(r) => {
                    o.insert("pattern".into(), json!(r));
                }
                Validator::Length { min, max } => {
                    if let Some(n) = min {
                        o.insert("minLength".into(), json!(n));
                    }
                    if let Some(n) = max {
                        o.insert("maxLength".into(), json!(n));
                    }
                }
                Validator::Gt(n) => {
                    o.insert("exclusiveMinimum".into(), json!(n));
                }
                Validator::Gte(n) => {
                    o.insert("minimum".into(), json!(n));
                }
                Validator::Lt(n) => {
                    o.insert("exclusiveMaximum".into(), json!(n));
                }
                Validator::Lte(n) => {
                    o.insert("maximum".into(), json!(n));
                }
                _ => {}
            }
        }
    }
    if list {
        json!({"type": "array", "items": t})
    } else {
        t
    }
}

/// A JSON Schema (draft 2020-12) document with one definition per model
/// (all, or those in `only`): the stored fields of a row, required unless
/// optional or hidden from reads.
pub fn json_schema(schema: &Schema, only: Option<&[&str]>) -> Value {
    let mut defs = Map::new();
    for m in &schema.models {
        if only.is_some_and(|o| !o.contains(&m.name.as_str())) {
            continue;
        }
        let mut props = Map::new();
        let mut required = Vec::new();
        for f in m.fields.iter().filter(|f| f.is_column()) {
            let mut t = json_type(schema, &f.ty, f.list, &f.validators);
            if f.optional {
                t = json!({"anyOf": [t, {"type": "null"}]});
            }
            props.insert(f.name.clone(), t);
            if !f.optional && f.omit == Visibility::None && f.guarded == Visibility::None {
                required.push(json!(f.name));
            }
        }
        defs.insert(
            m.name.clone(),
            json!({"type": "object", "properties": props, "required": required}),
        );
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": defs,
    })
}
