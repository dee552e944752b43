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
//!
//! Sends, the writes a support server takes most, may also carry a
//! description of themselves (a [`SetWise`], through
//! `Writer::write_send`). A run of two or more of them queued side by side
//! (at most `MAX_SET_WISE` sends) is written set-wise by the first one's
//! [`SetWise::run`] (`routes::chat::batch::run`): a few statements for the
//! whole run instead of a few per send and two savepoints. When that path declines (any
//! send that is not the common case) or fails, the same writes run the
//! ordinary way, as above. A write without a description ends the run;
//! order is kept throughout.

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

/// Sends a set-wise run holds at most (statements far under both
/// engines' parameter limits).
pub const MAX_SET_WISE: usize = 1_000;

/// A write that can also be written set-wise with its neighbours of the
/// same kind (`routes::chat::batch::SendWrite`): the writer knows only
/// this, so it depends on no route.
pub trait SetWise: Any + Send + Sync {
    /// How many sends it carries.
    fn sends(&self) -> usize;

    /// Writes `run` (this write first, then the others queued beside it,
    /// all of this same kind) set-wise inside `tx` and answers each with
    /// what its ordinary `work` would have returned; `None`, with nothing
    /// written, to let the run go the ordinary way.
    fn run<'a>(
        &'a self,
        tx: &'a mut Tx,
        run: &'a [Arc<dyn SetWise>],
    ) -> BoxFuture<'a, AppResult<Option<Vec<Box<dyn Any + Send>>>>>;

    /// Itself, to find its kind again (`run` downcasts its neighbours).
    fn as_any(&self) -> &dyn Any;
}

struct Job {
    work: Work,
    /// Set for a write the set-wise path may take.
    send: Option<Arc<dyn SetWise>>,
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
    /// Writes answered by the set-wise path.
    merged: AtomicU64,
    /// Writes queued so far.
    queued: AtomicU64,
    /// Whether sends may take the set-wise path.
    merging: std::sync::atomic::AtomicBool,
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
                merged: AtomicU64::new(0),
                queued: AtomicU64::new(0),
                merging: std::sync::atomic::AtomicBool::new(true),
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

    /// Writes answered by the set-wise path so far (see the module docs).
    pub fn merged(&self) -> u64 {
        self.shared.merged.load(Ordering::Relaxed)
    }

    /// Writes queued so far (run or not).
    pub fn queued(&self) -> u64 {
        self.shared.queued.load(Ordering::Relaxed)
    }

    /// Lets sends take the set-wise path (the default) or not: switched
    /// off to compare the two paths (`tests/group_commit.rs`).
    pub fn set_merging(&self, on: bool) {
        self.shared.merging.store(on, Ordering::Relaxed);
    }

    /// Runs `work` in a write transaction, possibly shared with other
    /// writes, and answers once it committed. `work` may run more than once
    /// (again alone when the shared transaction failed), each time in a
    /// transaction where nothing of its earlier run remains.
    pub async fn write<T, F>(&self, work: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: for<'a> FnMut(&'a mut Tx) -> BoxFuture<'a, AppResult<T>> + Send + 'static,
    {
        self.write_send(None, work).await
    }

    /// [`Writer::write`] for a send: `send` describes what `work` does, so
    /// the writer may instead write it set-wise with the sends queued
    /// beside it (`routes::chat::batch`, which answers with the same `T`:
    /// `Message` for a REST send, `Vec<MutationResult>` for a push).
    pub async fn write_send<T, F>(
        &self,
        send: Option<Arc<dyn SetWise>>,
        mut work: F,
    ) -> AppResult<T>
    where
        T: Send + 'static,
        F: for<'a> FnMut(&'a mut Tx) -> BoxFuture<'a, AppResult<T>> + Send + 'static,
    {
        let work: Work = Box::new(move |tx| {
            let fut = work(tx);
            Box::pin(async move { fut.await.map(|v| Box::new(v) as Box<dyn Any + Send>) })
        });
        let (answer, rx) = oneshot::channel();
        self.enqueue(Job { work, send, answer });
        let value = rx
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the writer stopped")))??;
        value
            .downcast::<T>()
            .map(|v| *v)
            .map_err(|_| AppError::Internal(anyhow::anyhow!("a write answered the wrong type")))
    }

    fn enqueue(&self, job: Job) {
        self.shared.queued.fetch_add(1, Ordering::Relaxed);
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
        let merging = shared.merging.load(Ordering::Relaxed);
        for run in runs(batch, merging) {
            match run {
                Run::Sends(jobs) => sends(&shared, jobs).await,
                Run::Other(mut jobs) => match jobs.len() {
                    0 => {}
                    1 => alone(&shared, jobs.pop().expect("one job")).await,
                    _ => together(&shared, jobs).await,
                },
            }
        }
    }
}

