//! Row decoders shared by the SQL modules: one place that knows how a table's columns map
//! to a domain record.
//!
//! Each `*_COLUMNS` constant is the column list its decoder reads (unqualified names: select
//! them from the table alone, or alias them when joining). Decoders that need child rows
//! (member ids, tag ids) take them as arguments; the `*_ids` loaders fetch them for many
//! parents in one query.

use super::*;
use sqlx::any::AnyRow;
use std::collections::HashMap;

pub(crate) const WORKSPACE_COLUMNS: &str = "id, name, created_at";

pub(crate) const USER_COLUMNS: &str = "id, workspace_id, email, name, display_name, role, flags, language, presence, \
     last_activity_at, max_concurrent, active, created_at";

pub(crate) const TEAM_COLUMNS: &str = "id, workspace_id, name";

pub(crate) const CHANNEL_COLUMNS: &str = "id, workspace_id, kind, name, secret, webhook_url, routing_mode, \
     max_message_length, auto_close_after_secs, response_time_limit_secs, greeting, settings, active, created_at";

pub(crate) const CONTACT_COLUMNS: &str = "id, workspace_id, name, phone, email, avatar_url, telegram_username, \
     telegram_id, source, custom_attributes, blocked, created_at";

pub(crate) const TAG_COLUMNS: &str = "id, workspace_id, name, color, pinned";

pub(crate) const CLOSE_REASON_COLUMNS: &str = "id, workspace_id, name";

pub(crate) const CANNED_RESPONSE_COLUMNS: &str = "id, workspace_id, owner_id, shortcut, text";

pub(crate) const ATTACHMENT_COLUMNS: &str =
    "id, workspace_id, message_id, name, content_type, size, storage_key, created_at";

pub(crate) const NOTIFICATION_COLUMNS: &str =
    "id, workspace_id, user_id, kind, conversation_id, text, read, created_at";

pub(crate) const EVENT_COLUMNS: &str = "seq, workspace_id, kind, access, user_id, payload, created_at";

pub(crate) fn workspace_from_row(row: &AnyRow) -> StoreResult<Workspace> {
    Ok(Workspace { id: col(row, "id")?, name: col(row, "name")?, created_at: col(row, "created_at")? })
}

/// `presence` is the effective presence at `now` (idle users read as offline).
pub(crate) fn user_from_row(row: &AnyRow, now: Millis) -> StoreResult<User> {
    let stored: Presence = col_enum(row, "presence", Presence::parse)?;
    let last_activity_at: Option<Millis> = col(row, "last_activity_at")?;
    Ok(User {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        email: col(row, "email")?,
        name: col(row, "name")?,
        display_name: col(row, "display_name")?,
        role: col_enum(row, "role", Role::parse)?,
        flags: Flags(col(row, "flags")?),
        language: col_enum(row, "language", Language::parse)?,
        presence: charla_core::presence::effective(stored, last_activity_at, now),
        last_activity_at,
        max_concurrent: col(row, "max_concurrent")?,
        active: col_bool(row, "active")?,
        created_at: col(row, "created_at")?,
    })
}

pub(crate) fn team_from_row(row: &AnyRow, member_ids: Vec<Id>) -> StoreResult<Team> {
    Ok(Team { id: col(row, "id")?, workspace_id: col(row, "workspace_id")?, name: col(row, "name")?, member_ids })
}

/// The channel with its secret; blank it (`secret = ""`) before putting it in an event.
pub(crate) fn channel_from_row(row: &AnyRow, member_ids: Vec<Id>) -> StoreResult<Channel> {
    Ok(Channel {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        kind: col_enum(row, "kind", ChannelKind::parse)?,
        name: col(row, "name")?,
        secret: col(row, "secret")?,
        webhook_url: col(row, "webhook_url")?,
        routing_mode: col_enum(row, "routing_mode", RoutingMode::parse)?,
        max_message_length: col(row, "max_message_length")?,
        auto_close_after_secs: col(row, "auto_close_after_secs")?,
        response_time_limit_secs: col(row, "response_time_limit_secs")?,
        greeting: col(row, "greeting")?,
        settings: col(row, "settings")?,
        member_ids,
        active: col_bool(row, "active")?,
        created_at: col(row, "created_at")?,
    })
}

