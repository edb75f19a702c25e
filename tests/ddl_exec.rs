//! The generated DDL executes on a fresh SQLite database and the constraints,
//! defaults, generated columns, triggers and join tables behave as the
//! README describes.

#![allow(clippy::unwrap_used)]

use litestone::{ddl, schema};
use rusqlite::Connection;

fn build(src: &str) -> (schema::Schema, Connection) {
    let s = schema::parse(src).unwrap();
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    for stmt in ddl::create_statements(&s, None) {
        conn.execute_batch(&stmt)
            .unwrap_or_else(|e| panic!("{e}\n{stmt}"));
    }
    (s, conn)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/ddl/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn every_ddl_fixture_executes_twice() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ddl");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let s = schema::parse_file(&path).unwrap();
        let mut dbs = vec![None];
        dbs.extend(s.databases.iter().map(|d| Some(d.name.as_str())));
        for db in dbs {
            let conn = Connection::open_in_memory().unwrap();
            for _ in 0..2 {
                for stmt in ddl::create_statements(&s, db) {
                    conn.execute_batch(&stmt)
                        .unwrap_or_else(|e| panic!("{}: {e}\n{stmt}", path.display()));
                }
            }
        }
    }
}

#[test]
fn strict_enum_and_boolean_checks() {
    let (_, c) = build(&fixture("kitchen_sink.lite"));
    c.execute("INSERT INTO accounts (name, photos) VALUES ('a', '[]')", [])
        .unwrap();
    let bad_enum = c.execute(
        "INSERT INTO accounts (name, photos, status) VALUES ('b', '[]', 'deleted')",
        [],
    );
    assert!(bad_enum.unwrap_err().to_string().contains("CHECK"));
    let bad_bool = c.execute(
        "INSERT INTO accounts (name, photos, active) VALUES ('c', '[]', 2)",
        [],
    );
    assert!(bad_bool.unwrap_err().to_string().contains("CHECK"));
    let not_strict = c.execute(
        "INSERT INTO accounts (name, photos, score) VALUES ('d', '[]', 'high')",
        [],
    );
    assert!(not_strict.is_err());
    let (active, status, tags, created, double, token): (i64, String, String, String, i64, String) =
        c.query_row(
            "SELECT active, status, tags, createdAt, double, token FROM accounts WHERE name = 'a'",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .unwrap();
    let parsed = uuid::Uuid::parse_str(&token).unwrap();
    assert_eq!(parsed.get_version_num(), 4, "{token}");
    assert_eq!(token, token.to_lowercase());
    assert_eq!(
        (active, status.as_str(), tags.as_str(), double),
        (1, "draft", "[]", 2)
    );
    // YYYY-MM-DDTHH:MM:SS.sssZ
    assert_eq!(created.len(), 24, "{created}");
    assert_eq!(&created[10..11], "T");
    assert_eq!(&created[19..20], ".");
    assert!(created.ends_with('Z'));
}

#[test]
fn soft_delete_uniques_are_partial_and_sequences_unique() {
    let (_, c) = build(&fixture("kitchen_sink.lite"));
    c.execute(
        "INSERT INTO accounts (id, name, photos) VALUES (1, 'a', '[]')",
        [],
    )
    .unwrap();
    c.execute(
        "INSERT INTO users (accountId, email, docNo) VALUES (1, 'x@y.z', 1)",
        [],
    )
    .unwrap();
    assert!(
        c.execute(
            "INSERT INTO users (accountId, email, docNo) VALUES (1, 'x@y.z', 2)",
            [],
        )
        .is_err()
    );
    c.execute(
        "UPDATE users SET deletedAt = '2024-01-01T00:00:00.000Z' WHERE email = 'x@y.z'",
        [],
    )
    .unwrap();
    // The soft-deleted row no longer blocks the address...
    c.execute(
        "INSERT INTO users (accountId, email, docNo) VALUES (1, 'x@y.z', 2)",
        [],
    )
    .unwrap();
    // ...but sequence numbers stay unique per scope.
    assert!(
        c.execute(
            "INSERT INTO users (accountId, email, docNo) VALUES (1, 'other@y.z', 2)",
            [],
        )
        .is_err()
    );
    // ON DELETE CASCADE.
    c.execute("DELETE FROM accounts WHERE id = 1", []).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn fts_triggers_keep_the_index_in_sync() {
    let (_, c) = build(&fixture("fts.lite"));
    let hits = |q: &str| -> Vec<i64> {
        let mut st = c
            .prepare("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rowid")
            .unwrap();
        st.query_map([q], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    c.execute(
        "INSERT INTO messages (id, title, content) VALUES (1, 'hello', 'hello world')",
        [],
    )
    .unwrap();
    c.execute(
        "INSERT INTO messages (id, title, content) VALUES (2, 'other', 'goodbye world')",
        [],
    )
    .unwrap();
    assert_eq!(hits("world"), [1, 2]);
    assert_eq!(hits("hello"), [1]);
    c.execute("UPDATE messages SET content = 'farewell' WHERE id = 2", [])
        .unwrap();
    assert_eq!(hits("world"), [1]);
    assert_eq!(hits("farewell"), [2]);
    c.execute("DELETE FROM messages WHERE id = 1", []).unwrap();
    assert!(hits("hello").is_empty());
    c.execute(
        "INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')",
        [],
    )
    .unwrap();
    // Quoted names everywhere.
    c.execute(
        r#"INSERT INTO "odd ""table"" 's" ("it's ""text""") VALUES ('quoted words')"#,
        [],
    )
    .unwrap();
    c.execute(
        r#"UPDATE "odd ""table"" 's" SET "it's ""text""" = 'renamed words'"#,
        [],
    )
    .unwrap();
    let n: i64 = c
        .query_row(
            r#"SELECT count(*) FROM "odd ""table"" 's_fts" WHERE "odd ""table"" 's_fts" MATCH 'renamed'"#,
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn join_tables_cascade() {
    let (s, c) = build(&fixture("many_to_many.lite"));
    c.execute_batch(
        "INSERT INTO posts (id) VALUES (1);
         INSERT INTO tags (name) VALUES ('rust');
         INSERT INTO \"_postsTotags\" (A, B) VALUES (1, 'rust');
         INSERT INTO users (id) VALUES (1), (2);
         INSERT INTO \"_follows\" (A, B) VALUES (1, 2);",
    )
    .unwrap();
    assert!(
        c.execute(
            "INSERT INTO \"_postsTotags\" (A, B) VALUES (1, 'missing')",
            []
        )
        .is_err()
    );
    assert!(
        c.execute("INSERT INTO \"_postsTotags\" (A, B) VALUES (1, 'rust')", [])
            .is_err()
    );
    c.execute("DELETE FROM tags WHERE name = 'rust'", [])
        .unwrap();
    c.execute("DELETE FROM users WHERE id = 2", []).unwrap();
    let n: i64 = c
        .query_row(
            "SELECT (SELECT count(*) FROM \"_postsTotags\") + (SELECT count(*) FROM \"_follows\")",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0);
    // Building blocks are usable one model at a time.
    let posts = s.model("posts").unwrap();
    let joins = ddl::implicit_join_tables(&s, posts);
    assert_eq!(joins.len(), 1);
    assert_eq!(joins[0].1.table, "_postsTotags");
    let stmts = ddl::join_table_statements(&s, posts.id, joins[0].1);
    assert!(stmts[0].starts_with("CREATE TABLE IF NOT EXISTS \"_postsTotags\""));
}

#[test]
fn schema_function_columns_are_computed_by_sqlite() {
    let (_, c) = build(
        r#"
        function slug(text: Text): Text { @@expr("lower(trim(replace({text}, ' ', '-')))") }
        function fullName(first: Text, last: Text): Text {
          @@expr("COALESCE({first}, '') || ' ' || COALESCE({last}, '')")
        }
        model users {
          id          Integer @id
          firstName   Text?
          lastName    Text?
          displayName Text    @fullName(firstName, lastName)
          handle      Text    @slug(displayName)
        }
    "#,
    );
    c.execute(
        "INSERT INTO users (firstName, lastName) VALUES ('Ada', 'Lovelace')",
        [],
    )
    .unwrap();
    let (d, h): (String, String) = c
        .query_row("SELECT displayName, handle FROM users", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((d.as_str(), h.as_str()), ("Ada Lovelace", "ada-lovelace"));
}

#[test]
fn routing_and_building_blocks() {
    let s = schema::parse(&fixture("databases.lite")).unwrap();
    let main = ddl::create_statements(&s, None);
    assert_eq!(main, ddl::create_statements(&s, Some("main")));
    assert!(main.iter().any(|s| s.contains("\"users\"")));
    assert!(!main.iter().any(|s| s.contains("\"views\"")));
    // No foreign key towards an @@external model.
    assert!(!main.iter().any(|s| s.contains("REFERENCES \"legacy\"")));
    let analytics = ddl::create_statements(&s, Some("analytics"));
    assert_eq!(analytics.len(), 1);
    assert!(ddl::create_statements(&s, Some("logs")).is_empty());
    let users = s.model("users").unwrap();
    assert!(ddl::owns_table(&s, users));
    assert!(!ddl::owns_table(&s, s.model("legacy").unwrap()));
    assert!(!ddl::owns_table(&s, s.model("requests").unwrap()));
    assert_eq!(
        ddl::create_table(&s, users),
        "CREATE TABLE IF NOT EXISTS \"users\" (\n  \"id\" INTEGER PRIMARY KEY\n) STRICT"
    );
    assert!(ddl::index_statements(&s, users).is_empty());
    assert!(ddl::fts_statements(&s, users).is_empty());
    assert_eq!(ddl::quote_ident("a\"b"), "\"a\"\"b\"");
}

#[test]
fn upserts_on_partial_unique_indexes_need_the_predicate() {
    let (s, c) = build(&fixture("kitchen_sink.lite"));
    let users = s.model("users").unwrap();
    let email = users.field_id("email").unwrap();
    let pred = ddl::unique_index_predicate(&s, users, &[email]).unwrap();
    assert_eq!(pred, "\"deletedAt\" IS NULL");
    // Not on the primary key, nor on models without soft delete.
    assert_eq!(
        ddl::unique_index_predicate(&s, users, &users.primary_key),
        None
    );
    let accounts = s.model("accounts").unwrap();
    let name = accounts.field_id("name").unwrap();
    assert_eq!(ddl::unique_index_predicate(&s, accounts, &[name]), None);
    c.execute(
        "INSERT INTO accounts (id, name, photos) VALUES (1, 'a', '[]')",
        [],
    )
    .unwrap();
    let upsert = format!(
        "INSERT INTO users (accountId, email, docNo) VALUES (1, 'x@y.z', ?1) \
         ON CONFLICT (\"email\") WHERE {pred} DO UPDATE SET docNo = excluded.docNo"
    );
    c.execute(&upsert, [1]).unwrap();
    c.execute(&upsert, [2]).unwrap();
    let n: i64 = c
        .query_row("SELECT docNo FROM users WHERE email = 'x@y.z'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 2);
    // Without the predicate SQLite finds no matching constraint.
    assert!(
        c.execute(
            "INSERT INTO users (accountId, email, docNo) VALUES (1, 'x@y.z', 3) \
             ON CONFLICT (\"email\") DO UPDATE SET docNo = excluded.docNo",
            [],
        )
        .is_err()
    );
}

#[test]
fn model_statements_and_fts_names() {
    let s = schema::parse(&fixture("fts.lite")).unwrap();
    let m = s.model("messages").unwrap();
    let stmts = ddl::model_statements(&s, m);
    assert_eq!(stmts[0], ddl::create_table(&s, m));
    assert_eq!(stmts.len(), 1 + ddl::index_statements(&s, m).len() + 4);
    let (table, triggers) = ddl::fts_object_names(m).unwrap();
    assert_eq!(table, "messages_fts");
    assert_eq!(
        triggers,
        ["messages_fts_ai", "messages_fts_ad", "messages_fts_au"]
    );
    for t in &triggers {
        assert!(stmts.iter().any(|s| s.contains(&format!("\"{t}\""))));
    }
}

#[test]
fn implicit_defaults_for_updated_at_and_required_lists() {
    let (_, c) = build(
        r#"
        model notes {
          id        Integer  @id
          tags      Text[]
          maybe     Text[]?
          updatedAt DateTime @updatedAt
        }
    "#,
    );
    c.execute("INSERT INTO notes (id) VALUES (1)", []).unwrap();
    let (tags, maybe, at): (String, Option<String>, String) = c
        .query_row("SELECT tags, maybe, updatedAt FROM notes", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(tags, "[]");
    assert_eq!(maybe, None);
    assert!(at.ends_with('Z') && at.len() == 24, "{at}");
}
