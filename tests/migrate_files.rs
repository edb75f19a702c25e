//! File-based migrations: create / dry-run / apply / status / verify, Rust
//! data migrations, rollback of a failing migration, tampered files, and two
//! processes applying at once.

#![allow(clippy::unwrap_used)]

mod migrate_support;

use std::sync::{Arc, Mutex};

use litestone::ErrorKind;
use litestone::migrate::{MigrationState, Rename};
use migrate_support::{Db, r};

const V1: &str = r#"
enum Role { admin member }
model users {
  id    Integer @id
  email Text    @unique
  role  Role    @default(member)
}
"#;

const V2: &str = r#"
enum Role { admin member viewer }
model users {
  id    Integer @id
  email Text    @unique
  role  Role    @default(member)
  name  Text?
  posts posts[]
}
model posts {
  id       Integer @id
  title    Text
  author   users   @relation(fields: [authorId], references: [id])
  authorId Integer
  @@fts([title])
}
"#;

fn sql_files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test]
async fn create_apply_status_verify_cycle() {
    let db = Db::new();
    let dir = db.migrations();
    let c = db.open(V1).await;
    let m = c.migrator(&dir);

    // dry-run writes nothing.
    let preview = m.dry_run("initial").await.unwrap();
    assert!(preview.contains("CREATE TABLE \"users\""), "{preview}");
    assert!(sql_files(&dir).is_empty());
    assert!(!m.verify().await.unwrap().is_clean());

    let first = m.create("Initial schema").await.unwrap().unwrap();
    let fname = first.file_name().unwrap().to_string_lossy().to_string();
    assert!(fname.ends_with("_initial-schema.sql"), "{fname}");
    assert_eq!(fname.len(), "YYYYMMDDHHMMSS_initial-schema.sql".len());
    assert!(fname[..14].chars().all(|c| c.is_ascii_digit()));
    // Pending files count as applied when diffing: nothing new to create.
    assert!(m.create("again").await.unwrap().is_none());
    assert_eq!(m.dry_run("again").await.unwrap(), "");

    let status = m.status().await.unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].state, MigrationState::Pending);
    let report = m.verify().await.unwrap();
    assert_eq!(report.pending.len(), 1);
    assert!(!report.drift.is_empty());

    let applied = m.apply().await.unwrap();
    assert_eq!(applied, vec![fname.trim_end_matches(".sql").to_string()]);
    assert!(m.apply().await.unwrap().is_empty(), "applied once");
    let status = m.status().await.unwrap();
    assert_eq!(status[0].state, MigrationState::Applied);
    assert!(status[0].applied_at.as_deref().unwrap().ends_with('Z'));
    assert!(m.verify().await.unwrap().is_clean());
    assert!(
        m.create("noop").await.unwrap().is_none(),
        "no change, no file"
    );
    db.exec("INSERT INTO users (id, email, role) VALUES (1, 'a@x.io', 'admin'), (2, 'b@x.io', 'member')");

    // Second schema: enum value, new column, new table with FK and FTS.
    let c2 = db.open(V2).await;
    let m2 = c2.migrator(&dir);
    let second = m2.create("posts").await.unwrap().unwrap();
    let text = std::fs::read_to_string(&second).unwrap();
    assert!(text.contains("CREATE VIRTUAL TABLE"), "{text}");
    assert!(
        text.contains("_new_users"),
        "enum change rebuilds users: {text}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("BEGIN") || l.starts_with("COMMIT")),
        "no transaction control in files"
    );
    assert_eq!(sql_files(&dir).len(), 2);
    assert!(sql_files(&dir)[1] > sql_files(&dir)[0]);
    let applied = m2.apply().await.unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(
        db.rows("SELECT id, email, role, name FROM users ORDER BY id"),
        r(&[
            &["1", "a@x.io", "admin", "NULL"],
            &["2", "b@x.io", "member", "NULL"]
        ])
    );
    assert!(m2.verify().await.unwrap().is_clean());
    let history = db.rows("SELECT name, length(checksum) FROM _litestone_migrations ORDER BY name");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0][1], "64");
    db.assert_sound();
}

