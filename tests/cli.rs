//! The `litestone` command-line tool (`--features cli`): migrate create /
//! status / apply / verify / dry-run, push, check, backup against real files.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn run(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_litestone"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn migration_workflow_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("schema.lite"),
        "model users {\n  id    Integer @id\n  email Text    @unique\n}\n",
    )
    .unwrap();
    let (code, out, err) = run(d, &["check"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 models"), "{out}");

    let (code, out, _) = run(d, &["--db", "app.db", "migrate", "dry-run", "init"]);
    assert_eq!(code, 0);
    assert!(out.contains("CREATE TABLE"), "{out}");
    assert!(
        !d.join("migrations").exists()
            || std::fs::read_dir(d.join("migrations")).unwrap().count() == 0
    );

    let (code, out, err) = run(d, &["--db", "app.db", "migrate", "create", "init"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("created "), "{out}");
    let (_, out, _) = run(d, &["--db", "app.db", "migrate", "status"]);
    assert!(out.starts_with("pending"), "{out}");
    let (code, out, _) = run(d, &["--db", "app.db", "migrate", "verify"]);
    assert_eq!(code, 2, "pending migrations are not clean: {out}");
    let (code, out, err) = run(d, &["--db", "app.db", "migrate", "apply"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("applied "), "{out}");
    let (code, out, _) = run(d, &["--db", "app.db", "migrate", "verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("clean"));
    let (_, out, _) = run(d, &["--db", "app.db", "migrate", "create", "again"]);
    assert!(out.contains("no changes"), "{out}");

    let (code, _, err) = run(d, &["--db", "app.db", "backup", "copy.db"]);
    assert_eq!(code, 0, "{err}");
    let c = rusqlite::Connection::open(d.join("copy.db")).unwrap();
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'users'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn schema_errors_print_every_diagnostic_and_fail() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("schema.lite"),
        "model a {\n  id Integer @id\n  x Nope\n  y Nada\n}\n",
    )
    .unwrap();
    let (code, _, err) = run(dir.path(), &["check"]);
    assert_eq!(code, 1);
    assert!(err.contains("3:5") && err.contains("4:5"), "{err}");
}

#[test]
fn types_and_jsonschema_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("schema.lite"),
        "model users {\n  id    Integer @id\n  email Text    @unique @email\n}\nmodel posts {\n  id Integer @id\n}\n",
    )
    .unwrap();
    let (code, out, err) = run(d, &["types", "--only", "users"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("pub struct Users") && !out.contains("pub struct Posts"),
        "{out}"
    );
    let (code, _, err) = run(d, &["jsonschema", "schema.json"]);
    assert_eq!(code, 0, "{err}");
    let js: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("schema.json")).unwrap()).unwrap();
    assert_eq!(
        js["$defs"]["users"]["properties"]["email"]["format"],
        serde_json::json!("email")
    );
}
