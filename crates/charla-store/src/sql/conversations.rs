//! Conversation writes: inbound ingestion, sending, lifecycle actions, read state, drafts,
//! delivery (outbox) and timer jobs.
//!
//! Each public function is one write transaction. The pattern inside: lock the conversation
//! row, load what the rule needs, let `charla_core::lifecycle` decide, write the rows, then
//! append the events (their access is the conversation's access after the change).

use super::inbox::{
    CONVERSATION_COLUMNS, IDENTITY_COLUMNS, MESSAGE_COLUMNS, conversation_from_row, fill_attachments,
    identity_from_prefixed_row, identity_from_row, load_message, load_read_states, message_from_row,
};
use super::rows::{ATTACHMENT_COLUMNS, attachment_from_row};
use super::*;
use charla_core::lifecycle::{self, Answering, OnMessage, Reassign};
use charla_core::routing::Candidate;

/// Longest note (notes are not limited by the channel, only by this).
const NOTE_MAX_CHARS: usize = 60_000;
/// Longest draft kept.
const DRAFT_MAX_CHARS: usize = 60_000;
/// Characters of a message kept as the conversation's preview.
const PREVIEW_CHARS: usize = 200;

// --- small helpers ---------------------------------------------------------------------------------

/// What the conversation rules need to know about a channel.
#[derive(Debug, Clone)]
pub(crate) struct ChannelRules {
    workspace_id: Id,
    kind: ChannelKind,
    routing_mode: RoutingMode,
    max_message_length: i64,
    auto_close_after_secs: Option<i64>,
    response_time_limit_secs: i64,
    pub active: bool,
}

pub(crate) async fn channel_rules(c: &mut AnyConnection, id: Id) -> StoreResult<ChannelRules> {
    let row = sqlx::query(
        "SELECT workspace_id, kind, routing_mode, max_message_length, auto_close_after_secs, response_time_limit_secs, active \
         FROM channels WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .ok_or(StoreError::NotFound)?;
    channel_rules_from_row(&row, "")
}

/// The channel's rules from a row whose columns are named `{prefix}workspace_id`, ...
fn channel_rules_from_row(row: &impl RowLike, prefix: &str) -> StoreResult<ChannelRules> {
    let name = |n: &str| format!("{prefix}{n}");
    Ok(ChannelRules {
        workspace_id: col(row, &name("workspace_id"))?,
        kind: col_enum(row, &name("kind"), ChannelKind::parse)?,
        routing_mode: col_enum(row, &name("routing_mode"), RoutingMode::parse)?,
        max_message_length: col(row, &name("max_message_length"))?,
        auto_close_after_secs: col(row, &name("auto_close_after_secs"))?,
        response_time_limit_secs: col(row, &name("response_time_limit_secs"))?,
        active: col_bool(row, &name("active"))?,
    })
}

/// The conversation, row-locked on PostgreSQL; NotFound outside the workspace.
pub(crate) async fn lock_conversation(
    c: &mut AnyConnection,
    dialect: Dialect,
    workspace_id: Id,
    id: Id,
) -> StoreResult<Conversation> {
    let sql = format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = $1 AND c.workspace_id = $2{}",
        dialect.for_update()
    );
    let row = sqlx::query(&sql).bind(id).bind(workspace_id).fetch_optional(&mut *c).await?;
    conversation_from_row(&row.ok_or(StoreError::NotFound)?)
}

pub(crate) const SAVE_CONVERSATION_SQL: &str = "UPDATE conversations SET contact_id = $1, status = $2, attention_id = $3, \
     assignee_id = $4, team_id = $5, snoozed_until = $6, unanswered = $7, no_reply_needed = $8, waiting_since = $9, \
     due_at = $10, owned_by_bot = $11, last_message_id = $12, last_message_preview = $13, last_message_author = $14, \
     last_inbound_at = $15, last_activity_at = $16 WHERE id = $17";

fn conversation_args(conv: &Conversation) -> Vec<Arg> {
    vec![
        conv.contact_id.into(),
        conv.status.as_str().into(),
        conv.attention_id.into(),
        conv.assignee_id.into(),
        conv.team_id.into(),
        conv.snoozed_until.into(),
        conv.unanswered.into(),
        conv.no_reply_needed.into(),
        conv.waiting_since.into(),
        conv.due_at.into(),
        conv.owned_by_bot.into(),
        conv.last_message_id.into(),
        conv.last_message_preview.clone().into(),
        conv.last_message_author.map(|a| a.as_str().to_string()).into(),
        conv.last_inbound_at.into(),
        conv.last_activity_at.into(),
        conv.id.into(),
    ]
}

/// SQLite: [`SAVE_CONVERSATION_SQL`] with only the columns whose values differ between
/// `before` and `after`, None when none does. SQLite rewrites an index, runs an `UPDATE OF`
/// trigger and checks a foreign key for each column named in SET, changed or not: a known
/// sender's message changes its conversation's last message and activity, and naming the rest
/// (contact, assignee, team...) cost three parent lookups, two triggers and an index more.
fn changed_conversation_update(before: &Conversation, after: &Conversation) -> Option<(String, Vec<Arg>)> {
    use std::fmt::Write;
    let (old, mut new) = (conversation_args(before), conversation_args(after));
    let id = new.pop()?;
    let mut sql = String::from("UPDATE conversations SET ");
    let mut args = Vec::with_capacity(new.len());
    for ((column, old), new) in saved_columns().iter().zip(old).zip(new) {
        if old != new {
            args.push(new);
            let comma = if args.len() > 1 { ", " } else { "" };
            let _ = write!(sql, "{comma}{column} = ?{}", args.len());
        }
    }
    if args.is_empty() {
        return None;
    }
    args.push(id);
    let _ = write!(sql, " WHERE id = ?{}", args.len());
    Some((sql, args))
}

/// The columns [`SAVE_CONVERSATION_SQL`] sets, in the order of [`conversation_args`].
fn saved_columns() -> &'static [&'static str] {
    static COLUMNS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        let set = SAVE_CONVERSATION_SQL.split_once(" SET ").map_or("", |(_, s)| s);
        let assignments = set.split_once(" WHERE ").map_or(set, |(a, _)| a);
        assignments.split(',').filter_map(|a| a.split('=').next()).map(str::trim).collect()
    });
    &COLUMNS
}

pub(crate) async fn save_conversation(c: &mut AnyConnection, conv: &Conversation) -> StoreResult<()> {
    query_with(SAVE_CONVERSATION_SQL, &conversation_args(conv)).execute(&mut *c).await?;
    Ok(())
}

async fn insert_attention(
    c: &mut AnyConnection,
    conv: &Conversation,
    status: Status,
    assignee_id: Option<Id>,
    team_id: Option<Id>,
    now: Millis,
) -> StoreResult<Id> {
    let args = attention_args(conv, status, assignee_id, team_id, now);
    col(&query_with(INSERT_ATTENTION_SQL, &args).fetch_one(&mut *c).await?, "id")
}

const INSERT_ATTENTION_SQL: &str = "INSERT INTO attentions (workspace_id, conversation_id, status, assignee_id, team_id, \
     opened_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

fn attention_args(
    conv: &Conversation,
    status: Status,
    assignee_id: Option<Id>,
    team_id: Option<Id>,
    now: Millis,
) -> Vec<Arg> {
    vec![
        conv.workspace_id.into(),
        conv.id.into(),
        status.as_str().into(),
        assignee_id.into(),
        team_id.into(),
        now.into(),
    ]
}

/// The conversation once its new attention `id` is open.
fn opened(conv: &mut Conversation, id: Id, assignee_id: Option<Id>, team_id: Option<Id>) {
    conv.attention_id = Some(id);
    conv.status = Status::Open;
    conv.assignee_id = assignee_id;
    conv.team_id = team_id;
    conv.snoozed_until = None;
    conv.owned_by_bot = false;
}

async fn set_attention_status(c: &mut AnyConnection, id: Id, status: Status) -> StoreResult<()> {
    sqlx::query("UPDATE attentions SET status = $1 WHERE id = $2")
        .bind(status.as_str())
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

async fn set_attention_assignee(
    c: &mut AnyConnection,
    id: Id,
    assignee_id: Option<Id>,
    team_id: Option<Id>,
) -> StoreResult<()> {
    sqlx::query("UPDATE attentions SET assignee_id = $1, team_id = $2 WHERE id = $3")
        .bind(assignee_id)
        .bind(team_id)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

async fn close_attention(c: &mut AnyConnection, id: Id, reason: Option<&str>, now: Millis) -> StoreResult<()> {
    sqlx::query("UPDATE attentions SET status = 'closed', closed_at = $1, close_reason = $2 WHERE id = $3")
        .bind(now)
        .bind(reason.map(str::to_string))
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Opens a new attention on the conversation (closed or never opened) and makes it current.
async fn open_new_attention(
    c: &mut AnyConnection,
    conv: &mut Conversation,
    assignee_id: Option<Id>,
    team_id: Option<Id>,
    now: Millis,
) -> StoreResult<()> {
    let id = insert_attention(c, conv, Status::Open, assignee_id, team_id, now).await?;
    opened(conv, id, assignee_id, team_id);
    Ok(())
}

/// A snoozed attention returns to open.
async fn wake(c: &mut AnyConnection, conv: &mut Conversation) -> StoreResult<()> {
    if let Some(att) = conv.attention_id {
        set_attention_status(c, att, Status::Open).await?;
        cancel_job(c, JobKind::SnoozeWake, att).await?;
    }
    conv.status = Status::Open;
    conv.snoozed_until = None;
    Ok(())
}

/// (Re)schedules the inactivity close of the current attention, or cancels it when the
/// attention is not open or the channel has no auto-close.
async fn reschedule_auto_close(c: &mut AnyConnection, conv: &Conversation, ch: &ChannelRules) -> StoreResult<()> {
    if let Some((sql, args)) = auto_close_statement(conv, ch) {
        query_with(sql, &args).execute(&mut *c).await?;
    }
    Ok(())
}

/// The statement that moves (or cancels) the auto-close job of the conversation's attention.
fn auto_close_statement(conv: &Conversation, ch: &ChannelRules) -> Option<(&'static str, Vec<Arg>)> {
    let att = conv.attention_id?;
    let kind = job_kind_str(JobKind::AutoClose);
    Some(match lifecycle::auto_close_at(conv.status, conv.last_activity_at, ch.auto_close_after_secs) {
        Some(at) => (SCHEDULE_JOB_SQL, vec![kind.into(), att.into(), at.into()]),
        None => (CANCEL_JOB_SQL, vec![kind.into(), att.into()]),
    })
}

fn answering(conv: &Conversation) -> Answering {
    Answering { unanswered: conv.unanswered, no_reply_needed: conv.no_reply_needed, waiting_since: conv.waiting_since }
}

fn set_answering(conv: &mut Conversation, a: Answering, ch: &ChannelRules) {
    conv.unanswered = a.unanswered;
    conv.no_reply_needed = a.no_reply_needed;
    conv.waiting_since = a.waiting_since;
    conv.due_at = a.due_at(ch.response_time_limit_secs);
}

/// The list preview of a message: its first characters, or its first attachment's name.
fn preview(text: &str, attachments: &[Attachment]) -> Option<String> {
    let text = text.trim();
    if !text.is_empty() {
        return Some(text.chars().take(PREVIEW_CHARS).collect());
    }
    attachments.first().map(|a| a.name.clone())
}

/// A message row to insert.
pub(crate) struct NewRow<'a> {
    pub conv: &'a Conversation,
    pub kind: MessageKind,
    pub author: &'a Author,
    pub text: &'a str,
    pub reply_to: Option<Id>,
    pub client_msg_id: Option<String>,
    pub provider_id: Option<String>,
    pub status: MessageStatus,
    pub hidden: bool,
    /// Structured data of an event line (JSON).
    pub event: Option<String>,
    pub now: Millis,
}

pub(crate) const INSERT_MESSAGE_SQL: &str = "INSERT INTO messages (workspace_id, conversation_id, attention_id, \
     channel_id, kind, author_type, author_id, author_name, text, reply_to, client_msg_id, provider_id, status, hidden, \
     created_at, updated_at, event_data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16) \
     ON CONFLICT DO NOTHING RETURNING id";

fn message_args(r: &NewRow<'_>) -> Vec<Arg> {
    vec![
        r.conv.workspace_id.into(),
        r.conv.id.into(),
        r.conv.attention_id.into(),
        r.conv.channel_id.into(),
        r.kind.as_str().into(),
        r.author.kind.as_str().into(),
        r.author.id.into(),
        r.author.name.as_str().into(),
        r.text.into(),
        r.reply_to.into(),
        r.client_msg_id.clone().into(),
        r.provider_id.clone().into(),
        r.status.as_str().into(),
        r.hidden.into(),
        r.now.into(),
        r.event.clone().into(),
    ]
}

/// The message the row became once inserted with `id`.
fn inserted_message(r: NewRow<'_>, id: Id) -> Message {
    Message {
        id,
        workspace_id: r.conv.workspace_id,
        conversation_id: r.conv.id,
        attention_id: r.conv.attention_id,
        channel_id: r.conv.channel_id,
        kind: r.kind,
        author: r.author.clone(),
        text: r.text.to_string(),
        reply_to: r.reply_to,
        client_msg_id: r.client_msg_id,
        provider_id: r.provider_id,
        status: r.status,
        error: None,
        attachments: Vec::new(),
        event: r.event,
        created_at: r.now,
    }
}

/// Inserts a message; None when a uniqueness rule (provider id, client_msg_id) says it exists.
pub(crate) async fn insert_message(c: &mut AnyConnection, r: NewRow<'_>) -> StoreResult<Option<Message>> {
    let row = query_with(INSERT_MESSAGE_SQL, &message_args(&r)).fetch_optional(&mut *c).await?;
    match row {
        Some(row) => Ok(Some(inserted_message(r, col(&row, "id")?))),
        None => Ok(None),
    }
}

/// The attachments to link to a new message, in the order given: each must be of the
/// workspace and not yet linked to a message.
async fn unlinked_attachments(c: &mut AnyConnection, workspace_id: Id, ids: &[Id]) -> StoreResult<Vec<Attachment>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let mut q =
        Sql::new(&format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE message_id IS NULL AND workspace_id = "));
    q.bind(workspace_id);
    q.push(" AND id IN ");
    q.bind_list(&unique);
    let found = q.query().fetch_all(&mut *c).await?.iter().map(attachment_from_row).collect::<StoreResult<Vec<_>>>()?;
    if found.len() != unique.len() {
        return Err(StoreError::Invalid(
            "invalid_attachment",
            "an attachment does not exist or already belongs to a message".into(),
        ));
    }
    let mut ordered = Vec::with_capacity(unique.len());
    for id in ids {
        if ordered.iter().any(|a: &Attachment| a.id == *id) {
            continue;
        }
        if let Some(a) = found.iter().find(|a| a.id == *id) {
            ordered.push(a.clone());
        }
    }
    Ok(ordered)
}

async fn link_attachments(
    c: &mut AnyConnection,
    message: &mut Message,
    attachments: Vec<Attachment>,
) -> StoreResult<()> {
    if attachments.is_empty() {
        return Ok(());
    }
    let ids: Vec<Id> = attachments.iter().map(|a| a.id).collect();
    let mut q = Sql::new("UPDATE attachments SET message_id = ");
    q.bind(message.id);
    q.push(" WHERE message_id IS NULL AND id IN ");
    q.bind_list(&ids);
    q.query().execute(&mut *c).await?;
    message.attachments = attachments.into_iter().map(|a| Attachment { message_id: Some(message.id), ..a }).collect();
    Ok(())
}

/// A user's name in the workspace, for history lines; None when not a user of it.
async fn user_name(c: &mut AnyConnection, workspace_id: Id, id: Id) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM users WHERE id = $1 AND workspace_id = $2")
        .bind(id)
        .bind(workspace_id)
        .fetch_optional(&mut *c)
        .await?)
}

