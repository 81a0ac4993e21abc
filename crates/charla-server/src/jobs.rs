//! The job runner: auto-close, snooze wake-up and outbound delivery.
//!
//! Timed work lives in the store's jobs table, so it survives restarts. Each node claims due
//! jobs with a lease (`claim_jobs`; `FOR UPDATE SKIP LOCKED` on PostgreSQL), so a job runs on one
//! node at a time; a timer job's effect and its removal are one transaction, so it happens once.
//! The runner sleeps until the earliest job is due, `config.jobs_poll` at most, or until woken
//! by [`wake`] after a write that scheduled work (an outbound message).

use crate::state::{AppState, now_ms};
use charla_store::{Job, JobKind};
use std::time::Duration;
use tokio::sync::watch;

/// How long a claimed job is ours. A batch must finish well within it (deliveries time out
/// after `config.delivery_timeout`, and a batch runs its jobs concurrently).
pub const LEASE_MS: i64 = 60_000;
/// Jobs claimed at once.
pub const BATCH: i64 = 32;

/// Tells the runner that work may be due now (call after `store.send_message` of an outbound
/// message, or anything else that schedules a job).
pub fn wake(state: &AppState) {
    state.jobs_wake.notify_one();
}

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let claimed = step(&state).await;
        if *stop.borrow() {
            return;
        }
        if claimed >= BATCH as usize {
            // More may be due right now.
            continue;
        }
        let pause = pause(&state).await;
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = state.jobs_wake.notified() => {}
            changed = stop.changed() => {
                // The server is gone without saying stop: stop too.
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// Claims due jobs and runs them concurrently; returns how many were claimed. Never fails:
/// errors are logged and the job is retried once its lease expires.
pub async fn step(state: &AppState) -> usize {
    let jobs = match state.store.claim_jobs(now_ms(), LEASE_MS, BATCH).await {
        Ok(j) => j,
        Err(e) => {
            tracing::error!("claiming jobs: {e}");
            return 0;
        }
    };
    let n = jobs.len();
    futures_util::future::join_all(jobs.iter().map(|job| run_job(state, job))).await;
    n
}

async fn run_job(state: &AppState, job: &Job) {
    let result = match job.kind {
        JobKind::AutoClose | JobKind::SnoozeWake => match state.store.run_timer_job(job, now_ms()).await {
            Ok(w) => {
                state.publish(w.events).await;
                Ok(())
            }
            Err(e) => Err(e),
        },
        JobKind::Deliver => crate::outbox::deliver(state, job).await,
    };
    metrics::counter!("charla_jobs_total", "kind" => job_kind_name(job.kind)).increment(1);
    if let Err(e) = result {
        tracing::error!(job_id = job.id, kind = job_kind_name(job.kind), target = job.target_id, "job failed: {e}");
    }
}

fn job_kind_name(k: JobKind) -> &'static str {
    match k {
        JobKind::AutoClose => "auto_close",
        JobKind::SnoozeWake => "snooze_wake",
        JobKind::Deliver => "deliver",
    }
}

/// Until the next job is due, `jobs_poll` at most. A job that is due but was not claimed
/// (another node holds it, or it failed) is looked at again after `jobs_poll`.
async fn pause(state: &AppState) -> Duration {
    let poll = state.config.jobs_poll;
    match state.store.next_job_at().await {
        Ok(Some(at)) => {
            let wait = at - now_ms();
            if wait <= 0 { poll } else { poll.min(Duration::from_millis(wait as u64)) }
        }
        Ok(None) => poll,
        Err(e) => {
            tracing::error!("next job time: {e}");
            poll
        }
    }
}

/// How long a blocked contact's hidden messages are kept for admins.
pub const HIDDEN_RETENTION_MS: i64 = 30 * 24 * 3600 * 1000;

/// Periodic housekeeping: removes hidden messages past their retention, with their files.
/// Every node may run it; deleting what is already gone is harmless.
pub async fn run_housekeeping(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(3600));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        purge_hidden(&state).await;
    }
}

pub async fn purge_hidden(state: &AppState) {
    match state.store.purge_hidden_messages(crate::state::now_ms() - HIDDEN_RETENTION_MS).await {
        Ok(keys) => {
            for key in keys {
                if let Err(e) = crate::files::delete(&state.config.data_dir, &key).await {
                    tracing::warn!("purging file {key}: {e}");
                }
            }
        }
        Err(e) => tracing::warn!("purging hidden messages: {e}"),
    }
}
