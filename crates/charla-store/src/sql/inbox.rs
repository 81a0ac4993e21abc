//! Reads: the conversation list (sections, counters, filters, sorts, cursor, search), one
//! conversation, history, drafts; and the decoders of the conversation-side tables that
//! `conversations.rs` shares.

use super::rows::{ATTACHMENT_COLUMNS, CONTACT_COLUMNS, attachment_from_row, contact_from_prefixed_row, id_list};
use super::*;
use charla_core::Flag;
use charla_core::search::{SearchTerm, like_escape};
use sqlx::any::AnyRow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

// --- decoders -------------------------------------------------------------------------------

/// Columns of `conversations`, qualified with the alias `c`.
pub(crate) const CONVERSATION_COLUMNS: &str = "c.id, c.workspace_id, c.channel_id, c.identity_id, c.contact_id, \
     c.is_group, c.status, c.attention_id, c.assignee_id, c.team_id, c.snoozed_until, c.unanswered, \
     c.no_reply_needed, c.waiting_since, c.due_at, c.owned_by_bot, c.last_message_id, c.last_message_preview, \
     c.last_message_author, c.last_inbound_at, c.last_activity_at, c.created_at";

/// Columns of `messages`, qualified with the alias `m`.
pub(crate) const MESSAGE_COLUMNS: &str = "m.id, m.workspace_id, m.conversation_id, m.attention_id, m.channel_id, \
     m.kind, m.author_type, m.author_id, m.author_name, m.text, m.reply_to, m.client_msg_id, m.provider_id, \
     m.status, m.error, m.event_data, m.created_at";

pub(crate) const ATTENTION_COLUMNS: &str = "id, conversation_id, status, assignee_id, team_id, opened_at, closed_at, \
     close_reason, first_response_at, rating, rating_comment, rating_hidden, rated_at";

pub(crate) const IDENTITY_COLUMNS: &str = "id, workspace_id, channel_id, external_id, contact_id, name";

pub(crate) fn conversation_from_row(row: &impl RowLike) -> StoreResult<Conversation> {
    let author: Option<String> = col(row, "last_message_author")?;
    let last_message_author = match author {
        Some(a) => Some(
            AuthorType::parse(&a)
                .ok_or_else(|| StoreError::Database(format!("column last_message_author: unknown value {a:?}")))?,
        ),
        None => None,
    };
    Ok(Conversation {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        channel_id: col(row, "channel_id")?,
        identity_id: col(row, "identity_id")?,
        contact_id: col(row, "contact_id")?,
        is_group: col_bool(row, "is_group")?,
        status: col_enum(row, "status", Status::parse)?,
        attention_id: col(row, "attention_id")?,
        assignee_id: col(row, "assignee_id")?,
        team_id: col(row, "team_id")?,
        snoozed_until: col(row, "snoozed_until")?,
        unanswered: col_bool(row, "unanswered")?,
        no_reply_needed: col_bool(row, "no_reply_needed")?,
        waiting_since: col(row, "waiting_since")?,
        due_at: col(row, "due_at")?,
        owned_by_bot: col_bool(row, "owned_by_bot")?,
        last_message_id: col(row, "last_message_id")?,
        last_message_preview: col(row, "last_message_preview")?,
        last_message_author,
        last_inbound_at: col(row, "last_inbound_at")?,
        last_activity_at: col(row, "last_activity_at")?,
        created_at: col(row, "created_at")?,
    })
}

/// A message without its attachments (see [`fill_attachments`]).
pub(crate) fn message_from_row(row: &AnyRow) -> StoreResult<Message> {
    Ok(Message {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        conversation_id: col(row, "conversation_id")?,
        attention_id: col(row, "attention_id")?,
        channel_id: col(row, "channel_id")?,
        kind: col_enum(row, "kind", MessageKind::parse)?,
        author: Author {
            kind: col_enum(row, "author_type", AuthorType::parse)?,
            id: col(row, "author_id")?,
            name: col(row, "author_name")?,
        },
        text: col(row, "text")?,
        reply_to: col(row, "reply_to")?,
        client_msg_id: col(row, "client_msg_id")?,
        provider_id: col(row, "provider_id")?,
        status: col_enum(row, "status", MessageStatus::parse)?,
        error: col(row, "error")?,
        attachments: Vec::new(),
        event: col(row, "event_data")?,
        created_at: col(row, "created_at")?,
    })
}

pub(crate) fn attention_from_row(row: &AnyRow) -> StoreResult<Attention> {
    Ok(Attention {
        id: col(row, "id")?,
        conversation_id: col(row, "conversation_id")?,
        status: col_enum(row, "status", Status::parse)?,
        assignee_id: col(row, "assignee_id")?,
        team_id: col(row, "team_id")?,
        opened_at: col(row, "opened_at")?,
        closed_at: col(row, "closed_at")?,
        close_reason: col(row, "close_reason")?,
        first_response_at: col(row, "first_response_at")?,
        rating: match col::<Option<String>>(row, "rating")? {
            Some(r) => Some(
                Rating::parse(&r).ok_or_else(|| StoreError::Database(format!("column rating: unknown value {r:?}")))?,
            ),
            None => None,
        },
        rating_comment: col(row, "rating_comment")?,
        rating_hidden: col_bool(row, "rating_hidden")?,
        rated_at: col(row, "rated_at")?,
    })
}

pub(crate) fn identity_from_row(row: &AnyRow) -> StoreResult<ContactIdentity> {
    identity_from_prefixed_row(row, "")
}

/// The identity from a row whose columns are named `{prefix}id`, `{prefix}workspace_id`, ...
pub(crate) fn identity_from_prefixed_row(row: &impl RowLike, prefix: &str) -> StoreResult<ContactIdentity> {
    let name = |n: &str| format!("{prefix}{n}");
    Ok(ContactIdentity {
        id: col(row, &name("id"))?,
        workspace_id: col(row, &name("workspace_id"))?,
        channel_id: col(row, &name("channel_id"))?,
        external_id: col(row, &name("external_id"))?,
        contact_id: col(row, &name("contact_id"))?,
        name: col(row, &name("name"))?,
    })
}

// --- loaders shared with the writes ------------------------------------------------------------

/// The conversation, or NotFound when it does not exist in the workspace.
pub(crate) async fn load_conversation(c: &mut AnyConnection, workspace_id: Id, id: Id) -> StoreResult<Conversation> {
    let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = $1 AND c.workspace_id = $2");
    let row = sqlx::query(&sql).bind(id).bind(workspace_id).fetch_optional(&mut *c).await?;
    conversation_from_row(&row.ok_or(StoreError::NotFound)?)
}

/// Fills the attachments of the messages with one query.
pub(crate) async fn fill_attachments(c: &mut AnyConnection, messages: &mut [Message]) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let ids: Vec<Id> = messages.iter().map(|m| m.id).collect();
    let mut q = Sql::new(&format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE message_id IN "));
    q.bind_list(&ids);
    q.push(" ORDER BY id");
    let mut by_message: HashMap<Id, Vec<Attachment>> = HashMap::new();
    for row in q.query().fetch_all(&mut *c).await? {
        let a = attachment_from_row(&row)?;
        if let Some(m) = a.message_id {
            by_message.entry(m).or_default().push(a);
        }
    }
    for m in messages.iter_mut() {
        m.attachments = by_message.remove(&m.id).unwrap_or_default();
    }
    Ok(())
}

/// One message with its attachments, by id only (callers check the scope they need).
pub(crate) async fn load_message(c: &mut AnyConnection, id: Id) -> StoreResult<Option<Message>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1");
    let Some(row) = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await? else {
        return Ok(None);
    };
    let mut msgs = vec![message_from_row(&row)?];
    fill_attachments(c, &mut msgs).await?;
    Ok(msgs.pop())
}

pub(crate) async fn load_identity(c: &mut AnyConnection, id: Id) -> StoreResult<ContactIdentity> {
    let sql = format!("SELECT {IDENTITY_COLUMNS} FROM contact_identities WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await?;
    identity_from_row(&row.ok_or(StoreError::NotFound)?)
}

/// A conversation's read state (`c` joined to `read_states r` of the user), as [`ReadState`]'s
/// columns: unread_count counts the visible inbound messages after the read position (all of
/// them when the user never read it).
const READ_STATE_COLUMNS: &str = "r.last_read_message_id AS last_read_message_id, \
     COALESCE(r.marked_unread, 0) AS marked_unread, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM messages m WHERE m.conversation_id = c.id AND m.kind = 'inbound' \
      AND m.hidden = 0 AND m.id > COALESCE(r.last_read_message_id, 0)) AS unread_count";

/// The read state of `user_id` for each conversation (see [`READ_STATE_COLUMNS`]).
pub(crate) async fn load_read_states(
    c: &mut AnyConnection,
    user_id: Id,
    conversation_ids: &[Id],
) -> StoreResult<HashMap<Id, ReadState>> {
    let mut map = HashMap::new();
    if conversation_ids.is_empty() {
        return Ok(map);
    }
    let mut q = Sql::new(&format!(
        "SELECT c.id AS conversation_id, {READ_STATE_COLUMNS} \
         FROM conversations c LEFT JOIN read_states r ON r.conversation_id = c.id AND r.user_id = "
    ));
    q.bind(user_id);
    q.push(" WHERE c.id IN ");
    q.bind_list(conversation_ids);
    for row in q.query().fetch_all(&mut *c).await? {
        map.insert(
            col::<Id>(&row, "conversation_id")?,
            ReadState {
                unread_count: col(&row, "unread_count")?,
                marked_unread: col_bool(&row, "marked_unread")?,
                last_read_message_id: col(&row, "last_read_message_id")?,
            },
        );
    }
    Ok(map)
}

/// `{alias}.column AS {alias}_column, ...` of a table's column list.
fn prefixed_columns(alias: &str, columns: &str) -> String {
    columns.split(',').map(|c| format!("{alias}.{0} AS {alias}_{0}", c.trim())).collect::<Vec<_>>().join(", ")
}

/// The statement of [`rows_for`] up to the user id of the read states (the drafts' join and
/// the conversation ids follow).
fn rows_for_sql(dialect: Dialect) -> &'static str {
    fn build(tag_ids: &str) -> String {
        format!(
            "SELECT c.id AS conversation_id, {contact}, \
             (SELECT {tag_ids} FROM contact_tags t WHERE t.contact_id = k.id) AS k_tag_ids, {identity}, \
             {READ_STATE_COLUMNS}, d.text AS draft \
             FROM conversations c \
             LEFT JOIN contacts k ON k.id = c.contact_id \
             LEFT JOIN contact_identities i ON i.id = c.identity_id \
             LEFT JOIN read_states r ON r.conversation_id = c.id AND r.user_id = ",
            contact = prefixed_columns("k", CONTACT_COLUMNS),
            identity = prefixed_columns("i", IDENTITY_COLUMNS),
        )
    }
    static SQLITE: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| build("group_concat(t.tag_id, ',' ORDER BY t.tag_id)"));
    static POSTGRES: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| build("string_agg(CAST(t.tag_id AS TEXT), ',' ORDER BY t.tag_id)"));
    match dialect {
        Dialect::Sqlite => &SQLITE,
        Dialect::Postgres => &POSTGRES,
    }
}

/// Fewest conversations in each part of a page whose list rows are read in parts side by side
/// (see [`rows_for`]).
const ROWS_PART_MIN: usize = 12;
/// Most parts.
const ROWS_PARTS_MAX: usize = 4;