async fn team_name(c: &mut AnyConnection, workspace_id: Id, id: Id) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM teams WHERE id = $1 AND workspace_id = $2")
        .bind(id)
        .bind(workspace_id)
        .fetch_optional(&mut *c)
        .await?)
}

/// Who is acting, as the author of a history line.
async fn system_author(c: &mut AnyConnection, workspace_id: Id, actor: Option<Id>) -> StoreResult<Author> {
    let name = match actor {
        Some(id) => user_name(c, workspace_id, id).await?.unwrap_or_default(),
        None => String::new(),
    };
    Ok(Author { kind: AuthorType::System, id: actor, name })
}

/// Appends an `event` line (opened, closed, reassigned...) to the history. It changes neither
/// the status nor the conversation's last message.
pub(crate) async fn event_line(
    c: &mut AnyConnection,
    conv: &Conversation,
    actor: Option<Id>,
    text: String,
    data: serde_json::Value,
    now: Millis,
) -> StoreResult<Message> {
    let author = system_author(c, conv.workspace_id, actor).await?;
    let row = NewRow {
        conv,
        kind: MessageKind::Event,
        author: &author,
        text: &text,
        reply_to: None,
        client_msg_id: None,
        provider_id: None,
        status: MessageStatus::Sent,
        hidden: false,
        event: (!data.is_null()).then(|| data.to_string()),
        now,
    };
    insert_message(c, row).await?.ok_or_else(|| StoreError::Database("event line not inserted".into()))
}

const NOTIFY_SQL: &str = "INSERT INTO notifications (workspace_id, user_id, kind, conversation_id, text, read, created_at) \
     VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING id";

/// A notification to insert (its id is set once inserted), with the values of [`NOTIFY_SQL`].
fn new_notification(
    workspace_id: Id,
    user_id: Id,
    kind: &str,
    conversation_id: Id,
    text: String,
    now: Millis,
) -> (Notification, Vec<Arg>) {
    let args = vec![
        workspace_id.into(),
        user_id.into(),
        kind.into(),
        conversation_id.into(),
        text.as_str().into(),
        now.into(),
    ];
    let n = Notification {
        id: 0,
        workspace_id,
        user_id,
        kind: kind.to_string(),
        conversation_id: Some(conversation_id),
        text,
        read: false,
        created_at: now,
    };
    (n, args)
}

/// Inserts a notification made by [`new_notification`].
async fn notify(c: &mut AnyConnection, (mut n, args): (Notification, Vec<Arg>)) -> StoreResult<Notification> {
    n.id = col(&query_with(NOTIFY_SQL, &args).fetch_one(&mut *c).await?, "id")?;
    Ok(n)
}

/// The name a conversation is known by in notifications: the contact's, else the identity's.
async fn conversation_title(c: &mut AnyConnection, conv: &Conversation) -> StoreResult<String> {
    let row = sqlx::query(
        "SELECT COALESCE(k.name, i.name) AS title FROM contact_identities i LEFT JOIN contacts k ON k.id = $1 \
         WHERE i.id = $2",
    )
    .bind(conv.contact_id)
    .bind(conv.identity_id)
    .fetch_optional(&mut *c)
    .await?;
    match row {
        Some(row) => Ok(col::<Option<String>>(&row, "title")?.unwrap_or_default()),
        None => Ok(String::new()),
    }
}

/// Collects the events of one transaction, in order.
pub(crate) struct Events {
    workspace_id: Id,
    now: Millis,
    pub list: Vec<Event>,
}

impl Events {
    pub(crate) fn new(workspace_id: Id, now: Millis) -> Events {
        Events { workspace_id, now, list: Vec::new() }
    }

    pub(crate) async fn conversation(
        &mut self,
        c: &mut AnyConnection,
        kind: &str,
        conv: &Conversation,
    ) -> StoreResult<()> {
        let ev = insert_event(c, self.workspace_id, kind, Some(conv.access()), None, to_json(conv)?, self.now).await?;
        self.list.push(ev);
        Ok(())
    }

    pub(crate) async fn message(
        &mut self,
        c: &mut AnyConnection,
        kind: &str,
        conv: &Conversation,
        m: &Message,
    ) -> StoreResult<()> {
        let ev = insert_event(c, self.workspace_id, kind, Some(conv.access()), None, to_json(m)?, self.now).await?;
        self.list.push(ev);
        Ok(())
    }

    async fn notification(&mut self, c: &mut AnyConnection, n: &Notification) -> StoreResult<()> {
        let ev =
            insert_event(c, self.workspace_id, "notification.created", None, Some(n.user_id), to_json(n)?, self.now)
                .await?;
        self.list.push(ev);
        Ok(())
    }

    /// `conversation.removed` for those who could see the conversation before and may not
    /// now: access is the OLD access; the payload carries the new one so a receiver that can
    /// still see it ignores the removal.
    pub(crate) async fn removed_if_moved(
        &mut self,
        c: &mut AnyConnection,
        before: &Conversation,
        after: &Conversation,
    ) -> StoreResult<()> {
        let (old, new) = (before.access(), after.access());
        if old == new {
            return Ok(());
        }
        let payload = serde_json::json!({ "id": after.id, "access_after": to_json(&new)? });
        let ev = insert_event(c, self.workspace_id, "conversation.removed", Some(old), None, payload, self.now).await?;
        self.list.push(ev);
        Ok(())
    }
}

/// Routes a new attention in an `auto` channel: the online member with capacity and fewest
/// open attentions (charla_core::routing::pick).
async fn route(c: &mut AnyConnection, workspace_id: Id, channel_id: Id, now: Millis) -> StoreResult<Option<Id>> {
    let rows = sqlx::query(
        "SELECT u.id, u.presence, u.last_activity_at, u.max_concurrent, u.last_assigned_at, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM conversations o WHERE o.workspace_id = u.workspace_id \
          AND o.status = 'open' AND o.assignee_id = u.id) AS open_attentions \
         FROM channel_members cm JOIN users u ON u.id = cm.user_id \
         WHERE cm.channel_id = $1 AND u.workspace_id = $2 AND u.active = 1",
    )
    .bind(channel_id)
    .bind(workspace_id)
    .fetch_all(&mut *c)
    .await?;
    let mut candidates = Vec::with_capacity(rows.len());
    for row in &rows {
        let set: Presence = col_enum(row, "presence", Presence::parse)?;
        candidates.push(Candidate {
            user_id: col(row, "id")?,
            presence: charla_core::presence::effective(set, col(row, "last_activity_at")?, now),
            open_attentions: col(row, "open_attentions")?,
            max_concurrent: col(row, "max_concurrent")?,
            last_assigned_at: col(row, "last_assigned_at")?,
        });
    }
    Ok(charla_core::routing::pick(&candidates))
}

