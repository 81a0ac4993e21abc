//! Ratings of attentions and the per-operator report.

use crate::conversations::{MIN, T0, assert_invalid, inbound, ingest, send, world};
use charla_core::*;
use charla_store::*;
use std::sync::Arc;

conformance!(
    operator_report_counts_medians_and_ratings,
    ratings_are_kept_replaced_and_scoped,
    report_period_is_checked
);

/// A conversation assigned to `to` (taking its unassigned attention) at `opened`, answered
/// after `answer_after` ms (None: never); answers its attention id.
async fn attention(
    store: &Arc<dyn Store>,
    w: &crate::conversations::World,
    key: &str,
    to: Option<&User>,
    opened: Millis,
    answer_after: Option<Millis>,
) -> Id {
    let conv = ingest(store, inbound(w.channel.id, &format!("p-{key}"), key, key, "hello"), opened).await;
    if let Some(u) = to {
        store.assign(w.ws, conv.id, w.admin.id, Some(u.id), None, opened).await.expect("assign");
        if let Some(after) = answer_after {
            send(store, w.ws, conv.id, u, MessageKind::Outbound, "hi!", opened + after).await;
        }
    }
    let atts = store.list_attentions(w.ws, conv.id).await.expect("attentions");
    atts.last().expect("an attention").id
}

async fn operator_report_counts_medians_and_ratings(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let (ana, bob) = (w.ana.clone(), w.bob.clone());
    let day = 24 * 60 * MIN;
    let a1 = attention(&store, &w, "a1", Some(&ana), T0, Some(60_000)).await;
    let a2 = attention(&store, &w, "a2", Some(&ana), T0 + MIN, Some(120_000)).await;
    let a3 = attention(&store, &w, "a3", Some(&ana), T0 + 2 * MIN, Some(600_000)).await;
    attention(&store, &w, "a4", Some(&ana), T0 + 3 * MIN, None).await;
    let b1 = attention(&store, &w, "b1", Some(&bob), T0 + 4 * MIN, Some(30_000)).await;
    attention(&store, &w, "b2", Some(&bob), T0 + 5 * MIN, Some(91_001)).await;
    // Outside the period, unassigned, and another workspace: not counted.
    attention(&store, &w, "old", Some(&ana), T0 - 2 * day, Some(1_000)).await;
    attention(&store, &w, "nobody", None, T0 + 6 * MIN, None).await;
    let other = world(&store).await;
    let o1 = attention(&store, &other, "o1", Some(&other.ana), T0, Some(5_000)).await;
    store.rate_attention(other.ws, o1, Rating::Dissatisfied, None, false, T0 + day).await.expect("rate other");

    store.rate_attention(w.ws, a1, Rating::Satisfied, Some("great".into()), false, T0 + day).await.expect("rate");
    store.rate_attention(w.ws, a2, Rating::Satisfied, None, false, T0 + day).await.expect("rate");
    store.rate_attention(w.ws, a3, Rating::Dissatisfied, Some("slow".into()), true, T0 + day).await.expect("rate");
    store.rate_attention(w.ws, b1, Rating::Neutral, None, false, T0 + day).await.expect("rate");

    let report = store.operator_report(w.ws, T0 - day, T0 + day).await.expect("report");
    assert_eq!(
        report,
        vec![
            OperatorStats {
                user_id: ana.id,
                attentions: 4,
                responded: 3,
                first_response_median_ms: Some(120_000),
                first_response_avg_ms: Some((60_000 + 120_000 + 600_000) / 3),
                satisfied: 2,
                neutral: 0,
                dissatisfied: 1,
            },
            OperatorStats {
                user_id: bob.id,
                attentions: 2,
                responded: 2,
                // Even count: the mean of the two middle ones, rounded down.
                first_response_median_ms: Some((30_000 + 91_001) / 2),
                first_response_avg_ms: Some((30_000 + 91_001) / 2),
                satisfied: 0,
                neutral: 1,
                dissatisfied: 0,
            },
        ]
    );
    // The period is [from, to): an attention opened at `to` is not in it.
    let report = store.operator_report(w.ws, T0 + MIN, T0 + 4 * MIN).await.expect("report");
    assert_eq!(report.len(), 1);
    assert_eq!((report[0].user_id, report[0].attentions, report[0].responded), (ana.id, 3, 2));
    assert_eq!(report[0].first_response_median_ms, Some((120_000 + 600_000) / 2));
    assert!(store.operator_report(w.ws, T0 + day, T0 + 2 * day).await.expect("empty").is_empty());
}

async fn ratings_are_kept_replaced_and_scoped(store: Arc<dyn Store>) {
    let w = world(&store).await;
    let id = attention(&store, &w, "r1", Some(&w.ana.clone()), T0, Some(1_000)).await;
    let a = store
        .rate_attention(w.ws, id, Rating::Neutral, Some("  could be faster  ".into()), false, T0 + MIN)
        .await
        .expect("rate");
    assert_eq!(a.id, id);
    assert_eq!(a.rating, Some(Rating::Neutral));
    assert_eq!(a.rating_comment.as_deref(), Some("could be faster"));
    assert!(!a.rating_hidden);
    assert_eq!(a.rated_at, Some(T0 + MIN));

    // Rating again replaces it; a blank comment is none.
    let a = store
        .rate_attention(w.ws, id, Rating::Satisfied, Some("   ".into()), true, T0 + 2 * MIN)
        .await
        .expect("re-rate");
    assert_eq!(
        (a.rating, a.rating_comment.clone(), a.rating_hidden, a.rated_at),
        (Some(Rating::Satisfied), None, true, Some(T0 + 2 * MIN))
    );
    let listed = store.list_attentions(w.ws, a.conversation_id).await.expect("attentions");
    assert_eq!(listed.last(), Some(&a));

    let long = "x".repeat(RATING_COMMENT_MAX_CHARS + 1);
    assert_invalid(store.rate_attention(w.ws, id, Rating::Satisfied, Some(long), false, T0).await, "comment_too_long");
    let other = world(&store).await;
    assert!(matches!(
        store.rate_attention(other.ws, id, Rating::Satisfied, None, false, T0).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.rate_attention(w.ws, id + 10_000, Rating::Satisfied, None, false, T0).await,
        Err(StoreError::NotFound)
    ));
    // Unchanged by the refused attempts.
    let listed = store.list_attentions(w.ws, a.conversation_id).await.expect("attentions");
    assert_eq!(listed.last(), Some(&a));
}

async fn report_period_is_checked(store: Arc<dyn Store>) {
    let w = world(&store).await;
    assert_invalid(store.operator_report(w.ws, T0, T0).await, "invalid_period");
    assert_invalid(store.operator_report(w.ws, T0, T0 - 1).await, "invalid_period");
}
