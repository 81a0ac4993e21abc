//! Uploading and downloading attachments.
//!
//! Uploads stream to disk (bounded memory) and stop at `max_upload_bytes` with a 413. The
//! content type is sniffed from the bytes; what the client claims is ignored. An attachment
//! sent with a message is downloadable by who can see its conversation; one not sent yet, by
//! its workspace.

use crate::api::visible_conversation;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Path;
use crate::files::{self, Upload};
use crate::state::{AppState, now_ms};
use crate::wire;
use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use charla_core::Id;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // The size is enforced while streaming (`max_upload_bytes`), not by the JSON limit.
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::disable())
        .merge(OpenApiRouter::new().routes(routes!(download)))
}

/// Room for the multipart framing and small fields around the file.
const MULTIPART_SLACK: u64 = 64 * 1024;

#[derive(Debug, Deserialize, ToSchema)]
pub struct UploadForm {
    /// The file.
    #[schema(value_type = String, format = Binary)]
    pub file: String,
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the file is larger than the limit of {limit} bytes"),
    )
}

fn bad_multipart(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_multipart", format!("invalid multipart body: {e}"))
}

/// A file name safe to store and show: the last path component, no control characters.
pub fn clean_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String =
        last.chars().filter(|c| !c.is_control()).collect::<String>().trim().chars().take(255).collect();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." { "file".to_string() } else { cleaned }
}

/// RFC 5987 `filename*` value.
pub fn content_disposition(name: &str) -> String {
    let mut out = String::from("attachment; filename*=UTF-8''");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Uploads a file (multipart field `file`) to send with a message later.
#[utoipa::path(
    post, path = "/api/v1/attachments", tag = "attachments",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = wire::Attachment),
        (status = 400, description = "invalid_multipart", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody),
        (status = 422, description = "missing_file", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    me: CurrentUser,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, axum::Json<wire::Attachment>)> {
    let limit = state.config.max_upload_bytes;
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64 + MULTIPART_SLACK) {
        return Err(too_large(limit));
    }
    let mut multipart = multipart.map_err(bad_multipart)?;
    let mut stored: Option<(Upload, String)> = None;
    // Everything read, file or not, counts against the limit.
    let mut total: u64 = 0;
    while let Some(mut field) = multipart.next_field().await.map_err(bad_multipart)? {
        let is_file = field.name() == Some("file") && stored.is_none();
        let mut upload = if is_file {
            let name = clean_file_name(field.file_name().unwrap_or("file"));
            let up = Upload::create(&state.config.data_dir).await.map_err(ApiError::internal)?;
            Some((up, name))
        } else {
            None
        };
        while let Some(chunk) = field.chunk().await.map_err(bad_multipart)? {
            total += chunk.len() as u64;
            match upload.as_mut() {
                Some((up, _)) => {
                    if up.size() + chunk.len() as u64 > limit as u64 {
                        return Err(too_large(limit));
                    }
                    up.write(&chunk).await.map_err(ApiError::internal)?;
                }
                None if total > limit as u64 + MULTIPART_SLACK => return Err(too_large(limit)),
                None => {}
            }
        }
        if upload.is_some() {
            stored = upload;
        }
    }
    let Some((up, name)) = stored else {
        return Err(ApiError::unprocessable("missing_file", "the multipart field `file` is missing"));
    };
    let content_type = files::sniff_content_type(up.head(), up.size() as usize <= files::SNIFF_BYTES);
    let size = up.size() as i64;
    let key = up.finish().await.map_err(ApiError::internal)?;
    match state.store.create_attachment(me.user.workspace_id, &name, &content_type, size, &key, now_ms()).await {
        Ok(a) => Ok((StatusCode::CREATED, axum::Json(wire::Attachment::from(&a)))),
        Err(e) => {
            let _ = files::delete(&state.config.data_dir, &key).await;
            Err(e.into())
        }
    }
}

/// Downloads an attachment's bytes.
#[utoipa::path(
    get, path = "/api/v1/attachments/{id}/download", tag = "attachments",
    params(("id" = i64, Path, description = "attachment id")),
    responses(
        (status = 200, description = "the file, as an attachment, with its sniffed content type"),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn download(State(state): State<AppState>, me: CurrentUser, Path(id): Path<Id>) -> ApiResult<Response> {
    let ws = me.user.workspace_id;
    let a = state.store.get_attachment(ws, id).await?;
    if let Some(message_id) = a.message_id {
        let m = state.store.get_message(ws, message_id).await?;
        visible_conversation(&state, &me, m.conversation_id).await?;
    }
    let file = match files::open(&state.config.data_dir, &a.storage_key).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ApiError::not_found()),
        Err(e) => return Err(ApiError::internal(e)),
    };
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        use tokio::io::AsyncReadExt;
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<Bytes, std::io::Error>(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    let content_type =
        HeaderValue::from_str(&a.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, content_type);
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&a.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(a.size.max(0) as u64));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_disposition() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\Users\\a\\foto 1.png"), "foto 1.png");
        assert_eq!(clean_file_name(".."), "file");
        assert_eq!(clean_file_name("a\u{0}b\nc"), "abc");
        assert_eq!(content_disposition("año 1.pdf"), "attachment; filename*=UTF-8''a%C3%B1o%201.pdf");
        assert_eq!(content_disposition("a\"b;c"), "attachment; filename*=UTF-8''a%22b%3Bc");
    }
}