#[tokio::test]
async fn create_refuses_data_loss_unless_allowed_and_honours_renames() {
    let db = Db::new();
    let dir = db.migrations();
    let c = db
        .open_pushed("model users {\n id Integer @id\n bio Text?\n}")
        .await;
    db.exec("INSERT INTO users VALUES (1, 'hello')");
    let v2 = "model users {\n id Integer @id\n about Text?\n}";
    let c2 = db.open(v2).await;
    let err = c2.migrator(&dir).create("drop-bio").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert!(sql_files(&dir).is_empty());

    let renamed = c2
        .migrator(&dir)
        .rename(Rename::column("users", "bio", "about"));
    let sql = renamed.dry_run("rename").await.unwrap();
    assert!(sql.contains("RENAME COLUMN \"bio\" TO \"about\""), "{sql}");
    renamed.create("rename").await.unwrap().unwrap();
    renamed.apply().await.unwrap();
    assert_eq!(db.rows("SELECT about FROM users"), r(&[&["hello"]]));
    assert!(renamed.verify().await.unwrap().is_clean());

    let allowed = c.migrator(&dir).allow_destructive(true);
    let file = allowed.create("back").await.unwrap().unwrap();
    assert!(std::fs::read_to_string(file).unwrap().contains("about"));
}

#[tokio::test]
async fn failing_migration_leaves_the_database_exactly_as_before() {
    let db = Db::new();
    let dir = db.migrations();
    let c = db.open_pushed(V1).await;
    db.exec("INSERT INTO users (id, email, role) VALUES (1, 'a@x.io', 'admin')");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("20240101000000_ok.sql"),
        "ALTER TABLE users ADD COLUMN nick TEXT;\nUPDATE users SET nick = 'n';\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("20240102000000_broken.sql"),
        "CREATE TABLE \"_new_users\" (id INTEGER PRIMARY KEY, email TEXT);\n\
         INSERT INTO \"_new_users\" SELECT id, email FROM users;\n\
         DROP TABLE users;\n\
         ALTER TABLE \"_new_users\" RENAME TO users;\n\
         INSERT INTO no_such_table VALUES (1);\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("20240103000000_after.sql"),
        "CREATE TABLE never (id INTEGER);\n",
    )
    .unwrap();
    let m = c.migrator(&dir);
    // Apply the first one alone so the "before" image includes it.
    let mut tmp = dir.clone();
    tmp.set_file_name("only_first");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::copy(
        dir.join("20240101000000_ok.sql"),
        tmp.join("20240101000000_ok.sql"),
    )
    .unwrap();
    c.migrator(&tmp).apply().await.unwrap();
    let before = db.image();

    let err = m.apply().await.unwrap_err();
    assert!(err.to_string().contains("20240102000000_broken"), "{err}");
    assert!(err.to_string().contains("no_such_table"), "{err}");
    assert_eq!(db.image(), before, "schema and data unchanged");
    let states: Vec<(String, MigrationState)> = m
        .status()
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.name, s.state))
        .collect();
    assert_eq!(
        states,
        vec![
            ("20240101000000_ok".to_string(), MigrationState::Applied),
            ("20240102000000_broken".to_string(), MigrationState::Pending),
            ("20240103000000_after".to_string(), MigrationState::Pending),
        ]
    );
    db.assert_sound();

    // A generated rebuild that existing rows violate also rolls back whole:
    // the enum value 'admin' is in use and the file removes it.
    std::fs::remove_file(dir.join("20240102000000_broken.sql")).unwrap();
    std::fs::remove_file(dir.join("20240103000000_after.sql")).unwrap();
    let shrink = "enum Role { member }\nmodel users {\n id Integer @id\n email Text @unique\n role Role @default(member)\n nick Text?\n}";
    // Generate the file from an empty database of the same shape (the
    // preflight would refuse on the real one).
    let empty = Db::new();
    empty.open_pushed(V1).await;
    empty.exec("ALTER TABLE users ADD COLUMN nick TEXT");
    let text = empty
        .open(shrink)
        .await
        .migrator(empty.migrations())
        .dry_run("shrink")
        .await
        .unwrap();
    assert!(text.contains("_new_users"), "{text}");
    std::fs::write(dir.join("20240104000000_shrink.sql"), text).unwrap();
    let err = m.apply().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CheckViolation, "{err}");
    assert_eq!(db.image(), before);
}

#[tokio::test]
async fn tampered_applied_file_is_reported_modified() {
    let db = Db::new();
    let dir = db.migrations();
    let c = db.open(V1).await;
    let m = c.migrator(&dir);
    let path = m.create("initial").await.unwrap().unwrap();
    m.apply().await.unwrap();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("\n-- edited after apply\n");
    std::fs::write(&path, text).unwrap();
    let status = m.status().await.unwrap();
    assert_eq!(status[0].state, MigrationState::Modified);
    let report = m.verify().await.unwrap();
    assert_eq!(report.modified.len(), 1);
    assert!(!report.is_clean());
    // Not re-run.
    assert!(m.apply().await.unwrap().is_empty());
    // A recorded migration whose file is gone is reported too.
    std::fs::remove_file(&path).unwrap();
    assert_eq!(m.status().await.unwrap()[0].state, MigrationState::Missing);
}