async fn touch_last_assigned(c: &mut AnyConnection, user_id: Id, now: Millis) -> StoreResult<()> {
    sqlx::query("UPDATE users SET last_assigned_at = $1 WHERE id = $2")
        .bind(now)
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// "YYYY-MM-DD HH:MM UTC" for history lines.
fn format_utc(ms: Millis) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

// --- inbound ------------------------------------------------------------------------------------

pub(crate) async fn ingest_inbound(
    s: &SqlStore,
    msg: InboundMessage,
    extra: InboundExtra,
    now: Millis,
) -> StoreResult<Written<Ingested>> {
    // An empty provider id would make every later message of the channel a "duplicate".
    if msg.provider_message_id.trim().is_empty() {
        return Err(StoreError::Invalid("invalid_message_id", "the provider's message id is required".into()));
    }
    if msg.contact.external_id.trim().is_empty() {
        return Err(StoreError::Invalid("invalid_contact", "the sender's external id is required".into()));
    }
    let dialect = s.dialect;
    let (channel_id, provider_id) = (msg.channel_id, msg.provider_message_id.clone());
    let inbound = Inbound { msg, extra, now };
    let result = s
        .write_fast(inbound, ingest_fast, move |r, c| {
            Box::pin(async move { ingest_tx(c, dialect, r.msg, r.extra, r.now).await })
        })
        .await;
    match result {
        // A concurrent delivery of the same message won the race: ours was rolled back.
        Err(StoreError::Conflict(reason)) => {
            let mut conn = s.pool.acquire().await?;
            match existing_inbound(&mut conn, channel_id, &provider_id).await? {
                Some(found) => Ok(unchanged(found)),
                None => Err(StoreError::Conflict(reason)),
            }
        }
        other => other,
    }
}

/// The already stored inbound message with this provider id, as a duplicate.
async fn existing_inbound(c: &mut AnyConnection, channel_id: Id, provider_id: &str) -> StoreResult<Option<Ingested>> {
    let id: Option<Id> =
        sqlx::query_scalar("SELECT id FROM messages WHERE channel_id = $1 AND provider_id = $2 AND kind = 'inbound'")
            .bind(channel_id)
            .bind(provider_id)
            .fetch_optional(&mut *c)
            .await?;
    let Some(id) = id else { return Ok(None) };
    let message = load_message(c, id).await?.ok_or(StoreError::NotFound)?;
    let conversation = super::inbox::load_conversation(c, message.workspace_id, message.conversation_id).await?;
    Ok(Some(Ingested { message, conversation, duplicate: true }))
}

const INSERT_IDENTITY_SQL: &str = "INSERT INTO contact_identities (workspace_id, channel_id, external_id, contact_id, name, search_name) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_id, external_id) DO NOTHING RETURNING id";

/// The values of [`INSERT_IDENTITY_SQL`] for an identity not yet inserted.
fn identity_args(i: &ContactIdentity) -> Vec<Arg> {
    vec![
        i.workspace_id.into(),
        i.channel_id.into(),
        i.external_id.as_str().into(),
        i.contact_id.into(),
        i.name.as_str().into(),
        identity_search_name(&i.name).into(),
    ]
}

/// What contact search reads of an identity's name (migration 0009): lower-cased as the term is.
fn identity_search_name(name: &str) -> String {
    name.to_lowercase()
}

/// An identity follows the name its sender gives.
const RENAME_IDENTITY_SQL: &str = "UPDATE contact_identities SET name = $1, search_name = $2 WHERE id = $3";

/// The identity of (channel, external id), row-locked; created when new (second value true).
async fn lock_or_create_identity(
    c: &mut AnyConnection,
    dialect: Dialect,
    workspace_id: Id,
    channel_id: Id,
    external_id: &str,
    name: &str,
) -> StoreResult<(ContactIdentity, bool)> {
    let select = format!(
        "SELECT {IDENTITY_COLUMNS} FROM contact_identities WHERE channel_id = $1 AND external_id = $2{}",
        dialect.for_update()
    );
    if let Some(row) = sqlx::query(&select).bind(channel_id).bind(external_id).fetch_optional(&mut *c).await? {
        return Ok((identity_from_row(&row)?, false));
    }
    let mut identity = ContactIdentity {
        id: 0,
        workspace_id,
        channel_id,
        external_id: external_id.to_string(),
        contact_id: None,
        name: name.to_string(),
    };
    match query_with(INSERT_IDENTITY_SQL, &identity_args(&identity)).fetch_optional(&mut *c).await? {
        Some(row) => {
            identity.id = col(&row, "id")?;
            Ok((identity, true))
        }
        // Another transaction created it meanwhile (PostgreSQL): take its row.
        None => {
            let row = sqlx::query(&select).bind(channel_id).bind(external_id).fetch_one(&mut *c).await?;
            Ok((identity_from_row(&row)?, false))
        }
    }
}

pub(crate) fn unchanged<T>(value: T) -> Written<T> {
    Written { value, events: Vec::new() }
}

/// What an inbound message reads before it writes, gathered in one statement on SQLite (each
/// statement is a round trip to sqlx's connection thread, and the single writer runs them one
/// after another): whether it is a duplicate, the channel's rules, and, when the sender is
/// known, the identity, its contact's name and blocked flag, and its conversation. The single
/// writer needs no row locks, so these are the values the separate reads would give.
struct Prefetched {
    duplicate: bool,
    channel: ChannelRules,
    /// The identity with its contact's (name, blocked); None for a new sender.
    identity: Option<(ContactIdentity, Option<(String, bool)>)>,
    conversation: Option<Conversation>,
}

/// Whether the message is a duplicate, bound to (channel id, provider message id).
const DUPLICATE_COLUMN: &str = "CAST(CASE WHEN EXISTS (SELECT 1 FROM messages WHERE channel_id = $1 \
     AND provider_id = $2 AND kind = 'inbound') THEN 1 ELSE 0 END AS BIGINT) AS duplicate";

/// The channel's rules, from `channels ch`.
const PREFETCH_CHANNEL_COLUMNS: &str = "ch.workspace_id AS ch_workspace_id, ch.kind AS ch_kind, \
     ch.routing_mode AS ch_routing_mode, ch.max_message_length AS ch_max_message_length, \
     ch.auto_close_after_secs AS ch_auto_close_after_secs, ch.response_time_limit_secs AS ch_response_time_limit_secs, \
     ch.active AS ch_active";

/// The identity and its contact's name and blocked flag, from `contact_identities i` and
/// `contacts k`.
const PREFETCH_IDENTITY_COLUMNS: &str = "i.id AS i_id, i.workspace_id AS i_workspace_id, i.channel_id AS i_channel_id, \
     i.external_id AS i_external_id, i.contact_id AS i_contact_id, i.name AS i_name, k.name AS k_name, \
     k.blocked AS k_blocked";

/// The statement of [`Prefetched`], bound to (channel id, provider message id, external id).
fn prefetch_sql() -> &'static str {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {DUPLICATE_COLUMN}, {PREFETCH_CHANNEL_COLUMNS}, {PREFETCH_IDENTITY_COLUMNS}, {CONVERSATION_COLUMNS} \
             FROM channels ch \
             LEFT JOIN contact_identities i ON i.channel_id = ch.id AND i.external_id = $3 \
             LEFT JOIN contacts k ON k.id = i.contact_id \
             LEFT JOIN conversations c ON c.identity_id = i.id \
             WHERE ch.id = $1"
        )
    });
    SQL.as_str()
}

/// PostgreSQL: [`prefetch_sql`]'s columns with a known sender's identity and conversation
/// row-locked (in that order, as [`ingest_tx`] locks them; a sender without both reads as
/// new), and ids reserved for what the message will insert: its own (`next_message_id`) and,
/// for a new sender, its contact, identity, conversation and attention.
fn prefetch_locked_sql() -> &'static str {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let reserve =
            |table: &str| format!("CASE WHEN x.i_id IS NULL THEN nextval('{table}_id_seq') END AS next_{table}_id");
        format!(
            "SELECT {DUPLICATE_COLUMN}, {PREFETCH_CHANNEL_COLUMNS}, x.*, nextval('messages_id_seq') AS next_message_id, \
             {}, {}, {}, {} FROM channels ch LEFT JOIN LATERAL (\
               SELECT {PREFETCH_IDENTITY_COLUMNS}, {CONVERSATION_COLUMNS} FROM contact_identities i \
               JOIN conversations c ON c.identity_id = i.id LEFT JOIN contacts k ON k.id = i.contact_id \
               WHERE i.channel_id = ch.id AND i.external_id = $3 FOR UPDATE OF i, c) x ON true \
             WHERE ch.id = $1",
            reserve("contacts"),
            reserve("contact_identities"),
            reserve("conversations"),
            reserve("attentions"),
        )
    });
    SQL.as_str()
}

/// `INSERT INTO t (columns) VALUES (values) rest` with an id reserved beforehand, bound after
/// the statement's own arguments (its placeholder is one past theirs): `INSERT INTO t (id,
/// columns) VALUES ($n, values) rest`; with `from`, inserted once for each row of that table
/// expression: `INSERT INTO t (id, columns) SELECT $n, values FROM from rest`.
fn with_reserved_id(sql: &str, from: Option<&str>) -> String {
    let n = sql
        .split('$')
        .skip(1)
        .filter_map(|s| s.split(|c: char| !c.is_ascii_digit()).next()?.parse::<usize>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    const VALUES: &str = " VALUES (";
    let (Some(open), Some(values)) = (sql.find('('), sql.find(VALUES)) else {
        return sql.to_string();
    };
    let list = values + VALUES.len();
    let mut depth = 1;
    let close = sql[list..]
        .char_indices()
        .find(|(_, c)| {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            depth == 0
        })
        .map_or(sql.len(), |(i, _)| list + i);
    let (columns, values_list, rest) = (&sql[open + 1..values], &sql[list..close], sql.get(close + 1..).unwrap_or(""));
    let head = &sql[..=open];
    match from {
        Some(from) => format!("{head}id, {columns} SELECT ${n}, {values_list} FROM {from}{rest}"),
        None => format!("{head}id, {columns} VALUES (${n}, {values_list}){rest}"),
    }
}

/// PostgreSQL: a new conversation inserted as it is once its first message is in (the values
/// [`SAVE_CONVERSATION_SQL`] would write, [`conversation_args`], then `workspace_id`,
/// `channel_id`, `identity_id`, `is_group` and `created_at`).
fn insert_saved_conversation_sql() -> &'static str {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let mut columns = saved_columns().to_vec();
        columns.extend(["id", "workspace_id", "channel_id", "identity_id", "is_group", "created_at"]);
        let values: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        format!("INSERT INTO conversations ({}) VALUES ({})", columns.join(", "), values.join(", "))
    });
    SQL.as_str()
}

fn prefetched_from_row(row: &impl RowLike) -> StoreResult<Prefetched> {
    let identity = match col::<Option<Id>>(row, "i_id")? {
        Some(_) => {
            let identity = identity_from_prefixed_row(row, "i_")?;
            let contact = match col::<Option<String>>(row, "k_name")? {
                Some(name) => Some((name, col_bool(row, "k_blocked")?)),
                None => None,
            };
            Some((identity, contact))
        }
        None => None,
    };
    let conversation = match col::<Option<Id>>(row, "id")? {
        Some(_) => Some(conversation_from_row(row)?),
        None => None,
    };
    Ok(Prefetched {
        duplicate: col_bool(row, "duplicate")?,
        channel: channel_rules_from_row(row, "ch_")?,
        identity,
        conversation,
    })
}

async fn prefetch_inbound(c: &mut AnyConnection, msg: &InboundMessage) -> StoreResult<Prefetched> {
    let row = sqlx::query(prefetch_sql())
        .bind(msg.channel_id)
        .bind(msg.provider_message_id.as_str())
        .bind(msg.contact.external_id.as_str())
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    prefetched_from_row(&row)
}

/// An inbound message on its way in, as both paths of [`ingest_inbound`] take it.
struct Inbound {
    msg: InboundMessage,
    extra: InboundExtra,
    now: Millis,
}

/// The contact a new sender becomes: what the channel says of it.
fn new_sender_patch(msg: &InboundMessage, ch: &ChannelRules) -> ContactPatch {
    let input = &msg.contact;
    let nonblank = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let mut patch = ContactPatch {
        phone: Some(nonblank(&input.phone)),
        email: Some(nonblank(&input.email)),
        telegram_username: Some(nonblank(&input.username)),
        source: Some(nonblank(&input.source)),
        ..ContactPatch::default()
    };
    if ch.kind == ChannelKind::Telegram && !msg.is_group {
        // A private chat's id is the user's id.
        patch.telegram_id = Some(Some(input.external_id.clone()));
    }
    patch
}

/// A new conversation is created closed, without attention; the lifecycle then opens it.
/// PostgreSQL fills its copy of contact search (and tags) in a BEFORE trigger.
const INSERT_CONVERSATION_SQL: &str = "INSERT INTO conversations (workspace_id, channel_id, identity_id, contact_id, \
     is_group, status, last_activity_at, created_at) VALUES ($1, $2, $3, $4, $5, 'closed', $6, $6) RETURNING id";

/// SQLite: the same with its copy of contact search, read from the contact and identity as
/// `conversations_search_ai` would (migration 0012): that trigger's UPDATE rewrote the new row
/// in every inbox index, which all carry the copy.
const INSERT_CONVERSATION_SQLITE: &str = "INSERT INTO conversations (workspace_id, channel_id, identity_id, \
     contact_id, is_group, status, last_activity_at, created_at, search_text, search_phone) \
     VALUES ($1, $2, $3, $4, $5, 'closed', $6, $6, \
     COALESCE((SELECT k.search_text FROM contacts k WHERE k.id = $4), '') || char(31) \
     || COALESCE((SELECT i.search_name FROM contact_identities i WHERE i.id = $3), ''), \
     COALESCE((SELECT k.phone_digits FROM contacts k WHERE k.id = $4), '')) RETURNING id";

fn insert_conversation_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => INSERT_CONVERSATION_SQLITE,
        Dialect::Postgres => INSERT_CONVERSATION_SQL,
    }
}

fn new_conversation_args(workspace_id: Id, msg: &InboundMessage, identity: &ContactIdentity, now: Millis) -> Vec<Arg> {
    vec![
        workspace_id.into(),
        msg.channel_id.into(),
        identity.id.into(),
        identity.contact_id.into(),
        msg.is_group.into(),
        now.into(),
    ]
}

/// The common inbound cases, on the SQLite writer's own connection (see
/// [`SqlStore::write_fast`]), text only: a known sender writing into its open conversation, and
/// a new sender of a channel routed by hand. Anything else — a duplicate, a closed or snoozed
/// conversation, a blocked contact, automatic routing, a group, attachments, a profile, a
/// quote, a read or a check that fails — answers None before writing anything and takes the
/// general path ([`ingest_tx`]), which has every rule.
fn ingest_fast(
    r: &Inbound,
    conn: &rusqlite::Connection,
    pending: &mut PendingEvents,
) -> Option<StoreResult<Written<Ingested>>> {
    let (msg, extra) = (&r.msg, &r.extra);
    if !plain_text(msg, extra) {
        return None;
    }
    let params = rusqlite::params![msg.channel_id, msg.provider_message_id, msg.contact.external_id];
    let p =
        conn.prepare_cached(prefetch_sql()).ok()?.query_row(params, |row| Ok(prefetched_from_row(row))).ok()?.ok()?;
    if p.duplicate || !p.channel.active {
        return None;
    }
    let ch = &p.channel;
    match (p.identity, p.conversation) {
        (Some((identity, Some((contact_name, false)))), Some(conv)) => {
            keeps_attention(&conv).then(|| ingest_fast_known(conn, pending, r, ch, identity, contact_name, conv))
        }
        (None, None) if ch.routing_mode == RoutingMode::Manual && ch.kind != ChannelKind::Telegram => {
            let name = sender_name(msg);
            let (contact, args) =
                super::directory::new_contact(ch.workspace_id, name, new_sender_patch(msg, ch), r.now).ok()?;
            Some(ingest_fast_new(conn, pending, r, ch, contact, args))
        }
        _ => None,
    }
}

/// A text message of one sender, without attachments, profile or quote: what the fast paths take.
fn plain_text(msg: &InboundMessage, extra: &InboundExtra) -> bool {
    let quotes = extra.reply_to_provider_id.as_deref().is_some_and(|p| !p.is_empty());
    msg.attachment_ids.is_empty() && extra.profile.is_none() && !quotes && !msg.is_group
}

