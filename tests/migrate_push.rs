//! Dev push (`auto_migrate` / `Client::push`): a matrix of schema changes,
//! each applied to a real database file holding data. After each: data
//! preserved (or the change refused with an error naming what would be
//! lost), `verify` clean, integrity and foreign keys sound.

#![allow(clippy::unwrap_used)]

mod migrate_support;

use litestone::migrate::{Change, PushOptions, Rename};
use litestone::{Error, ErrorKind};
use migrate_support::{Db, assert_clean, r};

const USERS_V1: &str = r#"
model users {
  id    Integer @id
  email Text
  bio   Text?
}
"#;

async fn seeded_users() -> Db {
    let db = Db::new();
    db.open_pushed(USERS_V1).await;
    db.exec(
        "INSERT INTO users (id, email, bio) VALUES (1, 'a@x.io', 'hello'), (2, 'b@x.io', NULL)",
    );
    db
}

#[tokio::test]
async fn auto_migrate_creates_everything_and_is_idempotent() {
    let db = Db::new();
    let c = db.open_pushed(USERS_V1).await;
    assert_clean(&c, &db.migrations()).await;
    let again = c.push().await.unwrap();
    assert!(again.is_empty(), "{again:?}");
    db.assert_sound();
}

#[tokio::test]
async fn add_columns_nullable_default_and_not_null_with_default() {
    let db = seeded_users().await;
    let v2 = r#"
model users {
  id     Integer @id
  email  Text
  bio    Text?
  nick   Text?
  score  Integer @default(5)
  handle Text    @default("anon")
}
"#;
    let c = db.open(v2).await;
    let report = c.push().await.unwrap();
    let changes = report.changes("main");
    assert!(
        changes
            .iter()
            .all(|ch| matches!(ch, Change::AddColumn { .. })),
        "expected in-place adds: {changes:?}"
    );
    assert_eq!(changes.len(), 3);
    assert_eq!(
        db.rows("SELECT id, email, bio, nick, score, handle FROM users ORDER BY id"),
        r(&[
            &["1", "a@x.io", "hello", "NULL", "5", "anon"],
            &["2", "b@x.io", "NULL", "NULL", "5", "anon"]
        ])
    );
    assert_clean(&c, &db.migrations()).await;
    db.assert_sound();
}

