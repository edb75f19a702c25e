//! Fixtures of the analytics tests: a schema with orders, accounts, a
//! category tree, derived fields, a generated column, FTS, and helpers that
//! run hand-written SQL on a raw connection to the same file.
#![allow(dead_code, unreachable_pub)]

use litestone::Client;
use serde_json::{Map, Value, json};

pub const SCHEMA: &str = r#"
function fullName(first: Text, last: Text): Text {
  @@expr("COALESCE({first}, '') || ' ' || COALESCE({last}, '')")
}

model countries {
  id       Integer    @id
  name     Text
  accounts accounts[]
}

model accounts {
  id         Integer    @id
  name       Text
  firstName  Text?
  lastName   Text?
  display    Text       @fullName(firstName, lastName)
  country    countries? @relation(fields: [countryId], references: [id])
  countryId  Integer?
  orders     orders[]
  tags       tags[]
  profile    profiles?
  orderCount Integer    @from(orders, count: true)
  revenue    Real?      @from(orders, sum: amount)
  maxAmount  Real?      @from(orders, max: amount)
  minAmount  Real?      @from(orders, min: amount)
  paidCount  Integer    @from(orders, count: true, where: "status = 'paid'")
  hasRefund  Boolean    @from(orders, exists: true, where: "status = 'refund'")
  lastAmount Real?      @from(orders, last: amount)
  firstOrder Json?      @from(orders, first: true)
}

model profiles {
  id        Integer  @id
  account   accounts @relation(fields: [accountId], references: [id])
  accountId Integer  @unique
  bio       Text?
}

model tags {
  id       Integer    @id
  name     Text
  accounts accounts[]
}

model orders {
  id        Integer   @id
  account   accounts? @relation(fields: [accountId], references: [id])
  accountId Integer?
  status    Text
  amount    Real?
  qty       Integer   @default(1)
  createdAt DateTime
  deletedAt DateTime?

  @@softDelete
}

model categories {
  id       Integer      @id
  name     Text
  parent   categories?  @relation(fields: [parentId], references: [id])
  parentId Integer?
  children categories[]
}

model quotes {
  id          Integer @id
  accountId   Integer
  quoteNumber Integer @sequence(scope: accountId)
}

model articles {
  id    Integer @id
  title Text
  body  Text?
  deletedAt DateTime?

  @@softDelete
  @@fts([title, body])
}
"#;

pub struct Db {
    pub client: Client,
    pub path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Db {
    /// A raw connection to the same file.
    pub fn raw(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.path).expect("open raw")
    }

    /// Runs hand-written SQL and returns its rows as objects keyed by column
    /// name (REAL, INTEGER, TEXT and NULL as JSON).
    pub fn rows(&self, sql: &str) -> Vec<Value> {
        let c = self.raw();
        let mut st = c.prepare(sql).expect("prepare");
        let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
        let rows = st
            .query_map([], |r| {
                let mut m = Map::new();
                for (i, n) in names.iter().enumerate() {
                    let v = match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => Value::Null,
                        rusqlite::types::ValueRef::Integer(i) => json!(i),
                        rusqlite::types::ValueRef::Real(f) => json!(f),
                        rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                        rusqlite::types::ValueRef::Blob(b) => json!(b.len()),
                    };
                    m.insert(n.clone(), v);
                }
                Ok(Value::Object(m))
            })
            .expect("query");
        rows.map(|r| r.expect("row")).collect()
    }

    /// The single row of hand-written SQL.
    pub fn row(&self, sql: &str) -> Value {
        self.rows(sql).into_iter().next().expect("one row")
    }
}

pub async fn open() -> Db {
    open_with(SCHEMA).await
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

/// Seeds countries, accounts (one without orders), orders with NULL
/// amounts, ties, a soft-deleted order and a gap month, and a category tree.
pub async fn seed(db: &Db) {
    let c = &db.client;
    for (id, name) in [(1, "France"), (2, "Japan")] {
        c.model("countries")
            .create(json!({"data": {"id": id, "name": name}}))
            .await
            .expect("country");
    }
    let accounts = [
        json!({"id": 1, "name": "Acme", "firstName": "Ann", "lastName": "Zed", "countryId": 2}),
        json!({"id": 2, "name": "Globex", "firstName": "Bob", "countryId": 1}),
        json!({"id": 3, "name": "Initech", "lastName": "Young"}),
        json!({"id": 4, "name": "Empty", "countryId": 1}),
    ];
    for a in accounts {
        c.model("accounts")
            .create(json!({"data": a}))
            .await
            .expect("account");
    }
    let orders = [
        (
            1,
            Some(1),
            "paid",
            Some(10.0),
            1,
            "2024-01-05T10:00:00.000Z",
        ),
        (
            2,
            Some(1),
            "paid",
            Some(20.0),
            2,
            "2024-01-20T11:30:00.000Z",
        ),
        (
            3,
            Some(1),
            "refund",
            Some(5.5),
            1,
            "2024-03-02T09:00:00.000Z",
        ),
        (4, Some(2), "pending", None, 3, "2024-03-15T23:59:00.000Z"),
        (
            5,
            Some(2),
            "paid",
            Some(20.0),
            1,
            "2024-04-01T00:00:00.000Z",
        ),
        (
            6,
            Some(3),
            "paid",
            Some(7.25),
            2,
            "2024-04-30T12:00:00.000Z",
        ),
        (7, None, "pending", Some(1.0), 1, "2024-06-10T08:15:00.000Z"),
        (
            8,
            Some(1),
            "paid",
            Some(100.0),
            5,
            "2024-06-11T08:15:00.000Z",
        ),
    ];
    for (id, acct, status, amount, qty, at) in orders {
        c.model("orders")
            .create(json!({"data": {"id": id, "accountId": acct, "status": status, "amount": amount, "qty": qty, "createdAt": at}}))
            .await
            .expect("order");
    }
    // A soft-deleted order: invisible to every read.
    c.model("orders")
        .create(json!({"data": {"id": 9, "accountId": 2, "status": "paid", "amount": 1000.0, "createdAt": "2024-02-10T00:00:00.000Z"}}))
        .await
        .expect("order 9");
    c.model("orders")
        .remove(json!({"where": {"id": 9}}))
        .await
        .expect("remove 9");
    let cats = [
        (1, "root", None),
        (2, "a", Some(1)),
        (3, "b", Some(1)),
        (4, "a1", Some(2)),
        (5, "a1x", Some(4)),
        (6, "other", None),
    ];
    for (id, name, parent) in cats {
        c.model("categories")
            .create(json!({"data": {"id": id, "name": name, "parentId": parent}}))
            .await
            .expect("category");
    }
}
