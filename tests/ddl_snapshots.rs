//! Snapshot tests of the DDL generated for every fixture schema
//! (`tests/fixtures/ddl/*.lite` and the README snippets): the statements of
//! each database, in execution order. Review changes with `cargo insta review`.

#![allow(clippy::unwrap_used)]

use litestone::{ddl, schema};

fn render(path: &std::path::Path) -> String {
    let s = schema::parse_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut dbs: Vec<Option<&str>> = vec![None];
    dbs.extend(
        s.databases
            .iter()
            .filter(|d| d.name != "main")
            .map(|d| Some(d.name.as_str())),
    );
    let mut out = String::new();
    for db in dbs {
        out.push_str(&format!("-- database: {}\n", db.unwrap_or("main")));
        for stmt in ddl::create_statements(&s, db) {
            out.push_str(&stmt);
            out.push_str(";\n\n");
        }
    }
    out
}

#[test]
fn ddl_of_ddl_fixtures() {
    insta::glob!("fixtures/ddl/*.lite", |path| {
        insta::assert_snapshot!(render(path));
    });
}

#[test]
fn ddl_of_readme_fixtures() {
    insta::glob!("fixtures/readme/*.lite", |path| {
        insta::assert_snapshot!(render(path));
    });
}
