//! Property test: random *valid* schemas (models with every scalar type,
//! optional/list fields, defaults, uniques, `@map`/`@@map`, enums,
//! belongsTo + back-relations, implicit many-to-many, soft delete, indexes,
//! FTS, `@@noStrict`) always validate, and their DDL executes on a fresh
//! SQLite database, twice (idempotent), with foreign keys consistent.

#![allow(clippy::unwrap_used)]

use litestone::{ddl, schema};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct FieldSpec {
    ty: usize,
    optional: bool,
    list: bool,
    default: bool,
    unique: bool,
    mapped: bool,
}

#[derive(Debug, Clone)]
struct ModelSpec {
    text_id: bool,
    fields: Vec<FieldSpec>,
    /// belongsTo an earlier model (index modulo the model's position).
    parent: Option<(usize, bool, u8)>,
    soft_delete: bool,
    fts: bool,
    index: bool,
    composite_unique: bool,
    no_strict: bool,
    mapped: bool,
    m2m_with: Option<usize>,
}

const TYPES: &[&str] = &[
    "Integer", "Real", "Text", "Boolean", "DateTime", "Json", "Blob", "File", "Color",
];

fn field_spec() -> impl Strategy<Value = FieldSpec> {
    (
        0..TYPES.len(),
        any::<bool>(),
        any::<u8>(),
        any::<bool>(),
        any::<u8>(),
        any::<u8>(),
    )
        .prop_map(|(ty, optional, list, default, unique, mapped)| FieldSpec {
            ty,
            optional,
            list: list % 5 == 0,
            default,
            unique: unique % 4 == 0,
            mapped: mapped % 6 == 0,
        })
}

fn model_spec() -> impl Strategy<Value = ModelSpec> {
    (
        any::<bool>(),
        prop::collection::vec(field_spec(), 0..6),
        prop::option::of((0usize..8, any::<bool>(), 0u8..4)),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<u8>(),
        any::<u8>(),
        prop::option::of(0usize..8),
    )
        .prop_map(
            |(
                text_id,
                fields,
                parent,
                soft_delete,
                fts,
                index,
                composite_unique,
                strict,
                mapped,
                m2m,
            )| {
                ModelSpec {
                    text_id,
                    fields,
                    parent,
                    soft_delete,
                    fts,
                    index,
                    composite_unique,
                    no_strict: strict % 5 == 0,
                    mapped: mapped % 4 == 0,
                    m2m_with: m2m,
                }
            },
        )
}

fn default_for(ty: &str) -> &'static str {
    match ty {
        "Integer" => "@default(7)",
        "Real" => "@default(1.5)",
        "Text" => "@default(\"it's\")",
        "Boolean" => "@default(true)",
        "DateTime" => "@default(now())",
        "Json" => "@default(\"{}\")",
        "Color" => "@default(green)",
        _ => "",
    }
}

fn render(models: &[ModelSpec]) -> String {
    let mut src = String::from("enum Color { red green blue }\n");
    // Back-relations and m2m partners, collected per model.
    let mut extra: Vec<Vec<String>> = vec![Vec::new(); models.len()];
    for (i, m) in models.iter().enumerate() {
        if let Some((p, _, _)) = m.parent {
            if i > 0 {
                let p = p % i;
                extra[p].push(format!("  kids{i} m{i}[] @relation(\"r{i}\")"));
            }
        }
        if let Some(w) = m.m2m_with {
            let w = w % models.len();
            if w != i {
                extra[i].push(format!("  many{w}x{i} m{w}[] @relation(\"mm{i}_{w}\")"));
                extra[w].push(format!("  many{i}y{i} m{i}[] @relation(\"mm{i}_{w}\")"));
            }
        }
    }
    for (i, m) in models.iter().enumerate() {
        src.push_str(&format!("model m{i} {{\n"));
        if m.text_id {
            src.push_str("  id Text @id @default(uuid())\n");
        } else {
            src.push_str("  id Integer @id\n");
        }
        let mut fts_field = None;
        let mut unique_pair = Vec::new();
        for (j, f) in m.fields.iter().enumerate() {
            let ty = TYPES[f.ty];
            let list = f.list && ty != "Blob";
            let mut line = format!(
                "  f{j} {ty}{}{}",
                if list { "[]" } else { "" },
                if f.optional { "?" } else { "" }
            );
            if f.default && !list {
                line.push(' ');
                line.push_str(default_for(ty));
            }
            if list && f.default {
                line.push_str(" @default([])");
            }
            if f.unique && !list {
                line.push_str(" @unique");
                unique_pair.push(format!("f{j}"));
            } else if !list {
                unique_pair.push(format!("f{j}"));
            }
            if f.mapped {
                line.push_str(&format!(" @map(\"col {j}\")"));
            }
            if ty == "Text" && !list && fts_field.is_none() {
                fts_field = Some(format!("f{j}"));
            }
            src.push_str(&line);
            src.push('\n');
        }
        if let (Some((p, optional, action)), true) = (m.parent, i > 0) {
            let p = p % i;
            let key = if models[p].text_id { "Text" } else { "Integer" };
            let q = if optional { "?" } else { "" };
            let action = match action {
                0 => "",
                1 => ", onDelete: Cascade",
                2 if optional => ", onDelete: SetNull",
                _ => ", onUpdate: Cascade",
            };
            src.push_str(&format!(
                "  parent m{p}{q} @relation(\"r{i}\", fields: [parentId], references: [id]{action})\n  parentId {key}{q}\n"
            ));
        }
        for e in &extra[i] {
            src.push_str(e);
            src.push('\n');
        }
        if m.soft_delete {
            src.push_str("  deletedAt DateTime?\n  @@softDelete\n");
        }
        if m.fts && !m.text_id {
            if let Some(f) = fts_field {
                src.push_str(&format!("  @@fts([{f}])\n"));
            }
        }
        if m.index && !unique_pair.is_empty() {
            src.push_str(&format!("  @@index([{}])\n", unique_pair[0]));
        }
        if m.composite_unique && unique_pair.len() >= 2 {
            src.push_str(&format!(
                "  @@unique([{}, {}])\n",
                unique_pair[0], unique_pair[1]
            ));
        }
        if m.no_strict {
            src.push_str("  @@noStrict\n");
        }
        if m.mapped {
            src.push_str(&format!("  @@map(\"table {i}\")\n"));
        }
        src.push_str("}\n");
    }
    src
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_valid_schemas_build(models in prop::collection::vec(model_spec(), 1..5)) {
        let src = render(&models);
        let s = match schema::parse(&src) {
            Ok(s) => s,
            Err(e) => {
                let litestone::Error::Schema { diagnostics, .. } = &e else { panic!("{e}") };
                let all: Vec<String> = diagnostics.iter().map(|d| d.to_string()).collect();
                panic!("generated schema rejected:\n{src}\n{}", all.join("\n"));
            }
        };
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        for _ in 0..2 {
            for stmt in ddl::create_statements(&s, None) {
                if let Err(e) = conn.execute_batch(&stmt) {
                    panic!("{e}\n{stmt}\n--- schema:\n{src}");
                }
            }
        }
        // Every owned model got its table, with one column per stored field.
        for m in &s.models {
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM pragma_table_xinfo(?1)",
                    [&m.table],
                    |r| r.get(0),
                )
                .unwrap();
            prop_assert_eq!(n as usize, m.columns().count(), "{}", m.table);
        }
        let fk: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))
            .unwrap();
        prop_assert_eq!(fk, 0);
    }
}
