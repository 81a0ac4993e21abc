//! The REST API under `/api/v1`: one file per resource.
//!
//! Authorization policy, the same in every handler:
//! - no valid session: 401 `unauthorized` (checked before anything else, the body included);
//! - an object the caller may not see (another workspace's, a conversation outside their
//!   access, another user's personal canned response, a channel they are not a member of):
//!   404 `not_found`, as if it did not exist;
//! - an object the caller may see but an action they lack the right for (settings writes
//!   without `manage_settings`, reassigning someone else's conversation, deleting without
//!   `delete_conversations`): 403 `forbidden`.

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use charla_core::{Conversation, Id};
use utoipa_axum::router::OpenApiRouter;

pub mod attachments;
pub mod auth;
pub mod canned_responses;
pub mod channels;
pub mod close_reasons;
pub mod contacts;
pub mod conversations;
pub mod embed;
pub mod health;
pub mod messages;
pub mod notifications;
pub mod reports;
pub mod tags;
pub mod teams;
pub mod templates;
pub mod users;

/// Every `/api/v1` route, with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(embed::router())
        .merge(users::router())
        .merge(teams::router())
        .merge(channels::router())
        .merge(contacts::router())
        .merge(tags::router())
        .merge(close_reasons::router())
        .merge(canned_responses::router())
        .merge(conversations::router())
        .merge(messages::router())
        .merge(attachments::router())
        .merge(notifications::router())
        .merge(templates::router())
        .merge(reports::router())
}

/// Settings writes need `manage_settings` (admins have it).
pub(crate) fn require_settings(me: &CurrentUser) -> ApiResult<()> {
    if me.viewer.can_manage_settings() {
        Ok(())
    } else {
        Err(ApiError::forbidden("this needs the manage_settings right"))
    }
}

/// The conversation when the caller may see it, else 404.
pub(crate) async fn visible_conversation(state: &AppState, me: &CurrentUser, id: Id) -> ApiResult<Conversation> {
    let conv = state.store.get_conversation(me.user.workspace_id, id).await?;
    if me.viewer.can_see(&conv.access()) { Ok(conv) } else { Err(ApiError::not_found()) }
}

/// A page size from the query: default when absent, clamped to `1..=max`.
pub(crate) fn page_limit(limit: Option<i64>, default: i64, max: i64) -> i64 {
    limit.unwrap_or(default).clamp(1, max)
}

/// A required text field: trimmed, non-empty, at most `max` characters.
pub(crate) fn required_text(value: &str, field: &str, max: usize) -> ApiResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::unprocessable(&format!("invalid_{field}"), format!("{field} must not be empty")));
    }
    if v.chars().count() > max {
        return Err(ApiError::unprocessable(
            &format!("invalid_{field}"),
            format!("{field} is too long (at most {max} characters)"),
        ));
    }
    Ok(v.to_string())
}

/// Deserializes a field that distinguishes "absent" (None) from "null" (Some(None)).
pub(crate) fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Option::<T>::deserialize(d).map(Some)
}

/// An empty text field means "unset" for nullable settings.
pub(crate) fn blank_to_none(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}
