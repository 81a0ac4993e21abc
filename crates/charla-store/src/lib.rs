//! Persistence for Charla: one [`Store`] trait, implemented for SQLite (embedded default)
//! and PostgreSQL.
//!
//! Every write method is one transaction: it applies the domain rules of `charla-core`,
//! appends the realtime events it causes to the event log in the same transaction, and
//! returns only once the transaction is durable. Callers publish the returned events.

use async_trait::async_trait;
use charla_core::access::{ConversationAccess, Viewer};
use charla_core::*;
use serde::{Deserialize, Serialize};

pub mod error;
pub mod sql;

pub use error::{StoreError, StoreResult};

/// An entry of the durable event log, what WebSocket clients receive and resume from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log; strictly increasing.
    pub seq: i64,
    pub workspace_id: Id,
    /// `conversation.created`, `conversation.updated`, `conversation.deleted`,
    /// `message.created`, `message.updated`, `notification.created`, `presence.updated`,
    /// `channel.updated`, `user.updated`...
    pub kind: String,
    /// Set for events about a conversation: who may receive it is decided from this.
    pub access: Option<ConversationAccess>,
    /// Set for events meant for one user only (notifications).
    pub user_id: Option<Id>,
    /// The domain record concerned, serialised with serde (a `Conversation`, `Message`,
    /// `Notification`, `User`...). The server converts it to the wire shape.
    pub payload: serde_json::Value,
    pub created_at: Millis,
}

/// What a write returns: its result and the events it appended.
#[derive(Debug, Clone)]
pub struct Written<T> {
    pub value: T,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub workspace_id: Id,
    pub email: String,
    pub name: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub flags: Flags,
    pub language: Language,
}

#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub flags: Option<Flags>,
    pub language: Option<Language>,
    pub max_concurrent: Option<i64>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewChannel {
    pub workspace_id: Id,
    pub kind: ChannelKind,
    pub name: String,
    pub secret: String,
    pub webhook_url: Option<String>,
    pub routing_mode: RoutingMode,
    pub max_message_length: i64,
    pub auto_close_after_secs: Option<i64>,
    pub response_time_limit_secs: i64,
    pub greeting: Option<String>,
    pub settings: String,
}

#[derive(Debug, Clone, Default)]
pub struct ChannelPatch {
    pub name: Option<String>,
    pub webhook_url: Option<Option<String>>,
    pub routing_mode: Option<RoutingMode>,
    pub max_message_length: Option<i64>,
    pub auto_close_after_secs: Option<Option<i64>>,
    pub response_time_limit_secs: Option<i64>,
    pub greeting: Option<Option<String>>,
    pub settings: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct ContactPatch {
    pub name: Option<String>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub telegram_username: Option<Option<String>>,
    pub telegram_id: Option<Option<String>>,
    pub source: Option<Option<String>>,
    pub custom_attributes: Option<String>,
}

/// What a channel tells us about the sender of an inbound message.
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    pub external_id: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub username: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Clone)]
pub struct InboundMessage {
    pub channel_id: Id,
    /// The provider's message id; a second delivery with the same id is a duplicate.
    pub provider_message_id: String,
    pub contact: ContactInput,
    pub text: String,
    /// Attachments already stored (see [`Store::create_attachment`]).
    pub attachment_ids: Vec<Id>,
    pub is_group: bool,
}

/// What a messenger tells about an inbound message beyond [`InboundMessage`].
#[derive(Debug, Clone, Default)]
pub struct InboundExtra {
    /// Who wrote it when that is not the identity itself (a member of a group chat).
    pub author_name: Option<String>,
    /// The provider's id of the message it quotes; it becomes `reply_to` when that message is
    /// in the same conversation.
    pub reply_to_provider_id: Option<String>,
    /// The identity's profile as the provider gives it (replaces the stored one).
    pub profile: Option<IdentityProfile>,
}

/// An identity's profile on its channel: WhatsApp profile name and number, Telegram username
/// and first/last name, Instagram username.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityProfile {
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// E.164.
    pub phone: Option<String>,
}

