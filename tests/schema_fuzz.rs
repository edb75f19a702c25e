//! Property tests: the schema parser and validator never panic, always
//! terminate, and every error they report has a position — on arbitrary
//! text, on soups of the language's own tokens, and on mutated copies of the
//! README schemas. (Failing seeds are kept by proptest under
//! `proptest-regressions/`.)

#![allow(clippy::unwrap_used)]

use litestone::{Error, ddl, schema};
use proptest::prelude::*;

fn check(src: &str) {
    match schema::parse(src) {
        Ok(s) => {
            // A valid schema always yields DDL without panicking.
            let _ = ddl::create_statements(&s, None);
        }
        Err(Error::Schema { diagnostics, .. }) => {
            assert!(!diagnostics.is_empty());
            for d in diagnostics {
                // Import errors may point at missing files; all others have a position.
                if !d.message.starts_with("cannot read") {
                    assert!(d.line >= 1 && d.column >= 1, "{d}");
                    assert!(!d.snippet.is_empty(), "{d}");
                }
            }
        }
        Err(e) => panic!("unexpected error kind: {e}"),
    }
}

const VOCAB: &[&str] = &[
    "model",
    "enum",
    "function",
    "database",
    "trait",
    "type",
    "users",
    "posts",
    "id",
    "Integer",
    "Text",
    "DateTime?",
    "posts[]",
    "users?",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    ";",
    ".",
    "?",
    "@",
    "@@",
    "@id",
    "@unique",
    "@default",
    "@relation",
    "fields",
    "references",
    "@@index",
    "@@allow",
    "'read'",
    "\"x\"",
    "==",
    "&&",
    "||",
    "!",
    "auth()",
    "now()",
    "check",
    "42",
    "-1.5",
    "30d",
    "\n",
    " ",
    "//c\n",
    "///d\n",
    "@slug",
    "@@trait",
    "@@softDelete",
    "deletedAt",
    "@@fts",
    "@from",
    "count:",
    "true",
    "null",
    "env(",
    "\"",
    "'",
    "/*",
    "@@db",
    "@@gate(\"1.2\")",
    "@sequence(scope:",
    "through:",
];

fn readme_sources() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for sub in ["readme", "ddl"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "lite") {
                out.push(std::fs::read_to_string(p).unwrap());
            }
        }
    }
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,300}") {
        check(&src);
    }

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(prop::sample::select(VOCAB), 0..120)) {
        check(&tokens.join(" "));
        check(&tokens.concat());
    }

    #[test]
    fn mutated_readme_schemas_never_panic(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, prop::sample::select(VOCAB)), 1..6),
    ) {
        let sources = readme_sources();
        let mut src: Vec<char> = which.get(&sources).chars().collect();
        for (at, op, tok) in edits {
            if src.is_empty() {
                break;
            }
            let i = at.index(src.len());
            match op {
                0 => { src.remove(i); }
                1 => { src.splice(i..i, tok.chars()); }
                2 => { let end = (i + 8).min(src.len()); src.drain(i..end); }
                _ => { let end = (i + 16).min(src.len()); let dup: Vec<char> = src[i..end].to_vec(); src.splice(i..i, dup); }
            }
        }
        check(&src.into_iter().collect::<String>());
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "model m {{ id Integer @id  @@allow('read', {}x{}) }}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    check(&deep);
    let nots = format!(
        "model m {{ id Integer @id  @@allow('read', {}x) }}",
        "!".repeat(5000)
    );
    check(&nots);
    let arrays = format!(
        "model m {{ id Integer @id  @@index({}a{}) }}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    check(&arrays);
}

#[test]
fn long_member_chains_and_many_items_are_fine() {
    let chain = format!(
        "model m {{ id Integer @id  @@allow('read', {}x == 1) }}",
        "a.".repeat(50_000)
    );
    check(&chain);
    let ors = format!(
        "model m {{ id Integer @id  @@allow('read', {}x == 1) }}",
        "x == 1 || ".repeat(50_000)
    );
    check(&ors);
    // Just under the limit still parses and validates without overflowing.
    let long_ok = format!(
        "model m {{ id Integer @id  @@allow('read', {}id == 1) }}",
        "id == 1 && ".repeat(250)
    );
    schema::parse(&long_ok).unwrap();
    let long_path = format!(
        "model m {{ id Integer @id  j Json  @@allow('read', j{} == 1) }}",
        ".a".repeat(500)
    );
    schema::parse(&long_path).unwrap();
    let calls = format!(
        "model m {{ id Integer @id  x Text @default({}1{}) }}",
        "f(".repeat(50_000),
        ")".repeat(50_000)
    );
    check(&calls);
    let many: String = (0..2_000)
        .map(|i| format!("model m{i} {{ id Integer @id  v{i} Text? @unique }}\n"))
        .collect();
    let s = schema::parse(&many).unwrap();
    assert_eq!(s.models.len(), 2_000);
}

#[test]
fn long_trait_chains_are_bounded() {
    let mut src: String = (0..5_000)
        .map(|i| format!("trait T{i} {{ f{i} Text  @@trait(T{}) }}\n", i + 1))
        .collect();
    src.push_str("trait T5000 { last Text }\nmodel m { id Integer @id  @@trait(T0) }\n");
    let Err(Error::Schema { diagnostics, .. }) = schema::parse(&src) else {
        panic!("expected an error")
    };
    assert!(diagnostics[0].message.contains("nested too deeply"));
}
