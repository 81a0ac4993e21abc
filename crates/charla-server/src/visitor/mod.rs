//! The website channel: the live chat widget's server side.
//!
//! - `GET /widget.js?channel=N`: the widget's loader (an ES module: the one line a company
//!   pastes), and `/widget/assets/*`: the chat it loads when the visitor opens it.
//! - `/widget/{channel_id}/...`: the visitor API ([`api`]) and WebSocket ([`socket`]). Public
//!   routes: a visitor is named by a signed token (HMAC of the server secret) kept in the
//!   widget's localStorage; every request is rate-limited per client address and per visitor,
//!   and a page whose `Origin` is not among the channel's allowed origins is refused (403) and
//!   gets no CORS headers.
//! - `GET /chat/{channel_id}`: the chat link, a page where the chat opens full-screen.
//! - `GET /ratings/{channel_id}`: the channel's public ratings page, when the channel says so.
//! - `/api/v1/livechat/...`, `/api/v1/conversations/{id}/visitor...`: what operators do with
//!   website channels ([`operator`]).
//!
//! A visitor's conversation is the conversation of the identity (channel, visitor id): what they
//! write is ingested like any inbound message (routing, notifications, the operator's inbox),
//! deduplicated on the widget's `client_msg_id`; what operators answer reaches them through the
//! bus on their socket. They never see notes or event lines, nor anything of another visitor.

pub mod api;
pub mod geoip;
pub mod limits;
pub mod mail;
pub mod operator;
pub mod pages;
pub mod router;
pub mod rules;
pub mod settings;
pub mod socket;

use crate::config::Config;
use crate::error::ApiError;
use crate::state::{AppState, now_ms};
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use charla_core::{Channel, ChannelKind, Id};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;

/// What the visitor side keeps for the life of the server.
pub struct VisitorState {
    pub geoip: Option<geoip::GeoIp>,
    pub per_ip: limits::Buckets<IpAddr>,
    pub per_visitor: limits::Buckets<String>,
    /// Transcripts by e-mail: a few an hour per visitor.
    pub per_visitor_mail: limits::Buckets<String>,
    pub mailer: Option<mail::Mailer>,
    /// The widget sockets of this node, by visitor.
    pub router: router::VisitorRouter,
}

impl VisitorState {
    pub fn new(config: &Config) -> anyhow::Result<VisitorState> {
        let geoip = match &config.geoip_db {
            Some(path) => Some(geoip::GeoIp::open(path)?),
            None => None,
        };
        let mailer = match config.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
            Some(url) => Some(mail::Mailer::new(url, &config.smtp_from)?),
            None => None,
        };
        Ok(VisitorState {
            geoip,
            per_ip: limits::Buckets::new(config.visitor_burst_per_ip, config.visitor_rate_per_ip),
            per_visitor: limits::Buckets::new(config.visitor_burst_per_visitor, config.visitor_rate_per_visitor),
            per_visitor_mail: limits::Buckets::new(3, 3.0 / 3600.0),
            mailer,
            router: Default::default(),
        })
    }
}

/// The public routes (widget files, visitor API and socket, chat link and ratings pages).
pub fn router(state: AppState) -> Router<AppState> {
    let visitor_api = Router::new()
        .route("/widget/{channel_id}/visit", post(api::visit))
        .route("/widget/{channel_id}/messages", get(api::messages).post(api::send))
        .route("/widget/{channel_id}/attachments", post(api::upload))
        .route("/widget/{channel_id}/files/{attachment_id}", get(api::download))
        .route("/widget/{channel_id}/receipts", post(api::receipt))
        .route("/widget/{channel_id}/email", post(api::email))
        .route("/widget/{channel_id}/end", post(api::end))
        .route("/widget/{channel_id}/rating", post(api::rate))
        .route("/widget/{channel_id}/transcript", post(api::transcript))
        .route("/widget/{channel_id}/ws", get(socket::connect))
        .layer(axum::extract::DefaultBodyLimit::max(state.config.visitor_max_upload_bytes + 64 * 1024))
        .layer(axum::middleware::from_fn_with_state(state, guard));
    Router::new()
        .merge(visitor_api)
        .route("/widget.js", get(pages::widget_js))
        .route("/widget/assets/{file}", get(pages::widget_asset))
        .route("/chat/{channel_id}", get(pages::chat_page))
        .route("/ratings/{channel_id}", get(pages::ratings_page))
}

/// The documented `/api/v1` routes operators use.
pub fn api_router() -> OpenApiRouter<AppState> {
    operator::router()
}

// ---------------------------------------------------------------- visitor identity

type HmacSha256 = Hmac<Sha256>;

fn mac(state: &AppState, what: &str) -> String {
    let Ok(mut m) = HmacSha256::new_from_slice(&state.secret) else { return String::new() };
    m.update(what.as_bytes());
    hex::encode(&m.finalize().into_bytes()[..16])
}

/// A new visitor id: `v_` and 24 hex characters.
pub fn new_visitor_id() -> String {
    let bytes: [u8; 12] = rand::random();
    format!("v_{}", hex::encode(bytes))
}

