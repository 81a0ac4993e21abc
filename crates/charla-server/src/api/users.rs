//! Operators of the workspace.

use crate::api::{require_settings, required_text};
use crate::auth::{CurrentUser, hash_password, verify_password};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::{AppState, now_ms};
use crate::wire;
use axum::extract::State;
use axum::http::StatusCode;
use charla_core::{Flag, Flags, Id, Language, Presence, Role};
use charla_store::{NewUser, StoreError, UserPatch};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(set_presence))
}

pub const MIN_PASSWORD_CHARS: usize = 8;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    /// At least 8 characters.
    pub password: String,
    /// `admin` | `agent` (only an admin may create an admin).
    pub role: String,
    #[serde(default)]
    pub flags: Vec<String>,
    pub display_name: Option<String>,
    /// `en` | `es` | `ru` (default `en`).
    pub language: Option<String>,
}

/// Everything optional; an operator may change their own name, display name, language and
/// password (with `current_password`); the rest needs `manage_settings`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateUser {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub language: Option<String>,
    pub password: Option<String>,
    /// Required when changing one's own password.
    pub current_password: Option<String>,
    pub role: Option<String>,
    pub flags: Option<Vec<String>>,
    pub max_concurrent: Option<i64>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PresenceRequest {
    /// `online` | `away` | `offline`
    pub status: String,
}

pub(crate) fn parse_role(s: &str) -> ApiResult<Role> {
    Role::parse(s).ok_or_else(|| ApiError::unprocessable("invalid_role", "role must be admin or agent"))
}

pub(crate) fn parse_flags(list: &[String]) -> ApiResult<Flags> {
    let mut flags = Vec::with_capacity(list.len());
    for f in list {
        flags.push(
            Flag::parse(f).ok_or_else(|| ApiError::unprocessable("invalid_flag", format!("unknown flag {f:?}")))?,
        );
    }
    Ok(Flags::from_list(&flags))
}

fn parse_language(s: &str) -> ApiResult<Language> {
    Language::parse(s).ok_or_else(|| ApiError::unprocessable("invalid_language", "language must be en, es or ru"))
}

fn check_password(p: &str) -> ApiResult<()> {
    if p.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::unprocessable(
            "password_too_short",
            format!("the password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if p.len() > 1024 {
        return Err(ApiError::unprocessable("password_too_long", "the password is too long"));
    }
    Ok(())
}

fn check_email(e: &str) -> ApiResult<String> {
    let e = e.trim().to_lowercase();
    let valid = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !e.chars().any(char::is_whitespace);
    if valid { Ok(e) } else { Err(ApiError::unprocessable("invalid_email", "not a valid e-mail address")) }
}

/// Everyone in the workspace (assignment needs to list colleagues).
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Vec<wire::User>), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_users(State(state): State<AppState>, me: CurrentUser) -> ApiResult<axum::Json<Vec<wire::User>>> {
    let users = state.store.list_users(me.user.workspace_id).await?;
    Ok(axum::Json(users.iter().map(wire::User::from).collect()))
}

