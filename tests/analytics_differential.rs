//! Differential test: random groupBy / aggregate shapes against
//! hand-written SQL over random data (seeded; `SEED=n` replays one).

mod analytics_support;

use analytics_support::open;
use serde_json::{Value, json};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const STATUSES: [&str; 4] = ["paid", "pending", "refund", "void"];

#[tokio::test]
async fn random_group_by_and_aggregate_match_sql() {
    let seed: u64 = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    println!("SEED={seed}");
    let mut r = Lcg(seed);
    let db = open().await;
    for id in 1..=4 {
        db.client
            .model("accounts")
            .create(json!({"data": {"id": id, "name": format!("a{id}")}}))
            .await
            .expect("account");
    }
    let mut rows = Vec::new();
    for id in 1..=120 {
        let acct = if r.below(6) == 0 {
            Value::Null
        } else {
            json!(1 + r.below(4))
        };
        let amount = if r.below(5) == 0 {
            Value::Null
        } else {
            json!((r.below(4000) as f64) / 4.0)
        };
        let day = 1 + r.below(28);
        let month = 1 + r.below(12);
        rows.push(json!({
            "id": id, "accountId": acct, "status": STATUSES[r.below(4) as usize], "amount": amount,
            "qty": 1 + r.below(5), "createdAt": format!("2024-{month:02}-{day:02}T{:02}:00:00.000Z", r.below(24)),
        }));
    }
    db.client
        .model("orders")
        .create_many(json!({"data": rows}))
        .await
        .expect("orders");
    let orders = db.client.model("orders");
    for round in 0..25 {
        let status = STATUSES[r.below(4) as usize];
        let min_amount = r.below(800) as f64;
        let by_acct = r.below(2) == 0;
        let having_min = r.below(4);
        let (by, by_sql): (Vec<&str>, &str) = if by_acct {
            (vec!["accountId", "status"], "accountId, status")
        } else {
            (vec!["status"], "status")
        };
        let got = orders
            .group_by(json!({
                "by": by,
                "where": {"OR": [{"status": {"not": status}}, {"amount": {"gte": min_amount}}]},
                "_count": true,
                "_sum": {"amount": true},
                "_avg": {"qty": true},
                "_min": {"createdAt": true},
                "having": {"_count": {"gte": having_min}},
                "orderBy": [{"_count": "desc"}, {"_sum": {"amount": "asc"}}, {"status": "asc"}],
            }))
            .await
            .expect("groupBy");
        let key_cols: Vec<&str> = by_sql.split(", ").collect();
        let want: Vec<Value> = db
            .rows(&format!(
                "SELECT {by_sql}, COUNT(*) AS c, SUM(amount) AS s, AVG(qty) AS q, MIN(createdAt) AS m FROM orders \
                 WHERE deletedAt IS NULL AND (status IS NOT '{status}' OR amount >= {min_amount}) \
                 GROUP BY {by_sql} HAVING COUNT(*) >= {having_min} \
                 ORDER BY COUNT(*) DESC, SUM(amount) ASC, status ASC{}",
                if by_acct { ", accountId ASC" } else { "" }
            ))
            .into_iter()
            .map(|row| {
                let mut o = serde_json::Map::new();
                for k in &key_cols {
                    o.insert(k.to_string(), row[*k].clone());
                }
                o.insert("_count".into(), row["c"].clone());
                o.insert("_sum".into(), json!({"amount": row["s"]}));
                o.insert("_avg".into(), json!({"qty": row["q"]}));
                o.insert("_min".into(), json!({"createdAt": row["m"]}));
                Value::Object(o)
            })
            .collect();
        if by_acct {
            // Ties on (count, sum, status) are broken by accountId in the SQL;
            // compare as sorted sets for the accountId shape.
            let mut g: Vec<String> = got
                .as_array()
                .expect("arr")
                .iter()
                .map(Value::to_string)
                .collect();
            let mut w: Vec<String> = want.iter().map(Value::to_string).collect();
            g.sort();
            w.sort();
            assert_eq!(g, w, "round {round} (SEED={seed})");
        } else {
            assert_eq!(got, Value::Array(want), "round {round} (SEED={seed})");
        }
        let agg = orders
            .aggregate(json!({
                "where": {"status": status, "accountId": {"not": null}},
                "_count": {"distinct": "accountId"},
                "_max": {"amount": true},
                "_sumBig": {"sum": "amount", "filter": format!("amount >= {min_amount}")},
            }))
            .await
            .expect("aggregate");
        let w = db.row(&format!(
            "SELECT COUNT(DISTINCT accountId) AS d, MAX(amount) AS m, SUM(amount) FILTER (WHERE amount >= {min_amount}) AS s \
             FROM orders WHERE deletedAt IS NULL AND status = '{status}' AND accountId IS NOT NULL"
        ));
        assert_eq!(
            agg,
            json!({"_count": w["d"], "_max": {"amount": w["m"]}, "_sumBig": w["s"]}),
            "round {round} (SEED={seed})"
        );
    }
}