/// List rows for conversations: contact (with its tags), identity, read state and draft of
/// `user_id`, in one statement for the whole page (five before, one after another: on
/// PostgreSQL each is a round trip and a plan, about half a millisecond of every page). A
/// conversation deleted meanwhile is left out.
///
/// A page's rows are random rows of six tables and indexes, about 350 pages for 50
/// conversations. The pages of conversations found by a search term used once are mostly not in
/// memory (this machine's host reclaims page cache left untouched for a minute), and a
/// statement reads them one after another: 18-31 ms on SQLite for such a page, against 1-2
/// warm. On SQLite, with `pool` (and idle connections in it: never waiting for one), the page
/// is read in up to [`ROWS_PARTS_MAX`] parts at once, so those reads wait side by side. Not on
/// PostgreSQL: each part is planned again (about a millisecond), and on two cores the parts
/// took 3-8 ms each where the whole page took 2.6-3.2.
async fn rows_for(
    c: &mut AnyConnection,
    pool: Option<&AnyPool>,
    dialect: Dialect,
    user_id: Id,
    conversations: Vec<Conversation>,
) -> StoreResult<Vec<ConversationRow>> {
    let mut spares = Vec::new();
    if let Some(pool) = pool.filter(|_| dialect == Dialect::Sqlite) {
        while spares.len() + 1 < ROWS_PARTS_MAX && conversations.len() / (spares.len() + 2) >= ROWS_PART_MIN {
            match pool.try_acquire() {
                Some(spare) => spares.push(spare),
                None => break,
            }
        }
    }
    if spares.is_empty() {
        return rows_for_part(c, dialect, user_id, conversations).await;
    }
    let size = conversations.len().div_ceil(spares.len() + 1);
    let mut parts = conversations.chunks(size).map(<[Conversation]>::to_vec);
    let first = rows_for_part(c, dialect, user_id, parts.next().unwrap_or_default());
    let others =
        spares.iter_mut().zip(parts).map(|(spare, part)| rows_for_part(spare.as_mut(), dialect, user_id, part));
    let (mut rows, others) = tokio::try_join!(first, futures_util::future::try_join_all(others))?;
    for part in others {
        rows.extend(part);
    }
    Ok(rows)
}

/// [`rows_for`] in one statement.
async fn rows_for_part(
    c: &mut AnyConnection,
    dialect: Dialect,
    user_id: Id,
    conversations: Vec<Conversation>,
) -> StoreResult<Vec<ConversationRow>> {
    if conversations.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Id> = conversations.iter().map(|c| c.id).collect();
    let mut q = Sql::new(rows_for_sql(dialect));
    q.bind(user_id);
    q.push(" LEFT JOIN drafts d ON d.conversation_id = c.id AND d.user_id = ");
    q.bind(user_id);
    q.push(" WHERE c.id IN ");
    q.bind_list(&ids);
    let mut found: HashMap<Id, AnyRow> = HashMap::with_capacity(ids.len());
    for row in q.query().fetch_all(&mut *c).await? {
        found.insert(col(&row, "conversation_id")?, row);
    }
    let mut out = Vec::with_capacity(conversations.len());
    for conv in conversations {
        let Some(row) = found.remove(&conv.id) else { continue };
        if col::<Option<Id>>(&row, "i_id")?.is_none() {
            return Err(StoreError::Database(format!("conversation {} has no identity {}", conv.id, conv.identity_id)));
        }
        let contact = match col::<Option<Id>>(&row, "k_id")? {
            Some(_) => {
                let tags: Option<String> = col(&row, "k_tag_ids")?;
                let tag_ids = id_list(tags.as_deref().unwrap_or(""), "k_tag_ids")?;
                Some(contact_from_prefixed_row(&row, "k_", tag_ids)?)
            }
            None => None,
        };
        out.push(ConversationRow {
            contact,
            identity: identity_from_prefixed_row(&row, "i_")?,
            read: ReadState {
                unread_count: col(&row, "unread_count")?,
                marked_unread: col_bool(&row, "marked_unread")?,
                last_read_message_id: col(&row, "last_read_message_id")?,
            },
            draft: col(&row, "draft")?,
            conversation: conv,
        });
    }
    Ok(out)
}

// --- the conversation list ----------------------------------------------------------------------

/// Appends the conditions of `Viewer::can_see` (charla_core::access), on alias `c`.
pub(crate) fn push_visibility(q: &mut Sql, v: &Viewer) {
    q.push("c.workspace_id = ");
    q.bind(v.workspace_id);
    if let Some(allowed) = &v.allowed_contact_ids {
        q.push(" AND c.contact_id IN ");
        q.bind_list(allowed);
    }
    if v.is_admin() {
        return;
    }
    if !v.flags.has(Flag::SeeGroupChats) {
        q.push(" AND c.is_group = 0");
    }
    q.push(" AND (c.assignee_id = ");
    q.bind(v.user_id);
    if v.flags.has(Flag::SeeAllConversations) && !v.channel_ids.is_empty() {
        q.push(" OR c.channel_id IN ");
        q.bind_list(&v.channel_ids);
    }
    q.push(" OR (c.assignee_id IS NULL AND (c.channel_id IN ");
    q.bind_list(&v.channel_ids);
    q.push(" OR c.team_id IN ");
    q.bind_list(&v.team_ids);
    q.push(")))");
}

