//! The website channel (live chat widget): visitors and their page views, what a visitor may
//! read of their own conversation, their receipts, ending a chat, joining a channel, who is
//! available, and the public ratings of a channel.
//!
//! A visitor's conversation is the conversation of the identity (channel, external id) the
//! visitor's token names: `contact_identities` finds it, the visitor row only adds what the
//! widget learns before and beside the messages (country, page views, an e-mail left).

use super::conversations::{
    Events, close_tx, event_line, lock_conversation, lock_message, save_delivery_state, unchanged,
};
use super::inbox::{CONVERSATION_COLUMNS, MESSAGE_COLUMNS, conversation_from_row, fill_attachments, message_from_row};
use super::*;

/// Longest URL and page title kept for a page view.
const URL_MAX_CHARS: usize = 2000;
const TITLE_MAX_CHARS: usize = 300;
/// Receipts handled per call.
const RECEIPT_BATCH: i64 = 500;

const VISITOR_COLUMNS: &str = "id, workspace_id, channel_id, external_id, country, email, created_at, last_seen_at";

fn visitor_from_row(row: &AnyRow) -> StoreResult<WebsiteVisitor> {
    Ok(WebsiteVisitor {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        channel_id: col(row, "channel_id")?,
        external_id: col(row, "external_id")?,
        country: col(row, "country")?,
        email: col(row, "email")?,
        created_at: col(row, "created_at")?,
        last_seen_at: col(row, "last_seen_at")?,
    })
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}

async fn visitor_row(c: &mut AnyConnection, channel_id: Id, external_id: &str) -> StoreResult<Option<WebsiteVisitor>> {
    let sql = format!("SELECT {VISITOR_COLUMNS} FROM website_visitors WHERE channel_id = $1 AND external_id = $2");
    match sqlx::query(&sql).bind(channel_id).bind(external_id).fetch_optional(&mut *c).await? {
        Some(row) => Ok(Some(visitor_from_row(&row)?)),
        None => Ok(None),
    }
}

pub(crate) async fn record_visit(
    s: &SqlStore,
    channel_id: Id,
    external_id: &str,
    country: Option<String>,
    page: Option<PageView>,
    now: Millis,
) -> StoreResult<WebsiteVisitor> {
    let external_id = external_id.trim().to_string();
    if external_id.is_empty() || external_id.len() > 200 {
        return Err(StoreError::Invalid("invalid_visitor", "the visitor id must be 1-200 characters".into()));
    }
    let country = country.map(|c| truncate(c.trim(), 8)).filter(|c| !c.is_empty());
    let page = page
        .map(|p| PageView {
            url: truncate(p.url.trim(), URL_MAX_CHARS),
            title: truncate(p.title.trim(), TITLE_MAX_CHARS),
            ..p
        })
        .filter(|p| !p.url.is_empty());
    s.write(move |c| {
        Box::pin(async move {
            let row = sqlx::query("SELECT workspace_id, kind, active FROM channels WHERE id = $1")
                .bind(channel_id)
                .fetch_optional(&mut *c)
                .await?
                .ok_or(StoreError::NotFound)?;
            let kind: String = col(&row, "kind")?;
            if kind != ChannelKind::Website.as_str() || !col_bool(&row, "active")? {
                return Err(StoreError::NotFound);
            }
            let workspace_id: Id = col(&row, "workspace_id")?;
            sqlx::query(
                "INSERT INTO website_visitors (workspace_id, channel_id, external_id, country, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (channel_id, external_id) DO UPDATE SET \
                 last_seen_at = excluded.last_seen_at, country = COALESCE(excluded.country, website_visitors.country)",
            )
            .bind(workspace_id)
            .bind(channel_id)
            .bind(external_id.clone())
            .bind(country)
            .bind(now)
            .execute(&mut *c)
            .await?;
            let visitor = visitor_row(c, channel_id, &external_id).await?.ok_or(StoreError::NotFound)?;
            if let Some(p) = page {
                sqlx::query("INSERT INTO website_page_views (visitor_id, url, title, viewed_at) VALUES ($1, $2, $3, $4)")
                    .bind(visitor.id)
                    .bind(p.url)
                    .bind(p.title)
                    .bind(p.viewed_at)
                    .execute(&mut *c)
                    .await?;
                // Keep the newest ones only.
                sqlx::query(
                    "DELETE FROM website_page_views WHERE visitor_id = $1 AND id NOT IN \
                     (SELECT id FROM website_page_views WHERE visitor_id = $1 ORDER BY id DESC LIMIT $2)",
                )
                .bind(visitor.id)
                .bind(PAGE_VIEWS_KEPT)
                .execute(&mut *c)
                .await?;
            }
            Ok(visitor)
        })
    })
    .await
}

