//! Snapshots of the SQL the planner writes (via `dry_run`) for
//! representative changes, so reviews see exactly what a migration file
//! holds. Re-bless with `INSTA_UPDATE=always cargo test --test migrate_sql`.

#![allow(clippy::unwrap_used)]

mod migrate_support;

use litestone::migrate::Rename;
use migrate_support::Db;

async fn dry_run(from: &str, to: &str, renames: Vec<Rename>) -> String {
    let db = Db::new();
    if !from.is_empty() {
        db.open_pushed(from).await;
    }
    let c = db.open(to).await;
    let mut m = c.migrator(db.migrations());
    for r in renames {
        m = m.rename(r);
    }
    m.dry_run("change").await.unwrap()
}

const BASE: &str = r#"
enum Role { admin member }
model users {
  id        Integer   @id
  email     Text      @unique
  role      Role      @default(member)
  bio       Text?
  deletedAt DateTime?
  @@index([role])
}
"#;

#[tokio::test]
async fn initial_schema() {
    insta::assert_snapshot!(dry_run("", BASE, vec![]).await);
}

#[tokio::test]
async fn add_columns_in_place() {
    let to = BASE.replace(
        "  bio       Text?\n",
        "  bio       Text?\n  nick      Text?\n  score     Integer @default(0)\n",
    );
    insta::assert_snapshot!(dry_run(BASE, &to, vec![]).await);
}

#[tokio::test]
async fn enum_value_added_rebuilds() {
    let to = BASE.replace(
        "enum Role { admin member }",
        "enum Role { admin member viewer }",
    );
    insta::assert_snapshot!(dry_run(BASE, &to, vec![]).await);
}

#[tokio::test]
async fn soft_delete_and_fts_added() {
    let to = BASE.replace(
        "  @@index([role])\n",
        "  @@index([role])\n  @@softDelete\n  @@fts([bio])\n",
    );
    insta::assert_snapshot!(dry_run(BASE, &to, vec![]).await);
}

#[tokio::test]
async fn declared_renames() {
    let to = BASE
        .replace("model users {", "model people {")
        .replace("  bio       Text?\n", "  about     Text?\n");
    insta::assert_snapshot!(
        dry_run(
            BASE,
            &to,
            vec![
                Rename::table("users", "people"),
                Rename::column("people", "bio", "about"),
            ],
        )
        .await
    );
}