/// Where a search condition gets the conversations whose messages match the term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MessageSource<'a> {
    /// SQLite, while [`messages_index_is_exact`]: the keys of `message_search` carry the
    /// conversation, so the condition reads the matches from the index alone.
    Keys,
    /// SQLite: gathered once for the request (see [`found_in_messages`]).
    Found(&'a str),
    /// PostgreSQL: gathered once for the request ([`pg_gather`], [`found_in_messages`]), or
    /// looked up by the condition itself from the term's words.
    Pg(PgMessages<'a>),
    /// SQLite: what each kind of match is checked against, gathered once for the request (see
    /// [`gather_sets`]); the whole search condition.
    Sets(&'a SearchSets),
    /// The condition looks the matching messages up itself.
    Lookup,
}

/// Appends the filters (everything but section, sort and cursor), each as ` AND ...`.
/// `seen`: every row the query walks is one the viewer may see (a branch of [`branches`], not
/// [`Branch::Visible`] nor the counters), so an agent's search need not be gated on visibility.
fn push_filters(
    q: &mut Sql,
    dialect: Dialect,
    viewer: &Viewer,
    f: &ConversationFilter,
    search: SearchMode,
    messages: MessageSource,
    seen: bool,
) {
    if let Some(s) = f.status {
        q.push(" AND c.status = ");
        q.bind(s.as_str());
    }
    if let Some(a) = f.assignee_id {
        q.push(" AND c.assignee_id = ");
        q.bind(a);
    }
    if let Some(t) = f.team_id {
        q.push(" AND c.team_id = ");
        q.bind(t);
    }
    if let Some(ch) = f.channel_id {
        q.push(" AND c.channel_id = ");
        q.bind(ch);
    }
    match &f.tag {
        TagFilter::Any => {}
        // The conversation's copy of its contact's tags (migrations 0011 on PostgreSQL, 0012 on
        // SQLite), read from the inbox index being walked instead of a lookup in `contact_tags`
        // per walked row.
        TagFilter::All(tags) => {
            let contains = contains_fn(dialect);
            for t in tags {
                q.push(&format!(" AND {contains}(c.tag_ids, "));
                q.bind(format!(",{t},"));
                q.push(") > 0");
            }
        }
        TagFilter::None => {
            q.push(" AND c.tag_ids = ','");
        }
        TagFilter::PinnedOnly => {
            q.push(
                " AND EXISTS (SELECT 1 FROM contact_tags ct JOIN tags tg ON tg.id = ct.tag_id \
                 WHERE ct.contact_id = c.contact_id AND tg.pinned = 1)",
            );
        }
    }
    if let Some(a) = f.last_author {
        q.push(" AND c.last_message_author = ");
        q.bind(a.as_str());
    }
    if let Some(b) = f.owned_by_bot {
        q.push(" AND c.owned_by_bot = ");
        q.bind(b);
    }
    if let Some(u) = f.unanswered {
        q.push(" AND c.unanswered = ");
        q.bind(u);
    }
    if let Some(ct) = f.contact_id {
        q.push(" AND c.contact_id = ");
        q.bind(ct);
    }
    if let Some(from) = f.from {
        q.push(" AND c.last_activity_at >= ");
        q.bind(from);
    }
    if let Some(to) = f.to {
        q.push(" AND c.last_activity_at < ");
        q.bind(to);
    }
    if let Some(term) = &f.search {
        // Every PostgreSQL search says where its message matches come from.
        if let MessageSource::Pg(messages) = messages {
            push_pg_search(q, viewer, term, search, messages, seen);
            return;
        }
        // In scan mode the unary plus keeps the planner from driving the query from the
        // matches: it walks the sort's index and keeps the rows that match.
        let plus = if search == SearchMode::Driven { "" } else { "+" };
        // ` AND (<contact matches> OR <message matches>)`, each where the scope looks.
        q.push(" AND (");
        let mut or = "";
        if term.in_contacts() {
            match messages {
                MessageSource::Sets(sets) => match &sets.people {
                    Some(set) => push_in_set(q, search, set),
                    None => push_copy_condition(q, Dialect::Sqlite, term),
                },
                _ => {
                    q.push(&format!("{plus}c.id IN ("));
                    push_people_matches(q, dialect, viewer.workspace_id, term);
                    q.push(")");
                }
            }
            or = " OR ";
        }
        if term.in_messages() {
            q.push(or);
            match messages {
                MessageSource::Sets(sets) => match &sets.messages {
                    Some(set) => push_in_set(q, search, set),
                    None => push_own_messages_check(q, term),
                },
                MessageSource::Keys => {
                    q.push(&format!("{plus}c.id IN ("));
                    push_message_keys(q, term);
                    q.push(")");
                }
                MessageSource::Found(ids) => push_in_json(q, plus, ids),
                MessageSource::Lookup if matches!(search, SearchMode::Scan { messages_per_row: true }) => {
                    push_own_messages_check(q, term);
                }
                MessageSource::Lookup => {
                    q.push(&format!("{plus}c.id IN ("));
                    push_message_matches(q, term);
                    q.push(")");
                }
                MessageSource::Pg(_) => {
                    q.push("1 = 0");
                }
            }
            or = " OR ";
        }
        // Looking only in messages for a term without words: nothing matches.
        q.push(if or.is_empty() { "1 = 0)" } else { ")" });
    }
}

/// ` <plus>c.id IN (<the ids of a JSON array>)` (SQLite).
fn push_in_json(q: &mut Sql, plus: &str, ids: &str) {
    q.push(&format!("{plus}c.id IN (SELECT value FROM json_each("));
    q.bind_once(ids.as_ptr() as usize, || ids.to_string());
    q.push("))");
}

/// The conversation's own copy of its contact's and identity's text contains the term (or the
/// copy of the phone digits its digits). Both are lower-cased as the term is (migration 0009),
/// so this finds what the trigram index finds, row by row (SQLite: `conversations_fts`;
/// PostgreSQL: `conversation_search`), reading the copy from the inbox index being walked.
///
/// PostgreSQL: `strpos`, not LIKE. The planner estimates a substring LIKE from the column's
/// histogram, a few hundred matches for a name in 8,000 conversations, and rather than walk the
/// sort's index for a page it read the whole table and sorted it (247 ms); for a function's
/// result it guesses a third of the rows, and walks (what SQLite's unary plus asks for).
fn push_copy_condition(q: &mut Sql, dialect: Dialect, term: &SearchTerm) {
    let contains = contains_fn(dialect);
    q.push(&format!("({contains}(c.search_text, "));
    q.bind(term.text.clone());
    q.push(") > 0");
    if let Some(digits) = &term.phone_digits {
        q.push(&format!(" OR {contains}(c.search_phone, "));
        q.bind(digits.clone());
        q.push(") > 0");
    }
    q.push(")");
}

/// The function `f(text, part)` that is above 0 when `text` contains `part` (a copy on the
/// conversation: search text, tag ids), read from the index being walked.
fn contains_fn(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "instr",
        Dialect::Postgres => "strpos",
    }
}

/// SQLite: the conversation checks its own messages against the index's matches (from the
/// index of messages by conversation alone), instead of every matching message (a common word
/// can be in tens of thousands) being looked up to learn its conversation.
fn push_own_messages_check(q: &mut Sql, term: &SearchTerm) {
    q.push(
        "EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND +m.id IN \
         (SELECT rowid >> 28 FROM message_search WHERE message_search MATCH ",
    );
    q.bind(fts_phrase(&term.text));
    q.push("))");
}

/// PostgreSQL: where a search condition gets the conversations whose messages match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PgMessages<'a> {
    /// Gathered once for the request.
    Found(&'a PgFound),
    /// Looked up in `message_words` by the condition itself: the term's words ([`pg_words`]).
    Lookup(&'a [String]),
    /// A driven search's every match, contacts' too ([`PgGathered::all`]).
    All(&'a PgFound),
}

/// The search condition on PostgreSQL, looking where the term's scope says. Driven: the
/// matching conversations, gathered as one set the planner can start from (with ORs of
/// subqueries it estimates a dense match and walks the sort order instead; one condition on the
/// row, trigram LIKE OR `id = ANY(gathered ids)`, measured slower in the bench: p99 of the
/// search box 201 → 640 ms). Scan and counters: each conversation walked checks its own copy of
/// what contact search looks in, and the matching messages' conversations as a set.
fn push_pg_search(
    q: &mut Sql,
    viewer: &Viewer,
    term: &SearchTerm,
    search: SearchMode,
    messages: PgMessages,
    seen: bool,
) {
    let workspace_id = viewer.workspace_id;
    let push_ids = |q: &mut Sql, found: &PgFound| {
        q.push("SELECT CAST(x AS BIGINT) FROM unnest(string_to_array(");
        q.bind(found.list());
        q.push(", ',')) AS x");
    };
    let push_messages = |q: &mut Sql| match messages {
        PgMessages::Found(found) | PgMessages::All(found) => push_ids(q, found),
        PgMessages::Lookup(words) => push_pg_message_matches(q, words),
    };
    if !term.in_contacts() && !term.in_messages() {
        q.push(" AND 1 = 0");
        return;
    }
    if let (SearchMode::Driven, PgMessages::All(all)) = (search, messages) {
        q.push(" AND c.id IN (");
        push_ids(q, all);
        q.push(")");
        return;
    }
    if search == SearchMode::Driven {
        q.push(" AND c.id IN (");
        if term.in_contacts() {
            push_people_matches(q, Dialect::Postgres, workspace_id, term);
        }
        if term.in_messages() {
            if term.in_contacts() {
                q.push(" UNION ");
            }
            push_messages(q);
        }
        q.push(")");
        return;
    }
    // An agent's walk (the page over what they see, the counters) passes rows of conversations
    // they may not see. PostgreSQL checks a row's conditions cheapest first by its estimate,
    // and the search's looked cheaper than what the agent sees: it ran on every walked row. As
    // a CASE it runs only on the rows the agent sees (an agent who sees two of eight channels
    // whole, "moya": the walk of 29,000 index entries 8.9 -> 6.8 ms).
    // Only with the contact copy's `strpos` (a messages-only search tests a set, as cheap as
    // the visibility, and the planner estimates that test from the set itself), and only where
    // the walk passes rows the agent may not see.
    let gated = !viewer.is_admin() && term.in_contacts() && !seen;
    q.push(" AND (");
    if gated {
        q.push("CASE WHEN ");
        push_visibility(q, viewer);
        q.push(" THEN (");
    }
    if term.in_contacts() {
        push_copy_condition(q, Dialect::Postgres, term);
    }
    if term.in_messages() {
        if term.in_contacts() {
            q.push(" OR ");
        }
        match messages {
            PgMessages::Found(found) => found.push_test(q),
            PgMessages::Lookup(words) if matches!(search, SearchMode::Scan { messages_per_row: true }) => {
                push_pg_own_messages_check(q, words);
            }
            PgMessages::Lookup(_) | PgMessages::All(_) => {
                q.push("c.id IN (");
                push_messages(q);
                q.push(")");
            }
        }
    }
    if gated {
        q.push(") ELSE false END");
    }
    q.push(")");
}

/// PostgreSQL: the conversations of the matching messages, gathered once for a request.
#[derive(Debug, PartialEq, Eq)]
struct PgFound {
    /// Distinct ids, ascending.
    ids: Vec<i64>,
    /// Bit `id - lo` of `bits` is set when `id` is in the set (PostgreSQL's `get_bit` order:
    /// bit `n % 8` of byte `n / 8`, least significant first); for sets of
    /// [`PG_BIT_MAP_FROM`] ids and more.
    bits: Option<(i64, Vec<u8>)>,
}

/// Gathered ids from which a walked row is tested against a bit map of the set rather than a
/// constant array. The planner estimates `= ANY(<constant array>)` element by element (about
/// 0.5 µs an id, for the page and again for the counters: 23 ms for the 42,000 conversations
/// whose messages greet a common first name), where a function of the row costs it nothing;
/// under this, the array's hashed test is as quick and the estimate is worth having. The test
/// hook [`set_bit_map_from`] changes it.
static PG_BIT_MAP_FROM: AtomicUsize = AtomicUsize::new(2_000);

/// Changes [`PG_BIT_MAP_FROM`] for this process (the conformance suite sets 1: every gathered
/// set a bit map, and checks the results agree).
#[doc(hidden)]
pub fn set_bit_map_from(ids: usize) {
    PG_BIT_MAP_FROM.store(ids, Ordering::Relaxed);
}

/// Most bytes of bit map (ids spanning 32 million conversations); a wider set keeps the array.
const PG_BIT_MAP_MAX_BYTES: i64 = 4 << 20;

impl PgFound {
    /// From a comma-separated list of conversation ids, each as often as it has matching
    /// messages (made distinct here: `string_agg(DISTINCT ...)` sorted them as text, 4 of the 8
    /// ms of gathering the 4,500 messages that say a product's name in the bench's dataset).
    fn new(list: &str) -> PgFound {
        PgFound::of(ids_of(Some(list)).0)
    }

    /// From distinct ids, ascending.
    fn of(ids: Vec<i64>) -> PgFound {
        let bits = match (ids.first(), ids.last()) {
            (Some(&lo), Some(&hi))
                if ids.len() >= PG_BIT_MAP_FROM.load(Ordering::Relaxed) && (hi - lo) / 8 < PG_BIT_MAP_MAX_BYTES =>
            {
                let mut bytes = vec![0u8; ((hi - lo) / 8 + 1) as usize];
                for id in &ids {
                    let n = (id - lo) as usize;
                    bytes[n / 8] |= 1 << (n % 8);
                }
                Some((lo, bytes))
            }
            _ => None,
        };
        PgFound { ids, bits }
    }

    /// The ids comma-separated, as a statement binds them.
    fn list(&self) -> String {
        comma_separated(&self.ids)
    }

    /// The walked row's test against the set. As an array: `c.id IN (<the ids>)` let the
    /// planner start from the ids: it guesses 200 distinct values in an unnested array, so it
    /// read every match's row by its key and sorted them instead of walking the sort order
    /// (8,595 conversations saying "rosa": 978 ms against 6; "kapika", 4,495: 112 against 8).
    /// `+ 0` keeps the primary key out of it. As a bit map: the id's bit, where the map spans it
    /// (`get_bit` refuses an offset past the end).
    fn push_test(&self, q: &mut Sql) {
        match &self.bits {
            Some((lo, bytes)) => {
                let hi = lo + bytes.len() as i64 * 8 - 1;
                q.push("(CASE WHEN c.id BETWEEN ");
                q.bind(*lo);
                q.push(" AND ");
                q.bind(hi);
                q.push(" THEN get_bit(");
                q.bind_once(bytes.as_ptr() as usize, || bytes.clone());
                q.push(", CAST(c.id - ");
                q.bind(*lo);
                q.push(" AS INTEGER)) ELSE 0 END) = 1");
            }
            None => {
                q.push("(c.id + 0) = ANY(CAST(string_to_array(");
                q.bind_once(self.ids.as_ptr() as usize, || self.list());
                q.push(", ',') AS BIGINT[]))");
            }
        }
    }
}

/// `(p.search_text LIKE ... OR p.search_phone LIKE ...)` on `conversation_search p`: the
/// conversation's copy of its contact's and identity's searchable text contains the term
/// (served by pg_trgm indexes).
fn push_pg_people_condition(q: &mut Sql, term: &SearchTerm) {
    q.push("(p.search_text LIKE ");
    q.bind(format!("%{}%", like_escape(&term.text)));
    q.push(" ESCAPE '\\'");
    if let Some(digits) = &term.phone_digits {
        q.push(" OR p.search_phone LIKE ");
        q.bind(format!("%{}%", like_escape(digits)));
        q.push(" ESCAPE '\\'");
    }
    q.push(")");
}

/// The conversations whose messages match the term, as one text (a JSON array on SQLite, a
/// comma-separated list on PostgreSQL, each id as often as it has matching messages): looking
/// the matching messages up is the dear part of a full-text search, and the page and the
/// counters both need it. `words`: PostgreSQL's ([`pg_words`]).
async fn found_in_messages(
    c: &mut AnyConnection,
    dialect: Dialect,
    term: &SearchTerm,
    words: &[String],
) -> StoreResult<String> {
    let q = found_in_messages_sql(dialect, term, words, |_| {});
    col(&q.query().fetch_one(&mut *c).await?, "ids")
}

/// `1,2,3`.
fn comma_separated(ids: &[i64]) -> String {
    let mut out = String::with_capacity(ids.len() * 8);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&id.to_string());
    }
    out
}

/// `SELECT (<the conversations of the matching messages, as one text>) AS ids`, read by
/// [`found_in_messages`] and [`pg_found_half`]; `narrow` appends to the matches' query (more
/// conditions on PostgreSQL's `w0`, a LIMIT).
fn found_in_messages_sql(dialect: Dialect, term: &SearchTerm, words: &[String], narrow: impl FnOnce(&mut Sql)) -> Sql {
    let mut q = Sql::new("SELECT ");
    q.plan_each_run(dialect);
    match dialect {
        Dialect::Sqlite => {
            q.push("(SELECT '[' || COALESCE(group_concat(DISTINCT x.conversation_id), '') || ']' FROM (");
            push_message_matches(&mut q, term);
        }
        // Made distinct by the caller ([`PgFound::new`], [`pg_gather`]).
        Dialect::Postgres => {
            q.push("(SELECT COALESCE(string_agg(x.conversation_id::text, ','), '') FROM (");
            push_pg_message_matches(&mut q, words);
        }
    }
    narrow(&mut q);
    q.push(") x) AS ids");
    q
}

/// PostgreSQL: one half of [`pg_gather`]'s messages: [`found_in_messages_sql`] for the messages
/// whose id is below (`low`) or from the middle of the first word's message ids (`MIN` and
/// `MAX`, the two ends of its index range), at most `limit` of them. `words` is not empty.
fn pg_found_half(term: &SearchTerm, words: &[String], limit: i64, low: bool) -> Sql {
    found_in_messages_sql(Dialect::Postgres, term, words, |q| {
        if let Some(first) = words.first() {
            q.push(if low { " AND w0.message_id < " } else { " AND w0.message_id >= " });
            q.push("(SELECT (MIN(h.message_id) + MAX(h.message_id)) / 2 FROM message_words h WHERE h.word = ");
            q.bind(first.clone());
            q.push(")");
        }
        q.push(" LIMIT ");
        q.bind(limit);
    })
}

/// PostgreSQL: a gathering of contact matches first asks the planner how many to expect (a
/// plan's estimate, 0.8-2 ms; the finer statistics of migration 0016 make it good to a factor
/// of two for the bench's names: 2,718 for 4,452, 4,587 for 4,182, 57,189 for 52,258), and is
/// skipped from [`PG_ESTIMATE_MARGIN`] times the plan's threshold, and never under
/// [`PG_ESTIMATE_MIN`]. The histogram's 1,000 entries make an estimate a multiple of 1,000
/// conversations in a million: a rare name that happens to match one or two of them is
/// estimated at 1,000-2,000, and walking the sort order for its few hundred matches would read
/// a quarter of the index; four entries are unlikely by chance.
const PG_ESTIMATE_MARGIN: i64 = 4;
/// The smallest estimate that skips a gathering (see [`PG_ESTIMATE_MARGIN`]).
const PG_ESTIMATE_MIN: i64 = 4_000;

/// PostgreSQL: the planner's estimate of the conversations whose copy of contact text contains
/// the term (the top line of the gathering's plan, `rows=N`); None when the plan says no
/// estimate (it always does; a plan shape this does not read only costs the shortcut).
async fn pg_people_estimate(c: &mut AnyConnection, workspace_id: Id, term: &SearchTerm) -> StoreResult<Option<i64>> {
    let mut q = Sql::new("EXPLAIN ");
    q.plan_each_run(Dialect::Postgres);
    push_people_matches(&mut q, Dialect::Postgres, workspace_id, term);
    let row = q.query().fetch_optional(&mut *c).await?;
    let line: Option<String> = match row {
        Some(row) => col(&row, "QUERY PLAN")?,
        None => None,
    };
    Ok(line.as_deref().and_then(plan_rows))
}

/// `rows=N` of a plan's line (`Seq Scan on t  (cost=0.00..35850.83 rows=57189 width=9)`).
fn plan_rows(line: &str) -> Option<i64> {
    let rest = &line[line.find(" rows=")? + 6..];
    rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())].parse().ok()
}