/// Whether an inbound message finds the conversation's attention open and keeps it.
fn keeps_attention(conv: &Conversation) -> bool {
    conv.attention_id.is_some() && lifecycle::on_message(Some(conv.status), MessageKind::Inbound) == OnMessage::Keep
}

/// The name the sender gave, if any.
fn given_name(msg: &InboundMessage) -> Option<&str> {
    msg.contact.name.as_deref().map(str::trim).filter(|n| !n.is_empty())
}

/// The name a new sender's contact and identity get: the one given, else its external id.
fn sender_name(msg: &InboundMessage) -> &str {
    given_name(msg).unwrap_or(&msg.contact.external_id)
}

/// [`ingest_fast`] for a known sender: the identity follows the name it gives.
fn ingest_fast_known(
    conn: &rusqlite::Connection,
    pending: &mut PendingEvents,
    r: &Inbound,
    ch: &ChannelRules,
    mut identity: ContactIdentity,
    contact_name: String,
    conv: Conversation,
) -> StoreResult<Written<Ingested>> {
    if let Some(name) = given_name(&r.msg).filter(|n| *n != identity.name) {
        conn.prepare_cached(RENAME_IDENTITY_SQL)?.execute(rusqlite::params![
            name,
            identity_search_name(name),
            identity.id
        ])?;
        identity.name = name.to_string();
    }
    ingest_fast_message(conn, pending, r, ch, &identity, Some(contact_name), conv, false)
}

/// [`ingest_fast`] for a new sender: its contact, identity, conversation and open attention
/// (nobody assigned: the channel is routed by hand).
fn ingest_fast_new(
    conn: &rusqlite::Connection,
    pending: &mut PendingEvents,
    r: &Inbound,
    ch: &ChannelRules,
    mut contact: Contact,
    contact_args: Vec<Arg>,
) -> StoreResult<Written<Ingested>> {
    let (msg, now) = (&r.msg, r.now);
    let insert = |sql: &str, args: Vec<Arg>| -> StoreResult<Id> {
        Ok(conn.prepare_cached(sql)?.query_row(rusqlite::params_from_iter(args), |row| row.get(0))?)
    };
    contact.id = insert(super::directory::INSERT_CONTACT_SQL, contact_args)?;
    let mut identity = ContactIdentity {
        id: 0,
        workspace_id: ch.workspace_id,
        channel_id: msg.channel_id,
        external_id: msg.contact.external_id.clone(),
        contact_id: Some(contact.id),
        name: contact.name.clone(),
    };
    identity.id = insert(INSERT_IDENTITY_SQL, identity_args(&identity))?;
    insert(INSERT_CONVERSATION_SQLITE, new_conversation_args(ch.workspace_id, msg, &identity, now))?;
    let select = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.identity_id = $1");
    let mut conv = conn.prepare_cached(&select)?.query_row([identity.id], |row| Ok(conversation_from_row(row)))??;
    set_answering(&mut conv, Answering::default(), ch);
    let attention = insert(INSERT_ATTENTION_SQL, attention_args(&conv, Status::Open, None, None, now))?;
    opened(&mut conv, attention, None, None);
    ingest_fast_message(conn, pending, r, ch, &identity, Some(contact.name), conv, true)
}

/// The message itself, for both cases of [`ingest_fast`]: the rows and events of [`ingest_tx`]
/// for a message that finds its attention open (`created`: with the conversation just made).
#[allow(clippy::too_many_arguments)]
fn ingest_fast_message(
    conn: &rusqlite::Connection,
    pending: &mut PendingEvents,
    r: &Inbound,
    ch: &ChannelRules,
    identity: &ContactIdentity,
    contact_name: Option<String>,
    mut conv: Conversation,
    created: bool,
) -> StoreResult<Written<Ingested>> {
    let (msg, now) = (&r.msg, r.now);
    let workspace_id = ch.workspace_id;
    let author = inbound_author(&r.extra, identity, contact_name);
    let row = inbound_row(&conv, &author, msg, None, false, now);
    let id: Option<Id> = conn
        .prepare_cached(INSERT_MESSAGE_SQL)?
        .query_row(rusqlite::params_from_iter(message_args(&row)), |r| r.get(0))
        .map(Some)
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
    let id = id.ok_or_else(|| StoreError::Conflict("duplicate_inbound".into()))?;
    let message = inserted_message(row, id);
    let before = conv.clone();
    after_inbound(&mut conv, &message, ch, now);
    // A conversation just made is saved whole (its insert wrote only what it was created with).
    let update = if created {
        Some((SAVE_CONVERSATION_SQL.to_string(), conversation_args(&conv)))
    } else {
        changed_conversation_update(&before, &conv)
    };
    if let Some((sql, args)) = update {
        conn.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(args))?;
    }
    if let Some((sql, args)) = auto_close_statement(&conv, ch) {
        conn.prepare_cached(sql)?.execute(rusqlite::params_from_iter(args))?;
    }
    // An attention kept, or opened with nobody assigned: access is what it was (no removal).
    let access = Some(conv.access());
    let mut events = Vec::with_capacity(3);
    if created {
        events.push(pending.event(workspace_id, "conversation.created", access, None, to_json(&conv)?, now)?);
    }
    events.push(pending.event(workspace_id, "message.created", access, None, to_json(&message)?, now)?);
    if !created {
        events.push(pending.event(workspace_id, "conversation.updated", access, None, to_json(&conv)?, now)?);
    }
    if let Some(assignee) = conv.assignee_id {
        let text = conv.last_message_preview.clone().unwrap_or_default();
        let (mut n, args) = new_notification(workspace_id, assignee, "new_message", conv.id, text, now);
        n.id = conn.prepare_cached(NOTIFY_SQL)?.query_row(rusqlite::params_from_iter(args), |r| r.get(0))?;
        events.push(pending.event(workspace_id, "notification.created", None, Some(n.user_id), to_json(&n)?, now)?);
    }
    Ok(Written { value: Ingested { message, conversation: conv, duplicate: false }, events })
}

/// Who an inbound message is shown as written by: the group member who wrote it, else the
/// identity's name, else its contact's.
fn inbound_author(extra: &InboundExtra, identity: &ContactIdentity, contact_name: Option<String>) -> Author {
    let shown = extra.author_name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    Author {
        kind: AuthorType::Contact,
        id: identity.contact_id,
        name: match shown {
            Some(n) => n.to_string(),
            None if identity.name.is_empty() => contact_name.unwrap_or_default(),
            None => identity.name.clone(),
        },
    }
}

/// The message row of an inbound message (hidden: from a blocked contact).
fn inbound_row<'a>(
    conv: &'a Conversation,
    author: &'a Author,
    msg: &'a InboundMessage,
    reply_to: Option<Id>,
    hidden: bool,
    now: Millis,
) -> NewRow<'a> {
    NewRow {
        conv,
        kind: MessageKind::Inbound,
        author,
        text: &msg.text,
        reply_to,
        client_msg_id: None,
        provider_id: Some(msg.provider_message_id.clone()),
        status: MessageStatus::Delivered,
        hidden,
        event: None,
        now,
    }
}

/// The conversation once an inbound message is in it.
fn after_inbound(conv: &mut Conversation, message: &Message, ch: &ChannelRules, now: Millis) {
    let a = answering(conv).after(MessageKind::Inbound, now);
    set_answering(conv, a, ch);
    conv.last_message_id = Some(message.id);
    conv.last_message_preview = preview(&message.text, &message.attachments);
    conv.last_message_author = Some(AuthorType::Contact);
    conv.last_inbound_at = Some(now);
    conv.last_activity_at = now;
}

/// PostgreSQL's fast path, for its commonest cases: a known sender writing text into its open
/// conversation, in four round trips instead of a dozen or so (every statement is one, and
/// PostgreSQL's work per statement is most of an inbound message's cost): BEGIN, one statement
/// that reads and row-locks what [`ingest_tx`] would and reserves the message's id, one that
/// writes the message, the conversation, its auto-close job and the events, and COMMIT (plus
/// the assignee's notification when there is one); and a new sender of a channel routed by hand
/// in five ([`ingest_pg_new`]). The rows and events are those of [`ingest_fast`]. Anything else
/// answers None having written nothing, and [`ingest_tx`] goes on in the same transaction,
/// holding the same locks.
async fn ingest_pg_known(
    c: &mut AnyConnection,
    msg: &InboundMessage,
    extra: &InboundExtra,
    now: Millis,
) -> StoreResult<Option<Written<Ingested>>> {
    if !plain_text(msg, extra) {
        return Ok(None);
    }
    let Some(row) = sqlx::query(prefetch_locked_sql())
        .bind(msg.channel_id)
        .bind(msg.provider_message_id.as_str())
        .bind(msg.contact.external_id.as_str())
        .fetch_optional(&mut *c)
        .await?
    else {
        return Ok(None); // no such channel: the general path says so
    };
    let p = prefetched_from_row(&row)?;
    let message_id: Id = col(&row, "next_message_id")?;
    let ch = &p.channel;
    if p.duplicate || !ch.active {
        return Ok(None);
    }
    let (identity, conv) = match (p.identity, p.conversation) {
        (Some((identity, Some((contact_name, false)))), Some(conv)) => ((identity, contact_name), conv),
        (None, None) if ch.routing_mode == RoutingMode::Manual && ch.kind != ChannelKind::Telegram => {
            return ingest_pg_new(c, msg, extra, ch, &row, now).await;
        }
        _ => return Ok(None),
    };
    let ((identity, contact_name), mut conv) = (identity, conv);
    let renamed = given_name(msg).is_some_and(|n| n != identity.name);
    if renamed || !keeps_attention(&conv) {
        return Ok(None);
    }
    let workspace_id = ch.workspace_id;
    let author = inbound_author(extra, &identity, Some(contact_name));
    let row = inbound_row(&conv, &author, msg, None, false, now);
    let mut message_args = message_args(&row);
    message_args.push(message_id.into());
    let message = inserted_message(row, message_id);
    after_inbound(&mut conv, &message, ch, now);
    let notification = match conv.assignee_id {
        Some(assignee) => {
            let text = conv.last_message_preview.clone().unwrap_or_default();
            Some(notify(c, new_notification(workspace_id, assignee, "new_message", conv.id, text, now)).await?)
        }
        None => None,
    };
    // An attention kept: access is what it was (no removal).
    let access = Some(conv.access());
    let event = |kind: &str, access, user_id, payload| Event {
        seq: 0,
        workspace_id,
        kind: kind.to_string(),
        access,
        user_id,
        payload,
        created_at: now,
    };
    let mut events = vec![
        event("message.created", access, None, to_json(&message)?),
        event("conversation.updated", access, None, to_json(&conv)?),
    ];
    if let Some(n) = &notification {
        events.push(event("notification.created", None, Some(n.user_id), to_json(n)?));
    }
    let mut q = Sql::new("WITH u AS (");
    q.embed(SAVE_CONVERSATION_SQL, conversation_args(&conv)).push("), ");
    write_pg_message(c, q, message_args, &conv, ch, &mut events).await?;
    Ok(Some(Written { value: Ingested { message, conversation: conv, duplicate: false }, events }))
}

/// The end of both PostgreSQL fast paths: `q` (the start of a WITH list) goes on with the
/// message (`message_args` with its reserved id), the auto-close job and the events, and runs.
async fn write_pg_message(
    c: &mut AnyConnection,
    mut q: Sql,
    message_args: Vec<Arg>,
    conv: &Conversation,
    ch: &ChannelRules,
    events: &mut [Event],
) -> StoreResult<()> {
    static INSERT: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| with_reserved_id(INSERT_MESSAGE_SQL, None));
    q.push("m AS (").embed(&INSERT, message_args).push("), ");
    if let Some((sql, args)) = auto_close_statement(conv, ch) {
        q.push("j AS (").embed(sql, args).push("), ");
    }
    push_events_cte(&mut q, events)?;
    q.push(" SELECT (SELECT id FROM m) AS message_id, ").push(EVENT_SEQS_COLUMN);
    let written = q.query().fetch_one(&mut *c).await?;
    // A concurrent delivery of the same message committed while this one waited for the locks:
    // the transaction is rolled back and the caller answers with the stored one.
    if col::<Option<Id>>(&written, "message_id")?.is_none() {
        return Err(StoreError::Conflict("duplicate_inbound".into()));
    }
    set_event_seqs(events, col(&written, "seqs")?)
}