pub(crate) fn contact_from_row(row: &AnyRow, tag_ids: Vec<Id>) -> StoreResult<Contact> {
    contact_from_prefixed_row(row, "", tag_ids)
}

/// The contact from a row whose columns are named `{prefix}id`, `{prefix}workspace_id`, ...
pub(crate) fn contact_from_prefixed_row(row: &impl RowLike, prefix: &str, tag_ids: Vec<Id>) -> StoreResult<Contact> {
    let name = |n: &str| format!("{prefix}{n}");
    Ok(Contact {
        id: col(row, &name("id"))?,
        workspace_id: col(row, &name("workspace_id"))?,
        name: col(row, &name("name"))?,
        phone: col(row, &name("phone"))?,
        email: col(row, &name("email"))?,
        avatar_url: col(row, &name("avatar_url"))?,
        telegram_username: col(row, &name("telegram_username"))?,
        telegram_id: col(row, &name("telegram_id"))?,
        source: col(row, &name("source"))?,
        custom_attributes: col(row, &name("custom_attributes"))?,
        tag_ids,
        blocked: col_bool(row, &name("blocked"))?,
        created_at: col(row, &name("created_at"))?,
    })
}

pub(crate) fn tag_from_row(row: &AnyRow) -> StoreResult<Tag> {
    Ok(Tag {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        name: col(row, "name")?,
        color: col(row, "color")?,
        pinned: col_bool(row, "pinned")?,
    })
}

pub(crate) fn close_reason_from_row(row: &AnyRow) -> StoreResult<CloseReason> {
    Ok(CloseReason { id: col(row, "id")?, workspace_id: col(row, "workspace_id")?, name: col(row, "name")? })
}

pub(crate) fn canned_response_from_row(row: &AnyRow) -> StoreResult<CannedResponse> {
    Ok(CannedResponse {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        owner_id: col(row, "owner_id")?,
        shortcut: col(row, "shortcut")?,
        text: col(row, "text")?,
    })
}

pub(crate) fn attachment_from_row(row: &AnyRow) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        message_id: col(row, "message_id")?,
        name: col(row, "name")?,
        content_type: col(row, "content_type")?,
        size: col(row, "size")?,
        storage_key: col(row, "storage_key")?,
        created_at: col(row, "created_at")?,
    })
}

pub(crate) fn notification_from_row(row: &AnyRow) -> StoreResult<Notification> {
    Ok(Notification {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        user_id: col(row, "user_id")?,
        kind: col(row, "kind")?,
        conversation_id: col(row, "conversation_id")?,
        text: col(row, "text")?,
        read: col_bool(row, "read")?,
        created_at: col(row, "created_at")?,
    })
}

pub(crate) fn event_from_row(row: &AnyRow) -> StoreResult<Event> {
    let access: Option<String> = col(row, "access")?;
    let access = match access {
        Some(text) => Some(
            serde_json::from_str::<ConversationAccess>(&text)
                .map_err(|e| StoreError::Database(format!("column access: {e}")))?,
        ),
        None => None,
    };
    let payload: String = col(row, "payload")?;
    let payload = serde_json::from_str(&payload).map_err(|e| StoreError::Database(format!("column payload: {e}")))?;
    Ok(Event {
        seq: col(row, "seq")?,
        workspace_id: col(row, "workspace_id")?,
        kind: col(row, "kind")?,
        access,
        user_id: col(row, "user_id")?,
        payload,
        created_at: col(row, "created_at")?,
    })
}

