//! What the server shows to the public on its own pages: the widget's files, the chat link
//! page (the chat full-screen) and a channel's ratings page.

use super::api::rating_face;
use super::settings;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use charla_core::{ChannelKind, Id, Rating};
use charla_store::RatingCounts;
use rust_embed::RustEmbed;

/// The widget build (`web/` → `web/dist-widget`): `widget.js` and `widget/assets/*`.
#[derive(RustEmbed)]
#[folder = "../../web/dist-widget"]
#[allow_missing = true]
struct WidgetFiles;

/// Ratings shown on the public page.
const LAST_FEEDBACKS: i64 = 20;

/// Escapes text for HTML (element content and quoted attributes).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn file(path: &str, cache: &'static str, headers: &HeaderMap) -> Response {
    let Some(f) = WidgetFiles::get(path) else {
        return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "not found")
            .into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&f.metadata.sha256_hash()[..16]));
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, "text/javascript; charset=utf-8")
        .header(header::CACHE_CONTROL, cache)
        .header(header::ETAG, &etag)
        .header(header::VARY, "Accept-Encoding")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        // Module scripts are fetched with CORS from the company's pages.
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .header("cross-origin-resource-policy", "cross-origin");
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains(&etag)) {
        return builder.status(StatusCode::NOT_MODIFIED).body(Body::empty()).unwrap_or_default();
    }
    let accepts =
        |enc: &str| headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains(enc));
    for (enc, ext) in [("br", "br"), ("gzip", "gz")] {
        if accepts(enc)
            && let Some(z) = WidgetFiles::get(&format!("{path}.{ext}"))
        {
            return builder.header(header::CONTENT_ENCODING, enc).body(Body::from(z.data)).unwrap_or_default();
        }
    }
    builder.body(Body::from(f.data)).unwrap_or_default()
}

/// `GET /widget.js?channel=N`: the loader (short cache: it names the hashed chat file).
pub async fn widget_js(headers: HeaderMap) -> Response {
    file("widget.js", "public, max-age=300", &headers)
}

/// `GET /widget/assets/{file}`: hashed files, cached for a year.
pub async fn widget_asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    if name.contains("..") || name.contains('/') || !name.ends_with(".js") {
        return ApiError::not_found().into_response();
    }
    file(&format!("widget/assets/{name}"), "public, max-age=31536000, immutable", &headers)
}

async fn website_channel(state: &AppState, id: Id) -> Option<charla_core::Channel> {
    state.store.get_channel_by_id(id).await.ok().filter(|c| c.kind == ChannelKind::Website && c.active)
}

fn not_found_page() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html("<!doctype html><meta charset=utf-8><title>Not found</title><p>Not found.".to_string()),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
pub struct ChatQuery {}

/// `GET /chat/{channel_id}`: the chat link, the widget full-screen.
pub async fn chat_page(State(state): State<AppState>, Path(id): Path<Id>, Query(_q): Query<ChatQuery>) -> Response {
    let Some(ch) = website_channel(&state, id).await else { return not_found_page() };
    let opts = settings::options(&ch);
    let html = format!(
        "<!doctype html><html><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width,initial-scale=1\">\
         <title>{name}</title><meta name=referrer content=same-origin>\
         <style>html,body{{margin:0;height:100%;background:{color}}}</style>\
         <script type=module src=\"/widget.js?channel={id}&amp;mode=page\"></script></head>\
         <body></body></html>",
        name = escape(&ch.name),
        color = escape(&opts.header_color),
    );
    let mut r = Html(html).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn pct(n: i64, total: i64) -> String {
    if total == 0 { "0.0".into() } else { format!("{:.1}", n as f64 * 100.0 / total as f64) }
}

fn shares(c: &RatingCounts) -> String {
    let t = c.total();
    format!(
        "<span class=s>{} {}%</span><span class=n>{} {}%</span><span class=d>{} {}%</span>",
        rating_face(Rating::Satisfied),
        pct(c.satisfied, t),
        rating_face(Rating::Neutral),
        pct(c.neutral, t),
        rating_face(Rating::Dissatisfied),
        pct(c.dissatisfied, t)
    )
}

/// `GET /ratings/{channel_id}`: the share of each rating, per operator, and the last
/// feedbacks (never their comments). 404 unless the channel makes it public.
pub async fn ratings_page(State(state): State<AppState>, Path(id): Path<Id>) -> Response {
    let Some(ch) = website_channel(&state, id).await else { return not_found_page() };
    if !settings::options(&ch).ratings_page_public {
        return not_found_page();
    }
    let summary = match state.store.channel_ratings(ch.workspace_id, ch.id, LAST_FEEDBACKS).await {
        Ok(s) => s,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut team = String::new();
    for op in &summary.operators {
        team.push_str(&format!(
            "<li><b>{}</b> <small>{} ratings</small><div class=row>{}</div></li>",
            escape(&op.name),
            op.counts.total(),
            shares(&op.counts)
        ));
    }
    let last: String = summary
        .last
        .iter()
        .map(|(r, _)| format!("<span class=\"f {}\" title=\"{}\">{}</span>", r.as_str(), r.as_str(), rating_face(*r)))
        .collect();
    let html = format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width,initial-scale=1\"><title>{name} · ratings</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f6f8;color:#222}}\
         main{{max-width:760px;margin:0 auto;padding:24px}}h1{{font-size:1.5rem}}\
         .row{{display:flex;gap:12px;flex-wrap:wrap}}.row span{{padding:10px 14px;border-radius:8px;color:#fff;font-weight:600}}\
         .big span{{font-size:1.4rem;flex:1;text-align:center}}.s{{background:#28a745}}.n{{background:#e0a800}}.d{{background:#dc3545}}\
         ul{{list-style:none;padding:0}}li{{background:#fff;border-radius:8px;padding:12px;margin:8px 0}}\
         .f{{font-size:1.6rem;margin:4px}}</style></head><body><main>\
         <h1>{name}</h1><h2>Statistics</h2><p>{total} ratings</p><div class=\"row big\" data-testid=shares>{all}</div>\
         <h2>The team</h2><ul data-testid=team>{team}</ul>\
         <h2>The {n} last feedbacks</h2><div data-testid=last>{last}</div></main></body></html>",
        name = escape(&ch.name),
        total = summary.counts.total(),
        all = shares(&summary.counts),
        n = summary.last.len(),
    );
    let mut r = Html(html).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape("<img src=x onerror=\"a('b')\">&"),
            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;"
        );
    }
}