/// One identity of a contact, with its channel and profile (the contact card lists them).
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityDetails {
    pub identity: ContactIdentity,
    pub channel_kind: ChannelKind,
    pub channel_name: String,
    pub profile: IdentityProfile,
    /// The conversation of this identity, when there is one.
    pub conversation_id: Option<Id>,
}

/// Something a provider reports that is not a message (a reaction, an edit, a deleted or
/// unsupported message): it becomes an `event` line in the identity's conversation.
#[derive(Debug, Clone)]
pub struct InboundEvent {
    pub channel_id: Id,
    /// Deduplication key of the event on the channel; a second delivery writes nothing.
    pub provider_event_id: String,
    /// The identity (sender, or group chat) whose conversation gets the line.
    pub external_id: String,
    pub text: String,
    /// The provider's id of the message the event is about; it becomes the line's `reply_to`.
    pub about_provider_id: Option<String>,
}

/// A template as a provider lists it, or as an admin writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateInput {
    pub name: String,
    pub language: String,
    pub category: String,
    pub body: String,
    pub status: TemplateStatus,
    pub rejection_reason: Option<String>,
    pub provider_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Ingested {
    pub message: Message,
    pub conversation: Conversation,
    /// True when the provider id was seen before: nothing was written.
    pub duplicate: bool,
}

#[derive(Debug, Clone)]
pub struct NewOutgoing {
    pub conversation_id: Id,
    pub author: Author,
    /// Outbound or Note.
    pub kind: MessageKind,
    pub text: String,
    pub reply_to: Option<Id>,
    /// Idempotency key: the same (conversation, client_msg_id) returns the first message.
    pub client_msg_id: Option<String>,
    pub attachment_ids: Vec<Id>,
    /// Sent from a template: `text` is its filled body (at most
    /// [`charla_core::limits::TEMPLATE_MAX`] characters), and the channel's reply window does
    /// not apply where the provider allows templates outside it.
    pub template: Option<TemplateRef>,
}

/// A conversation list request (DESIGN §2 Inbox). All filters combine with AND.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub section: Section,
    pub status: Option<Status>,
    pub assignee_id: Option<Id>,
    pub team_id: Option<Id>,
    pub channel_id: Option<Id>,
    pub tag: TagFilter,
    pub last_author: Option<AuthorType>,
    pub owned_by_bot: Option<bool>,
    pub unanswered: Option<bool>,
    pub contact_id: Option<Id>,
    /// last_activity_at within [from, to).
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    pub search: Option<charla_core::search::SearchTerm>,
    pub sort: Sort,
    /// Opaque position returned as `next_cursor` by the previous page.
    pub cursor: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Section {
    /// Assigned to the viewer.
    Mine,
    /// Nobody assigned.
    Unassigned,
    /// Everything the viewer may see.
    #[default]
    All,
    /// Assigned to someone else.
    Teammates,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TagFilter {
    #[default]
    Any,
    /// The contact has all of these tags.
    All(Vec<Id>),
    /// The contact has no tags.
    None,
    /// The contact has at least one pinned tag.
    PinnedOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Unanswered first, earliest due first (closest to / furthest past the response-time
    /// limit), then answered ones by last activity.
    #[default]
    ProcessingOrder,
    LastActivity,
}

/// Pending counters per section: attentions waiting for an answer (open and unanswered),
/// over what the viewer may see and the same filters minus the section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionCounts {
    pub mine: i64,
    pub unassigned: i64,
    pub all: i64,
    pub teammates: i64,
}

#[derive(Debug, Clone)]
pub struct ConversationRow {
    pub conversation: Conversation,
    pub contact: Option<Contact>,
    pub identity: ContactIdentity,
    /// For the viewer.
    pub read: ReadState,
    pub draft: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ConversationPage {
    pub items: Vec<ConversationRow>,
    pub counts: SectionCounts,
    pub next_cursor: Option<String>,
}

/// A due piece of timed work, claimed by one node.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: Id,
    pub kind: JobKind,
    /// The object it concerns (an attention for auto-close/snooze, a message for delivery).
    pub target_id: Id,
    pub run_at: Millis,
    pub attempts: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    AutoClose,
    SnoozeWake,
    Deliver,
}

/// What the server needs to deliver one outbound message.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub message: Message,
    pub channel: Channel,
    pub identity: ContactIdentity,
    pub conversation: Conversation,
    /// The template the message was sent from.
    pub template: Option<TemplateRef>,
    /// The provider's id of the quoted message (`reply_to`), when it has one.
    pub reply_to_provider_id: Option<String>,
}

