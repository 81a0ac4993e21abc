//! Workspaces, users, presence, teams, channels, contacts, tags, close reasons, canned
//! responses, attachments, notifications.
//!
//! Every object is looked up with its workspace id, so an id from another workspace reads as
//! `NotFound`. Writes go through [`SqlStore::write`]; the read-modify-write ones lock the row
//! first (`FOR UPDATE` on PostgreSQL; SQLite has a single writer).

use super::rows::*;
use super::*;
use charla_core::presence::{IDLE_OFFLINE_MS, effective};
use charla_core::search::{contact_search_text, digits_of, like_escape};
use sqlx::any::AnyRow;

/// Activity alone is written at most once a minute per user: presence is touched on every
/// request, and a write per request would be most of the write load.
const ACTIVITY_WRITE_INTERVAL_MS: Millis = 60_000;

const SESSION_SECRET_KEY: &str = "session_secret";

/// Page size of contact lists when the caller gives none.
const DEFAULT_CONTACT_PAGE: i64 = 50;
const MAX_CONTACT_PAGE: i64 = 200;
const DEFAULT_NOTIFICATION_PAGE: i64 = 50;
const MAX_NOTIFICATION_PAGE: i64 = 200;

/// Turns a unique violation into `Conflict(code)`; other errors as usual.
fn unique_as(code: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| {
        let unique = matches!(&e, sqlx::Error::Database(db) if db.is_unique_violation());
        if unique { StoreError::Conflict(code.to_string()) } else { StoreError::from(e) }
    }
}

fn invalid(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid(code, message.into())
}

fn check_json_object(text: &str, code: &'static str, what: &str) -> StoreResult<()> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if v.is_object() => Ok(()),
        _ => Err(invalid(code, format!("{what} must be a JSON object"))),
    }
}

/// A trimmed, non-empty name.
fn clean_name(name: &str, what: &str) -> StoreResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("invalid_name", format!("{what} must not be empty")));
    }
    Ok(name.to_string())
}

fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
    text.chunks(2).map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?)).collect()
}

async fn ensure_workspace(c: &mut AnyConnection, workspace_id: Id) -> StoreResult<()> {
    sqlx::query("SELECT id FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_optional(&mut *c)
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound)
}

/// Serialises writers of one kind within a workspace on PostgreSQL (SQLite has one writer),
/// for uniqueness rules no index expresses. Held until the transaction ends.
async fn lock_workspace_key(c: &mut AnyConnection, dialect: Dialect, kind: i64, workspace_id: Id) -> StoreResult<()> {
    if dialect == Dialect::Postgres {
        let key = (kind << 48) ^ workspace_id;
        // pg_advisory_xact_lock returns void, which the Any driver cannot decode: select a
        // constant next to it.
        sqlx::query("SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock($1)) AS l")
            .bind(key)
            .fetch_one(&mut *c)
            .await?;
    }
    Ok(())
}

/// The given user ids, sorted and deduplicated, after checking they are users of the
/// workspace.
pub(crate) async fn check_workspace_users(c: &mut AnyConnection, workspace_id: Id, ids: &[Id]) -> StoreResult<Vec<Id>> {
    let mut want = ids.to_vec();
    want.sort_unstable();
    want.dedup();
    if want.is_empty() {
        return Ok(want);
    }
    let mut q = Sql::new("SELECT id FROM users WHERE workspace_id = ");
    q.bind(workspace_id).push(" AND id IN ").bind_list(&want);
    let found =
        q.query().fetch_all(&mut *c).await?.iter().map(|r| col::<Id>(r, "id")).collect::<StoreResult<Vec<_>>>()?;
    if let Some(missing) = want.iter().find(|id| !found.contains(id)) {
        return Err(invalid("invalid_user", format!("user {missing} is not a user of this workspace")));
    }
    Ok(want)
}

/// Replaces the children of `parent` in a two-column link table.
async fn replace_links(
    c: &mut AnyConnection,
    table: &'static str,
    parent_col: &'static str,
    child_col: &'static str,
    parent: Id,
    children: &[Id],
) -> StoreResult<()> {
    sqlx::query(&format!("DELETE FROM {table} WHERE {parent_col} = $1")).bind(parent).execute(&mut *c).await?;
    if children.is_empty() {
        return Ok(());
    }
    let mut q = Sql::new(&format!("INSERT INTO {table} ({parent_col}, {child_col}) VALUES "));
    for (i, child) in children.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push("(").bind(parent).push(", ").bind(*child).push(")");
    }
    q.query().execute(&mut *c).await?;
    Ok(())
}

// --- server settings and workspaces

pub(crate) async fn server_secret(s: &SqlStore) -> StoreResult<Vec<u8>> {
    let stored: Option<String> = sqlx::query_scalar("SELECT value FROM server_settings WHERE key = $1")
        .bind(SESSION_SECRET_KEY)
        .fetch_optional(&s.pool)
        .await?;
    let text = match stored {
        Some(text) => text,
        None => {
            let fresh = hex_encode(&rand::random::<[u8; 32]>());
            // Two nodes may both get here: the first insert wins and both read it back.
            s.write(move |c| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO server_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                    )
                    .bind(SESSION_SECRET_KEY)
                    .bind(fresh)
                    .execute(&mut *c)
                    .await?;
                    let text: String = sqlx::query_scalar("SELECT value FROM server_settings WHERE key = $1")
                        .bind(SESSION_SECRET_KEY)
                        .fetch_one(&mut *c)
                        .await?;
                    Ok(text)
                })
            })
            .await?
        }
    };
    hex_decode(&text).ok_or_else(|| StoreError::Database("server secret is not hex".into()))
}

pub(crate) async fn create_workspace(s: &SqlStore, name: &str) -> StoreResult<Workspace> {
    let name = clean_name(name, "workspace name")?;
    let now = now_ms();
    s.write(move |c| {
        Box::pin(async move {
            let sql =
                format!("INSERT INTO workspaces (name, created_at) VALUES ($1, $2) RETURNING {WORKSPACE_COLUMNS}");
            let row = sqlx::query(&sql).bind(name).bind(now).fetch_one(&mut *c).await?;
            workspace_from_row(&row)
        })
    })
    .await
}

pub(crate) async fn first_workspace(s: &SqlStore) -> StoreResult<Option<Workspace>> {
    let sql = format!("SELECT {WORKSPACE_COLUMNS} FROM workspaces ORDER BY id LIMIT 1");
    match sqlx::query(&sql).fetch_optional(&s.pool).await? {
        Some(row) => Ok(Some(workspace_from_row(&row)?)),
        None => Ok(None),
    }
}

// --- users