/// PostgreSQL: what a search gathered before its page and counters ([`pg_gather`]).
struct PgGathered {
    mode: SearchMode,
    /// The conversations of the matching messages (None without full text).
    messages: Option<PgFound>,
    /// Driven only: every match, contacts' and messages' (complete: fewer than the threshold).
    all: Option<PgFound>,
}

/// PostgreSQL: the plan (matches up to `threshold`) and the matches gathered once for the page
/// and the counters. The conversations of the matching messages come first: one range of an
/// index per word (migration 0015), read in two halves side by side ([`pg_found_half`]): 1 ms
/// for a product name's 4,513 messages, 4-5 for a first name's 40,000 on a fast machine (whole).
/// Contact matches are gathered only as far as the plan still needs: each trigram candidate's
/// row is read (6-15 ms for a name's 3,000), and a common name's messages alone usually decide.
/// Below the threshold the page and the counters start from the gathered
/// ids, where each ran the trigram search again (a surname in 2,907 conversations, as an agent
/// who sees two channels whole: about 8 ms of each).
async fn pg_gather(
    s: &SqlStore,
    c: &mut AnyConnection,
    workspace_id: Id,
    term: &SearchTerm,
    words: &[String],
    threshold: i64,
) -> StoreResult<PgGathered> {
    // A word in too many messages (a greeting, an article) is not gathered: each walked row
    // checks its own messages instead (see [`push_pg_own_messages_check`]).
    let message_max = SEARCH_SET_MAX.load(Ordering::Relaxed).saturating_mul(MESSAGE_SET_FACTOR);
    let messages = match term.in_messages() {
        true if words.is_empty() => Some(PgFound::of(Vec::new())),
        true => {
            // In two halves of the first word's messages, side by side: reading a common
            // name's 33,000 index entries and joining their conversation ids into one text is
            // PostgreSQL's work on one core (8-9 ms on a slow machine, 5-6 for each half).
            let half = |low| read_one(pg_found_half(term, words, message_max + 1, low), "ids");
            let (low, high): (String, String) = s.side_by_side(c, half(true), half(false)).await?;
            let ((mut ids, low_rows), (high, high_rows)) = (ids_of(Some(&low)), ids_of(Some(&high)));
            if low_rows + high_rows > message_max {
                return Ok(PgGathered { mode: SearchMode::Scan { messages_per_row: true }, messages: None, all: None });
            }
            ids.extend(high);
            ids.sort_unstable();
            ids.dedup();
            Some(PgFound::of(ids))
        }
        false => None,
    };
    let mut matches = messages.as_ref().map_or(0, |f| f.ids.len() as i64);
    let mut people = Vec::new();
    // The gathering is skipped when the planner expects many times more matches than the plan
    // could drive: a common name's rows cost up to 15 ms to learn that the page is to be walked
    // (52,258 conversations say "martín", estimated 57,189: as an agent who sees channels
    // whole, 3,000 rows read for nothing; "aura", 28,126, as one who does not: 500 rows, 7 ms).
    if term.in_contacts() && matches < threshold {
        let estimate = pg_people_estimate(c, workspace_id, term).await?;
        if estimate.is_some_and(|n| n >= (threshold * PG_ESTIMATE_MARGIN).max(PG_ESTIMATE_MIN)) {
            return Ok(PgGathered { mode: SearchMode::Scan { messages_per_row: false }, messages, all: None });
        }
        // The planner picks the trigram index or a read of the table in order until the limit
        // from its estimate of the matches, which needs the finer statistics of migration 0016.
        let mut q = Sql::new("SELECT COALESCE(string_agg(CAST(a.id AS TEXT), ','), '') AS people FROM (");
        q.plan_each_run(Dialect::Postgres);
        push_people_matches(&mut q, Dialect::Postgres, workspace_id, term);
        q.push(" LIMIT ");
        q.bind(threshold - matches);
        q.push(") a");
        let list: String = col(&q.query().fetch_one(&mut *c).await?, "people")?;
        people = ids_of(Some(&list)).0;
        matches += people.len() as i64;
    }
    if matches >= threshold {
        return Ok(PgGathered { mode: SearchMode::Scan { messages_per_row: false }, messages, all: None });
    }
    // Under the threshold, the contact matches were gathered whole.
    let mut all = people;
    if let Some(found) = &messages {
        all.extend(&found.ids);
        all.sort_unstable();
        all.dedup();
    }
    Ok(PgGathered { mode: SearchMode::Driven, messages, all: Some(PgFound::of(all)) })
}

