//! Row reads beyond plain columns: window functions, recursive trees,
//! relation orderBy, `@from` derived fields, generated columns and
//! `@sequence` — results compared with hand-written SQL on the same file.

mod analytics_support;

use analytics_support::{open, seed};
use litestone::query::Op;
use litestone::{ErrorKind, sql};
use serde_json::{Value, json};

const LIVE: &str = "\"deletedAt\" IS NULL";

fn pick(rows: &Value, keys: &[&str]) -> Vec<Value> {
    rows.as_array()
        .expect("array")
        .iter()
        .map(|r| {
            Value::Object(
                keys.iter()
                    .map(|k| (k.to_string(), r[*k].clone()))
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn window_functions_match_hand_written_sql() {
    let db = open().await;
    seed(&db).await;
    let orders = db.client.model("orders");
    let got = orders
        .find_many(json!({
            "orderBy": {"id": "asc"},
            "window": {
                "rn": {"rowNumber": true, "partitionBy": "accountId", "orderBy": {"id": "asc"}},
                "rk": {"rank": true, "partitionBy": ["accountId"], "orderBy": {"amount": "desc"}},
                "drk": {"denseRank": true, "orderBy": {"amount": {"dir": "desc", "nulls": "last"}}},
                "cd": {"cumeDist": true, "orderBy": {"amount": "asc"}},
                "pr": {"percentRank": true, "orderBy": {"amount": "asc"}},
                "prev": {"lag": "amount", "offset": 1, "default": 0, "orderBy": {"id": "asc"}},
                "next": {"lead": "amount", "offset": 2, "orderBy": {"id": "asc"}},
                "first": {"firstValue": "amount", "partitionBy": "accountId", "orderBy": {"id": "asc"}, "rows": [null, null]},
                "last": {"lastValue": "amount", "partitionBy": "accountId", "orderBy": {"id": "asc"}, "rows": [null, null]},
                "second": {"nthValue": "amount", "n": 2, "orderBy": {"id": "asc"}, "rows": [null, null]},
                "tile": {"ntile": 3, "orderBy": {"id": "asc"}},
                "runningTotal": {"sum": "amount", "orderBy": {"id": "asc"}},
                "runningCount": {"count": true, "orderBy": {"id": "asc"}},
                "ma3": {"avg": "amount", "orderBy": {"id": "asc"}, "rows": [-2, 0]},
                "lo": {"min": "amount", "partitionBy": "status"},
                "hi": {"max": "createdAt", "orderBy": {"id": "asc"}, "range": [null, 0]},
                "paidRunning": {"sum": "amount", "filter": sql!("status = {}", "paid"), "orderBy": {"id": "asc"}},
                "nonNull": {"count": "amount", "partitionBy": "status"},
            }
        }))
        .await
        .expect("window");
    let want = db.rows(&format!(
        "SELECT id, amount, \
         ROW_NUMBER() OVER (PARTITION BY accountId ORDER BY id) AS rn, \
         RANK() OVER (PARTITION BY accountId ORDER BY amount DESC) AS rk, \
         DENSE_RANK() OVER (ORDER BY amount DESC NULLS LAST) AS drk, \
         CUME_DIST() OVER (ORDER BY amount) AS cd, \
         PERCENT_RANK() OVER (ORDER BY amount) AS pr, \
         LAG(amount, 1, 0) OVER (ORDER BY id) AS prev, \
         LEAD(amount, 2) OVER (ORDER BY id) AS next, \
         FIRST_VALUE(amount) OVER (PARTITION BY accountId ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS first, \
         LAST_VALUE(amount) OVER (PARTITION BY accountId ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last, \
         NTH_VALUE(amount, 2) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS second, \
         NTILE(3) OVER (ORDER BY id) AS tile, \
         SUM(amount) OVER (ORDER BY id) AS runningTotal, \
         COUNT(*) OVER (ORDER BY id) AS runningCount, \
         AVG(amount) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS ma3, \
         MIN(amount) OVER (PARTITION BY status) AS lo, \
         MAX(createdAt) OVER (ORDER BY id RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS hi, \
         SUM(amount) FILTER (WHERE status = 'paid') OVER (ORDER BY id) AS paidRunning, \
         COUNT(amount) OVER (PARTITION BY status) AS nonNull \
         FROM orders WHERE {LIVE} ORDER BY id"
    ));
    let keys = [
        "id",
        "amount",
        "rn",
        "rk",
        "drk",
        "cd",
        "pr",
        "prev",
        "next",
        "first",
        "last",
        "second",
        "tile",
        "runningTotal",
        "runningCount",
        "ma3",
        "lo",
        "hi",
        "paidRunning",
        "nonNull",
    ];
    assert_eq!(pick(&got, &keys), want);
    // The window columns come after the model's fields.
    let first = got[0].as_object().expect("row");
    let names: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(&names[..3], &["id", "accountId", "status"]);
    assert_eq!(names.last(), Some(&"nonNull"));
}

#[tokio::test]
async fn window_composes_with_where_limit_and_typed_rows() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Ranked {
        id: i64,
        amount: Option<f64>,
        rn: i64,
        total: Option<f64>,
    }
    let db = open().await;
    seed(&db).await;
    let orders = db.client.model("orders");
    let args = json!({
        "where": {"status": "paid"},
        "orderBy": {"id": "desc"},
        "limit": 2,
        "offset": 1,
        "select": {"id": true, "amount": true},
        "window": {"rn": {"rowNumber": true, "orderBy": {"amount": "desc"}}, "total": {"sum": "amount"}},
    });
    let typed: Vec<Ranked> = orders.find_many_as(args.clone()).await.expect("typed");
    let want = db.rows(&format!(
        "SELECT id, amount, ROW_NUMBER() OVER (ORDER BY amount DESC) AS rn, SUM(amount) OVER () AS total \
         FROM orders WHERE {LIVE} AND status = 'paid' ORDER BY id DESC LIMIT 2 OFFSET 1"
    ));
    let want: Vec<Ranked> = serde_json::from_value(Value::Array(want)).expect("want");
    assert_eq!(typed, want);
    let json_rows = orders.find_many(args).await.expect("json");
    assert_eq!(
        serde_json::from_value::<Vec<Ranked>>(json_rows).expect("decode"),
        want
    );
}

#[tokio::test]
async fn window_errors_name_the_path() {
    let db = open().await;
    let orders = db.client.model("orders");
    let cases = [
        (
            json!({"window": {"rn": {"rowNumber": true, "partitionBy": "nope"}}}),
            "window.rn.partitionBy",
        ),
        (
            json!({"window": {"rn": {"rowNumber": true, "orderBy": {"nope": "asc"}}}}),
            "window.rn.orderBy.nope",
        ),
        (json!({"window": {"rn": {"median": "amount"}}}), "window.rn"),
        (json!({"window": {"x": {"lag": "nope"}}}), "window.x.lag"),
        (json!({"window": {"x": {"sum": "status"}}}), "window.x.sum"),
        (
            json!({"window": {"x": {"sum": "amount", "rows": [1]}}}),
            "window.x.rows",
        ),
        (
            json!({"window": {"x": {"rank": true, "filter": "status = 'paid'"}}}),
            "window.x.filter",
        ),
        (
            json!({"window": {"x": {"nthValue": "amount"}}}),
            "window.x.n",
        ),
        (
            json!({"window": {"status": {"rank": true}}}),
            "window.status",
        ),
    ];
    for (args, path) in cases {
        let e = orders
            .find_many(args.clone())
            .await
            .expect_err("should fail");
        assert!(
            e.to_string().contains(path),
            "{args}: {e} should name {path}"
        );
    }
    let e = orders
        .find_first(json!({"window": {"rn": {"rowNumber": true}}}))
        .await
        .expect_err("findFirst");
    assert_eq!(e.kind(), ErrorKind::InvalidArgs);
}

#[tokio::test]
async fn recursive_descendants_ancestors_and_depth() {
    let db = open().await;
    seed(&db).await;
    let cats = db.client.model("categories");
    let walk = |dir: &str, start: i64, depth: Option<i64>| {
        let cap = depth.map(|d| format!(" AND t.d < {d}")).unwrap_or_default();
        let step = if dir == "down" {
            "c.parentId = t.id"
        } else {
            "c.id = t.parentId"
        };
        format!(
            "WITH RECURSIVE t(id, parentId, d) AS (SELECT id, parentId, 0 FROM categories WHERE id = {start} \
             UNION SELECT c.id, c.parentId, t.d + 1 FROM categories c JOIN t ON {step} WHERE 1{cap}) \
             SELECT id FROM t GROUP BY id ORDER BY MIN(d), id"
        )
    };
    let ids = |v: &Value| -> Vec<Value> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|r| r["id"].clone())
            .collect()
    };
    let got = cats
        .find_many(json!({"where": {"id": 1}, "recursive": true}))
        .await
        .expect("descendants");
    let want: Vec<Value> = db
        .rows(&walk("down", 1, None))
        .into_iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids(&got), want);
    assert_eq!(
        ids(&got),
        vec![json!(1), json!(2), json!(3), json!(4), json!(5)]
    );

    let got = cats
        .find_many(json!({"where": {"id": 5}, "recursive": {"direction": "ancestors"}}))
        .await
        .expect("ancestors");
    let want: Vec<Value> = db
        .rows(&walk("up", 5, None))
        .into_iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids(&got), want);

    let got = cats
        .find_many(json!({"where": {"id": 1}, "recursive": {"maxDepth": 1}, "select": {"id": true, "name": true}}))
        .await
        .expect("depth");
    let want: Vec<Value> = db
        .rows(&walk("down", 1, Some(1)))
        .into_iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids(&got), want);
    assert_eq!(got[0], json!({"id": 1, "name": "root"}));

    // Via the has-many side names the same relation.
    let via = cats
        .find_many(json!({"where": {"id": 2}, "recursive": {"via": "children"}, "orderBy": {"id": "desc"}}))
        .await
        .expect("via");
    assert_eq!(ids(&via), vec![json!(5), json!(4), json!(2)]);
}

