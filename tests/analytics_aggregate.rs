//! aggregate, groupBy (having, orderBy, paging, intervals, gap filling),
//! the query() dispatcher and client.query(spec): results compared with
//! hand-written SQL on the same file, SQL snapshot-tested.

mod analytics_support;

use analytics_support::{open, seed};
use litestone::query::Op;
use litestone::{ErrorKind, sql};
use serde_json::{Value, json};

const LIVE: &str = "\"deletedAt\" IS NULL";

#[tokio::test]
async fn aggregate_matches_hand_written_sql() {
    let db = open().await;
    seed(&db).await;
    let orders = db.client.model("orders");
    let got = orders
        .aggregate(json!({
            "where": {"status": {"in": ["paid", "refund"]}},
            "_count": true,
            "_sum": {"amount": true, "qty": true},
            "_avg": {"amount": true},
            "_min": {"amount": true, "createdAt": true},
            "_max": {"amount": true},
        }))
        .await
        .expect("aggregate");
    let want = db.row(&format!(
        "SELECT COUNT(*) AS c, SUM(amount) AS s, SUM(qty) AS q, AVG(amount) AS a, MIN(amount) AS mi, \
         MIN(createdAt) AS mc, MAX(amount) AS ma FROM orders WHERE {LIVE} AND status IN ('paid', 'refund')"
    ));
    assert_eq!(
        got,
        json!({
            "_count": want["c"],
            "_sum": {"amount": want["s"], "qty": want["q"]},
            "_avg": {"amount": want["a"]},
            "_min": {"amount": want["mi"], "createdAt": want["mc"]},
            "_max": {"amount": want["ma"]},
        })
    );
    assert_eq!(
        got["_count"],
        json!(6),
        "the soft-deleted order is not counted"
    );
}

#[tokio::test]
async fn aggregate_over_empty_set_and_null_values() {
    let db = open().await;
    seed(&db).await;
    let orders = db.client.model("orders");
    let got = orders
        .aggregate(json!({"where": {"status": "nope"}, "_count": true, "_sum": {"amount": true}, "_avg": {"amount": true}}))
        .await
        .expect("aggregate");
    assert_eq!(
        got,
        json!({"_count": 0, "_sum": {"amount": null}, "_avg": {"amount": null}})
    );
    // COUNT(field) skips NULLs; COUNT(DISTINCT) counts distinct non-null values.
    let got = orders
        .aggregate(json!({"_count": {"amount": true, "_all": true}}))
        .await
        .expect("aggregate");
    let want = db.row(&format!(
        "SELECT COUNT(amount) AS a, COUNT(*) AS n FROM orders WHERE {LIVE}"
    ));
    assert_eq!(
        got,
        json!({"_count": {"amount": want["a"], "_all": want["n"]}})
    );
    let got = orders
        .aggregate(json!({"_count": {"distinct": "accountId"}}))
        .await
        .expect("distinct");
    let want = db.row(&format!(
        "SELECT COUNT(DISTINCT accountId) AS d FROM orders WHERE {LIVE}"
    ));
    assert_eq!(got, json!({"_count": want["d"]}));
}

#[tokio::test]
async fn string_agg_and_named_aggregates() {
    let db = open().await;
    seed(&db).await;
    let orders = db.client.model("orders");
    let got = orders
        .aggregate(json!({
            "where": {"accountId": 1},
            "_stringAgg": {"field": "status", "separator": ", ", "orderBy": {"status": "desc"}},
        }))
        .await
        .expect("stringAgg");
    let want = db.row(&format!(
        "SELECT group_concat(status, ', ' ORDER BY status DESC) AS s FROM orders WHERE {LIVE} AND accountId = 1"
    ));
    assert_eq!(got, json!({"_stringAgg": {"status": want["s"]}}));
    assert_eq!(
        got["_stringAgg"]["status"],
        json!("refund, paid, paid, paid")
    );

    let got = orders
        .aggregate(json!({
            "_count": true,
            "_countPaid": {"count": true, "filter": sql!("status = {}", "paid")},
            "_countRefund": {"count": true, "filter": "status = 'refund'"},
            "_sumPaid": {"sum": "amount", "filter": sql!("status = {}", "paid")},
            "_avgPaid": {"avg": "amount", "filter": sql!("status = {}", "paid")},
            "_maxAny": {"max": "amount"},
        }))
        .await
        .expect("named");
    let want = db.row(&format!(
        "SELECT COUNT(*) AS c, COUNT(*) FILTER (WHERE status = 'paid') AS cp, \
         COUNT(*) FILTER (WHERE status = 'refund') AS cr, SUM(amount) FILTER (WHERE status = 'paid') AS sp, \
         AVG(amount) FILTER (WHERE status = 'paid') AS ap, MAX(amount) AS m FROM orders WHERE {LIVE}"
    ));
    assert_eq!(
        got,
        json!({"_count": want["c"], "_countPaid": want["cp"], "_countRefund": want["cr"],
               "_sumPaid": want["sp"], "_avgPaid": want["ap"], "_maxAny": want["m"]})
    );
}

