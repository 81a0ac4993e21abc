//! The operator web app (`web/`, built by Vite into `web/dist`), served at `/`.
//!
//! Release builds embed `web/dist` in the binary; debug builds read it from disk (rust-embed),
//! so `npm run build` is enough to see a change. `build.rs` runs the web build when the web
//! sources changed.
//!
//! Routing: `/api/...` and `/hooks/...` never reach the app (their unknown paths keep the JSON
//! 404). Other GET/HEAD paths serve the file of that name, or `index.html` (the app's own
//! router reads the path) unless the path names a missing file (`/assets/old-1234.js`, a
//! `.png`...), which is a plain 404. Hashed assets (`/assets/...`) are cached for a year;
//! `index.html` is revalidated every time (ETag). Vite writes `.br` and `.gz` next to the
//! larger files; they are sent to clients that accept them.

use crate::error::ApiError;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::{EmbeddedFile, RustEmbed};

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Assets;

/// Shown when the binary was built without the web app (the web build did not run).
const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Charla</title>\
<p style=\"font:16px system-ui;margin:3em\">The Charla server is running, but this binary was \
built without the web app. Build it with <code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code> \
(Node.js 20+), then rebuild the server.</p>";

/// Hashed file names never change content: cache them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The router's fallback: the web app for GET/HEAD outside `/api` and `/hooks`, else the JSON 404.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let reserved = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if reserved("/api") || reserved("/hooks") || (method != Method::GET && method != Method::HEAD) {
        return ApiError::not_found().into_response();
    }
    let mut resp = serve(path.trim_start_matches('/'), &headers);
    if method == Method::HEAD {
        *resp.body_mut() = Body::empty();
    }
    resp
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    if !path.is_empty() && !path.ends_with('/') && !path.contains("..") {
        if let Some(file) = Assets::get(path) {
            let cache = if path.starts_with("assets/") { IMMUTABLE } else { "no-cache" };
            return file_response(path, file, cache, headers);
        }
        // A missing file (it has an extension) is a 404; any other path is a page of the app.
        let last = path.rsplit('/').next().unwrap_or(path);
        if path.starts_with("assets/") || last.contains('.') {
            return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "not found")
                .into_response();
        }
    }
    match Assets::get("index.html") {
        Some(file) => file_response("index.html", file, "no-cache", headers),
        None => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")],
            NOT_BUILT,
        )
            .into_response(),
    }
}

fn file_response(path: &str, file: EmbeddedFile, cache: &'static str, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let mut out = Response::builder().header(header::CACHE_CONTROL, cache).header(header::ETAG, &etag);
    if let Ok(v) = HeaderValue::from_str(content_type(path)) {
        out = out.header(header::CONTENT_TYPE, v);
    }
    out = out.header(header::X_CONTENT_TYPE_OPTIONS, "nosniff").header(header::VARY, "Accept-Encoding");
    if path == "index.html" {
        out = out.header(header::REFERRER_POLICY, "same-origin");
    }
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if not_modified {
        return out.status(StatusCode::NOT_MODIFIED).body(Body::empty()).unwrap_or_default();
    }
    let accepts = |enc: &str| {
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.split(';').next().is_some_and(|e| e.trim() == enc)))
    };
    for (enc, ext) in [("br", "br"), ("gzip", "gz")] {
        if accepts(enc)
            && let Some(z) = Assets::get(&format!("{path}.{ext}"))
        {
            return out.header(header::CONTENT_ENCODING, enc).body(Body::from(z.data)).unwrap_or_default();
        }
    }
    out.body(Body::from(file.data)).unwrap_or_default()
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(content_type("assets/index-abc.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("assets/x.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("notification.mp3"), "audio/mpeg");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }

    #[test]
    fn missing_files_are_404_and_pages_are_the_app() {
        let h = HeaderMap::new();
        assert_eq!(serve("assets/does-not-exist-0000.js", &h).status(), StatusCode::NOT_FOUND);
        assert_eq!(serve("nothing-here.png", &h).status(), StatusCode::NOT_FOUND);
        for page in ["", "conversations/12", "settings/users"] {
            let r = serve(page, &h);
            assert_eq!(r.status(), StatusCode::OK, "{page}");
            assert_eq!(r.headers().get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-cache"));
        }
    }
}