#[tokio::test]
async fn recursive_nested_trees_and_cycles() {
    let db = open().await;
    seed(&db).await;
    let cats = db.client.model("categories");
    let got = cats
        .find_many(json!({
            "where": {"parentId": null},
            "select": {"id": true, "name": true},
            "recursive": {"nested": true, "maxDepth": 2},
        }))
        .await
        .expect("nested");
    assert_eq!(
        got,
        json!([
            {"id": 1, "name": "root", "children": [
                {"id": 2, "name": "a", "children": [{"id": 4, "name": "a1", "children": []}]},
                {"id": 3, "name": "b", "children": []},
            ]},
            {"id": 6, "name": "other", "children": []},
        ])
    );
    // A cycle (7 → 8 → 7) terminates and returns each row once.
    db.raw()
        .execute_batch(
            "INSERT INTO categories (id, name, parentId) VALUES (7, 'x', NULL), (8, 'y', 7); \
             UPDATE categories SET parentId = 8 WHERE id = 7;",
        )
        .expect("cycle");
    let flat = cats
        .find_many(json!({"where": {"id": 7}, "recursive": true, "select": {"id": true}}))
        .await
        .expect("cycle flat");
    assert_eq!(flat, json!([{"id": 7}, {"id": 8}]));
    let up = cats
        .find_many(json!({"where": {"id": 8}, "recursive": {"direction": "ancestors"}, "select": {"id": true}}))
        .await
        .expect("cycle up");
    assert_eq!(up, json!([{"id": 8}, {"id": 7}]));
    let nested = cats
        .find_many(
            json!({"where": {"id": 7}, "recursive": {"nested": true}, "select": {"id": true}}),
        )
        .await
        .expect("cycle nested");
    assert_eq!(
        nested,
        json!([{"id": 7, "children": [{"id": 8, "children": []}]}])
    );
    let e = db
        .client
        .model("orders")
        .find_many(json!({"recursive": true}))
        .await
        .expect_err("no self relation");
    assert!(e.to_string().contains("recursive"), "{e}");
    let e = cats
        .find_many(json!({"recursive": {"direction": "sideways"}}))
        .await
        .expect_err("bad direction");
    assert!(e.to_string().contains("recursive.direction"), "{e}");
}