/// One value each (read from the named column) of whichever of `first` and `second` the
/// search needs (its scope may leave one out), side by side when both run
/// ([`SqlStore::side_by_side`]): the two halves of a search's gathering read different indexes.
async fn both_at_once<A: ColumnValue + Send, B: ColumnValue + Send>(
    s: &SqlStore,
    c: &mut AnyConnection,
    first: Option<(Sql, &'static str)>,
    second: Option<(Sql, &'static str)>,
) -> StoreResult<(Option<A>, Option<B>)> {
    match (first, second) {
        (Some((first, first_col)), Some((second, second_col))) => {
            let (a, b) = s.side_by_side(c, read_one(first, first_col), read_one(second, second_col)).await?;
            Ok((Some(a), Some(b)))
        }
        (Some((first, col)), None) => Ok((Some(read_one(first, col)(c).await?), None)),
        (None, Some((second, col))) => Ok((None, Some(read_one(second, col)(c).await?))),
        (None, None) => Ok((None, None)),
    }
}

/// The read of one value (column `name` of the one row of `q`), to run on a given connection.
fn read_one<T: ColumnValue + Send>(
    q: Sql,
    name: &'static str,
) -> impl for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, StoreResult<T>> {
    move |c| Box::pin(async move { col(&q.query().fetch_one(&mut *c).await?, name) })
}

/// How a search term is applied to the conversation list (see [`search_mode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchMode {
    /// Few matches: they drive the query (look them up, then sort them).
    Driven,
    /// Many matches: walk the conversations in sort order and keep the matching ones; the
    /// first page fills quickly. With many matching messages, each conversation walked
    /// checks its own messages rather than all matching messages being looked up.
    Scan { messages_per_row: bool },
    /// The counters: walk the pending conversations (few) and keep the matching ones.
    Count,
}

/// Matches (contacts, identities and messages, each counted up to this) above which a search
/// walks the sorted conversations instead of sorting all matches; each store lowers it to
/// where its walk got cheaper ([`SQLITE_DRIVEN_MAX`], [`PG_DRIVEN_MAX`]). The test hooks of
/// [`set_search_scan_threshold`] change it.
static SEARCH_SCAN_FROM: AtomicI64 = AtomicI64::new(3_000);
/// SQLite, with the matches gathered as sets: most matches that still drive a query that would
/// otherwise walk the whole workspace (an admin's All or Teammates).
///
/// A driven page reads each match's row once (from the OS's cache about 5 µs a row; its
/// counters walk the pending conversations from [`COUNT_WALK_FROM`] matches on), where the walk
/// reads about `workspace × page / matches` index entries at about 0.5 µs each. The bench's
/// product names as admin, a fresh connection each time (rows from the OS's cache), walked →
/// driven: "nerulo" (1,153 conversations, 35,825 entries walked) 20-22 → 7.4 ms, "mikafa"
/// (1,878; 35,239) 18-19 → 9.5; "lolopi" (3,202; 13,483) 8.5 → 15-19. (It was 1,000, measured
/// when a driven page's counters read every match's row again.)
const SQLITE_DRIVEN_MAX: i64 = 2_200;
/// SQLite: most contact matches gathered into a set where the walk covers the whole workspace
/// (elsewhere the plan's threshold); past it the walk checks each row's own copy, so a common
/// name gathers no more than this for nothing. Measured when it was also the driven limit, on
/// the bench's million conversations (`Contacts` tab, six terms per band, medians; the OS cache
/// dropped and the server restarted first: cold, then the same terms again: warm), driven →
/// walked: 50–200 matches warm 11 → 96 ms; 200–500: 11 → 31; 500–800: 13 → 24 (cold 127 → 87);
/// 800–1,300: 19 → 23 (cold 174 → 87); 1,300–2,000: 20 → 20 (cold 219 → 71); 2,000–3,000: 26
/// → 19 (cold 213 → 74). The bench's rarer surnames (about 2,900 matches): cold 196–416 → 45–87.
const SQLITE_PEOPLE_GATHER_MAX: i64 = 1_000;
/// SQLite: matches in a gathered set from which the counters walk the pending conversations
/// (the partial index `conversations_pending`, kept in memory by every inbox's counters) and
/// check each against the set, instead of reading every match's row from `conversations`. The
/// rows are random pages of a wide table, mostly outside the reader's own cache: an agent's
/// counters for "cost" (2,850 matches) took 12.9 ms read by id, where the walk of the bench's
/// 14,195 pending conversations takes 2-5 ms whatever the set (cold 3.4-5.8 ms, against
/// 120-150 ms by id). Read by id from the reader's cache, 835 matches take 0.8 ms, from the OS
/// 4-5 µs each: about as long as the walk from a thousand on.
static COUNT_WALK_FROM: AtomicI64 = AtomicI64::new(1_000);

/// Changes [`COUNT_WALK_FROM`] for this process (the conformance suite sets 0: counters always
/// walked, and checks they agree).
#[doc(hidden)]
pub fn set_count_walk_from(matches: i64) {
    COUNT_WALK_FROM.store(matches.max(0), Ordering::Relaxed);
}
/// PostgreSQL: most matches (contacts counted, messages' conversations) that still drive a
/// query that would otherwise walk the whole workspace. Driven, every match's row is read from
/// `conversations`, a wide table mostly outside shared buffers; the walk reads the sort order's
/// index alone (it carries the search copy).
/// Measured as for [`SQLITE_PEOPLE_GATHER_MAX`] (PostgreSQL restarted too for cold), driven →
/// walked:
/// 50–200 matches warm 14 → 139 ms; 200–500: 18 → 44 (cold 142 → 99); 500–800: 29 → 32 (cold
/// 279 → 58); 800–1,300: 45 → 23 (cold 328 → 94); 1,300–2,000: 42 → 21 (cold 313 → 79);
/// 2,000–3,000: 64 → 13 (cold 720 → 82).
const PG_DRIVEN_MAX: i64 = 500;

/// [`PG_DRIVEN_MAX`] for a search in messages alone, whose matches the words' index ranges
/// give exactly and cheaply (migration 0015), on a walk of the workspace (an admin). The bench's
/// 20 product names (576-4,495 conversations), median of five warm requests, driven → walked:
/// up to 1,027 matches 7.6-11.8 → 13.2-24.6 ms; 1,255-1,878: 9.8-20.3 → 10.0-14.6;
/// 2,138-2,582: 17.7-20.1 → 9.6-10.9.
const PG_MESSAGES_DRIVEN_MAX: i64 = 1_200;

/// [`PG_MESSAGES_DRIVEN_MAX`] on a merged walk of channels seen whole (an agent), which also
/// reads the agent's own and unassigned conversations outside those channels to their end
/// (10,000 index entries, about 3 ms, for the bench's agent who sees two channels of eight):
/// 1,255-1,878 matches driven 12.9-15.7 ms, walked 16.7-20.4; 2,138-2,582: 16.5-20.0 → 13.1-15.9.
const PG_MESSAGES_DRIVEN_MAX_CHANNELS: i64 = 2_000;

/// Matching messages from which a scan checks each conversation's own messages instead of
/// looking every match up (about a microsecond each) to learn its conversation: checking one
/// conversation costs about as much as ten lookups, so it pays only for words this common.
const MESSAGE_SET_MAX: i64 = 20_000;

/// Changes [`SEARCH_SCAN_FROM`] for this process. Every plan gives the same results, so the
/// conformance suite runs searches with each (0: always scan, checking messages per
/// conversation; below 0: always scan, with sets of matches; both look message matches up in
/// messages on SQLite rather than reading their conversations from the index's keys).
#[doc(hidden)]
pub fn set_search_scan_threshold(matches: i64) {
    SEARCH_SCAN_FROM.store(matches.max(-1), Ordering::Relaxed);
}

/// `SELECT <conversation id> ...` of the conversations whose contact's name, e-mail or username
/// or identity's name contains the term, or whose contact's phone digits contain its digits:
/// the copy of these on each conversation (migration 0007), through its trigram index
/// (SQLite: `conversations_fts`; PostgreSQL: LIKE on the narrow mirror `conversation_search`,
/// served by pg_trgm, migration 0010).
fn push_people_matches(q: &mut Sql, dialect: Dialect, workspace_id: Id, term: &SearchTerm) {
    match dialect {
        Dialect::Sqlite => {
            q.push("SELECT rowid FROM conversations_fts WHERE conversations_fts MATCH ");
            q.bind(people_fts_query(term));
        }
        Dialect::Postgres => {
            q.push("SELECT p.id FROM conversation_search p WHERE p.workspace_id = ");
            q.bind(workspace_id);
            q.push(" AND ");
            push_pg_people_condition(q, term);
        }
    }
}

/// The FTS5 query of SQLite's `conversations_fts` for a term: the copy of the contact's and
/// identity's text contains it, or the copy of the phone digits contains its digits.
fn people_fts_query(term: &SearchTerm) -> String {
    match &term.phone_digits {
        // Digits alone: one phrase in either column (a phrase never spans two), which FTS5
        // reads once where `search_text : … OR search_phone : …` read the same trigrams'
        // position lists twice. Digit trigrams are common (a phone holds about ten of the
        // thousand): the bench's phone terms gathered in 17-19 ms, 8-11 as one phrase.
        Some(digits) if *digits == term.text => fts_phrase(digits),
        Some(digits) => format!("search_text : {} OR search_phone : {}", fts_phrase(&term.text), fts_phrase(digits)),
        None => format!("search_text : {}", fts_phrase(&term.text)),
    }
}

/// Most conversations a SQLite search gathers into the set of contact matches (see
/// [`gather_sets`]); lower still where more matches would not drive the query. Past it, the
/// term is common enough (a popular name) that the first page is found sooner by walking the
/// sort order and reading each row's copy of its contact's text from the index being walked
/// (migration 0012) than by gathering every match: the trigram index yields about one match per
/// microsecond ("marta", 24,692 conversations: 19 ms, the page walked 2-3 ms), and a gathering
/// cut short at the limit is wasted. Matches in messages come from the index's keys alone,
/// cheaper to gather than a row is to check its own messages: their set takes
/// [`MESSAGE_SET_FACTOR`] times as many matching messages. PostgreSQL gathers the matching
/// messages' conversations up to that many messages too ([`pg_gather`]; 80,000 messages are
/// about 10 ms of its index and a 600 KB list), and past it checks each walked row's messages.
static SEARCH_SET_MAX: AtomicI64 = AtomicI64::new(5_000);
const MESSAGE_SET_FACTOR: i64 = 16;

/// Changes [`SEARCH_SET_MAX`] for this process (the conformance suite sets 0: every row
/// checked on its own).
#[doc(hidden)]
pub fn set_search_set_max(matches: i64) {
    SEARCH_SET_MAX.store(matches.max(0), Ordering::Relaxed);
}

/// SQLite: the matches of a term, each kind gathered once for the request as a JSON array of
/// conversation ids, or None past its limit (see [`gather_sets`]; then each row is checked on
/// its own).
#[derive(Debug, PartialEq, Eq)]
struct SearchSets {
    /// The conversations whose copy of the contact's and identity's text contains the term.
    people: Option<IdSet>,
    /// The conversations of the messages that match (read from the keys of `message_search`);
    /// an empty array without full text.
    messages: Option<IdSet>,
    /// Matches in the sets, for the plan.
    found: i64,
}

/// Gathers [`SearchSets`] once per request: one pass over each index (the two at once, see
/// [`both_at_once`]), where the plan choice, the page and the counters would otherwise each
/// ask them again (milliseconds for a common name each time).
///
/// `people_cap`: contact matches are gathered up to it only (at most [`SEARCH_SET_MAX`]): past
/// it the walk checks each row's own copy (read from the index being walked, as cheap as a look
/// in the set), so gathering more is wasted, and the trigram index yields matches at a steady
/// rate (measured on the bench's dataset, warm: "miguel" 0.9 ms for 1,001 matches, 3.8 ms for
/// 5,001).
async fn gather_sets(
    s: &SqlStore,
    c: &mut AnyConnection,
    term: &SearchTerm,
    people_cap: i64,
) -> StoreResult<SearchSets> {
    let max = SEARCH_SET_MAX.load(Ordering::Relaxed);
    let message_max = max.saturating_mul(MESSAGE_SET_FACTOR);
    let people_max = max.min(people_cap.max(0));
    let people = term.in_contacts().then(|| {
        let mut q = Sql::new(
            "SELECT '[' || COALESCE(group_concat(k), '') || ']' AS people FROM \
             (SELECT rowid AS k FROM conversations_fts WHERE conversations_fts MATCH ",
        );
        q.bind(people_fts_query(term));
        q.push(" LIMIT ");
        q.bind(people_max + 1);
        q.push(")");
        q
    });
    // Each matching message's conversation, repeated as often as it has matches: made distinct
    // here, where SQLite's DISTINCT built a temporary index of them (9 of the 12 ms of gathering
    // the 31,000 messages that say "elena").
    let messages = term.in_messages().then(|| {
        let mut q = Sql::new(&format!(
            "SELECT '[' || COALESCE(group_concat(k), '') || ']' AS messages FROM \
             (SELECT rowid & {} AS k FROM message_search WHERE message_search MATCH ",
            MESSAGE_KEY_CONVERSATIONS - 1
        ));
        q.bind(fts_phrase(&term.text));
        q.push(" LIMIT ");
        q.bind(message_max + 1);
        q.push(")");
        q
    });
    let (people, messages): (Option<String>, Option<String>) =
        both_at_once(s, c, people.map(|q| (q, "people")), messages.map(|q| (q, "messages"))).await?;
    // Past its limit a gathering is cut short: the set is incomplete, and not used.
    let ((people, people_rows), (messages, message_rows)) = (ids_of(people.as_deref()), ids_of(messages.as_deref()));
    Ok(SearchSets {
        found: (people.len() + messages.len()) as i64,
        people: (people_rows <= people_max).then(|| IdSet::new(people)),
        messages: (message_rows <= message_max).then(|| IdSet::new(messages)),
    })
}

/// The distinct ids of a JSON array of ids gathered by SQLite (or of a comma-separated list),
/// ascending, and how many the array held.
fn ids_of(json: Option<&str>) -> (Vec<i64>, i64) {
    let mut ids: Vec<i64> = json
        .unwrap_or("")
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .collect();
    let rows = ids.len() as i64;
    ids.sort_unstable();
    ids.dedup();
    (ids, rows)
}

/// SQLite: one gathered set of conversation ids, as the JSON array it was gathered as and, when
/// its ids are dense enough, as a byte map.
///
/// `c.id IN (SELECT value FROM json_each(?))` builds a temporary index of the set for each
/// statement (about 0.4 µs an id: 6 ms for 15,000 matching conversations, once for the page and
/// again for the counters) and probes it for every walked row. A walk that checks its rows
/// against the set (a scan, the counters) reads one byte of the map instead: nothing to build,
/// and a cheaper test. A set that should drive the query (few matches) stays an IN, which the
/// planner can start from.
#[derive(Debug, PartialEq, Eq)]
struct IdSet {
    json: String,
    map: Option<IdMap>,
}

/// Byte `id - lo` is 1 when `id` is in the set.
#[derive(Debug, PartialEq, Eq)]
struct IdMap {
    lo: i64,
    bytes: Vec<u8>,
}

/// Most bytes of map per id in the set: sparser sets (a few matches over a wide range of ids)
/// stay JSON only, where the map would cost more to copy into each statement than the
/// temporary index costs to build (about 0.4 µs an id, in every arm of a merged walk that
/// tests the set: an agent's walk has four). A megabyte of map is copied in about 0.1 ms. A
/// product name's 3,202 conversations in the bench's million (312 bytes an id), walked in an
/// agent's four arms, a fresh connection each time: 19.1-19.8 ms with the JSON set, 16.4-18.2
/// with the map; 4,495 (222 bytes an id, a map before too): 14.7-15.8 → 12.5-13.0.
const ID_MAP_BYTES_PER_ID: i64 = 1_024;
/// And a map never exceeds this, ids spanning 4 million conversations: it is copied into each
/// statement that reads it, and a request's memory stays small.
const ID_MAP_MAX_BYTES: i64 = 4 << 20;

impl IdSet {
    /// From distinct ids, ascending ([`ids_of`]).
    fn new(ids: Vec<i64>) -> IdSet {
        let json = format!("[{}]", comma_separated(&ids));
        let map = match (ids.first(), ids.last()) {
            (Some(&lo), Some(&hi)) if lo >= 0 => {
                let len = hi - lo + 1;
                (len <= ID_MAP_MAX_BYTES && len <= ID_MAP_BYTES_PER_ID.saturating_mul(ids.len() as i64)).then(|| {
                    let mut bytes = vec![0u8; len as usize];
                    for id in &ids {
                        bytes[(id - lo) as usize] = 1;
                    }
                    IdMap { lo, bytes }
                })
            }
            _ => None,
        };
        IdSet { json, map }
    }
}

/// ` <plus>c.id IN (<the set>)`, or the row's byte of its map when the query walks rows and
/// checks each (see [`IdSet`]).
fn push_in_set(q: &mut Sql, search: SearchMode, set: &IdSet) {
    match &set.map {
        Some(map) if search != SearchMode::Driven => {
            let hi = map.lo + map.bytes.len() as i64 - 1;
            // Unary plus: a range of rowids would otherwise tempt the planner to read the
            // table by rowid over the whole range and sort it, instead of walking the index.
            q.push("(+c.id BETWEEN ");
            q.bind(map.lo);
            q.push(" AND ");
            q.bind(hi);
            q.push(" AND substr(");
            q.bind_once(map.bytes.as_ptr() as usize, || map.bytes.clone());
            q.push(", +c.id - ");
            q.bind(map.lo);
            q.push(" + 1, 1) = x'01')");
        }
        _ => push_in_json(q, if search == SearchMode::Driven { "" } else { "+" }, &set.json),
    }
}

/// Conversation ids below this are exact in the keys of SQLite's `message_search` (migration
/// 0007: a message is indexed under `(id << 28) | conversation_id`).
const MESSAGE_KEY_CONVERSATIONS: i64 = 1 << 28;

/// Whether the keys of SQLite's `message_search` carry whole conversation ids: all of them are
/// below 2^28 (else they carry part of it, and matches are looked up in messages).
async fn messages_index_is_exact(c: &mut AnyConnection) -> StoreResult<bool> {
    let max: i64 = col(
        &sqlx::query("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS max_id FROM conversations")
            .fetch_one(&mut *c)
            .await?,
        "max_id",
    )?;
    Ok(max < MESSAGE_KEY_CONVERSATIONS)
}

/// `SELECT <conversation id> ...` from SQLite's `message_search` alone (see [`MessageSource::Keys`]).
fn push_message_keys(q: &mut Sql, term: &SearchTerm) {
    q.push(&format!(
        "SELECT rowid & {} FROM message_search WHERE message_search MATCH ",
        MESSAGE_KEY_CONVERSATIONS - 1
    ));
    q.bind(fts_phrase(&term.text));
}

/// `SELECT <conversation id> ...` of the visible messages whose text has the term's words
/// (SQLite; PostgreSQL: [`push_pg_message_matches`]).
fn push_message_matches(q: &mut Sql, term: &SearchTerm) {
    // Hidden messages are not in the index.
    q.push(
        "SELECT m.conversation_id FROM messages m WHERE m.id IN \
         (SELECT rowid >> 28 FROM message_search WHERE message_search MATCH ",
    );
    q.bind(fts_phrase(&term.text));
    q.push(")");
}

/// PostgreSQL: `SELECT <conversation id> ...` of the visible messages that have all of `words`
/// (the term's lexemes, [`pg_words`]), from `message_words` alone (migration 0015): one range of
/// its index per word, joined on the message; nothing without words. Every workspace's: the
/// conditions they are used in keep the viewer's conversations.
fn push_pg_message_matches(q: &mut Sql, words: &[String]) {
    let Some((first, rest)) = words.split_first() else {
        q.push("SELECT CAST(NULL AS BIGINT) WHERE 1 = 0");
        return;
    };
    q.push("SELECT w0.conversation_id FROM message_words w0");
    for (i, word) in rest.iter().enumerate() {
        let w = format!("w{}", i + 1);
        q.push(&format!(" JOIN message_words {w} ON {w}.message_id = w0.message_id AND {w}.word = "));
        q.bind(word.clone());
    }
    q.push(" WHERE w0.word = ");
    q.bind(first.clone());
}

/// PostgreSQL: the walked conversation has a message with all of `words`: its messages (the
/// index of messages by conversation), each looked up in `message_words` by word and message.
/// For words in too many messages to gather (tens of thousands of conversations): a walk
/// that finds such matches densely checks few rows.
fn push_pg_own_messages_check(q: &mut Sql, words: &[String]) {
    if words.is_empty() {
        q.push("1 = 0");
        return;
    }
    q.push("EXISTS (SELECT 1 FROM messages m");
    for (i, word) in words.iter().enumerate() {
        q.push(&format!(" JOIN message_words w{i} ON w{i}.message_id = m.id AND w{i}.word = "));
        q.bind(word.clone());
    }
    q.push(" WHERE m.conversation_id = c.id)");
}

/// PostgreSQL: the lexemes of a term as `message_words` holds a message's (the `simple`
/// configuration's, migration 0015), distinct: what a message must all have to match.
async fn pg_words(c: &mut AnyConnection, term: &SearchTerm) -> StoreResult<Vec<String>> {
    let rows =
        sqlx::query("SELECT w FROM unnest(message_lexemes($1)) w").bind(term.text.clone()).fetch_all(&mut *c).await?;
    rows.iter().map(|r| col(r, "w")).collect()
}

/// Counts the term's matches (each kind up to [`SEARCH_SCAN_FROM`]) to pick the plan: SQLite
/// when the message index's keys do not carry whole conversation ids (else [`gather_sets`];
/// PostgreSQL: [`pg_gather`]), and the test hooks of [`set_search_scan_threshold`] on both.
async fn search_mode(c: &mut AnyConnection, term: &SearchTerm, threshold: i64) -> StoreResult<SearchMode> {
    // Test hooks: 0 scans checking messages per conversation, below 0 scans with sets.
    if threshold <= 0 {
        return Ok(SearchMode::Scan { messages_per_row: threshold == 0 });
    }
    let mut q = Sql::new("SELECT CAST(");
    if term.in_contacts() {
        q.push("(SELECT COUNT(*) FROM (");
        push_people_matches(&mut q, Dialect::Sqlite, 0, term);
        q.push(" LIMIT ");
        q.bind(threshold);
        q.push(") a)");
    } else {
        q.push("0");
    }
    q.push(" AS BIGINT) AS people, CAST(");
    if term.in_messages() {
        // The index alone.
        q.push("(SELECT COUNT(*) FROM (SELECT rowid FROM message_search WHERE message_search MATCH ");
        q.bind(fts_phrase(&term.text));
        q.push(" LIMIT ");
        q.bind(MESSAGE_SET_MAX.max(threshold));
        q.push(") m)");
    } else {
        q.push("0");
    }
    q.push(" AS BIGINT) AS messages");
    let row = q.query().fetch_one(&mut *c).await?;
    let (people, messages): (i64, i64) = (col(&row, "people")?, col(&row, "messages")?);
    Ok(if people + messages >= threshold {
        SearchMode::Scan { messages_per_row: messages >= MESSAGE_SET_MAX }
    } else {
        SearchMode::Driven
    })
}

/// The search term as one FTS5 phrase (quotes doubled), so its words match in sequence and no
/// character is read as query syntax.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// One part of what a viewer sees, shaped so that its rows can be read from one index in sort
/// order (see [`branches`]).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Branch {
    /// The whole workspace.
    Workspace,
    /// Everything the viewer may see, as one condition (not index-shaped).
    Visible,
    AssignedTo(Id),
    /// Unassigned: anywhere (None), or in these channels or teams.
    Unassigned(Option<(Vec<Id>, Vec<Id>)>),
    Channel(Id),
}

