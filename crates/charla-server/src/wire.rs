//! The wire format: what `/api/v1` answers and what WebSocket events carry.
//!
//! Only this module decides how a domain record looks to clients: ids are JSON integers,
//! times RFC 3339 strings in UTC, enumerations their stable snake_case spelling. Secrets and
//! internal columns (storage keys, channel settings, password hashes) never appear unless a
//! shape says so explicitly (`Channel::secret` on creation and rotation only).

use charla_core::model as dom;
use charla_core::{Id, Millis};
use charla_store::{ConversationRow, SectionCounts};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// RFC 3339, UTC, millisecond precision (`2024-05-01T10:00:00.000Z`).
pub fn time(ms: Millis) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn opt_time(ms: Option<Millis>) -> Option<String> {
    ms.map(time)
}

/// Parses an RFC 3339 time (any offset) into Unix milliseconds.
pub fn parse_time(s: &str) -> Option<Millis> {
    chrono::DateTime::parse_from_rfc3339(s.trim()).ok().map(|d| d.timestamp_millis())
}

/// Where an attachment is downloaded from.
pub fn attachment_url(id: Id) -> String {
    format!("/api/v1/attachments/{id}/download")
}

// ---------------------------------------------------------------- users, teams

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Id,
    pub email: String,
    pub name: String,
    /// Name shown to customers; empty = `name`.
    pub display_name: String,
    /// `admin` | `agent`
    #[schema(example = "agent")]
    pub role: String,
    /// `see_all_conversations`, `delete_conversations`, `manage_settings`, `see_group_chats`.
    pub flags: Vec<String>,
    /// `en` | `es` | `ru`
    pub language: String,
    /// `online` | `away` | `offline`
    pub presence: String,
    pub max_concurrent: i64,
    pub active: bool,
    pub last_activity_at: Option<String>,
    pub created_at: String,
}

