//! Every schema snippet of the Litestone README (kept under
//! `tests/fixtures/readme/`) parses, and the DDL of each executes on a fresh
//! SQLite database.

#![allow(clippy::unwrap_used)]
use std::path::{Path, PathBuf};

use litestone::{ddl, schema};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/readme");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lite"))
        .collect();
    out.push(dir.join("imports/schema.lite"));
    out.sort();
    out
}

fn parse(path: &Path) -> schema::Schema {
    match schema::parse_file(path) {
        Ok(s) => s,
        Err(litestone::Error::Schema { diagnostics, .. }) => {
            let all: Vec<String> = diagnostics.iter().map(|d| d.to_string()).collect();
            panic!("{} failed to parse:\n{}", path.display(), all.join("\n"))
        }
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

#[test]
fn every_readme_snippet_parses() {
    let files = fixtures();
    assert!(files.len() >= 13, "fixtures missing: {files:?}");
    for f in files {
        parse(&f);
    }
}

#[test]
fn readme_ddl_executes_on_fresh_sqlite() {
    for f in fixtures() {
        let s = parse(&f);
        let mut dbs: Vec<Option<&str>> = vec![None];
        dbs.extend(s.databases.iter().map(|d| Some(d.name.as_str())));
        for db in dbs {
            let conn = rusqlite::Connection::open_in_memory().unwrap();
            conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
            for stmt in ddl::create_statements(&s, db) {
                if let Err(e) = conn.execute_batch(&stmt) {
                    panic!("{} ({db:?}): {e}\n{stmt}", f.display());
                }
            }
            // Idempotent: running everything again is a no-op.
            for stmt in ddl::create_statements(&s, db) {
                conn.execute_batch(&stmt).unwrap();
            }
            let fk: Vec<String> = conn
                .prepare("PRAGMA foreign_key_check")
                .unwrap()
                .query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            assert!(fk.is_empty(), "{}: {fk:?}", f.display());
        }
    }
}

#[test]
fn imports_are_merged_and_deduplicated() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/readme/imports");
    let s = parse(&dir.join("schema.lite"));
    assert_eq!(s.files.len(), 4, "{:?}", s.files);
    assert!(s.function("slug").is_some());
    assert!(s.enum_named("Role").is_some());
    let users = s.model("users").unwrap();
    let handle = users.field("handle").unwrap();
    assert_eq!(
        handle.generated.as_ref().unwrap().function.as_deref(),
        Some("slug")
    );
}