/// What the viewer may see in the section (`Viewer::can_see`, charla_core::access), as a union
/// of branches; empty when the section holds nothing for this viewer. Admins see one branch;
/// agents their own conversations, the unassigned ones of their channels and teams, and with
/// `see_all_conversations` each of their channels (the teammates' ones are only there).
fn branches(v: &Viewer, section: Section) -> Vec<Branch> {
    if v.is_admin() {
        return vec![match section {
            Section::All | Section::Teammates => Branch::Workspace,
            Section::Mine => Branch::AssignedTo(v.user_id),
            Section::Unassigned => Branch::Unassigned(None),
        }];
    }
    let unassigned = Branch::Unassigned(Some((v.channel_ids.clone(), v.team_ids.clone())));
    let channels: Vec<Branch> = if v.flags.has(Flag::SeeAllConversations) {
        v.channel_ids.iter().map(|c| Branch::Channel(*c)).collect()
    } else {
        Vec::new()
    };
    match section {
        Section::Mine => vec![Branch::AssignedTo(v.user_id)],
        Section::Unassigned => vec![unassigned],
        Section::Teammates => channels,
        Section::All => [Branch::AssignedTo(v.user_id), unassigned].into_iter().chain(channels).collect(),
    }
}

/// The conditions of one branch in a section, with what applies to every branch (embedded
/// sessions' contacts, group chats).
fn push_branch(q: &mut Sql, v: &Viewer, b: &Branch, section: Section) {
    if *b == Branch::Visible {
        push_visibility(q, v);
        push_section(q, section, v.user_id);
        return;
    }
    q.push("c.workspace_id = ");
    q.bind(v.workspace_id);
    match b {
        Branch::Workspace | Branch::Visible => {}
        Branch::AssignedTo(u) => {
            q.push(" AND c.assignee_id = ");
            q.bind(*u);
        }
        Branch::Unassigned(None) => {
            q.push(" AND c.assignee_id IS NULL");
        }
        Branch::Unassigned(Some((channels, teams))) => {
            q.push(" AND c.assignee_id IS NULL AND (c.channel_id IN ");
            q.bind_list(channels);
            q.push(" OR c.team_id IN ");
            q.bind_list(teams);
            q.push(")");
        }
        Branch::Channel(ch) => {
            q.push(" AND c.channel_id = ");
            q.bind(*ch);
        }
    }
    // Not twice what the branch says already: PostgreSQL would take the two for independent
    // conditions and square their selectivity (Unassigned: a dozen rows expected of
    // thousands, so it sorted them all instead of walking the index in order).
    let implied = matches!((b, section), (Branch::Unassigned(_), Section::Unassigned))
        || matches!((b, section), (Branch::AssignedTo(u), Section::Mine) if *u == v.user_id);
    if !implied {
        push_section(q, section, v.user_id);
    }
    if let Some(allowed) = &v.allowed_contact_ids {
        q.push(" AND c.contact_id IN ");
        q.bind_list(allowed);
    }
    if !v.is_admin() && !v.flags.has(Flag::SeeGroupChats) {
        q.push(" AND c.is_group = 0");
    }
}

fn push_section(q: &mut Sql, section: Section, me: Id) {
    match section {
        Section::All => {}
        Section::Mine => {
            q.push(" AND c.assignee_id = ");
            q.bind(me);
        }
        Section::Unassigned => {
            q.push(" AND c.assignee_id IS NULL");
        }
        Section::Teammates => {
            q.push(" AND c.assignee_id IS NOT NULL AND c.assignee_id <> ");
            q.bind(me);
        }
    }
}

/// Due time of conversations with none, so they sort after every real one.
const NO_DUE: i64 = 9_000_000_000_000_000;
const DUE_KEY: &str = "COALESCE(c.due_at, 9000000000000000)";

/// Position after which the next page starts (the sort key of the last row shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Processing { unanswered: i64, due: i64, activity: i64, id: Id },
    Activity { activity: i64, id: Id },
}

impl Cursor {
    fn of(sort: Sort, c: &Conversation) -> Cursor {
        match sort {
            Sort::ProcessingOrder => Cursor::Processing {
                unanswered: c.unanswered as i64,
                due: c.due_at.unwrap_or(NO_DUE),
                activity: c.last_activity_at,
                id: c.id,
            },
            Sort::LastActivity => Cursor::Activity { activity: c.last_activity_at, id: c.id },
        }
    }

    fn encode(self) -> String {
        match self {
            Cursor::Processing { unanswered, due, activity, id } => format!("p.{unanswered}.{due}.{activity}.{id}"),
            Cursor::Activity { activity, id } => format!("a.{activity}.{id}"),
        }
    }

    fn decode(s: &str, sort: Sort) -> StoreResult<Cursor> {
        let bad = || StoreError::Invalid("invalid_cursor", "the cursor is not one this list gave".into());
        let mut parts = s.split('.');
        let tag = parts.next().ok_or_else(bad)?;
        let nums = parts.map(|p| p.parse::<i64>().map_err(|_| bad())).collect::<StoreResult<Vec<i64>>>()?;
        match (sort, tag, nums.as_slice()) {
            (Sort::ProcessingOrder, "p", &[unanswered, due, activity, id]) if unanswered == 0 || unanswered == 1 => {
                Ok(Cursor::Processing { unanswered, due, activity, id })
            }
            (Sort::LastActivity, "a", &[activity, id]) => Ok(Cursor::Activity { activity, id }),
            _ => Err(bad()),
        }
    }

    /// ` AND (rows strictly after this position in the sort order)`.
    fn push_after(self, q: &mut Sql) {
        match self {
            Cursor::Processing { unanswered, due, activity, id } => {
                q.push(" AND (c.unanswered < ");
                q.bind(unanswered);
                q.push(" OR (c.unanswered = ");
                q.bind(unanswered);
                q.push(&format!(" AND ({DUE_KEY} > "));
                q.bind(due);
                q.push(&format!(" OR ({DUE_KEY} = "));
                q.bind(due);
                q.push(" AND (c.last_activity_at < ");
                q.bind(activity);
                q.push(" OR (c.last_activity_at = ");
                q.bind(activity);
                q.push(" AND c.id < ");
                q.bind(id);
                q.push("))))))");
            }
            Cursor::Activity { activity, id } => {
                q.push(" AND (c.last_activity_at < ");
                q.bind(activity);
                q.push(" OR (c.last_activity_at = ");
                q.bind(activity);
                q.push(" AND c.id < ");
                q.bind(id);
                q.push("))");
            }
        }
    }
}

/// A merged walk's branch columns (the id and the sort key, named) and the merge's order over
/// those names (` ORDER BY ...`), the same order as [`order_by`].
fn merge_keys(sort: Sort) -> (String, &'static str) {
    match sort {
        Sort::ProcessingOrder => (
            format!("c.id AS id, c.unanswered AS unanswered, {DUE_KEY} AS due, c.last_activity_at AS activity"),
            " ORDER BY unanswered DESC, due ASC, activity DESC, id DESC",
        ),
        Sort::LastActivity => {
            ("c.id AS id, c.last_activity_at AS activity".to_string(), " ORDER BY activity DESC, id DESC")
        }
    }
}

fn order_by(sort: Sort) -> String {
    match sort {
        Sort::ProcessingOrder => {
            format!(" ORDER BY c.unanswered DESC, {DUE_KEY} ASC, c.last_activity_at DESC, c.id DESC")
        }
        Sort::LastActivity => " ORDER BY c.last_activity_at DESC, c.id DESC".to_string(),
    }
}

