//! Printing the AST (`Display`) gives canonical source that parses back to
//! the same tree: `print(parse(print(parse(src)))) == print(parse(src))`, and
//! a valid schema stays valid (with the same DDL) after printing.

#![allow(clippy::unwrap_used)]

use litestone::{ddl, schema};
use proptest::prelude::*;

fn roundtrip(src: &str) -> Option<String> {
    let ast = schema::parse_ast(src).ok()?;
    let printed = ast.to_string();
    let again = schema::parse_ast(&printed)
        .unwrap_or_else(|e| panic!("printed source does not parse: {e}\n{printed}"));
    assert_eq!(again.to_string(), printed, "printing is not stable");
    Some(printed)
}

fn fixture_sources() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut out = Vec::new();
    for dir in ["fixtures/readme", "fixtures/ddl", "schema/errors"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "lite") {
                out.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn fixtures_roundtrip_and_keep_their_ddl() {
    for (name, src) in fixture_sources() {
        let Some(printed) = roundtrip(&src) else {
            continue;
        };
        if name.contains("/schema/errors/") || src.contains("import ") {
            continue;
        }
        let a = schema::parse(&src).unwrap();
        let b = schema::parse(&printed)
            .unwrap_or_else(|e| panic!("{name}: printed schema invalid: {e}\n{printed}"));
        let mut dbs = vec![None];
        dbs.extend(a.databases.iter().map(|d| Some(d.name.as_str())));
        for db in dbs {
            assert_eq!(
                ddl::create_statements(&a, db),
                ddl::create_statements(&b, db),
                "{name}"
            );
        }
    }
}

#[test]
fn prints_canonical_source() {
    let ast = schema::parse_ast(
        "/// Users.\nmodel users { id Integer @id @default(autoincrement())  tags Text[]?\n @@allow('read', (a || b) && !(c == 1) && d.e != \"x\\\"y\") }\nenum E { a, b }\ndatabase logs { path env(\"L\", \"./l\"); driver jsonl; retention 30d }",
    )
    .unwrap();
    assert_eq!(
        ast.to_string(),
        "/// Users.\nmodel users {\n  id Integer @id @default(autoincrement())\n  tags Text[]?\n  @@allow(\"read\", (a || b) && !(c == 1) && d.e != \"x\\\"y\")\n}\n\nenum E {\n  a\n  b\n}\n\ndatabase logs {\n  path env(\"L\", \"./l\")\n  driver jsonl\n  retention 30d\n}\n"
    );
}

const VOCAB: &[&str] = &[
    "model",
    "enum",
    "trait",
    "type",
    "database",
    "function",
    "users",
    "id",
    "Integer",
    "Text?",
    "posts[]",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    ".",
    "@",
    "@@",
    "@id",
    "@default",
    "@@allow",
    "'read'",
    "\"a\\\"b\"",
    "==",
    "!=",
    "<=",
    "&&",
    "||",
    "!",
    "auth()",
    "now()",
    "42",
    "-1.5",
    "0.1",
    "1e21",
    "30d",
    "\n",
    "///doc\n",
    "true",
    "null",
    "x.y",
    "f(1, 2)",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Whatever parses prints to something that parses to the same print.
    #[test]
    fn token_soup_roundtrips(tokens in prop::collection::vec(prop::sample::select(VOCAB), 0..80)) {
        let _ = roundtrip(&tokens.join(" "));
    }

    #[test]
    fn structured_soup_roundtrips(
        fields in prop::collection::vec((0usize..VOCAB.len(), 0usize..VOCAB.len(), 0usize..VOCAB.len()), 0..10)
    ) {
        let mut src = String::from("model m {\n  id Integer @id\n");
        for (a, b, c) in fields {
            src.push_str(&format!("  f Text @default({} {} {})\n", VOCAB[a], VOCAB[b], VOCAB[c]));
            src.push_str(&format!("  @@allow('read', {} == {} || {})\n", VOCAB[a], VOCAB[b], VOCAB[c]));
        }
        src.push_str("}\n");
        let _ = roundtrip(&src);
    }
}
