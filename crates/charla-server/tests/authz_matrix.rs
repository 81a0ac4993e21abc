//! The authorization matrix: every `/api/v1` route, called by every kind of caller, with the
//! status each must get.
//!
//! The route list comes from the OpenAPI document, so a new route without a row here fails
//! the test. Policy (see `api/mod.rs`):
//! - no session: 401;
//! - an object the caller may not see, or of another workspace: 404;
//! - a visible object but a missing right (settings writes without `manage_settings`,
//!   reassigning another's conversation, deleting without `delete_conversations`): 403.

mod common;

use charla_core::*;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;

/// Callers, in the order of [`Row::want`].
const ACTORS: [&str; 8] = [
    "admin",
    "agent",
    "agent+see_all",
    "agent+delete",
    "agent+manage_settings",
    "agent+see_group_chats",
    "other workspace admin",
    "anonymous",
];

/// What `{id}` of a row's path stands for. `*Fresh` targets are made anew for every call, so
/// that one caller's successful write does not change what the next one meets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum T {
    None,
    User,
    Team,
    TeamFresh,
    Channel,
    ChannelFresh,
    /// A channel none of the agents is a member of.
    ChannelHidden,
    /// The contact of `Conv`.
    Contact,
    ContactFresh,
    Tag,
    TagFresh,
    ReasonFresh,
    Canned,
    CannedFresh,
    /// Assigned to the admin, in the channel every agent is a member of.
    Conv,
    ConvFresh,
    ConvClosedFresh,
    /// Unassigned, in the agents' channel.
    ConvOpenFresh,
    /// An unassigned group chat in the agents' channel.
    Group,
    /// A notification of the admin.
    Notification,
    /// Sent in `Conv`.
    Attachment,
    /// A template of the agents' channel, made anew for every call.
    TemplateFresh,
    /// A new website channel (agents join and leave it).
    WebsiteFresh,
    /// A visitor's conversation in a website channel every agent is a member of, assigned to
    /// the admin and rated (its attention is `WEBATT`).
    WebConv,
}

struct Row {
    method: &'static str,
    path: &'static str,
    target: T,
    /// JSON with placeholders: ID (the target), UNIQUE, TAG, TARGETUSER, AGENTS, SELF,
    /// ADMINEMAIL; or "UPLOAD" for a multipart upload.
    body: Option<&'static str>,
    want: [u16; 8],
}

const fn row(method: &'static str, path: &'static str, target: T, body: Option<&'static str>, want: [u16; 8]) -> Row {
    Row { method, path, target, body, want }
}

// Common patterns: [admin, agent, see_all, delete, manage_settings, see_group_chats, other ws admin, anonymous]
const ALL_200: [u16; 8] = [200, 200, 200, 200, 200, 200, 200, 401];
const ALL_201: [u16; 8] = [201, 201, 201, 201, 201, 201, 201, 401];
const WS_200: [u16; 8] = [200, 200, 200, 200, 200, 200, 404, 401];
const SETTINGS_CREATE: [u16; 8] = [201, 403, 403, 403, 201, 403, 201, 401];
const SETTINGS_200: [u16; 8] = [200, 403, 403, 403, 200, 403, 404, 401];
const SETTINGS_204: [u16; 8] = [204, 403, 403, 403, 204, 403, 404, 401];
const HIDDEN_CHANNEL: [u16; 8] = [200, 404, 404, 404, 200, 404, 404, 401];
const CONTACT_200: [u16; 8] = [200, 404, 200, 404, 200, 404, 404, 401];
const CONV_200: [u16; 8] = [200, 404, 200, 404, 404, 404, 404, 401];
const CONV_201: [u16; 8] = [201, 404, 201, 404, 404, 404, 404, 401];
const GROUP_200: [u16; 8] = [200, 404, 404, 404, 404, 200, 404, 401];
const GROUP_201: [u16; 8] = [201, 404, 404, 404, 404, 201, 404, 401];