pub(crate) async fn list_conversations(
    s: &SqlStore,
    viewer: &Viewer,
    filter: ConversationFilter,
) -> StoreResult<ConversationPage> {
    let limit = if filter.limit == 0 { 50 } else { filter.limit.clamp(1, 100) };
    let cursor = match &filter.cursor {
        Some(text) if !text.is_empty() => Some(Cursor::decode(text, filter.sort)?),
        _ => None,
    };
    let mut conn = s.pool.acquire().await?;
    let ws = viewer.workspace_id;
    // Read once: every choice below follows the same value (the conformance suite changes it
    // while other tests run).
    let threshold = SEARCH_SCAN_FROM.load(Ordering::Relaxed);
    // The page: one query per branch of what the viewer sees in the section, each walking an
    // index in sort order; several branches are merged and sorted again.
    let mut branches = branches(viewer, filter.section);
    if let Some(ch) = filter.channel_id {
        branches.retain(|b| !matches!(b, Branch::Channel(c) if *c != ch));
    }
    // Matches past which the walk is cheaper: lower where it walks the whole workspace (an
    // admin's All or Teammates); a narrower view holds fewer of the matches, so its walk goes
    // further for a page (an agent's Messages tab, 1,100 matches, warm: the page 25 ms walked, 3
    // driven). On PostgreSQL an operator's own conversations and the unassigned queue are
    // walked index-only, so their walk costs what the view holds whatever the matches, where
    // driven each match's row is read from the table (an agent seeing 5,809 conversations,
    // warm: walked 1.8-2.0 ms from 2 matches to 42,000; driven 17 ms for 2,582 matches and 29
    // for 2,423): [`PG_DRIVEN_MAX`] there too, and for channels seen whole (an agent allowed
    // to see all of its channels' conversations), whose walks PostgreSQL merges (below) so
    // that they read only rows the agent sees, as an admin's walk does: where that agent
    // gathered up to 3,000 matches to learn the plan, a common surname's 3,000 rows took 9-12 ms
    // before a walk of 7.
    let walks_workspace = branches == [Branch::Workspace];
    let narrow = s.dialect == Dialect::Postgres
        && branches.iter().all(|b| matches!(b, Branch::AssignedTo(_) | Branch::Unassigned(_)));
    let driven_max =
        |cap: i64| if walks_workspace || s.dialect == Dialect::Postgres { threshold.min(cap) } else { threshold };
    // SQLite: one set of every match, while the index's keys carry whole conversation ids (the
    // test hooks of [`set_search_scan_threshold`] at 0 and below check the plans without it).
    let sets = match &filter.search {
        Some(term)
            if s.dialect == Dialect::Sqlite
                && threshold > 0
                && (!term.in_messages() || messages_index_is_exact(&mut conn).await?) =>
        {
            Some(gather_sets(s, &mut conn, term, driven_max(SQLITE_PEOPLE_GATHER_MAX)).await?)
        }
        _ => None,
    };
    // PostgreSQL: the term's words, the plan's count and the messages' conversations.
    let words = match &filter.search {
        Some(term) if s.dialect == Dialect::Postgres && term.in_messages() => pg_words(&mut conn, term).await?,
        _ => Vec::new(),
    };
    let mut pg = match &filter.search {
        Some(term) if s.dialect == Dialect::Postgres && threshold > 0 => {
            // A messages-only search has its matches exactly, at one index range a word: they
            // drive more of the pages that walk the workspace or channels (a product name in
            // 636 conversations, as an agent who sees two channels whole: walked 23-28 ms,
            // 80,000 index entries for a page; driven 8.5). An operator's own and unassigned
            // conversations are walked quickly whatever the matches.
            let cap = match () {
                _ if term.in_contacts() || narrow => PG_DRIVEN_MAX,
                _ if walks_workspace => PG_MESSAGES_DRIVEN_MAX,
                _ => PG_MESSAGES_DRIVEN_MAX_CHANNELS,
            };
            Some(pg_gather(s, &mut conn, ws, term, &words, driven_max(cap)).await?)
        }
        _ => None,
    };
    let search = match (&filter.search, &sets, &pg) {
        // Driven only by two sets, and small ones.
        (Some(_), Some(sets), _)
            if sets.people.is_none() || sets.messages.is_none() || sets.found >= driven_max(SQLITE_DRIVEN_MAX) =>
        {
            SearchMode::Scan { messages_per_row: sets.messages.is_none() }
        }
        (Some(_), Some(_), _) => SearchMode::Driven,
        (Some(_), None, Some(gathered)) => gathered.mode,
        (Some(term), None, None) => search_mode(&mut conn, term, threshold).await?,
        (None, _, _) => SearchMode::Driven,
    };
    let keys = match &filter.search {
        Some(_) if sets.is_some() => false,
        // The test hooks of [`set_search_scan_threshold`] look matches up in messages, so that
        // the conformance suite checks both ways agree.
        Some(term) if term.in_messages() && s.dialect == Dialect::Sqlite && threshold > 0 => {
            messages_index_is_exact(&mut conn).await?
        }
        _ => false,
    };
    // The conversations of the matching messages, gathered once (PostgreSQL: by `pg_gather`,
    // or here under the test hooks), unless each row checks its own messages.
    let gather_here = |term: &SearchTerm| {
        sets.is_none() && term.in_messages() && !keys && search != (SearchMode::Scan { messages_per_row: true })
    };
    let pg_found = match (&filter.search, &mut pg) {
        (Some(_), Some(gathered)) => gathered.messages.take(),
        (Some(term), None) if s.dialect == Dialect::Postgres && gather_here(term) => {
            Some(PgFound::new(&found_in_messages(&mut conn, s.dialect, term, &words).await?))
        }
        _ => None,
    };
    let found = match &filter.search {
        Some(term) if s.dialect == Dialect::Sqlite && gather_here(term) => {
            Some(found_in_messages(&mut conn, s.dialect, term, &words).await?)
        }
        _ => None,
    };
    let messages = match (&sets, &found, keys) {
        _ if s.dialect == Dialect::Postgres => {
            MessageSource::Pg(match (pg.as_ref().and_then(|g| g.all.as_ref()), &pg_found) {
                // Only a driven plan gathers every match.
                (Some(all), _) => PgMessages::All(all),
                (_, Some(found)) => PgMessages::Found(found),
                _ => PgMessages::Lookup(&words),
            })
        }
        (Some(sets), _, _) => MessageSource::Sets(sets),
        (None, Some(ids), _) => MessageSource::Found(ids),
        (None, None, true) => MessageSource::Keys,
        (None, None, false) => MessageSource::Lookup,
    };

    match (&filter.search, search) {
        // The few matches drive the query: gather them once, keep the visible ones.
        (Some(_), SearchMode::Driven) if !branches.is_empty() => branches = vec![Branch::Visible],
        _ => {}
    }
    // Several branches are walked as one merge of their index walks in sort order, which stops
    // when the page is full: it reads what the page needs of the viewer's rows, where one walk
    // of the workspace passes every row the viewer may not see, and walks of their own to a
    // page each read a page's worth of every branch. The branches are made disjoint for it
    // (their own and the unassigned conversations outside the channels seen whole), as the
    // merge keeps duplicates. An agent who sees two of eight channels whole, "aisha" in both
    // tabs (2,838 contacts, 3,350 messages): PostgreSQL (a Merge Append) 51,000 index entries,
    // 12-15 ms warm, against 25,000 and 6.7 ms; SQLite (a compound SELECT's merge) 23-24 ms
    // against 13-14, whose gathered sets each arm names by one placeholder (`bind_once`: the
    // bit map of "laura"'s 15,000 conversations is a megabyte).
    let whole: Vec<Id> =
        branches.iter().filter_map(|b| if let Branch::Channel(c) = b { Some(*c) } else { None }).collect();
    // PostgreSQL reads the table for each row an index scan walks unless the query needs only
    // what the index holds (migration 0009): a walk that keeps few of its rows (a search, a
    // tag) selects their ids alone, the rows are read after.
    let ids_first = s.dialect == Dialect::Postgres
        && ((filter.search.is_some() && matches!(search, SearchMode::Scan { .. })) || filter.tag != TagFilter::Any);
    let push_branch_query = |q: &mut Sql, b: &Branch, limited: bool| {
        push_branch(q, viewer, b, filter.section);
        if !whole.is_empty() && matches!(b, Branch::AssignedTo(_) | Branch::Unassigned(_)) {
            q.push(" AND c.channel_id NOT IN ");
            q.bind_list(&whole);
        }
        // Every branch but `Visible` holds only rows the viewer may see.
        push_filters(q, s.dialect, viewer, &filter, search, messages, *b != Branch::Visible);
        if let Some(cur) = cursor {
            cur.push_after(q);
        }
        q.push(&order_by(filter.sort));
        if limited {
            q.push(" LIMIT ");
            q.bind(limit + 1);
        }
    };
    let mut q = Sql::new(&format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE "));
    q.plan_each_run(s.dialect);
    match branches.as_slice() {
        [] => q.push("1 = 0"),
        [one] if !ids_first => {
            push_branch_query(&mut q, one, true);
            &mut q
        }
        // Several branches (or, on PostgreSQL, one walked for ids alone): PostgreSQL a Merge
        // Append of the arms under the LIMIT; SQLite a compound SELECT merged by its own ORDER
        // BY (not one of a query over it, which reads every arm whole first: 170-213 ms), arms
        // without a LIMIT of their own (which would make each sort its rows first).
        arms => {
            let (select, order) = merge_keys(filter.sort);
            let sqlite = s.dialect == Dialect::Sqlite;
            q.push("c.id IN (SELECT id FROM (");
            for (i, b) in arms.iter().enumerate() {
                if i > 0 {
                    q.push(" UNION ALL ");
                }
                match sqlite {
                    false => q.push(&format!("(SELECT {select} FROM conversations c WHERE ")),
                    true => q.push(&format!("SELECT * FROM (SELECT {select} FROM conversations c WHERE ")),
                };
                push_branch_query(&mut q, b, !sqlite);
                q.push(")");
            }
            q.push(if sqlite { "" } else { ") u" });
            q.push(order);
            q.push(" LIMIT ");
            q.bind(limit + 1);
            q.push(if sqlite { "))" } else { ")" });
            q.push(&order_by(filter.sort));
            q.push(" LIMIT ");
            q.bind(limit + 1)
        }
    };
    // The pending counters: one query, same visibility and filters, no section.
    let mut cq = counters_query(s.dialect, viewer);
    // With many matching messages each pending conversation checks its own messages (their
    // number bounds the work, not the word's frequency); a driven page's set, past
    // [`COUNT_WALK_FROM`] matches, is checked against each pending conversation instead of each
    // match's row being read again.
    let count_walk_from = COUNT_WALK_FROM.load(Ordering::Relaxed);
    let count_search = match search {
        SearchMode::Scan { messages_per_row: true } => search,
        SearchMode::Scan { messages_per_row: false } => SearchMode::Count,
        SearchMode::Driven if sets.as_ref().is_some_and(|sets| sets.found >= count_walk_from) => SearchMode::Count,
        other => other,
    };
    push_filters(&mut cq, s.dialect, viewer, &filter, count_search, messages, false);
    push_pending(&mut cq);

    // The page (and what its rows show) and the counters are independent: on two connections
    // at once when the pool has one to spare, so the request takes the longer of the two, not
    // their sum (a search's counters check as many rows as its page walks).
    let (user_id, sort, dialect, pool) = (viewer.user_id, filter.sort, s.dialect, s.pool.clone());
    let ((items, next_cursor), counts) = s
        .side_by_side(
            &mut conn,
            move |c| {
                Box::pin(async move {
                    let rows = if branches.is_empty() { Vec::new() } else { q.query().fetch_all(&mut *c).await? };
                    let mut conversations = rows.iter().map(conversation_from_row).collect::<StoreResult<Vec<_>>>()?;
                    let next_cursor = if conversations.len() as i64 > limit {
                        conversations.truncate(limit as usize);
                        conversations.last().map(|c| Cursor::of(sort, c).encode())
                    } else {
                        None
                    };
                    Ok((rows_for(c, Some(&pool), dialect, user_id, conversations).await?, next_cursor))
                })
            },
            move |c| Box::pin(async move { read_counters(c, cq).await }),
        )
        .await?;
    Ok(ConversationPage { items, counts, next_cursor })
}

/// `SELECT <the four pending counters> FROM conversations c WHERE <what the viewer may see>`,
/// for more conditions and [`push_pending`] to follow.
fn counters_query(dialect: Dialect, viewer: &Viewer) -> Sql {
    let mut cq = Sql::new("SELECT CAST(COALESCE(SUM(CASE WHEN c.assignee_id = ");
    cq.plan_each_run(dialect);
    cq.bind(viewer.user_id);
    cq.push(
        " THEN 1 ELSE 0 END), 0) AS BIGINT) AS mine, \
         CAST(COALESCE(SUM(CASE WHEN c.assignee_id IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS unassigned, \
         CAST(COUNT(*) AS BIGINT) AS all_count, \
         CAST(COALESCE(SUM(CASE WHEN c.assignee_id IS NOT NULL AND c.assignee_id <> ",
    );
    cq.bind(viewer.user_id);
    cq.push(" THEN 1 ELSE 0 END), 0) AS BIGINT) AS teammates FROM conversations c WHERE ");
    push_visibility(&mut cq, viewer);
    cq
}

/// The counters count pending conversations only: literal, so that the partial index
/// `conversations_pending` (exactly these rows) serves it.
fn push_pending(cq: &mut Sql) {
    cq.push(" AND c.status = 'open' AND c.unanswered = 1");
}

async fn read_counters(c: &mut AnyConnection, cq: Sql) -> StoreResult<SectionCounts> {
    let row = cq.query().fetch_one(&mut *c).await?;
    Ok(SectionCounts {
        mine: col(&row, "mine")?,
        unassigned: col(&row, "unassigned")?,
        all: col(&row, "all_count")?,
        teammates: col(&row, "teammates")?,
    })
}

/// The pending counters of an unfiltered inbox (what [`list_conversations`] gives with no
/// filter), alone: an operator's socket refreshes them every second while messages arrive, and
/// the page and its rows read for them were thrown away.
pub(crate) async fn pending_counts(s: &SqlStore, viewer: &Viewer) -> StoreResult<SectionCounts> {
    let mut cq = counters_query(s.dialect, viewer);
    push_pending(&mut cq);
    let mut conn = s.pool.acquire().await?;
    read_counters(&mut conn, cq).await
}

pub(crate) async fn unread_conversations(s: &SqlStore, viewer: &Viewer) -> StoreResult<i64> {
    let mut q = Sql::new(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM conversations c LEFT JOIN read_states r ON r.conversation_id = c.id AND r.user_id = ",
    );
    q.bind(viewer.user_id);
    q.push(" WHERE ");
    push_visibility(&mut q, viewer);
    q.push(
        " AND (r.marked_unread = 1 OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id \
         AND m.kind = 'inbound' AND m.hidden = 0 AND m.id > COALESCE(r.last_read_message_id, 0)))",
    );
    let row = q.query().fetch_one(&s.pool).await?;
    col(&row, "n")
}

// --- single reads --------------------------------------------------------------------------------

pub(crate) async fn contact_conversations(
    s: &SqlStore,
    workspace_id: Id,
    contact_id: Id,
) -> StoreResult<Vec<Conversation>> {
    let mut conn = s.pool.acquire().await?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM contacts WHERE id = $1 AND workspace_id = $2")
        .bind(contact_id)
        .bind(workspace_id)
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    let sql = format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.workspace_id = $1 AND c.contact_id = $2 \
         ORDER BY c.last_activity_at DESC, c.id DESC"
    );
    let rows = sqlx::query(&sql).bind(workspace_id).bind(contact_id).fetch_all(&mut *conn).await?;
    rows.iter().map(conversation_from_row).collect()
}

