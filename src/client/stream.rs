//! [`RowStream`]: `find_many` as a `futures::Stream` with bounded memory.
//!
//! The read runs on a reader thread (one snapshot) and hands rows over in
//! pages of 1,024 rows through a channel of two pages: when the consumer
//! stops polling, the reader blocks on the full channel (back-pressure), so
//! memory stays bounded however many rows match. Dropping the stream stops
//! the read at the next page boundary and frees the reader. The stream holds
//! a reader thread while it is open, so keep at most `readers - 1` streams
//! open at once if point reads must stay fast meanwhile.
//!
//! Inside a transaction the rows come from the pinned writer, and are read
//! in full before the first is yielded: streaming from the writer while the
//! same transaction awaits other calls could deadlock.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc;

use super::Model;
use crate::error::{Error, Result};
use crate::exec::{self, Log};
use crate::query::Op;
use crate::sql::Plan;

/// Pages buffered between the reader thread and the consumer.
const PAGES_IN_FLIGHT: usize = 2;

/// A stream of rows from [`Model::find_many_stream`] /
/// [`Model::find_many_stream_as`]. Yields `Err` at most once, then ends.
#[derive(Debug)]
pub struct RowStream<T> {
    rx: mpsc::Receiver<Result<Vec<T>>>,
    page: std::vec::IntoIter<T>,
    done: bool,
}

impl<T> Unpin for RowStream<T> {}

impl<T> Stream for RowStream<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(row) = self.page.next() {
                return Poll::Ready(Some(Ok(row)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            match self.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.done = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(e))) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(page))) => self.page = page.into_iter(),
            }
        }
    }
}

fn failed<T>(e: Error) -> RowStream<T> {
    let (tx, rx) = mpsc::channel(1);
    let _ = tx.try_send(Err(e));
    RowStream {
        rx,
        page: Vec::new().into_iter(),
        done: false,
    }
}

impl Model {
    /// `find_many` as a stream of JSON rows with bounded memory (see
    /// [`RowStream`]). Accepts the `find_many` arguments (`where`,
    /// `orderBy`, `select`, `include`, `limit`, …). Must be called inside a
    /// tokio runtime.
    ///
    /// # Errors
    /// Argument errors, and SQLite errors while reading, arrive as the first
    /// (and last) item of the stream.
    ///
    /// # Cancel safety
    /// Dropping the stream stops the read at the next page and frees the reader.
    pub fn find_many_stream(&self, args: Value) -> RowStream<Value> {
        let Some(post) = self.row_hooks(&args) else {
            return self.stream_with(args, |conn, plan, log, sink| {
                exec::stream::stream_json(conn, plan, log, sink)
            });
        };
        self.stream_with(args, move |conn, plan, log, sink| {
            let mut failed = None;
            let mut each = |page: Vec<Value>| match post(page) {
                Ok(page) => sink(page),
                Err(e) => {
                    failed = Some(e);
                    false
                }
            };
            exec::stream::stream_json(conn, plan, log, &mut each)?;
            failed.map_or(Ok(()), Err)
        })
    }

    /// Computed fields and `after_read` hooks for streamed pages (run on
    /// the reader thread); `None` when there are none.
    fn row_hooks(
        &self,
        args: &Value,
    ) -> Option<impl Fn(Vec<Value>) -> Result<Vec<Value>> + Send + 'static> {
        if !self.client.inner.hooks.any() {
            return None;
        }
        let client = self.client.clone();
        let name = self.name.clone();
        let args = args.clone();
        Some(move |page: Vec<Value>| {
            let schema = &client.inner.schema;
            let mut v = Value::Array(page);
            if let Some(m) = schema.model(&name) {
                client.inner.hooks.apply(schema, m, &args, &mut v)?;
            }
            Ok(match v {
                Value::Array(a) => a,
                _ => Vec::new(),
            })
        })
    }

    /// [`Model::find_many_stream`] decoding rows straight into `T`.
    ///
    /// # Errors
    /// As [`Model::find_many_stream`], plus `InvalidArgs` when a row does not fit `T`.
    ///
    /// # Cancel safety
    /// Dropping the stream stops the read at the next page and frees the reader.
    pub fn find_many_stream_as<T>(&self, args: Value) -> RowStream<T>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let Some(post) = self.row_hooks(&args) else {
            return self.stream_with(args, |conn, plan, log, sink| {
                exec::stream::stream_typed::<T>(conn, plan, log, sink)
            });
        };
        // Computed fields and hooks work on JSON rows; decode after them.
        self.stream_with(args, move |conn, plan, log, sink| {
            let mut failed = None;
            let mut each = |page: Vec<Value>| {
                let decoded = post(page).and_then(|rows| {
                    rows.into_iter()
                        .map(|r| {
                            serde_json::from_value::<T>(r).map_err(|e| {
                                Error::invalid_args(
                                    "",
                                    format!("cannot decode row into the target type: {e}"),
                                )
                            })
                        })
                        .collect::<Result<Vec<T>>>()
                });
                match decoded {
                    Ok(rows) => sink(rows),
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                }
            };
            exec::stream::stream_json(conn, plan, log, &mut each)?;
            failed.map_or(Ok(()), Err)
        })
    }

    fn stream_with<T, W>(&self, args: Value, walk: W) -> RowStream<T>
    where
        T: Send + 'static,
        W: FnOnce(
                &rusqlite::Connection,
                &crate::sql::RowsPlan,
                &mut Log,
                &mut dyn FnMut(Vec<T>) -> bool,
            ) -> Result<()>
            + Send
            + 'static,
    {
        let (plan, db) = match self.prepare(Op::FindMany, &args) {
            Ok(p) => p,
            Err(e) => return failed(e),
        };
        let Plan::Rows { rows, .. } = plan else {
            return failed(Error::invalid_args(
                "",
                "find_many_stream needs a rows query",
            ));
        };
        let (tx, rx) = mpsc::channel(PAGES_IN_FLIGHT);
        let model = self.clone();
        let observed = model.client.observed();
        let in_tx = model.client.ctx.tx.is_some();
        tokio::spawn(async move {
            let err_tx = tx.clone();
            let res = model
                .client
                .run_read(&db, move |conn| {
                    let mut log = Log::new(observed);
                    let mut buffered: Vec<T> = Vec::new();
                    let mut sink = |page: Vec<T>| {
                        if in_tx {
                            buffered.extend(page);
                            true
                        } else {
                            tx.blocking_send(Ok(page)).is_ok()
                        }
                    };
                    walk(conn, &rows, &mut log, &mut sink)?;
                    Ok((buffered, log.entries))
                })
                .await;
            match res {
                Ok((buffered, logs)) => {
                    if observed {
                        model.emit(Op::FindMany, &db, &args, logs);
                    }
                    if !buffered.is_empty() {
                        let _ = err_tx.send(Ok(buffered)).await;
                    }
                }
                Err(e) => {
                    let _ = err_tx.send(Err(e)).await;
                }
            }
        });
        RowStream {
            rx,
            page: Vec::new().into_iter(),
            done: false,
        }
    }
}
