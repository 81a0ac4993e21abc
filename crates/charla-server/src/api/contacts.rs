//! Contacts (customers).
//!
//! Admins and `manage_settings` agents see every contact of the workspace. Other agents see a
//! contact only through its conversations: when they can see at least one of them (else 404).

use crate::api::{double_option, page_limit, required_text};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::wire;
use axum::extract::State;
use axum::http::StatusCode;
use charla_core::{Contact, Id};
use charla_store::{ContactPatch, ContactQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_contacts, create_contact))
        .routes(routes!(get_contact, update_contact))
        .routes(routes!(block_contact))
        .routes(routes!(unblock_contact))
        .routes(routes!(set_contact_tags))
        .routes(routes!(contact_conversations))
        .routes(routes!(hidden_messages))
        .routes(routes!(contact_identities))
        .routes(routes!(merge_contact))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MergeRequest {
    /// The contact merged into this one (it is deleted; its identities and conversations
    /// move here).
    pub contact_id: Id,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactListParams {
    /// Substring of name, phone, e-mail or Telegram username; at least 4 characters.
    pub q: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1..200, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactPage {
    pub items: Vec<wire::Contact>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ContactInput {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub telegram_username: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    /// A JSON object; replaces the previous one.
    #[schema(value_type = Option<Object>)]
    pub custom_attributes: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HiddenParams {
    /// 1..200, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactTags {
    pub tag_ids: Vec<Id>,
}

/// Whether the caller sees every contact without looking at conversations.
fn sees_all_contacts(me: &CurrentUser) -> bool {
    me.viewer.allowed_contact_ids.is_none() && (me.viewer.is_admin() || me.viewer.can_manage_settings())
}

async fn may_see_contact(state: &AppState, me: &CurrentUser, contact: &Contact) -> ApiResult<bool> {
    if sees_all_contacts(me) {
        return Ok(true);
    }
    let convs = state.store.contact_conversations(me.user.workspace_id, contact.id).await?;
    Ok(convs.iter().any(|c| me.viewer.can_see(&c.access())))
}

/// The contact when the caller may see it, else 404.
pub(crate) async fn visible_contact(state: &AppState, me: &CurrentUser, id: Id) -> ApiResult<Contact> {
    let contact = state.store.get_contact(me.user.workspace_id, id).await?;
    if may_see_contact(state, me, &contact).await? { Ok(contact) } else { Err(ApiError::not_found()) }
}

fn opt_text(v: Option<Option<String>>, field: &str, max: usize) -> ApiResult<Option<Option<String>>> {
    match v {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(s)) => {
            let s = s.trim().to_string();
            if s.chars().count() > max {
                return Err(ApiError::unprocessable(&format!("invalid_{field}"), format!("{field} is too long")));
            }
            Ok(Some((!s.is_empty()).then_some(s)))
        }
    }
}

fn patch_from(req: ContactInput) -> ApiResult<(Option<String>, ContactPatch)> {
    let name = req.name.as_deref().map(|n| required_text(n, "name", 200)).transpose()?;
    let custom_attributes = match req.custom_attributes {
        None => None,
        Some(v) if v.is_object() => Some(v.to_string()),
        Some(_) => {
            return Err(ApiError::unprocessable("invalid_custom_attributes", "custom_attributes must be an object"));
        }
    };
    if custom_attributes.as_ref().is_some_and(|s| s.len() > 64 * 1024) {
        return Err(ApiError::unprocessable("invalid_custom_attributes", "custom_attributes is too large"));
    }
    let patch = ContactPatch {
        name: name.clone(),
        phone: opt_text(req.phone, "phone", 64)?,
        email: opt_text(req.email, "email", 254)?,
        avatar_url: opt_text(req.avatar_url, "avatar_url", 2048)?,
        telegram_username: opt_text(req.telegram_username, "telegram_username", 64)?,
        telegram_id: None,
        source: opt_text(req.source, "source", 2048)?,
        custom_attributes,
    };
    Ok((name, patch))
}

/// Contacts the caller may see, by id.
#[utoipa::path(
    get, path = "/api/v1/contacts", tag = "contacts",
    params(ContactListParams),
    responses((status = 200, body = ContactPage), (status = 422, description = "query_too_short", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_contacts(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(params): Query<ContactListParams>,
) -> ApiResult<axum::Json<ContactPage>> {
    let search = match params.q.as_deref().filter(|q| !q.trim().is_empty()) {
        Some(q) => Some(charla_core::search::parse(q).map_err(|_| query_too_short())?),
        None => None,
    };
    let mut after_id = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(c.parse::<Id>().map_err(|_| ApiError::bad_request("invalid_cursor", "invalid cursor"))?),
        None => None,
    };
    let limit = page_limit(params.limit, 50, 200);
    let mut items = Vec::new();
    let mut next_cursor = None;
    // Agents see contacts through conversations: scan a bounded number of pages, and hand back
    // a cursor when the scan stopped before the end.
    for _ in 0..10 {
        let page = state
            .store
            .list_contacts(me.user.workspace_id, ContactQuery { search: search.clone(), after_id, limit })
            .await?;
        let full = page.len() as i64 >= limit;
        for c in &page {
            after_id = Some(c.id);
            if may_see_contact(&state, &me, c).await? {
                items.push(wire::Contact::from(c));
                if items.len() as i64 >= limit {
                    break;
                }
            }
        }
        if !full {
            next_cursor = None;
            break;
        }
        next_cursor = after_id.map(|id| id.to_string());
        if items.len() as i64 >= limit {
            break;
        }
    }
    Ok(axum::Json(ContactPage { items, next_cursor }))
}

pub(crate) fn query_too_short() -> ApiError {
    ApiError::unprocessable(
        "query_too_short",
        format!("search needs at least {} characters", charla_core::search::MIN_SEARCH_CHARS),
    )
}

/// Creates a contact. Agents who see contacts only through conversations will not see it
/// until it has one.
#[utoipa::path(
    post, path = "/api/v1/contacts", tag = "contacts",
    request_body = ContactInput,
    responses((status = 201, body = wire::Contact), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn create_contact(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(req): Json<ContactInput>,
) -> ApiResult<(StatusCode, axum::Json<wire::Contact>)> {
    let (name, patch) = patch_from(req)?;
    let name = name.ok_or_else(|| ApiError::unprocessable("invalid_name", "name must not be empty"))?;
    let contact = state.store.create_contact(me.user.workspace_id, &name, patch).await?;
    Ok((StatusCode::CREATED, axum::Json(wire::Contact::from(&contact))))
}

#[utoipa::path(
    get, path = "/api/v1/contacts/{id}", tag = "contacts",
    params(("id" = i64, Path, description = "contact id")),
    responses((status = 200, body = wire::Contact), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_contact(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::Contact>> {
    let contact = visible_contact(&state, &me, id).await?;
    Ok(axum::Json(wire::Contact::from(&contact)))
}

/// Edits a contact (anyone who sees it). Absent fields stay; `null` clears.
#[utoipa::path(
    patch, path = "/api/v1/contacts/{id}", tag = "contacts",
    params(("id" = i64, Path, description = "contact id")),
    request_body = ContactInput,
    responses((status = 200, body = wire::Contact), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn update_contact(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<ContactInput>,
) -> ApiResult<axum::Json<wire::Contact>> {
    visible_contact(&state, &me, id).await?;
    let (_, patch) = patch_from(req)?;
    let written = state.store.update_contact(me.user.workspace_id, id, patch).await?;
    state.publish(written.events).await;
    Ok(axum::Json(wire::Contact::from(&written.value)))
}

async fn set_blocked(state: AppState, me: CurrentUser, id: Id, blocked: bool) -> ApiResult<axum::Json<wire::Contact>> {
    visible_contact(&state, &me, id).await?;
    let written = state.store.set_contact_blocked(me.user.workspace_id, id, blocked).await?;
    state.publish(written.events).await;
    Ok(axum::Json(wire::Contact::from(&written.value)))
}

/// Blocks a contact: its messages no longer reach the inbox; sending to it is refused.
#[utoipa::path(
    post, path = "/api/v1/contacts/{id}/block", tag = "contacts",
    params(("id" = i64, Path, description = "contact id")),
    responses((status = 200, body = wire::Contact), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn block_contact(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::Contact>> {
    set_blocked(state, me, id, true).await
}

#[utoipa::path(
    post, path = "/api/v1/contacts/{id}/unblock", tag = "contacts",
    params(("id" = i64, Path, description = "contact id")),
    responses((status = 200, body = wire::Contact), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn unblock_contact(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::Contact>> {
    set_blocked(state, me, id, false).await
}

/// Replaces the contact's tags.
#[utoipa::path(
    put, path = "/api/v1/contacts/{id}/tags", tag = "contacts",
    params(("id" = i64, Path, description = "contact id")),
    request_body = ContactTags,
    responses((status = 200, body = wire::Contact), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn set_contact_tags(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<ContactTags>,
) -> ApiResult<axum::Json<wire::Contact>> {
    visible_contact(&state, &me, id).await?;
    let ws = me.user.workspace_id;
    let known: Vec<Id> = state.store.list_tags(ws).await?.iter().map(|t| t.id).collect();
    let mut ids = req.tag_ids;
    ids.sort_unstable();
    ids.dedup();
    if let Some(bad) = ids.iter().find(|id| !known.contains(id)) {
        return Err(ApiError::unprocessable("invalid_tag", format!("no tag {bad} in this workspace")));
    }
    let written = state.store.set_contact_tags(ws, id, &ids).await?;
    state.publish(written.events).await;
    Ok(axum::Json(wire::Contact::from(&written.value)))
}

/// The contact's conversations the caller may see, newest activity first.
#[utoipa::path(
    get, path = "/api/v1/contacts/{id}/conversations", tag = "contacts",
    params(("id" = i64, Path, description = "contact id")),
    responses((status = 200, body = Vec<wire::Conversation>), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn contact_conversations(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<Vec<wire::Conversation>>> {
    visible_contact(&state, &me, id).await?;
    let convs = state.store.contact_conversations(me.user.workspace_id, id).await?;
    let mut out = Vec::new();
    for c in convs.into_iter().filter(|c| me.viewer.can_see(&c.access())) {
        let row = state.store.conversation_row(me.user.id, c).await?;
        out.push(state.with_reply_window(me.user.workspace_id, wire::conversation_from_row(&row)).await);
    }
    Ok(axum::Json(out))
}

/// Messages a blocked contact sent, kept hidden from the inbox for 30 days (admins only),
/// newest first.
#[utoipa::path(
    get, path = "/api/v1/contacts/{id}/hidden-messages", tag = "contacts",
    params(("id" = i64, Path, description = "contact id"), HiddenParams),
    responses(
        (status = 200, body = Vec<wire::Message>),
        (status = 403, description = "not an admin", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn hidden_messages(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Query(params): Query<HiddenParams>,
) -> ApiResult<axum::Json<Vec<wire::Message>>> {
    visible_contact(&state, &me, id).await?;
    if !me.viewer.is_admin() {
        return Err(ApiError::forbidden("only admins see a blocked contact's hidden messages"));
    }
    let list = state.store.list_hidden_messages(me.user.workspace_id, id, page_limit(params.limit, 50, 200)).await?;
    Ok(axum::Json(list.iter().map(wire::Message::from).collect()))
}

/// The contact's identities on each channel (WhatsApp number and profile name, Telegram user
/// and username, Instagram user...), each with its conversation.
#[utoipa::path(
    get, path = "/api/v1/contacts/{id}/identities", tag = "contacts",
    params(("id" = i64, Path, description = "contact id")),
    responses((status = 200, body = Vec<wire::ContactIdentity>), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn contact_identities(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<Vec<wire::ContactIdentity>>> {
    visible_contact(&state, &me, id).await?;
    let list = state.store.contact_identities(me.user.workspace_id, id).await?;
    Ok(axum::Json(list.iter().map(wire::ContactIdentity::from).collect()))
}

/// Merges another contact (`contact_id`) into this one: the same person on several channels.
/// This contact keeps its fields and takes the other's where its own are empty, the union of
/// tags, and `blocked` if either was; the other's identities and conversations move here and it
/// is deleted. The caller must see both.
#[utoipa::path(
    post, path = "/api/v1/contacts/{id}/merge", tag = "contacts",
    params(("id" = i64, Path, description = "the contact that stays")),
    request_body = MergeRequest,
    responses(
        (status = 200, body = wire::Contact),
        (status = 404, body = ErrorBody),
        (status = 422, description = "invalid_merge (a contact into itself)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn merge_contact(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<MergeRequest>,
) -> ApiResult<axum::Json<wire::Contact>> {
    visible_contact(&state, &me, id).await?;
    if req.contact_id == id {
        return Err(ApiError::unprocessable("invalid_merge", "a contact cannot be merged into itself"));
    }
    visible_contact(&state, &me, req.contact_id).await?;
    let written = state.store.merge_contacts(me.user.workspace_id, id, req.contact_id, crate::state::now_ms()).await?;
    state.publish(written.events).await;
    Ok(axum::Json(wire::Contact::from(&written.value)))
}