#[derive(Debug, Clone)]
pub enum DeliveryOutcome {
    /// Accepted by the provider: status `sent`.
    Sent { provider_id: Option<String> },
    /// Try again at this time (attempt count is incremented).
    Retry { at: Millis, error: String },
    /// Give up: status `failed` with this reason.
    Failed { error: String },
    /// Not attempted (a send limit is reached): try at this time; not counted as an attempt.
    Defer { at: Millis },
}

/// A contact as its conversations' list shows it, with tag ids.
#[derive(Debug, Clone, Default)]
pub struct ContactQuery {
    pub search: Option<charla_core::search::SearchTerm>,
    pub after_id: Option<Id>,
    pub limit: i64,
}

/// One operator's figures over a report period: the attentions assigned to them that were
/// opened in it (see [`Store::operator_report`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperatorStats {
    pub user_id: Id,
    /// Attentions handled: assigned to the operator, opened in the period.
    pub attentions: i64,
    /// Of those, how many got a first response.
    pub responded: i64,
    /// First-response time (`first_response_at - opened_at`) over the responded ones.
    pub first_response_median_ms: Option<i64>,
    pub first_response_avg_ms: Option<i64>,
    /// Rated attentions, by rating (hidden ratings count: hiding is for the public page).
    pub satisfied: i64,
    pub neutral: i64,
    pub dissatisfied: i64,
}

/// Longest rating comment kept.
pub const RATING_COMMENT_MAX_CHARS: usize = 2000;

/// How many page views of a visitor are kept (the newest).
pub const PAGE_VIEWS_KEPT: i64 = 15;

/// A visitor of a website channel, known from their first page view on (before they write).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebsiteVisitor {
    pub id: Id,
    pub workspace_id: Id,
    pub channel_id: Id,
    /// Their identity's external id on the channel once they write; what their signed token
    /// names.
    pub external_id: String,
    /// ISO 3166-1 alpha-2, from GeoIP.
    pub country: Option<String>,
    /// The e-mail the visitor left.
    pub email: Option<String>,
    pub created_at: Millis,
    pub last_seen_at: Millis,
}

/// A page a visitor viewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageView {
    pub url: String,
    pub title: String,
    pub viewed_at: Millis,
}

/// A visitor with their last page views (newest first) and their conversation, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitorDetails {
    pub visitor: WebsiteVisitor,
    pub page_views: Vec<PageView>,
    pub conversation: Option<Conversation>,
}

/// Who could take a new chat of a website channel now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelAvailability {
    /// Active members whose effective presence is online.
    pub online: i64,
    /// Of those, how many have room for one more open attention (`max_concurrent`).
    pub with_capacity: i64,
}

/// Ratings counted by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RatingCounts {
    pub satisfied: i64,
    pub neutral: i64,
    pub dissatisfied: i64,
}

impl RatingCounts {
    pub fn total(&self) -> i64 {
        self.satisfied + self.neutral + self.dissatisfied
    }
    pub fn add(&mut self, r: Rating) {
        match r {
            Rating::Satisfied => self.satisfied += 1,
            Rating::Neutral => self.neutral += 1,
            Rating::Dissatisfied => self.dissatisfied += 1,
        }
    }
}

/// One operator's ratings on a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRatings {
    pub user_id: Id,
    /// The name shown to customers.
    pub name: String,
    pub counts: RatingCounts,
}

/// What a channel's public ratings page shows: ratings not hidden, never their comments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RatingsSummary {
    pub counts: RatingCounts,
    /// By operator (the attention's assignee), most rated first.
    pub operators: Vec<OperatorRatings>,
    /// The latest ratings, newest first.
    pub last: Vec<(Rating, Millis)>,
}