#[tokio::test]
async fn aggregate_errors_name_the_path() {
    let db = open().await;
    let orders = db.client.model("orders");
    let cases = [
        (json!({"_sum": {"status": true}}), "_sum.status"),
        (json!({"_sum": {"nope": true}}), "_sum.nope"),
        (json!({"_avg": {"amount": 1}}), "_avg.amount"),
        (json!({"_stringAgg": {"field": "zzz"}}), "_stringAgg.field"),
        (
            json!({"_countPaid": {"count": true, "filter": 3}}),
            "_countPaid.filter",
        ),
        (json!({"_x": {"median": "amount"}}), "_x.median"),
        (json!({"orderBy": {"id": "asc"}}), "orderBy"),
    ];
    for (args, path) in cases {
        let e = orders
            .aggregate(args.clone())
            .await
            .expect_err("should fail");
        let msg = e.to_string();
        assert!(msg.contains(path), "{args}: {msg} should name {path}");
        assert!(
            matches!(e.kind(), ErrorKind::InvalidArgs | ErrorKind::UnknownField),
            "{args}: {e:?}"
        );
    }
}

#[tokio::test]
async fn group_by_having_order_paging() {
    let db = open().await;
    seed(&db).await;
    let orders = db.client.model("orders");
    let got = orders
        .group_by(json!({
            "by": ["status"],
            "_count": true,
            "_sum": {"amount": true},
            "having": {"_count": {"gt": 1}},
            "orderBy": {"_count": "desc"},
        }))
        .await
        .expect("groupBy");
    let want: Vec<Value> = db
        .rows(&format!(
            "SELECT status, COUNT(*) AS c, SUM(amount) AS s FROM orders WHERE {LIVE} GROUP BY status \
             HAVING COUNT(*) > 1 ORDER BY COUNT(*) DESC"
        ))
        .into_iter()
        .map(|r| json!({"status": r["status"], "_count": r["c"], "_sum": {"amount": r["s"]}}))
        .collect();
    assert_eq!(got, Value::Array(want));
    assert_eq!(got.as_array().map(Vec::len), Some(2));

    // Having on a sum and on a key; ordering by a sum with NULL groups; paging.
    let got = orders
        .group_by(json!({
            "by": ["accountId"],
            "_count": true,
            "_sumPaid": {"sum": "amount", "filter": sql!("status = {}", "paid")},
            "having": {"_sum": {"amount": {"gte": 7}}, "accountId": {"not": null}},
            "orderBy": [{"_sum": {"amount": "desc"}}, {"accountId": "asc"}],
            "limit": 2,
            "offset": 1,
        }))
        .await
        .expect("groupBy 2");
    let want: Vec<Value> = db
        .rows(&format!(
            "SELECT accountId, COUNT(*) AS c, SUM(amount) FILTER (WHERE status = 'paid') AS sp FROM orders \
             WHERE {LIVE} GROUP BY accountId HAVING SUM(amount) >= 7 AND accountId IS NOT NULL \
             ORDER BY SUM(amount) DESC, accountId ASC LIMIT 2 OFFSET 1"
        ))
        .into_iter()
        .map(|r| json!({"accountId": r["accountId"], "_count": r["c"], "_sumPaid": r["sp"]}))
        .collect();
    assert_eq!(got, Value::Array(want));

    // Without orderBy: sorted by the keys, NULL key first (as SQLite sorts).
    let got = orders
        .group_by(json!({"by": ["accountId", "status"], "_max": {"amount": true}}))
        .await
        .expect("groupBy 3");
    let want: Vec<Value> = db
        .rows(&format!(
            "SELECT accountId, status, MAX(amount) AS m FROM orders WHERE {LIVE} \
             GROUP BY accountId, status ORDER BY accountId, status"
        ))
        .into_iter()
        .map(|r| json!({"accountId": r["accountId"], "status": r["status"], "_max": {"amount": r["m"]}}))
        .collect();
    assert_eq!(got, Value::Array(want));
}

