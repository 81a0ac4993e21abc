//! Sessions and the current user.
//!
//! A session is a signed token (HS256 with the server secret) naming the user; it arrives as
//! `Authorization: Bearer <token>`, as the `charla_session` cookie (operator app), or as
//! `?token=` on the WebSocket URL. Every request re-reads the user, so a deactivated user or a
//! changed role takes effect at once.

use crate::error::ApiError;
use crate::state::{AppState, now_ms};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use charla_core::access::Viewer;
use charla_core::{Id, User};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub const SESSION_COOKIE: &str = "charla_session";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: Id,
    /// Workspace id.
    pub ws: Id,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Purpose: "session".
    pub typ: String,
    /// Embedded mode: the session only sees conversations of these contacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<Id>>,
}

pub fn issue_session(state: &AppState, user: &User) -> Result<String, ApiError> {
    issue_limited_session(state, user, None, state.config.session_ttl.as_secs() as i64)
}

/// A session limited to some contacts (embedded mode), valid `ttl_secs`.
pub fn issue_limited_session(
    state: &AppState,
    user: &User,
    contacts: Option<Vec<Id>>,
    ttl_secs: i64,
) -> Result<String, ApiError> {
    let claims = Claims {
        sub: user.id,
        ws: user.workspace_id,
        exp: now_ms() / 1000 + ttl_secs,
        typ: "session".into(),
        contacts,
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&state.secret))
        .map_err(ApiError::internal)
}

pub fn verify_session(state: &AppState, token: &str) -> Option<Claims> {
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_exp = true;
    let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&state.secret), &v).ok()?;
    (data.claims.typ == "session").then_some(data.claims)
}

/// The session token of a request, from the header, the cookie or `?token=`.
pub fn token_from_parts(parts: &Parts) -> Option<String> {
    if let Some(h) = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = h.strip_prefix("Bearer ")
    {
        return Some(t.trim().to_string());
    }
    for cookie in parts.headers.get_all(axum::http::header::COOKIE) {
        if let Ok(s) = cookie.to_str() {
            for kv in s.split(';') {
                if let Some((k, v)) = kv.trim().split_once('=')
                    && k == SESSION_COOKIE
                {
                    return Some(v.to_string());
                }
            }
        }
    }
    parts.uri.query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token=").map(|t| t.to_string())))
}

/// The authenticated operator. Extracting it answers 401 when there is no valid session.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub viewer: Viewer,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = token_from_parts(parts).ok_or_else(ApiError::unauthorized)?;
        let claims = verify_session(state, &token).ok_or_else(ApiError::unauthorized)?;
        // One statement: every request waits for it.
        let (user, viewer) = match state.store.session_user(claims.ws, claims.sub).await {
            Ok(found) => found,
            Err(charla_store::StoreError::NotFound) => return Err(ApiError::unauthorized()),
            Err(e) => return Err(e.into()),
        };
        // Activity keeps presence alive; the store writes at most once a minute per user.
        let now = now_ms();
        if user.last_activity_at.is_none_or(|t| now - t > 60_000)
            && let Ok(w) = state.store.touch_presence(user.id, None, now).await
        {
            state.publish(w.events).await;
        }
        let mut viewer = viewer;
        viewer.allowed_contact_ids = claims.contacts;
        Ok(CurrentUser { user, viewer })
    }
}

/// Argon2id hash, computed off the async threads.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

/// Checks a password against its hash, off the async threads.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        PasswordHash::new(&hash)
            .map(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// Adds the bearer-token security scheme to the OpenAPI document.
pub struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
