//! Clients of the server under test: a JSON API client for set-up and queries, a lean HTTP/1.1
//! connection for the ingest load (the load generator shares the machine, so it must cost
//! little), signed webhook bodies, and the operator WebSocket.

use anyhow::{Context, bail};
use bytes::Bytes;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sha2::Sha256;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A logged-in operator on the JSON API.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
}

pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .build()?)
}

impl Api {
    pub async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> anyhow::Result<Api> {
        let resp = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("login as {email}: {status} {body}");
        }
        let token = body["token"].as_str().context("login answer without token")?.to_string();
        Ok(Api { base: base.to_string(), token, client: client.clone() })
    }

    pub async fn get(&self, path_and_query: &str) -> anyhow::Result<Value> {
        let resp = self.client.get(format!("{}{path_and_query}", self.base)).bearer_auth(&self.token).send().await?;
        json_of(resp, "GET", path_and_query).await
    }

    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let resp = self.client.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(&body).send().await?;
        json_of(resp, "POST", path).await
    }

    pub async fn put(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let resp = self.client.put(format!("{}{path}", self.base)).bearer_auth(&self.token).json(&body).send().await?;
        json_of(resp, "PUT", path).await
    }

    /// The operator WebSocket, once it has sent its `ready` frame.
    pub async fn websocket(&self) -> anyhow::Result<OperatorSocket> {
        let url = format!("{}/api/v1/ws?token={}", self.base.replacen("http://", "ws://", 1), self.token);
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.context("operator websocket")?;
        loop {
            match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
                Ok(Some(Ok(WsMessage::Text(t)))) if t.as_str().contains("\"type\":\"ready\"") => break,
                Ok(Some(Ok(_))) => {}
                other => bail!("websocket closed before ready: {other:?}"),
            }
        }
        Ok(OperatorSocket { ws })
    }
}

async fn json_of(resp: reqwest::Response, method: &str, path: &str) -> anyhow::Result<Value> {
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() {
        bail!("{method} {path}: {status} {text}");
    }
    if text.is_empty() { Ok(Value::Null) } else { Ok(serde_json::from_str(&text)?) }
}

pub type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct OperatorSocket {
    pub ws: WsStream,
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`, the API channel's signature header value.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new(); // HMAC takes keys of any length
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One keep-alive HTTP/1.1 connection, requests one after the other.
pub struct RawConn {
    sender: SendRequest<Full<Bytes>>,
}

impl RawConn {
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<RawConn> {
        RawConn::over(tokio::net::TcpStream::connect(addr).await?).await
    }

    /// HTTP/1.1 over a connected stream.
    pub async fn over(stream: tokio::net::TcpStream) -> anyhow::Result<RawConn> {
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(RawConn { sender })
    }

    /// A request with a JSON body; answers the status and the body.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> anyhow::Result<(u16, Bytes)> {
        self.sender.ready().await?;
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "bench")
            .header(hyper::header::CONTENT_TYPE, "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self.sender.send_request(req.body(Full::new(body))?).await?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// POSTs a signed JSON body; answers the status and the body.
    pub async fn post_json(&mut self, path: &str, signature: &str, body: Bytes) -> anyhow::Result<(u16, Bytes)> {
        self.request("POST", path, &[("x-charla-signature", signature)], body).await
    }
}