/// Part of a batch, run in its own transaction.
enum Run {
    /// Two or more sends, for the set-wise path.
    Sends(Vec<Job>),
    /// Writes for the ordinary path.
    Other(Vec<Job>),
}

/// Splits `batch` into runs, in order (see [`plan`]).
fn runs(batch: Vec<Job>, merging: bool) -> Vec<Run> {
    let sends: Vec<Option<usize>> = batch
        .iter()
        .map(|j| j.send.as_ref().map(|s| s.sends()))
        .collect();
    let mut jobs = batch.into_iter();
    plan(&sends, merging)
        .into_iter()
        .map(|(set_wise, n)| {
            let part: Vec<Job> = jobs.by_ref().take(n).collect();
            if set_wise {
                Run::Sends(part)
            } else {
                Run::Other(part)
            }
        })
        .collect()
}

/// How a batch is run, given how many sends each write carries (`None`:
/// not a send): runs in order, each (set-wise?, how many writes). Sends
/// queued side by side make a set-wise run when there are two or more of
/// them (at most `MAX_SET_WISE` sends a run); everything else,
/// including a lone send, joins the ordinary runs beside it.
fn plan(sends: &[Option<usize>], merging: bool) -> Vec<(bool, usize)> {
    let fits = |s: &Option<usize>| merging && s.is_some_and(|n| n <= MAX_SET_WISE);
    // First the runs of sends as they come, then lone ones folded in.
    let mut runs: Vec<(bool, usize, usize)> = Vec::new();
    for s in sends {
        let n = s.unwrap_or(0);
        match runs.last_mut() {
            Some((true, jobs, total)) if fits(s) && *total + n <= MAX_SET_WISE => {
                *jobs += 1;
                *total += n;
            }
            Some((false, jobs, _)) if !fits(s) => *jobs += 1,
            _ => runs.push((fits(s), 1, n)),
        }
    }
    let mut out: Vec<(bool, usize)> = Vec::with_capacity(runs.len());
    for (set_wise, jobs, _) in runs {
        let set_wise = set_wise && jobs >= 2;
        match out.last_mut() {
            Some((false, before)) if !set_wise => *before += jobs,
            _ => out.push((set_wise, jobs)),
        }
    }
    out
}

/// Sends set-wise in one transaction; the ordinary way when that path
/// declines or fails.
async fn sends(shared: &Shared, jobs: Vec<Job>) {
    let writes: Vec<Arc<dyn SetWise>> = jobs
        .iter()
        .map(|j| j.send.clone().expect("a set-wise write"))
        .collect();
    let set_wise = async {
        let mut tx = shared.db.begin_write().await?;
        match writes[0].run(&mut tx, &writes).await? {
            Some(answers) => {
                let head = head_in(&mut tx).await?;
                tx.commit().await?;
                AppResult::Ok(Some((answers, head)))
            }
            None => {
                let _ = tx.rollback().await;
                Ok(None)
            }
        }
    }
    .await;
    match set_wise {
        Ok(Some((answers, head))) => {
            shared.committed(jobs.len(), head);
            shared
                .merged
                .fetch_add(jobs.len() as u64, Ordering::Relaxed);
            for (job, answer) in jobs.into_iter().zip(answers) {
                let _ = job.answer.send(Ok(answer));
            }
        }
        Ok(None) => together(shared, jobs).await,
        Err(err) => {
            tracing::info!(error = ?err, n = jobs.len(), "sends could not be written set-wise; each runs the ordinary way");
            together(shared, jobs).await;
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

#[cfg(test)]
mod tests {
    use super::plan;
    use super::MAX_SET_WISE as MAX_SENDS;

    #[test]
    fn sends_side_by_side_run_set_wise_and_the_rest_together() {
        let (s, o) = (Some(1), None);
        assert_eq!(plan(&[s, s, s], true), [(true, 3)]);
        assert_eq!(plan(&[s, s, s], false), [(false, 3)]);
        assert_eq!(plan(&[o, o], true), [(false, 2)]);
        // A lone send joins the ordinary writes beside it.
        assert_eq!(
            plan(&[s, o, s, s, o, s], true),
            [(false, 2), (true, 2), (false, 2)]
        );
        assert_eq!(plan(&[o, s, o], true), [(false, 3)]);
        // A run holds at most MAX_SENDS sends.
        let big = Some(MAX_SENDS / 2 + 1);
        assert_eq!(
            plan(&[big, big, s, big], true),
            [(false, 1), (true, 2), (false, 1)]
        );
        assert_eq!(
            plan(&[Some(MAX_SENDS + 1), s, s], true),
            [(false, 1), (true, 2)]
        );
        let all: usize = plan(&[s, o, big, big, s, o, s], true)
            .iter()
            .map(|r| r.1)
            .sum();
        assert_eq!(all, 7, "every write in exactly one run");
    }
}
