//! Quickstart: builds an embedded SQLite file from a `.lite` schema, then runs
//! a realistic flow — creates, a filtered `find_many` with `include`, cursor
//! pages, a transaction, an application lock and an aggregate — printing what
//! it did.
//!
//! ```sh
//! cargo run --example quickstart            # writes ./quickstart.db
//! LITESTONE_DB=/tmp/q.db cargo run --example quickstart
//! ```

use serde::Deserialize;
use serde_json::json;

const SCHEMA: &str = r#"
enum Plan { starter  pro  enterprise }
enum Role { admin  member  viewer }

model accounts {
  id        Integer  @id
  name      Text
  plan      Plan     @default(starter)
  createdAt DateTime @default(now())
  users     users[]
}

model users {
  id        Integer   @id
  account   accounts  @relation(fields: [accountId], references: [id], onDelete: Cascade)
  accountId Integer
  email     Text      @unique @email @lower
  name      Text?     @trim
  role      Role      @default(member)
  createdAt DateTime  @default(now())
  deletedAt DateTime?
  posts     posts[]

  @@softDelete
  @@index([accountId, email])
}

model posts {
  id        Integer  @id
  author    users    @relation(fields: [authorId], references: [id], onDelete: Cascade)
  authorId  Integer
  title     Text
  views     Integer  @default(0)
  published Boolean  @default(false)
  createdAt DateTime @default(now())

  @@index([views])
}
"#;

#[derive(Debug, Deserialize)]
struct User {
    id: i64,
    email: String,
    role: String,
}

#[tokio::main]
async fn main() -> litestone::Result<()> {
    let path = std::env::var("LITESTONE_DB").unwrap_or_else(|_| "quickstart.db".to_string());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }

    let db = litestone::Client::builder()
        .schema(SCHEMA)
        .db_path(&path)
        .auto_migrate(true)
        .open()
        .await?;
    println!("opened {path} with {} models", db.schema().models.len());

    // Creates.
    let acme = db
        .model("accounts")
        .create(json!({"data": {"name": "Acme", "plan": "pro"}}))
        .await?;
    println!("created account: {acme}");
    let n = db
        .model("users")
        .create_many(json!({"data": (1..=12).map(|i| json!({
            "accountId": acme["id"],
            "email": format!("  User{i}@Example.com").trim().to_string(),
            "name": format!("  User {i}  "),
            "role": if i % 4 == 0 { "admin" } else { "member" },
        })).collect::<Vec<_>>()}))
        .await?;
    println!("created users: {n}");
    for author in 1..=12 {
        db.model("posts")
            .create(json!({"data": {"authorId": author, "title": format!("Post by {author}"), "views": author * 10, "published": author % 2 == 0}, "select": false}))
            .await?;
    }

    // A filtered find_many with include.
    let admins = db
        .model("users")
        .find_many(json!({
            "where":   {"role": "admin"},
            "include": {"account": true, "posts": {"where": {"published": true}}},
            "orderBy": {"email": "asc"},
            "limit":   20
        }))
        .await?;
    println!(
        "admins with account and published posts:\n{}",
        serde_json::to_string_pretty(&admins).unwrap_or_default()
    );

    // Typed rows.
    let typed: Vec<User> = db
        .model("users")
        .find_many_as(json!({"where": {"email": {"endsWith": "@example.com"}}, "limit": 3}))
        .await?;
    for u in &typed {
        println!("typed row: #{} {} ({})", u.id, u.email, u.role);
    }

    // Cursor pages.
    let mut cursor = serde_json::Value::Null;
    let mut page_no = 0;
    loop {
        let mut args =
            json!({"limit": 5, "orderBy": {"id": "asc"}, "select": {"id": true, "email": true}});
        if !cursor.is_null() {
            args["cursor"] = cursor.clone();
        }
        let page = db.model("users").find_many_cursor(args).await?;
        page_no += 1;
        let ids: Vec<_> = page["items"]
            .as_array()
            .map(|a| a.iter().map(|r| r["id"].clone()).collect())
            .unwrap_or_default();
        println!("page {page_no}: ids {ids:?} hasMore={}", page["hasMore"]);
        if page["hasMore"] != json!(true) {
            break;
        }
        cursor = page["nextCursor"].clone();
    }

    // A transaction: both rows or neither.
    let (acct, user) = db
        .transaction(|tx| async move {
            let acct = tx
                .model("accounts")
                .create(json!({"data": {"name": "Globex"}}))
                .await?;
            let user = tx
                .model("users")
                .create(json!({"data": {"accountId": acct["id"], "email": "boss@globex.com", "role": "admin"}}))
                .await?;
            Ok((acct, user))
        })
        .await?;
    println!(
        "transaction committed: account {} user {}",
        acct["id"], user["email"]
    );

    let failed: litestone::Result<()> = db
        .transaction(|tx| async move {
            tx.model("accounts")
                .create(json!({"data": {"name": "Rolled back"}}))
                .await?;
            // A duplicate email violates the unique constraint: everything rolls back.
            tx.model("users")
                .create(json!({"data": {"accountId": 1, "email": "boss@globex.com"}}))
                .await?;
            Ok(())
        })
        .await;
    let kind = failed.err().map(|e| e.kind());
    let accounts = db.model("accounts").count(json!({})).await?;
    println!("failed transaction ({kind:?}) rolled back: {accounts} accounts remain");

    // Soft delete.
    db.model("users")
        .remove(json!({"where": {"email": "user1@example.com"}}))
        .await?;
    let live = db.model("users").count(json!({})).await?;
    let all = db
        .model("users")
        .count(json!({"withDeleted": true}))
        .await?;
    println!("soft delete: {live} live users, {all} including deleted");

    // An application lock.
    {
        let _guard = db.lock("nightly-report").await?;
        println!("holding lock `nightly-report`");
    }
    println!("lock released");

    // Update with an atomic operator.
    let post = db
        .model("posts")
        .update(json!({"where": {"id": 1}, "data": {"views": {"increment": 5}}}))
        .await?;
    println!("post 1 views after increment: {}", post["views"]);

    // Aggregates and groups.
    let stats = db
        .model("posts")
        .aggregate(json!({"_count": true, "_sum": {"views": true}, "_max": {"views": true}}))
        .await?;
    println!("posts aggregate: {stats}");
    let by_published = db
        .model("posts")
        .group_by(json!({"by": ["published"], "_count": true, "_avg": {"views": true}}))
        .await?;
    println!("posts grouped by published: {by_published}");

    db.close().await?;
    println!("closed");
    Ok(())
}
