mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn smoke() {
    let db = open().await;
    seed(&db).await;
    let all = db.client.model("users").find_many(json!({})).await.unwrap();
    println!("{all:#}");
    assert_eq!(ids(&all), vec![1, 2, 3, 4]);
}