#[tokio::test]
async fn order_by_relation_fields_and_aggregates() {
    let db = open().await;
    seed(&db).await;
    let orders = db.client.model("orders");
    let got = orders
        .find_many(json!({
            "orderBy": [{"account": {"name": "desc"}}, {"id": "asc"}],
            "select": {"id": true},
        }))
        .await
        .expect("belongsTo");
    let want = db.rows(&format!(
        "SELECT o.id FROM orders o LEFT JOIN accounts a ON a.id = o.accountId WHERE o.{LIVE} ORDER BY a.name DESC, o.id ASC"
    ));
    assert_eq!(got, Value::Array(want));

    // Two hops, NULLS LAST, with where/limit/include.
    let accounts = db.client.model("accounts");
    let got = accounts
        .find_many(json!({
            "where": {"id": {"lte": 4}},
            "orderBy": [{"country": {"name": {"dir": "asc", "nulls": "last"}}}, {"id": "desc"}],
            "select": {"id": true},
            "include": {"country": true},
            "limit": 3,
        }))
        .await
        .expect("two-hop");
    let want = db.rows(
        "SELECT a.id FROM accounts a LEFT JOIN countries c ON c.id = a.countryId \
         ORDER BY c.name ASC NULLS LAST, a.id DESC LIMIT 3",
    );
    assert_eq!(pick(&got, &["id"]), want);
    assert_eq!(got[0]["country"]["name"], json!("France"));
    let hop2 = orders
        .find_many(json!({"orderBy": [{"account": {"country": {"name": "asc"}}}, {"id": "asc"}], "select": {"id": true}}))
        .await
        .expect("orders by account.country.name");
    let want = db.rows(&format!(
        "SELECT o.id FROM orders o LEFT JOIN accounts a ON a.id = o.accountId LEFT JOIN countries c ON c.id = a.countryId \
         WHERE o.{LIVE} ORDER BY c.name ASC, o.id ASC"
    ));
    assert_eq!(hop2, Value::Array(want));

    // Relation aggregates: count (soft-deleted orders excluded), sum, max; ties by id.
    for (spec, agg) in [
        (json!({"_count": "desc"}), "COUNT(*)"),
        (json!({"_sum": {"amount": "desc"}}), "SUM(o.amount)"),
        (json!({"_max": {"amount": "asc"}}), "MAX(o.amount)"),
        (json!({"_avg": {"qty": "desc"}}), "AVG(o.qty)"),
        (json!({"_min": {"createdAt": "asc"}}), "MIN(o.createdAt)"),
    ] {
        let dir = if spec.to_string().contains("desc") {
            "DESC"
        } else {
            "ASC"
        };
        let got = accounts
            .find_many(
                json!({"orderBy": [{"orders": spec}, {"id": "asc"}], "select": {"id": true}}),
            )
            .await
            .expect("relation aggregate");
        let want = db.rows(&format!(
            "SELECT a.id FROM accounts a ORDER BY (SELECT {agg} FROM orders o WHERE o.accountId = a.id AND o.{LIVE}) {dir}, a.id ASC"
        ));
        assert_eq!(got, Value::Array(want), "{spec}");
    }
    // Many-to-many: _count only.
    db.raw()
        .execute_batch("INSERT INTO tags (id, name) VALUES (1, 't1'), (2, 't2');")
        .expect("tags");
    accounts
        .update(json!({"where": {"id": 3}, "data": {"name": "Initech"}}))
        .await
        .expect("noop update");
    let jt = db.rows(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '\\_%' ESCAPE '\\'",
    );
    let jt = jt[0]["name"].as_str().expect("join table").to_string();
    let cols = db.rows(&format!("SELECT name FROM pragma_table_info('{jt}')"));
    let (ca, cb) = (
        cols[0]["name"].as_str().expect("A").to_string(),
        cols[1]["name"].as_str().expect("B").to_string(),
    );
    let (acol, tcol) = if ca.to_lowercase().starts_with('a') || ca == "A" {
        (ca, cb)
    } else {
        (cb, ca)
    };
    db.raw()
        .execute_batch(&format!(
            "INSERT INTO \"{jt}\" (\"{acol}\", \"{tcol}\") VALUES (3, 1), (3, 2), (2, 1);"
        ))
        .expect("links");
    let got = accounts
        .find_many(json!({"orderBy": [{"tags": {"_count": "desc"}}, {"id": "asc"}], "select": {"id": true}}))
        .await
        .expect("m2m count");
    assert_eq!(got, json!([{"id": 3}, {"id": 2}, {"id": 1}, {"id": 4}]));
    let e = accounts
        .find_many(json!({"orderBy": {"tags": {"_sum": {"id": "asc"}}}}))
        .await
        .expect_err("m2m sum");
    assert!(e.to_string().contains("orderBy.tags._sum"), "{e}");
    let e = orders
        .find_many(json!({"orderBy": {"account": {"nope": "asc"}}}))
        .await
        .expect_err("unknown");
    assert!(e.to_string().contains("orderBy.account.nope"), "{e}");
}

