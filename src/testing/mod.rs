//! Testing utilities (README "Testing utilities", `@frontierjs/litestone/testing`):
//! a throw-away client, schema-derived factories, validation and gate test
//! cases, teardown helpers and idempotent seed blocks.
//!
//! ```no_run
//! # async fn demo() -> litestone::Result<()> {
//! use litestone::testing::{make_test_client, TestOptions};
//! use serde_json::json;
//! let t = make_test_client("model users { id Integer @id\n email Text @email @unique }",
//!                          TestOptions { seed: 42, ..TestOptions::default() }).await?;
//! let users = t.factory("users")?;
//! let five = users.create_many(5).await?;
//! let admin = users.state(json!({"email": "root@example.com"})).create_one().await?;
//! # Ok(()) }
//! ```
//!
//! Everything is deterministic for a given seed: the same seed builds the
//! same rows. Values follow the schema: types, enums, optional fields
//! (`null`), `@unique` (the sequence number makes them distinct) and the
//! validators `@email`, `@url`, `@phone`, `@date`, `@datetime`, `@length`,
//! `@gt/@gte/@lt/@lte`, `@startsWith/@endsWith/@contains` (`@regex` fields
//! get a plain value: give them with `state` or a definition). Fields with a
//! default, `@updatedAt`, `@sequence`, generated, derived and computed
//! fields are left to the database. A required belongsTo relation gets a
//! parent created by that model's schema factory unless `for_parent` or
//! `with_relation` says otherwise.

mod cases;
mod factory;

pub use cases::{
    GateCase, ValidationCase, ValidationCases, generate_gate_matrix, generate_validation_cases,
};
pub use factory::{Definition, Factory, generate_factory};

use std::collections::BTreeMap;

use serde_json::json;

use crate::client::Client;
use crate::error::{Error, Result};

/// A deterministic pseudo-random generator (splitmix64): the `rng` a factory
/// definition receives.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo) as u64 + 1;
        lo + (self.next_u64() % span) as i64
    }

    /// A fair coin.
    pub fn bool(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }
}

/// Options of [`make_test_client`].
#[derive(Debug, Clone)]
pub struct TestOptions {
    /// Seed of every factory's generator.
    pub seed: u64,
    /// Make a schema factory for every model (default: true).
    pub auto_factories: bool,
}

impl Default for TestOptions {
    fn default() -> Self {
        TestOptions {
            seed: 42,
            auto_factories: true,
        }
    }
}

/// A client on a fresh in-memory database with its schema pushed, and the
/// factories of its models.
#[derive(Debug, Clone)]
pub struct TestClient {
    /// The client.
    pub db: Client,
    /// Factories by model name (`auto_factories`), seeded with the options'
    /// seed.
    pub factories: BTreeMap<String, Factory>,
}

impl TestClient {
    /// The factory of `model` (made on demand when `auto_factories` is off).
    ///
    /// # Errors
    /// [`Error::UnknownModel`].
    pub fn factory(&self, model: &str) -> Result<Factory> {
        match self.factories.get(model) {
            Some(f) => Ok(f.clone()),
            None => Factory::from_schema(&self.db, model),
        }
    }
}

/// Opens `schema` on a private in-memory database (tables pushed) and makes
/// a factory per model.
///
/// # Errors
/// Schema errors; opening errors.
pub async fn make_test_client(schema: &str, opts: TestOptions) -> Result<TestClient> {
    let db = Client::builder()
        .schema(schema)
        .db_path(":memory:")
        .auto_migrate(true)
        .open()
        .await?;
    let mut factories = BTreeMap::new();
    if opts.auto_factories {
        for m in &db.schema().models {
            if m.external || m.primary_key.is_empty() {
                continue;
            }
            factories.insert(
                m.name.clone(),
                Factory::from_schema(&db, &m.name)?.seed(opts.seed),
            );
        }
    }
    Ok(TestClient { db, factories })
}

/// Hard-deletes every row of `model` (soft delete and policies bypassed).
///
/// # Errors
/// [`Error::UnknownModel`]; SQLite errors.
pub async fn truncate(db: &Client, model: &str) -> Result<u64> {
    let m = db
        .schema()
        .model(model)
        .ok_or_else(|| Error::UnknownModel {
            model: model.to_string(),
        })?;
    let r = db
        .as_system()
        .model(&m.name)
        .delete_many(json!({"all": true}))
        .await?;
    Ok(r["count"].as_u64().unwrap_or(0))
}

/// Hard-deletes the rows of every model litestone owns, children before
/// parents (foreign keys stay satisfied).
///
/// # Errors
/// SQLite errors.
pub async fn reset(db: &Client) -> Result<()> {
    let schema = db.schema();
    let mut order: Vec<&crate::schema::Model> = Vec::new();
    let mut left: Vec<&crate::schema::Model> = schema
        .models
        .iter()
        .filter(|m| crate::ddl::owns_table(schema, m))
        .collect();
    // Repeatedly take the models no remaining model references.
    while !left.is_empty() {
        let before = left.len();
        let mut next = Vec::new();
        for m in &left {
            let referenced = left.iter().any(|o| {
                o.name != m.name
                    && o.fields.iter().any(|f| {
                        matches!(
                            f.relation().map(|r| (&r.kind, r.target)),
                            Some((crate::schema::RelationKind::BelongsTo { .. }, t)) if t == m.id
                        )
                    })
            });
            if referenced {
                next.push(*m);
            } else {
                order.push(m);
            }
        }
        left = next;
        if left.len() == before {
            // A cycle: delete the rest in declaration order.
            order.append(&mut left);
        }
    }
    for m in order {
        truncate(db, &m.name).await?;
    }
    Ok(())
}

/// Idempotent seed blocks (README `Seeder.once`): `f` runs only if `key`
/// has never run against this database; the key is recorded in a
/// litestone-owned table in the same transaction as `f`'s writes.
///
/// # Errors
/// The closure's error (nothing is recorded then); SQLite errors.
pub async fn once<F, Fut>(db: &Client, key: &str, f: F) -> Result<bool>
where
    F: FnOnce(crate::client::Tx) -> Fut + Send,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    db.exec(
        "CREATE TABLE IF NOT EXISTS _litestone_seeds (key TEXT PRIMARY KEY, ran_at TEXT NOT NULL)",
    )
    .await?;
    let key = key.to_string();
    db.transaction(async move |tx| {
        let seen = tx
            .sql(
                "SELECT 1 AS x FROM _litestone_seeds WHERE key = ?",
                json!([key.clone()]),
            )
            .await?;
        if seen.as_array().is_some_and(|a| !a.is_empty()) {
            return Ok(false);
        }
        f(tx.clone()).await?;
        tx.sql(
            "INSERT INTO _litestone_seeds (key, ran_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
            json!([key.clone()]),
        )
        .await?;
        Ok(true)
    })
    .await
}