fn valid_visitor_id(id: &str) -> bool {
    id.len() == 26 && id.starts_with("v_") && id[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The token naming a visitor of a channel: `<visitor id>.<signature>`.
pub fn visitor_token(state: &AppState, channel_id: Id, visitor_id: &str) -> String {
    format!("{visitor_id}.{}", mac(state, &format!("visitor|{channel_id}|{visitor_id}")))
}

/// The visitor id a token names, when it was signed by this server for this channel.
pub fn verify_token(state: &AppState, channel_id: Id, token: &str) -> Option<String> {
    let (id, sig) = token.trim().split_once('.')?;
    if !valid_visitor_id(id) {
        return None;
    }
    let want = mac(state, &format!("visitor|{channel_id}|{id}"));
    // Constant-time enough: both are fixed-length hex of a MAC.
    let same = want.len() == sig.len() && want.bytes().zip(sig.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    same.then(|| id.to_string())
}

/// The signature of a file link given to one visitor.
pub fn file_signature(state: &AppState, channel_id: Id, visitor_id: &str, attachment_id: Id) -> String {
    mac(state, &format!("file|{channel_id}|{visitor_id}|{attachment_id}"))
}

// ---------------------------------------------------------------- the guard

/// The website channel a visitor request is for (put in the request by [`guard`]).
#[derive(Clone)]
pub struct WidgetChannel(pub Arc<Channel>);

/// The client's address (behind a trusted proxy: the last `X-Forwarded-For` entry).
pub fn client_ip(state: &AppState, headers: &HeaderMap, connect: Option<SocketAddr>) -> IpAddr {
    if state.config.trust_proxy
        && let Some(ip) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back()
    {
        return ip;
    }
    connect.map(|a| a.ip()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Whether a page of `origin` may use the channel's widget: the allowed origins (any when the
/// list is empty), and always this server's own pages (the chat link).
pub fn origin_allowed(channel: &Channel, origin: &str) -> bool {
    let opts = settings::options(channel);
    if opts.allowed_origins.is_empty() {
        return true;
    }
    let Some(origin) = settings::normalize_origin(origin) else { return false };
    let own = settings::base_url(channel).and_then(|b| settings::normalize_origin(&b));
    opts.allowed_origins.contains(&origin) || own.is_some_and(|o| o == origin)
}

fn rate_limited(wait_ms: i64) -> Response {
    let mut r =
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests, slow down").into_response();
    let secs = (wait_ms + 999) / 1000;
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn cors(resp: &mut Response, origin: Option<&HeaderValue>) {
    if let Some(o) = origin {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Retry-After"));
    }
}

/// Every visitor request: the channel must be an active website channel, the page's origin
/// allowed, the client under its rate limit. Answers CORS preflights.
async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let channel_id: Option<Id> = req.uri().path().split('/').nth(2).and_then(|s| s.parse().ok());
    let channel = match channel_id {
        Some(id) => match state.store.get_channel_by_id(id).await {
            Ok(c) if c.kind == ChannelKind::Website && c.active => c,
            Ok(_) | Err(charla_store::StoreError::NotFound) => return ApiError::not_found().into_response(),
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => return ApiError::not_found().into_response(),
    };
    let origin = req.headers().get(header::ORIGIN).cloned();
    if let Some(o) = &origin
        && !origin_allowed(&channel, o.to_str().unwrap_or(""))
    {
        return ApiError::forbidden("this page's origin may not use this chat").into_response();
    }
    if req.method() == Method::OPTIONS {
        let mut resp = StatusCode::NO_CONTENT.into_response();
        cors(&mut resp, origin.as_ref());
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization, content-type"));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        return resp;
    }
    let connect = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let ip = client_ip(&state, req.headers(), connect);
    if let Err(wait) = state.visitor.per_ip.take(&ip, now_ms()) {
        let mut resp = rate_limited(wait);
        cors(&mut resp, origin.as_ref());
        return resp;
    }
    req.extensions_mut().insert(WidgetChannel(Arc::new(channel)));
    req.extensions_mut().insert(ClientIp(ip));
    let mut resp = next.run(req).await;
    cors(&mut resp, origin.as_ref());
    resp
}

/// The client's address as the guard found it.
#[derive(Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// A visitor request with a valid token (header `Authorization: Bearer`, or `?token=` for the
/// socket), under the visitor's rate limit.
pub struct VisitorAuth {
    pub channel: Arc<Channel>,
    pub visitor_id: String,
    pub ip: IpAddr,
}

impl axum::extract::FromRequestParts<AppState> for VisitorAuth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Response> {
        let Some(WidgetChannel(channel)) = parts.extensions.get::<WidgetChannel>().cloned() else {
            return Err(ApiError::not_found().into_response());
        };
        let ip = parts.extensions.get::<ClientIp>().map(|c| c.0).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string)
            .or_else(|| {
                parts.uri.query().and_then(|q| {
                    q.split('&').find_map(|kv| kv.strip_prefix("token=").map(|t| t.replace("%2E", ".").to_string()))
                })
            });
        let visitor_id = token
            .and_then(|t| verify_token(state, channel.id, &t))
            .ok_or_else(|| ApiError::unauthorized().into_response())?;
        if let Err(wait) = state.visitor.per_visitor.take(&visitor_id, now_ms()) {
            return Err(rate_limited(wait));
        }
        Ok(VisitorAuth { channel, visitor_id, ip })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitor_ids() {
        let id = new_visitor_id();
        assert!(valid_visitor_id(&id), "{id}");
        assert!(!valid_visitor_id("v_123"));
        assert!(!valid_visitor_id("x_0123456789abcdef01234567"));
    }
}
