//! Login, logout and the current user.

use crate::auth::{CurrentUser, SESSION_COOKIE, hash_password, issue_session, verify_password};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::state::AppState;
use crate::wire;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(logout)).routes(routes!(me))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`; the same session is also set as a cookie.
    pub token: String,
    pub user: wire::User,
}

/// Failed logins allowed per e-mail address within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 10;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Failed login attempts per (server secret, e-mail), in memory. Keyed by the secret too so
/// that several servers in one process (tests) do not share counters.
type FailureLog = Mutex<HashMap<(u64, String), VecDeque<Instant>>>;

fn failures() -> &'static FailureLog {
    static FAILURES: OnceLock<FailureLog> = OnceLock::new();
    FAILURES.get_or_init(|| Mutex::new(HashMap::new()))
}

fn limiter_key(state: &AppState, email: &str) -> (u64, String) {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    state.secret.hash(&mut h);
    (h.finish(), email.to_string())
}

fn recent_failures(key: &(u64, String), now: Instant) -> usize {
    let mut map = failures().lock().unwrap_or_else(|p| p.into_inner());
    match map.get_mut(key) {
        Some(q) => {
            while q.front().is_some_and(|t| now.duration_since(*t) > FAILURE_WINDOW) {
                q.pop_front();
            }
            let n = q.len();
            if n == 0 {
                map.remove(key);
            }
            n
        }
        None => 0,
    }
}

fn record_failure(key: (u64, String), now: Instant) {
    let mut map = failures().lock().unwrap_or_else(|p| p.into_inner());
    // Bound the memory an attacker trying many addresses can make us hold.
    if map.len() > 100_000 {
        map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= FAILURE_WINDOW));
    }
    let q = map.entry(key).or_default();
    q.push_back(now);
    while q.len() > MAX_FAILURES {
        q.pop_front();
    }
}

fn clear_failures(key: &(u64, String)) {
    failures().lock().unwrap_or_else(|p| p.into_inner()).remove(key);
}

/// A hash to verify against when the e-mail is unknown, so both cases take as long.
async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async { hash_password("charla-dummy-password".to_string()).await.unwrap_or_default() })
        .await
        .clone()
}

fn invalid_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "wrong e-mail or password")
}

fn session_cookie(state: &AppState, token: &str, max_age_secs: u64) -> Option<HeaderValue> {
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

/// Opens a session.
///
/// Answers the token and sets it as the `charla_session` cookie (HttpOnly, SameSite=Lax).
/// After 10 failed attempts for one e-mail within 15 minutes, further attempts answer 429
/// until the window passes.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "invalid_credentials", body = ErrorBody),
        (status = 429, description = "too_many_attempts", body = ErrorBody),
    )
)]
pub async fn login(State(state): State<AppState>, Json(req): Json<LoginRequest>) -> ApiResult<Response> {
    let email = req.email.trim().to_lowercase();
    let key = limiter_key(&state, &email);
    let now = Instant::now();
    if recent_failures(&key, now) >= MAX_FAILURES {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many failed attempts; try again in 15 minutes",
        ));
    }
    let found = if email.is_empty() { None } else { state.store.find_user_by_email(&email).await? };
    let user = match found {
        Some((user, hash)) => {
            let ok = verify_password(req.password, hash).await;
            (ok && user.active).then_some(user)
        }
        None => {
            let _ = verify_password(req.password, dummy_hash().await).await;
            None
        }
    };
    let Some(user) = user else {
        record_failure(key, now);
        return Err(invalid_credentials());
    };
    clear_failures(&key);
    let token = issue_session(&state, &user)?;
    let mut resp = axum::Json(LoginResponse { token: token.clone(), user: wire::User::from(&user) }).into_response();
    if let Some(cookie) = session_cookie(&state, &token, state.config.session_ttl.as_secs()) {
        resp.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(resp)
}

/// Ends the cookie session (clears the cookie). Bearer tokens stay valid until they expire.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn logout(State(state): State<AppState>, _me: CurrentUser) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Some(cookie) = session_cookie(&state, "", 0) {
        resp.headers_mut().append(header::SET_COOKIE, cookie);
    }
    resp
}

/// The current user.
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = wire::User), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn me(me: CurrentUser) -> axum::Json<wire::User> {
    axum::Json(wire::User::from(&me.user))
}