#[tokio::test]
async fn group_by_interval_with_and_without_gaps() {
    let db = open().await;
    seed(&db).await;
    let orders = db.client.model("orders");
    let got = orders
        .group_by(json!({
            "by": ["createdAt"],
            "interval": {"createdAt": "month"},
            "_count": true,
            "_sum": {"amount": true},
        }))
        .await
        .expect("monthly");
    // Hand-written: the months with data, then the gaps filled by hand.
    let data = db.rows(&format!(
        "SELECT strftime('%Y-%m', createdAt) AS m, COUNT(*) AS c, SUM(amount) AS s FROM orders \
         WHERE {LIVE} GROUP BY m ORDER BY m"
    ));
    let mut want = Vec::new();
    for month in [
        "2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06",
    ] {
        match data.iter().find(|r| r["m"] == json!(month)) {
            Some(r) => {
                want.push(json!({"createdAt": month, "_count": r["c"], "_sum": {"amount": r["s"]}}))
            }
            None => want.push(json!({"createdAt": month, "_count": 0, "_sum": {"amount": null}})),
        }
    }
    assert_eq!(got, Value::Array(want));

    // Where bounds widen the range; fillGaps: false keeps only data buckets.
    let got = orders
        .group_by(json!({
            "by": ["createdAt"],
            "interval": {"createdAt": "quarter"},
            "where": {"createdAt": {"gte": "2023-10-01", "lte": "2024-12-31"}},
            "_count": true,
        }))
        .await
        .expect("quarterly");
    assert_eq!(
        got,
        json!([
            {"createdAt": "2023-Q4", "_count": 0},
            {"createdAt": "2024-Q1", "_count": 4},
            {"createdAt": "2024-Q2", "_count": 4},
            {"createdAt": "2024-Q3", "_count": 0},
            {"createdAt": "2024-Q4", "_count": 0},
        ])
    );
    for (unit, expr) in [
        ("year", "strftime('%Y', createdAt)"),
        ("week", "date(createdAt, 'weekday 0', '-6 days')"),
        ("day", "strftime('%Y-%m-%d', createdAt)"),
        ("hour", "strftime('%Y-%m-%dT%H:00', createdAt)"),
    ] {
        let got = orders
            .group_by(json!({
                "by": ["createdAt"],
                "interval": {"createdAt": unit},
                "fillGaps": false,
                "_count": true,
            }))
            .await
            .expect("bucket");
        let want: Vec<Value> = db
            .rows(&format!(
                "SELECT {expr} AS b, COUNT(*) AS c FROM orders WHERE {LIVE} GROUP BY b ORDER BY b"
            ))
            .into_iter()
            .map(|r| json!({"createdAt": r["b"], "_count": r["c"]}))
            .collect();
        assert_eq!(got, Value::Array(want), "{unit}");
    }
    // Weekly gap fill steps by 7 days from the Monday of the first week.
    let got = orders
        .group_by(
            json!({"by": ["createdAt"], "interval": {"createdAt": "week"}, "_count": true,
                         "where": {"createdAt": {"lt": "2024-01-31"}}}),
        )
        .await
        .expect("weekly");
    assert_eq!(
        got,
        json!([
            {"createdAt": "2024-01-01", "_count": 1},
            {"createdAt": "2024-01-08", "_count": 0},
            {"createdAt": "2024-01-15", "_count": 1},
            {"createdAt": "2024-01-22", "_count": 0},
            {"createdAt": "2024-01-29", "_count": 0},
        ])
    );
    // Empty set: no buckets at all.
    let got = orders
        .group_by(json!({"by": ["createdAt"], "interval": {"createdAt": "day"}, "_count": true, "where": {"status": "nope"}}))
        .await
        .expect("empty");
    assert_eq!(got, json!([]));
}