async fn details(c: &mut AnyConnection, visitor: WebsiteVisitor) -> StoreResult<VisitorDetails> {
    let rows = sqlx::query(
        "SELECT url, title, viewed_at FROM website_page_views WHERE visitor_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(visitor.id)
    .bind(PAGE_VIEWS_KEPT)
    .fetch_all(&mut *c)
    .await?;
    let mut page_views = Vec::with_capacity(rows.len());
    for row in &rows {
        page_views.push(PageView {
            url: col(row, "url")?,
            title: col(row, "title")?,
            viewed_at: col(row, "viewed_at")?,
        });
    }
    let sql = format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations c JOIN contact_identities i ON i.id = c.identity_id \
         WHERE i.channel_id = $1 AND i.external_id = $2"
    );
    let conversation = match sqlx::query(&sql)
        .bind(visitor.channel_id)
        .bind(visitor.external_id.clone())
        .fetch_optional(&mut *c)
        .await?
    {
        Some(row) => Some(conversation_from_row(&row)?),
        None => None,
    };
    Ok(VisitorDetails { visitor, page_views, conversation })
}

pub(crate) async fn website_visitor(
    s: &SqlStore,
    channel_id: Id,
    external_id: &str,
) -> StoreResult<Option<VisitorDetails>> {
    let mut c = s.pool.acquire().await?;
    match visitor_row(&mut c, channel_id, external_id).await? {
        Some(v) => Ok(Some(details(&mut c, v).await?)),
        None => Ok(None),
    }
}

pub(crate) async fn conversation_visitor(
    s: &SqlStore,
    workspace_id: Id,
    conversation_id: Id,
) -> StoreResult<Option<VisitorDetails>> {
    let mut c = s.pool.acquire().await?;
    let sql = format!(
        "SELECT {} FROM website_visitors v JOIN contact_identities i ON i.channel_id = v.channel_id \
         AND i.external_id = v.external_id JOIN conversations c ON c.identity_id = i.id \
         WHERE c.id = $1 AND c.workspace_id = $2",
        VISITOR_COLUMNS.split(", ").map(|col| format!("v.{col}")).collect::<Vec<_>>().join(", ")
    );
    match sqlx::query(&sql).bind(conversation_id).bind(workspace_id).fetch_optional(&mut *c).await? {
        Some(row) => Ok(Some(details(&mut c, visitor_from_row(&row)?).await?)),
        None => Ok(None),
    }
}

pub(crate) async fn set_visitor_email(
    s: &SqlStore,
    channel_id: Id,
    external_id: &str,
    email: Option<String>,
    now: Millis,
) -> StoreResult<WebsiteVisitor> {
    let email = email.map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
    if email.as_ref().is_some_and(|e| {
        e.chars().count() > 254 || !e.contains('@') || e.chars().any(|c| c.is_whitespace() || c.is_control())
    }) {
        return Err(StoreError::Invalid("invalid_email", "the e-mail address is not valid".into()));
    }
    let external_id = external_id.to_string();
    s.write(move |c| {
        Box::pin(async move {
            let done = sqlx::query(
                "UPDATE website_visitors SET email = $1, last_seen_at = $2 WHERE channel_id = $3 AND external_id = $4",
            )
            .bind(email)
            .bind(now)
            .bind(channel_id)
            .bind(external_id.clone())
            .execute(&mut *c)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            visitor_row(c, channel_id, &external_id).await?.ok_or(StoreError::NotFound)
        })
    })
    .await
}

