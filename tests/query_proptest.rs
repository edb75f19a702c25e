//! Differential property test: random where-trees over random rows return
//! exactly the rows an independent Rust evaluation (SQL three-valued logic,
//! the README's null conventions) selects. Failing seeds are persisted by
//! proptest in `tests/query_proptest.proptest-regressions`; replay with
//! `PROPTEST_CASES=… cargo test --test query_proptest`.
#![allow(clippy::unwrap_used)]
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Value, json};

const SCHEMA: &str = r#"
model items {
  id Integer @id
  a  Integer?
  b  Text?
  c  Boolean
  d  Real?
}
"#;

#[derive(Debug, Clone)]
struct Row {
    id: i64,
    a: Option<i64>,
    b: Option<String>,
    c: bool,
    d: Option<f64>,
}

#[derive(Debug, Clone, Copy)]
enum Cmp {
    Lt,
    Lte,
    Gt,
    Gte,
}

#[derive(Debug, Clone, Copy)]
enum TextOp {
    Contains,
    Starts,
    Ends,
}

#[derive(Debug, Clone)]
enum Pred {
    AEq(Option<i64>),
    ANot(Option<i64>),
    AIn(Vec<Option<i64>>, bool),
    ACmp(Cmp, i64),
    DCmp(Cmp, f64),
    BEq(Option<String>),
    BText(TextOp, String, bool),
    CEq(bool),
    NotOps(Box<Pred>),
    And(Vec<Pred>),
    Or(Vec<Pred>),
    Not(Vec<Pred>),
}

fn cmp_name(c: Cmp) -> &'static str {
    match c {
        Cmp::Lt => "lt",
        Cmp::Lte => "lte",
        Cmp::Gt => "gt",
        Cmp::Gte => "gte",
    }
}

fn to_json(p: &Pred) -> Value {
    match p {
        Pred::AEq(v) => json!({"a": v}),
        Pred::ANot(v) => json!({"a": {"not": v}}),
        Pred::AIn(vs, neg) => json!({"a": {(if *neg { "notIn" } else { "in" }): vs}}),
        Pred::ACmp(c, v) => json!({"a": {cmp_name(*c): v}}),
        Pred::DCmp(c, v) => json!({"d": {cmp_name(*c): v}}),
        Pred::BEq(v) => json!({"b": v}),
        Pred::BText(op, s, ins) => {
            let k = match op {
                TextOp::Contains => "contains",
                TextOp::Starts => "startsWith",
                TextOp::Ends => "endsWith",
            };
            if *ins {
                json!({"b": {k: s, "mode": "insensitive"}})
            } else {
                json!({"b": {k: s}})
            }
        }
        Pred::CEq(v) => json!({"c": v}),
        Pred::NotOps(inner) => match to_json(inner) {
            Value::Object(m) => {
                let (k, v) = m.into_iter().next().expect("one key");
                let ops = if v.is_object() {
                    v
                } else {
                    json!({"equals": v})
                };
                json!({k: {"not": ops}})
            }
            other => other,
        },
        Pred::And(ps) => json!({"AND": ps.iter().map(to_json).collect::<Vec<_>>()}),
        Pred::Or(ps) => json!({"OR": ps.iter().map(to_json).collect::<Vec<_>>()}),
        Pred::Not(ps) => json!({"NOT": ps.iter().map(to_json).collect::<Vec<_>>()}),
    }
}

fn ord<T: PartialOrd>(c: Cmp, x: &T, y: &T) -> bool {
    match c {
        Cmp::Lt => x < y,
        Cmp::Lte => x <= y,
        Cmp::Gt => x > y,
        Cmp::Gte => x >= y,
    }
}

fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn or3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// Independent evaluation with SQL's three-valued logic and litestone's
/// documented conventions (`not` and `notIn` are null-inclusive).
// `fold`, not `try_fold`: `None` (unknown) must not short-circuit.
#[allow(clippy::manual_try_fold)]
fn eval(p: &Pred, r: &Row) -> Option<bool> {
    match p {
        Pred::AEq(None) => Some(r.a.is_none()),
        Pred::AEq(Some(v)) => r.a.map(|a| a == *v),
        Pred::ANot(None) => Some(r.a.is_some()),
        Pred::ANot(Some(v)) => Some(r.a != Some(*v)),
        Pred::AIn(vs, neg) => {
            let vals: Vec<i64> = vs.iter().flatten().copied().collect();
            let with_null = vs.iter().any(Option::is_none);
            match (r.a, neg, with_null) {
                (None, false, true) => Some(true),
                (None, false, false) => {
                    if vals.is_empty() {
                        Some(false)
                    } else {
                        None
                    }
                }
                (None, true, false) => Some(true),
                (None, true, true) => {
                    if vals.is_empty() {
                        Some(false)
                    } else {
                        None
                    }
                }
                (Some(a), false, _) => Some(vals.contains(&a)),
                (Some(a), true, _) => Some(!vals.contains(&a)),
            }
        }
        Pred::ACmp(c, v) => r.a.map(|a| ord(*c, &a, v)),
        Pred::DCmp(c, v) => r.d.map(|d| ord(*c, &d, v)),
        Pred::BEq(None) => Some(r.b.is_none()),
        Pred::BEq(Some(v)) => r.b.as_ref().map(|b| b == v),
        Pred::BText(op, s, ins) => r.b.as_ref().map(|b| {
            let (b, s) = if *ins {
                (b.to_ascii_lowercase(), s.to_ascii_lowercase())
            } else {
                (b.clone(), s.clone())
            };
            match op {
                TextOp::Contains => b.contains(&s),
                TextOp::Starts => b.starts_with(&s),
                TextOp::Ends => b.ends_with(&s),
            }
        }),
        Pred::CEq(v) => Some(r.c == *v),
        Pred::NotOps(inner) => eval(inner, r).map(|x| !x),
        Pred::And(ps) => ps.iter().fold(Some(true), |acc, p| and3(acc, eval(p, r))),
        Pred::Or(ps) => ps.iter().fold(Some(false), |acc, p| or3(acc, eval(p, r))),
        Pred::Not(ps) => ps
            .iter()
            .fold(Some(true), |acc, p| and3(acc, eval(p, r).map(|x| !x))),
    }
}