#[tokio::test]
async fn group_by_errors_name_the_path() {
    let db = open().await;
    let orders = db.client.model("orders");
    let cases = [
        (json!({"_count": true}), "by"),
        (json!({"by": ["nope"]}), "by[0]"),
        (
            json!({"by": ["status"], "having": {"amount": {"gt": 1}}}),
            "having.amount",
        ),
        (
            json!({"by": ["status"], "having": {"_sum": {"nope": {"gt": 1}}}}),
            "having._sum.nope",
        ),
        (
            json!({"by": ["status"], "having": {"_count": {"between": 1}}}),
            "having._count.between",
        ),
        (
            json!({"by": ["status"], "orderBy": {"amount": "asc"}}),
            "orderBy.amount",
        ),
        (
            json!({"by": ["status"], "interval": {"createdAt": "month"}}),
            "interval.createdAt",
        ),
        (
            json!({"by": ["createdAt"], "interval": {"createdAt": "fortnight"}}),
            "interval.createdAt",
        ),
        (
            json!({"by": ["status", "createdAt"], "interval": {"createdAt": "month"}, "fillGaps": true}),
            "fillGaps",
        ),
    ];
    for (args, path) in cases {
        let e = orders
            .group_by(args.clone())
            .await
            .expect_err("should fail");
        let msg = e.to_string();
        assert!(msg.contains(path), "{args}: {msg} should name {path}");
    }
}

#[tokio::test]
async fn query_dispatcher_routes_by_shape() {
    let db = open().await;
    seed(&db).await;
    let orders = db.client.model("orders");
    let rows = orders
        .query(json!({"where": {"status": "paid"}, "orderBy": {"id": "asc"}, "limit": 2}))
        .await
        .expect("findMany");
    assert_eq!(
        rows,
        orders
            .find_many(json!({"where": {"status": "paid"}, "orderBy": {"id": "asc"}, "limit": 2}))
            .await
            .expect("fm")
    );
    let agg = orders
        .query(json!({"_count": true, "_sum": {"amount": true}, "where": {"accountId": 1}}))
        .await
        .expect("aggregate");
    assert_eq!(agg, json!({"_count": 4, "_sum": {"amount": 135.5}}));
    let grouped = orders
        .query(json!({"by": ["status"], "_count": true, "where": {"accountId": 1}}))
        .await
        .expect("groupBy");
    assert_eq!(
        grouped,
        json!([{"status": "paid", "_count": 3}, {"status": "refund", "_count": 1}])
    );
    let named = orders
        .query(json!({"_countPaid": {"count": true, "filter": sql!("status = {}", "paid")}}))
        .await
        .expect("named");
    assert_eq!(named, json!({"_countPaid": 5}));
    let windowed = orders
        .query(json!({"window": {"rn": {"rowNumber": true, "orderBy": {"id": "desc"}}}, "orderBy": {"id": "asc"}, "limit": 1}))
        .await
        .expect("window");
    assert_eq!(windowed[0]["rn"], json!(8));
}

#[tokio::test]
async fn client_query_runs_many_entries_in_one_snapshot() {
    let db = open().await;
    seed(&db).await;
    let got = db
        .client
        .query(json!({
            "accounts": {"where": {"id": {"lte": 2}}, "select": {"id": true, "name": true}, "orderBy": {"id": "asc"}},
            "orders": {"_count": true, "_sum": {"amount": true}},
            "revenue": {"model": "orders", "by": ["status"], "_count": true},
            "paid": {"model": "orders", "where": {"status": "paid"}, "select": {"id": true}, "orderBy": {"id": "asc"}},
        }))
        .await
        .expect("batch");
    let want_sum = db.row(&format!(
        "SELECT COUNT(*) AS c, SUM(amount) AS s FROM orders WHERE {LIVE}"
    ));
    assert_eq!(
        got,
        json!({
            "accounts": [{"id": 1, "name": "Acme"}, {"id": 2, "name": "Globex"}],
            "orders": {"_count": want_sum["c"], "_sum": {"amount": want_sum["s"]}},
            "revenue": [
                {"status": "paid", "_count": 5},
                {"status": "pending", "_count": 2},
                {"status": "refund", "_count": 1},
            ],
            "paid": [{"id": 1}, {"id": 2}, {"id": 5}, {"id": 6}, {"id": 8}],
        })
    );
    // Fails as a whole, naming the entry.
    let e = db
        .client
        .query(
            json!({"orders": {"_count": true}, "bad": {"model": "orders", "_sum": {"nope": true}}}),
        )
        .await
        .expect_err("bad entry");
    assert!(e.to_string().contains("bad._sum.nope"), "{e}");
    let e = db
        .client
        .query(json!({"ghosts": {"_count": true}}))
        .await
        .expect_err("unknown model");
    assert_eq!(e.kind(), ErrorKind::UnknownModel);
    // Inside a transaction the batch sees the transaction's own writes.
    let n = db
        .client
        .transaction(|tx| async move {
            tx.model("orders")
                .create(json!({"data": {"id": 50, "status": "paid", "amount": 1.0, "createdAt": "2024-07-01T00:00:00.000Z"}}))
                .await?;
            tx.client().query(json!({"orders": {"_count": true}})).await
        })
        .await
        .expect("tx batch");
    assert_eq!(n["orders"]["_count"], json!(9));
}