impl From<&dom::User> for User {
    fn from(u: &dom::User) -> User {
        User {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            display_name: u.display_name.clone(),
            role: u.role.as_str().into(),
            flags: u.flags.to_list().into_iter().map(|f| f.as_str().to_string()).collect(),
            language: u.language.as_str().into(),
            presence: u.presence.as_str().into(),
            max_concurrent: u.max_concurrent,
            active: u.active,
            last_activity_at: opt_time(u.last_activity_at),
            created_at: time(u.created_at),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Team {
    pub id: Id,
    pub name: String,
    pub member_ids: Vec<Id>,
}

impl From<&dom::Team> for Team {
    fn from(t: &dom::Team) -> Team {
        Team { id: t.id, name: t.name.clone(), member_ids: t.member_ids.clone() }
    }
}

// ---------------------------------------------------------------- channels

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Channel {
    pub id: Id,
    /// `website` | `api` | `telegram` | `whatsapp` | `instagram` | `email`
    pub kind: String,
    pub name: String,
    pub webhook_url: Option<String>,
    /// `manual` | `auto`
    pub routing_mode: String,
    pub max_message_length: i64,
    pub auto_close_after_secs: Option<i64>,
    pub response_time_limit_secs: i64,
    pub greeting: Option<String>,
    pub member_ids: Vec<Id>,
    pub active: bool,
    pub created_at: String,
    /// The webhook signing secret: only in the answers of creation and `rotate-secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Where the provider (or the integrator) must send this channel's webhooks: a path on
    /// this server (`/hooks/whatsapp/12`); prefix it with the server's public address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url_to_configure: Option<String>,
    /// WhatsApp: the Cloud API phone number id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_id: Option<String>,
    /// WhatsApp: the business account (WABA) id, used to sync templates; learnt from the
    /// first webhook when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_account_id: Option<String>,
    /// WhatsApp: the number as the provider shows it (after a connection test).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_phone_number: Option<String>,
    /// Instagram: the Facebook page linked to the Instagram account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    /// Telegram: the bot's username (after a connection test).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_username: Option<String>,
    /// Messengers: the provider's API address when it is not the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base_url: Option<String>,
    /// WhatsApp and Instagram: the token to paste in the provider's webhook settings; only
    /// in the answers of creation and `rotate-secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_token: Option<String>,
    /// Website: the line to paste into a page's `<head>` to put the chat on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed_snippet: Option<String>,
    /// Website: a page where the chat opens full-screen (to send by e-mail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_link: Option<String>,
    /// Website: the widget's options and rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<crate::visitor::settings::WebsiteView>,
}

/// A non-secret text field of a channel's settings.
fn setting(settings: &serde_json::Value, key: &str) -> Option<String> {
    settings.get(key).and_then(|v| v.as_str()).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

impl Channel {
    /// The channel without its secrets (every answer but creation and rotation): provider
    /// credentials (`access_token`, `app_secret`, `bot_token`, `secret_token`, `verify_token`)
    /// never appear.
    pub fn public(c: &dom::Channel) -> Channel {
        let settings: serde_json::Value = serde_json::from_str(&c.settings).unwrap_or_default();
        let webhook_url_to_configure = match c.kind {
            dom::ChannelKind::Api
            | dom::ChannelKind::Whatsapp
            | dom::ChannelKind::Telegram
            | dom::ChannelKind::Instagram => Some(format!("/hooks/{}/{}", c.kind.as_str(), c.id)),
            dom::ChannelKind::Website | dom::ChannelKind::Email => None,
        };
        let (embed_snippet, chat_link, website) = crate::visitor::settings::wire_parts(c);
        Channel {
            embed_snippet,
            chat_link,
            website,
            webhook_url_to_configure,
            phone_number_id: setting(&settings, "phone_number_id"),
            business_account_id: setting(&settings, "business_account_id"),
            display_phone_number: setting(&settings, "display_phone_number"),
            page_id: setting(&settings, "page_id"),
            bot_username: setting(&settings, "bot_username"),
            api_base_url: setting(&settings, "api_base_url"),
            verify_token: None,
            id: c.id,
            kind: c.kind.as_str().into(),
            name: c.name.clone(),
            webhook_url: c.webhook_url.clone(),
            routing_mode: c.routing_mode.as_str().into(),
            max_message_length: c.max_message_length,
            auto_close_after_secs: c.auto_close_after_secs,
            response_time_limit_secs: c.response_time_limit_secs,
            greeting: c.greeting.clone(),
            member_ids: c.member_ids.clone(),
            active: c.active,
            created_at: time(c.created_at),
            secret: None,
        }
    }
    /// The channel with its secret (and verify token): creation and rotation only.
    pub fn with_secret(c: &dom::Channel) -> Channel {
        let settings: serde_json::Value = serde_json::from_str(&c.settings).unwrap_or_default();
        Channel {
            secret: Some(c.secret.clone()),
            verify_token: setting(&settings, "verify_token"),
            ..Channel::public(c)
        }
    }
}

// ---------------------------------------------------------------- contacts, tags

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub id: Id,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub telegram_username: Option<String>,
    pub telegram_id: Option<String>,
    pub source: Option<String>,
    /// Free-form JSON object.
    #[schema(value_type = Object)]
    pub custom_attributes: serde_json::Value,
    pub tag_ids: Vec<Id>,
    pub blocked: bool,
    pub created_at: String,
}

impl From<&dom::Contact> for Contact {
    fn from(c: &dom::Contact) -> Contact {
        let custom_attributes = serde_json::from_str::<serde_json::Value>(&c.custom_attributes)
            .ok()
            .filter(|v| v.is_object())
            .unwrap_or_else(|| serde_json::json!({}));
        Contact {
            id: c.id,
            name: c.name.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            avatar_url: c.avatar_url.clone(),
            telegram_username: c.telegram_username.clone(),
            telegram_id: c.telegram_id.clone(),
            source: c.source.clone(),
            custom_attributes,
            tag_ids: c.tag_ids.clone(),
            blocked: c.blocked,
            created_at: time(c.created_at),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tag {
    pub id: Id,
    pub name: String,
    pub color: String,
    /// Shown under the contact's name in the list.
    pub pinned: bool,
}

impl From<&dom::Tag> for Tag {
    fn from(t: &dom::Tag) -> Tag {
        Tag { id: t.id, name: t.name.clone(), color: t.color.clone(), pinned: t.pinned }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CloseReason {
    pub id: Id,
    pub name: String,
}

impl From<&dom::CloseReason> for CloseReason {
    fn from(r: &dom::CloseReason) -> CloseReason {
        CloseReason { id: r.id, name: r.name.clone() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CannedResponse {
    pub id: Id,
    pub shortcut: String,
    pub text: String,
    /// True when it belongs to one user (`owner_id`), false when workspace-wide.
    pub personal: bool,
    pub owner_id: Option<Id>,
}

impl From<&dom::CannedResponse> for CannedResponse {
    fn from(c: &dom::CannedResponse) -> CannedResponse {
        CannedResponse {
            id: c.id,
            shortcut: c.shortcut.clone(),
            text: c.text.clone(),
            personal: c.owner_id.is_some(),
            owner_id: c.owner_id,
        }
    }
}

// ---------------------------------------------------------------- conversations

/// The contact as a conversation shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactCard {
    pub id: Id,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub telegram_username: Option<String>,
    pub tag_ids: Vec<Id>,
    pub blocked: bool,
}

impl From<&dom::Contact> for ContactCard {
    fn from(c: &dom::Contact) -> ContactCard {
        ContactCard {
            id: c.id,
            name: c.name.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            avatar_url: c.avatar_url.clone(),
            telegram_username: c.telegram_username.clone(),
            tag_ids: c.tag_ids.clone(),
            blocked: c.blocked,
        }
    }
}

/// Only the contact's id (realtime summaries; clients look the rest up).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactRef {
    pub id: Id,
}

/// The full card in API answers, only `{id}` in realtime summaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ConversationContact {
    Card(ContactCard),
    Ref(ContactRef),
}

impl ConversationContact {
    pub fn id(&self) -> Id {
        match self {
            ConversationContact::Card(c) => c.id,
            ConversationContact::Ref(r) => r.id,
        }
    }
}

/// The contact identity on the conversation's channel (stays when the contact is detached).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Identity {
    pub id: Id,
    pub external_id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LastMessage {
    pub id: Option<Id>,
    pub preview: String,
    /// `contact` | `user` | `bot` | `system`
    pub author_type: Option<String>,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Conversation {
    pub id: Id,
    /// `open` | `snoozed` | `closed`
    pub status: String,
    pub channel_id: Id,
    pub assignee_id: Option<Id>,
    pub team_id: Option<Id>,
    /// Null once the contact was detached.
    pub contact: Option<ConversationContact>,
    pub identity_id: Id,
    /// Absent in realtime summaries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    pub is_group: bool,
    /// For the requesting user (0 in realtime summaries).
    pub unread_count: i64,
    pub marked_unread: bool,
    pub unanswered: bool,
    pub no_reply_needed: bool,
    pub owned_by_bot: bool,
    pub snoozed_until: Option<String>,
    pub waiting_since: Option<String>,
    /// Processing-order key: when the response-time limit runs out.
    pub due_at: Option<String>,
    pub last_message: Option<LastMessage>,
    pub last_activity_at: String,
    pub created_at: String,
    /// The requesting user's unsent text (null in realtime summaries).
    pub draft: Option<String>,
    /// When the contact last wrote.
    pub last_inbound_at: Option<String>,
    /// WhatsApp and Instagram: when the 24-hour reply window closes (in the past: closed;
    /// WhatsApp then accepts only templates, Instagram nothing). Null on channels without a
    /// window, or when the contact never wrote.
    pub reply_window_expires_at: Option<String>,
    #[serde(skip)]
    last_inbound_ms: Option<Millis>,
}

impl Conversation {
    /// Fills `reply_window_expires_at` for a conversation of a channel of this kind.
    pub fn set_reply_window(&mut self, kind: dom::ChannelKind) {
        self.reply_window_expires_at = opt_time(charla_core::window::expires_at(kind, self.last_inbound_ms));
    }
}

fn last_message(c: &dom::Conversation) -> Option<LastMessage> {
    if c.last_message_id.is_none() && c.last_message_preview.is_none() {
        return None;
    }
    Some(LastMessage {
        id: c.last_message_id,
        preview: c.last_message_preview.clone().unwrap_or_default(),
        author_type: c.last_message_author.map(|a| a.as_str().to_string()),
        at: time(c.last_activity_at),
    })
}

/// A conversation without per-user fields: what realtime events carry.
pub fn conversation_summary(c: &dom::Conversation) -> Conversation {
    Conversation {
        id: c.id,
        status: c.status.as_str().into(),
        channel_id: c.channel_id,
        assignee_id: c.assignee_id,
        team_id: c.team_id,
        contact: c.contact_id.map(|id| ConversationContact::Ref(ContactRef { id })),
        identity_id: c.identity_id,
        identity: None,
        is_group: c.is_group,
        unread_count: 0,
        marked_unread: false,
        unanswered: c.unanswered,
        no_reply_needed: c.no_reply_needed,
        owned_by_bot: c.owned_by_bot,
        snoozed_until: opt_time(c.snoozed_until),
        waiting_since: opt_time(c.waiting_since),
        due_at: opt_time(c.due_at),
        last_message: last_message(c),
        last_activity_at: time(c.last_activity_at),
        created_at: time(c.created_at),
        draft: None,
        last_inbound_at: opt_time(c.last_inbound_at),
        reply_window_expires_at: None,
        last_inbound_ms: c.last_inbound_at,
    }
}

/// A conversation as the requesting user sees it in the list.
pub fn conversation_from_row(row: &ConversationRow) -> Conversation {
    let mut out = conversation_summary(&row.conversation);
    out.contact = match (&row.contact, row.conversation.contact_id) {
        (Some(c), _) => Some(ConversationContact::Card(ContactCard::from(c))),
        (None, Some(id)) => Some(ConversationContact::Ref(ContactRef { id })),
        (None, None) => None,
    };
    out.identity = Some(Identity {
        id: row.identity.id,
        external_id: row.identity.external_id.clone(),
        name: row.identity.name.clone(),
    });
    out.unread_count = row.read.unread_count;
    out.marked_unread = row.read.marked_unread;
    out.draft = row.draft.clone().filter(|d| !d.is_empty());
    out
}

/// Pending counters per inbox section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    pub mine: i64,
    pub unassigned: i64,
    pub all: i64,
    pub teammates: i64,
}

impl From<&SectionCounts> for Counts {
    fn from(c: &SectionCounts) -> Counts {
        Counts { mine: c.mine, unassigned: c.unassigned, all: c.all, teammates: c.teammates }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConversationPage {
    pub items: Vec<Conversation>,
    pub counts: Counts,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

/// One span of work on a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attention {
    pub id: Id,
    pub conversation_id: Id,
    pub status: String,
    pub assignee_id: Option<Id>,
    pub team_id: Option<Id>,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub close_reason: Option<String>,
    pub first_response_at: Option<String>,
    /// The contact's rating: `satisfied` | `neutral` | `dissatisfied`.
    pub rating: Option<String>,
    pub rating_comment: Option<String>,
    /// Kept off the public page.
    pub rating_hidden: bool,
    pub rated_at: Option<String>,
}

impl From<&dom::Attention> for Attention {
    fn from(a: &dom::Attention) -> Attention {
        Attention {
            id: a.id,
            conversation_id: a.conversation_id,
            status: a.status.as_str().into(),
            assignee_id: a.assignee_id,
            team_id: a.team_id,
            opened_at: time(a.opened_at),
            closed_at: opt_time(a.closed_at),
            close_reason: a.close_reason.clone(),
            first_response_at: opt_time(a.first_response_at),
            rating: a.rating.map(|r| r.as_str().to_string()),
            rating_comment: a.rating_comment.clone(),
            rating_hidden: a.rating_hidden,
            rated_at: opt_time(a.rated_at),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReadState {
    pub conversation_id: Id,
    pub unread_count: i64,
    pub marked_unread: bool,
}

impl ReadState {
    pub fn new(conversation_id: Id, r: &dom::ReadState) -> ReadState {
        ReadState { conversation_id, unread_count: r.unread_count, marked_unread: r.marked_unread }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Draft {
    pub conversation_id: Id,
    pub text: String,
    pub updated_at: Option<String>,
}

impl From<&dom::Draft> for Draft {
    fn from(d: &dom::Draft) -> Draft {
        Draft { conversation_id: d.conversation_id, text: d.text.clone(), updated_at: Some(time(d.updated_at)) }
    }
}

// ---------------------------------------------------------------- messages

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    pub id: Id,
    pub name: String,
    /// Sniffed from the bytes on upload.
    pub content_type: String,
    pub size: i64,
    /// `/api/v1/attachments/{id}/download`
    pub url: String,
    pub message_id: Option<Id>,
    pub created_at: String,
}

impl From<&dom::Attachment> for Attachment {
    fn from(a: &dom::Attachment) -> Attachment {
        Attachment {
            id: a.id,
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            url: attachment_url(a.id),
            message_id: a.message_id,
            created_at: time(a.created_at),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Author {
    /// `contact` | `user` | `bot` | `system`
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<Id>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: Id,
    pub conversation_id: Id,
    pub channel_id: Id,
    pub attention_id: Option<Id>,
    /// `inbound` | `outbound` | `note` | `event`
    pub kind: String,
    pub text: String,
    /// `queued` | `sent` | `delivered` | `read` | `failed`
    pub status: String,
    /// Why delivery failed.
    pub error: Option<String>,
    /// The id the channel's provider gave it.
    pub provider_id: Option<String>,
    pub attachments: Vec<Attachment>,
    pub author: Author,
    pub reply_to: Option<Id>,
    pub client_msg_id: Option<String>,
    /// For `event` lines: what happened, so clients can say it in the operator's language —
    /// `{"type": "assigned"|"unassigned"|"transferred"|"reassigned", "from", "to"}`,
    /// `{"type": "closed", "reason"}`, `{"type": "reopened"}`,
    /// `{"type": "snoozed", "until": <Unix ms>}`, `{"type": "snooze_ended"}`,
    /// `{"type": "contact_detached"}`; null for other lines (use `text`).
    #[schema(value_type = Option<Object>)]
    pub event: Option<serde_json::Value>,
    pub created_at: String,
}

impl From<&dom::Message> for Message {
    fn from(m: &dom::Message) -> Message {
        Message {
            id: m.id,
            conversation_id: m.conversation_id,
            channel_id: m.channel_id,
            attention_id: m.attention_id,
            kind: m.kind.as_str().into(),
            text: m.text.clone(),
            status: m.status.as_str().into(),
            error: m.error.clone(),
            provider_id: m.provider_id.clone(),
            attachments: m.attachments.iter().map(Attachment::from).collect(),
            author: Author { kind: m.author.kind.as_str().into(), id: m.author.id, name: m.author.name.clone() },
            reply_to: m.reply_to,
            client_msg_id: m.client_msg_id.clone(),
            event: m.event.as_deref().and_then(|e| serde_json::from_str(e).ok()),
            created_at: time(m.created_at),
        }
    }
}

// ---------------------------------------------------------------- templates, identities

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Template {
    pub id: Id,
    pub channel_id: Id,
    pub name: String,
    /// Language code (`es`, `en_US`).
    pub language: String,
    /// `marketing` | `utility` | `authentication` | empty
    pub category: String,
    /// The text with `{{1}}`, `{{2}}`… placeholders.
    pub body: String,
    /// How many values sending it needs; null when the body has placeholders Charla cannot
    /// fill (named ones).
    pub param_count: Option<usize>,
    /// `approved` | `pending` | `rejected`: only approved templates can be sent.
    pub status: String,
    pub rejection_reason: Option<String>,
    /// True when it comes from the provider (synced), false when made in Charla.
    pub synced: bool,
    pub updated_at: String,
}

impl From<&dom::Template> for Template {
    fn from(t: &dom::Template) -> Template {
        Template {
            id: t.id,
            channel_id: t.channel_id,
            name: t.name.clone(),
            language: t.language.clone(),
            category: t.category.clone(),
            body: t.body.clone(),
            param_count: charla_core::templates::param_count(&t.body).ok(),
            status: t.status.as_str().into(),
            rejection_reason: t.rejection_reason.clone(),
            synced: t.provider_id.is_some(),
            updated_at: time(t.updated_at),
        }
    }
}

/// One identity of a contact on one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ContactIdentity {
    pub id: Id,
    pub channel_id: Id,
    /// `whatsapp` | `telegram` | `instagram` | `api` | …
    pub channel_kind: String,
    pub channel_name: String,
    /// WhatsApp: the wa_id (phone digits); Telegram: the user (or chat) id; Instagram: the
    /// Instagram-scoped id; API: the integrator's id.
    pub external_id: String,
    /// The name the channel gives (WhatsApp profile name, Telegram first and last name).
    pub name: String,
    /// Telegram or Instagram username.
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub conversation_id: Option<Id>,
}

impl From<&charla_store::IdentityDetails> for ContactIdentity {
    fn from(d: &charla_store::IdentityDetails) -> ContactIdentity {
        ContactIdentity {
            id: d.identity.id,
            channel_id: d.identity.channel_id,
            channel_kind: d.channel_kind.as_str().into(),
            channel_name: d.channel_name.clone(),
            external_id: d.identity.external_id.clone(),
            name: d.identity.name.clone(),
            username: d.profile.username.clone(),
            first_name: d.profile.first_name.clone(),
            last_name: d.profile.last_name.clone(),
            phone: d.profile.phone.clone(),
            conversation_id: d.conversation_id,
        }
    }
}

// ---------------------------------------------------------------- notifications

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: Id,
    /// `new_message`, `assigned`, `snooze_reminder`...
    pub kind: String,
    pub conversation_id: Option<Id>,
    pub text: String,
    pub read: bool,
    pub created_at: String,
}

impl From<&dom::Notification> for Notification {
    fn from(n: &dom::Notification) -> Notification {
        Notification {
            id: n.id,
            kind: n.kind.clone(),
            conversation_id: n.conversation_id,
            text: n.text.clone(),
            read: n.read,
            created_at: time(n.created_at),
        }
    }
}

// ---------------------------------------------------------------- realtime

fn convert<D, W>(payload: &serde_json::Value, f: impl Fn(&D) -> W) -> Option<serde_json::Value>
where
    D: serde::de::DeserializeOwned,
    W: Serialize,
{
    let domain = D::deserialize(payload).ok()?;
    serde_json::to_value(f(&domain)).ok()
}

/// The wire JSON of a store event's payload, for WebSocket frames.
///
/// The payload is the serde JSON of the domain record (`Conversation`, `Message`,
/// `Notification`, `User`, `Channel`, `Contact`) or a small object (`{"id"}`,
/// `{"conversation_id", ...}`); records become their wire shape by the kind's prefix, anything
/// else (and anything that does not decode as the expected record) passes through unchanged.
/// A channel never carries its secret here.
pub fn event_data(kind: &str, payload: &serde_json::Value) -> serde_json::Value {
    let prefix = kind.split('.').next().unwrap_or(kind);
    let converted = match (prefix, kind) {
        ("conversation", _) => convert(payload, conversation_summary),
        ("message", _) => convert(payload, |d: &dom::Message| Message::from(d)),
        ("notification", _) => convert(payload, |d: &dom::Notification| Notification::from(d)),
        (_, "presence.updated") | ("user", _) => convert(payload, |d: &dom::User| User::from(d)),
        ("channel", _) => convert(payload, Channel::public),
        ("contact", _) => convert(payload, |d: &dom::Contact| Contact::from(d)),
        _ => None,
    };
    converted.unwrap_or_else(|| payload.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use charla_core::*;

    fn conv() -> dom::Conversation {
        dom::Conversation {
            id: 7,
            workspace_id: 1,
            channel_id: 2,
            identity_id: 3,
            contact_id: Some(4),
            is_group: false,
            status: Status::Open,
            attention_id: Some(5),
            assignee_id: None,
            team_id: None,
            snoozed_until: None,
            unanswered: true,
            no_reply_needed: false,
            waiting_since: Some(1_700_000_000_000),
            due_at: Some(1_700_000_900_000),
            owned_by_bot: false,
            last_message_id: Some(9),
            last_message_preview: Some("hello".into()),
            last_message_author: Some(AuthorType::Contact),
            last_inbound_at: Some(1_700_000_000_000),
            last_activity_at: 1_700_000_000_000,
            created_at: 1_700_000_000_000,
        }
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
        assert_eq!(parse_time("2023-11-14T23:13:20+01:00"), Some(1_700_000_000_000));
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn conversation_event_becomes_summary() {
        let payload = serde_json::to_value(conv()).unwrap_or_default();
        let data = event_data("conversation.updated", &payload);
        assert_eq!(data["id"], 7);
        assert_eq!(data["contact"], serde_json::json!({"id": 4}));
        assert_eq!(data["status"], "open");
        assert_eq!(data["unread_count"], 0);
        assert_eq!(data["last_message"]["preview"], "hello");
        assert_eq!(data["last_message"]["author_type"], "contact");
        assert!(data.get("workspace_id").is_none());
        assert!(data.get("identity").is_none());
    }

    #[test]
    fn channel_event_never_carries_the_secret() {
        let ch = dom::Channel {
            id: 1,
            workspace_id: 1,
            kind: ChannelKind::Api,
            name: "api".into(),
            secret: "s3cret".into(),
            webhook_url: None,
            routing_mode: RoutingMode::Manual,
            max_message_length: 2000,
            auto_close_after_secs: None,
            response_time_limit_secs: 900,
            greeting: None,
            settings: "{}".into(),
            member_ids: vec![2],
            active: true,
            created_at: 0,
        };
        let data = event_data("channel.updated", &serde_json::to_value(&ch).unwrap_or_default());
        assert!(data.get("secret").is_none());
        assert!(data.get("settings").is_none());
        assert_eq!(data["member_ids"], serde_json::json!([2]));
    }

    #[test]
    fn unknown_payloads_pass_through() {
        let p = serde_json::json!({"conversation_id": 3, "ids": [1, 2]});
        assert_eq!(event_data("counts.updated", &p), p);
        assert_eq!(event_data("conversation.deleted", &serde_json::json!({"id": 3})), serde_json::json!({"id": 3}));
    }
}