#[tokio::test]
async fn derived_fields_are_computed_and_read_only() {
    let db = open().await;
    seed(&db).await;
    let accounts = db.client.model("accounts");
    let got = accounts
        .find_many(json!({"orderBy": {"id": "asc"}}))
        .await
        .expect("accounts");
    let want = db.rows(&format!(
        "SELECT a.id, \
         (SELECT COUNT(*) FROM orders o WHERE o.accountId = a.id AND o.{LIVE}) AS orderCount, \
         (SELECT SUM(amount) FROM orders o WHERE o.accountId = a.id AND o.{LIVE}) AS revenue, \
         (SELECT MAX(amount) FROM orders o WHERE o.accountId = a.id AND o.{LIVE}) AS maxAmount, \
         (SELECT MIN(amount) FROM orders o WHERE o.accountId = a.id AND o.{LIVE}) AS minAmount, \
         (SELECT COUNT(*) FROM orders o WHERE o.accountId = a.id AND o.{LIVE} AND status = 'paid') AS paidCount, \
         (SELECT amount FROM orders o WHERE o.accountId = a.id AND o.{LIVE} ORDER BY id DESC LIMIT 1) AS lastAmount \
         FROM accounts a ORDER BY a.id"
    ));
    assert_eq!(
        pick(
            &got,
            &[
                "id",
                "orderCount",
                "revenue",
                "maxAmount",
                "minAmount",
                "paidCount",
                "lastAmount"
            ]
        ),
        want
    );
    let refunds: Vec<Value> = got
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["hasRefund"].clone())
        .collect();
    assert_eq!(
        refunds,
        vec![json!(true), json!(false), json!(false), json!(false)]
    );
    assert_eq!(got[0]["firstOrder"]["id"], json!(1));
    assert_eq!(got[0]["firstOrder"]["status"], json!("paid"));
    assert_eq!(got[3]["firstOrder"], Value::Null);
    assert_eq!(got[3]["orderCount"], json!(0));
    assert_eq!(got[3]["revenue"], Value::Null);

    // select narrows; findUnique and findFirst carry them too.
    let one = accounts
        .find_unique(json!({"where": {"id": 2}, "select": {"id": true, "orderCount": true}}))
        .await
        .expect("unique");
    assert_eq!(one, json!({"id": 2, "orderCount": 2}));
    let first = accounts
        .find_first(
            json!({"where": {"name": "Acme"}, "select": {"revenue": false, "firstOrder": false}}),
        )
        .await
        .expect("first");
    assert_eq!(first["orderCount"], json!(4));
    assert!(first.get("revenue").is_none());

    // findManyAndCount carries them too (window as well).
    let page = accounts
        .find_many_and_count(json!({"where": {"id": {"gte": 2}}, "orderBy": {"id": "asc"}, "limit": 1,
            "select": {"id": true, "paidCount": true}, "window": {"rk": {"rank": true, "orderBy": {"name": "asc"}}}}))
        .await
        .expect("findManyAndCount");
    assert_eq!(
        page,
        json!({"rows": [{"id": 2, "paidCount": 1, "rk": 2}], "total": 3})
    );

    // Included rows and cursor pages carry them too (same values).
    let orders = db
        .client
        .model("orders")
        .find_many(
            json!({"where": {"accountId": {"not": null}}, "orderBy": {"id": "asc"},
            "include": {"account": {"select": {"id": true, "orderCount": true, "revenue": true}}}}),
        )
        .await
        .expect("include");
    for o in orders.as_array().expect("rows") {
        let id = o["account"]["id"].as_i64().expect("account id") as usize;
        let top = &got[id - 1];
        assert_eq!(o["account"]["orderCount"], top["orderCount"], "{o}");
        assert_eq!(o["account"]["revenue"], top["revenue"], "{o}");
        assert!(o["account"].get("name").is_none());
    }
    let mut cursor = Value::Null;
    let mut paged = Vec::new();
    loop {
        let mut args = json!({"limit": 3, "orderBy": {"id": "asc"}});
        if !cursor.is_null() {
            args["cursor"] = cursor.clone();
        }
        let page = accounts.find_many_cursor(args).await.expect("cursor");
        paged.extend(page["items"].as_array().expect("items").iter().cloned());
        if page["hasMore"] != json!(true) {
            break;
        }
        cursor = page["nextCursor"].clone();
    }
    assert_eq!(Value::Array(paged), got);

    // Read-only.
    let e = accounts
        .create(json!({"data": {"id": 9, "name": "X", "orderCount": 3}}))
        .await
        .expect_err("write derived");
    assert!(
        matches!(e.kind(), ErrorKind::Validation | ErrorKind::InvalidArgs),
        "{e:?}"
    );
    assert!(e.to_string().contains("orderCount"), "{e}");
    let e = accounts
        .update(json!({"where": {"id": 1}, "data": {"revenue": 1.0}}))
        .await
        .expect_err("update derived");
    assert!(e.to_string().contains("revenue"), "{e}");

    // Single-row writes return them (computed over the written row).
    let upd = accounts
        .update(json!({"where": {"id": 1}, "data": {"name": "Acme"}}))
        .await
        .expect("update");
    for k in [
        "orderCount",
        "revenue",
        "maxAmount",
        "lastAmount",
        "hasRefund",
        "firstOrder",
    ] {
        assert_eq!(upd[k], got[0][k], "{k}");
    }
    let made = accounts
        .create(json!({"data": {"id": 10, "name": "Fresh"}, "select": {"id": true, "orderCount": true, "hasRefund": true}}))
        .await
        .expect("create");
    assert_eq!(made, json!({"id": 10, "orderCount": 0, "hasRefund": false}));
    let gone = accounts
        .delete(json!({"where": {"id": 10}}))
        .await
        .expect("delete");
    assert_eq!(gone["orderCount"], json!(0));
}