/// Lower-cased and trimmed: e-mails are unique across the server whatever their case.
fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// One user row, scoped by workspace when given; `lock` is appended (e.g. `FOR UPDATE`).
async fn user_row(c: &mut AnyConnection, workspace_id: Option<Id>, id: Id, lock: &str) -> StoreResult<AnyRow> {
    let mut q = Sql::new(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = "));
    q.bind(id);
    if let Some(ws) = workspace_id {
        q.push(" AND workspace_id = ").bind(ws);
    }
    q.push(lock);
    q.query().fetch_optional(&mut *c).await?.ok_or(StoreError::NotFound)
}

/// A user of the workspace (any workspace when None), presence as seen at `now`.
pub(crate) async fn load_user(
    c: &mut AnyConnection,
    workspace_id: Option<Id>,
    id: Id,
    now: Millis,
) -> StoreResult<User> {
    user_from_row(&user_row(c, workspace_id, id, "").await?, now)
}

pub(crate) async fn create_user(s: &SqlStore, user: NewUser) -> StoreResult<User> {
    let email = normalize_email(&user.email);
    if email.is_empty() || !email.contains('@') {
        return Err(invalid("invalid_email", format!("{:?} is not an e-mail address", user.email)));
    }
    let now = now_ms();
    s.write(move |c| {
        Box::pin(async move {
            ensure_workspace(c, user.workspace_id).await?;
            let sql = format!(
                "INSERT INTO users (workspace_id, email, name, display_name, password_hash, role, flags, language, \
                 presence, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'offline', $9) RETURNING {USER_COLUMNS}"
            );
            let row = sqlx::query(&sql)
                .bind(user.workspace_id)
                .bind(email)
                .bind(user.name)
                .bind(user.display_name)
                .bind(user.password_hash)
                .bind(user.role.as_str())
                .bind(user.flags.0)
                .bind(user.language.as_str())
                .bind(now)
                .fetch_one(&mut *c)
                .await
                .map_err(unique_as("email_taken"))?;
            user_from_row(&row, now)
        })
    })
    .await
}

pub(crate) async fn get_user(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<User> {
    let mut c = s.pool.acquire().await?;
    load_user(&mut c, Some(workspace_id), id, now_ms()).await
}

pub(crate) async fn find_user_by_email(s: &SqlStore, email: &str) -> StoreResult<Option<(User, String)>> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
    match sqlx::query(&sql).bind(normalize_email(email)).fetch_optional(&s.pool).await? {
        Some(row) => Ok(Some((user_from_row(&row, now_ms())?, col(&row, "password_hash")?))),
        None => Ok(None),
    }
}

pub(crate) async fn list_users(s: &SqlStore, workspace_id: Id) -> StoreResult<Vec<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE workspace_id = $1 ORDER BY name, id");
    let now = now_ms();
    sqlx::query(&sql).bind(workspace_id).fetch_all(&s.pool).await?.iter().map(|r| user_from_row(r, now)).collect()
}

pub(crate) async fn update_user(
    s: &SqlStore,
    workspace_id: Id,
    id: Id,
    patch: UserPatch,
) -> StoreResult<Written<User>> {
    if patch.max_concurrent.is_some_and(|m| m < 0) {
        return Err(invalid("invalid_max_concurrent", "max_concurrent must not be negative"));
    }
    let dialect = s.dialect;
    let now = now_ms();
    s.write(move |c| {
        Box::pin(async move {
            let row = user_row(c, Some(workspace_id), id, dialect.for_update()).await?;
            let mut user = user_from_row(&row, now)?;
            if let Some(v) = patch.name {
                user.name = v;
            }
            if let Some(v) = patch.display_name {
                user.display_name = v;
            }
            if let Some(v) = patch.role {
                user.role = v;
            }
            if let Some(v) = patch.flags {
                user.flags = v;
            }
            if let Some(v) = patch.language {
                user.language = v;
            }
            if let Some(v) = patch.max_concurrent {
                user.max_concurrent = v;
            }
            if let Some(v) = patch.active {
                user.active = v;
            }
            let mut q = Sql::new("UPDATE users SET name = ");
            q.bind(user.name.clone());
            q.push(", display_name = ").bind(user.display_name.clone());
            q.push(", role = ").bind(user.role.as_str());
            q.push(", flags = ").bind(user.flags.0);
            q.push(", language = ").bind(user.language.as_str());
            q.push(", max_concurrent = ").bind(user.max_concurrent);
            q.push(", active = ").bind(user.active);
            if let Some(hash) = patch.password_hash {
                q.push(", password_hash = ").bind(hash);
            }
            q.push(" WHERE id = ").bind(id);
            q.query().execute(&mut *c).await?;
            let event = insert_event(c, workspace_id, "user.updated", None, None, to_json(&user)?, now).await?;
            Ok(Written { value: user, events: vec![event] })
        })
    })
    .await
}

/// The viewer record of a user (role, flags, memberships); NotFound for an inactive user.
pub(crate) async fn viewer(s: &SqlStore, workspace_id: Id, user_id: Id) -> StoreResult<Viewer> {
    Ok(session_user(s, workspace_id, user_id).await?.1)
}