/// [`ingest_pg_known`] for a new sender of a channel routed by hand (what [`ingest_fast_new`]
/// does on SQLite), with the ids the locking read reserved: one statement inserts the identity
/// and, if the identity was new, its contact; a sender another transaction has just created
/// answers None, having written nothing. A second inserts the conversation as it ends up, its
/// attention, the message, the job and the events. (The conversation's search copy is filled
/// by its insert trigger from the contact and identity, written by the statement before.)
async fn ingest_pg_new(
    c: &mut AnyConnection,
    msg: &InboundMessage,
    extra: &InboundExtra,
    ch: &ChannelRules,
    row: &sqlx::any::AnyRow,
    now: Millis,
) -> StoreResult<Option<Written<Ingested>>> {
    static IDENTITY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| with_reserved_id(INSERT_IDENTITY_SQL, None));
    static CONTACT: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| with_reserved_id(super::directory::INSERT_CONTACT_SQL, Some("i")));
    static ATTENTION: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| with_reserved_id(INSERT_ATTENTION_SQL, None));
    let reserved = |name: &str| -> StoreResult<Id> {
        col::<Option<Id>>(row, name)?.ok_or_else(|| StoreError::Database(format!("{name} was not reserved")))
    };
    let workspace_id = ch.workspace_id;
    let (mut contact, mut contact_args) =
        super::directory::new_contact(workspace_id, sender_name(msg), new_sender_patch(msg, ch), now)?;
    contact.id = reserved("next_contacts_id")?;
    contact_args.push(contact.id.into());
    let identity = ContactIdentity {
        id: reserved("next_contact_identities_id")?,
        workspace_id,
        channel_id: msg.channel_id,
        external_id: msg.contact.external_id.clone(),
        contact_id: Some(contact.id),
        name: contact.name.clone(),
    };
    let mut identity_args = identity_args(&identity);
    identity_args.push(identity.id.into());
    let mut q = Sql::new("WITH i AS (");
    q.embed(&IDENTITY, identity_args).push("), k AS (").embed(&CONTACT, contact_args);
    q.push(") SELECT (SELECT id FROM i) AS identity_id");
    if col::<Option<Id>>(&q.query().fetch_one(&mut *c).await?, "identity_id")?.is_none() {
        return Ok(None);
    }

    let mut conv = Conversation {
        id: reserved("next_conversations_id")?,
        workspace_id,
        channel_id: msg.channel_id,
        identity_id: identity.id,
        contact_id: identity.contact_id,
        is_group: msg.is_group,
        status: Status::Closed,
        attention_id: None,
        assignee_id: None,
        team_id: None,
        snoozed_until: None,
        unanswered: false,
        no_reply_needed: false,
        waiting_since: None,
        due_at: None,
        owned_by_bot: false,
        last_message_id: None,
        last_message_preview: None,
        last_message_author: None,
        last_inbound_at: None,
        last_activity_at: now,
        created_at: now,
    };
    set_answering(&mut conv, Answering::default(), ch);
    let attention = reserved("next_attentions_id")?;
    let mut attention_args = attention_args(&conv, Status::Open, None, None, now);
    attention_args.push(attention.into());
    opened(&mut conv, attention, None, None);
    let message_id: Id = col(row, "next_message_id")?;
    let author = inbound_author(extra, &identity, Some(contact.name));
    let message_row = inbound_row(&conv, &author, msg, None, false, now);
    let mut message_args = message_args(&message_row);
    message_args.push(message_id.into());
    let message = inserted_message(message_row, message_id);
    after_inbound(&mut conv, &message, ch, now);
    let access = Some(conv.access());
    let event = |kind: &str, payload| Event {
        seq: 0,
        workspace_id,
        kind: kind.to_string(),
        access,
        user_id: None,
        payload,
        created_at: now,
    };
    let mut events = vec![event("conversation.created", to_json(&conv)?), event("message.created", to_json(&message)?)];
    let mut conversation_args = conversation_args(&conv);
    conversation_args.extend([
        workspace_id.into(),
        conv.channel_id.into(),
        conv.identity_id.into(),
        conv.is_group.into(),
        conv.created_at.into(),
    ]);
    let mut q = Sql::new("WITH c AS (");
    q.embed(insert_saved_conversation_sql(), conversation_args).push("), a AS (");
    q.embed(&ATTENTION, attention_args).push("), ");
    write_pg_message(c, q, message_args, &conv, ch, &mut events).await?;
    Ok(Some(Written { value: Ingested { message, conversation: conv, duplicate: false }, events }))
}

async fn ingest_tx(
    c: &mut AnyConnection,
    dialect: Dialect,
    msg: InboundMessage,
    extra: InboundExtra,
    now: Millis,
) -> StoreResult<Written<Ingested>> {
    if dialect == Dialect::Postgres
        && let Some(done) = ingest_pg_known(c, &msg, &extra, now).await?
    {
        return Ok(done);
    }
    // SQLite reads it all in one statement; PostgreSQL reads (and row-locks) step by step.
    // `known_conversation`: Some(the identity's conversation) when already read.
    let (duplicate, known_channel, known_identity, known_conversation) = match dialect {
        Dialect::Sqlite => {
            let p = prefetch_inbound(c, &msg).await?;
            (p.duplicate, Some(p.channel), p.identity, Some(p.conversation))
        }
        Dialect::Postgres => (true, None, None, None),
    };
    // Duplicate first: a redelivered webhook writes nothing.
    if duplicate && let Some(found) = existing_inbound(c, msg.channel_id, &msg.provider_message_id).await? {
        return Ok(unchanged(found));
    }
    let ch = match known_channel {
        Some(ch) => ch,
        None => channel_rules(c, msg.channel_id).await?,
    };
    if !ch.active {
        return Err(StoreError::NotFound);
    }
    let workspace_id = ch.workspace_id;
    let input = &msg.contact;
    let (mut identity, new_identity, known_contact) = match known_identity {
        Some((identity, contact)) => (identity, false, contact),
        None => {
            let (identity, new) = lock_or_create_identity(
                c,
                dialect,
                workspace_id,
                msg.channel_id,
                &input.external_id,
                sender_name(&msg),
            )
            .await?;
            (identity, new, None)
        }
    };
    if dialect == Dialect::Postgres && !new_identity {
        // We waited for the identity's lock: a concurrent delivery may have stored it meanwhile.
        if let Some(found) = existing_inbound(c, msg.channel_id, &msg.provider_message_id).await? {
            return Ok(unchanged(found));
        }
    }
    if new_identity {
        let patch = new_sender_patch(&msg, &ch);
        let contact_id = super::directory::insert_contact(c, workspace_id, sender_name(&msg), patch, now).await?.id;
        sqlx::query("UPDATE contact_identities SET contact_id = $1 WHERE id = $2")
            .bind(contact_id)
            .bind(identity.id)
            .execute(&mut *c)
            .await?;
        identity.contact_id = Some(contact_id);
    } else if let Some(name) = given_name(&msg).filter(|n| *n != identity.name) {
        sqlx::query(RENAME_IDENTITY_SQL)
            .bind(name)
            .bind(identity_search_name(name))
            .bind(identity.id)
            .execute(&mut *c)
            .await?;
        identity.name = name.to_string();
    }

    if let Some(profile) = &extra.profile {
        super::messengers::save_identity_profile(c, identity.id, profile, now).await?;
    }

    let (contact_name, blocked) = match (identity.contact_id, known_contact) {
        (Some(_), Some((name, blocked))) => (Some(name), blocked),
        (Some(id), None) => {
            let row =
                sqlx::query("SELECT name, blocked FROM contacts WHERE id = $1").bind(id).fetch_one(&mut *c).await?;
            (Some(col::<String>(&row, "name")?), col_bool(&row, "blocked")?)
        }
        (None, _) => (None, false),
    };

    // The conversation of the identity, created closed without attention when new; the
    // lifecycle below opens it.
    let select =
        format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.identity_id = $1{}", dialect.for_update());
    let existing = match known_conversation {
        Some(conv) => conv,
        None => match sqlx::query(&select).bind(identity.id).fetch_optional(&mut *c).await? {
            Some(row) => Some(conversation_from_row(&row)?),
            None => None,
        },
    };
    let (mut conv, created) = match existing {
        Some(conv) => (conv, false),
        None => {
            let args = new_conversation_args(workspace_id, &msg, &identity, now);
            let id: Id = col(&query_with(insert_conversation_sql(dialect), &args).fetch_one(&mut *c).await?, "id")?;
            let row = sqlx::query(&select).bind(identity.id).fetch_one(&mut *c).await?;
            let conv = conversation_from_row(&row)?;
            debug_assert_eq!(conv.id, id);
            (conv, true)
        }
    };
    let before = conv.clone();

    let author = inbound_author(&extra, &identity, contact_name);
    let attachments = unlinked_attachments(c, workspace_id, &msg.attachment_ids).await?;
    let reply_to = match extra.reply_to_provider_id.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => super::messengers::message_id_by_provider_id(c, msg.channel_id, p)
            .await?
            .filter(|(_, conversation_id)| *conversation_id == conv.id)
            .map(|(id, _)| id),
        None => None,
    };

    if blocked {
        // Kept for admins, never shown in the inbox, and nothing else moves.
        let row = inbound_row(&conv, &author, &msg, reply_to, true, now);
        let mut message =
            insert_message(c, row).await?.ok_or_else(|| StoreError::Conflict("duplicate_inbound".into()))?;
        link_attachments(c, &mut message, attachments).await?;
        return Ok(unchanged(Ingested { message, conversation: conv, duplicate: false }));
    }

    let current = if created || conv.attention_id.is_none() { None } else { Some(conv.status) };
    let mut notifications = Vec::new();
    match lifecycle::on_message(current, MessageKind::Inbound) {
        OnMessage::OpenNew => {
            // A new attention starts unanswered from this message on.
            set_answering(&mut conv, Answering::default(), &ch);
            open_new_attention(c, &mut conv, None, None, now).await?;
            if ch.routing_mode == RoutingMode::Auto
                && let Some(user_id) = route(c, workspace_id, msg.channel_id, now).await?
            {
                if let Some(att) = conv.attention_id {
                    set_attention_assignee(c, att, Some(user_id), None).await?;
                }
                conv.assignee_id = Some(user_id);
                touch_last_assigned(c, user_id, now).await?;
                let title = conversation_title(c, &conv).await?;
                notifications
                    .push(notify(c, new_notification(workspace_id, user_id, "assigned", conv.id, title, now)).await?);
            }
        }
        OnMessage::Wake => wake(c, &mut conv).await?,
        OnMessage::Keep => {}
    }

    let row = inbound_row(&conv, &author, &msg, reply_to, false, now);
    let mut message = insert_message(c, row).await?.ok_or_else(|| StoreError::Conflict("duplicate_inbound".into()))?;
    link_attachments(c, &mut message, attachments).await?;

    after_inbound(&mut conv, &message, &ch, now);
    save_conversation(c, &conv).await?;
    reschedule_auto_close(c, &conv, &ch).await?;

    if let Some(assignee) = conv.assignee_id {
        let text = conv.last_message_preview.clone().unwrap_or_default();
        notifications
            .push(notify(c, new_notification(workspace_id, assignee, "new_message", conv.id, text, now)).await?);
    }

    let mut events = Events::new(workspace_id, now);
    if created {
        events.conversation(c, "conversation.created", &conv).await?;
    }
    events.message(c, "message.created", &conv, &message).await?;
    if !created {
        events.conversation(c, "conversation.updated", &conv).await?;
        events.removed_if_moved(c, &before, &conv).await?;
    }
    for n in &notifications {
        events.notification(c, n).await?;
    }
    Ok(Written { value: Ingested { message, conversation: conv, duplicate: false }, events: events.list })
}

// --- outbound messages and notes -------------------------------------------------------------------

pub(crate) async fn send_message(
    s: &SqlStore,
    workspace_id: Id,
    msg: NewOutgoing,
    now: Millis,
) -> StoreResult<Written<Message>> {
    if !matches!(msg.kind, MessageKind::Outbound | MessageKind::Note) {
        return Err(StoreError::Invalid("invalid_kind", "only outbound messages and notes can be sent".into()));
    }
    let dialect = s.dialect;
    s.write(move |c| Box::pin(async move { send_tx(c, dialect, workspace_id, msg, now).await })).await
}