#[tokio::test]
async fn generated_columns_are_queryable_and_never_written() {
    let db = open().await;
    seed(&db).await;
    let accounts = db.client.model("accounts");
    let got = accounts
        .find_many(json!({"where": {"display": {"startsWith": "Ann"}}, "select": {"id": true, "display": true}}))
        .await
        .expect("where generated");
    assert_eq!(got, json!([{"id": 1, "display": "Ann Zed"}]));
    let got = accounts
        .find_many(json!({"orderBy": [{"display": "desc"}, {"id": "asc"}], "select": {"id": true, "display": true}}))
        .await
        .expect("order generated");
    let want = db.rows("SELECT id, display FROM accounts ORDER BY display DESC, id ASC");
    assert_eq!(got, Value::Array(want));
    let e = accounts
        .create(json!({"data": {"id": 10, "name": "G", "display": "forged"}}))
        .await
        .expect_err("write generated");
    assert!(e.to_string().contains("display"), "{e}");
}

#[tokio::test]
async fn sequence_is_gap_free_and_unique_under_concurrency() {
    let db = open().await;
    let quotes = db.client.model("quotes");
    let mut tasks = Vec::new();
    for i in 0..60 {
        let q = quotes.clone();
        tasks.push(tokio::spawn(async move {
            q.create(json!({"data": {"id": i + 1, "accountId": i % 3}}))
                .await
        }));
    }
    for t in tasks {
        t.await.expect("join").expect("create");
    }
    for scope in 0..3 {
        let nums = db.rows(&format!(
            "SELECT quoteNumber AS n FROM quotes WHERE accountId = {scope} ORDER BY quoteNumber"
        ));
        let nums: Vec<i64> = nums.iter().map(|r| r["n"].as_i64().expect("n")).collect();
        assert_eq!(nums, (1..=20).collect::<Vec<_>>(), "scope {scope}");
    }
}