pub(crate) async fn contact_messages(
    s: &SqlStore,
    conversation_id: Id,
    after_id: Option<Id>,
    before_id: Option<Id>,
    limit: i64,
) -> StoreResult<Vec<Message>> {
    let limit = limit.clamp(1, 500);
    let mut q = Sql::new(&format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = "));
    q.bind(conversation_id).push(" AND m.kind IN ('inbound', 'outbound') AND m.hidden = 0");
    if let Some(after) = after_id {
        q.push(" AND m.id > ").bind(after).push(" ORDER BY m.id ASC LIMIT ").bind(limit);
    } else {
        if let Some(before) = before_id {
            q.push(" AND m.id < ").bind(before);
        }
        q.push(" ORDER BY m.id DESC LIMIT ").bind(limit);
    }
    let mut c = s.pool.acquire().await?;
    let rows = q.query().fetch_all(&mut *c).await?;
    let mut list = rows.iter().map(message_from_row).collect::<StoreResult<Vec<_>>>()?;
    if after_id.is_none() {
        list.reverse();
    }
    fill_attachments(&mut c, &mut list).await?;
    Ok(list)
}

pub(crate) async fn contact_receipt(
    s: &SqlStore,
    conversation_id: Id,
    up_to_id: Id,
    status: MessageStatus,
    now: Millis,
) -> StoreResult<Written<Vec<Message>>> {
    if !matches!(status, MessageStatus::Delivered | MessageStatus::Read) {
        return Err(StoreError::Invalid("invalid_status", "a receipt is delivered or read".into()));
    }
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            let below: Vec<&str> = MessageStatus::ALL
                .iter()
                .copied()
                .filter(|st| st.may_become(status) && *st != MessageStatus::Failed)
                .map(|st| st.as_str())
                .collect();
            let mut q = Sql::new("SELECT id FROM messages WHERE conversation_id = ");
            q.bind(conversation_id).push(" AND kind = 'outbound' AND id <= ").bind(up_to_id).push(" AND status IN (");
            for (i, st) in below.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.bind(*st);
            }
            q.push(") ORDER BY id LIMIT ").bind(RECEIPT_BATCH);
            let ids: Vec<Id> =
                q.query().fetch_all(&mut *c).await?.iter().map(|r| col(r, "id")).collect::<StoreResult<_>>()?;
            let mut changed = Vec::with_capacity(ids.len());
            let mut conv: Option<Conversation> = None;
            let mut events: Option<Events> = None;
            for id in ids {
                let Some(mut m) = lock_message(c, dialect, id).await? else { continue };
                if !m.status.may_become(status) {
                    continue;
                }
                m.status = status;
                m.error = None;
                save_delivery_state(c, &m, now).await?;
                cancel_job(c, JobKind::Deliver, m.id).await?;
                if conv.is_none() {
                    conv = Some(super::inbox::load_conversation(c, m.workspace_id, m.conversation_id).await?);
                }
                if let Some(cv) = &conv {
                    let ev = events.get_or_insert_with(|| Events::new(cv.workspace_id, now));
                    ev.message(c, "message.updated", cv, &m).await?;
                }
                changed.push(m);
            }
            Ok(Written { value: changed, events: events.map(|e| e.list).unwrap_or_default() })
        })
    })
    .await
}

