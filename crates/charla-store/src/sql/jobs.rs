//! The event log and job claiming.

#![allow(unused_variables)]

use super::*;

pub(crate) async fn events_since(s: &SqlStore, workspace_id: Id, seq: i64, limit: i64) -> StoreResult<Vec<Event>> {
    let _ = s;
    todo!("jobs::events_since")
}

pub(crate) async fn last_event_seq(s: &SqlStore) -> StoreResult<i64> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM events").fetch_one(&s.pool).await?;
    Ok(seq.unwrap_or(0))
}

pub(crate) async fn claim_jobs(s: &SqlStore, now: Millis, lease_ms: i64, limit: i64) -> StoreResult<Vec<Job>> {
    let _ = s;
    todo!("jobs::claim_jobs")
}

pub(crate) async fn next_job_at(s: &SqlStore) -> StoreResult<Option<Millis>> {
    let _ = s;
    todo!("jobs::next_job_at")
}