#[tokio::test]
async fn rust_migrations_run_in_order_with_sql_files_once() {
    let db = Db::new();
    let dir = db.migrations();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("20240101000000_posts.sql"),
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, slug TEXT);\n\
         INSERT INTO posts (title) VALUES ('Hello World'), ('Second Post');\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("20240101000002_index.sql"),
        "CREATE UNIQUE INDEX posts_slug ON posts(slug);\n",
    )
    .unwrap();
    let c = db.open("").await;
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let path = db.path.clone();
    let l2 = log.clone();
    let m = c
        .migrator(&dir)
        .register("20240101000001_backfill-slugs", move |_client| {
            let path = path.clone();
            let log = l2.clone();
            async move {
                // Runs after the posts file and before the unique index.
                let conn = rusqlite::Connection::open(&path).unwrap();
                conn.execute(
                    "UPDATE posts SET slug = lower(replace(title, ' ', '-'))",
                    [],
                )
                .unwrap();
                log.lock().unwrap().push("backfill".into());
                Ok(())
            }
        });
    let applied = m.apply().await.unwrap();
    assert_eq!(
        applied,
        vec![
            "20240101000000_posts",
            "20240101000001_backfill-slugs",
            "20240101000002_index"
        ]
    );
    assert_eq!(
        db.rows("SELECT slug FROM posts ORDER BY id"),
        r(&[&["hello-world"], &["second-post"]])
    );
    assert!(m.apply().await.unwrap().is_empty());
    assert_eq!(log.lock().unwrap().len(), 1, "ran once");
    assert!(
        m.status()
            .await
            .unwrap()
            .iter()
            .all(|s| s.state == MigrationState::Applied)
    );

    // A failing Rust migration stops the run and is not recorded.
    let failing = c
        .migrator(&dir)
        .register("20240101000003_fails", |_c| async {
            Err(litestone::Error::invalid_args("", "boom"))
        })
        .register("20240101000004_later", |_c| async { Ok(()) });
    assert!(failing.apply().await.is_err());
    let states: Vec<MigrationState> = failing
        .status()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.state)
        .collect();
    assert_eq!(
        states[3..],
        [MigrationState::Pending, MigrationState::Pending]
    );
}

/// Entry point of the child processes of `concurrent_apply_from_two_processes`:
/// does nothing unless the parent set the environment.
#[tokio::test]
async fn concurrent_apply_child() {
    let (Ok(db), Ok(dir)) = (
        std::env::var("LITESTONE_TEST_CHILD_DB"),
        std::env::var("LITESTONE_TEST_CHILD_DIR"),
    ) else {
        return;
    };
    let c = litestone::Client::builder()
        .schema("")
        .db_path(&db)
        .open()
        .await
        .unwrap();
    for name in c.migrator(&dir).apply().await.unwrap() {
        println!("APPLIED:{name}");
    }
}

#[tokio::test]
async fn concurrent_apply_from_two_processes() {
    let db = Db::new();
    let dir = db.migrations();
    std::fs::create_dir_all(&dir).unwrap();
    // Create the file first so both children race on migrations only.
    db.exec("PRAGMA journal_mode = WAL");
    std::fs::write(
        dir.join("20240101000000_t.sql"),
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("20240101000001_fill.sql"),
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)\n\
         INSERT INTO t (v) SELECT i FROM n;\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("20240101000002_more.sql"),
        "INSERT INTO t (v) SELECT v FROM t WHERE v <= 10;\n",
    )
    .unwrap();
    let exe = std::env::current_exe().unwrap();
    let spawn = || {
        std::process::Command::new(&exe)
            .args([
                "concurrent_apply_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("LITESTONE_TEST_CHILD_DB", db.path_str())
            .env("LITESTONE_TEST_CHILD_DIR", &dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn();
    let b = spawn();
    let mut applied = Vec::new();
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "child failed: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        applied.extend(
            stdout
                .lines()
                // libtest may print its own "test ... " prefix on the same line.
                .filter_map(|l| l.split_once("APPLIED:").map(|(_, n)| n.trim().to_string())),
        );
    }
    applied.sort();
    assert_eq!(
        applied,
        vec![
            "20240101000000_t",
            "20240101000001_fill",
            "20240101000002_more"
        ],
        "each migration applied by exactly one process"
    );
    assert_eq!(db.rows("SELECT count(*) FROM t"), r(&[&["50010"]]));
    assert_eq!(
        db.rows("SELECT count(*) FROM _litestone_migrations"),
        r(&[&["3"]])
    );
}
