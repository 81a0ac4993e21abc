//! The event log (what reconnecting clients resume from) and the jobs table as far as the
//! trait exposes it. Claiming under concurrency is tested in `sql::jobs`'s unit tests, which
//! can schedule jobs directly.

use crate::directory::{new_channel, new_user};
use charla_core::*;
use charla_store::*;
use std::sync::Arc;

async fn events_since_is_ordered_and_scoped(store: Arc<dyn Store>) {
    let ws = store.create_workspace("Acme").await.expect("ws").id;
    let other = store.create_workspace("Globex").await.expect("ws").id;
    let u = store.create_user(new_user(ws, "u@example.com", Role::Agent)).await.expect("user");
    let x = store.create_user(new_user(other, "x@example.com", Role::Agent)).await.expect("user");
    let ch = store.create_channel(new_channel(ws, "api")).await.expect("channel");
    assert_eq!(store.last_event_seq().await.expect("seq"), 0, "creations are not events");

    let mut mine = Vec::new();
    let mut theirs = Vec::new();
    for i in 0..3 {
        let patch = UserPatch { name: Some(format!("name {i}")), ..Default::default() };
        mine.extend(store.update_user(ws, u.id, patch.clone()).await.expect("update").events);
        theirs.extend(store.update_user(other, x.id, patch).await.expect("update").events);
        mine.extend(store.set_channel_members(ws, ch.id, &[u.id]).await.expect("members").events);
    }
    assert_eq!(mine.len(), 6);
    assert!(mine.windows(2).all(|w| w[0].seq < w[1].seq), "seq strictly increases");

    let all = store.events_since(ws, 0, 100).await.expect("events");
    assert_eq!(all, mine, "the logged events are the returned ones, oldest first, this workspace only");
    assert_eq!(store.events_since(other, 0, 100).await.expect("events"), theirs);
    assert_eq!(store.last_event_seq().await.expect("seq"), theirs[2].seq.max(mine[5].seq));

    // Resuming after a position, page by page.
    assert_eq!(store.events_since(ws, mine[1].seq, 100).await.expect("events"), mine[2..].to_vec());
    assert_eq!(store.events_since(ws, mine[1].seq, 2).await.expect("events"), mine[2..4].to_vec());
    assert_eq!(store.events_since(ws, mine[5].seq, 100).await.expect("events"), vec![]);
    assert_eq!(store.events_since(ws, 0, 0).await.expect("events").len(), 6, "no limit means a full page");

    // Payloads come back as they were written.
    let first: User = serde_json::from_value(all[0].payload.clone()).expect("user payload");
    assert_eq!((first.id, first.name.as_str()), (u.id, "name 0"));
    assert_eq!(all[1].kind, "channel.updated");
    assert!(all.iter().all(|e| e.access.is_none() && e.user_id.is_none() && e.workspace_id == ws));
}

async fn no_jobs_to_claim_at_first(store: Arc<dyn Store>) {
    assert_eq!(store.next_job_at().await.expect("next"), None);
    assert!(store.claim_jobs(i64::MAX / 2, 1000, 10).await.expect("claim").is_empty());
}

conformance!(events_since_is_ordered_and_scoped, no_jobs_to_claim_at_first);