/// An active user and their [`Viewer`], in one statement: every API request starts here.
/// Deleted (inactive) channels give no rights.
pub(crate) async fn session_user(s: &SqlStore, workspace_id: Id, user_id: Id) -> StoreResult<(User, Viewer)> {
    let (channels, teams) = match s.dialect {
        Dialect::Sqlite => (
            "(SELECT group_concat(m.channel_id, ',' ORDER BY m.channel_id) FROM channel_members m \
             JOIN channels ch ON ch.id = m.channel_id WHERE m.user_id = u.id AND ch.active = 1)",
            "(SELECT group_concat(t.team_id, ',' ORDER BY t.team_id) FROM team_members t WHERE t.user_id = u.id)",
        ),
        Dialect::Postgres => (
            "(SELECT string_agg(m.channel_id::text, ',' ORDER BY m.channel_id) FROM channel_members m \
             JOIN channels ch ON ch.id = m.channel_id WHERE m.user_id = u.id AND ch.active = 1)",
            "(SELECT string_agg(t.team_id::text, ',' ORDER BY t.team_id) FROM team_members t WHERE t.user_id = u.id)",
        ),
    };
    // The user's columns stand unqualified: only `u` is in scope outside the subqueries.
    let sql = format!(
        "SELECT {USER_COLUMNS}, COALESCE({channels}, '') AS channel_ids, COALESCE({teams}, '') AS team_ids \
         FROM users u WHERE u.id = $1 AND u.workspace_id = $2"
    );
    let mut c = s.pool.acquire().await?;
    let row = sqlx::query(&sql)
        .bind(user_id)
        .bind(workspace_id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or(StoreError::NotFound)?;
    let user = user_from_row(&row, now_ms())?;
    if !user.active {
        return Err(StoreError::NotFound);
    }
    let ids = |name: &str| -> StoreResult<Vec<Id>> { super::rows::id_list(&col::<String>(&row, name)?, name) };
    let viewer = Viewer {
        user_id,
        workspace_id,
        role: user.role,
        flags: user.flags,
        channel_ids: ids("channel_ids")?,
        team_ids: ids("team_ids")?,
        allowed_contact_ids: None,
    };
    Ok((user, viewer))
}

/// The stored presence after a touch: the chosen one, or for mere activity the current one,
/// except that an offline user who does something is online again.
fn touched_presence(stored: Presence, chosen: Option<Presence>) -> Presence {
    match chosen {
        Some(p) => p,
        None if stored == Presence::Offline => Presence::Online,
        None => stored,
    }
}

/// Whether a touch would change nothing worth writing: same presence, activity recorded less
/// than a minute ago.
fn touch_is_noop(row: &AnyRow, chosen: Option<Presence>, now: Millis) -> StoreResult<bool> {
    let stored: Presence = col_enum(row, "presence", Presence::parse)?;
    let last: Option<Millis> = col(row, "last_activity_at")?;
    Ok(touched_presence(stored, chosen) == stored
        && last.is_some_and(|t| now.saturating_sub(t) < ACTIVITY_WRITE_INTERVAL_MS))
}

pub(crate) async fn touch_presence(
    s: &SqlStore,
    user_id: Id,
    presence: Option<Presence>,
    now: Millis,
) -> StoreResult<Written<User>> {
    // Most touches change nothing: answer those from a reader without queueing a write.
    {
        let mut c = s.pool.acquire().await?;
        let row = user_row(&mut c, None, user_id, "").await?;
        if touch_is_noop(&row, presence, now)? {
            return Ok(Written { value: user_from_row(&row, now)?, events: Vec::new() });
        }
    }
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            let row = user_row(c, None, user_id, dialect.for_update()).await?;
            let mut user = user_from_row(&row, now)?;
            if touch_is_noop(&row, presence, now)? {
                return Ok(Written { value: user, events: Vec::new() });
            }
            let stored: Presence = col_enum(&row, "presence", Presence::parse)?;
            let next = touched_presence(stored, presence);
            // Activity never moves back in time (touches from nodes with skewed clocks).
            let last = Some(user.last_activity_at.map_or(now, |t| t.max(now)));
            sqlx::query("UPDATE users SET presence = $1, last_activity_at = $2 WHERE id = $3")
                .bind(next.as_str())
                .bind(last)
                .bind(user_id)
                .execute(&mut *c)
                .await?;
            let before = user.presence;
            user.presence = effective(next, last, now);
            user.last_activity_at = last;
            let mut events = Vec::new();
            if user.presence != before {
                events.push(
                    insert_event(c, user.workspace_id, "presence.updated", None, None, to_json(&user)?, now).await?,
                );
            }
            Ok(Written { value: user, events })
        })
    })
    .await
}

pub(crate) async fn sweep_presence(s: &SqlStore, now: Millis) -> StoreResult<Vec<Event>> {
    let cutoff = now.saturating_sub(IDLE_OFFLINE_MS);
    let idle = "presence <> 'offline' AND (last_activity_at IS NULL OR last_activity_at <= $1)";
    // Usually nobody is due: check on a reader before queueing a write.
    let due: Option<Id> = sqlx::query_scalar(&format!("SELECT id FROM users WHERE {idle} LIMIT 1"))
        .bind(cutoff)
        .fetch_optional(&s.pool)
        .await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {idle} ORDER BY id{}", dialect.for_update());
            let rows = sqlx::query(&sql).bind(cutoff).fetch_all(&mut *c).await?;
            let mut events = Vec::with_capacity(rows.len());
            for row in &rows {
                let mut user = user_from_row(row, now)?;
                sqlx::query("UPDATE users SET presence = 'offline' WHERE id = $1")
                    .bind(user.id)
                    .execute(&mut *c)
                    .await?;
                user.presence = Presence::Offline;
                events.push(
                    insert_event(c, user.workspace_id, "presence.updated", None, None, to_json(&user)?, now).await?,
                );
            }
            Ok(events)
        })
    })
    .await
}

// --- teams

async fn team_row(c: &mut AnyConnection, workspace_id: Id, id: Id, lock: &str) -> StoreResult<AnyRow> {
    let sql = format!("SELECT {TEAM_COLUMNS} FROM teams WHERE id = $1 AND workspace_id = $2{lock}");
    sqlx::query(&sql).bind(id).bind(workspace_id).fetch_optional(&mut *c).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn load_team(c: &mut AnyConnection, workspace_id: Id, id: Id) -> StoreResult<Team> {
    let row = team_row(c, workspace_id, id, "").await?;
    let mut teams = teams_from_rows(c, std::slice::from_ref(&row)).await?;
    teams.pop().ok_or(StoreError::NotFound)
}

pub(crate) async fn create_team(
    s: &SqlStore,
    workspace_id: Id,
    name: &str,
    member_ids: &[Id],
) -> StoreResult<Written<Team>> {
    let name = clean_name(name, "team name")?;
    let member_ids = member_ids.to_vec();
    s.write(move |c| {
        Box::pin(async move {
            ensure_workspace(c, workspace_id).await?;
            let members = check_workspace_users(c, workspace_id, &member_ids).await?;
            let id: Id = sqlx::query_scalar("INSERT INTO teams (workspace_id, name) VALUES ($1, $2) RETURNING id")
                .bind(workspace_id)
                .bind(name)
                .fetch_one(&mut *c)
                .await?;
            replace_links(c, "team_members", "team_id", "user_id", id, &members).await?;
            team_written(c, workspace_id, id, now_ms()).await
        })
    })
    .await
}

/// The team as it is now, with the `team.updated` event connections reload memberships on.
async fn team_written(c: &mut AnyConnection, workspace_id: Id, id: Id, now: Millis) -> StoreResult<Written<Team>> {
    let team = load_team(c, workspace_id, id).await?;
    let event = insert_event(c, workspace_id, "team.updated", None, None, to_json(&team)?, now).await?;
    Ok(Written { value: team, events: vec![event] })
}

pub(crate) async fn list_teams(s: &SqlStore, workspace_id: Id) -> StoreResult<Vec<Team>> {
    let mut c = s.pool.acquire().await?;
    let sql = format!("SELECT {TEAM_COLUMNS} FROM teams WHERE workspace_id = $1 ORDER BY name, id");
    let rows = sqlx::query(&sql).bind(workspace_id).fetch_all(&mut *c).await?;
    teams_from_rows(&mut c, &rows).await
}

pub(crate) async fn get_team(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<Team> {
    let mut c = s.pool.acquire().await?;
    load_team(&mut c, workspace_id, id).await
}

pub(crate) async fn update_team(
    s: &SqlStore,
    workspace_id: Id,
    id: Id,
    name: Option<&str>,
    member_ids: Option<&[Id]>,
) -> StoreResult<Written<Team>> {
    let name = name.map(|n| clean_name(n, "team name")).transpose()?;
    let member_ids = member_ids.map(|m| m.to_vec());
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            team_row(c, workspace_id, id, dialect.for_update()).await?;
            if let Some(name) = name {
                sqlx::query("UPDATE teams SET name = $1 WHERE id = $2").bind(name).bind(id).execute(&mut *c).await?;
            }
            if let Some(member_ids) = member_ids {
                let members = check_workspace_users(c, workspace_id, &member_ids).await?;
                replace_links(c, "team_members", "team_id", "user_id", id, &members).await?;
            }
            team_written(c, workspace_id, id, now_ms()).await
        })
    })
    .await
}

