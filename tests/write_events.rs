//! `on_event` (README `onEvent`): committed writes are reported once,
//! after COMMIT; rolled-back writes (transaction or savepoint) never are.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use litestone::{Client, WriteEvent};
use parking_lot::Mutex;
use serde_json::json;

const SCHEMA: &str = r#"
model notes {
  id        Integer @id
  body      Text    @unique
  deletedAt DateTime?
  @@softDelete
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_writes_are_reported_rolled_back_ones_are_not() {
    let seen: Arc<Mutex<Vec<WriteEvent>>> = Arc::default();
    let sink = seen.clone();
    let dir = tempfile::tempdir().unwrap();
    let db = Client::builder()
        .schema(SCHEMA)
        .db_path(dir.path().join("w.db").to_str().unwrap())
        .auto_migrate(true)
        .on_event(move |e| sink.lock().push(e.clone()))
        .open()
        .await
        .unwrap();
    let notes = db.set_auth(json!({"id": 42})).model("notes");
    notes.create(json!({"data": {"body": "a"}})).await.unwrap();
    notes
        .create_many(json!({"data": [{"body": "b"}, {"body": "c"}]}))
        .await
        .unwrap();
    notes
        .update(json!({"where": {"body": "a"}, "data": {"body": "a2"}}))
        .await
        .unwrap();
    notes.remove(json!({"where": {"body": "b"}})).await.unwrap();
    notes
        .delete_many(json!({"where": {"body": "c"}}))
        .await
        .unwrap();
    // A failing write reports nothing.
    assert!(notes.create(json!({"data": {"body": "a2"}})).await.is_err());
    {
        let seen = seen.lock();
        let acts: Vec<(&str, u64)> = seen.iter().map(|e| (e.action.as_str(), e.count)).collect();
        assert_eq!(
            acts,
            vec![
                ("create", 1),
                ("create", 2),
                ("update", 1),
                ("remove", 1),
                ("delete", 1)
            ]
        );
        assert_eq!(seen[0].rows[0]["body"], json!("a"));
        assert_eq!(seen[0].actor_id, Some(json!(42)));
        assert_eq!(seen[1].operation, "createMany");
        assert!(seen[1].rows.is_empty());
    }
    seen.lock().clear();

    // Transaction: held until COMMIT; a rolled-back savepoint's events and a
    // rolled-back transaction's events are dropped.
    db.transaction(async |tx| {
        tx.model("notes")
            .create(json!({"data": {"body": "t1"}}))
            .await?;
        let inner: litestone::Result<()> = tx
            .transaction(async |sp| {
                sp.model("notes")
                    .create(json!({"data": {"body": "sp"}}))
                    .await?;
                Err(litestone::Error::invalid_args("", "undo the savepoint"))
            })
            .await;
        assert!(inner.is_err());
        assert!(seen.lock().is_empty(), "delivered before COMMIT");
        Ok(())
    })
    .await
    .unwrap();
    let acts: Vec<String> = seen
        .lock()
        .iter()
        .map(|e| e.rows[0]["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(acts, vec!["t1"]);
    seen.lock().clear();
    let r: litestone::Result<()> = db
        .transaction(async |tx| {
            tx.model("notes")
                .create(json!({"data": {"body": "gone"}}))
                .await?;
            Err(litestone::Error::invalid_args("", "roll back"))
        })
        .await;
    assert!(r.is_err());
    assert!(seen.lock().is_empty());
    assert_eq!(
        db.model("notes")
            .count(json!({"where": {"body": "gone"}}))
            .await
            .unwrap(),
        json!(0)
    );
}
