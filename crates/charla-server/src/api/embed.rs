//! Embedded mode: a host CRM opens Charla in a frame for one of its users.
//!
//! The CRM's back end signs a short-lived token (HS256 JWT) with the workspace's embed secret,
//! naming the user by e-mail and, optionally, the contacts they may see, the flags and the
//! channels their CRM rights give them. `POST /api/v1/auth/embedded` turns it into a Charla
//! session: the user is created on first use with role agent; when the token lists contacts,
//! the session sees only conversations of those contacts and nothing else.

use crate::api::auth::LoginResponse;
use crate::auth::{CurrentUser, hash_password, issue_limited_session};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::state::AppState;
use crate::wire;
use axum::extract::State;
use axum::http::StatusCode;
use charla_core::{Flag, Flags, Id, Language, Role};
use charla_store::{NewUser, StoreError, UserPatch};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(embedded_login)).routes(routes!(rotate_embed_secret))
}

/// Longest lifetime accepted for an embed token, and of the session it opens.
const MAX_EMBED_TOKEN_SECS: i64 = 3600;
const EMBED_SESSION_SECS: i64 = 12 * 3600;

fn secret_key(workspace_id: Id) -> String {
    format!("embed_secret:{workspace_id}")
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EmbeddedLoginRequest {
    pub workspace_id: Id,
    /// HS256 JWT signed with the workspace's embed secret; claims: `email` (required), `exp`
    /// (required, at most one hour ahead), `name`, `language`, `contact_ids` (limits the
    /// session to those contacts), `flags` and `channel_ids` (rights from the host CRM).
    pub token: String,
}

#[derive(Debug, Deserialize)]
struct EmbedClaims {
    email: String,
    exp: i64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    contact_ids: Option<Vec<Id>>,
    #[serde(default)]
    flags: Option<Vec<String>>,
    #[serde(default)]
    channel_ids: Option<Vec<Id>>,
}

fn invalid_token(why: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_embed_token", format!("invalid embed token: {why}"))
}

/// Opens an embedded session from a token signed by the host CRM.
#[utoipa::path(
    post, path = "/api/v1/auth/embedded", tag = "auth",
    request_body = EmbeddedLoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "invalid_embed_token", body = ErrorBody),
    )
)]
pub async fn embedded_login(
    State(state): State<AppState>,
    Json(req): Json<EmbeddedLoginRequest>,
) -> ApiResult<axum::Json<LoginResponse>> {
    let secret = state
        .store
        .get_setting(&secret_key(req.workspace_id))
        .await?
        .ok_or_else(|| invalid_token("embedding is not enabled for this workspace"))?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp"]);
    let claims =
        jsonwebtoken::decode::<EmbedClaims>(&req.token, &DecodingKey::from_secret(secret.as_bytes()), &validation)
            .map_err(|e| invalid_token(&e.to_string()))?
            .claims;
    let now = crate::state::now_ms() / 1000;
    if claims.exp > now + MAX_EMBED_TOKEN_SECS + 60 {
        return Err(invalid_token("expiry is more than one hour ahead"));
    }
    let email = claims.email.trim().to_lowercase();
    if email.is_empty() || !email.contains('@') {
        return Err(invalid_token("email claim missing"));
    }
    let flags = match &claims.flags {
        None => None,
        Some(list) => Some(Flags::from_list(
            &list
                .iter()
                .map(|f| Flag::parse(f).ok_or_else(|| invalid_token("unknown flag")))
                .collect::<ApiResult<Vec<_>>>()?,
        )),
    };
    let language = claims.language.as_deref().and_then(Language::parse);

    let user = match state.store.find_user_by_email(&email).await? {
        Some((u, _)) if u.workspace_id != req.workspace_id || !u.active => {
            return Err(invalid_token("this user cannot be embedded"));
        }
        Some((u, _)) => u,
        None => {
            // Created on first use, as an agent with a password nobody knows.
            let mut random = [0u8; 32];
            rand::rng().fill_bytes(&mut random);
            let created = state
                .store
                .create_user(NewUser {
                    workspace_id: req.workspace_id,
                    email: email.clone(),
                    name: claims.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| email.clone()),
                    display_name: String::new(),
                    password_hash: hash_password(hex::encode(random)).await?,
                    role: Role::Agent,
                    flags: flags.unwrap_or_default(),
                    language: language.unwrap_or(Language::En),
                })
                .await;
            match created {
                Ok(u) => u,
                // Two first uses at once: the other one created it.
                Err(StoreError::Conflict(_)) => state
                    .store
                    .find_user_by_email(&email)
                    .await?
                    .map(|(u, _)| u)
                    .ok_or_else(|| invalid_token("user could not be created"))?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    // The host CRM's rights win over what was set before (agents only; admins keep theirs).
    let mut user = user;
    if user.role == Role::Agent
        && (flags.is_some_and(|f| f != user.flags) || language.is_some_and(|l| l != user.language))
    {
        let written = state
            .store
            .update_user(req.workspace_id, user.id, UserPatch { flags, language, ..UserPatch::default() })
            .await?;
        state.publish(written.events).await;
        user = written.value;
    }
    for channel_id in claims.channel_ids.unwrap_or_default() {
        let channel = state.store.get_channel(req.workspace_id, channel_id).await.map_err(|e| match e {
            StoreError::NotFound => invalid_token("unknown channel"),
            e => e.into(),
        })?;
        if !channel.member_ids.contains(&user.id) {
            let mut members = channel.member_ids.clone();
            members.push(user.id);
            let written = state.store.set_channel_members(req.workspace_id, channel_id, &members).await?;
            state.publish(written.events).await;
        }
    }
    let token = issue_limited_session(&state, &user, claims.contact_ids, EMBED_SESSION_SECS)?;
    Ok(axum::Json(LoginResponse { token, user: wire::User::from(&user) }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EmbedSecret {
    /// Give it to the host CRM's back end; it signs embed tokens with it. Shown only here.
    pub secret: String,
}

/// Creates or replaces the workspace's embed secret (admins only); earlier tokens stop working.
#[utoipa::path(
    post, path = "/api/v1/settings/embed-secret", tag = "settings",
    responses((status = 200, body = EmbedSecret), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn rotate_embed_secret(State(state): State<AppState>, me: CurrentUser) -> ApiResult<axum::Json<EmbedSecret>> {
    if !me.viewer.is_admin() || me.viewer.allowed_contact_ids.is_some() {
        return Err(ApiError::forbidden("only admins manage embedding"));
    }
    let mut random = [0u8; 32];
    rand::rng().fill_bytes(&mut random);
    let secret = hex::encode(random);
    state.store.put_setting(&secret_key(me.user.workspace_id), &secret).await?;
    Ok(axum::Json(EmbedSecret { secret }))
}
