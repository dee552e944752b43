//! Group commit: concurrent writes share one database transaction.
//!
//! A write is a piece of work over a transaction ([`Writer::write`]). One
//! task per server takes the writes queued while the previous transaction
//! committed (at most [`MAX_BATCH`]) and runs them one after another in a
//! single write transaction (`Db::begin_write`), each inside its own
//! savepoint: a write that fails is rolled back to its savepoint and
//! answered with its error, and its neighbours commit. A write alone in the
//! queue runs at once in its own transaction, without a savepoint and
//! without waiting for company. If the shared transaction itself fails
//! (its commit, or a failure that undid the whole transaction), every write
//! of the batch is run again alone, so each gets the answer it would have
//! had by itself. Answers are given only after the commit.
//!
//! Writes run in the order they were queued, in one transaction at a time,
//! and `feed::record` numbers changes inside it, so the feed's order is
//! still the commit order; each write sees the ones before it (slot
//! capacity, idempotency records), as when every write had its own
//! transaction. Live listeners are woken once per commit.
//!
//! A write whose caller went away before it ran (a request timeout or a
//! closed connection) is skipped; one already running completes.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot, watch};

use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult};

/// Writes per shared transaction, at most.
pub const MAX_BATCH: usize = 64;

type Answer = AppResult<Box<dyn Any + Send>>;
type Work = Box<dyn for<'a> FnMut(&'a mut Tx) -> BoxFuture<'a, Answer> + Send>;

struct Job {
    work: Work,
    answer: oneshot::Sender<Answer>,
}

/// The group-commit queue of one server (see the module docs).
pub struct Writer {
    shared: Arc<Shared>,
    queue: Mutex<Option<mpsc::UnboundedSender<Job>>>,
}

/// What the writer task needs.
struct Shared {
    db: Db,
    feed_head: Arc<watch::Sender<i64>>,
    /// Transactions committed, and the writes they carried.
    transactions: AtomicU64,
    writes: AtomicU64,
}

impl Shared {
    /// Counts a commit and wakes live listeners with the feed's new head
    /// (read inside the transaction, before its commit: writers hold the
    /// feed counter's lock, so it is the committed head).
    fn committed(&self, writes: usize, head: i64) {
        self.transactions.fetch_add(1, Ordering::Relaxed);
        self.writes.fetch_add(writes as u64, Ordering::Relaxed);
        advance(&self.feed_head, head);
    }
}

/// The feed's head inside a write transaction.
async fn head_in(tx: &mut Tx) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT seq FROM feed_counter WHERE id = 1")
        .fetch_one(&mut **tx)
        .await
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    pub fn new(db: Db, feed_head: Arc<watch::Sender<i64>>) -> Self {
        Self {
            shared: Arc::new(Shared {
                db,
                feed_head,
                transactions: AtomicU64::new(0),
                writes: AtomicU64::new(0),
            }),
            queue: Mutex::new(None),
        }
    }

    /// Transactions committed so far, and the writes they carried.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.shared.transactions.load(Ordering::Relaxed),
            self.shared.writes.load(Ordering::Relaxed),
        )
    }

    /// Runs `work` in a write transaction, possibly shared with other
    /// writes, and answers once it committed. `work` may run more than once
    /// (again alone when the shared transaction failed), each time in a
    /// transaction where nothing of its earlier run remains.
    pub async fn write<T, F>(&self, mut work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: for<'a> FnMut(&'a mut Tx) -> BoxFuture<'a, AppResult<T>> + Send + 'static,
    {
        let work: Work = Box::new(move |tx| {
            let fut = work(tx);
            Box::pin(async move { fut.await.map(|v| Box::new(v) as Box<dyn Any + Send>) })
        });
        let (answer, rx) = oneshot::channel();
        self.enqueue(Job { work, answer });
        let value = rx
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the writer stopped")))??;
        value
            .downcast::<T>()
            .map(|v| *v)
            .map_err(|_| AppError::Internal(anyhow::anyhow!("a write answered the wrong type")))
    }

    fn enqueue(&self, job: Job) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let job = match queue.as_ref() {
            Some(q) => match q.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        // First write, or the task ended (a write panicked): start one.
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(job);
        *queue = Some(tx);
        tokio::spawn(run(self.shared.clone(), rx));
    }
}

async fn run(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        drain(&mut rx, &mut batch);
        if batch.len() > 1 && batch.len() < MAX_BATCH {
            // Others are writing too: let the ones already on their way in
            // join (one scheduler turn, no timer).
            tokio::task::yield_now().await;
            drain(&mut rx, &mut batch);
        }
        batch.retain(|j| !j.answer.is_closed());
        match batch.len() {
            0 => continue,
            1 => {
                let job = batch.pop().expect("one job");
                alone(&shared, job).await;
            }
            _ => together(&shared, batch).await,
        }
    }
}

fn drain(rx: &mut mpsc::UnboundedReceiver<Job>, batch: &mut Vec<Job>) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// One write in its own transaction.
async fn alone(shared: &Shared, mut job: Job) {
    let answer = async {
        let mut tx = shared.db.begin_write().await?;
        match (job.work)(&mut tx).await {
            Ok(v) => {
                let head = head_in(&mut tx).await?;
                tx.commit().await?;
                shared.committed(1, head);
                Ok(v)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }
    .await;
    let _ = job.answer.send(answer);
}

/// Several writes in one transaction, each in a savepoint; when the
/// transaction fails as a whole, each write again alone.
async fn together(shared: &Shared, mut batch: Vec<Job>) {
    match in_one(&shared.db, &mut batch).await {
        Ok((answers, head)) => {
            shared.committed(batch.len(), head);
            for (job, answer) in batch.into_iter().zip(answers) {
                let _ = job.answer.send(answer);
            }
        }
        Err(err) => {
            tracing::info!(error = %err, n = batch.len(), "a shared write transaction failed; each write runs alone");
            for job in batch {
                alone(shared, job).await;
            }
        }
    }
}

/// The batch in one transaction; the answers and the feed head it
/// committed. The savepoint of a write is released as the next one opens
/// (one round trip), the last one by the commit.
async fn in_one(db: &Db, batch: &mut [Job]) -> Result<(Vec<Answer>, i64), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let mut answers = Vec::with_capacity(batch.len());
    for (i, job) in batch.iter_mut().enumerate() {
        if i == 0 {
            crate::db::savepoint(&mut tx, "write").await?;
        } else {
            crate::db::release_and_reopen(&mut tx, "write").await?;
        }
        let answer = (job.work)(&mut tx).await;
        if answer.is_err() {
            // Fails when the error undid the whole transaction: then the
            // batch runs again, one write at a time.
            crate::db::rollback_to_open(&mut tx, "write").await?;
        }
        answers.push(answer);
    }
    let head = head_in(&mut tx).await?;
    tx.commit().await?;
    Ok((answers, head))
}

/// Moves the feed head forward (never back) and wakes who waits on it.
pub fn advance(feed_head: &watch::Sender<i64>, head: i64) {
    feed_head.send_if_modified(|h| {
        if head > *h {
            *h = head;
            true
        } else {
            false
        }
    });
}