async fn send_tx(
    c: &mut AnyConnection,
    dialect: Dialect,
    workspace_id: Id,
    msg: NewOutgoing,
    now: Millis,
) -> StoreResult<Written<Message>> {
    let mut conv = lock_conversation(c, dialect, workspace_id, msg.conversation_id).await?;
    if let Some(key) = &msg.client_msg_id {
        let id: Option<Id> =
            sqlx::query_scalar("SELECT id FROM messages WHERE conversation_id = $1 AND client_msg_id = $2")
                .bind(conv.id)
                .bind(key.clone())
                .fetch_optional(&mut *c)
                .await?;
        if let Some(id) = id {
            let existing = load_message(c, id).await?.ok_or(StoreError::NotFound)?;
            return Ok(unchanged(existing));
        }
    }
    let ch = channel_rules(c, conv.channel_id).await?;
    let outbound = msg.kind == MessageKind::Outbound;
    if outbound && let Some(contact_id) = conv.contact_id {
        let blocked: i64 = sqlx::query_scalar("SELECT blocked FROM contacts WHERE id = $1")
            .bind(contact_id)
            .fetch_one(&mut *c)
            .await?;
        if blocked != 0 {
            return Err(StoreError::Invalid(
                "contact_blocked",
                "the contact is blocked; messages to it are refused".into(),
            ));
        }
    }
    if let Some(reply_to) = msg.reply_to {
        let found: Option<Id> = sqlx::query_scalar("SELECT id FROM messages WHERE id = $1 AND conversation_id = $2")
            .bind(reply_to)
            .bind(conv.id)
            .fetch_optional(&mut *c)
            .await?;
        if found.is_none() {
            return Err(StoreError::Invalid(
                "invalid_reply_to",
                "the quoted message is not in this conversation".into(),
            ));
        }
    }
    if msg.text.trim().is_empty() && msg.attachment_ids.is_empty() {
        return Err(StoreError::Invalid("empty_message", "a message needs text or an attachment".into()));
    }
    if outbound {
        if msg.template.is_some() {
            let length = msg.text.chars().count();
            if length > charla_core::limits::TEMPLATE_MAX {
                return Err(StoreError::Invalid(
                    "message_too_long",
                    format!(
                        "the filled template is {length} characters; the limit for templates is {}",
                        charla_core::limits::TEMPLATE_MAX
                    ),
                ));
            }
            if !msg.attachment_ids.is_empty() {
                return Err(StoreError::Invalid(
                    "invalid_template_message",
                    "a template message cannot carry attachments".into(),
                ));
            }
        } else if let Err(e) = charla_core::limits::check_message_length(ch.kind, ch.max_message_length, &msg.text) {
            return Err(StoreError::Invalid(
                "message_too_long",
                format!("message is {} characters; the limit on this channel is {}", e.length, e.limit),
            ));
        }
        if let Err(closed) =
            charla_core::window::check_outbound(ch.kind, conv.last_inbound_at, now, msg.template.is_some())
        {
            return Err(StoreError::Invalid(closed.code, closed.message));
        }
    } else if msg.template.is_some() {
        return Err(StoreError::Invalid("invalid_kind", "a note cannot be sent from a template".into()));
    } else {
        let length = msg.text.chars().count();
        if length > NOTE_MAX_CHARS {
            return Err(StoreError::Invalid(
                "message_too_long",
                format!("message is {length} characters; the limit for notes is {NOTE_MAX_CHARS}"),
            ));
        }
    }
    let attachments = unlinked_attachments(c, workspace_id, &msg.attachment_ids).await?;
    let before = conv.clone();

    if outbound {
        match lifecycle::on_message(conv.attention_id.map(|_| conv.status), MessageKind::Outbound) {
            OnMessage::OpenNew => {
                // The operator who writes takes the new attention.
                let taker = msg.author.id.filter(|_| msg.author.kind == AuthorType::User);
                open_new_attention(c, &mut conv, taker, None, now).await?;
            }
            OnMessage::Wake => wake(c, &mut conv).await?,
            OnMessage::Keep => {}
        }
    }

    let row = NewRow {
        conv: &conv,
        kind: msg.kind,
        author: &msg.author,
        text: &msg.text,
        reply_to: msg.reply_to,
        client_msg_id: msg.client_msg_id.clone(),
        provider_id: None,
        status: if outbound { MessageStatus::Queued } else { MessageStatus::Sent },
        hidden: false,
        event: None,
        now,
    };
    let mut message = insert_message(c, row)
        .await?
        .ok_or_else(|| StoreError::Conflict("a message with this client_msg_id exists".into()))?;
    link_attachments(c, &mut message, attachments).await?;
    if let Some(t) = &msg.template {
        super::messengers::save_template_ref(c, message.id, t).await?;
    }

    if outbound {
        // The job row is the durable outbox entry.
        schedule_job(c, JobKind::Deliver, message.id, now).await?;
        let a = answering(&conv).after(MessageKind::Outbound, now);
        set_answering(&mut conv, a, &ch);
        if let Some(att) = conv.attention_id {
            sqlx::query("UPDATE attentions SET first_response_at = $1 WHERE id = $2 AND first_response_at IS NULL")
                .bind(now)
                .bind(att)
                .execute(&mut *c)
                .await?;
        }
        conv.last_message_id = Some(message.id);
        conv.last_message_preview = preview(&message.text, &message.attachments);
        conv.last_message_author = Some(message.author.kind);
    }
    conv.last_activity_at = now;
    save_conversation(c, &conv).await?;
    reschedule_auto_close(c, &conv, &ch).await?;

    let mut events = Events::new(workspace_id, now);
    events.message(c, "message.created", &conv, &message).await?;
    events.conversation(c, "conversation.updated", &conv).await?;
    events.removed_if_moved(c, &before, &conv).await?;
    Ok(Written { value: message, events: events.list })
}

/// The conversation of a message, for the access of message events.
pub(crate) async fn conversation_of(c: &mut AnyConnection, m: &Message) -> StoreResult<Conversation> {
    super::inbox::load_conversation(c, m.workspace_id, m.conversation_id).await
}

pub(crate) async fn save_delivery_state(c: &mut AnyConnection, m: &Message, now: Millis) -> StoreResult<()> {
    sqlx::query("UPDATE messages SET status = $1, error = $2, provider_id = $3, updated_at = $4 WHERE id = $5")
        .bind(m.status.as_str())
        .bind(m.error.clone())
        .bind(m.provider_id.clone())
        .bind(now)
        .bind(m.id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// An outbound message, row-locked on PostgreSQL.
pub(crate) async fn lock_message(c: &mut AnyConnection, dialect: Dialect, id: Id) -> StoreResult<Option<Message>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1{}", dialect.for_update());
    let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await? else {
        return Ok(None);
    };
    let mut list = vec![message_from_row(&row)?];
    fill_attachments(c, &mut list).await?;
    Ok(list.pop())
}

pub(crate) async fn update_message_status(
    s: &SqlStore,
    channel_id: Id,
    message_id: Id,
    status: MessageStatus,
    error: Option<String>,
    now: Millis,
) -> StoreResult<Written<Message>> {
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            let mut m = match lock_message(c, dialect, message_id).await? {
                Some(m) if m.channel_id == channel_id && m.kind == MessageKind::Outbound => m,
                _ => return Err(StoreError::NotFound),
            };
            if !m.status.may_become(status) {
                return Ok(unchanged(m));
            }
            m.status = status;
            m.error = if status == MessageStatus::Failed {
                Some(error.filter(|e| !e.trim().is_empty()).unwrap_or_else(|| "delivery failed".into()))
            } else {
                None
            };
            save_delivery_state(c, &m, now).await?;
            // The provider has answered for it: no more delivery attempts.
            cancel_job(c, JobKind::Deliver, m.id).await?;
            let conv = conversation_of(c, &m).await?;
            let mut events = Events::new(m.workspace_id, now);
            events.message(c, "message.updated", &conv, &m).await?;
            Ok(Written { value: m, events: events.list })
        })
    })
    .await
}

// --- assignment ---------------------------------------------------------------------------------------

/// "Ana", "team Sales", "Ana (Sales)" or None for nobody.
async fn describe_owner(
    c: &mut AnyConnection,
    workspace_id: Id,
    user: Option<Id>,
    team: Option<Id>,
) -> StoreResult<Option<String>> {
    let user = match user {
        Some(id) => user_name(c, workspace_id, id).await?,
        None => None,
    };
    let team = match team {
        Some(id) => team_name(c, workspace_id, id).await?,
        None => None,
    };
    Ok(match (user, team) {
        (Some(u), Some(t)) => Some(format!("{u} ({t})")),
        (Some(u), None) => Some(u),
        (None, Some(t)) => Some(format!("team {t}")),
        (None, None) => None,
    })
}

pub(crate) async fn assign(
    s: &SqlStore,
    workspace_id: Id,
    conversation_id: Id,
    actor: Id,
    user_id: Option<Id>,
    team_id: Option<Id>,
    now: Millis,
) -> StoreResult<Written<Conversation>> {
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            let mut conv = lock_conversation(c, dialect, workspace_id, conversation_id).await?;
            if let Some(u) = user_id {
                let active: Option<i64> =
                    sqlx::query_scalar("SELECT active FROM users WHERE id = $1 AND workspace_id = $2")
                        .bind(u)
                        .bind(workspace_id)
                        .fetch_optional(&mut *c)
                        .await?;
                match active {
                    None => return Err(StoreError::Invalid("invalid_user", "no such user in this workspace".into())),
                    Some(0) => return Err(StoreError::Invalid("invalid_user", "the user is deactivated".into())),
                    Some(_) => {}
                }
            }
            if let Some(t) = team_id
                && team_name(c, workspace_id, t).await?.is_none()
            {
                return Err(StoreError::Invalid("invalid_team", "no such team in this workspace".into()));
            }
            let decision = lifecycle::reassign(conv.status, (conv.assignee_id, conv.team_id), (user_id, team_id));
            if decision == Reassign::Nothing {
                return Ok(unchanged(conv));
            }
            let ch = channel_rules(c, conv.channel_id).await?;
            let before = conv.clone();
            let from = describe_owner(c, workspace_id, before.assignee_id, before.team_id).await?;
            let to = describe_owner(c, workspace_id, user_id, team_id).await?;
            match decision {
                Reassign::Transfer => {
                    // Metrics stay per operator: the current attention ends here, a new one
                    // starts for the new owner, in the same state (a snooze carries over).
                    if let Some(old) = conv.attention_id {
                        close_attention(c, old, Some(lifecycle::CLOSE_REASON_TRANSFERRED), now).await?;
                        cancel_job(c, JobKind::AutoClose, old).await?;
                        cancel_job(c, JobKind::SnoozeWake, old).await?;
                    }
                    let new = insert_attention(c, &conv, conv.status, user_id, team_id, now).await?;
                    conv.attention_id = Some(new);
                    if conv.status == Status::Snoozed
                        && let Some(until) = conv.snoozed_until
                    {
                        schedule_job(c, JobKind::SnoozeWake, new, until).await?;
                    }
                }
                Reassign::ChangeAssignee | Reassign::Take => {
                    if let Some(att) = conv.attention_id {
                        set_attention_assignee(c, att, user_id, team_id).await?;
                    }
                }
                Reassign::Nothing => {}
            }
            conv.assignee_id = user_id;
            conv.team_id = team_id;
            save_conversation(c, &conv).await?;
            reschedule_auto_close(c, &conv, &ch).await?;

            let (text, kind) = match (decision, &from, &to) {
                (_, None, Some(to)) => (format!("Assigned to {to}"), "assigned"),
                (_, Some(from), None) => (format!("Unassigned from {from}"), "unassigned"),
                (Reassign::Transfer, Some(from), Some(to)) => {
                    (format!("Transferred from {from} to {to}"), "transferred")
                }
                (_, Some(from), Some(to)) => (format!("Reassigned from {from} to {to}"), "reassigned"),
                (_, None, None) => ("Unassigned".to_string(), "unassigned"),
            };
            let data = serde_json::json!({ "type": kind, "from": from, "to": to });
            let line = event_line(c, &conv, Some(actor), text, data, now).await?;
            let mut notification = None;
            if let Some(u) = user_id
                && before.assignee_id != Some(u)
            {
                touch_last_assigned(c, u, now).await?;
                if u != actor {
                    let title = conversation_title(c, &conv).await?;
                    notification =
                        Some(notify(c, new_notification(workspace_id, u, "assigned", conv.id, title, now)).await?);
                }
            }

            let mut events = Events::new(workspace_id, now);
            events.message(c, "message.created", &conv, &line).await?;
            events.conversation(c, "conversation.updated", &conv).await?;
            events.removed_if_moved(c, &before, &conv).await?;
            if let Some(n) = &notification {
                events.notification(c, n).await?;
            }
            Ok(Written { value: conv, events: events.list })
        })
    })
    .await
}

// --- close, reopen, snooze ------------------------------------------------------------------------------

/// Closes the current attention (open or snoozed) with `reason`: the history line and the
/// events go to `events`.
pub(crate) async fn close_tx(
    c: &mut AnyConnection,
    conv: &mut Conversation,
    actor: Option<Id>,
    reason: Option<String>,
    now: Millis,
    events: &mut Events,
) -> StoreResult<()> {
    if let Some(att) = conv.attention_id {
        close_attention(c, att, reason.as_deref(), now).await?;
        cancel_job(c, JobKind::AutoClose, att).await?;
        cancel_job(c, JobKind::SnoozeWake, att).await?;
    }
    conv.status = Status::Closed;
    conv.unanswered = false;
    conv.no_reply_needed = false;
    conv.waiting_since = None;
    conv.due_at = None;
    conv.snoozed_until = None;
    save_conversation(c, conv).await?;
    let text = match &reason {
        Some(r) => format!("Closed: {r}"),
        None => "Closed".to_string(),
    };
    let data = serde_json::json!({ "type": "closed", "reason": reason });
    let line = event_line(c, conv, actor, text, data, now).await?;
    events.message(c, "message.created", conv, &line).await?;
    events.conversation(c, "conversation.updated", conv).await?;
    Ok(())
}