pub(crate) async fn contact_ended(
    s: &SqlStore,
    workspace_id: Id,
    conversation_id: Id,
    text: &str,
    now: Millis,
) -> StoreResult<Written<Conversation>> {
    let dialect = s.dialect;
    let text = text.to_string();
    s.write(move |c| {
        Box::pin(async move {
            let mut conv = lock_conversation(c, dialect, workspace_id, conversation_id).await?;
            if conv.status == Status::Closed {
                return Err(StoreError::Invalid("already_closed", "the conversation is already closed".into()));
            }
            let mut events = Events::new(workspace_id, now);
            let line = event_line(c, &conv, None, text, serde_json::Value::Null, now).await?;
            events.message(c, "message.created", &conv, &line).await?;
            close_tx(c, &mut conv, None, None, now, &mut events).await?;
            Ok(Written { value: conv, events: events.list })
        })
    })
    .await
}

pub(crate) async fn add_event_line(
    s: &SqlStore,
    workspace_id: Id,
    conversation_id: Id,
    text: &str,
    now: Millis,
) -> StoreResult<Written<Message>> {
    let text = text.trim().chars().take(4000).collect::<String>();
    if text.is_empty() {
        return Err(StoreError::Invalid("invalid_text", "the line has no text".into()));
    }
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            let conv = lock_conversation(c, dialect, workspace_id, conversation_id).await?;
            let line = event_line(c, &conv, None, text, serde_json::Value::Null, now).await?;
            let mut events = Events::new(workspace_id, now);
            events.message(c, "message.created", &conv, &line).await?;
            Ok(Written { value: line, events: events.list })
        })
    })
    .await
}

pub(crate) async fn set_rating_hidden(
    s: &SqlStore,
    workspace_id: Id,
    attention_id: Id,
    hidden: bool,
) -> StoreResult<Attention> {
    s.write(move |c| {
        Box::pin(async move {
            let done = sqlx::query("UPDATE attentions SET rating_hidden = $1 WHERE id = $2 AND workspace_id = $3")
                .bind(hidden as i64)
                .bind(attention_id)
                .bind(workspace_id)
                .execute(&mut *c)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            let sql = format!("SELECT {} FROM attentions WHERE id = $1", super::inbox::ATTENTION_COLUMNS);
            let row = sqlx::query(&sql).bind(attention_id).fetch_one(&mut *c).await?;
            super::inbox::attention_from_row(&row)
        })
    })
    .await
}

pub(crate) async fn join_channel(
    s: &SqlStore,
    workspace_id: Id,
    channel_id: Id,
    user_id: Id,
    join: bool,
    now: Millis,
) -> StoreResult<Written<Channel>> {
    s.write(move |c| {
        Box::pin(async move {
            let ch = super::directory::load_channel(c, Some(workspace_id), channel_id).await?;
            super::directory::check_workspace_users(c, workspace_id, &[user_id]).await?;
            let member = ch.member_ids.contains(&user_id);
            if member == join {
                return Ok(unchanged(ch));
            }
            if join {
                sqlx::query("INSERT INTO channel_members (channel_id, user_id) VALUES ($1, $2)")
                    .bind(channel_id)
                    .bind(user_id)
                    .execute(&mut *c)
                    .await?;
            } else {
                sqlx::query("DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2")
                    .bind(channel_id)
                    .bind(user_id)
                    .execute(&mut *c)
                    .await?;
            }
            let ch = super::directory::load_channel(c, Some(workspace_id), channel_id).await?;
            let payload = to_json(&super::directory::channel_without_secret(ch.clone()))?;
            let ev = insert_event(c, workspace_id, "channel.updated", None, None, payload, now).await?;
            Ok(Written { value: ch, events: vec![ev] })
        })
    })
    .await
}