#[tokio::test]
async fn group_by_having_on_named_aggregates_and_fill_order() {
    let db = open().await;
    seed(&db).await;
    let orders = db.client.model("orders");
    let got = orders
        .group_by(json!({
            "by": ["accountId"],
            "_countPaid": {"count": true, "filter": sql!("status = {}", "paid")},
            "having": {"_countPaid": {"gte": 1}, "accountId": {"in": [1, 2, 3]}},
            "orderBy": [{"_countPaid": "desc"}, {"accountId": "asc"}],
        }))
        .await
        .expect("named having");
    let want: Vec<Value> = db
        .rows(&format!(
            "SELECT accountId, COUNT(*) FILTER (WHERE status = 'paid') AS cp FROM orders WHERE {LIVE} \
             GROUP BY accountId HAVING COUNT(*) FILTER (WHERE status = 'paid') >= 1 AND accountId IN (1, 2, 3) \
             ORDER BY cp DESC, accountId ASC"
        ))
        .into_iter()
        .map(|r| json!({"accountId": r["accountId"], "_countPaid": r["cp"]}))
        .collect();
    assert_eq!(got, Value::Array(want));
    // Gap-filled buckets newest first, paged.
    let got = orders
        .group_by(
            json!({"by": ["createdAt"], "interval": {"createdAt": "month"}, "_count": true,
                         "orderBy": {"createdAt": "desc"}, "limit": 3}),
        )
        .await
        .expect("fill desc");
    assert_eq!(
        got,
        json!([
            {"createdAt": "2024-06", "_count": 2},
            {"createdAt": "2024-05", "_count": 0},
            {"createdAt": "2024-04", "_count": 2},
        ])
    );
}

#[tokio::test]
async fn aggregate_and_group_by_sql_snapshots() {
    let db = open().await;
    let orders = db.client.model("orders");
    let cases = [
        (
            "aggregate_basic",
            Op::Aggregate,
            json!({"where": {"status": "paid"}, "_count": true, "_sum": {"amount": true}, "_avg": {"amount": true}, "_min": {"amount": true}, "_max": {"amount": true}}),
        ),
        (
            "aggregate_distinct_stringagg",
            Op::Aggregate,
            json!({"_count": {"distinct": "accountId"}, "_stringAgg": {"field": "status", "separator": ", ", "orderBy": "status"}}),
        ),
        (
            "aggregate_named",
            Op::Aggregate,
            json!({"_countPaid": {"count": true, "filter": sql!("status = {}", "paid")}, "_sumPaid": {"sum": "amount", "filter": sql!("status = {}", "paid")}}),
        ),
        (
            "group_by_having",
            Op::GroupBy,
            json!({"by": ["status"], "_count": true, "_sum": {"amount": true}, "having": {"_count": {"gt": 5}, "status": {"not": "x"}}, "orderBy": {"_count": "desc"}, "limit": 10, "offset": 5}),
        ),
        (
            "group_by_month_fill",
            Op::GroupBy,
            json!({"by": ["createdAt"], "interval": {"createdAt": "month"}, "where": {"createdAt": {"gte": "2024-01-01", "lte": "2024-12-31"}}, "_count": true, "_sum": {"amount": true}}),
        ),
        (
            "group_by_quarter_nofill",
            Op::GroupBy,
            json!({"by": ["createdAt"], "interval": {"createdAt": "quarter"}, "fillGaps": false, "_count": true}),
        ),
    ];
    for (name, op, args) in cases {
        let sql = orders.to_sql(op, args).expect("compile");
        insta::assert_json_snapshot!(name, sql);
    }
}
