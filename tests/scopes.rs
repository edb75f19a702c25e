//! Scopes (README "Scopes"): named read fragments registered on the
//! builder, applied with `model.scope(name)`, chainable, auth-aware,
//! AND-merged with the caller's where, checked at open.
#![allow(clippy::unwrap_used)]

use litestone::{Client, ErrorKind};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
model customers {
  id        Integer @id
  name      Text
  status    Text
  tier      Text
  ownerId   Integer
  spend     Real
  orders    orders[]
  deletedAt DateTime?
  @@softDelete
  @@fts([name])
}
model orders {
  id         Integer @id
  customerId Integer
  customer   customers @relation(fields: [customerId], references: [id])
}
"#;

fn builder(dir: &tempfile::TempDir) -> litestone::ClientBuilder {
    Client::builder()
        .schema(SCHEMA)
        .db_path(dir.path().join("s.db").to_str().unwrap())
        .auto_migrate(true)
}

async fn open(dir: &tempfile::TempDir) -> Client {
    let db = builder(dir)
        .scope("customers", "active", json!({"where": {"status": "active"}}))
        .scope(
            "customers",
            "premium",
            json!({"where": {"tier": "premium"}, "orderBy": {"spend": "desc"}}),
        )
        .scope_fn("customers", "mine", |auth| {
            json!({"where": {"ownerId": auth.and_then(|a| a.get("id")).cloned().unwrap_or(Value::Null)}})
        })
        .open()
        .await
        .unwrap();
    let rows: Vec<Value> = (1..=12)
        .map(|i: i64| {
            json!({
                "id": i,
                "name": format!("Customer {i}"),
                "status": if i % 3 == 0 { "inactive" } else { "active" },
                "tier": if i % 2 == 0 { "premium" } else { "basic" },
                "ownerId": i % 4,
                "spend": (i * 37 % 100) as f64,
            })
        })
        .collect();
    db.model("customers")
        .create_many(json!({ "data": rows }))
        .await
        .unwrap();
    db
}

async fn ids(v: Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_merge_chain_and_follow_auth() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(&dir).await;
    let customers = db.model("customers");

    // One scope: find_many by default semantics, and count.
    let active = customers
        .scope("active")
        .find_many(json!({"orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    let want: Vec<i64> = (1..=12).filter(|i| i % 3 != 0).collect();
    assert_eq!(ids(active).await, want);
    assert_eq!(
        customers.scope("active").count(json!({})).await.unwrap(),
        json!(want.len())
    );

    // Chained: wheres AND-merge; the scope's orderBy applies unless the
    // caller overrides it.
    let both = customers
        .scope("active")
        .scope("premium")
        .find_many(json!({}))
        .await
        .unwrap();
    let mut want: Vec<(i64, i64)> = (1..=12)
        .filter(|i| i % 3 != 0 && i % 2 == 0)
        .map(|i| (i, i * 37 % 100))
        .collect();
    want.sort_by_key(|w| std::cmp::Reverse(w.1));
    assert_eq!(
        ids(both).await,
        want.iter().map(|w| w.0).collect::<Vec<_>>()
    );
    let overridden = customers
        .scope("active")
        .scope("premium")
        .find_many(json!({"where": {"id": {"gt": 4}}, "orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(ids(overridden).await, vec![8, 10]);

    // Count and aggregate take only the where of a scope (not its orderBy).
    assert_eq!(
        customers.scope("premium").count(json!({})).await.unwrap(),
        json!(6)
    );
    let agg = customers
        .scope("active")
        .scope("premium")
        .aggregate(json!({"_count": true, "_max": {"spend": true}}))
        .await
        .unwrap();
    assert_eq!(agg["_count"], json!(want.len()));
    assert_eq!(agg["_max"]["spend"], json!(want[0].1 as f64));
    let groups = customers
        .scope("active")
        .group_by(json!({"by": ["tier"], "_count": true, "orderBy": {"tier": "asc"}}))
        .await
        .unwrap();
    assert_eq!(
        groups,
        json!([{"tier": "basic", "_count": 4}, {"tier": "premium", "_count": 4}])
    );
    let routed = customers
        .scope("premium")
        .query(json!({"_count": true}))
        .await
        .unwrap();
    assert_eq!(routed["_count"], json!(6));

    // Auth-aware scope.
    let mine = db
        .set_auth(json!({"id": 1}))
        .model("customers")
        .scope("mine")
        .find_many(json!({"orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(ids(mine).await, vec![1, 5, 9]);
    let nobody = customers.scope("mine").count(json!({})).await.unwrap();
    assert_eq!(nobody, json!(0));

    // find_first / find_unique / cursor / search under a scope.
    let first = customers
        .scope("active")
        .find_first(json!({"where": {"id": {"gte": 3}}, "orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(first["id"], json!(4));
    let out_of_scope = customers
        .scope("active")
        .find_unique(json!({"where": {"id": 3}}))
        .await
        .unwrap();
    assert_eq!(out_of_scope, Value::Null);
    let page = customers
        .scope("premium")
        .find_many_cursor(json!({"limit": 2, "orderBy": {"id": "asc"}}))
        .await
        .unwrap();
    assert_eq!(ids(page["items"].clone()).await, vec![2, 4]);
    let hits = customers
        .scope("premium")
        .search(json!(["Customer", {"limit": 50}]))
        .await
        .unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 6);

    // Soft delete still applies.
    customers.remove(json!({"where": {"id": 2}})).await.unwrap();
    assert_eq!(
        customers.scope("premium").count(json!({})).await.unwrap(),
        json!(5)
    );

    // Writes through a scope and unknown scopes are errors.
    let e = customers
        .scope("active")
        .update_many(json!({"where": {"id": 1}, "data": {"tier": "x"}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs, "{e}");
    let e = customers
        .scope("nope")
        .find_many(json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
    assert!(e.to_string().contains("nope"), "{e}");
    let row = customers
        .find_unique(json!({"where": {"id": 1}}))
        .await
        .unwrap();
    assert_eq!(row["tier"], json!("basic"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_scopes_fail_at_open() {
    let dir = tempfile::tempdir().unwrap();
    for (model, name, args, kind) in [
        ("customers", "findMany", json!({}), ErrorKind::InvalidArgs),
        ("customers", "count", json!({}), ErrorKind::InvalidArgs),
        ("customers", "$all", json!({}), ErrorKind::InvalidArgs),
        ("customers", "_x", json!({}), ErrorKind::InvalidArgs),
        ("customers", "orders", json!({}), ErrorKind::InvalidArgs),
        ("ghosts", "active", json!({}), ErrorKind::UnknownModel),
        (
            "customers",
            "bad",
            json!({"where": {"nope": 1}}),
            ErrorKind::InvalidArgs,
        ),
        ("customers", "shape", json!([1]), ErrorKind::InvalidArgs),
    ] {
        let e = builder(&dir)
            .scope(model, name, args)
            .open()
            .await
            .err()
            .unwrap_or_else(|| panic!("{model}.{name} opened"));
        assert_eq!(e.kind(), kind, "{model}.{name}: {e}");
    }
}