#[tokio::test]
async fn row_read_sql_snapshots() {
    let db = open().await;
    let c = &db.client;
    let cases = [
        (
            "window",
            "orders",
            json!({"where": {"status": "paid"}, "window": {
                "rn": {"rowNumber": true, "partitionBy": ["accountId", "status"], "orderBy": {"id": "asc"}},
                "prev": {"lag": "amount", "offset": 1, "default": 0, "orderBy": {"id": "asc"}},
                "ma7": {"avg": "amount", "orderBy": {"createdAt": {"dir": "asc", "nulls": "last"}}, "rows": [-6, 0]},
                "paid": {"sum": "amount", "filter": sql!("status = {}", "paid"), "range": [null, 2]},
            }}),
        ),
        (
            "recursive_descendants",
            "categories",
            json!({"where": {"id": 1}, "recursive": {"maxDepth": 3}}),
        ),
        (
            "recursive_ancestors_nested",
            "categories",
            json!({"where": {"id": 5}, "recursive": {"direction": "ancestors", "nested": true}}),
        ),
        (
            "order_relation",
            "orders",
            json!({"orderBy": [{"account": {"country": {"name": "asc"}}}, {"account": {"name": "desc"}}, {"id": "asc"}], "limit": 5}),
        ),
        (
            "order_relation_aggregate",
            "accounts",
            json!({"select": {"id": true}, "orderBy": [{"orders": {"_count": "desc"}}, {"orders": {"_sum": {"amount": "asc"}}}, {"tags": {"_count": "asc"}}]}),
        ),
        ("derived_fields", "accounts", json!({"where": {"id": 1}})),
    ];
    for (name, model, args) in cases {
        let sql = c.model(model).to_sql(Op::FindMany, args).expect("compile");
        insta::assert_json_snapshot!(name, sql);
    }
}