fn small_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[aAbB%_*?\\[]{0,3}").expect("regex")
}

fn cmp() -> impl Strategy<Value = Cmp> {
    prop_oneof![Just(Cmp::Lt), Just(Cmp::Lte), Just(Cmp::Gt), Just(Cmp::Gte)]
}

fn leaf() -> impl Strategy<Value = Pred> {
    let opt_int = proptest::option::of(-3i64..4);
    prop_oneof![
        opt_int.clone().prop_map(Pred::AEq),
        opt_int.clone().prop_map(Pred::ANot),
        (proptest::collection::vec(opt_int, 0..4), any::<bool>())
            .prop_map(|(v, n)| Pred::AIn(v, n)),
        (cmp(), -3i64..4).prop_map(|(c, v)| Pred::ACmp(c, v)),
        (cmp(), (-6i32..7).prop_map(|x| f64::from(x) / 2.0)).prop_map(|(c, v)| Pred::DCmp(c, v)),
        proptest::option::of(small_text()).prop_map(Pred::BEq),
        (
            prop_oneof![
                Just(TextOp::Contains),
                Just(TextOp::Starts),
                Just(TextOp::Ends)
            ],
            small_text(),
            any::<bool>()
        )
            .prop_map(|(o, s, i)| Pred::BText(o, s, i)),
        any::<bool>().prop_map(Pred::CEq),
    ]
}

fn pred() -> impl Strategy<Value = Pred> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Pred::And),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Pred::Or),
            proptest::collection::vec(inner.clone(), 1..3).prop_map(Pred::Not),
            leaf().prop_map(|l| Pred::NotOps(Box::new(l))),
        ]
    })
}

fn row() -> impl Strategy<Value = (Option<i64>, Option<String>, bool, Option<f64>)> {
    (
        proptest::option::of(-3i64..4),
        proptest::option::of(small_text()),
        any::<bool>(),
        proptest::option::of((-6i32..7).prop_map(|x| f64::from(x) / 2.0)),
    )
}

struct Env {
    rt: tokio::runtime::Runtime,
    client: litestone::Client,
    _dir: tempfile::TempDir,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("prop.db");
        let client = rt
            .block_on(
                litestone::Client::builder()
                    .schema(SCHEMA)
                    .db_path(path.to_str().expect("path"))
                    .auto_migrate(true)
                    .open(),
            )
            .expect("open");
        Env {
            rt,
            client,
            _dir: dir,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn where_trees_match_rust_evaluation(
        raw_rows in proptest::collection::vec(row(), 0..12),
        p in pred(),
    ) {
        let env = env();
        let rows: Vec<Row> = raw_rows
            .into_iter()
            .enumerate()
            .map(|(i, (a, b, c, d))| Row { id: i as i64 + 1, a, b, c, d })
            .collect();
        let w = to_json(&p);
        let got = env.rt.block_on(async {
            let m = env.client.model("items");
            m.delete_many(json!({"all": true})).await.expect("clear");
            let data: Vec<Value> = rows
                .iter()
                .map(|r| json!({"id": r.id, "a": r.a, "b": r.b, "c": r.c, "d": r.d}))
                .collect();
            m.create_many(json!({"data": data})).await.expect("seed");
            let found = m
                .find_many(json!({"where": w, "orderBy": {"id": "asc"}, "select": {"id": true}}))
                .await
                .expect("query");
            let n = m.count(json!({"where": w})).await.expect("count");
            (found, n)
        });
        let got_ids: Vec<i64> = got.0.as_array().expect("array").iter().map(|r| r["id"].as_i64().expect("id")).collect();
        let want: Vec<i64> = rows.iter().filter(|r| eval(&p, r) == Some(true)).map(|r| r.id).collect();
        prop_assert_eq!(&got_ids, &want, "where = {}", w);
        prop_assert_eq!(got.1, json!(want.len()));
    }
}