pub(crate) async fn close(
    s: &SqlStore,
    workspace_id: Id,
    conversation_id: Id,
    actor: Id,
    reason: Option<String>,
    now: Millis,
) -> StoreResult<Written<Conversation>> {
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            let mut conv = lock_conversation(c, dialect, workspace_id, conversation_id).await?;
            if conv.status == Status::Closed {
                return Err(StoreError::Invalid("already_closed", "the conversation is already closed".into()));
            }
            let reason = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
            if let Some(r) = &reason
                && r != lifecycle::CLOSE_REASON_TRANSFERRED
                && r != lifecycle::CLOSE_REASON_INACTIVITY
            {
                let known: Option<Id> =
                    sqlx::query_scalar("SELECT id FROM close_reasons WHERE workspace_id = $1 AND name = $2")
                        .bind(workspace_id)
                        .bind(r.clone())
                        .fetch_optional(&mut *c)
                        .await?;
                if known.is_none() {
                    return Err(StoreError::Invalid(
                        "invalid_close_reason",
                        format!("{r:?} is not a close reason of this workspace"),
                    ));
                }
            }
            let mut events = Events::new(workspace_id, now);
            close_tx(c, &mut conv, Some(actor), reason, now, &mut events).await?;
            Ok(Written { value: conv, events: events.list })
        })
    })
    .await
}

pub(crate) async fn reopen(
    s: &SqlStore,
    workspace_id: Id,
    conversation_id: Id,
    actor: Id,
    now: Millis,
) -> StoreResult<Written<Conversation>> {
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            let mut conv = lock_conversation(c, dialect, workspace_id, conversation_id).await?;
            let before = conv.clone();
            match conv.status {
                Status::Open => {
                    return Err(StoreError::Invalid("already_open", "the conversation is already open".into()));
                }
                Status::Snoozed => wake(c, &mut conv).await?,
                Status::Closed => {
                    let assignee = conv.assignee_id.or(Some(actor));
                    let team = conv.team_id;
                    open_new_attention(c, &mut conv, assignee, team, now).await?;
                }
            }
            // Reopening is activity: the inactivity timer starts again from now.
            conv.last_activity_at = now;
            save_conversation(c, &conv).await?;
            let ch = channel_rules(c, conv.channel_id).await?;
            reschedule_auto_close(c, &conv, &ch).await?;
            let line = event_line(
                c,
                &conv,
                Some(actor),
                "Reopened".to_string(),
                serde_json::json!({ "type": "reopened" }),
                now,
            )
            .await?;
            let mut events = Events::new(workspace_id, now);
            events.message(c, "message.created", &conv, &line).await?;
            events.conversation(c, "conversation.updated", &conv).await?;
            events.removed_if_moved(c, &before, &conv).await?;
            Ok(Written { value: conv, events: events.list })
        })
    })
    .await
}

pub(crate) async fn snooze(
    s: &SqlStore,
    workspace_id: Id,
    conversation_id: Id,
    actor: Id,
    until: Millis,
    now: Millis,
) -> StoreResult<Written<Conversation>> {
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            let mut conv = lock_conversation(c, dialect, workspace_id, conversation_id).await?;
            if conv.status != Status::Open {
                return Err(StoreError::Invalid("not_open", "only an open conversation can be snoozed".into()));
            }
            if !lifecycle::valid_snooze(until, now) {
                return Err(StoreError::Invalid("invalid_snooze", "the snooze time must be in the future".into()));
            }
            let att =
                conv.attention_id.ok_or(StoreError::Invalid("not_open", "the conversation has no attention".into()))?;
            set_attention_status(c, att, Status::Snoozed).await?;
            schedule_job(c, JobKind::SnoozeWake, att, until).await?;
            // A snoozed attention never auto-closes.
            cancel_job(c, JobKind::AutoClose, att).await?;
            conv.status = Status::Snoozed;
            conv.snoozed_until = Some(until);
            save_conversation(c, &conv).await?;
            let line = event_line(
                c,
                &conv,
                Some(actor),
                format!("Snoozed until {}", format_utc(until)),
                serde_json::json!({ "type": "snoozed", "until": until }),
                now,
            )
            .await?;
            let mut events = Events::new(workspace_id, now);
            events.message(c, "message.created", &conv, &line).await?;
            events.conversation(c, "conversation.updated", &conv).await?;
            Ok(Written { value: conv, events: events.list })
        })
    })
    .await
}

pub(crate) async fn no_reply_needed(
    s: &SqlStore,
    workspace_id: Id,
    conversation_id: Id,
    actor: Id,
    now: Millis,
) -> StoreResult<Written<Conversation>> {
    let _ = actor;
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            let mut conv = lock_conversation(c, dialect, workspace_id, conversation_id).await?;
            let a = answering(&conv).no_reply_needed();
            conv.unanswered = a.unanswered;
            conv.no_reply_needed = a.no_reply_needed;
            conv.waiting_since = a.waiting_since;
            conv.due_at = None;
            save_conversation(c, &conv).await?;
            let mut events = Events::new(workspace_id, now);
            events.conversation(c, "conversation.updated", &conv).await?;
            Ok(Written { value: conv, events: events.list })
        })
    })
    .await
}

// --- read state ----------------------------------------------------------------------------------------

async fn read_state_written(
    c: &mut AnyConnection,
    workspace_id: Id,
    user_id: Id,
    conversation_id: Id,
    now: Millis,
) -> StoreResult<Written<ReadState>> {
    let state = load_read_states(c, user_id, &[conversation_id]).await?.remove(&conversation_id).unwrap_or_default();
    let payload = serde_json::json!({
        "conversation_id": conversation_id,
        "unread_count": state.unread_count,
        "marked_unread": state.marked_unread,
        "last_read_message_id": state.last_read_message_id,
    });
    let ev = insert_event(c, workspace_id, "conversation.read", None, Some(user_id), payload, now).await?;
    Ok(Written { value: state, events: vec![ev] })
}

pub(crate) async fn mark_read(
    s: &SqlStore,
    workspace_id: Id,
    user_id: Id,
    conversation_id: Id,
    now: Millis,
) -> StoreResult<Written<ReadState>> {
    s.write(move |c| {
        Box::pin(async move {
            let conv = super::inbox::load_conversation(c, workspace_id, conversation_id).await?;
            let last: Option<Id> = sqlx::query_scalar("SELECT MAX(id) FROM messages WHERE conversation_id = $1 AND hidden = 0")
                .bind(conv.id)
                .fetch_one(&mut *c)
                .await?;
            sqlx::query(
                "INSERT INTO read_states (user_id, conversation_id, last_read_message_id, marked_unread) VALUES ($1, $2, $3, 0) \
                 ON CONFLICT (user_id, conversation_id) DO UPDATE SET last_read_message_id = excluded.last_read_message_id, \
                 marked_unread = 0",
            )
            .bind(user_id)
            .bind(conv.id)
            .bind(last)
            .execute(&mut *c)
            .await?;
            read_state_written(c, workspace_id, user_id, conv.id, now).await
        })
    })
    .await
}

pub(crate) async fn mark_unread(
    s: &SqlStore,
    workspace_id: Id,
    user_id: Id,
    conversation_id: Id,
    now: Millis,
) -> StoreResult<Written<ReadState>> {
    s.write(move |c| {
        Box::pin(async move {
            let conv = super::inbox::load_conversation(c, workspace_id, conversation_id).await?;
            sqlx::query(
                "INSERT INTO read_states (user_id, conversation_id, last_read_message_id, marked_unread) VALUES ($1, $2, NULL, 1) \
                 ON CONFLICT (user_id, conversation_id) DO UPDATE SET marked_unread = 1",
            )
            .bind(user_id)
            .bind(conv.id)
            .execute(&mut *c)
            .await?;
            read_state_written(c, workspace_id, user_id, conv.id, now).await
        })
    })
    .await
}

// --- detach, delete, drafts ---------------------------------------------------------------------------

pub(crate) async fn detach_contact(
    s: &SqlStore,
    workspace_id: Id,
    conversation_id: Id,
    actor: Id,
    now: Millis,
) -> StoreResult<Written<Conversation>> {
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            // Lock order identity → conversation, as ingestion does.
            let seen = super::inbox::load_conversation(c, workspace_id, conversation_id).await?;
            let lock_identity = format!("SELECT id FROM contact_identities WHERE id = $1{}", dialect.for_update());
            sqlx::query(&lock_identity).bind(seen.identity_id).fetch_optional(&mut *c).await?;
            let mut conv = lock_conversation(c, dialect, workspace_id, conversation_id).await?;
            if conv.contact_id.is_none() {
                return Ok(unchanged(conv));
            }
            let before = conv.clone();
            sqlx::query("UPDATE contact_identities SET contact_id = NULL WHERE id = $1")
                .bind(conv.identity_id)
                .execute(&mut *c)
                .await?;
            conv.contact_id = None;
            save_conversation(c, &conv).await?;
            let line = event_line(
                c,
                &conv,
                Some(actor),
                "Contact detached".to_string(),
                serde_json::json!({ "type": "contact_detached" }),
                now,
            )
            .await?;
            let mut events = Events::new(workspace_id, now);
            events.message(c, "message.created", &conv, &line).await?;
            events.conversation(c, "conversation.updated", &conv).await?;
            events.removed_if_moved(c, &before, &conv).await?;
            Ok(Written { value: conv, events: events.list })
        })
    })
    .await
}

pub(crate) async fn delete_conversations(
    s: &SqlStore,
    workspace_id: Id,
    ids: &[Id],
    now: Millis,
) -> StoreResult<Written<Vec<String>>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(unchanged(Vec::new()));
    }
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            let mut q = Sql::new(&format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.workspace_id = "));
            q.bind(workspace_id);
            q.push(" AND c.id IN ");
            q.bind_list(&ids);
            q.push(" ORDER BY c.id");
            q.push(dialect.for_update());
            let convs = q.query().fetch_all(&mut *c).await?.iter().map(conversation_from_row).collect::<StoreResult<Vec<_>>>()?;
            if convs.len() != ids.len() {
                return Err(StoreError::NotFound);
            }

            let mut q = Sql::new(
                "SELECT a.storage_key AS storage_key FROM attachments a JOIN messages m ON m.id = a.message_id \
                 WHERE m.conversation_id IN ",
            );
            q.bind_list(&ids);
            q.push(" ORDER BY a.id");
            let mut keys = Vec::new();
            for row in q.query().fetch_all(&mut *c).await? {
                keys.push(col::<String>(&row, "storage_key")?);
            }

            let statements: [(&str, &str); 9] = [
                (
                    "DELETE FROM jobs WHERE kind IN ('auto_close', 'snooze_wake') AND target_id IN \
                     (SELECT id FROM attentions WHERE conversation_id IN ",
                    ")",
                ),
                ("DELETE FROM jobs WHERE kind = 'deliver' AND target_id IN (SELECT id FROM messages WHERE conversation_id IN ", ")"),
                ("DELETE FROM attachments WHERE message_id IN (SELECT id FROM messages WHERE conversation_id IN ", ")"),
                ("DELETE FROM messages WHERE conversation_id IN ", ""),
                ("DELETE FROM read_states WHERE conversation_id IN ", ""),
                ("DELETE FROM drafts WHERE conversation_id IN ", ""),
                ("DELETE FROM notifications WHERE conversation_id IN ", ""),
                ("DELETE FROM attentions WHERE conversation_id IN ", ""),
                ("DELETE FROM conversations WHERE id IN ", ""),
            ];
            for (head, tail) in statements {
                let mut q = Sql::new(head);
                q.bind_list(&ids);
                q.push(tail);
                q.query().execute(&mut *c).await?;
            }

            let mut events = Vec::with_capacity(convs.len());
            for conv in &convs {
                let payload = serde_json::json!({ "id": conv.id });
                events.push(insert_event(c, workspace_id, "conversation.deleted", Some(conv.access()), None, payload, now).await?);
            }
            Ok(Written { value: keys, events })
        })
    })
    .await
}

pub(crate) async fn put_draft(
    s: &SqlStore,
    workspace_id: Id,
    user_id: Id,
    conversation_id: Id,
    text: &str,
    now: Millis,
) -> StoreResult<Draft> {
    let length = text.chars().count();
    if length > DRAFT_MAX_CHARS {
        return Err(StoreError::Invalid(
            "message_too_long",
            format!("draft is {length} characters; the limit is {DRAFT_MAX_CHARS}"),
        ));
    }
    let text = text.to_string();
    s.write(move |c| {
        Box::pin(async move {
            super::inbox::load_conversation(c, workspace_id, conversation_id).await?;
            if text.trim().is_empty() {
                sqlx::query("DELETE FROM drafts WHERE user_id = $1 AND conversation_id = $2")
                    .bind(user_id)
                    .bind(conversation_id)
                    .execute(&mut *c)
                    .await?;
                return Ok(Draft { user_id, conversation_id, text: String::new(), updated_at: now });
            }
            sqlx::query(
                "INSERT INTO drafts (user_id, conversation_id, text, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, conversation_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at",
            )
            .bind(user_id)
            .bind(conversation_id)
            .bind(text.clone())
            .bind(now)
            .execute(&mut *c)
            .await?;
            Ok(Draft { user_id, conversation_id, text, updated_at: now })
        })
    })
    .await
}

// --- timer jobs ---------------------------------------------------------------------------------------------

