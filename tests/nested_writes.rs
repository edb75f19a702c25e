//! Nested writes in create/update (belongs-to, has-many, has-one,
//! many-to-many), all in one SAVEPOINT with include on the result; rows left
//! behind checked with hand-written SQL.

mod analytics_support;

use analytics_support::{open, seed};
use litestone::ErrorKind;
use litestone::query::Op;
use serde_json::{Value, json};

fn count(db: &analytics_support::Db, sql: &str) -> i64 {
    db.row(sql)["n"].as_i64().expect("count")
}

#[tokio::test]
async fn create_with_nested_relations_and_include() {
    let db = open().await;
    seed(&db).await;
    db.raw()
        .execute_batch("INSERT INTO tags (id, name) VALUES (1, 'old');")
        .expect("tag");
    let got = db
        .client
        .model("accounts")
        .create(json!({
            "data": {
                "id": 10,
                "name": "Nested",
                "country": {"connectOrCreate": {"where": {"id": 7}, "create": {"id": 7, "name": "Peru"}}},
                "orders": {"create": [
                    {"id": 100, "status": "paid", "amount": 3.5, "createdAt": "2024-08-01T00:00:00.000Z"},
                    {"id": 101, "status": "pending", "createdAt": "2024-08-02T00:00:00.000Z"},
                ]},
                "tags": {"create": {"id": 2, "name": "new"}, "connect": [{"id": 1}]},
                "profile": {"create": {"id": 1, "bio": "hi"}},
            },
            "select": {"id": true, "name": true, "countryId": true, "orderCount": true},
            "include": {"orders": {"select": {"id": true, "accountId": true}, "orderBy": {"id": "asc"}}, "tags": {"orderBy": {"id": "asc"}}, "country": true, "profile": true},
        }))
        .await
        .expect("nested create");
    assert_eq!(
        got,
        json!({
            "id": 10, "name": "Nested", "countryId": 7, "orderCount": 2,
            "orders": [{"id": 100, "accountId": 10}, {"id": 101, "accountId": 10}],
            "tags": [{"id": 1, "name": "old"}, {"id": 2, "name": "new"}],
            "country": {"id": 7, "name": "Peru"},
            "profile": {"id": 1, "accountId": 10, "bio": "hi"},
        })
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM orders WHERE accountId = 10"),
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM countries WHERE id = 7 AND name = 'Peru'"
        ),
        1
    );
    // connectOrCreate finds an existing row instead of creating one.
    let again = db
        .client
        .model("accounts")
        .create(json!({"data": {"id": 11, "name": "Again", "country": {"connectOrCreate": {"where": {"id": 7}, "create": {"id": 8, "name": "Never"}}}}, "select": {"countryId": true}}))
        .await
        .expect("connectOrCreate existing");
    assert_eq!(again["countryId"], json!(7));
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM countries WHERE id = 8"),
        0
    );
    // A belongs-to create from the child side, nesting a further level.
    let order = db
        .client
        .model("orders")
        .create(
            json!({"data": {"id": 200, "status": "paid", "createdAt": "2024-09-01T00:00:00.000Z",
            "account": {"create": {"id": 20, "name": "Deep", "country": {"connect": {"id": 1}}}}},
            "include": {"account": {"select": {"name": true, "countryId": true}}}}),
        )
        .await
        .expect("child side");
    assert_eq!(order["accountId"], json!(20));
    assert_eq!(order["account"], json!({"name": "Deep", "countryId": 1}));
}

#[tokio::test]
async fn failing_nested_write_rolls_everything_back() {
    let db = open().await;
    seed(&db).await;
    let before = count(
        &db,
        "SELECT (SELECT COUNT(*) FROM accounts) + (SELECT COUNT(*) FROM orders) AS n",
    );
    let e = db
        .client
        .model("accounts")
        .create(json!({"data": {"id": 30, "name": "X",
            "orders": {"create": [{"id": 300, "status": "paid", "createdAt": "2024-01-01T00:00:00.000Z"}]},
            "tags": {"connect": {"id": 99}}}}))
        .await
        .expect_err("missing tag");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains("data.tags.connect"), "{e}");
    let e = db
        .client
        .model("accounts")
        .create(json!({"data": {"id": 31, "name": "Y",
            "orders": {"create": [{"id": 301, "status": "paid", "createdAt": "2024-01-01T00:00:00.000Z"}, {"id": 302, "createdAt": "2024-01-01T00:00:00.000Z"}]}}}))
        .await
        .expect_err("invalid nested row");
    assert_eq!(e.kind(), ErrorKind::Validation);
    let e = db
        .client
        .model("accounts")
        .create(json!({"data": {"id": 32, "name": "Z", "orders": {"create": {"id": 1, "status": "dup", "createdAt": "2024-01-01T00:00:00.000Z"}}}}))
        .await
        .expect_err("duplicate key");
    assert_eq!(e.kind(), ErrorKind::UniqueViolation);
    let after = count(
        &db,
        "SELECT (SELECT COUNT(*) FROM accounts) + (SELECT COUNT(*) FROM orders) AS n",
    );
    assert_eq!(before, after, "nothing of the failed writes remains");
    // Inside a transaction: the failed nested write leaves the transaction's
    // earlier writes intact and itself rolled back.
    let r = db
        .client
        .transaction(|tx| async move {
            tx.model("countries")
                .create(json!({"data": {"id": 40, "name": "Kept"}}))
                .await?;
            let e = tx
                .model("accounts")
                .create(
                    json!({"data": {"id": 41, "name": "Gone", "tags": {"connect": {"id": 404}}}}),
                )
                .await;
            assert!(e.is_err());
            Ok(())
        })
        .await;
    r.expect("tx");
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM countries WHERE id = 40"),
        1
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM accounts WHERE id = 41"),
        0
    );
    let e = db
        .client
        .model("accounts")
        .create(json!({"data": {"id": 42, "name": "W", "orders": {"delete": {"id": 1}}}}))
        .await
        .expect_err("update-only op in create");
    assert!(e.to_string().contains("data.orders.delete"), "{e}");
}