pub(crate) async fn get_conversation(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<Conversation> {
    let mut conn = s.pool.acquire().await?;
    load_conversation(&mut conn, workspace_id, id).await
}

pub(crate) async fn conversation_row(
    s: &SqlStore,
    user_id: Id,
    conversation: Conversation,
) -> StoreResult<ConversationRow> {
    let mut conn = s.pool.acquire().await?;
    rows_for(&mut conn, None, s.dialect, user_id, vec![conversation]).await?.pop().ok_or(StoreError::NotFound)
}

pub(crate) async fn list_attentions(
    s: &SqlStore,
    workspace_id: Id,
    conversation_id: Id,
) -> StoreResult<Vec<Attention>> {
    let mut conn = s.pool.acquire().await?;
    load_conversation(&mut conn, workspace_id, conversation_id).await?;
    let sql = format!("SELECT {ATTENTION_COLUMNS} FROM attentions WHERE conversation_id = $1 ORDER BY id");
    let rows = sqlx::query(&sql).bind(conversation_id).fetch_all(&mut *conn).await?;
    rows.iter().map(attention_from_row).collect()
}

pub(crate) async fn list_messages(
    s: &SqlStore,
    workspace_id: Id,
    conversation_id: Id,
    before_id: Option<Id>,
    limit: i64,
) -> StoreResult<Vec<Message>> {
    let limit = if limit == 0 { 50 } else { limit.clamp(1, 200) };
    let mut conn = s.pool.acquire().await?;
    load_conversation(&mut conn, workspace_id, conversation_id).await?;
    let mut q = Sql::new(&format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = "));
    q.bind(conversation_id);
    q.push(" AND m.hidden = 0");
    if let Some(before) = before_id {
        q.push(" AND m.id < ");
        q.bind(before);
    }
    q.push(" ORDER BY m.id DESC LIMIT ");
    q.bind(limit);
    let rows = q.query().fetch_all(&mut *conn).await?;
    let mut messages = rows.iter().map(message_from_row).collect::<StoreResult<Vec<_>>>()?;
    fill_attachments(&mut conn, &mut messages).await?;
    Ok(messages)
}

pub(crate) async fn get_message(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<Message> {
    let mut conn = s.pool.acquire().await?;
    match load_message(&mut conn, id).await? {
        Some(m) if m.workspace_id == workspace_id => Ok(m),
        _ => Err(StoreError::NotFound),
    }
}

pub(crate) async fn get_draft(
    s: &SqlStore,
    workspace_id: Id,
    user_id: Id,
    conversation_id: Id,
) -> StoreResult<Option<Draft>> {
    let mut conn = s.pool.acquire().await?;
    load_conversation(&mut conn, workspace_id, conversation_id).await?;
    let row = sqlx::query("SELECT text, updated_at FROM drafts WHERE user_id = $1 AND conversation_id = $2")
        .bind(user_id)
        .bind(conversation_id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => {
            Ok(Some(Draft { user_id, conversation_id, text: col(&row, "text")?, updated_at: col(&row, "updated_at")? }))
        }
        None => Ok(None),
    }
}

pub(crate) async fn list_hidden_messages(
    s: &SqlStore,
    workspace_id: Id,
    contact_id: Id,
    limit: i64,
) -> StoreResult<Vec<Message>> {
    let limit = if limit <= 0 { 50 } else { limit.min(200) };
    let mut conn = s.pool.acquire().await?;
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN contact_identities i ON i.id = \
         (SELECT identity_id FROM conversations WHERE id = m.conversation_id) \
         WHERE m.workspace_id = $1 AND m.hidden = 1 AND i.contact_id = $2 ORDER BY m.id DESC LIMIT $3"
    );
    let rows = sqlx::query(&sql).bind(workspace_id).bind(contact_id).bind(limit).fetch_all(&mut *conn).await?;
    let mut messages = rows.iter().map(message_from_row).collect::<StoreResult<Vec<_>>>()?;
    fill_attachments(&mut conn, &mut messages).await?;
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let p = Cursor::Processing { unanswered: 1, due: NO_DUE, activity: 1_700_000_000_000, id: 42 };
        assert_eq!(Cursor::decode(&p.encode(), Sort::ProcessingOrder).ok(), Some(p));
        let a = Cursor::Activity { activity: 5, id: 7 };
        assert_eq!(a.encode(), "a.5.7");
        assert_eq!(Cursor::decode("a.5.7", Sort::LastActivity).ok(), Some(a));
        for (bad, sort) in [
            ("", Sort::LastActivity),
            ("a.5", Sort::LastActivity),
            ("a.5.7", Sort::ProcessingOrder),
            ("p.2.1.1.1", Sort::ProcessingOrder),
            ("p.1.1.1.1.1", Sort::ProcessingOrder),
            ("x.1.1", Sort::LastActivity),
        ] {
            assert!(matches!(Cursor::decode(bad, sort), Err(StoreError::Invalid("invalid_cursor", _))), "{bad}");
        }
    }

    #[test]
    fn fts_phrases_quote_everything() {
        assert_eq!(fts_phrase("refund late"), "\"refund late\"");
        assert_eq!(fts_phrase("say \"hi\" OR x*"), "\"say \"\"hi\"\" OR x*\"");
    }

    #[test]
    fn plan_rows_reads_the_estimate_of_a_plan_line() {
        assert_eq!(
            plan_rows("Seq Scan on conversation_search p  (cost=0.00..35850.83 rows=57189 width=9)"),
            Some(57189)
        );
        assert_eq!(
            plan_rows("Bitmap Heap Scan on conversation_search p  (cost=57.06..6730.15 rows=2718 width=8)"),
            Some(2718)
        );
        assert_eq!(plan_rows("Result  (cost=0.00..0.01 rows=1 width=4)"), Some(1));
        assert_eq!(plan_rows("  Filter: (workspace_id = 1)"), None);
        assert_eq!(plan_rows("weird rows=x"), None);
    }

    #[test]
    fn postgres_gathered_ids_are_made_distinct() {
        // One id per matching message, in the table's order: distinct, ascending, counted.
        let found = PgFound::new("12,10,12,15,10");
        assert_eq!((found.list().as_str(), found.ids.len(), found.bits.is_none()), ("10,12,15", 3, true));
        let one = PgFound::new("7");
        assert_eq!((one.list().as_str(), one.ids.len()), ("7", 1));
        let none = PgFound::new("");
        assert_eq!((none.list().as_str(), none.ids.len(), none.bits.is_none()), ("", 0, true));
    }

    #[test]
    fn postgres_large_sets_are_tested_against_a_bit_map() {
        // Every third id from 1,000: bit `id - lo` set (byte n / 8, bit n % 8), no other.
        let from = PG_BIT_MAP_FROM.load(Ordering::Relaxed);
        let ids: Vec<i64> = (0..from as i64).map(|k| 1_000 + 3 * k).collect();
        let found = PgFound::new(&comma_separated(&ids));
        let (lo, bytes) = found.bits.as_ref().expect("a bit map");
        assert_eq!(*lo, 1_000);
        let set = |id: i64| {
            let n = (id - lo) as usize;
            bytes.get(n / 8).is_some_and(|b| b & (1 << (n % 8)) != 0)
        };
        assert!(ids.iter().all(|&id| set(id)));
        assert_eq!((1_000..1_000 + 3 * from as i64).filter(|&id| set(id)).count(), ids.len());
        assert_eq!(bytes.len(), (3 * (from - 1)) / 8 + 1);
        let mut q = Sql::new("SELECT ");
        found.push_test(&mut q);
        assert!(q.text.contains("get_bit("), "{}", q.text);
        // One fewer: the constant array.
        let small = PgFound::new(&comma_separated(&ids[1..]));
        let mut q = Sql::new("SELECT ");
        small.push_test(&mut q);
        assert!(small.bits.is_none() && q.text.contains("ANY("), "{}", q.text);
    }

    #[test]
    fn gathered_ids_become_distinct_sets_with_maps_when_dense() {
        // Repeats (one per matching message) are made distinct; the rows gathered are counted.
        let (ids, rows) = ids_of(Some("[12,10,12,15,10]"));
        assert_eq!((ids.clone(), rows), (vec![10, 12, 15], 5));
        assert_eq!(ids_of(Some("[]")), (vec![], 0));
        assert_eq!(ids_of(None), (vec![], 0));
        let set = IdSet::new(ids);
        assert_eq!(set.json, "[10,12,15]");
        let map = set.map.expect("dense: a map");
        assert_eq!((map.lo, map.bytes), (10, vec![1, 0, 1, 0, 0, 1]));
        // Sparse (more than 1,024 bytes an id) or too wide: the JSON array alone.
        assert_eq!(IdSet::new(vec![1, 2_100]).map, None);
        assert!(IdSet::new(vec![1, 2_000]).map.is_some());
        let wide: Vec<i64> = (0..20_000).map(|i| i * 250).collect();
        assert_eq!(IdSet::new(wide).map, None, "spans more than 4 MiB of map");
        assert_eq!(IdSet::new(Vec::new()), IdSet { json: "[]".into(), map: None });
    }
}
