//! What messenger channels (WhatsApp, Telegram, Instagram) add to the store: identity
//! profiles, provider ids of outbound messages and receipts that arrive before them, event
//! lines from providers, templates, and merging contacts.

use super::conversations::{
    Events, NewRow, channel_rules, conversation_of, insert_message, lock_message, save_delivery_state, unchanged,
};
use super::inbox::{CONVERSATION_COLUMNS, conversation_from_row, identity_from_row, load_message};
use super::*;
use std::collections::HashSet;

/// Receipts for unknown provider ids are kept this long.
const PENDING_RECEIPT_TTL_MS: Millis = 7 * 24 * 3600 * 1000;
/// Longest template body stored (a provider's own limit applies when sending).
const TEMPLATE_BODY_MAX: usize = 60_000;

// --- helpers used inside other writes ----------------------------------------------------------

fn blank_to_none(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Replaces the stored profile of an identity.
pub(crate) async fn save_identity_profile(
    c: &mut AnyConnection,
    identity_id: Id,
    p: &IdentityProfile,
    now: Millis,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE contact_identities SET username = $1, first_name = $2, last_name = $3, phone = $4, updated_at = $5 \
         WHERE id = $6",
    )
    .bind(blank_to_none(&p.username))
    .bind(blank_to_none(&p.first_name))
    .bind(blank_to_none(&p.last_name))
    .bind(blank_to_none(&p.phone))
    .bind(now)
    .bind(identity_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// (message id, conversation id) of the message the provider knows by `provider_id` on the
/// channel: an inbound message, or an outbound one by any of its recorded ids.
pub(crate) async fn message_id_by_provider_id(
    c: &mut AnyConnection,
    channel_id: Id,
    provider_id: &str,
) -> StoreResult<Option<(Id, Id)>> {
    let inbound = sqlx::query(
        "SELECT id, conversation_id FROM messages WHERE channel_id = $1 AND provider_id = $2 AND kind = 'inbound'",
    )
    .bind(channel_id)
    .bind(provider_id)
    .fetch_optional(&mut *c)
    .await?;
    let row = match inbound {
        Some(r) => Some(r),
        None => {
            sqlx::query(
                "SELECT m.id AS id, m.conversation_id AS conversation_id FROM message_provider_ids p \
                 JOIN messages m ON m.id = p.message_id WHERE p.channel_id = $1 AND p.provider_id = $2",
            )
            .bind(channel_id)
            .bind(provider_id)
            .fetch_optional(&mut *c)
            .await?
        }
    };
    match row {
        Some(r) => Ok(Some((col(&r, "id")?, col(&r, "conversation_id")?))),
        None => Ok(None),
    }
}

/// The provider id a message is known by (its first one for an outbound message).
pub(crate) async fn provider_id_of(c: &mut AnyConnection, message_id: Id) -> StoreResult<Option<String>> {
    let id: Option<Option<String>> = sqlx::query_scalar("SELECT provider_id FROM messages WHERE id = $1")
        .bind(message_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(id.flatten())
}

pub(crate) async fn save_template_ref(c: &mut AnyConnection, message_id: Id, t: &TemplateRef) -> StoreResult<()> {
    let params = serde_json::to_string(&t.params).map_err(|e| StoreError::Database(e.to_string()))?;
    sqlx::query("UPDATE messages SET template_name = $1, template_language = $2, template_params = $3 WHERE id = $4")
        .bind(t.name.clone())
        .bind(t.language.clone())
        .bind(params)
        .bind(message_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn load_template_ref(c: &mut AnyConnection, message_id: Id) -> StoreResult<Option<TemplateRef>> {
    let row = sqlx::query("SELECT template_name, template_language, template_params FROM messages WHERE id = $1")
        .bind(message_id)
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let name: Option<String> = col(&row, "template_name")?;
    let Some(name) = name else { return Ok(None) };
    let language: Option<String> = col(&row, "template_language")?;
    let params: Option<String> = col(&row, "template_params")?;
    let params: Vec<String> = match params {
        Some(p) => serde_json::from_str(&p).map_err(|e| StoreError::Database(format!("template_params: {e}")))?,
        None => Vec::new(),
    };
    Ok(Some(TemplateRef { name, language: language.unwrap_or_default(), params }))
}

/// Records a provider id of an outbound message (idempotent).
pub(crate) async fn record_provider_id(
    c: &mut AnyConnection,
    channel_id: Id,
    message_id: Id,
    provider_id: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO message_provider_ids (channel_id, provider_id, message_id) VALUES ($1, $2, $3) \
         ON CONFLICT (channel_id, provider_id) DO NOTHING",
    )
    .bind(channel_id)
    .bind(provider_id)
    .bind(message_id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Applies the receipts kept for any provider id of `m` (in delivery order, never backwards)
/// and forgets them. The caller saves `m`.
pub(crate) async fn apply_pending_receipts(c: &mut AnyConnection, m: &mut Message) -> StoreResult<()> {
    let rows = sqlx::query(
        "SELECT r.provider_id AS provider_id, r.status AS status, r.error AS error FROM pending_receipts r \
         JOIN message_provider_ids p ON p.channel_id = r.channel_id AND p.provider_id = r.provider_id \
         WHERE p.message_id = $1",
    )
    .bind(m.id)
    .fetch_all(&mut *c)
    .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut receipts = Vec::with_capacity(rows.len());
    for row in &rows {
        let status: MessageStatus = col_enum(row, "status", MessageStatus::parse)?;
        receipts.push((status, col::<Option<String>>(row, "error")?, col::<String>(row, "provider_id")?));
    }
    receipts.sort_by_key(|(s, _, _)| s.rank());
    for (status, error, provider_id) in receipts {
        if m.status.may_become(status) {
            m.status = status;
            m.error = (status == MessageStatus::Failed).then(|| error.unwrap_or_else(|| "delivery failed".into()));
        }
        sqlx::query("DELETE FROM pending_receipts WHERE channel_id = $1 AND provider_id = $2")
            .bind(m.channel_id)
            .bind(provider_id)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

// --- event lines ------------------------------------------------------------------------------

pub(crate) async fn ingest_event(s: &SqlStore, ev: InboundEvent, now: Millis) -> StoreResult<Written<Option<Message>>> {
    if ev.provider_event_id.trim().is_empty() || ev.external_id.trim().is_empty() {
        return Err(StoreError::Invalid("invalid_event", "an event needs the provider's id and the sender".into()));
    }
    let dialect = s.dialect;
    let (channel_id, event_id) = (ev.channel_id, ev.provider_event_id.clone());
    let result = s.write(move |c| Box::pin(async move { ingest_event_tx(c, dialect, ev, now).await })).await;
    match result {
        // A concurrent delivery of the same event won the race.
        Err(StoreError::Conflict(reason)) => {
            let mut conn = s.pool.acquire().await?;
            match existing_event(&mut conn, channel_id, &event_id).await? {
                Some(m) => Ok(unchanged(Some(m))),
                None => Err(StoreError::Conflict(reason)),
            }
        }
        other => other,
    }
}

async fn existing_event(c: &mut AnyConnection, channel_id: Id, event_id: &str) -> StoreResult<Option<Message>> {
    let id: Option<Id> =
        sqlx::query_scalar("SELECT id FROM messages WHERE channel_id = $1 AND provider_id = $2 AND kind = 'event'")
            .bind(channel_id)
            .bind(event_id)
            .fetch_optional(&mut *c)
            .await?;
    match id {
        Some(id) => load_message(c, id).await,
        None => Ok(None),
    }
}

async fn ingest_event_tx(
    c: &mut AnyConnection,
    dialect: Dialect,
    ev: InboundEvent,
    now: Millis,
) -> StoreResult<Written<Option<Message>>> {
    if let Some(m) = existing_event(c, ev.channel_id, &ev.provider_event_id).await? {
        return Ok(unchanged(Some(m)));
    }
    let ch = channel_rules(c, ev.channel_id).await?;
    if !ch.active {
        return Err(StoreError::NotFound);
    }
    let identity_id: Option<Id> =
        sqlx::query_scalar("SELECT id FROM contact_identities WHERE channel_id = $1 AND external_id = $2")
            .bind(ev.channel_id)
            .bind(ev.external_id.clone())
            .fetch_optional(&mut *c)
            .await?;
    let Some(identity_id) = identity_id else { return Ok(unchanged(None)) };
    let select =
        format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.identity_id = $1{}", dialect.for_update());
    let Some(row) = sqlx::query(&select).bind(identity_id).fetch_optional(&mut *c).await? else {
        return Ok(unchanged(None));
    };
    let conv = conversation_from_row(&row)?;
    let blocked = match conv.contact_id {
        Some(id) => {
            let b: Option<i64> = sqlx::query_scalar("SELECT blocked FROM contacts WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *c)
                .await?;
            b.unwrap_or(0) != 0
        }
        None => false,
    };
    let reply_to = match ev.about_provider_id.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => message_id_by_provider_id(c, ev.channel_id, p)
            .await?
            .filter(|(_, conversation_id)| *conversation_id == conv.id)
            .map(|(id, _)| id),
        None => None,
    };
    let author = Author { kind: AuthorType::System, id: None, name: String::new() };
    let row = NewRow {
        conv: &conv,
        kind: MessageKind::Event,
        author: &author,
        text: &ev.text,
        reply_to,
        client_msg_id: None,
        provider_id: Some(ev.provider_event_id.clone()),
        status: MessageStatus::Sent,
        hidden: blocked,
        event: None,
        now,
    };
    let message = insert_message(c, row).await?.ok_or_else(|| StoreError::Conflict("duplicate_event".into()))?;
    if blocked {
        return Ok(unchanged(Some(message)));
    }
    let mut events = Events::new(conv.workspace_id, now);
    events.message(c, "message.created", &conv, &message).await?;
    Ok(Written { value: Some(message), events: events.list })
}

// --- receipts by provider id ---------------------------------------------------------------------

pub(crate) async fn find_by_provider_id(
    s: &SqlStore,
    channel_id: Id,
    provider_id: &str,
) -> StoreResult<Option<Message>> {
    let mut c = s.pool.acquire().await?;
    match message_id_by_provider_id(&mut c, channel_id, provider_id).await? {
        Some((id, _)) => load_message(&mut c, id).await,
        None => Ok(None),
    }
}

pub(crate) async fn update_status_by_provider_id(
    s: &SqlStore,
    channel_id: Id,
    provider_id: &str,
    status: MessageStatus,
    error: Option<String>,
    now: Millis,
) -> StoreResult<Written<Option<Message>>> {
    let provider_id = provider_id.trim().to_string();
    if provider_id.is_empty() {
        return Ok(unchanged(None));
    }
    let error = error.filter(|e| !e.trim().is_empty());
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            let found: Option<Id> = sqlx::query_scalar(
                "SELECT message_id FROM message_provider_ids WHERE channel_id = $1 AND provider_id = $2",
            )
            .bind(channel_id)
            .bind(provider_id.clone())
            .fetch_optional(&mut *c)
            .await?;
            let Some(message_id) = found else {
                keep_pending_receipt(c, channel_id, &provider_id, status, error, now).await?;
                return Ok(unchanged(None));
            };
            let mut m = match lock_message(c, dialect, message_id).await? {
                Some(m) if m.channel_id == channel_id && m.kind == MessageKind::Outbound => m,
                _ => return Ok(unchanged(None)),
            };
            if !m.status.may_become(status) {
                return Ok(unchanged(Some(m)));
            }
            m.status = status;
            m.error = (status == MessageStatus::Failed).then(|| error.unwrap_or_else(|| "delivery failed".into()));
            save_delivery_state(c, &m, now).await?;
            // The provider has answered for it: no more delivery attempts.
            cancel_job(c, JobKind::Deliver, m.id).await?;
            let conv = conversation_of(c, &m).await?;
            let mut events = Events::new(m.workspace_id, now);
            events.message(c, "message.updated", &conv, &m).await?;
            Ok(Written { value: Some(m), events: events.list })
        })
    })
    .await
}

async fn keep_pending_receipt(
    c: &mut AnyConnection,
    channel_id: Id,
    provider_id: &str,
    status: MessageStatus,
    error: Option<String>,
    now: Millis,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM pending_receipts WHERE created_at < $1")
        .bind(now.saturating_sub(PENDING_RECEIPT_TTL_MS))
        .execute(&mut *c)
        .await?;
    let kept: Option<String> =
        sqlx::query_scalar("SELECT status FROM pending_receipts WHERE channel_id = $1 AND provider_id = $2")
            .bind(channel_id)
            .bind(provider_id)
            .fetch_optional(&mut *c)
            .await?;
    match kept.as_deref().and_then(MessageStatus::parse) {
        Some(old) if !old.may_become(status) => Ok(()),
        Some(_) => {
            sqlx::query(
                "UPDATE pending_receipts SET status = $1, error = $2, created_at = $3 \
                 WHERE channel_id = $4 AND provider_id = $5",
            )
            .bind(status.as_str())
            .bind(error)
            .bind(now)
            .bind(channel_id)
            .bind(provider_id)
            .execute(&mut *c)
            .await?;
            Ok(())
        }
        None => {
            sqlx::query(
                "INSERT INTO pending_receipts (channel_id, provider_id, status, error, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel_id, provider_id) DO NOTHING",
            )
            .bind(channel_id)
            .bind(provider_id)
            .bind(status.as_str())
            .bind(error)
            .bind(now)
            .execute(&mut *c)
            .await?;
            Ok(())
        }
    }
}

pub(crate) async fn add_provider_ids(
    s: &SqlStore,
    channel_id: Id,
    message_id: Id,
    provider_ids: &[String],
) -> StoreResult<()> {
    let ids: Vec<String> = provider_ids.iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    s.write(move |c| {
        Box::pin(async move {
            let owner: Option<Id> = sqlx::query_scalar("SELECT channel_id FROM messages WHERE id = $1")
                .bind(message_id)
                .fetch_optional(&mut *c)
                .await?;
            if owner != Some(channel_id) {
                return Err(StoreError::NotFound);
            }
            for id in &ids {
                record_provider_id(c, channel_id, message_id, id).await?;
            }
            Ok(())
        })
    })
    .await
}

// --- identities and merging --------------------------------------------------------------------

pub(crate) async fn contact_identities(
    s: &SqlStore,
    workspace_id: Id,
    contact_id: Id,
) -> StoreResult<Vec<IdentityDetails>> {
    let mut c = s.pool.acquire().await?;
    super::directory::load_contact(&mut c, workspace_id, contact_id).await?;
    let rows = sqlx::query(
        "SELECT i.id AS id, i.workspace_id AS workspace_id, i.channel_id AS channel_id, i.external_id AS external_id, \
         i.contact_id AS contact_id, i.name AS name, i.username AS username, i.first_name AS first_name, \
         i.last_name AS last_name, i.phone AS phone, ch.kind AS channel_kind, ch.name AS channel_name, \
         (SELECT v.id FROM conversations v WHERE v.identity_id = i.id) AS conversation_id \
         FROM contact_identities i JOIN channels ch ON ch.id = i.channel_id \
         WHERE i.workspace_id = $1 AND i.contact_id = $2 ORDER BY i.id",
    )
    .bind(workspace_id)
    .bind(contact_id)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(IdentityDetails {
                identity: identity_from_row(row)?,
                channel_kind: col_enum(row, "channel_kind", ChannelKind::parse)?,
                channel_name: col(row, "channel_name")?,
                profile: IdentityProfile {
                    username: col(row, "username")?,
                    first_name: col(row, "first_name")?,
                    last_name: col(row, "last_name")?,
                    phone: col(row, "phone")?,
                },
                conversation_id: col(row, "conversation_id")?,
            })
        })
        .collect()
}

/// `into`'s custom attributes with `from`'s keys it lacks.
fn merged_attributes(into: &str, from: &str) -> String {
    let parse = |t: &str| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(t).unwrap_or_default();
    let mut merged = parse(into);
    for (k, v) in parse(from) {
        merged.entry(k).or_insert(v);
    }
    serde_json::Value::Object(merged).to_string()
}

pub(crate) async fn merge_contacts(
    s: &SqlStore,
    workspace_id: Id,
    into_id: Id,
    from_id: Id,
    now: Millis,
) -> StoreResult<Written<Contact>> {
    if into_id == from_id {
        return Err(StoreError::Invalid("invalid_merge", "a contact cannot be merged into itself".into()));
    }
    let dialect = s.dialect;
    s.write(move |c| {
        Box::pin(async move {
            // Lock both in id order, as any two writers would.
            let lock = format!("SELECT id FROM contacts WHERE workspace_id = $1 AND id IN ($2, $3) ORDER BY id{}", dialect.for_update());
            let locked: Vec<Id> =
                sqlx::query_scalar(&lock).bind(workspace_id).bind(into_id).bind(from_id).fetch_all(&mut *c).await?;
            if locked.len() != 2 {
                return Err(StoreError::NotFound);
            }
            let into = super::directory::load_contact(c, workspace_id, into_id).await?;
            let from = super::directory::load_contact(c, workspace_id, from_id).await?;

            let select = format!(
                "SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.contact_id = $1 ORDER BY c.id{}",
                dialect.for_update()
            );
            let before = sqlx::query(&select)
                .bind(from_id)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(conversation_from_row)
                .collect::<StoreResult<Vec<_>>>()?;
            sqlx::query("UPDATE contact_identities SET contact_id = $1 WHERE contact_id = $2")
                .bind(into_id)
                .bind(from_id)
                .execute(&mut *c)
                .await?;
            sqlx::query("UPDATE conversations SET contact_id = $1 WHERE contact_id = $2")
                .bind(into_id)
                .bind(from_id)
                .execute(&mut *c)
                .await?;
            let conversation_ids: Vec<Id> = before.iter().map(|v| v.id).collect();
            if !conversation_ids.is_empty() {
                let mut q = Sql::new("UPDATE messages SET author_id = ");
                q.bind(into_id);
                q.push(" WHERE author_type = 'contact' AND author_id = ").bind(from_id);
                q.push(" AND conversation_id IN ").bind_list(&conversation_ids);
                q.query().execute(&mut *c).await?;
            }
            sqlx::query(
                "INSERT INTO contact_tags (contact_id, tag_id) SELECT $1, tag_id FROM contact_tags WHERE contact_id = $2 \
                 ON CONFLICT (contact_id, tag_id) DO NOTHING",
            )
            .bind(into_id)
            .bind(from_id)
            .execute(&mut *c)
            .await?;
            sqlx::query("DELETE FROM contact_tags WHERE contact_id = $1").bind(from_id).execute(&mut *c).await?;

            let fill = |mine: &Option<String>, theirs: &Option<String>| match (mine, theirs) {
                (None, Some(v)) => Some(Some(v.clone())),
                _ => None,
            };
            let patch = ContactPatch {
                phone: fill(&into.phone, &from.phone),
                email: fill(&into.email, &from.email),
                avatar_url: fill(&into.avatar_url, &from.avatar_url),
                telegram_username: fill(&into.telegram_username, &from.telegram_username),
                telegram_id: fill(&into.telegram_id, &from.telegram_id),
                source: fill(&into.source, &from.source),
                custom_attributes: Some(merged_attributes(&into.custom_attributes, &from.custom_attributes)),
                ..ContactPatch::default()
            };
            super::directory::patch_contact(c, dialect, workspace_id, into_id, patch).await?;
            if from.blocked && !into.blocked {
                sqlx::query("UPDATE contacts SET blocked = 1 WHERE id = $1").bind(into_id).execute(&mut *c).await?;
            }
            sqlx::query("DELETE FROM contacts WHERE id = $1").bind(from_id).execute(&mut *c).await?;
            let merged = super::directory::load_contact(c, workspace_id, into_id).await?;

            let mut events = Events::new(workspace_id, now);
            events.list.push(super::directory::contact_updated_event(c, &merged, now).await?);
            let payload = serde_json::json!({ "id": from_id, "merged_into": into_id });
            events.list.push(insert_event(c, workspace_id, "contact.deleted", None, None, payload, now).await?);
            for old in &before {
                let moved = Conversation { contact_id: Some(into_id), ..old.clone() };
                events.conversation(c, "conversation.updated", &moved).await?;
                events.removed_if_moved(c, old, &moved).await?;
            }
            Ok(Written { value: merged, events: events.list })
        })
    })
    .await
}

// --- templates ----------------------------------------------------------------------------------

const TEMPLATE_COLUMNS: &str =
    "id, workspace_id, channel_id, name, language, category, body, status, rejection_reason, provider_id, updated_at";

fn template_from_row(row: &sqlx::any::AnyRow) -> StoreResult<Template> {
    Ok(Template {
        id: col(row, "id")?,
        workspace_id: col(row, "workspace_id")?,
        channel_id: col(row, "channel_id")?,
        name: col(row, "name")?,
        language: col(row, "language")?,
        category: col(row, "category")?,
        body: col(row, "body")?,
        status: col_enum(row, "status", TemplateStatus::parse)?,
        rejection_reason: col(row, "rejection_reason")?,
        provider_id: col(row, "provider_id")?,
        updated_at: col(row, "updated_at")?,
    })
}

fn check_template(t: &TemplateInput) -> StoreResult<()> {
    let bad = |m: String| Err(StoreError::Invalid("invalid_template", m));
    let name = t.name.trim();
    if name.is_empty() || name.chars().count() > 512 {
        return bad("a template needs a name of at most 512 characters".into());
    }
    let language = t.language.trim();
    if language.is_empty() || language.chars().count() > 20 {
        return bad("a template needs a language code (es, en_US...)".into());
    }
    if t.body.trim().is_empty() {
        return bad(format!("template {name:?} has no body"));
    }
    if t.body.chars().count() > TEMPLATE_BODY_MAX {
        return bad(format!("template {name:?} is too long"));
    }
    Ok(())
}

async fn templates_of(c: &mut AnyConnection, channel_id: Id) -> StoreResult<Vec<Template>> {
    let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM templates WHERE channel_id = $1 ORDER BY name, language, id");
    sqlx::query(&sql).bind(channel_id).fetch_all(&mut *c).await?.iter().map(template_from_row).collect()
}

async fn upsert_template(
    c: &mut AnyConnection,
    workspace_id: Id,
    channel_id: Id,
    t: &TemplateInput,
    now: Millis,
) -> StoreResult<Id> {
    let id: Id = sqlx::query_scalar(
        "INSERT INTO templates (workspace_id, channel_id, name, language, category, body, status, rejection_reason, \
         provider_id, updated_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
         ON CONFLICT (channel_id, name, language) DO UPDATE SET category = excluded.category, body = excluded.body, \
         status = excluded.status, rejection_reason = excluded.rejection_reason, provider_id = excluded.provider_id, \
         updated_at = excluded.updated_at RETURNING id",
    )
    .bind(workspace_id)
    .bind(channel_id)
    .bind(t.name.trim().to_string())
    .bind(t.language.trim().to_string())
    .bind(t.category.trim().to_ascii_lowercase())
    .bind(t.body.clone())
    .bind(t.status.as_str())
    .bind(blank_to_none(&t.rejection_reason))
    .bind(blank_to_none(&t.provider_id))
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    Ok(id)
}

pub(crate) async fn list_templates(s: &SqlStore, workspace_id: Id, channel_id: Id) -> StoreResult<Vec<Template>> {
    let mut c = s.pool.acquire().await?;
    super::directory::load_channel(&mut c, Some(workspace_id), channel_id).await?;
    templates_of(&mut c, channel_id).await
}

pub(crate) async fn get_template(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<Template> {
    let mut c = s.pool.acquire().await?;
    let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM templates WHERE id = $1 AND workspace_id = $2");
    let row = sqlx::query(&sql).bind(id).bind(workspace_id).fetch_optional(&mut *c).await?;
    template_from_row(&row.ok_or(StoreError::NotFound)?)
}

pub(crate) async fn sync_templates(
    s: &SqlStore,
    workspace_id: Id,
    channel_id: Id,
    list: Vec<TemplateInput>,
    now: Millis,
) -> StoreResult<Vec<Template>> {
    for t in &list {
        check_template(t)?;
    }
    s.write(move |c| {
        Box::pin(async move {
            super::directory::load_channel(c, Some(workspace_id), channel_id).await?;
            let mut keep: HashSet<(String, String)> = HashSet::new();
            for t in &list {
                upsert_template(c, workspace_id, channel_id, t, now).await?;
                keep.insert((t.name.trim().to_string(), t.language.trim().to_string()));
            }
            for old in templates_of(c, channel_id).await? {
                if old.provider_id.is_some() && !keep.contains(&(old.name.clone(), old.language.clone())) {
                    sqlx::query("DELETE FROM templates WHERE id = $1").bind(old.id).execute(&mut *c).await?;
                }
            }
            templates_of(c, channel_id).await
        })
    })
    .await
}

pub(crate) async fn save_template(
    s: &SqlStore,
    workspace_id: Id,
    channel_id: Id,
    t: TemplateInput,
    now: Millis,
) -> StoreResult<Template> {
    check_template(&t)?;
    s.write(move |c| {
        Box::pin(async move {
            super::directory::load_channel(c, Some(workspace_id), channel_id).await?;
            let id = upsert_template(c, workspace_id, channel_id, &t, now).await?;
            let sql = format!("SELECT {TEMPLATE_COLUMNS} FROM templates WHERE id = $1");
            template_from_row(&sqlx::query(&sql).bind(id).fetch_one(&mut *c).await?)
        })
    })
    .await
}

pub(crate) async fn delete_template(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<()> {
    s.write(move |c| {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM templates WHERE id = $1 AND workspace_id = $2")
                .bind(id)
                .bind(workspace_id)
                .execute(&mut *c)
                .await?;
            if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_merge_keeps_the_target() {
        let merged: serde_json::Value =
            serde_json::from_str(&merged_attributes(r#"{"a":1,"b":2}"#, r#"{"b":3,"c":4}"#)).unwrap_or_default();
        assert_eq!(merged, serde_json::json!({"a": 1, "b": 2, "c": 4}));
        assert_eq!(merged_attributes("not json", r#"{"c":4}"#), r#"{"c":4}"#);
    }
}