pub(crate) async fn delete_team(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<Written<()>> {
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            team_row(c, workspace_id, id, dialect.for_update()).await?;
            // Conversations and past attentions of the team keep existing, without a team.
            sqlx::query("UPDATE conversations SET team_id = NULL WHERE team_id = $1").bind(id).execute(&mut *c).await?;
            sqlx::query("UPDATE attentions SET team_id = NULL WHERE team_id = $1").bind(id).execute(&mut *c).await?;
            sqlx::query("DELETE FROM team_members WHERE team_id = $1").bind(id).execute(&mut *c).await?;
            sqlx::query("DELETE FROM teams WHERE id = $1").bind(id).execute(&mut *c).await?;
            let payload = serde_json::json!({ "id": id });
            let event = insert_event(c, workspace_id, "team.deleted", None, None, payload, now_ms()).await?;
            Ok(Written { value: (), events: vec![event] })
        })
    })
    .await
}

// --- channels

/// A copy safe to broadcast: events never carry the webhook secret.
pub(crate) fn channel_without_secret(mut channel: Channel) -> Channel {
    channel.secret.clear();
    channel
}

async fn channel_row(c: &mut AnyConnection, workspace_id: Option<Id>, id: Id, lock: &str) -> StoreResult<AnyRow> {
    let mut q = Sql::new(&format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = "));
    q.bind(id);
    match workspace_id {
        Some(ws) => q.push(" AND workspace_id = ").bind(ws),
        // Webhooks name only the channel: a deleted channel no longer receives them.
        None => q.push(" AND active = 1"),
    };
    q.push(lock);
    q.query().fetch_optional(&mut *c).await?.ok_or(StoreError::NotFound)
}

/// A channel of the workspace, active or not (old conversations still need a deleted
/// channel); with `workspace_id` None, only an active channel. Includes the secret.
pub(crate) async fn load_channel(c: &mut AnyConnection, workspace_id: Option<Id>, id: Id) -> StoreResult<Channel> {
    let row = channel_row(c, workspace_id, id, "").await?;
    let mut channels = channels_from_rows(c, std::slice::from_ref(&row)).await?;
    channels.pop().ok_or(StoreError::NotFound)
}

async fn channel_updated_event(c: &mut AnyConnection, channel: &Channel, now: Millis) -> StoreResult<Event> {
    let payload = to_json(&channel_without_secret(channel.clone()))?;
    insert_event(c, channel.workspace_id, "channel.updated", None, None, payload, now).await
}

pub(crate) async fn create_channel(s: &SqlStore, channel: NewChannel) -> StoreResult<Channel> {
    let name = clean_name(&channel.name, "channel name")?;
    let settings = if channel.settings.trim().is_empty() { "{}".to_string() } else { channel.settings.clone() };
    check_json_object(&settings, "invalid_settings", "channel settings")?;
    let now = now_ms();
    s.write(move |c| {
        Box::pin(async move {
            ensure_workspace(c, channel.workspace_id).await?;
            let id: Id = sqlx::query_scalar(
                "INSERT INTO channels (workspace_id, kind, name, secret, webhook_url, routing_mode, max_message_length, \
                 auto_close_after_secs, response_time_limit_secs, greeting, settings, active, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12) RETURNING id",
            )
            .bind(channel.workspace_id)
            .bind(channel.kind.as_str())
            .bind(name)
            .bind(channel.secret)
            .bind(channel.webhook_url)
            .bind(channel.routing_mode.as_str())
            .bind(channel.max_message_length)
            .bind(channel.auto_close_after_secs)
            .bind(channel.response_time_limit_secs)
            .bind(channel.greeting)
            .bind(settings)
            .bind(now)
            .fetch_one(&mut *c)
            .await?;
            load_channel(c, Some(channel.workspace_id), id).await
        })
    })
    .await
}

pub(crate) async fn get_channel(s: &SqlStore, workspace_id: Option<Id>, id: Id) -> StoreResult<Channel> {
    let mut c = s.pool.acquire().await?;
    load_channel(&mut c, workspace_id, id).await
}

pub(crate) async fn list_channels(s: &SqlStore, workspace_id: Id) -> StoreResult<Vec<Channel>> {
    let mut c = s.pool.acquire().await?;
    let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels WHERE workspace_id = $1 AND active = 1 ORDER BY id");
    let rows = sqlx::query(&sql).bind(workspace_id).fetch_all(&mut *c).await?;
    channels_from_rows(&mut c, &rows).await
}

pub(crate) async fn update_channel(
    s: &SqlStore,
    workspace_id: Id,
    id: Id,
    patch: ChannelPatch,
) -> StoreResult<Written<Channel>> {
    let name = patch.name.as_deref().map(|n| clean_name(n, "channel name")).transpose()?;
    if let Some(settings) = &patch.settings {
        check_json_object(settings, "invalid_settings", "channel settings")?;
    }
    let dialect = s.dialect;
    let now = now_ms();
    s.write(move |c| {
        Box::pin(async move {
            channel_row(c, Some(workspace_id), id, dialect.for_update()).await?;
            let mut ch = load_channel(c, Some(workspace_id), id).await?;
            if let Some(v) = name {
                ch.name = v;
            }
            if let Some(v) = patch.webhook_url {
                ch.webhook_url = v;
            }
            if let Some(v) = patch.routing_mode {
                ch.routing_mode = v;
            }
            if let Some(v) = patch.max_message_length {
                ch.max_message_length = v;
            }
            if let Some(v) = patch.auto_close_after_secs {
                ch.auto_close_after_secs = v;
            }
            if let Some(v) = patch.response_time_limit_secs {
                ch.response_time_limit_secs = v;
            }
            if let Some(v) = patch.greeting {
                ch.greeting = v;
            }
            if let Some(v) = patch.settings {
                ch.settings = v;
            }
            if let Some(v) = patch.active {
                ch.active = v;
            }
            let mut q = Sql::new("UPDATE channels SET name = ");
            q.bind(ch.name.clone());
            q.push(", webhook_url = ").bind(ch.webhook_url.clone());
            q.push(", routing_mode = ").bind(ch.routing_mode.as_str());
            q.push(", max_message_length = ").bind(ch.max_message_length);
            q.push(", auto_close_after_secs = ").bind(ch.auto_close_after_secs);
            q.push(", response_time_limit_secs = ").bind(ch.response_time_limit_secs);
            q.push(", greeting = ").bind(ch.greeting.clone());
            q.push(", settings = ").bind(ch.settings.clone());
            q.push(", active = ").bind(ch.active);
            q.push(" WHERE id = ").bind(id);
            q.query().execute(&mut *c).await?;
            let event = channel_updated_event(c, &ch, now).await?;
            Ok(Written { value: ch, events: vec![event] })
        })
    })
    .await
}

pub(crate) async fn set_channel_secret(s: &SqlStore, workspace_id: Id, id: Id, secret: &str) -> StoreResult<Channel> {
    let secret = secret.to_string();
    s.write(move |c| {
        Box::pin(async move {
            let done = sqlx::query("UPDATE channels SET secret = $1 WHERE id = $2 AND workspace_id = $3")
                .bind(secret)
                .bind(id)
                .bind(workspace_id)
                .execute(&mut *c)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            load_channel(c, Some(workspace_id), id).await
        })
    })
    .await
}

pub(crate) async fn set_channel_members(
    s: &SqlStore,
    workspace_id: Id,
    id: Id,
    user_ids: &[Id],
) -> StoreResult<Written<Channel>> {
    let user_ids = user_ids.to_vec();
    let dialect = s.dialect;
    let now = now_ms();
    s.write(move |c| {
        Box::pin(async move {
            channel_row(c, Some(workspace_id), id, dialect.for_update()).await?;
            let members = check_workspace_users(c, workspace_id, &user_ids).await?;
            replace_links(c, "channel_members", "channel_id", "user_id", id, &members).await?;
            let ch = load_channel(c, Some(workspace_id), id).await?;
            let event = channel_updated_event(c, &ch, now).await?;
            Ok(Written { value: ch, events: vec![event] })
        })
    })
    .await
}

pub(crate) async fn delete_channel(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<()> {
    // Soft delete: conversations keep pointing at the channel; lists and webhooks forget it.
    s.write(move |c| {
        Box::pin(async move {
            let done = sqlx::query("UPDATE channels SET active = 0 WHERE id = $1 AND workspace_id = $2")
                .bind(id)
                .bind(workspace_id)
                .execute(&mut *c)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    })
    .await
}

// --- contacts

async fn contact_row(c: &mut AnyConnection, workspace_id: Id, id: Id, lock: &str) -> StoreResult<AnyRow> {
    let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1 AND workspace_id = $2{lock}");
    sqlx::query(&sql).bind(id).bind(workspace_id).fetch_optional(&mut *c).await?.ok_or(StoreError::NotFound)
}

/// A contact of the workspace with its tag ids.
pub(crate) async fn load_contact(c: &mut AnyConnection, workspace_id: Id, id: Id) -> StoreResult<Contact> {
    let row = contact_row(c, workspace_id, id, "").await?;
    let mut contacts = contacts_from_rows(c, std::slice::from_ref(&row)).await?;
    contacts.pop().ok_or(StoreError::NotFound)
}

fn apply_contact_patch(contact: &mut Contact, patch: ContactPatch) -> StoreResult<()> {
    if let Some(v) = patch.name {
        contact.name = v;
    }
    if let Some(v) = patch.phone {
        contact.phone = v;
    }
    if let Some(v) = patch.email {
        contact.email = v;
    }
    if let Some(v) = patch.avatar_url {
        contact.avatar_url = v;
    }
    if let Some(v) = patch.telegram_username {
        contact.telegram_username = v;
    }
    if let Some(v) = patch.telegram_id {
        contact.telegram_id = v;
    }
    if let Some(v) = patch.source {
        contact.source = v;
    }
    if let Some(v) = patch.custom_attributes {
        check_json_object(&v, "invalid_attributes", "custom attributes")?;
        contact.custom_attributes = v;
    }
    Ok(())
}

/// The derived search columns: phone digits, and the lower-cased text substring search
/// looks in.
fn contact_search_columns(contact: &Contact) -> (String, String) {
    let phone_digits = digits_of(contact.phone.as_deref().unwrap_or(""));
    let search_text = contact_search_text(&[
        Some(contact.name.as_str()),
        contact.email.as_deref(),
        contact.telegram_username.as_deref(),
    ]);
    (phone_digits, search_text)
}

/// Creates a contact inside a write (also what inbound ingestion uses for a new sender):
/// `name` wins over `patch.name`; the search columns are derived here.
pub(crate) const INSERT_CONTACT_SQL: &str = "INSERT INTO contacts (workspace_id, name, phone, phone_digits, email, \
     avatar_url, telegram_username, telegram_id, source, custom_attributes, search_text, blocked, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12) RETURNING id";

/// A new contact (its id is set once inserted) and the values of [`INSERT_CONTACT_SQL`].
pub(crate) fn new_contact(
    workspace_id: Id,
    name: &str,
    patch: ContactPatch,
    now: Millis,
) -> StoreResult<(Contact, Vec<Arg>)> {
    let mut contact = Contact {
        id: 0,
        workspace_id,
        name: String::new(),
        phone: None,
        email: None,
        avatar_url: None,
        telegram_username: None,
        telegram_id: None,
        source: None,
        custom_attributes: "{}".into(),
        tag_ids: Vec::new(),
        blocked: false,
        created_at: now,
    };
    apply_contact_patch(&mut contact, patch)?;
    contact.name = name.to_string();
    let (phone_digits, search_text) = contact_search_columns(&contact);
    let args = vec![
        workspace_id.into(),
        contact.name.as_str().into(),
        contact.phone.clone().into(),
        phone_digits.into(),
        contact.email.clone().into(),
        contact.avatar_url.clone().into(),
        contact.telegram_username.clone().into(),
        contact.telegram_id.clone().into(),
        contact.source.clone().into(),
        contact.custom_attributes.as_str().into(),
        search_text.into(),
        now.into(),
    ];
    Ok((contact, args))
}

pub(crate) async fn insert_contact(
    c: &mut AnyConnection,
    workspace_id: Id,
    name: &str,
    patch: ContactPatch,
    now: Millis,
) -> StoreResult<Contact> {
    let (mut contact, args) = new_contact(workspace_id, name, patch, now)?;
    contact.id = col(&query_with(INSERT_CONTACT_SQL, &args).fetch_one(&mut *c).await?, "id")?;
    Ok(contact)
}

/// Applies a patch to a contact inside a write, keeping the search columns in step. No event.
pub(crate) async fn patch_contact(
    c: &mut AnyConnection,
    dialect: Dialect,
    workspace_id: Id,
    id: Id,
    patch: ContactPatch,
) -> StoreResult<Contact> {
    contact_row(c, workspace_id, id, dialect.for_update()).await?;
    let mut contact = load_contact(c, workspace_id, id).await?;
    apply_contact_patch(&mut contact, patch)?;
    let (phone_digits, search_text) = contact_search_columns(&contact);
    sqlx::query(
        "UPDATE contacts SET name = $1, phone = $2, phone_digits = $3, email = $4, avatar_url = $5, \
         telegram_username = $6, telegram_id = $7, source = $8, custom_attributes = $9, search_text = $10 WHERE id = $11",
    )
    .bind(contact.name.clone())
    .bind(contact.phone.clone())
    .bind(phone_digits)
    .bind(contact.email.clone())
    .bind(contact.avatar_url.clone())
    .bind(contact.telegram_username.clone())
    .bind(contact.telegram_id.clone())
    .bind(contact.source.clone())
    .bind(contact.custom_attributes.clone())
    .bind(search_text)
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(contact)
}

pub(crate) async fn contact_updated_event(c: &mut AnyConnection, contact: &Contact, now: Millis) -> StoreResult<Event> {
    insert_event(c, contact.workspace_id, "contact.updated", None, None, to_json(contact)?, now).await
}

pub(crate) async fn get_contact(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<Contact> {
    let mut c = s.pool.acquire().await?;
    load_contact(&mut c, workspace_id, id).await
}

pub(crate) async fn list_contacts(s: &SqlStore, workspace_id: Id, query: ContactQuery) -> StoreResult<Vec<Contact>> {
    let limit = if query.limit <= 0 { DEFAULT_CONTACT_PAGE } else { query.limit.min(MAX_CONTACT_PAGE) };
    let mut q = Sql::new(&format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE workspace_id = "));
    q.bind(workspace_id);
    if let Some(after) = query.after_id {
        q.push(" AND id > ").bind(after);
    }
    if let Some(term) = &query.search {
        q.push(" AND (search_text LIKE ").bind(format!("%{}%", like_escape(&term.text.to_lowercase())));
        q.push(" ESCAPE '\\'");
        if let Some(digits) = term.phone_digits.as_deref().filter(|d| !d.is_empty()) {
            q.push(" OR phone_digits LIKE ").bind(format!("%{digits}%"));
        }
        q.push(")");
    }
    q.push(" ORDER BY id LIMIT ").bind(limit);
    let mut c = s.pool.acquire().await?;
    let rows = q.query().fetch_all(&mut *c).await?;
    contacts_from_rows(&mut c, &rows).await
}

pub(crate) async fn create_contact(
    s: &SqlStore,
    workspace_id: Id,
    name: &str,
    patch: ContactPatch,
) -> StoreResult<Contact> {
    let name = name.to_string();
    let now = now_ms();
    s.write(move |c| {
        Box::pin(async move {
            ensure_workspace(c, workspace_id).await?;
            insert_contact(c, workspace_id, &name, patch, now).await
        })
    })
    .await
}

pub(crate) async fn update_contact(
    s: &SqlStore,
    workspace_id: Id,
    id: Id,
    patch: ContactPatch,
) -> StoreResult<Written<Contact>> {
    let dialect = s.dialect;
    let now = now_ms();
    s.write(move |c| {
        Box::pin(async move {
            let contact = patch_contact(c, dialect, workspace_id, id, patch).await?;
            let event = contact_updated_event(c, &contact, now).await?;
            Ok(Written { value: contact, events: vec![event] })
        })
    })
    .await
}

pub(crate) async fn set_contact_blocked(
    s: &SqlStore,
    workspace_id: Id,
    id: Id,
    blocked: bool,
) -> StoreResult<Written<Contact>> {
    let now = now_ms();
    s.write(move |c| {
        Box::pin(async move {
            let done = sqlx::query("UPDATE contacts SET blocked = $1 WHERE id = $2 AND workspace_id = $3")
                .bind(i64::from(blocked))
                .bind(id)
                .bind(workspace_id)
                .execute(&mut *c)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            let contact = load_contact(c, workspace_id, id).await?;
            let event = contact_updated_event(c, &contact, now).await?;
            Ok(Written { value: contact, events: vec![event] })
        })
    })
    .await
}

pub(crate) async fn set_contact_tags(
    s: &SqlStore,
    workspace_id: Id,
    id: Id,
    tag_ids: &[Id],
) -> StoreResult<Written<Contact>> {
    let mut tag_ids = tag_ids.to_vec();
    tag_ids.sort_unstable();
    tag_ids.dedup();
    let dialect = s.dialect;
    let now = now_ms();
    s.write(move |c| {
        Box::pin(async move {
            contact_row(c, workspace_id, id, dialect.for_update()).await?;
            if !tag_ids.is_empty() {
                let mut q = Sql::new("SELECT id FROM tags WHERE workspace_id = ");
                q.bind(workspace_id).push(" AND id IN ").bind_list(&tag_ids);
                let found = q
                    .query()
                    .fetch_all(&mut *c)
                    .await?
                    .iter()
                    .map(|r| col::<Id>(r, "id"))
                    .collect::<StoreResult<Vec<_>>>()?;
                if let Some(missing) = tag_ids.iter().find(|t| !found.contains(t)) {
                    return Err(invalid("invalid_tag", format!("tag {missing} is not a tag of this workspace")));
                }
            }
            replace_links(c, "contact_tags", "contact_id", "tag_id", id, &tag_ids).await?;
            let contact = load_contact(c, workspace_id, id).await?;
            let event = contact_updated_event(c, &contact, now).await?;
            Ok(Written { value: contact, events: vec![event] })
        })
    })
    .await
}

// --- tags

async fn tag_row(c: &mut AnyConnection, workspace_id: Id, id: Id, lock: &str) -> StoreResult<AnyRow> {
    let sql = format!("SELECT {TAG_COLUMNS} FROM tags WHERE id = $1 AND workspace_id = $2{lock}");
    sqlx::query(&sql).bind(id).bind(workspace_id).fetch_optional(&mut *c).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn create_tag(
    s: &SqlStore,
    workspace_id: Id,
    name: &str,
    color: &str,
    pinned: bool,
) -> StoreResult<Tag> {
    let name = clean_name(name, "tag name")?;
    let color = color.trim().to_string();
    s.write(move |c| {
        Box::pin(async move {
            ensure_workspace(c, workspace_id).await?;
            let sql = format!(
                "INSERT INTO tags (workspace_id, name, color, pinned) VALUES ($1, $2, $3, $4) RETURNING {TAG_COLUMNS}"
            );
            let row = sqlx::query(&sql)
                .bind(workspace_id)
                .bind(name)
                .bind(color)
                .bind(i64::from(pinned))
                .fetch_one(&mut *c)
                .await
                .map_err(unique_as("tag_exists"))?;
            tag_from_row(&row)
        })
    })
    .await
}

pub(crate) async fn list_tags(s: &SqlStore, workspace_id: Id) -> StoreResult<Vec<Tag>> {
    let sql = format!("SELECT {TAG_COLUMNS} FROM tags WHERE workspace_id = $1 ORDER BY name, id");
    sqlx::query(&sql).bind(workspace_id).fetch_all(&s.pool).await?.iter().map(tag_from_row).collect()
}

pub(crate) async fn update_tag(
    s: &SqlStore,
    workspace_id: Id,
    id: Id,
    name: Option<&str>,
    color: Option<&str>,
    pinned: Option<bool>,
) -> StoreResult<Tag> {
    let name = name.map(|n| clean_name(n, "tag name")).transpose()?;
    let color = color.map(|c| c.trim().to_string());
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            let mut tag = tag_from_row(&tag_row(c, workspace_id, id, dialect.for_update()).await?)?;
            if let Some(v) = name {
                tag.name = v;
            }
            if let Some(v) = color {
                tag.color = v;
            }
            if let Some(v) = pinned {
                tag.pinned = v;
            }
            sqlx::query("UPDATE tags SET name = $1, color = $2, pinned = $3 WHERE id = $4")
                .bind(tag.name.clone())
                .bind(tag.color.clone())
                .bind(i64::from(tag.pinned))
                .bind(id)
                .execute(&mut *c)
                .await
                .map_err(unique_as("tag_exists"))?;
            Ok(tag)
        })
    })
    .await
}

pub(crate) async fn delete_tag(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<()> {
    s.write(move |c| {
        Box::pin(async move {
            tag_row(c, workspace_id, id, "").await?;
            sqlx::query("DELETE FROM contact_tags WHERE tag_id = $1").bind(id).execute(&mut *c).await?;
            sqlx::query("DELETE FROM tags WHERE id = $1").bind(id).execute(&mut *c).await?;
            Ok(())
        })
    })
    .await
}

// --- close reasons

pub(crate) async fn create_close_reason(s: &SqlStore, workspace_id: Id, name: &str) -> StoreResult<CloseReason> {
    let name = clean_name(name, "close reason")?;
    s.write(move |c| {
        Box::pin(async move {
            ensure_workspace(c, workspace_id).await?;
            let sql = format!(
                "INSERT INTO close_reasons (workspace_id, name) VALUES ($1, $2) RETURNING {CLOSE_REASON_COLUMNS}"
            );
            let row = sqlx::query(&sql)
                .bind(workspace_id)
                .bind(name)
                .fetch_one(&mut *c)
                .await
                .map_err(unique_as("close_reason_exists"))?;
            close_reason_from_row(&row)
        })
    })
    .await
}

pub(crate) async fn list_close_reasons(s: &SqlStore, workspace_id: Id) -> StoreResult<Vec<CloseReason>> {
    let sql = format!("SELECT {CLOSE_REASON_COLUMNS} FROM close_reasons WHERE workspace_id = $1 ORDER BY name, id");
    sqlx::query(&sql).bind(workspace_id).fetch_all(&s.pool).await?.iter().map(close_reason_from_row).collect()
}

pub(crate) async fn delete_close_reason(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<()> {
    s.write(move |c| {
        Box::pin(async move {
            // Closed attentions keep the reason's name as text: nothing else to update.
            let done = sqlx::query("DELETE FROM close_reasons WHERE id = $1 AND workspace_id = $2")
                .bind(id)
                .bind(workspace_id)
                .execute(&mut *c)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    })
    .await
}

// --- canned responses

/// Advisory-lock namespace of canned-response shortcuts (see [`lock_workspace_key`]).
const CANNED_SHORTCUT_LOCK: i64 = 0x4352;

fn check_canned_text(text: &str) -> StoreResult<()> {
    charla_core::limits::check_canned_response(text).map_err(|e| {
        invalid("too_long", format!("canned response is {} characters long; the limit is {}", e.length, e.limit))
    })
}

/// Whether another canned response of the same owner (or workspace-wide) has the shortcut.
async fn shortcut_taken(
    c: &mut AnyConnection,
    workspace_id: Id,
    owner_id: Option<Id>,
    shortcut: &str,
    except: Option<Id>,
) -> StoreResult<bool> {
    let mut q = Sql::new("SELECT id FROM canned_responses WHERE workspace_id = ");
    q.bind(workspace_id).push(" AND shortcut = ").bind(shortcut);
    match owner_id {
        Some(owner) => q.push(" AND owner_id = ").bind(owner),
        None => q.push(" AND owner_id IS NULL"),
    };
    if let Some(id) = except {
        q.push(" AND id <> ").bind(id);
    }
    q.push(" LIMIT 1");
    Ok(q.query().fetch_optional(&mut *c).await?.is_some())
}

async fn canned_row(c: &mut AnyConnection, workspace_id: Id, id: Id, lock: &str) -> StoreResult<AnyRow> {
    let sql =
        format!("SELECT {CANNED_RESPONSE_COLUMNS} FROM canned_responses WHERE id = $1 AND workspace_id = $2{lock}");
    sqlx::query(&sql).bind(id).bind(workspace_id).fetch_optional(&mut *c).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn create_canned_response(
    s: &SqlStore,
    workspace_id: Id,
    owner_id: Option<Id>,
    shortcut: &str,
    text: &str,
) -> StoreResult<CannedResponse> {
    let shortcut = shortcut.trim().to_string();
    if shortcut.is_empty() {
        return Err(invalid("invalid_shortcut", "the shortcut must not be empty"));
    }
    check_canned_text(text)?;
    let text = text.to_string();
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            ensure_workspace(c, workspace_id).await?;
            if let Some(owner) = owner_id {
                check_workspace_users(c, workspace_id, &[owner]).await?;
            }
            lock_workspace_key(c, dialect, CANNED_SHORTCUT_LOCK, workspace_id).await?;
            if shortcut_taken(c, workspace_id, owner_id, &shortcut, None).await? {
                return Err(StoreError::Conflict("shortcut_taken".into()));
            }
            let sql = format!(
                "INSERT INTO canned_responses (workspace_id, owner_id, shortcut, text) VALUES ($1, $2, $3, $4) \
                 RETURNING {CANNED_RESPONSE_COLUMNS}"
            );
            let row = sqlx::query(&sql)
                .bind(workspace_id)
                .bind(owner_id)
                .bind(shortcut)
                .bind(text)
                .fetch_one(&mut *c)
                .await?;
            canned_response_from_row(&row)
        })
    })
    .await
}

pub(crate) async fn list_canned_responses(
    s: &SqlStore,
    workspace_id: Id,
    user_id: Id,
) -> StoreResult<Vec<CannedResponse>> {
    let sql = format!(
        "SELECT {CANNED_RESPONSE_COLUMNS} FROM canned_responses WHERE workspace_id = $1 \
         AND (owner_id IS NULL OR owner_id = $2) ORDER BY shortcut, id"
    );
    sqlx::query(&sql)
        .bind(workspace_id)
        .bind(user_id)
        .fetch_all(&s.pool)
        .await?
        .iter()
        .map(canned_response_from_row)
        .collect()
}

pub(crate) async fn get_canned_response(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<CannedResponse> {
    let mut c = s.pool.acquire().await?;
    canned_response_from_row(&canned_row(&mut c, workspace_id, id, "").await?)
}

pub(crate) async fn update_canned_response(
    s: &SqlStore,
    workspace_id: Id,
    id: Id,
    shortcut: Option<&str>,
    text: Option<&str>,
) -> StoreResult<CannedResponse> {
    let shortcut = shortcut.map(|v| v.trim().to_string());
    if shortcut.as_deref().is_some_and(str::is_empty) {
        return Err(invalid("invalid_shortcut", "the shortcut must not be empty"));
    }
    if let Some(text) = text {
        check_canned_text(text)?;
    }
    let text = text.map(str::to_string);
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            lock_workspace_key(c, dialect, CANNED_SHORTCUT_LOCK, workspace_id).await?;
            let mut canned = canned_response_from_row(&canned_row(c, workspace_id, id, dialect.for_update()).await?)?;
            if let Some(v) = shortcut {
                if shortcut_taken(c, workspace_id, canned.owner_id, &v, Some(id)).await? {
                    return Err(StoreError::Conflict("shortcut_taken".into()));
                }
                canned.shortcut = v;
            }
            if let Some(v) = text {
                canned.text = v;
            }
            sqlx::query("UPDATE canned_responses SET shortcut = $1, text = $2 WHERE id = $3")
                .bind(canned.shortcut.clone())
                .bind(canned.text.clone())
                .bind(id)
                .execute(&mut *c)
                .await?;
            Ok(canned)
        })
    })
    .await
}

pub(crate) async fn delete_canned_response(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<()> {
    s.write(move |c| {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM canned_responses WHERE id = $1 AND workspace_id = $2")
                .bind(id)
                .bind(workspace_id)
                .execute(&mut *c)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    })
    .await
}

// --- attachments

pub(crate) async fn create_attachment(
    s: &SqlStore,
    workspace_id: Id,
    name: &str,
    content_type: &str,
    size: i64,
    storage_key: &str,
    now: Millis,
) -> StoreResult<Attachment> {
    if size < 0 {
        return Err(invalid("invalid_size", "an attachment's size must not be negative"));
    }
    let (name, content_type, storage_key) = (name.to_string(), content_type.to_string(), storage_key.to_string());
    s.write(move |c| {
        Box::pin(async move {
            ensure_workspace(c, workspace_id).await?;
            // Not linked to a message yet: sending a message with it does that.
            let sql = format!(
                "INSERT INTO attachments (workspace_id, message_id, name, content_type, size, storage_key, created_at) \
                 VALUES ($1, NULL, $2, $3, $4, $5, $6) RETURNING {ATTACHMENT_COLUMNS}"
            );
            let row = sqlx::query(&sql)
                .bind(workspace_id)
                .bind(name)
                .bind(content_type)
                .bind(size)
                .bind(storage_key)
                .bind(now)
                .fetch_one(&mut *c)
                .await?;
            attachment_from_row(&row)
        })
    })
    .await
}

pub(crate) async fn get_attachment(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<Attachment> {
    let sql = format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = $1 AND workspace_id = $2");
    let row =
        sqlx::query(&sql).bind(id).bind(workspace_id).fetch_optional(&s.pool).await?.ok_or(StoreError::NotFound)?;
    attachment_from_row(&row)
}

// --- notifications

pub(crate) async fn list_notifications(
    s: &SqlStore,
    workspace_id: Id,
    user_id: Id,
    unread_only: bool,
    limit: i64,
) -> StoreResult<Vec<Notification>> {
    let limit = if limit <= 0 { DEFAULT_NOTIFICATION_PAGE } else { limit.min(MAX_NOTIFICATION_PAGE) };
    let mut q = Sql::new(&format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE workspace_id = "));
    q.bind(workspace_id).push(" AND user_id = ").bind(user_id);
    if unread_only {
        q.push(" AND read = 0");
    }
    q.push(" ORDER BY id DESC LIMIT ").bind(limit);
    q.query().fetch_all(&s.pool).await?.iter().map(notification_from_row).collect()
}

pub(crate) async fn mark_notification_read(s: &SqlStore, workspace_id: Id, user_id: Id, id: Id) -> StoreResult<()> {
    s.write(move |c| {
        Box::pin(async move {
            let done =
                sqlx::query("UPDATE notifications SET read = 1 WHERE id = $1 AND workspace_id = $2 AND user_id = $3")
                    .bind(id)
                    .bind(workspace_id)
                    .bind(user_id)
                    .execute(&mut *c)
                    .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let bytes: Vec<u8> = (0..=255).collect();
        let text = hex_encode(&bytes);
        assert_eq!(text.len(), 512);
        assert_eq!(hex_decode(&text), Some(bytes));
        assert_eq!(hex_decode("abc"), None);
        assert_eq!(hex_decode("zz"), None);
    }

    #[test]
    fn touched_presence_rules() {
        use Presence::*;
        assert_eq!(touched_presence(Offline, None), Online);
        assert_eq!(touched_presence(Away, None), Away);
        assert_eq!(touched_presence(Online, Some(Away)), Away);
        assert_eq!(touched_presence(Online, Some(Offline)), Offline);
    }
}