pub(crate) async fn run_timer_job(s: &SqlStore, job: Job, now: Millis) -> StoreResult<Written<()>> {
    if !matches!(job.kind, JobKind::AutoClose | JobKind::SnoozeWake) {
        return Err(StoreError::Invalid("not_a_timer_job", "delivery jobs go through delivery/finish_delivery".into()));
    }
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            // Removing the row is the claim: if someone else already ran it, nothing happens.
            let done = sqlx::query("DELETE FROM jobs WHERE id = $1").bind(job.id).execute(&mut *c).await?;
            if done.rows_affected() == 0 {
                return Ok(unchanged(()));
            }
            let conversation_id: Option<Id> =
                sqlx::query_scalar("SELECT conversation_id FROM attentions WHERE id = $1")
                    .bind(job.target_id)
                    .fetch_optional(&mut *c)
                    .await?;
            let Some(conversation_id) = conversation_id else { return Ok(unchanged(())) };
            let workspace_id: Id = sqlx::query_scalar("SELECT workspace_id FROM conversations WHERE id = $1")
                .bind(conversation_id)
                .fetch_one(&mut *c)
                .await?;
            let mut conv = lock_conversation(c, dialect, workspace_id, conversation_id).await?;
            // A stale job: the attention is no longer the current one.
            if conv.attention_id != Some(job.target_id) {
                return Ok(unchanged(()));
            }
            let ch = channel_rules(c, conv.channel_id).await?;
            let mut events = Events::new(workspace_id, now);
            match job.kind {
                JobKind::AutoClose => {
                    if conv.status != Status::Open {
                        return Ok(unchanged(()));
                    }
                    match lifecycle::auto_close_at(conv.status, conv.last_activity_at, ch.auto_close_after_secs) {
                        None => return Ok(unchanged(())),
                        Some(at) if at > now => {
                            // Activity moved the deadline later.
                            schedule_job(c, JobKind::AutoClose, job.target_id, at).await?;
                            return Ok(unchanged(()));
                        }
                        Some(_) => {
                            let reason = Some(lifecycle::CLOSE_REASON_INACTIVITY.to_string());
                            close_tx(c, &mut conv, None, reason, now, &mut events).await?;
                        }
                    }
                }
                JobKind::SnoozeWake => {
                    if conv.status != Status::Snoozed {
                        return Ok(unchanged(()));
                    }
                    if let Some(until) = conv.snoozed_until
                        && until > now
                    {
                        // Snoozed again for later meanwhile.
                        schedule_job(c, JobKind::SnoozeWake, job.target_id, until).await?;
                        return Ok(unchanged(()));
                    }
                    wake(c, &mut conv).await?;
                    // The wake-up is activity: inactivity counts from now.
                    conv.last_activity_at = now;
                    save_conversation(c, &conv).await?;
                    reschedule_auto_close(c, &conv, &ch).await?;
                    let line = event_line(
                        c,
                        &conv,
                        None,
                        "Snooze ended".to_string(),
                        serde_json::json!({ "type": "snooze_ended" }),
                        now,
                    )
                    .await?;
                    events.message(c, "message.created", &conv, &line).await?;
                    events.conversation(c, "conversation.updated", &conv).await?;
                    if let Some(assignee) = conv.assignee_id {
                        let title = conversation_title(c, &conv).await?;
                        let n =
                            notify(c, new_notification(workspace_id, assignee, "snooze_reminder", conv.id, title, now))
                                .await?;
                        events.notification(c, &n).await?;
                    }
                }
                JobKind::Deliver => {}
            }
            Ok(Written { value: (), events: events.list })
        })
    })
    .await
}

// --- delivery (the outbox) ---------------------------------------------------------------------------------

async fn delete_job(s: &SqlStore, id: Id) -> StoreResult<()> {
    s.write(move |c| {
        Box::pin(async move {
            sqlx::query("DELETE FROM jobs WHERE id = $1").bind(id).execute(&mut *c).await?;
            Ok(())
        })
    })
    .await
}

async fn load_delivery(c: &mut AnyConnection, job: &Job) -> StoreResult<Option<Delivery>> {
    let message = match load_message(c, job.target_id).await? {
        Some(m) if m.kind == MessageKind::Outbound && m.status == MessageStatus::Queued => m,
        _ => return Ok(None),
    };
    let conversation = conversation_of(c, &message).await?;
    let identity = super::inbox::load_identity(c, conversation.identity_id).await?;
    let channel = match super::directory::load_channel(c, Some(message.workspace_id), message.channel_id).await {
        Ok(ch) => ch,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let template = super::messengers::load_template_ref(c, message.id).await?;
    let reply_to_provider_id = match message.reply_to {
        Some(id) => super::messengers::provider_id_of(c, id).await?,
        None => None,
    };
    Ok(Some(Delivery { message, channel, identity, conversation, template, reply_to_provider_id }))
}

pub(crate) async fn delivery(s: &SqlStore, job: Job) -> StoreResult<Delivery> {
    let found = {
        let mut conn = s.pool.acquire().await?;
        load_delivery(&mut conn, &job).await?
    };
    match found {
        Some(d) => Ok(d),
        None => {
            // Nothing left to deliver (deleted, or a receipt already settled it).
            delete_job(s, job.id).await?;
            Err(StoreError::NotFound)
        }
    }
}

pub(crate) async fn finish_delivery(
    s: &SqlStore,
    job: Job,
    outcome: DeliveryOutcome,
    now: Millis,
) -> StoreResult<Written<Message>> {
    let dialect = s.dialect;
    let job_id = job.id;
    let result = s
        .write(move |c| {
            Box::pin(async move {
                let Some(mut m) = lock_message(c, dialect, job.target_id).await? else {
                    return Err(StoreError::NotFound);
                };
                let before = (m.status, m.provider_id.clone(), m.error.clone());
                match outcome {
                    DeliveryOutcome::Sent { provider_id } => {
                        if m.status.may_become(MessageStatus::Sent) {
                            m.status = MessageStatus::Sent;
                        }
                        if let Some(pid) = provider_id.as_deref().filter(|p| !p.is_empty()) {
                            super::messengers::record_provider_id(c, m.channel_id, m.id, pid).await?;
                        }
                        if provider_id.is_some() {
                            m.provider_id = provider_id;
                        }
                        if m.status != MessageStatus::Failed {
                            m.error = None;
                        }
                        sqlx::query("DELETE FROM jobs WHERE id = $1").bind(job.id).execute(&mut *c).await?;
                        // Receipts that overtook this answer.
                        super::messengers::apply_pending_receipts(c, &mut m).await?;
                    }
                    DeliveryOutcome::Defer { at } => {
                        sqlx::query("UPDATE jobs SET run_at = $1, locked_until = NULL WHERE id = $2")
                            .bind(at)
                            .bind(job.id)
                            .execute(&mut *c)
                            .await?;
                    }
                    DeliveryOutcome::Retry { at, error } => {
                        if m.status == MessageStatus::Queued {
                            sqlx::query(
                                "UPDATE jobs SET run_at = $1, attempts = attempts + 1, locked_until = NULL, last_error = $2 \
                                 WHERE id = $3",
                            )
                            .bind(at)
                            .bind(error.clone())
                            .bind(job.id)
                            .execute(&mut *c)
                            .await?;
                            // Operators see why it is late; the status stays queued.
                            m.error = Some(error);
                        } else {
                            sqlx::query("DELETE FROM jobs WHERE id = $1").bind(job.id).execute(&mut *c).await?;
                        }
                    }
                    DeliveryOutcome::Failed { error } => {
                        if m.status.may_become(MessageStatus::Failed) {
                            m.status = MessageStatus::Failed;
                            m.error = Some(error);
                        }
                        sqlx::query("DELETE FROM jobs WHERE id = $1").bind(job.id).execute(&mut *c).await?;
                    }
                }
                if before == (m.status, m.provider_id.clone(), m.error.clone()) {
                    return Ok(unchanged(m));
                }
                save_delivery_state(c, &m, now).await?;
                let conv = conversation_of(c, &m).await?;
                let mut events = Events::new(m.workspace_id, now);
                events.message(c, "message.updated", &conv, &m).await?;
                Ok(Written { value: m, events: events.list })
            })
        })
        .await;
    if matches!(result, Err(StoreError::NotFound)) {
        delete_job(s, job_id).await?;
    }
    result
}

/// Hidden messages (from blocked contacts) are kept for admins for a while, then removed.
pub(crate) async fn purge_hidden_messages(s: &SqlStore, before: Millis) -> StoreResult<Vec<String>> {
    s.write(move |c| {
        Box::pin(async move {
            let keys: Vec<String> = sqlx::query_scalar(
                "SELECT a.storage_key FROM attachments a JOIN messages m ON m.id = a.message_id \
                 WHERE m.hidden = 1 AND m.created_at < $1",
            )
            .bind(before)
            .fetch_all(&mut *c)
            .await?;
            sqlx::query(
                "DELETE FROM attachments WHERE message_id IN \
                 (SELECT id FROM messages WHERE hidden = 1 AND created_at < $1)",
            )
            .bind(before)
            .execute(&mut *c)
            .await?;
            sqlx::query("DELETE FROM messages WHERE hidden = 1 AND created_at < $1")
                .bind(before)
                .execute(&mut *c)
                .await?;
            Ok(keys)
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_for_history_lines() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(1_700_000_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(4_102_444_799_000), "2099-12-31 23:59 UTC");
    }

    #[test]
    fn previews() {
        let att = Attachment {
            id: 1,
            workspace_id: 1,
            message_id: None,
            name: "photo.jpg".into(),
            content_type: "image/jpeg".into(),
            size: 1,
            storage_key: "k".into(),
            created_at: 0,
        };
        assert_eq!(preview("  hi  ", &[]), Some("hi".into()));
        assert_eq!(preview("", std::slice::from_ref(&att)), Some("photo.jpg".into()));
        assert_eq!(preview(" ", &[]), None);
        assert_eq!(preview(&"ж".repeat(300), &[]).map(|p| p.chars().count()), Some(PREVIEW_CHARS));
    }

    #[test]
    fn reserved_ids_go_first_and_bind_last() {
        assert_eq!(
            with_reserved_id("INSERT INTO t (a, b) VALUES ($1, lower($2)) ON CONFLICT DO NOTHING RETURNING id", None),
            "INSERT INTO t (id, a, b) VALUES ($3, $1, lower($2)) ON CONFLICT DO NOTHING RETURNING id"
        );
        assert_eq!(
            with_reserved_id("INSERT INTO t (a, b, c) VALUES ($1, 0, $2) RETURNING id", Some("i")),
            "INSERT INTO t (id, a, b, c) SELECT $3, $1, 0, $2 FROM i RETURNING id"
        );
        let mut q = Sql::new("WITH x AS (");
        q.bind(7).push("), y AS (").embed("SELECT $1, $2, $1, $10", vec![1.into(), 2.into()]).push(")");
        assert_eq!(q.text, "WITH x AS ($1), y AS (SELECT $2, $3, $2, $11)");
        assert_eq!(q.args.len(), 3);
    }

    #[test]
    fn a_saved_conversation_names_only_what_changed() {
        let before = Conversation {
            id: 42,
            workspace_id: 1,
            channel_id: 2,
            identity_id: 3,
            contact_id: Some(4),
            is_group: false,
            status: Status::Open,
            attention_id: Some(5),
            assignee_id: Some(6),
            team_id: None,
            snoozed_until: None,
            unanswered: true,
            no_reply_needed: false,
            waiting_since: Some(1_000),
            due_at: Some(61_000),
            owned_by_bot: false,
            last_message_id: Some(7),
            last_message_preview: Some("hola".into()),
            last_message_author: Some(AuthorType::Contact),
            last_inbound_at: Some(1_000),
            last_activity_at: 1_000,
            created_at: 1_000,
        };
        assert_eq!(changed_conversation_update(&before, &before.clone()), None);
        let after = Conversation {
            last_message_id: Some(8),
            last_message_preview: None,
            last_inbound_at: Some(2_000),
            last_activity_at: 2_000,
            ..before.clone()
        };
        let (sql, args) = changed_conversation_update(&before, &after).expect("changed");
        assert_eq!(
            sql,
            "UPDATE conversations SET last_message_id = ?1, last_message_preview = ?2, last_inbound_at = ?3, \
             last_activity_at = ?4 WHERE id = ?5"
        );
        assert_eq!(
            args,
            vec![Arg::Int(Some(8)), Arg::Text(None), Arg::Int(Some(2_000)), Arg::Int(Some(2_000)), Arg::Int(Some(42))]
        );
        let reassigned = Conversation { assignee_id: None, team_id: Some(9), ..before.clone() };
        let (sql, args) = changed_conversation_update(&before, &reassigned).expect("changed");
        assert_eq!(sql, "UPDATE conversations SET assignee_id = ?1, team_id = ?2 WHERE id = ?3");
        assert_eq!(args, vec![Arg::Int(None), Arg::Int(Some(9)), Arg::Int(Some(42))]);
    }

    #[test]
    fn a_new_conversation_is_inserted_with_what_saving_it_writes() {
        let sql = insert_saved_conversation_sql();
        assert!(sql.starts_with("INSERT INTO conversations (contact_id, status, attention_id, assignee_id,"));
        assert!(sql.contains("last_activity_at, id, workspace_id, channel_id, identity_id, is_group, created_at)"));
        assert!(sql.ends_with("$21, $22)"));
    }
}
