//! `import` resolution: paths relative to the importing file, cycles and
//! repeats read once, diagnostics naming the file they are in.

#![allow(clippy::unwrap_used)]

use litestone::{Error, schema};

#[test]
fn errors_name_the_imported_file_and_all_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("models")).unwrap();
    std::fs::write(
        dir.path().join("schema.lite"),
        "import \"./models/users.lite\"\nimport \"./models/users.lite\"\nmodel root {\n  id Integer @id\n  x Nope\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("models/users.lite"),
        "import \"../schema.lite\"\nimport \"./posts.lite\"\nmodel users {\n  id Integer @id\n  y Bad\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("models/posts.lite"),
        "model posts {\n  id     Integer @id\n  author users @relation(fields: [authorId], references: [id])\n  authorId Integer\n}\n",
    )
    .unwrap();
    let Err(Error::Schema {
        file, diagnostics, ..
    }) = schema::parse_file(dir.path().join("schema.lite"))
    else {
        panic!("expected errors")
    };
    let got: Vec<(String, u32, u32, String)> = diagnostics
        .iter()
        .map(|d| {
            let name = std::path::Path::new(&d.file)
                .strip_prefix(dir.path())
                .unwrap()
                .display()
                .to_string();
            (name, d.line, d.column, d.message.clone())
        })
        .collect();
    assert_eq!(
        got,
        [
            ("schema.lite".into(), 5, 5, "unknown type `Nope`".into()),
            (
                "models/users.lite".into(),
                5,
                5,
                "unknown type `Bad`".into()
            ),
        ]
    );
    assert!(file.ends_with("schema.lite"));
}

#[test]
fn imported_declarations_come_first_and_cross_reference() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.lite"),
        "import \"./b.lite\"\nmodel posts {\n  id Integer @id\n  author users @relation(fields: [authorId], references: [id])\n  authorId Integer\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.lite"),
        "import \"./a.lite\"\nmodel users {\n  id Integer @id\n  posts posts[]\n}\n",
    )
    .unwrap();
    let s = schema::parse_file(dir.path().join("a.lite")).unwrap();
    let names: Vec<&str> = s.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["users", "posts"]);
    assert_eq!(s.files.len(), 2);
    assert!(s.files[0].ends_with("a.lite"));
    // Spans point into the file table.
    let users = s.model("users").unwrap();
    assert!(s.files[users.span.file as usize].ends_with("b.lite"));
}

#[test]
fn unreadable_root_is_a_schema_error() {
    let err = schema::parse_file("/definitely/not/here.lite").unwrap_err();
    assert_eq!(err.kind(), litestone::ErrorKind::Schema);
}
