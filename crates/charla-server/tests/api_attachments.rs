//! Uploading and downloading attachments.

mod common;

use charla_core::Role;
use common::*;
use serde_json::json;

both!(upload_sniffs_and_download_checks_access);

const PNG: &[u8] = include_bytes!("fixtures/pixel.png");

async fn upload_sniffs_and_download_checks_access(s: &TestServer) {
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let agent = s.user(ws.id, "Ana", Role::Agent, &[]).await;
    let outsider = s.user(ws.id, "Otto", Role::Agent, &[]).await;
    let ws2 = s.workspace("Other").await;
    let stranger = s.user(ws2.id, "Stranger", Role::Admin, &[]).await;
    let (ta, tg, tx, ts) = (s.token(&admin), s.token(&agent), s.token(&outsider), s.token(&stranger));

    // PNG bytes named x.txt and claimed as text/plain: sniffed as image/png.
    let (st, att) = s.upload(Some(&tg), "x.txt", "text/plain", PNG).await;
    assert_eq!(st, 201, "{att}");
    assert_eq!(att["content_type"], "image/png");
    assert_eq!(att["name"], "x.txt");
    assert_eq!(att["size"], PNG.len());
    let id = id_of(&att);
    assert_eq!(att["url"], format!("/api/v1/attachments/{id}/download"));

    // Text and unknown binary.
    let (_, txt) = s.upload(Some(&tg), "notes.bin", "image/png", "hola, ¿qué tal?".as_bytes()).await;
    assert_eq!(txt["content_type"], "text/plain");
    let (_, bin) = s.upload(Some(&tg), "../../etc/passwd", "text/plain", &[0u8, 159, 146, 150, 1, 2]).await;
    assert_eq!(bin["content_type"], "application/octet-stream");
    assert_eq!(bin["name"], "passwd", "paths are stripped");

    // Download: headers and bytes.
    let resp = s
        .client
        .get(s.url(&format!("/api/v1/attachments/{id}/download")))
        .bearer_auth(&tg)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 200);
    let h = resp.headers().clone();
    assert_eq!(h.get("content-type").and_then(|v| v.to_str().ok()), Some("image/png"));
    assert_eq!(h.get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    assert_eq!(h.get("content-disposition").and_then(|v| v.to_str().ok()), Some("attachment; filename*=UTF-8''x.txt"));
    let bytes = resp.bytes().await.unwrap_or_default();
    assert_eq!(&bytes[..], PNG);

    // Another workspace: 404. Unauthenticated: 401.
    let (st, _) = s.get(Some(&ts), &format!("/api/v1/attachments/{id}/download")).await;
    assert_eq!(st, 404);
    let (st, _) = s.get(None, &format!("/api/v1/attachments/{id}/download")).await;
    assert_eq!(st, 401);
    // Not yet sent: the workspace may download it.
    let (st, _) = s.get(Some(&tx), &format!("/api/v1/attachments/{id}/download")).await;
    assert_eq!(st, 200);

    // Sent in a conversation: only who sees the conversation.
    let ch = s.channel(ws.id, "Web", &[agent.id]).await;
    let conv = s.inbound(ch.id, "e1", "Carla", None, "hola").await.conversation;
    let (st, m) = s
        .post(
            Some(&tg),
            &format!("/api/v1/conversations/{}/messages", conv.id),
            json!({"text": "", "attachment_ids": [id]}),
        )
        .await;
    assert_eq!(st, 201, "{m}");
    assert_eq!(m["attachments"][0]["id"], id);
    assert_eq!(m["attachments"][0]["content_type"], "image/png");
    for (t, want) in [(&tg, 200), (&ta, 200), (&tx, 404), (&ts, 404)] {
        let (st, _) = s.get(Some(t), &format!("/api/v1/attachments/{id}/download")).await;
        assert_eq!(st, want);
    }
    // An attachment cannot be sent twice (except by a retried send with the same key).
    let (st, body) = s
        .post(
            Some(&tg),
            &format!("/api/v1/conversations/{}/messages", conv.id),
            json!({"text": "again", "attachment_ids": [id]}),
        )
        .await;
    assert_eq!((st, code(&body)), (422, "invalid_attachment"));
    let (st, body) = s
        .post(
            Some(&tg),
            &format!("/api/v1/conversations/{}/messages", conv.id),
            json!({"text": "x", "attachment_ids": [id_of(&txt) + 1000]}),
        )
        .await;
    assert_eq!((st, code(&body)), (422, "invalid_attachment"));

    // Missing field, not multipart.
    let resp = s
        .client
        .post(s.url("/api/v1/attachments"))
        .bearer_auth(&tg)
        .header("content-type", "multipart/form-data; boundary=b")
        .body("--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b--\r\n")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (st, body) = read(resp).await;
    assert_eq!((st, code(&body)), (422, "missing_file"));
    let (st, _) = s.post(Some(&tg), "/api/v1/attachments", json!({"file": "x"})).await;
    assert_eq!(st, 400);
}

#[tokio::test]
async fn oversize_upload_is_413_and_leaves_nothing() {
    let s = TestServer::start_with(Backend::Sqlite, |c| c.max_upload_bytes = 100 * 1024).await;
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws.id, "Admin", Role::Admin, &[]).await;
    let t = s.token(&admin);
    // Just over the limit (so the declared length alone does not decide it).
    let (st, body) = s.upload(Some(&t), "big.bin", "application/octet-stream", &vec![7u8; 100 * 1024 + 1]).await;
    assert_eq!((st, code(&body)), (413, "payload_too_large"), "{body}");
    // Far over the limit: refused from the declared length.
    let (st, _) = s.upload(Some(&t), "huge.bin", "application/octet-stream", &vec![7u8; 400 * 1024]).await;
    assert!(st == 413 || st == 0, "{st}");
    // Exactly at the limit is fine, and bigger than the JSON body limit too.
    let s2 = TestServer::start_with(Backend::Sqlite, |c| c.max_upload_bytes = 2 * 1024 * 1024).await;
    let ws2 = s2.workspace("Acme").await;
    let admin2 = s2.user(ws2.id, "Admin", Role::Admin, &[]).await;
    let (st, att) = s2.upload(Some(&s2.token(&admin2)), "ok.bin", "x/y", &vec![7u8; 2 * 1024 * 1024]).await;
    assert_eq!(st, 201, "{att}");
    let leftovers: Vec<_> = std::fs::read_dir(s.dir.path().join("files"))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "no partial files: {leftovers:?}");
    s.stop().await;
    s2.stop().await;
}
