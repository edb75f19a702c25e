//! `litestone::testing`: test client, schema factories (traits, state,
//! seeds, parents), validation cases and gate matrix checked against the
//! real validators, teardown, idempotent seeds.
#![allow(clippy::unwrap_used)]

use litestone::ErrorKind;
use litestone::testing::{
    Factory, TestOptions, generate_gate_matrix, generate_validation_cases, make_test_client, once,
    reset, truncate,
};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
enum Role { member admin viewer }

model accounts {
  id    Integer @id
  name  Text
  users users[]
}
model users {
  id        Integer @id
  accountId Integer
  account   accounts @relation(fields: [accountId], references: [id])
  email     Text    @unique @email
  name      Text    @length(2, 12)
  handle    Text    @startsWith("@") @unique
  score     Integer @gte(0) @lte(100)
  rating    Real    @gt(0) @lt(5)
  role      Role    @default(member)
  bio       Text?
  active    Boolean
  posts     posts[]
}
model posts {
  id       Integer @id
  title    Text
  authorId Integer
  author   users   @relation(fields: [authorId], references: [id])
  @@gate("1.3.4.6")
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn factories_build_valid_rows_deterministically() {
    let t = make_test_client(
        SCHEMA,
        TestOptions {
            seed: 7,
            ..TestOptions::default()
        },
    )
    .await
    .unwrap();
    let users = t.factory("users").unwrap();
    // Required parents are created automatically.
    let five = users.create_many(5).await.unwrap();
    assert_eq!(five.len(), 5);
    assert_eq!(
        t.db.model("accounts").count(json!({})).await.unwrap(),
        json!(5)
    );
    for u in &five {
        let score = u["score"].as_i64().unwrap();
        assert!((0..=100).contains(&score));
        assert!(u["handle"].as_str().unwrap().starts_with('@'));
        assert_eq!(u["bio"], Value::Null);
        assert_eq!(u["role"], json!("member"));
    }
    // Same seed, same rows; build does not write.
    let a = users.seed(99).build_many(3);
    let b = users.seed(99).build_many(3);
    assert_eq!(a, b);
    assert_eq!(
        t.db.model("users").count(json!({})).await.unwrap(),
        json!(5)
    );

    // Traits, state, explicit parents.
    let acct =
        t.db.model("accounts")
            .create(json!({"data": {"name": "Acme"}}))
            .await
            .unwrap();
    let users = users.define_trait("admin", json!({"role": "admin"}));
    let admin = users
        .with_trait("admin")
        .unwrap()
        .for_parent("account", &acct)
        .state(json!({"name": "Root"}))
        .create_one()
        .await
        .unwrap();
    assert_eq!(admin["role"], json!("admin"));
    assert_eq!(admin["accountId"], acct["id"]);
    assert_eq!(admin["name"], json!("Root"));
    assert_eq!(
        users.with_trait("nope").unwrap_err().kind(),
        ErrorKind::InvalidArgs
    );
    let posts = t.factory("posts").unwrap();
    let post = posts
        .with_relation("author", &users)
        .create_one()
        .await
        .unwrap();
    let author =
        t.db.model("users")
            .find_unique(json!({"where": {"id": post["authorId"]}}))
            .await
            .unwrap();
    assert!(author.is_object());

    // A hand-written definition.
    let custom = Factory::new(&t.db, "accounts", |seq, _| {
        json!({"name": format!("Co {seq}")})
            .as_object()
            .unwrap()
            .clone()
    });
    assert_eq!(custom.create_one().await.unwrap()["name"], json!("Co 1"));

    // Teardown.
    assert_eq!(truncate(&t.db, "posts").await.unwrap(), 1);
    reset(&t.db).await.unwrap();
    for m in ["accounts", "users", "posts"] {
        assert_eq!(
            t.db.as_system().model(m).count(json!({})).await.unwrap(),
            json!(0),
            "{m}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_validation_cases_match_the_validators() {
    let t = make_test_client(SCHEMA, TestOptions::default())
        .await
        .unwrap();
    let schema = t.db.schema();
    let cases = generate_validation_cases(schema, "users").unwrap();
    let acct =
        t.db.model("accounts")
            .create(json!({"data": {"name": "A"}}))
            .await
            .unwrap();
    let mut valid = cases.valid.clone();
    valid["accountId"] = acct["id"].clone();
    let mut n = 0;
    let mut try_with = async |field: &str, value: &Value| {
        n += 1;
        let mut data = valid.clone();
        data[field] = value.clone();
        data["email"] = json!(format!("case{n}@example.com"));
        if field == "email" {
            data["email"] = value.clone();
        }
        data["handle"] = json!(format!("@case{n}"));
        if field == "handle" {
            data["handle"] = value.clone();
        }
        t.db.model("users").create(json!({ "data": data })).await
    };
    try_with("name", &valid["name"].clone()).await.unwrap();
    assert!(!cases.invalid.is_empty() && !cases.boundary.is_empty());
    for c in &cases.invalid {
        let r = try_with(&c.field, &c.value).await;
        assert!(r.is_err(), "{c:?} was accepted");
    }
    for c in &cases.boundary {
        let r = try_with(&c.field, &c.value).await;
        assert!(r.is_ok(), "{c:?} was refused: {r:?}");
    }
    let rules: Vec<&str> = cases.invalid.iter().map(|c| c.rule.as_str()).collect();
    for r in [
        "required",
        "email",
        "length",
        "startsWith",
        "gte",
        "lte",
        "gt",
        "lt",
        "enum",
    ] {
        assert!(rules.contains(&r), "no {r} case: {rules:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gate_matrix_and_once() {
    let t = make_test_client(SCHEMA, TestOptions::default())
        .await
        .unwrap();
    let m = generate_gate_matrix(t.db.schema(), "posts").unwrap();
    assert_eq!(m.len(), 32);
    let find = |op: &str, level: u8| {
        m.iter()
            .find(|c| c.op == op && c.level == level)
            .unwrap()
            .expect
            .clone()
    };
    assert_eq!(find("read", 0), "deny");
    assert_eq!(find("read", 1), "allow");
    assert_eq!(find("create", 2), "deny");
    assert_eq!(find("delete", 6), "allow");
    assert_eq!(
        m.iter().find(|c| c.level == 5).unwrap().label,
        "ADMINISTRATOR"
    );
    assert!(
        generate_gate_matrix(t.db.schema(), "users")
            .unwrap()
            .iter()
            .all(|c| c.expect == "allow")
    );

    let ran = once(&t.db, "base-v1", async |tx| {
        tx.model("accounts")
            .create(json!({"data": {"name": "Seeded"}}))
            .await?;
        Ok(())
    })
    .await
    .unwrap();
    assert!(ran);
    let again = once(&t.db, "base-v1", async |tx| {
        tx.model("accounts")
            .create(json!({"data": {"name": "Twice"}}))
            .await?;
        Ok(())
    })
    .await
    .unwrap();
    assert!(!again);
    assert_eq!(
        t.db.model("accounts").count(json!({})).await.unwrap(),
        json!(1)
    );
}