#[tokio::test]
async fn drop_column_with_data_is_refused_unless_allowed() {
    let db = seeded_users().await;
    let v2 = "model users {\n  id Integer @id\n  email Text\n}";
    let before = db.image();
    let c = db.open(v2).await;
    let err = c.push().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    match &err {
        Error::Validation {
            model,
            field,
            rule,
            message,
        } => {
            assert_eq!(
                (model.as_str(), field.as_str(), rule.as_str()),
                ("users", "bio", "destructive")
            );
            assert!(
                message.contains("users.bio") && message.contains("1 non-null value"),
                "{message}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(db.image(), before, "a refused push changes nothing");

    // auto_migrate refuses the same way.
    let opened = litestone::Client::builder()
        .schema(v2)
        .db_path(db.path_str())
        .auto_migrate(true)
        .open()
        .await;
    assert_eq!(opened.unwrap_err().kind(), ErrorKind::Validation);

    let report = c
        .push_with(PushOptions::default().allow_destructive(true))
        .await
        .unwrap();
    assert_eq!(
        report.changes("main"),
        &[Change::DropColumn {
            table: "users".into(),
            column: "bio".into()
        }]
    );
    assert_eq!(
        db.rows("SELECT id, email FROM users ORDER BY id"),
        r(&[&["1", "a@x.io"], &["2", "b@x.io"]])
    );
    assert_clean(&c, &db.migrations()).await;
    db.assert_sound();
}

#[tokio::test]
async fn dropping_empty_things_needs_no_opt_in() {
    let db = Db::new();
    db.open_pushed(
        "model users {\n id Integer @id\n email Text\n bio Text?\n}\nmodel tmp {\n id Integer @id\n}",
    )
    .await;
    db.exec("INSERT INTO users (id, email) VALUES (1, 'a')");
    let c = db
        .open_pushed("model users {\n id Integer @id\n email Text\n}")
        .await;
    assert_eq!(
        db.rows("SELECT name FROM sqlite_master WHERE name IN ('tmp', 'users')"),
        r(&[&["users"]])
    );
    assert_clean(&c, &db.migrations()).await;
}

#[tokio::test]
async fn drop_table_with_rows_names_it_and_its_row_count() {
    let db = Db::new();
    db.open_pushed("model users {\n id Integer @id\n}\nmodel logs {\n id Integer @id\n}")
        .await;
    db.exec("INSERT INTO logs (id) VALUES (1), (2), (3)");
    let c = db.open("model users {\n id Integer @id\n}").await;
    let err = c.push().await.unwrap_err();
    match err {
        Error::Validation {
            model,
            field,
            message,
            ..
        } => {
            assert_eq!((model.as_str(), field.as_str()), ("logs", "*"));
            assert!(message.contains("table `logs` (3 rows)"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    c.push_with(PushOptions::default().allow_destructive(true))
        .await
        .unwrap();
    assert!(
        db.rows("SELECT 1 FROM sqlite_master WHERE name = 'logs'")
            .is_empty()
    );
    assert_clean(&c, &db.migrations()).await;
}

#[tokio::test]
async fn declared_column_rename_keeps_data_and_undeclared_is_a_drop() {
    let db = seeded_users().await;
    let v2 = "model users {\n  id Integer @id\n  email Text\n  about Text?\n}";
    let c = db.open(v2).await;
    // Never guessed: without a declaration this is drop bio + add about.
    assert_eq!(c.push().await.unwrap_err().kind(), ErrorKind::Validation);
    let report = c
        .push_with(PushOptions::default().rename(Rename::column("users", "bio", "about")))
        .await
        .unwrap();
    assert_eq!(
        report.changes("main"),
        &[Change::RenameColumn {
            table: "users".into(),
            from: "bio".into(),
            to: "about".into()
        }]
    );
    assert_eq!(
        db.rows("SELECT id, about FROM users ORDER BY id"),
        r(&[&["1", "hello"], &["2", "NULL"]])
    );
    // The same declaration again is a no-op.
    let again = c
        .push_with(PushOptions::default().rename(Rename::column("users", "bio", "about")))
        .await
        .unwrap();
    assert!(again.is_empty());
    assert_clean(&c, &db.migrations()).await;
}

#[tokio::test]
async fn declared_table_rename_keeps_rows_and_foreign_keys() {
    let db = Db::new();
    db.open_pushed(
        r#"
model people {
  id    Integer @id
  name  Text
  posts posts[]
}
model posts {
  id       Integer @id
  author   people  @relation(fields: [authorId], references: [id], onDelete: Cascade)
  authorId Integer
}
"#,
    )
    .await;
    db.exec("INSERT INTO people VALUES (1, 'ann'); INSERT INTO posts VALUES (10, 1);");
    let v2 = r#"
model users {
  id    Integer @id
  name  Text
  posts posts[]
}
model posts {
  id       Integer @id
  author   users   @relation(fields: [authorId], references: [id], onDelete: Cascade)
  authorId Integer
}
"#;
    let c = db.open(v2).await;
    c.push_with(PushOptions::default().rename(Rename::table("people", "users")))
        .await
        .unwrap();
    assert_eq!(db.rows("SELECT id, name FROM users"), r(&[&["1", "ann"]]));
    assert_eq!(
        db.rows("SELECT \"table\" FROM pragma_foreign_key_list('posts')"),
        r(&[&["users"]])
    );
    assert_clean(&c, &db.migrations()).await;
    db.assert_sound();
}

#[tokio::test]
async fn type_change_rebuilds_and_converts() {
    let db = Db::new();
    db.open_pushed("model items {\n id Integer @id\n qty Text\n name Text\n @@index([name])\n}")
        .await;
    db.exec("INSERT INTO items VALUES (1, '42', 'a'), (2, '7', 'b')");
    let c = db
        .open("model items {\n id Integer @id\n qty Integer\n name Text\n @@index([name])\n}")
        .await;
    let report = c.push().await.unwrap();
    assert!(matches!(
        &report.changes("main")[0],
        Change::RebuildTable { reasons, .. } if reasons.iter().any(|r| r.contains("type TEXT → INTEGER"))
    ));
    assert_eq!(
        db.rows("SELECT id, qty, typeof(qty), name FROM items ORDER BY id"),
        r(&[&["1", "42", "integer", "a"], &["2", "7", "integer", "b"]])
    );
    // The index came back with the rebuilt table.
    assert_eq!(
        db.rows("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items' AND sql IS NOT NULL"),
        r(&[&["1"]])
    );
    assert_clean(&c, &db.migrations()).await;
    db.assert_sound();
}

#[tokio::test]
async fn not_null_with_default_fills_nulls() {
    let db = seeded_users().await;
    let v2 = "model users {\n  id Integer @id\n  email Text\n  bio Text @default(\"none\")\n}";
    let c = db.open(v2).await;
    c.push().await.unwrap();
    assert_eq!(
        db.rows("SELECT id, bio FROM users ORDER BY id"),
        r(&[&["1", "hello"], &["2", "none"]])
    );
    assert_clean(&c, &db.migrations()).await;
    db.assert_sound();
}

#[tokio::test]
async fn not_null_without_default_over_nulls_is_refused() {
    let db = seeded_users().await;
    let before = db.image();
    let c = db
        .open("model users {\n  id Integer @id\n  email Text\n  bio Text\n}")
        .await;
    match c.push().await.unwrap_err() {
        Error::Validation {
            field,
            rule,
            message,
            ..
        } => {
            assert_eq!((field.as_str(), rule.as_str()), ("bio", "not_null"));
            assert!(message.contains("1 rows hold NULL"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(db.image(), before);
}

#[tokio::test]
async fn add_and_drop_index() {
    let db = seeded_users().await;
    let with_index =
        "model users {\n id Integer @id\n email Text\n bio Text?\n @@index([email])\n}";
    let c = db.open(with_index).await;
    let report = c.push().await.unwrap();
    assert!(matches!(
        report.changes("main"),
        [Change::CreateIndex { .. }]
    ));
    assert_eq!(
        db.rows("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users' AND sql IS NOT NULL"),
        r(&[&["users_email_idx"]])
    );
    assert_clean(&c, &db.migrations()).await;
    let c = db.open(USERS_V1).await;
    let report = c.push().await.unwrap();
    assert!(matches!(report.changes("main"), [Change::DropIndex { .. }]));
    assert!(
        db.rows("SELECT name FROM sqlite_master WHERE name = 'users_email_idx'")
            .is_empty()
    );
    assert_eq!(db.rows("SELECT count(*) FROM users"), r(&[&["2"]]));
    assert_clean(&c, &db.migrations()).await;
}

#[tokio::test]
async fn add_and_drop_unique() {
    let db = seeded_users().await;
    let unique = "model users {\n id Integer @id\n email Text @unique\n bio Text?\n}";
    let c = db.open(unique).await;
    c.push().await.unwrap();
    let dup = db
        .conn()
        .execute("INSERT INTO users (email) VALUES ('a@x.io')", []);
    assert!(dup.unwrap_err().to_string().contains("UNIQUE"));
    assert_clean(&c, &db.migrations()).await;
    let c = db.open(USERS_V1).await;
    c.push().await.unwrap();
    db.exec("INSERT INTO users (email) VALUES ('a@x.io')");
    assert_clean(&c, &db.migrations()).await;

    // Duplicates now exist: adding the unique fails and changes nothing.
    let before = db.image();
    let c = db.open(unique).await;
    let err = c.push().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UniqueViolation, "{err}");
    assert_eq!(db.image(), before);
}

#[tokio::test]
async fn add_foreign_key_rebuilds_and_checks_rows() {
    let db = Db::new();
    let v1 = r#"
model users {
  id Integer @id
}
model posts {
  id       Integer @id
  authorId Integer
}
"#;
    db.open_pushed(v1).await;
    db.exec("INSERT INTO users VALUES (1); INSERT INTO posts VALUES (10, 1), (11, 1);");
    let v2 = r#"
model users {
  id    Integer @id
  posts posts[]
}
model posts {
  id       Integer @id
  author   users   @relation(fields: [authorId], references: [id], onDelete: Cascade)
  authorId Integer
}
"#;
    let c = db.open(v2).await;
    c.push().await.unwrap();
    assert_eq!(
        db.rows("SELECT \"table\", \"from\", on_delete FROM pragma_foreign_key_list('posts')"),
        r(&[&["users", "authorId", "CASCADE"]])
    );
    assert_eq!(
        db.rows("SELECT id FROM posts ORDER BY id"),
        r(&[&["10"], &["11"]])
    );
    assert_clean(&c, &db.migrations()).await;
    db.assert_sound();

    // An orphan row makes the foreign key check fail: nothing changes.
    let db = Db::new();
    db.open_pushed(v1).await;
    db.exec("INSERT INTO users VALUES (1); INSERT INTO posts VALUES (10, 2);");
    let before = db.image();
    let c = db.open(v2).await;
    let err = c.push().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignKeyViolation, "{err}");
    assert_eq!(db.image(), before);
}

#[tokio::test]
async fn enum_values_added_and_removed() {
    let schema = |values: &str| {
        format!(
            "enum Role {{ {values} }}\nmodel users {{\n id Integer @id\n role Role @default(member)\n}}"
        )
    };
    let db = Db::new();
    db.open_pushed(&schema("admin member")).await;
    db.exec("INSERT INTO users (id, role) VALUES (1, 'admin'), (2, 'member')");

    let c = db.open(&schema("admin member viewer")).await;
    let report = c.push().await.unwrap();
    assert!(matches!(
        &report.changes("main")[0],
        Change::RebuildTable { reasons, .. } if reasons.iter().any(|r| r.contains("check"))
    ));
    db.exec("INSERT INTO users (id, role) VALUES (3, 'viewer')");
    assert_clean(&c, &db.migrations()).await;

    // Removing a value in use: refused, naming the value and the count.
    let before = db.image();
    let c = db.open(&schema("admin member")).await;
    match c.push().await.unwrap_err() {
        Error::Validation {
            model,
            field,
            rule,
            message,
        } => {
            assert_eq!(
                (model.as_str(), field.as_str(), rule.as_str()),
                ("users", "role", "check")
            );
            assert!(message.contains("'viewer' (1 row)"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(db.image(), before);

    // Once unused, it goes.
    db.exec("DELETE FROM users WHERE role = 'viewer'");
    c.push().await.unwrap();
    assert_eq!(
        db.rows("SELECT id, role FROM users ORDER BY id"),
        r(&[&["1", "admin"], &["2", "member"]])
    );
    let bad = db
        .conn()
        .execute("INSERT INTO users (role) VALUES ('viewer')", []);
    assert!(bad.unwrap_err().to_string().contains("CHECK"));
    assert_clean(&c, &db.migrations()).await;
    db.assert_sound();
}

#[tokio::test]
async fn toggling_soft_delete_switches_partial_indexes() {
    let plain = r#"
model users {
  id        Integer   @id
  email     Text      @unique
  name      Text
  deletedAt DateTime?
  @@index([name])
}
"#;
    let soft = r#"
model users {
  id        Integer   @id
  email     Text      @unique
  name      Text
  deletedAt DateTime?
  @@index([name])
  @@softDelete
}
"#;
    let db = Db::new();
    db.open_pushed(plain).await;
    db.exec("INSERT INTO users (id, email, name) VALUES (1, 'a', 'x'), (2, 'b', 'y')");
    let partial = || {
        db.rows("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users' AND sql LIKE '%WHERE%' ORDER BY name")
    };
    assert!(partial().is_empty());

    let c = db.open(soft).await;
    c.push().await.unwrap();
    assert_eq!(partial().len(), 2, "unique and index are partial now");
    // A soft-deleted row no longer blocks its email.
    db.exec("UPDATE users SET deletedAt = '2024-01-01T00:00:00.000Z' WHERE id = 1; INSERT INTO users (id, email, name) VALUES (3, 'a', 'z');");
    assert_clean(&c, &db.migrations()).await;

    db.exec("DELETE FROM users WHERE id = 3");
    let c = db.open(plain).await;
    c.push().await.unwrap();
    assert!(partial().is_empty());
    assert_eq!(db.rows("SELECT count(*) FROM users"), r(&[&["2"]]));
    assert_clean(&c, &db.migrations()).await;
    db.assert_sound();
}

#[tokio::test]
async fn adding_fts_backfills_existing_rows() {
    let v1 = "model posts {\n id Integer @id\n title Text\n body Text\n}";
    let v2 = "model posts {\n id Integer @id\n title Text\n body Text\n @@fts([title, body])\n}";
    let db = Db::new();
    db.open_pushed(v1).await;
    db.exec("INSERT INTO posts VALUES (1, 'Hello world', 'first'), (2, 'Other', 'second hello'), (3, 'Nothing', 'here')");
    let c = db.open(v2).await;
    let report = c.push().await.unwrap();
    assert!(
        report
            .changes("main")
            .contains(&Change::CreateVirtualTable {
                table: "posts_fts".into()
            })
    );
    let search = |q: &str| {
        db.rows(&format!(
            "SELECT rowid FROM posts_fts WHERE posts_fts MATCH '{q}' ORDER BY rowid"
        ))
    };
    assert_eq!(
        search("hello"),
        r(&[&["1"], &["2"]]),
        "old rows are searchable"
    );
    db.exec("INSERT INTO posts VALUES (4, 'hello again', 'x')");
    assert_eq!(
        search("hello"),
        r(&[&["1"], &["2"], &["4"]]),
        "triggers keep it in sync"
    );
    assert_clean(&c, &db.migrations()).await;

    // Rebuilding the content table keeps the index right.
    let v3 = "model posts {\n id Integer @id\n title Text\n body Text\n views Integer @default(0) @unique\n @@fts([title, body])\n}";
    db.exec("DELETE FROM posts WHERE id > 1");
    let c = db.open(v3).await;
    c.push().await.unwrap();
    assert_eq!(search("hello"), r(&[&["1"]]));
    db.exec("UPDATE posts SET title = 'bye' WHERE id = 1");
    assert!(search("hello").is_empty());
    assert_clean(&c, &db.migrations()).await;
    db.assert_sound();
    // FTS5's own check of the index against the content table.
    db.exec("INSERT INTO posts_fts(posts_fts) VALUES ('integrity-check')");
}

#[tokio::test]
async fn external_models_are_never_touched() {
    let db = Db::new();
    db.exec("CREATE TABLE legacy_audit_log (id INTEGER PRIMARY KEY, action TEXT, extra BLOB); INSERT INTO legacy_audit_log VALUES (1, 'x', NULL);");
    db.exec("CREATE VIEW active_users AS SELECT 1 AS id");
    let schema = r#"
model users {
  id Integer @id
}
model legacy_audit_log {
  id     Integer @id
  action Text
  @@external
}
model active_users {
  id Integer @id
  @@external
}
"#;
    let c = db.open_pushed(schema).await;
    assert_eq!(
        db.rows("SELECT sql FROM sqlite_master WHERE name = 'legacy_audit_log'"),
        r(
            &[
                &[
                    "CREATE TABLE legacy_audit_log (id INTEGER PRIMARY KEY, action TEXT, extra BLOB)"
                ]
            ]
        )
    );
    assert_eq!(
        db.rows("SELECT count(*) FROM legacy_audit_log"),
        r(&[&["1"]])
    );
    assert_clean(&c, &db.migrations()).await;
}

#[tokio::test]
async fn each_database_block_migrates_its_own_file() {
    let db = Db::new();
    let analytics = db.dir.path().join("analytics.db");
    let schema = format!(
        r#"
database main      {{ path "{}" }}
database analytics {{ path "{}" }}
model users {{
  id Integer @id
}}
model pageViews {{
  id   Integer @id
  path Text
  @@db(analytics)
}}
"#,
        db.path_str(),
        analytics.display()
    );
    let c = litestone::Client::builder()
        .schema(&schema)
        .auto_migrate(true)
        .open()
        .await
        .unwrap();
    let tables = |p: &std::path::Path| {
        migrate_support::rows(
            &rusqlite::Connection::open(p).unwrap(),
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        )
    };
    assert_eq!(tables(&db.path), r(&[&["users"]]));
    assert_eq!(tables(&analytics), r(&[&["pageViews"]]));
    assert!(
        c.migrator(db.migrations())
            .verify()
            .await
            .unwrap()
            .is_clean()
    );
    assert!(
        c.migrator(db.migrations())
            .database("analytics")
            .verify()
            .await
            .unwrap()
            .is_clean()
    );
}