pub(crate) async fn channel_availability(
    s: &SqlStore,
    channel_id: Id,
    now: Millis,
) -> StoreResult<ChannelAvailability> {
    let mut c = s.pool.acquire().await?;
    let rows = sqlx::query(
        "SELECT u.presence, u.last_activity_at, u.max_concurrent, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM conversations o WHERE o.workspace_id = u.workspace_id \
          AND o.status = 'open' AND o.assignee_id = u.id) AS open_attentions \
         FROM channel_members cm JOIN users u ON u.id = cm.user_id \
         WHERE cm.channel_id = $1 AND u.active = 1",
    )
    .bind(channel_id)
    .fetch_all(&mut *c)
    .await?;
    let mut out = ChannelAvailability::default();
    for row in &rows {
        let set: Presence = col_enum(row, "presence", Presence::parse)?;
        if charla_core::presence::effective(set, col(row, "last_activity_at")?, now) != Presence::Online {
            continue;
        }
        out.online += 1;
        if col::<i64>(row, "open_attentions")? < col::<i64>(row, "max_concurrent")? {
            out.with_capacity += 1;
        }
    }
    Ok(out)
}

pub(crate) async fn channel_ratings(
    s: &SqlStore,
    workspace_id: Id,
    channel_id: Id,
    last: i64,
) -> StoreResult<RatingsSummary> {
    let mut c = s.pool.acquire().await?;
    let rows = sqlx::query(
        "SELECT a.rating, a.assignee_id, u.name, u.display_name, CAST(COUNT(*) AS BIGINT) AS n \
         FROM attentions a JOIN conversations c ON c.id = a.conversation_id LEFT JOIN users u ON u.id = a.assignee_id \
         WHERE a.workspace_id = $1 AND c.channel_id = $2 AND a.rating IS NOT NULL AND a.rating_hidden = 0 \
         GROUP BY a.rating, a.assignee_id, u.name, u.display_name",
    )
    .bind(workspace_id)
    .bind(channel_id)
    .fetch_all(&mut *c)
    .await?;
    let mut out = RatingsSummary::default();
    for row in &rows {
        let rating: Rating = col_enum(row, "rating", Rating::parse)?;
        let n: i64 = col(row, "n")?;
        match rating {
            Rating::Satisfied => out.counts.satisfied += n,
            Rating::Neutral => out.counts.neutral += n,
            Rating::Dissatisfied => out.counts.dissatisfied += n,
        }
        let Some(user_id) = col::<Option<Id>>(row, "assignee_id")? else { continue };
        let display: Option<String> = col(row, "display_name")?;
        let name = match display.filter(|d| !d.is_empty()) {
            Some(d) => d,
            None => col::<Option<String>>(row, "name")?.unwrap_or_default(),
        };
        let pos = match out.operators.iter().position(|o| o.user_id == user_id) {
            Some(p) => p,
            None => {
                out.operators.push(OperatorRatings { user_id, name, counts: RatingCounts::default() });
                out.operators.len() - 1
            }
        };
        let counts = &mut out.operators[pos].counts;
        match rating {
            Rating::Satisfied => counts.satisfied += n,
            Rating::Neutral => counts.neutral += n,
            Rating::Dissatisfied => counts.dissatisfied += n,
        }
    }
    out.operators.sort_by(|a, b| b.counts.total().cmp(&a.counts.total()).then(a.user_id.cmp(&b.user_id)));
    let rows = sqlx::query(
        "SELECT a.rating, a.rated_at FROM attentions a JOIN conversations c ON c.id = a.conversation_id \
         WHERE a.workspace_id = $1 AND c.channel_id = $2 AND a.rating IS NOT NULL AND a.rating_hidden = 0 \
         ORDER BY a.rated_at DESC, a.id DESC LIMIT $3",
    )
    .bind(workspace_id)
    .bind(channel_id)
    .bind(last.clamp(0, 500))
    .fetch_all(&mut *c)
    .await?;
    for row in &rows {
        out.last.push((col_enum(row, "rating", Rating::parse)?, col::<Option<Millis>>(row, "rated_at")?.unwrap_or(0)));
    }
    Ok(out)
}
