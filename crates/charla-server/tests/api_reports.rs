//! `GET /api/v1/reports/operators`: per-operator attentions, first-response times and rating
//! shares over a period.

mod common;

use charla_core::{Rating, Role};
use common::*;
use serde_json::json;

both!(operators_report);

async fn operators_report(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let ana = s.user(ws.id, "Ana", Role::Agent, &[]).await;
    let ch = s.channel(ws.id, "Web", &[ana.id]).await;
    let store = s.state().store.clone();
    let now = charla_server::state::now_ms();

    // Two attentions for Ana: one answered and rated satisfied, one unanswered.
    let c1 = s.inbound(ch.id, "e1", "Carla", None, "hola").await.conversation;
    let c2 = s.inbound(ch.id, "e2", "Diego", None, "hola").await.conversation;
    s.assign(ws.id, c1.id, admin.id, Some(ana.id)).await;
    s.assign(ws.id, c2.id, admin.id, Some(ana.id)).await;
    let (st, body) = s
        .post(Some(&s.token(&ana)), &format!("/api/v1/conversations/{}/messages", c1.id), json!({"text": "¡Hola!"}))
        .await;
    assert_eq!(st, 201, "{body}");
    let att = store.list_attentions(ws.id, c1.id).await.unwrap_or_else(|e| panic!("{e}"));
    let att = att.last().unwrap_or_else(|| panic!("no attention"));
    store
        .rate_attention(ws.id, att.id, Rating::Satisfied, Some("bien".into()), false, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let token = s.token(&admin);
    let (st, body) = s.get(Some(&token), "/api/v1/reports/operators").await;
    assert_eq!(st, 200, "{body}");
    let ops = body["operators"].as_array().unwrap_or_else(|| panic!("operators: {body}"));
    assert_eq!(ops.len(), 1, "{body}");
    let r = &ops[0];
    assert_eq!(r["user_id"], ana.id);
    assert_eq!(r["name"], "Ana");
    assert_eq!((r["attentions"].as_i64(), r["responded"].as_i64()), (Some(2), Some(1)));
    let median = r["first_response_median_secs"].as_f64().unwrap_or(-1.0);
    assert!((0.0..60.0).contains(&median), "answered right after opening: {r}");
    assert_eq!(r["ratings"]["count"], 1);
    assert_eq!(r["ratings"]["satisfied_share"], 1.0);
    assert_eq!(r["ratings"]["neutral_share"], 0.0);
    assert!(body["from"].as_str().is_some_and(|t| t.ends_with('Z')), "{body}");

    // A period without attentions, and bad periods.
    let (st, body) =
        s.get(Some(&token), "/api/v1/reports/operators?from=2020-01-01T00:00:00Z&to=2020-01-31T00:00:00Z").await;
    assert_eq!(st, 200);
    assert_eq!(body["operators"].as_array().map(Vec::len), Some(0));
    let (st, body) =
        s.get(Some(&token), "/api/v1/reports/operators?from=2020-02-01T00:00:00Z&to=2020-01-01T00:00:00Z").await;
    assert_eq!((st, code(&body)), (400, "invalid_query"));
    let (st, body) = s.get(Some(&token), "/api/v1/reports/operators?from=yesterday").await;
    assert_eq!((st, code(&body)), (400, "invalid_query"));
    let (st, body) = s.get(Some(&token), "/api/v1/reports/operators?from=2000-01-01T00:00:00Z").await;
    assert_eq!((st, code(&body)), (400, "invalid_query"));

    // Agents without manage_settings may not read it.
    let (st, _) = s.get(Some(&s.token(&ana)), "/api/v1/reports/operators").await;
    assert_eq!(st, 403);
}
