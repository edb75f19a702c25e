//! `on_query` listeners, `tap_query` captures and their event shape.
#![allow(clippy::unwrap_used)]
mod common;
use std::sync::Arc;

use common::*;
use litestone::{Client, QueryEvent};
use parking_lot::Mutex;
use serde_json::json;

#[tokio::test]
async fn on_query_receives_the_readme_event_shape() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.db");
    let seen: Arc<Mutex<Vec<QueryEvent>>> = Arc::default();
    let s2 = seen.clone();
    let client = Client::builder()
        .schema(SCHEMA)
        .db_path(path.to_str().unwrap())
        .auto_migrate(true)
        .on_query(move |e| s2.lock().push(e.clone()))
        .open()
        .await
        .unwrap();
    let scoped = client.set_auth(json!({"id": "user_abc"}));
    scoped
        .model("labels")
        .create(json!({"data": {"name": "a"}}))
        .await
        .unwrap();
    scoped
        .model("labels")
        .find_many(json!({"where": {"name": "a"}, "limit": 20}))
        .await
        .unwrap();
    let events = seen.lock().clone();
    assert_eq!(events.len(), 2, "{events:#?}");
    let e = &events[1];
    assert_eq!(e.model.as_deref(), Some("labels"));
    assert_eq!(e.operation, "findMany");
    assert_eq!(e.database, "main");
    assert_eq!(e.actor_id, Some(json!("user_abc")));
    assert!(e.sql.starts_with("SELECT"), "{}", e.sql);
    assert_eq!(e.params, vec![json!("a"), json!(20)]);
    assert_eq!(e.row_count, 1);
    assert!(e.duration >= 0.0);
    assert_eq!(e.args, json!({"where": {"name": "a"}, "limit": 20}));
    assert_eq!(events[0].operation, "create");
    let v = serde_json::to_value(e).unwrap();
    for key in [
        "model",
        "operation",
        "database",
        "actorId",
        "sql",
        "params",
        "duration",
        "rowCount",
        "args",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
}

#[tokio::test]
async fn tap_query_stops_on_drop_and_stop() {
    let db = open().await;
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let l2 = log.clone();
    let tap = db
        .client
        .tap_query(move |e| l2.lock().push(e.operation.clone()));
    db.client.model("labels").count(json!({})).await.unwrap();
    db.client.model("labels").exists(json!({})).await.unwrap();
    tap.stop();
    db.client.model("labels").count(json!({})).await.unwrap();
    assert_eq!(*log.lock(), vec!["count", "exists"]);
    {
        let l3 = log.clone();
        let _tap = db
            .client
            .tap_query(move |e| l3.lock().push(format!("again:{}", e.operation)));
        db.client
            .model("labels")
            .find_many(json!({}))
            .await
            .unwrap();
    }
    db.client
        .model("labels")
        .find_many(json!({}))
        .await
        .unwrap();
    assert_eq!(log.lock().len(), 3);
    // two taps at once both see the event
    let a: Arc<Mutex<u32>> = Arc::default();
    let b: Arc<Mutex<u32>> = Arc::default();
    let (a2, b2) = (a.clone(), b.clone());
    let _ta = db.client.tap_query(move |_| *a2.lock() += 1);
    let _tb = db.client.tap_query(move |_| *b2.lock() += 1);
    db.client.model("labels").count(json!({})).await.unwrap();
    assert_eq!((*a.lock(), *b.lock()), (1, 1));
}