/// The persistence interface. Implementations: [`sql::SqliteStore`], [`sql::PgStore`].
///
/// Conventions: every method is scoped by `workspace_id` where the object belongs to one, and
/// answers `StoreError::NotFound` for an object of another workspace. Permission checks are
/// the caller's (via `charla_core::access`), except list queries, which take the [`Viewer`]
/// and return only what it may see.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Applies pending migrations. Idempotent.
    async fn migrate(&self) -> StoreResult<()>;
    /// Cheap readiness check.
    async fn ping(&self) -> StoreResult<()>;
    /// A server-wide random secret (created on first call), for signing session tokens.
    async fn server_secret(&self) -> StoreResult<Vec<u8>>;
    /// Flushes and closes connections (the SQLite writer commits what it holds).
    async fn shutdown(&self);

    /// A server-wide setting (shared by all nodes), e.g. a workspace's embed secret.
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` for `key`, replacing any previous value.
    async fn put_setting(&self, key: &str, value: &str) -> StoreResult<()>;

    // --- workspaces and users
    async fn create_workspace(&self, name: &str) -> StoreResult<Workspace>;
    async fn first_workspace(&self) -> StoreResult<Option<Workspace>>;
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;
    async fn get_user(&self, workspace_id: Id, id: Id) -> StoreResult<User>;
    /// For login: the user (any workspace) and their password hash.
    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<(User, String)>>;
    async fn list_users(&self, workspace_id: Id) -> StoreResult<Vec<User>>;
    async fn update_user(&self, workspace_id: Id, id: Id, patch: UserPatch) -> StoreResult<Written<User>>;
    /// The viewer record of a user: role, flags, channel and team memberships.
    async fn viewer(&self, workspace_id: Id, user_id: Id) -> StoreResult<Viewer>;
    /// An active user of the workspace and their viewer record, read together (what an
    /// authenticated request needs first); NotFound for a missing or inactive user.
    async fn session_user(&self, workspace_id: Id, user_id: Id) -> StoreResult<(User, Viewer)>;
    /// Records activity and the presence the user chose; emits `presence.updated` when the
    /// effective presence changes.
    async fn touch_presence(&self, user_id: Id, presence: Option<Presence>, now: Millis) -> StoreResult<Written<User>>;
    /// Users whose last activity is older than 30 minutes become offline (events emitted).
    async fn sweep_presence(&self, now: Millis) -> StoreResult<Vec<Event>>;

    // --- teams
    /// Team writes emit `team.updated` (payload Team) / `team.deleted` ({"id"}).
    async fn create_team(&self, workspace_id: Id, name: &str, member_ids: &[Id]) -> StoreResult<Written<Team>>;
    async fn list_teams(&self, workspace_id: Id) -> StoreResult<Vec<Team>>;
    async fn get_team(&self, workspace_id: Id, id: Id) -> StoreResult<Team>;
    async fn update_team(
        &self,
        workspace_id: Id,
        id: Id,
        name: Option<&str>,
        member_ids: Option<&[Id]>,
    ) -> StoreResult<Written<Team>>;
    async fn delete_team(&self, workspace_id: Id, id: Id) -> StoreResult<Written<()>>;

    // --- channels
    async fn create_channel(&self, channel: NewChannel) -> StoreResult<Channel>;
    async fn get_channel(&self, workspace_id: Id, id: Id) -> StoreResult<Channel>;
    /// For inbound webhooks, which name only the channel.
    async fn get_channel_by_id(&self, id: Id) -> StoreResult<Channel>;
    async fn list_channels(&self, workspace_id: Id) -> StoreResult<Vec<Channel>>;
    async fn update_channel(&self, workspace_id: Id, id: Id, patch: ChannelPatch) -> StoreResult<Written<Channel>>;
    async fn set_channel_secret(&self, workspace_id: Id, id: Id, secret: &str) -> StoreResult<Channel>;
    /// Replaces the member list (ids of users of the same workspace, else `Invalid`).
    async fn set_channel_members(&self, workspace_id: Id, id: Id, user_ids: &[Id]) -> StoreResult<Written<Channel>>;
    async fn delete_channel(&self, workspace_id: Id, id: Id) -> StoreResult<()>;

    // --- contacts and tags
    async fn get_contact(&self, workspace_id: Id, id: Id) -> StoreResult<Contact>;
    async fn list_contacts(&self, workspace_id: Id, query: ContactQuery) -> StoreResult<Vec<Contact>>;
    async fn create_contact(&self, workspace_id: Id, name: &str, patch: ContactPatch) -> StoreResult<Contact>;
    async fn update_contact(&self, workspace_id: Id, id: Id, patch: ContactPatch) -> StoreResult<Written<Contact>>;
    async fn set_contact_blocked(&self, workspace_id: Id, id: Id, blocked: bool) -> StoreResult<Written<Contact>>;
    async fn set_contact_tags(&self, workspace_id: Id, id: Id, tag_ids: &[Id]) -> StoreResult<Written<Contact>>;
    /// Conversations of a contact (all of its identities), newest activity first.
    async fn contact_conversations(&self, workspace_id: Id, contact_id: Id) -> StoreResult<Vec<Conversation>>;
    async fn create_tag(&self, workspace_id: Id, name: &str, color: &str, pinned: bool) -> StoreResult<Tag>;
    async fn list_tags(&self, workspace_id: Id) -> StoreResult<Vec<Tag>>;
    async fn update_tag(
        &self,
        workspace_id: Id,
        id: Id,
        name: Option<&str>,
        color: Option<&str>,
        pinned: Option<bool>,
    ) -> StoreResult<Tag>;
    async fn delete_tag(&self, workspace_id: Id, id: Id) -> StoreResult<()>;

    // --- close reasons and canned responses
    async fn create_close_reason(&self, workspace_id: Id, name: &str) -> StoreResult<CloseReason>;
    async fn list_close_reasons(&self, workspace_id: Id) -> StoreResult<Vec<CloseReason>>;
    async fn delete_close_reason(&self, workspace_id: Id, id: Id) -> StoreResult<()>;
    async fn create_canned_response(
        &self,
        workspace_id: Id,
        owner_id: Option<Id>,
        shortcut: &str,
        text: &str,
    ) -> StoreResult<CannedResponse>;
    /// Workspace-wide ones and the user's personal ones.
    async fn list_canned_responses(&self, workspace_id: Id, user_id: Id) -> StoreResult<Vec<CannedResponse>>;
    async fn get_canned_response(&self, workspace_id: Id, id: Id) -> StoreResult<CannedResponse>;
    async fn update_canned_response(
        &self,
        workspace_id: Id,
        id: Id,
        shortcut: Option<&str>,
        text: Option<&str>,
    ) -> StoreResult<CannedResponse>;
    async fn delete_canned_response(&self, workspace_id: Id, id: Id) -> StoreResult<()>;

    // --- conversations
    async fn list_conversations(&self, viewer: &Viewer, filter: ConversationFilter) -> StoreResult<ConversationPage>;
    /// The counters of `list_conversations` without a filter (pending conversations the viewer
    /// may see, per section), without reading a page.
    async fn pending_counts(&self, viewer: &Viewer) -> StoreResult<SectionCounts>;
    async fn get_conversation(&self, workspace_id: Id, id: Id) -> StoreResult<Conversation>;
    /// The list row of one conversation for a user (contact, read state, draft).
    async fn conversation_row(&self, user_id: Id, conversation: Conversation) -> StoreResult<ConversationRow>;
    async fn list_attentions(&self, workspace_id: Id, conversation_id: Id) -> StoreResult<Vec<Attention>>;
    /// Per-operator figures over the attentions opened in `[from, to)`, ordered by user id;
    /// operators without attentions in the period are absent.
    async fn operator_report(&self, workspace_id: Id, from: Millis, to: Millis) -> StoreResult<Vec<OperatorStats>>;
    /// The contact's rating of an attention (rating again replaces it); the comment is trimmed
    /// (blank: none) and at most [`RATING_COMMENT_MAX_CHARS`] characters, else `Invalid`.
    async fn rate_attention(
        &self,
        workspace_id: Id,
        attention_id: Id,
        rating: Rating,
        comment: Option<String>,
        hidden: bool,
        now: Millis,
    ) -> StoreResult<Attention>;
    /// An inbound message: dedup by provider id; finds or creates the identity, contact and
    /// conversation; opens or wakes the attention (routing it in `auto` channels); a blocked
    /// contact's message is kept hidden and causes no events. Emits conversation/message
    /// events and `new_message` notifications.
    async fn ingest_inbound(&self, msg: InboundMessage, now: Millis) -> StoreResult<Written<Ingested>>;
    /// An operator's outbound message or note. Outbound messages get status `queued` and a
    /// delivery job (the outbox). Idempotent on `client_msg_id`.
    async fn send_message(&self, workspace_id: Id, msg: NewOutgoing, now: Millis) -> StoreResult<Written<Message>>;
    /// History, newest first, before `before_id` when given.
    async fn list_messages(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        before_id: Option<Id>,
        limit: i64,
    ) -> StoreResult<Vec<Message>>;
    async fn get_message(&self, workspace_id: Id, id: Id) -> StoreResult<Message>;
    /// A delivery receipt from the provider; never moves the status backwards.
    async fn update_message_status(
        &self,
        channel_id: Id,
        message_id: Id,
        status: MessageStatus,
        error: Option<String>,
        now: Millis,
    ) -> StoreResult<Written<Message>>;
    async fn assign(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        actor: Id,
        user_id: Option<Id>,
        team_id: Option<Id>,
        now: Millis,
    ) -> StoreResult<Written<Conversation>>;
    async fn close(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        actor: Id,
        reason: Option<String>,
        now: Millis,
    ) -> StoreResult<Written<Conversation>>;
    async fn reopen(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        actor: Id,
        now: Millis,
    ) -> StoreResult<Written<Conversation>>;
    /// Schedules a wake-up job at `until`.
    async fn snooze(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        actor: Id,
        until: Millis,
        now: Millis,
    ) -> StoreResult<Written<Conversation>>;
    async fn no_reply_needed(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        actor: Id,
        now: Millis,
    ) -> StoreResult<Written<Conversation>>;
    /// Read up to the latest message (clears the unread mark).
    async fn mark_read(
        &self,
        workspace_id: Id,
        user_id: Id,
        conversation_id: Id,
        now: Millis,
    ) -> StoreResult<Written<ReadState>>;
    async fn mark_unread(
        &self,
        workspace_id: Id,
        user_id: Id,
        conversation_id: Id,
        now: Millis,
    ) -> StoreResult<Written<ReadState>>;
    /// Number of conversations with unread messages for the user, among those they see.
    async fn unread_conversations(&self, viewer: &Viewer) -> StoreResult<i64>;
    async fn detach_contact(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        actor: Id,
        now: Millis,
    ) -> StoreResult<Written<Conversation>>;
    /// Deletes conversations with their messages; returns the storage keys of their files.
    async fn delete_conversations(
        &self,
        workspace_id: Id,
        ids: &[Id],
        now: Millis,
    ) -> StoreResult<Written<Vec<String>>>;
    async fn put_draft(
        &self,
        workspace_id: Id,
        user_id: Id,
        conversation_id: Id,
        text: &str,
        now: Millis,
    ) -> StoreResult<Draft>;
    async fn get_draft(&self, workspace_id: Id, user_id: Id, conversation_id: Id) -> StoreResult<Option<Draft>>;

    /// Messages of a blocked contact that were kept hidden (newest first), for admins.
    async fn list_hidden_messages(&self, workspace_id: Id, contact_id: Id, limit: i64) -> StoreResult<Vec<Message>>;
    /// Removes hidden messages older than `before` (kept 30 days); returns their files'
    /// storage keys.
    async fn purge_hidden_messages(&self, before: Millis) -> StoreResult<Vec<String>>;

    // --- attachments
    async fn create_attachment(
        &self,
        workspace_id: Id,
        name: &str,
        content_type: &str,
        size: i64,
        storage_key: &str,
        now: Millis,
    ) -> StoreResult<Attachment>;
    async fn get_attachment(&self, workspace_id: Id, id: Id) -> StoreResult<Attachment>;

    // --- notifications
    async fn list_notifications(
        &self,
        workspace_id: Id,
        user_id: Id,
        unread_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<Notification>>;
    async fn mark_notification_read(&self, workspace_id: Id, user_id: Id, id: Id) -> StoreResult<()>;

    // --- event log
    /// Events after `seq` in the workspace, oldest first.
    async fn events_since(&self, workspace_id: Id, seq: i64, limit: i64) -> StoreResult<Vec<Event>>;
    async fn last_event_seq(&self) -> StoreResult<i64>;

    // --- jobs (auto-close, snooze wake-up, outbound delivery)
    /// Claims due jobs for `lease_ms`; a job is claimed by one node at a time.
    async fn claim_jobs(&self, now: Millis, lease_ms: i64, limit: i64) -> StoreResult<Vec<Job>>;
    /// The earliest run_at of any job, to sleep until then.
    async fn next_job_at(&self) -> StoreResult<Option<Millis>>;
    /// Runs an auto-close or snooze-wake job: the effect and the job's removal in one
    /// transaction, so it happens exactly once. A stale job (the attention moved on) is just
    /// removed.
    async fn run_timer_job(&self, job: &Job, now: Millis) -> StoreResult<Written<()>>;
    /// What a delivery job needs; `NotFound` when the message is gone (job removed).
    async fn delivery(&self, job: &Job) -> StoreResult<Delivery>;
    /// Records a delivery attempt's outcome and removes or reschedules the job. A provider id
    /// given with `Sent` is also recorded for receipts; receipts that arrived for it earlier
    /// are applied.
    async fn finish_delivery(&self, job: &Job, outcome: DeliveryOutcome, now: Millis) -> StoreResult<Written<Message>>;

    // --- messenger channels
    /// [`Store::ingest_inbound`] with what a messenger adds: the author in a group chat, the
    /// quoted message, the identity's profile (a Telegram private chat also fills the
    /// contact's Telegram id and username when empty).
    async fn ingest_inbound_with(
        &self,
        msg: InboundMessage,
        extra: InboundExtra,
        now: Millis,
    ) -> StoreResult<Written<Ingested>>;
    /// An event line in the conversation of (channel, external id); deduplicated on
    /// `provider_event_id` (a duplicate answers the first line, without events). None when
    /// that identity has no conversation yet: nothing is written (the caller stores it as a
    /// message instead, so nothing is lost).
    async fn ingest_event(&self, event: InboundEvent, now: Millis) -> StoreResult<Written<Option<Message>>>;
    /// The message of the channel the provider knows by this id (inbound, or any id recorded
    /// for an outbound message).
    async fn find_by_provider_id(&self, channel_id: Id, provider_id: &str) -> StoreResult<Option<Message>>;
    /// A receipt naming the provider's id of an outbound message; never moves a status
    /// backwards. None when no message has that id yet: the receipt is kept and applied when
    /// the send is recorded (receipts can overtake the send's answer).
    async fn update_status_by_provider_id(
        &self,
        channel_id: Id,
        provider_id: &str,
        status: MessageStatus,
        error: Option<String>,
        now: Millis,
    ) -> StoreResult<Written<Option<Message>>>;
    /// Records more provider ids of an outbound message (one per part sent).
    async fn add_provider_ids(&self, channel_id: Id, message_id: Id, provider_ids: &[String]) -> StoreResult<()>;
    /// The identities of a contact, with channel and profile.
    async fn contact_identities(&self, workspace_id: Id, contact_id: Id) -> StoreResult<Vec<IdentityDetails>>;
    /// Moves every identity and conversation of `from_id` to `into_id`, which keeps its fields
    /// and takes the other's where its own are empty, the union of tags, and `blocked` if
    /// either was; `from_id` is deleted. Emits `contact.updated`, `contact.deleted` and
    /// `conversation.updated` for each moved conversation.
    async fn merge_contacts(
        &self,
        workspace_id: Id,
        into_id: Id,
        from_id: Id,
        now: Millis,
    ) -> StoreResult<Written<Contact>>;
    /// Templates of a channel by name and language.
    async fn list_templates(&self, workspace_id: Id, channel_id: Id) -> StoreResult<Vec<Template>>;
    async fn get_template(&self, workspace_id: Id, id: Id) -> StoreResult<Template>;
    /// Replaces the channel's provider templates with this list (by name and language):
    /// new ones are added, known ones updated, provider templates no longer listed removed.
    async fn sync_templates(
        &self,
        workspace_id: Id,
        channel_id: Id,
        templates: Vec<TemplateInput>,
        now: Millis,
    ) -> StoreResult<Vec<Template>>;
    /// Adds or replaces one template (same channel, name and language).
    async fn save_template(
        &self,
        workspace_id: Id,
        channel_id: Id,
        template: TemplateInput,
        now: Millis,
    ) -> StoreResult<Template>;
    async fn delete_template(&self, workspace_id: Id, id: Id) -> StoreResult<()>;

    // --- website channel (live chat widget)
    /// Records that a visitor of a website channel is on a page: creates the visitor when
    /// new, updates country and last-seen time, appends the page view (keeping the newest
    /// [`PAGE_VIEWS_KEPT`]). `NotFound` for an unknown or inactive channel.
    async fn record_visit(
        &self,
        channel_id: Id,
        external_id: &str,
        country: Option<String>,
        page: Option<PageView>,
        now: Millis,
    ) -> StoreResult<WebsiteVisitor>;
    /// A visitor with their page views and conversation; None when unknown.
    async fn website_visitor(&self, channel_id: Id, external_id: &str) -> StoreResult<Option<VisitorDetails>>;
    /// The visitor behind a conversation of a website channel; None for other conversations.
    async fn conversation_visitor(&self, workspace_id: Id, conversation_id: Id) -> StoreResult<Option<VisitorDetails>>;
    /// Keeps the e-mail a visitor left (None clears it).
    async fn set_visitor_email(
        &self,
        channel_id: Id,
        external_id: &str,
        email: Option<String>,
        now: Millis,
    ) -> StoreResult<WebsiteVisitor>;
    /// What a contact sees of their conversation: inbound and outbound messages (never notes,
    /// event lines or hidden messages), oldest first; after `after_id` (the first `limit`
    /// ones) or else the `limit` newest before `before_id`.
    async fn contact_messages(
        &self,
        conversation_id: Id,
        after_id: Option<Id>,
        before_id: Option<Id>,
        limit: i64,
    ) -> StoreResult<Vec<Message>>;
    /// The contact's receipt for the outbound messages of their conversation up to `up_to_id`
    /// (`delivered` or `read`): statuses never move backwards; emits `message.updated` for
    /// each message changed (at most 500 a call).
    async fn contact_receipt(
        &self,
        conversation_id: Id,
        up_to_id: Id,
        status: MessageStatus,
        now: Millis,
    ) -> StoreResult<Written<Vec<Message>>>;
    /// The contact ended the chat: an event line says so and the current attention closes.
    /// `Invalid("already_closed")` when it is not open or snoozed.
    async fn contact_ended(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        text: &str,
        now: Millis,
    ) -> StoreResult<Written<Conversation>>;
    /// A system `event` line in a conversation (the visitor left an e-mail, rated the chat…).
    async fn add_event_line(
        &self,
        workspace_id: Id,
        conversation_id: Id,
        text: &str,
        now: Millis,
    ) -> StoreResult<Written<Message>>;
    /// Keeps a rating off (or puts it back on) the channel's public ratings page.
    async fn set_rating_hidden(&self, workspace_id: Id, attention_id: Id, hidden: bool) -> StoreResult<Attention>;
    /// Adds (`join`) or removes the user from the channel's members; emits `channel.updated`
    /// when that changes something.
    async fn join_channel(
        &self,
        workspace_id: Id,
        channel_id: Id,
        user_id: Id,
        join: bool,
        now: Millis,
    ) -> StoreResult<Written<Channel>>;
    /// Members who could take a new chat now (online, with capacity).
    async fn channel_availability(&self, channel_id: Id, now: Millis) -> StoreResult<ChannelAvailability>;
    /// The channel's ratings that are not hidden, for its public page.
    async fn channel_ratings(&self, workspace_id: Id, channel_id: Id, last: i64) -> StoreResult<RatingsSummary>;
}
