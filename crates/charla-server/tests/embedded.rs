//! Embedded mode (DESIGN §2 Access): a host CRM's signed token names the user, who is
//! created on first use as an agent, and may limit them to some contacts — then nothing
//! else is visible, over REST and over the WebSocket.

mod common;

use charla_core::*;
use common::{TestServer, code, id_of};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

fn sign(secret: &str, claims: Value) -> String {
    jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes())).expect("sign")
}

fn exp(secs: i64) -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64 + secs
}

async fn embedded_sessions_see_only_their_contacts(s: &TestServer) {
    let ws = s.workspace("Host CRM").await;
    let admin = s.user(ws.id, "admin", Role::Admin, &[]).await;
    let admin_token = s.token(&admin);
    let channel = s.channel(ws.id, "CRM", &[]).await;
    let ana = s.inbound(channel.id, "ana", "Ana", None, "hola").await;
    let bob = s.inbound(channel.id, "bob", "Bob", None, "hello").await;
    let ana_contact = ana.conversation.contact_id.expect("contact");

    // Not enabled yet: refused.
    let (st, body) = s.post(None, "/api/v1/auth/embedded", json!({"workspace_id": ws.id, "token": "x"})).await;
    assert_eq!((st, code(&body)), (401, "invalid_embed_token"));

    let (st, body) = s.post(Some(&admin_token), "/api/v1/settings/embed-secret", json!({})).await;
    assert_eq!(st, 200);
    let secret = body["secret"].as_str().expect("secret").to_string();

    // A wrong signature, an expired token and a too-long-lived one are refused.
    let claims = json!({"email": "Manager@Crm.example", "name": "Manager", "exp": exp(600),
        "contact_ids": [ana_contact], "channel_ids": [channel.id]});
    for token in [
        sign("not-the-secret", claims.clone()),
        sign(&secret, json!({"email": "m@crm.example", "exp": exp(-600)})),
        sign(&secret, json!({"email": "m@crm.example", "exp": exp(48 * 3600)})),
    ] {
        let (st, _) = s.post(None, "/api/v1/auth/embedded", json!({"workspace_id": ws.id, "token": token})).await;
        assert_eq!(st, 401);
    }

    // First use creates the user as an agent, member of the channel the CRM named.
    let (st, body) = s
        .post(None, "/api/v1/auth/embedded", json!({"workspace_id": ws.id, "token": sign(&secret, claims.clone())}))
        .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["user"]["role"], "agent");
    assert_eq!(body["user"]["email"], "manager@crm.example");
    let token = body["token"].as_str().expect("token").to_string();

    // Only Ana's conversation exists for this session.
    let (st, list) = s.get(Some(&token), "/api/v1/conversations?section=all").await;
    assert_eq!(st, 200);
    let ids: Vec<i64> = list["items"].as_array().expect("items").iter().map(id_of).collect();
    assert_eq!(ids, vec![ana.conversation.id]);
    let (st, _) = s.get(Some(&token), &format!("/api/v1/conversations/{}", bob.conversation.id)).await;
    assert_eq!(st, 404);
    let (st, _) = s.get(Some(&token), &format!("/api/v1/conversations/{}/messages", bob.conversation.id)).await;
    assert_eq!(st, 404);
    let (st, _) = s.get(Some(&token), &format!("/api/v1/conversations/{}", ana.conversation.id)).await;
    assert_eq!(st, 200);
    // An admin session opened normally still sees both.
    let (_, list) = s.get(Some(&admin_token), "/api/v1/conversations?section=all").await;
    assert_eq!(list["items"].as_array().expect("items").len(), 2);

    // A second use finds the same user; without contact_ids the session is not limited.
    let claims = json!({"email": "manager@crm.example", "exp": exp(600)});
    let (st, body) =
        s.post(None, "/api/v1/auth/embedded", json!({"workspace_id": ws.id, "token": sign(&secret, claims)})).await;
    assert_eq!(st, 200);
    let unlimited = body["token"].as_str().expect("token").to_string();
    let (_, list) = s.get(Some(&unlimited), "/api/v1/conversations?section=all").await;
    assert_eq!(list["items"].as_array().expect("items").len(), 2);

    // Rotating the secret invalidates tokens signed with the old one.
    let (_, _) = s.post(Some(&admin_token), "/api/v1/settings/embed-secret", json!({})).await;
    let claims = json!({"email": "manager@crm.example", "exp": exp(600)});
    let (st, _) =
        s.post(None, "/api/v1/auth/embedded", json!({"workspace_id": ws.id, "token": sign(&secret, claims)})).await;
    assert_eq!(st, 401);

    // Another workspace's user cannot be embedded through this workspace.
    let other = s.workspace("Other").await;
    let stranger = s.user(other.id, "stranger", Role::Admin, &[]).await;
    let (_, body) = s.post(Some(&admin_token), "/api/v1/settings/embed-secret", json!({})).await;
    let secret = body["secret"].as_str().expect("secret").to_string();
    let claims = json!({"email": stranger.email, "exp": exp(600)});
    let (st, _) =
        s.post(None, "/api/v1/auth/embedded", json!({"workspace_id": ws.id, "token": sign(&secret, claims)})).await;
    assert_eq!(st, 401);
}

both!(embedded_sessions_see_only_their_contacts);
