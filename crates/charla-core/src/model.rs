//! The domain's records and enumerations, as plain data.
//!
//! `as_str`/`parse` give the stable spelling used in storage and on the wire.

use crate::{Id, Millis};
use serde::{Deserialize, Serialize};

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $s),+ } }
            pub fn parse(s: &str) -> Option<Self> { match s { $($s => Some($name::$variant),)+ _ => None } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

str_enum!(Role { Admin = "admin", Agent = "agent" });
str_enum!(
    /// Extra rights an agent can be given.
    Flag {
        SeeAllConversations = "see_all_conversations",
        DeleteConversations = "delete_conversations",
        ManageSettings = "manage_settings",
        SeeGroupChats = "see_group_chats",
    }
);
str_enum!(Presence { Online = "online", Away = "away", Offline = "offline" });
str_enum!(Language { En = "en", Es = "es", Ru = "ru" });
str_enum!(ChannelKind {
    Website = "website",
    Api = "api",
    Telegram = "telegram",
    Whatsapp = "whatsapp",
    Instagram = "instagram",
    Email = "email",
});
str_enum!(RoutingMode { Manual = "manual", Auto = "auto" });
str_enum!(
    /// Status of an attention; a conversation shows the status of its latest attention.
    Status { Open = "open", Snoozed = "snoozed", Closed = "closed" }
);
str_enum!(MessageKind { Inbound = "inbound", Outbound = "outbound", Note = "note", Event = "event" });
str_enum!(MessageStatus {
    Queued = "queued",
    Sent = "sent",
    Delivered = "delivered",
    Read = "read",
    Failed = "failed",
});
str_enum!(AuthorType { Contact = "contact", User = "user", Bot = "bot", System = "system" });
str_enum!(
    /// A contact's rating of an attention.
    Rating { Satisfied = "satisfied", Neutral = "neutral", Dissatisfied = "dissatisfied" }
);
str_enum!(
    /// A template's review at the provider: only approved templates can be sent.
    TemplateStatus { Approved = "approved", Pending = "pending", Rejected = "rejected" }
);

impl Flag {
    pub fn bit(self) -> i64 {
        1 << (self as i64)
    }
}

/// A set of [`Flag`]s, stored as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Flags(pub i64);

impl Flags {
    pub fn has(self, f: Flag) -> bool {
        self.0 & f.bit() != 0
    }
    pub fn from_list(list: &[Flag]) -> Self {
        Flags(list.iter().fold(0, |acc, f| acc | f.bit()))
    }
    pub fn to_list(self) -> Vec<Flag> {
        Flag::ALL.iter().copied().filter(|f| self.has(*f)).collect()
    }
}

impl MessageStatus {
    /// Position in the delivery order; `failed` is terminal like `read`.
    pub fn rank(self) -> u8 {
        match self {
            MessageStatus::Queued => 0,
            MessageStatus::Sent => 1,
            MessageStatus::Delivered => 2,
            MessageStatus::Read => 3,
            MessageStatus::Failed => 4,
        }
    }

    /// Whether a receipt saying `next` may replace `self`. Statuses never move backwards: a
    /// late `delivered` after `read` is ignored, and a `failed` message stays failed unless a
    /// later receipt proves it arrived (delivered/read).
    pub fn may_become(self, next: MessageStatus) -> bool {
        match (self, next) {
            (a, b) if a == b => false,
            (MessageStatus::Failed, MessageStatus::Delivered | MessageStatus::Read) => true,
            (MessageStatus::Failed, _) => false,
            (MessageStatus::Read, _) => false,
            (_, MessageStatus::Failed) => true,
            (a, b) => b.rank() > a.rank(),
        }
    }
}

impl ChannelKind {
    /// The default maximum message length of DESIGN §2, in characters.
    pub fn default_max_message_length(self) -> i64 {
        match self {
            ChannelKind::Website | ChannelKind::Api => 2000,
            ChannelKind::Whatsapp | ChannelKind::Telegram => 4096,
            ChannelKind::Instagram => 1000,
            ChannelKind::Email => 100_000,
        }
    }
    /// Whether whitespace is left out when counting a message's length on this channel.
    pub fn length_ignores_spaces(self) -> bool {
        matches!(self, ChannelKind::Website | ChannelKind::Api)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    pub id: Id,
    pub name: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: Id,
    pub workspace_id: Id,
    pub email: String,
    pub name: String,
    /// Name shown to customers ("online chat name"); falls back to `name` when empty.
    pub display_name: String,
    pub role: Role,
    pub flags: Flags,
    pub language: Language,
    pub presence: Presence,
    pub last_activity_at: Option<Millis>,
    /// Maximum concurrent open attentions routing gives this user.
    pub max_concurrent: i64,
    pub active: bool,
    pub created_at: Millis,
}

impl User {
    pub fn shown_name(&self) -> &str {
        if self.display_name.is_empty() { &self.name } else { &self.display_name }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    pub member_ids: Vec<Id>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: Id,
    pub workspace_id: Id,
    pub kind: ChannelKind,
    pub name: String,
    /// HMAC key for signed webhooks (API channel); never shown except on creation/rotation.
    pub secret: String,
    pub webhook_url: Option<String>,
    pub routing_mode: RoutingMode,
    pub max_message_length: i64,
    /// Close an open attention after this many seconds without a message; None = never.
    pub auto_close_after_secs: Option<i64>,
    /// Time the operators have to answer an unanswered attention (processing order).
    pub response_time_limit_secs: i64,
    pub greeting: Option<String>,
    /// Kind-specific settings (widget options, provider credentials...), JSON object text;
    /// core never looks inside.
    pub settings: String,
    pub member_ids: Vec<Id>,
    pub active: bool,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub telegram_username: Option<String>,
    pub telegram_id: Option<String>,
    /// Where the contact came from: channel name, referrer, UTM, as given.
    pub source: Option<String>,
    /// Custom attributes, JSON object text.
    pub custom_attributes: String,
    pub tag_ids: Vec<Id>,
    pub blocked: bool,
    pub created_at: Millis,
}

/// One identity of a contact on one channel (the channel's external id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactIdentity {
    pub id: Id,
    pub workspace_id: Id,
    pub channel_id: Id,
    pub external_id: String,
    /// None once detached from its contact record.
    pub contact_id: Option<Id>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    pub color: String,
    pub pinned: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloseReason {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CannedResponse {
    pub id: Id,
    pub workspace_id: Id,
    /// None: workspace-wide; Some(user): personal to that user.
    pub owner_id: Option<Id>,
    pub shortcut: String,
    pub text: String,
}

/// The summary a conversation list shows. Status, assignee and metrics come from the current
/// (latest) attention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: Id,
    pub workspace_id: Id,
    pub channel_id: Id,
    pub identity_id: Id,
    pub contact_id: Option<Id>,
    pub is_group: bool,
    pub status: Status,
    pub attention_id: Option<Id>,
    pub assignee_id: Option<Id>,
    pub team_id: Option<Id>,
    pub snoozed_until: Option<Millis>,
    pub unanswered: bool,
    pub no_reply_needed: bool,
    /// When the oldest unanswered inbound message arrived (None when answered).
    pub waiting_since: Option<Millis>,
    /// waiting_since + the channel's response-time limit: the processing-order key.
    pub due_at: Option<Millis>,
    pub owned_by_bot: bool,
    pub last_message_id: Option<Id>,
    pub last_message_preview: Option<String>,
    pub last_message_author: Option<AuthorType>,
    pub last_inbound_at: Option<Millis>,
    pub last_activity_at: Millis,
    pub created_at: Millis,
}

impl Conversation {
    pub fn access(&self) -> crate::access::ConversationAccess {
        crate::access::ConversationAccess {
            workspace_id: self.workspace_id,
            channel_id: self.channel_id,
            assignee_id: self.assignee_id,
            team_id: self.team_id,
            contact_id: self.contact_id,
            is_group: self.is_group,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attention {
    pub id: Id,
    pub conversation_id: Id,
    pub status: Status,
    pub assignee_id: Option<Id>,
    pub team_id: Option<Id>,
    pub opened_at: Millis,
    pub closed_at: Option<Millis>,
    pub close_reason: Option<String>,
    pub first_response_at: Option<Millis>,
    /// The contact's rating of this attention, with its comment; `rating_hidden` keeps it off
    /// the public page (reports still count it).
    #[serde(default)]
    pub rating: Option<Rating>,
    #[serde(default)]
    pub rating_comment: Option<String>,
    #[serde(default)]
    pub rating_hidden: bool,
    #[serde(default)]
    pub rated_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: Id,
    pub workspace_id: Id,
    pub message_id: Option<Id>,
    pub name: String,
    /// Sniffed from the bytes, never taken from the client.
    pub content_type: String,
    pub size: i64,
    /// Where the bytes are kept (relative path under the data folder's files/).
    pub storage_key: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Author {
    pub kind: AuthorType,
    pub id: Option<Id>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: Id,
    pub workspace_id: Id,
    pub conversation_id: Id,
    pub attention_id: Option<Id>,
    pub channel_id: Id,
    pub kind: MessageKind,
    pub author: Author,
    pub text: String,
    pub reply_to: Option<Id>,
    pub client_msg_id: Option<String>,
    pub provider_id: Option<String>,
    pub status: MessageStatus,
    pub error: Option<String>,
    pub attachments: Vec<Attachment>,
    /// History (event) lines: what happened, as JSON `{"type": "assigned", "to": "Ana"...}`, so
    /// clients can say it in the operator's language; `text` is the English fallback.
    pub event: Option<String>,
    pub created_at: Millis,
}

/// A pre-approved message of a channel with `{{n}}` parameters (see [`crate::templates`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub id: Id,
    pub workspace_id: Id,
    pub channel_id: Id,
    /// Unique per channel and language (WhatsApp: lowercase letters, digits, underscores).
    pub name: String,
    /// Language code as the provider spells it (`es`, `en_US`).
    pub language: String,
    /// `marketing`, `utility`, `authentication`, or empty.
    pub category: String,
    pub body: String,
    pub status: TemplateStatus,
    /// The provider's reason when rejected.
    pub rejection_reason: Option<String>,
    /// The provider's id of the template; None for one made in Charla only.
    pub provider_id: Option<String>,
    pub updated_at: Millis,
}

/// Which template a message was sent from, with its parameter values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateRef {
    pub name: String,
    pub language: String,
    pub params: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: Id,
    pub workspace_id: Id,
    pub user_id: Id,
    /// `new_message`, `assigned`, `snooze_reminder`...
    pub kind: String,
    pub conversation_id: Option<Id>,
    pub text: String,
    pub read: bool,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub user_id: Id,
    pub conversation_id: Id,
    pub text: String,
    pub updated_at: Millis,
}

/// Per-user view of a conversation: read position and the explicit unread mark.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadState {
    pub unread_count: i64,
    pub marked_unread: bool,
    pub last_read_message_id: Option<Id>,
}
