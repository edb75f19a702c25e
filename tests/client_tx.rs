//! Model calls inside `client.transaction`: read-your-writes, multi-statement
//! reads on the pinned writer, rollback of every model write.
#![allow(clippy::unwrap_used)]
mod common;
use common::*;
use litestone::ErrorKind;
use serde_json::json;

#[tokio::test]
async fn model_calls_in_a_transaction_commit_together() {
    let db = open().await;
    let (acct, user) = db
        .client
        .transaction(async |tx| {
            let acct = tx
                .model("accounts")
                .create(json!({"data": {"name": "Acme"}}))
                .await?;
            let user = tx
                .model("users")
                .create(json!({"data": {"accountId": acct["id"], "email": "a@b.co"}}))
                .await?;
            // read-your-writes, including an include (several statements)
            let seen = tx
                .model("accounts")
                .find_unique(json!({"where": {"id": acct["id"]}, "include": {"users": true}}))
                .await?;
            assert_eq!(seen["users"][0]["email"], "a@b.co");
            let page = tx.model("users").find_many_and_count(json!({})).await?;
            assert_eq!(page["total"], 1);
            Ok((acct, user))
        })
        .await
        .unwrap();
    assert_eq!(user["accountId"], acct["id"]);
    assert_eq!(db.col("SELECT COUNT(*) FROM users"), vec![json!(1)]);
}

#[tokio::test]
async fn an_error_rolls_back_every_model_write() {
    let db = open().await;
    seed(&db).await;
    let r: litestone::Result<()> = db
        .client
        .transaction(async |tx| {
            tx.model("labels")
                .create(json!({"data": {"name": "temp"}}))
                .await?;
            tx.model("posts")
                .update_many(json!({"all": true, "data": {"views": 0}}))
                .await?;
            // unique violation → Err → ROLLBACK
            tx.model("labels")
                .create(json!({"data": {"name": "rust"}}))
                .await?;
            Ok(())
        })
        .await;
    assert_eq!(r.unwrap_err().kind(), ErrorKind::UniqueViolation);
    assert_eq!(
        db.col("SELECT COUNT(*) FROM labels WHERE name = 'temp'"),
        vec![json!(0)]
    );
    assert_eq!(db.col("SELECT SUM(views) FROM posts"), vec![json!(172)]);
}
