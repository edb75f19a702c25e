//! Golden error files: every `tests/schema/errors/*.lite` ends with its
//! expected diagnostics as `// error: line:col: message` comments (the
//! comments are part of the source, so positions are those of the file as
//! stored). `LITESTONE_BLESS=1 cargo test --test schema_errors` rewrites them
//! from the current output.
//!
//! Adding a case = adding a file.

#![allow(clippy::unwrap_used)]

use std::path::Path;

const MARKER: &str = "// error: ";

/// The file without its trailing expected-diagnostics block.
fn strip_expected(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    while lines
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim().starts_with(MARKER))
    {
        lines.pop();
    }
    lines.join("\n")
}

fn expected(text: &str) -> Vec<String> {
    text.lines()
        .rev()
        .take_while(|l| l.trim().is_empty() || l.trim().starts_with(MARKER))
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

fn actual(path: &Path) -> Vec<String> {
    match litestone::schema::parse_file(path) {
        Ok(_) => Vec::new(),
        Err(litestone::Error::Schema { diagnostics, .. }) => diagnostics
            .iter()
            .filter(|d| Path::new(&d.file) == path)
            .map(|d| format!("{MARKER}{}:{}: {}", d.line, d.column, d.message))
            .collect(),
        Err(e) => vec![format!("{MARKER}0:0: unexpected error {e}")],
    }
}

#[test]
fn golden_error_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema/errors");
    let bless = std::env::var("LITESTONE_BLESS").is_ok_and(|v| v == "1");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lite"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    let mut failures = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let got = actual(&path);
        if bless {
            let body = strip_expected(&text);
            let mut out = format!("{body}\n");
            if !got.is_empty() {
                out.push('\n');
                out.push_str(&got.join("\n"));
                out.push('\n');
            }
            if out != text {
                std::fs::write(&path, out).unwrap();
            }
            continue;
        }
        let want = expected(&text);
        if got != want {
            failures.push(format!(
                "{}:\n  expected:\n    {}\n  actual:\n    {}",
                path.display(),
                want.join("\n    "),
                got.join("\n    ")
            ));
        }
        assert!(
            !want.is_empty() || path.file_name().unwrap() == "valid.lite",
            "{} expects no error",
            path.display()
        );
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (LITESTONE_BLESS=1 to rewrite):\n{}",
        failures.join("\n")
    );
}

#[test]
fn diagnostics_carry_a_caret_snippet() {
    let err = litestone::schema::parse("model a {\n  id Integer @id\n  x  Foo\n}").unwrap_err();
    let litestone::Error::Schema {
        file,
        line,
        column,
        diagnostics,
        ..
    } = err
    else {
        panic!("not a schema error")
    };
    assert_eq!((file.as_str(), line, column), ("<schema>", 3, 6));
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].message, "unknown type `Foo`");
    assert_eq!(diagnostics[0].snippet, "  x  Foo\n     ^^^");
    assert_eq!(
        diagnostics[0].to_string(),
        "<schema>:3:6: unknown type `Foo`\n  x  Foo\n     ^^^"
    );
}

/// The full rendering (message + caret snippet) of a few golden files.
#[test]
fn rendered_diagnostics() {
    for name in ["syntax_errors", "relation_errors", "suggestions"] {
        let path = format!(
            "{}/tests/schema/errors/{name}.lite",
            env!("CARGO_MANIFEST_DIR")
        );
        let src = std::fs::read_to_string(&path).unwrap();
        let err = litestone::schema::parse_named(&src, &format!("{name}.lite")).unwrap_err();
        let litestone::Error::Schema { diagnostics, .. } = &err else {
            panic!("not a schema error")
        };
        let mut out = format!("{err}\n\n");
        for d in diagnostics {
            out.push_str(&d.to_string());
            out.push_str("\n\n");
        }
        insta::assert_snapshot!(name, out);
    }
}