#[tokio::test]
async fn update_with_nested_relation_operations() {
    let db = open().await;
    seed(&db).await;
    db.raw()
        .execute_batch(
            "INSERT INTO tags (id, name) VALUES (1, 't1'), (2, 't2'), (3, 't3'); \
             INSERT INTO profiles (id, accountId, bio) VALUES (1, 1, 'old');",
        )
        .expect("fixtures");
    let accounts = db.client.model("accounts");
    accounts
        .update(json!({"where": {"id": 1}, "data": {"tags": {"connect": [{"id": 1}, {"id": 2}]}}}))
        .await
        .expect("connect tags");
    let got = accounts
        .update(json!({
            "where": {"id": 1},
            "data": {
                "name": "Acme 2",
                "country": {"disconnect": true},
                "orders": {
                    "update": {"where": {"id": 1}, "data": {"amount": 11.0}},
                    "delete": {"id": 3},
                    "disconnect": [{"id": 2}],
                    "create": {"id": 110, "status": "new", "createdAt": "2024-10-01T00:00:00.000Z"},
                    "upsert": {"where": {"id": 111}, "create": {"id": 111, "status": "ups", "createdAt": "2024-10-02T00:00:00.000Z"}, "update": {"status": "never"}},
                },
                "tags": {"set": [{"id": 2}, {"id": 3}]},
                "profile": {"update": {"bio": "new"}},
            },
            "select": {"id": true, "name": true, "countryId": true},
            "include": {"orders": {"select": {"id": true, "amount": true, "status": true}, "orderBy": {"id": "asc"}}, "tags": {"select": {"id": true}, "orderBy": {"id": "asc"}}, "profile": {"select": {"bio": true}}},
        }))
        .await
        .expect("nested update");
    assert_eq!(
        got,
        json!({
            "id": 1, "name": "Acme 2", "countryId": null,
            "orders": [
                {"id": 1, "amount": 11.0, "status": "paid"},
                {"id": 8, "amount": 100.0, "status": "paid"},
                {"id": 110, "amount": null, "status": "new"},
                {"id": 111, "amount": null, "status": "ups"},
            ],
            "tags": [{"id": 2}, {"id": 3}],
            "profile": {"bio": "new"},
        })
    );
    assert_eq!(
        db.rows("SELECT accountId FROM orders WHERE id = 2"),
        vec![json!({"accountId": null})]
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM orders WHERE id = 3"),
        0
    );
    // Nested where clauses only reach related rows: order 4 belongs to account 2.
    let e = accounts
        .update(json!({"where": {"id": 1}, "data": {"orders": {"delete": {"id": 4}}}}))
        .await
        .expect_err("not related");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM orders WHERE id = 4"),
        1
    );
    // Belongs-to connect / upsert / update from the child side; has-one delete.
    let orders = db.client.model("orders");
    let o = orders
        .update(json!({"where": {"id": 7}, "data": {"account": {"connect": {"id": 3}}}, "select": {"accountId": true}}))
        .await
        .expect("connect");
    assert_eq!(o, json!({"accountId": 3}));
    let o = orders
        .update(json!({"where": {"id": 7}, "data": {"account": {"update": {"name": "Initech 2"}}}, "include": {"account": {"select": {"name": true}}}, "select": {"id": true}}))
        .await
        .expect("update related");
    assert_eq!(o, json!({"id": 7, "account": {"name": "Initech 2"}}));
    let o = orders
        .update(json!({"where": {"id": 110}, "data": {"account": {"upsert": {"create": {"id": 50, "name": "U"}, "update": {"name": "U2"}}}}, "select": {"accountId": true}}))
        .await
        .expect("upsert related");
    assert_eq!(o, json!({"accountId": 1}));
    assert_eq!(
        db.rows("SELECT name FROM accounts WHERE id = 1"),
        vec![json!({"name": "U2"})]
    );
    accounts
        .update(json!({"where": {"id": 1}, "data": {"profile": {"delete": true}}}))
        .await
        .expect("delete has-one");
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM profiles"), 0);
    // No matching row: null, nothing written.
    let none = accounts
        .update(json!({"where": {"id": 999}, "data": {"orders": {"create": {"id": 500, "status": "x", "createdAt": "2024-01-01T00:00:00.000Z"}}}}))
        .await
        .expect("no row");
    assert_eq!(none, Value::Null);
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM orders WHERE id = 500"),
        0
    );
    // Disconnecting a required relation is refused.
    let e = accounts
        .update(json!({"where": {"id": 2}, "data": {"profile": {"disconnect": true}}}))
        .await
        .expect_err("required fk");
    assert!(e.to_string().contains("data.profile.disconnect"), "{e}");
}

#[tokio::test]
async fn nested_write_sql_snapshot() {
    let db = open().await;
    let sql = db
        .client
        .model("accounts")
        .to_sql(
            Op::Create,
            json!({"data": {"id": 1, "name": "A", "country": {"connect": {"id": 1}},
                "orders": {"create": {"id": 1, "status": "paid", "createdAt": "2024-01-01T00:00:00.000Z"}},
                "tags": {"connectOrCreate": {"where": {"name": "t"}, "create": {"id": 5, "name": "t"}}}},
                "select": {"id": true}}),
        )
        .expect("sql");
    insta::assert_json_snapshot!("nested_create", sql);
}