const ROWS: &[Row] = &[
    // auth
    row("post", "/api/v1/auth/login", T::None, Some(r#"{"email": "ADMINEMAIL", "password": "PASSWORD"}"#), [200; 8]),
    row("post", "/api/v1/auth/logout", T::None, None, [204, 204, 204, 204, 204, 204, 204, 401]),
    row("get", "/api/v1/auth/me", T::None, None, ALL_200),
    // embedded mode: a token not signed with the workspace's embed secret never opens a session
    row("post", "/api/v1/auth/embedded", T::None, Some(r#"{"workspace_id": 1, "token": "not.a.token"}"#), [401; 8]),
    row("post", "/api/v1/settings/embed-secret", T::None, None, [200, 403, 403, 403, 403, 403, 200, 401]),
    // users
    row("get", "/api/v1/users", T::None, None, ALL_200),
    row(
        "post",
        "/api/v1/users",
        T::None,
        Some(r#"{"email": "UNIQUE@example.com", "name": "N", "password": "12345678", "role": "agent"}"#),
        SETTINGS_CREATE,
    ),
    row(
        "post",
        "/api/v1/users",
        T::None,
        Some(r#"{"email": "UNIQUE@example.com", "name": "N", "password": "12345678", "role": "admin"}"#),
        [201, 403, 403, 403, 403, 403, 201, 401],
    ),
    row("get", "/api/v1/users/{id}", T::User, None, WS_200),
    row("patch", "/api/v1/users/{id}", T::User, Some(r#"{"name": "Renamed"}"#), SETTINGS_200),
    row("put", "/api/v1/users/me/presence", T::None, Some(r#"{"status": "online"}"#), ALL_200),
    // teams
    row("get", "/api/v1/teams", T::None, None, ALL_200),
    row("post", "/api/v1/teams", T::None, Some(r#"{"name": "UNIQUE"}"#), SETTINGS_CREATE),
    row("get", "/api/v1/teams/{id}", T::Team, None, WS_200),
    row("patch", "/api/v1/teams/{id}", T::Team, Some(r#"{"name": "UNIQUE"}"#), SETTINGS_200),
    row("delete", "/api/v1/teams/{id}", T::TeamFresh, None, SETTINGS_204),
    // channels
    row("get", "/api/v1/channels", T::None, None, ALL_200),
    row(
        "post",
        "/api/v1/channels",
        T::None,
        Some(r#"{"kind": "api", "name": "UNIQUE", "webhook_url": "https://example.com/hook"}"#),
        SETTINGS_CREATE,
    ),
    row("get", "/api/v1/channels/{id}", T::Channel, None, WS_200),
    row("get", "/api/v1/channels/{id}", T::ChannelHidden, None, HIDDEN_CHANNEL),
    row("patch", "/api/v1/channels/{id}", T::Channel, Some(r#"{"greeting": "Hola"}"#), SETTINGS_200),
    row("patch", "/api/v1/channels/{id}", T::ChannelHidden, Some(r#"{"greeting": "Hola"}"#), HIDDEN_CHANNEL),
    row("delete", "/api/v1/channels/{id}", T::ChannelFresh, None, SETTINGS_204),
    row("post", "/api/v1/channels/{id}/rotate-secret", T::Channel, None, SETTINGS_200),
    row("get", "/api/v1/channels/{id}/members", T::Channel, None, WS_200),
    row("get", "/api/v1/channels/{id}/members", T::ChannelHidden, None, HIDDEN_CHANNEL),
    row("put", "/api/v1/channels/{id}/members", T::ChannelFresh, Some(r#"{"user_ids": AGENTS}"#), SETTINGS_200),
    // an API channel has no provider: 422 once allowed
    row("post", "/api/v1/channels/{id}/test-connection", T::Channel, None, [422, 403, 403, 403, 422, 403, 404, 401]),
    // templates
    row("get", "/api/v1/channels/{id}/templates", T::Channel, None, WS_200),
    row("get", "/api/v1/channels/{id}/templates", T::ChannelHidden, None, HIDDEN_CHANNEL),
    row(
        "post",
        "/api/v1/channels/{id}/templates",
        T::Channel,
        Some(r#"{"name": "UNIQUE", "language": "es", "body": "Hola {{1}}"}"#),
        [201, 403, 403, 403, 201, 403, 404, 401],
    ),
    row("post", "/api/v1/channels/{id}/templates/sync", T::Channel, None, [422, 403, 403, 403, 422, 403, 404, 401]),
    row("delete", "/api/v1/templates/{id}", T::TemplateFresh, None, SETTINGS_204),
    // contacts
    row("get", "/api/v1/contacts", T::None, None, ALL_200),
    row("post", "/api/v1/contacts", T::None, Some(r#"{"name": "UNIQUE"}"#), ALL_201),
    row("get", "/api/v1/contacts/{id}", T::Contact, None, CONTACT_200),
    row("patch", "/api/v1/contacts/{id}", T::Contact, Some(r#"{"email": "c@example.com"}"#), CONTACT_200),
    row("post", "/api/v1/contacts/{id}/block", T::ContactFresh, None, CONTACT_200),
    row("post", "/api/v1/contacts/{id}/unblock", T::ContactFresh, None, CONTACT_200),
    row("put", "/api/v1/contacts/{id}/tags", T::Contact, Some(r#"{"tag_ids": [TAG]}"#), CONTACT_200),
    row("get", "/api/v1/contacts/{id}/conversations", T::Contact, None, CONTACT_200),
    row("get", "/api/v1/contacts/{id}/hidden-messages", T::Contact, None, [200, 404, 403, 404, 403, 404, 404, 401]),
    row("get", "/api/v1/contacts/{id}/identities", T::Contact, None, CONTACT_200),
    row("post", "/api/v1/contacts/{id}/merge", T::ContactFresh, Some(r#"{"contact_id": FRESHCONTACT}"#), CONTACT_200),
    // tags
    row("get", "/api/v1/tags", T::None, None, ALL_200),
    row("post", "/api/v1/tags", T::None, Some(r#"{"name": "UNIQUE"}"#), SETTINGS_CREATE),
    row("patch", "/api/v1/tags/{id}", T::Tag, Some(r##"{"color": "#112233"}"##), SETTINGS_200),
    row("delete", "/api/v1/tags/{id}", T::TagFresh, None, SETTINGS_204),
    // close reasons
    row("get", "/api/v1/close-reasons", T::None, None, ALL_200),
    row("post", "/api/v1/close-reasons", T::None, Some(r#"{"name": "UNIQUE"}"#), SETTINGS_CREATE),
    row("delete", "/api/v1/close-reasons/{id}", T::ReasonFresh, None, SETTINGS_204),
    // canned responses
    row("get", "/api/v1/canned-responses", T::None, None, ALL_200),
    row(
        "post",
        "/api/v1/canned-responses",
        T::None,
        Some(r#"{"shortcut": "UNIQUE", "text": "Hola"}"#),
        SETTINGS_CREATE,
    ),
    row(
        "post",
        "/api/v1/canned-responses",
        T::None,
        Some(r#"{"shortcut": "UNIQUE", "text": "Hola", "personal": true}"#),
        ALL_201,
    ),
    row("get", "/api/v1/canned-responses/{id}", T::Canned, None, WS_200),
    row("patch", "/api/v1/canned-responses/{id}", T::Canned, Some(r#"{"text": "Buenas"}"#), SETTINGS_200),
    row("delete", "/api/v1/canned-responses/{id}", T::CannedFresh, None, SETTINGS_204),
    // conversations
    row("get", "/api/v1/conversations", T::None, None, ALL_200),
    row("get", "/api/v1/unread-count", T::None, None, ALL_200),
    row("get", "/api/v1/conversations/{id}", T::Conv, None, CONV_200),
    row("get", "/api/v1/conversations/{id}", T::Group, None, GROUP_200),
    row("delete", "/api/v1/conversations/{id}", T::ConvOpenFresh, None, [204, 403, 403, 204, 403, 403, 404, 401]),
    row("delete", "/api/v1/conversations/{id}", T::ConvFresh, None, [204, 404, 403, 404, 404, 404, 404, 401]),
    row(
        "post",
        "/api/v1/conversations/bulk-delete",
        T::ConvOpenFresh,
        Some(r#"{"ids": [ID]}"#),
        [200, 403, 403, 200, 403, 403, 404, 401],
    ),
    row("get", "/api/v1/conversations/{id}/attentions", T::Conv, None, CONV_200),
    row("get", "/api/v1/conversations/{id}/messages", T::Conv, None, CONV_200),
    row("get", "/api/v1/conversations/{id}/messages", T::Group, None, GROUP_200),
    row("post", "/api/v1/conversations/{id}/messages", T::Conv, Some(r#"{"text": "hola"}"#), CONV_201),
    row(
        "post",
        "/api/v1/conversations/{id}/messages",
        T::Group,
        Some(r#"{"text": "hola", "kind": "note"}"#),
        GROUP_201,
    ),
    row(
        "post",
        "/api/v1/conversations/{id}/assign",
        T::ConvFresh,
        Some(r#"{"user_id": TARGETUSER}"#),
        [200, 404, 403, 404, 404, 404, 404, 401],
    ),
    row(
        "post",
        "/api/v1/conversations/{id}/assign",
        T::ConvOpenFresh,
        Some(r#"{"user_id": SELF}"#),
        [200, 200, 200, 200, 200, 200, 404, 401],
    ),
    row("post", "/api/v1/conversations/{id}/close", T::ConvFresh, Some("{}"), CONV_200),
    row("post", "/api/v1/conversations/{id}/reopen", T::ConvClosedFresh, None, CONV_200),
    row(
        "post",
        "/api/v1/conversations/{id}/snooze",
        T::ConvFresh,
        Some(r#"{"until": "2100-01-01T00:00:00Z"}"#),
        CONV_200,
    ),
    row("post", "/api/v1/conversations/{id}/read", T::Conv, None, CONV_200),
    row("post", "/api/v1/conversations/{id}/unread", T::Conv, None, CONV_200),
    row("post", "/api/v1/conversations/{id}/no-reply-needed", T::ConvFresh, None, CONV_200),
    row("post", "/api/v1/conversations/{id}/detach-contact", T::Conv, None, CONV_200),
    row("get", "/api/v1/conversations/{id}/draft", T::Conv, None, CONV_200),
    row("put", "/api/v1/conversations/{id}/draft", T::Conv, Some(r#"{"text": "borrador"}"#), CONV_200),
    // attachments
    row("post", "/api/v1/attachments", T::None, Some("UPLOAD"), ALL_201),
    row("get", "/api/v1/attachments/{id}/download", T::Attachment, None, CONV_200),
    // notifications
    row("get", "/api/v1/notifications", T::None, None, ALL_200),
    row("post", "/api/v1/notifications/{id}/read", T::Notification, None, [204, 404, 404, 404, 404, 404, 404, 401]),
    // reports
    row("get", "/api/v1/reports/operators", T::None, None, [200, 403, 403, 403, 200, 403, 200, 401]),
    // website live chat
    row("get", "/api/v1/livechat/channels", T::None, None, ALL_200),
    row("post", "/api/v1/livechat/channels/{id}/join", T::WebsiteFresh, None, WS_200),
    row("post", "/api/v1/livechat/channels/{id}/leave", T::WebsiteFresh, None, WS_200),
    row("post", "/api/v1/livechat/channels/{id}/join", T::Channel, None, [404, 404, 404, 404, 404, 404, 404, 401]),
    row("get", "/api/v1/conversations/{id}/visitor", T::WebConv, None, CONV_200),
    row("get", "/api/v1/conversations/{id}/visitor", T::Conv, None, [404, 404, 404, 404, 404, 404, 404, 401]),
    row("post", "/api/v1/conversations/{id}/visitor/history", T::WebConv, None, CONV_201),
    row(
        "post",
        "/api/v1/conversations/{id}/rating-visibility",
        T::WebConv,
        Some(r#"{"attention_id": WEBATT, "hidden": true}"#),
        [200, 404, 403, 404, 404, 404, 404, 401],
    ),
    // realtime (not a WebSocket request: 400 once authenticated)
    row("get", "/api/v1/ws", T::None, None, [400, 400, 400, 400, 400, 400, 400, 401]),
];

struct Fixture {
    ws: Id,
    admin: User,
    agent_ids: Vec<Id>,
    target_user: User,
    team: Id,
    channel: Channel,
    hidden_channel: Id,
    conv: Conversation,
    group: Conversation,
    tag: Id,
    canned: Id,
    notification: Id,
    attachment: Id,
    web_conv: Id,
    web_attention: Id,
}

async fn fixture(s: &TestServer, users: &[User]) -> Fixture {
    let admin = users[0].clone();
    let ws = admin.workspace_id;
    let agent_ids: Vec<Id> = users[1..6].iter().map(|u| u.id).collect();
    let store = &s.state().store;
    let target_user = s.user(ws, "Target", Role::Agent, &[]).await;
    let team = store.create_team(ws, "Team", &[]).await.unwrap_or_else(|e| panic!("{e}")).value.id;
    let channel = s.channel(ws, "Agents", &agent_ids).await;
    let hidden_channel = s.channel(ws, "Hidden", &[]).await.id;
    let conv = s.inbound(channel.id, "conv-admin", "Carla", Some("+1 555 0100"), "hola").await.conversation;
    let conv = s.assign(ws, conv.id, admin.id, Some(admin.id)).await;
    // A second message makes a notification for the admin (the assignee).
    s.inbound(channel.id, "conv-admin", "Carla", None, "¿hola?").await;
    let group = s.inbound_full(channel.id, "group-1", "Group", None, "hola grupo", true).await.conversation;
    let tag = store.create_tag(ws, "VIP", "#ff0000", false).await.unwrap_or_else(|e| panic!("{e}")).id;
    let canned = store.create_canned_response(ws, None, "hi", "Hola").await.unwrap_or_else(|e| panic!("{e}")).id;
    let notification = store
        .list_notifications(ws, admin.id, false, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .first()
        .map(|n| n.id)
        .unwrap_or_else(|| panic!("the admin should have a notification"));
    let ta = s.token(&admin);
    let (st, att) = s.upload(Some(&ta), "pixel.png", "image/png", include_bytes!("fixtures/pixel.png")).await;
    assert_eq!(st, 201, "{att}");
    let attachment = id_of(&att);
    let (st, m) = s
        .post(
            Some(&ta),
            &format!("/api/v1/conversations/{}/messages", conv.id),
            serde_json::json!({"text": "foto", "attachment_ids": [attachment]}),
        )
        .await;
    assert_eq!(st, 201, "{m}");
    let website = website_channel(s, ws, &agent_ids).await;
    let now = charla_server::state::now_ms();
    let visitor = "v_0123456789abcdef01234567";
    store.record_visit(website, visitor, Some("ES".into()), None, now).await.unwrap_or_else(|e| panic!("{e}"));
    let web_conv = s.inbound(website, visitor, "Visitor #1", None, "hola").await.conversation;
    let web_conv = s.assign(ws, web_conv.id, admin.id, Some(admin.id)).await;
    let web_attention = web_conv.attention_id.unwrap_or_else(|| panic!("attention"));
    store
        .rate_attention(ws, web_attention, Rating::Satisfied, None, false, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Fixture {
        web_conv: web_conv.id,
        web_attention,
        ws,
        admin,
        agent_ids,
        target_user,
        team,
        channel,
        hidden_channel,
        conv,
        group,
        tag,
        canned,
        notification,
        attachment,
    }
}

async fn website_channel(s: &TestServer, ws: Id, members: &[Id]) -> Id {
    let store = &s.state().store;
    let ch = store
        .create_channel(charla_store::NewChannel {
            workspace_id: ws,
            kind: ChannelKind::Website,
            name: unique("site"),
            secret: unique("secret"),
            webhook_url: None,
            routing_mode: RoutingMode::Manual,
            max_message_length: 2000,
            auto_close_after_secs: None,
            response_time_limit_secs: 900,
            greeting: None,
            settings: "{}".into(),
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    store.set_channel_members(ws, ch.id, members).await.unwrap_or_else(|e| panic!("{e}"));
    ch.id
}

async fn fresh_conv(s: &TestServer, fx: &Fixture, assignee: Option<Id>) -> Conversation {
    let conv = s.inbound(fx.channel.id, &unique("ext"), "Fresh", None, "hola").await.conversation;
    match assignee {
        Some(a) => s.assign(fx.ws, conv.id, fx.admin.id, Some(a)).await,
        None => conv,
    }
}

async fn target(s: &TestServer, fx: &Fixture, t: T) -> Id {
    let store = &s.state().store;
    let ws = fx.ws;
    match t {
        T::None => 0,
        T::User => fx.target_user.id,
        T::Team => fx.team,
        T::TeamFresh => store.create_team(ws, &unique("team"), &[]).await.unwrap_or_else(|e| panic!("{e}")).value.id,
        T::Channel => fx.channel.id,
        T::ChannelFresh => s.channel(ws, &unique("ch"), &fx.agent_ids).await.id,
        T::ChannelHidden => fx.hidden_channel,
        T::Contact => fx.conv.contact_id.unwrap_or_else(|| panic!("contact")),
        T::ContactFresh => fresh_conv(s, fx, Some(fx.admin.id)).await.contact_id.unwrap_or_else(|| panic!("contact")),
        T::Tag => fx.tag,
        T::TagFresh => {
            store.create_tag(ws, &unique("tag"), "#00ff00", false).await.unwrap_or_else(|e| panic!("{e}")).id
        }
        T::ReasonFresh => store.create_close_reason(ws, &unique("reason")).await.unwrap_or_else(|e| panic!("{e}")).id,
        T::Canned => fx.canned,
        T::CannedFresh => {
            store.create_canned_response(ws, None, &unique("c"), "x").await.unwrap_or_else(|e| panic!("{e}")).id
        }
        T::Conv => fx.conv.id,
        T::ConvFresh => fresh_conv(s, fx, Some(fx.admin.id)).await.id,
        T::ConvClosedFresh => {
            let c = fresh_conv(s, fx, Some(fx.admin.id)).await;
            let w = store
                .close(ws, c.id, fx.admin.id, None, charla_server::state::now_ms())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            s.state().publish(w.events).await;
            c.id
        }
        T::ConvOpenFresh => fresh_conv(s, fx, None).await.id,
        T::Group => fx.group.id,
        T::Notification => fx.notification,
        T::Attachment => fx.attachment,
        T::WebsiteFresh => website_channel(s, ws, &[]).await,
        T::WebConv => fx.web_conv,
        T::TemplateFresh => {
            let t = charla_store::TemplateInput {
                name: unique("t").to_lowercase(),
                language: "es".into(),
                category: String::new(),
                body: "Hola".into(),
                status: TemplateStatus::Approved,
                rejection_reason: None,
                provider_id: None,
            };
            store
                .save_template(ws, fx.channel.id, t, charla_server::state::now_ms())
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .id
        }
    }
}

async fn call(s: &TestServer, fx: &Fixture, r: &Row, actor: Option<&User>, token: Option<&str>) -> (u16, Value) {
    let id = target(s, fx, r.target).await;
    let path = r.path.replace("{id}", &id.to_string());
    if r.body == Some("UPLOAD") {
        return s.upload(token, "a.txt", "text/plain", b"hello").await;
    }
    let fresh_contact = match r.body {
        Some(b) if b.contains("FRESHCONTACT") => {
            fresh_conv(s, fx, Some(fx.admin.id)).await.contact_id.unwrap_or_else(|| panic!("contact"))
        }
        _ => 0,
    };
    let body = r.body.map(|b| {
        let text = b
            .replace("FRESHCONTACT", &fresh_contact.to_string())
            .replace("UNIQUE", &unique("u").to_lowercase())
            .replace("ADMINEMAIL", &fx.admin.email)
            .replace("PASSWORD", PASSWORD)
            .replace("TARGETUSER", &fx.target_user.id.to_string())
            .replace("AGENTS", &serde_json::to_string(&fx.agent_ids).unwrap_or_default())
            .replace("SELF", &actor.map(|u| u.id).unwrap_or(0).to_string())
            .replace("TAG", &fx.tag.to_string())
            .replace("WEBATT", &fx.web_attention.to_string())
            .replace("ID", &id.to_string());
        serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("row body {text}: {e}"))
    });
    let method = reqwest::Method::from_bytes(r.method.to_uppercase().as_bytes()).unwrap_or(reqwest::Method::GET);
    s.send(method, token, &path, body).await
}

async fn matrix(s: &TestServer) {
    // Every route of the document has a row, and every row a route.
    let (_, doc) = s.get(None, "/api/v1/openapi.json").await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap_or_else(|| panic!("no paths")) {
        for method in item.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                documented.insert((method, path.clone()));
            }
        }
    }
    let covered: BTreeSet<(String, String)> = ROWS.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    assert!(missing.is_empty(), "routes without a row in the authorization matrix: {missing:?}");
    let unknown: Vec<_> = covered.difference(&documented).collect();
    assert!(unknown.is_empty(), "matrix rows for routes the document does not have: {unknown:?}");

    // The callers.
    let ws = s.workspace("Acme").await;
    let mut users = vec![s.user(ws.id, "Admin", Role::Admin, &[]).await];
    users.push(s.user(ws.id, "Agent", Role::Agent, &[]).await);
    for flag in [Flag::SeeAllConversations, Flag::DeleteConversations, Flag::ManageSettings, Flag::SeeGroupChats] {
        users.push(s.user(ws.id, flag.as_str(), Role::Agent, &[flag]).await);
    }
    let ws2 = s.workspace("Other").await;
    users.push(s.user(ws2.id, "Other admin", Role::Admin, &[]).await);
    // Data of the other workspace, so "404" never means "the other workspace is empty".
    let other_ch = s.channel(ws2.id, "Theirs", &[]).await;
    s.inbound(other_ch.id, "theirs", "Theirs", None, "hola").await;
    let tokens: Vec<String> = users.iter().map(|u| s.token(u)).collect();
    let fx = fixture(s, &users).await;

    let mut failures = Vec::new();
    for r in ROWS {
        for (i, name) in ACTORS.iter().enumerate() {
            let (actor, token) =
                if i < users.len() { (Some(&users[i]), Some(tokens[i].as_str())) } else { (None, None) };
            let (st, body) = call(s, &fx, r, actor, token).await;
            if st != r.want[i] {
                failures.push(format!(
                    "{} {} ({:?}) as {name}: got {st}, want {} — {body}",
                    r.method.to_uppercase(),
                    r.path,
                    r.target,
                    r.want[i]
                ));
            }
            if st == 403 && code(&body) != "forbidden" {
                failures.push(format!("{} {} as {name}: 403 without code forbidden: {body}", r.method, r.path));
            }
            if st == 404 && code(&body) != "not_found" {
                failures.push(format!("{} {} as {name}: 404 without code not_found: {body}", r.method, r.path));
            }
        }
    }
    assert!(failures.is_empty(), "{} authorization mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix_sqlite() {
    let s = TestServer::start().await;
    matrix(&s).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix_postgres() {
    let s = TestServer::start_pg().await;
    matrix(&s).await;
    s.stop().await;
}
