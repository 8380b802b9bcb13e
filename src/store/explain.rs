//! Statement capture for `discogs perftest --explain`: while a [`Recorder`] is in scope (the API
//! sets one for a request that asks for it), every statement the stores run is recorded with its
//! parameters, and PostgreSQL statements with their `EXPLAIN (ANALYZE, BUFFERS)` plan.
//!
//! Neo4j statements are recorded without a plan: neo4rs 0.9 keeps the PLAN/PROFILE metadata of
//! its result summaries private, so they are kept as text to PROFILE in cypher-shell or Browser.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

tokio::task_local! {
    static RECORDER: Recorder;
}

/// Where the statements of one request go.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Statement>>>);

#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub store: &'static str,
    pub text: String,
    pub parameters: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

impl Recorder {
    /// The recorder in scope for this task, if any.
    pub fn current() -> Option<Recorder> {
        RECORDER.try_with(Clone::clone).ok()
    }

    /// Runs `future` with `recorder` in scope (tasks do not inherit it: a spawned task needs it
    /// passed on).
    pub async fn scope<F: Future>(recorder: Option<Recorder>, future: F) -> F::Output {
        match recorder {
            Some(recorder) => RECORDER.scope(recorder, future).await,
            None => future.await,
        }
    }

    pub fn record(&self, statement: Statement) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(statement);
    }

    /// Everything recorded so far, in order.
    pub fn take(&self) -> Vec<Statement> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
