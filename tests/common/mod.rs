//! Shared fixtures for the query/client integration tests: a realistic
//! schema on a fresh SQLite file in a temporary directory.
#![allow(dead_code, unreachable_pub)]
#![allow(clippy::unwrap_used)]
use litestone::Client;
use serde_json::{Value, json};

pub const SCHEMA: &str = r#"
enum Role { admin  member  viewer }

type Address {
  street Text
  city   Text
  zip    Text?
}

model accounts {
  id        Integer  @id
  name      Text     @trim
  plan      Text     @default("starter")
  meta      Json?
  createdAt DateTime @default(now())
  users     users[]
}

model users {
  id        Integer   @id
  account   accounts? @relation(fields: [accountId], references: [id])
  accountId Integer?
  email     Text      @unique @email @lower
  name      Text?
  age       Integer?
  score     Real?
  active    Boolean   @default(true)
  role      Role      @default(member)
  address   Address?
  tags      Text[]?
  avatar    Blob?
  secret    Text?     @omit
  hidden    Text?     @omit(all)
  apiKey    Text?     @guarded
  createdAt DateTime  @default(now())
  updatedAt DateTime  @updatedAt
  posts     posts[]
  profile   profiles?
}

model profiles {
  id     Integer @id
  user   users   @relation(fields: [userId], references: [id])
  userId Integer @unique
  bio    Text?
}

model posts {
  id        Integer  @id
  author    users    @relation(fields: [authorId], references: [id])
  authorId  Integer
  title     Text     @length(1, 100)
  body      Text?
  views     Integer  @default(0)
  published Boolean  @default(false)
  slug      Text     @default(uuid())
  deletedAt DateTime?
  labels    labels[]

  @@softDelete
  @@index([authorId])
}

model labels {
  id    Integer @id
  name  Text    @unique
  posts posts[]
}

model quotes {
  id          Integer @id
  accountId   Integer
  quoteNumber Integer @sequence(scope: accountId)
  title       Text    @map("quote_title")

  @@map("quote_table")
}

model members {
  orgId  Integer
  userId Integer
  role   Text

  @@id([orgId, userId])
}
"#;

pub struct Db {
    pub client: Client,
    pub path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Db {
    /// A raw connection to the same file, for checking rows left behind.
    pub fn raw(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.path).expect("open raw")
    }

    /// Runs a query on a raw connection and returns the first column of each row as JSON.
    pub fn col(&self, sql: &str) -> Vec<Value> {
        let c = self.raw();
        let mut st = c.prepare(sql).expect("prepare");
        let rows = st
            .query_map([], |r| {
                Ok(match r.get_ref(0)? {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(i) => json!(i),
                    rusqlite::types::ValueRef::Real(f) => json!(f),
                    rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                    rusqlite::types::ValueRef::Blob(b) => json!(b.len()),
                })
            })
            .expect("query");
        rows.map(|r| r.expect("row")).collect()
    }
}

pub async fn open_with(schema: &str) -> Db {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("test.db");
    let client = Client::builder()
        .schema(schema)
        .db_path(path.to_str().expect("utf8 path"))
        .auto_migrate(true)
        .open()
        .await
        .expect("open client");
    Db {
        client,
        path,
        _dir: dir,
    }
}

pub async fn open() -> Db {
    open_with(SCHEMA).await
}

/// Seeds 2 accounts, 4 users, posts and labels.
pub async fn seed(db: &Db) {
    let c = &db.client;
    c.model("accounts")
        .create(json!({"data": {"id": 1, "name": "Acme"}}))
        .await
        .expect("acct");
    c.model("accounts")
        .create(json!({"data": {"id": 2, "name": "Globex", "meta": {"tier": 3}}}))
        .await
        .expect("acct");
    let users = [
        json!({"id": 1, "accountId": 1, "email": "alice@acme.io", "name": "Alice", "age": 30, "score": 1.5, "role": "admin", "address": {"street": "1 Main", "city": "NYC"}, "tags": ["a", "b"]}),
        json!({"id": 2, "accountId": 1, "email": "bob@acme.io", "name": "Bob", "age": 25, "active": false, "address": {"street": "2 Side", "city": "LA"}}),
        json!({"id": 3, "accountId": 2, "email": "carol@globex.io", "name": null, "age": null, "role": "viewer"}),
        json!({"id": 4, "email": "dave_100%@x.io", "name": "Dave", "age": 41}),
    ];
    for u in users {
        c.model("users")
            .create(json!({"data": u}))
            .await
            .expect("user");
    }
    let posts = [
        (1, 1, "Hello", 10, true),
        (2, 1, "World", 50, false),
        (3, 2, "Bob post", 5, true),
        (4, 3, "Carol post", 100, true),
        (5, 1, "Third", 7, true),
    ];
    for (id, author, title, views, published) in posts {
        c.model("posts")
            .create(json!({"data": {"id": id, "authorId": author, "title": title, "views": views, "published": published}}))
            .await
            .expect("post");
    }
    for (id, name) in [(1, "rust"), (2, "sqlite")] {
        c.model("labels")
            .create(json!({"data": {"id": id, "name": name}}))
            .await
            .expect("label");
    }
}

pub fn ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}
