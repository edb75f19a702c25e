//! Every model call runs inside a `litestone.query` tracing span carrying the
//! model, operation and database.
#![allow(clippy::unwrap_used)]
mod common;
use std::sync::Arc;

use common::*;
use parking_lot::Mutex;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

type SpanLog = Vec<(String, Vec<(String, String)>)>;

#[derive(Default, Clone)]
struct Capture(Arc<Mutex<SpanLog>>);

struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .push((field.name().to_string(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_string(), value.to_string()));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut f = Fields(Vec::new());
        attrs.record(&mut f);
        let mut spans = self.0.lock();
        spans.push((attrs.metadata().name().to_string(), f.0));
        Id::from_u64(spans.len() as u64)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn each_call_is_a_span_with_model_operation_database() {
    let db = open().await;
    let cap = Capture::default();
    let guard = tracing::subscriber::set_default(cap.clone());
    db.client
        .model("labels")
        .create(json!({"data": {"name": "x"}}))
        .await
        .unwrap();
    db.client
        .model("labels")
        .find_many(json!({}))
        .await
        .unwrap();
    drop(guard);
    let spans = cap.0.lock().clone();
    let ours: Vec<_> = spans
        .iter()
        .filter(|(n, _)| n == "litestone.query")
        .collect();
    assert!(ours.len() >= 2, "{spans:?}");
    let get = |fields: &Vec<(String, String)>, k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(get(&ours[0].1, "model"), "labels");
    assert_eq!(get(&ours[0].1, "operation"), "create");
    assert_eq!(get(&ours[0].1, "database"), "main");
    assert_eq!(get(&ours[1].1, "operation"), "findMany");
}