/// Child ids per parent id from a two-column link table, e.g.
/// `child_ids(c, "team_members", "team_id", "user_id", &[1, 2])`. Every parent asked for is a
/// key of the map (empty list when it has no children); each list is sorted.
pub(crate) async fn child_ids(
    c: &mut AnyConnection,
    table: &'static str,
    parent: &'static str,
    child: &'static str,
    parents: &[Id],
) -> StoreResult<HashMap<Id, Vec<Id>>> {
    let mut map: HashMap<Id, Vec<Id>> = parents.iter().map(|p| (*p, Vec::new())).collect();
    if parents.is_empty() {
        return Ok(map);
    }
    let mut q = Sql::new(&format!("SELECT {parent} AS p, {child} AS c FROM {table} WHERE {parent} IN "));
    q.bind_list(parents);
    q.push(" ORDER BY 1, 2");
    for row in q.query().fetch_all(&mut *c).await? {
        let p: Id = col(&row, "p")?;
        let id: Id = col(&row, "c")?;
        map.entry(p).or_default().push(id);
    }
    Ok(map)
}

/// Sorted member user ids of each team.
pub(crate) async fn team_member_ids(c: &mut AnyConnection, team_ids: &[Id]) -> StoreResult<HashMap<Id, Vec<Id>>> {
    child_ids(c, "team_members", "team_id", "user_id", team_ids).await
}

/// Sorted member user ids of each channel.
pub(crate) async fn channel_member_ids(c: &mut AnyConnection, channel_ids: &[Id]) -> StoreResult<HashMap<Id, Vec<Id>>> {
    child_ids(c, "channel_members", "channel_id", "user_id", channel_ids).await
}

/// Sorted tag ids of each contact.
pub(crate) async fn contact_tag_ids(c: &mut AnyConnection, contact_ids: &[Id]) -> StoreResult<HashMap<Id, Vec<Id>>> {
    child_ids(c, "contact_tags", "contact_id", "tag_id", contact_ids).await
}

/// Decodes channel rows and fills their member ids (one extra query).
pub(crate) async fn channels_from_rows(c: &mut AnyConnection, rows: &[AnyRow]) -> StoreResult<Vec<Channel>> {
    let ids = rows.iter().map(|r| col::<Id>(r, "id")).collect::<StoreResult<Vec<_>>>()?;
    let mut members = channel_member_ids(c, &ids).await?;
    rows.iter().zip(ids).map(|(r, id)| channel_from_row(r, members.remove(&id).unwrap_or_default())).collect()
}

/// Decodes team rows and fills their member ids (one extra query).
pub(crate) async fn teams_from_rows(c: &mut AnyConnection, rows: &[AnyRow]) -> StoreResult<Vec<Team>> {
    let ids = rows.iter().map(|r| col::<Id>(r, "id")).collect::<StoreResult<Vec<_>>>()?;
    let mut members = team_member_ids(c, &ids).await?;
    rows.iter().zip(ids).map(|(r, id)| team_from_row(r, members.remove(&id).unwrap_or_default())).collect()
}

/// The ids of a comma-separated list the database aggregated (column `name`, for the error).
pub(crate) fn id_list(text: &str, name: &str) -> StoreResult<Vec<Id>> {
    text.split(',')
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().map_err(|_| StoreError::Database(format!("bad id {t:?} in {name}"))))
        .collect()
}

/// Decodes contact rows and fills their tag ids (one extra query).
pub(crate) async fn contacts_from_rows(c: &mut AnyConnection, rows: &[AnyRow]) -> StoreResult<Vec<Contact>> {
    let ids = rows.iter().map(|r| col::<Id>(r, "id")).collect::<StoreResult<Vec<_>>>()?;
    let mut tags = contact_tag_ids(c, &ids).await?;
    rows.iter().zip(ids).map(|(r, id)| contact_from_row(r, tags.remove(&id).unwrap_or_default())).collect()
}