/// Creates an operator (`manage_settings`; only an admin creates admins).
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users",
    request_body = CreateUser,
    responses(
        (status = 201, body = wire::User),
        (status = 403, body = ErrorBody),
        (status = 409, description = "email_taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_user(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(req): Json<CreateUser>,
) -> ApiResult<(StatusCode, axum::Json<wire::User>)> {
    require_settings(&me)?;
    let email = check_email(&req.email)?;
    let name = required_text(&req.name, "name", 200)?;
    let role = parse_role(&req.role)?;
    if role == Role::Admin && !me.viewer.is_admin() {
        return Err(ApiError::forbidden("only an admin may create an admin"));
    }
    let flags = parse_flags(&req.flags)?;
    let language = req.language.as_deref().map(parse_language).transpose()?.unwrap_or(Language::En);
    check_password(&req.password)?;
    let password_hash = hash_password(req.password).await?;
    let user = state
        .store
        .create_user(NewUser {
            workspace_id: me.user.workspace_id,
            email,
            name,
            display_name: req.display_name.map(|d| d.trim().to_string()).unwrap_or_default(),
            password_hash,
            role,
            flags,
            language,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict("email_taken", "a user with this e-mail exists"),
            e => e.into(),
        })?;
    Ok((StatusCode::CREATED, axum::Json(wire::User::from(&user))))
}

/// One operator of the workspace.
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "user id")),
    responses((status = 200, body = wire::User), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_user(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
) -> ApiResult<axum::Json<wire::User>> {
    let user = state.store.get_user(me.user.workspace_id, id).await?;
    Ok(axum::Json(wire::User::from(&user)))
}

/// Changes an operator. Self: name, display_name, language, password (with
/// `current_password`). With `manage_settings`: everything of other users; role changes to
/// or from admin, and any change to an admin, need an admin. Nobody changes their own role,
/// flags or active state.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "user id")),
    request_body = UpdateUser,
    responses(
        (status = 200, body = wire::User),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_user(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<Id>,
    Json(req): Json<UpdateUser>,
) -> ApiResult<axum::Json<wire::User>> {
    let ws = me.user.workspace_id;
    let target = state.store.get_user(ws, id).await?;
    let is_self = target.id == me.user.id;
    let admin_fields =
        req.role.is_some() || req.flags.is_some() || req.max_concurrent.is_some() || req.active.is_some();
    if !is_self {
        require_settings(&me)?;
        if target.role == Role::Admin && !me.viewer.is_admin() {
            return Err(ApiError::forbidden("only an admin may change an admin"));
        }
    } else if req.role.is_some() || req.flags.is_some() || req.active.is_some() {
        return Err(ApiError::forbidden("you cannot change your own role, flags or active state"));
    } else if admin_fields {
        require_settings(&me)?;
    }

    let mut patch = UserPatch::default();
    if let Some(n) = &req.name {
        patch.name = Some(required_text(n, "name", 200)?);
    }
    if let Some(d) = &req.display_name {
        patch.display_name = Some(d.trim().to_string());
    }
    if let Some(l) = &req.language {
        patch.language = Some(parse_language(l)?);
    }
    if let Some(r) = &req.role {
        let role = parse_role(r)?;
        if role == Role::Admin && !me.viewer.is_admin() {
            return Err(ApiError::forbidden("only an admin may make an admin"));
        }
        patch.role = Some(role);
    }
    if let Some(f) = &req.flags {
        patch.flags = Some(parse_flags(f)?);
    }
    if let Some(m) = req.max_concurrent {
        if !(0..=1000).contains(&m) {
            return Err(ApiError::unprocessable("invalid_max_concurrent", "max_concurrent must be 0..1000"));
        }
        patch.max_concurrent = Some(m);
    }
    patch.active = req.active;
    if let Some(p) = req.password {
        check_password(&p)?;
        if is_self {
            let current = req.current_password.unwrap_or_default();
            let hash = state.store.find_user_by_email(&me.user.email).await?.map(|(_, h)| h).unwrap_or_default();
            if !verify_password(current, hash).await {
                return Err(ApiError::unprocessable(
                    "invalid_current_password",
                    "current_password is required and must be right to change your password",
                ));
            }
        }
        patch.password_hash = Some(hash_password(p).await?);
    }
    let written = state.store.update_user(ws, id, patch).await?;
    state.publish(written.events).await;
    Ok(axum::Json(wire::User::from(&written.value)))
}

/// Sets the caller's presence.
#[utoipa::path(
    put, path = "/api/v1/users/me/presence", tag = "users",
    request_body = PresenceRequest,
    responses((status = 200, body = wire::User), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn set_presence(
    State(state): State<AppState>,
    me: CurrentUser,
    Json(req): Json<PresenceRequest>,
) -> ApiResult<axum::Json<wire::User>> {
    let presence = Presence::parse(&req.status)
        .ok_or_else(|| ApiError::unprocessable("invalid_presence", "status must be online, away or offline"))?;
    let written = state.store.touch_presence(me.user.id, Some(presence), now_ms()).await?;
    state.publish(written.events).await;
    Ok(axum::Json(wire::User::from(&written.value)))
}
