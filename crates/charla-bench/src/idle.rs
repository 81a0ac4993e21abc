//! Scenario 2 — idle connections: how much server memory one idle WebSocket costs.
//!
//! Value: N visitors of a website channel, each with its token from `POST /widget/{id}/visit`,
//! holding the widget's socket `/widget/{id}/ws` open and idle; server RSS growth from just
//! before the sockets open, divided by N. Also (no target) the same for operator sockets
//! `/api/v1/ws`, each past its `ready` frame. Visitors' requests come from many loopback source
//! addresses (127.1.x.y for visits, 127.2.x.y for sockets, [`PER_VISITOR_SOURCE`] each) since
//! the widget's routes are rate-limited per client address; operator sockets and keep-alive
//! connections from 127.0.0.100.. and 127.0.0.2.. ([`PER_SOURCE`] each, within one address's
//! ephemeral ports). Loopback only.
//!
//! Baseline: the same number of idle HTTP/1.1 keep-alive connections (each answered one
//! `GET /healthz`), on a server started the same way.
//!
//! Each connection is a descriptor in this process and in the server: N is at most what the
//! open files limit allows (raised to the hard limit; the table says how many were held).

use crate::client::Api;
use crate::report::{Better, Report, ScenarioResult};
use crate::server::{Server, Target};
use crate::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend};
use anyhow::{Context, bail};
use futures_util::StreamExt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Connections per source address (the ephemeral port range holds ~28k).
pub const PER_SOURCE: usize = 20_000;
/// Visitor requests per loopback source address (the widget allows 120 at once per address).
pub const PER_VISITOR_SOURCE: usize = 100;
/// Connections being opened at once.
const CONNECTING: usize = 256;

/// First source address of the keep-alive connections (127.0.0.2, .3, ...) and of the
/// WebSockets (127.0.0.100, ...): different ones, so that the ports the first left in
/// TIME_WAIT do not run the second out of ports.
const KEEP_ALIVE_HOSTS: usize = 2;
const WEBSOCKET_HOSTS: usize = 100;

/// A loopback source address for connection `i`: `first`, then the next every PER_SOURCE.
fn source_for(first: usize, i: usize) -> anyhow::Result<SocketAddr> {
    let host = first + i / PER_SOURCE;
    if host > 250 {
        bail!("too many connections for the loopback source addresses");
    }
    Ok(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, host as u8), 0)))
}

/// Opens `n` connections with `open`, at most [`CONNECTING`] at a time; answers what they hold.
async fn open_all<T, F, Fut>(n: usize, open: F) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let limit = Arc::new(Semaphore::new(CONNECTING));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let permit = limit.clone().acquire_owned().await?;
        let fut = open(i);
        tasks.push(tokio::spawn(async move {
            let r = fut.await;
            drop(permit);
            r
        }));
    }
    let mut held = Vec::with_capacity(n);
    for t in tasks {
        held.push(t.await??);
    }
    Ok(held)
}

/// Server RSS growth per connection (KiB) for `n` connections made by `open`.
async fn per_connection<T, F, Fut>(server: &Server, n: usize, settle: Duration, open: F) -> anyhow::Result<f64>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
{
    // A few connections first, so that one-time allocations are not counted per connection.
    let warm = open_all(n.min(16), &open).await?;
    drop(warm);
    tokio::time::sleep(settle).await;
    let before = server.rss_kib()?;
    let held = open_all(n, &open).await?;
    tokio::time::sleep(settle).await;
    let after = server.rss_kib()?;
    drop(held);
    Ok(after.saturating_sub(before) as f64 / n as f64)
}

/// A loopback address of block `block` (127.block.x.y) for visitor request `i`.
fn visitor_source(block: u8, i: usize) -> SocketAddr {
    let k = i / PER_VISITOR_SOURCE;
    let (x, y) = ((k / 250) as u8, (1 + k % 250) as u8);
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(127, block, x, y), 0))
}

async fn connect_bound(source: SocketAddr, server: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    // Closed with a reset, not left in TIME_WAIT for a minute: the thousands of ports a run
    // leaves there made the next run's binds fail ("address already in use").
    socket.set_zero_linger()?;
    socket.bind(source)?;
    Ok(socket.connect(server).await?)
}

/// Visitor tokens, one `POST /widget/{channel}/visit` each, from 127.1.x.y.
async fn visitor_tokens(addr: SocketAddr, channel_id: i64, n: usize) -> anyhow::Result<Vec<String>> {
    let sources = n.div_ceil(PER_VISITOR_SOURCE);
    let limit = Arc::new(Semaphore::new(64));
    let mut tasks = Vec::with_capacity(sources);
    for src in 0..sources {
        let permit = limit.clone().acquire_owned().await?;
        let count = PER_VISITOR_SOURCE.min(n - src * PER_VISITOR_SOURCE);
        tasks.push(tokio::spawn(async move {
            let stream = connect_bound(visitor_source(1, src * PER_VISITOR_SOURCE), addr).await?;
            let mut conn = crate::client::RawConn::over(stream).await?;
            let mut tokens = Vec::with_capacity(count);
            let path = format!("/widget/{channel_id}/visit");
            for v in 0..count {
                let body = format!(r#"{{"url": "https://shop.example.com/p/{src}-{v}", "title": "Bench shop"}}"#);
                let (status, answer) = conn.request("POST", &path, &[], bytes::Bytes::from(body)).await?;
                if status != 200 {
                    bail!("visit answered {status}: {}", String::from_utf8_lossy(&answer));
                }
                let v: serde_json::Value = serde_json::from_slice(&answer)?;
                tokens.push(v["token"].as_str().context("visit without token")?.to_string());
            }
            drop(permit);
            Ok::<_, anyhow::Error>(tokens)
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

/// `n` visitors of a new website channel with their widget sockets open (each read by a task
/// that answers pings), for scenarios that run with visitors online.
pub(crate) async fn open_visitors(
    api: &Api,
    addr: SocketAddr,
    n: usize,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    crate::raise_nofile_limit(n as u64 + 4096);
    let (channel_id, tokens) = website_visitors(api, addr, n).await?;
    open_all(n, move |i| visitor_socket(addr, channel_id, tokens.clone(), i)).await
}

/// A new website channel and the tokens of `n` visitors of it.
async fn website_visitors(api: &Api, addr: SocketAddr, n: usize) -> anyhow::Result<(i64, Arc<Vec<String>>)> {
    let channel = api.post("/api/v1/channels", serde_json::json!({"kind": "website", "name": "Bench shop"})).await?;
    let channel_id = channel["id"].as_i64().context("website channel id")?;
    Ok((channel_id, Arc::new(visitor_tokens(addr, channel_id, n).await.context("visits")?)))
}

/// A visitor's widget socket, open; a task keeps reading it (answering pings).
async fn visitor_socket(
    addr: SocketAddr,
    channel_id: i64,
    tokens: Arc<Vec<String>>,
    i: usize,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let stream = connect_bound(visitor_source(2, i), addr).await?;
    let url = format!("ws://{addr}/widget/{channel_id}/ws?token={}", tokens[i]);
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config)).await?;
    Ok(tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} }))
}

/// An operator WebSocket past its `ready` frame; a task keeps reading it (answering pings).
async fn websocket(addr: SocketAddr, token: Arc<String>, i: usize) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let stream = connect_bound(source_for(WEBSOCKET_HOSTS, i)?, addr).await?;
    let url = format!("ws://{addr}/api/v1/ws?token={token}");
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config)).await?;
    loop {
        match tokio::time::timeout(Duration::from_secs(60), ws.next()).await {
            Ok(Some(Ok(WsMessage::Text(t)))) if t.as_str().contains("\"type\":\"ready\"") => break,
            Ok(Some(Ok(_))) => {}
            other => bail!("websocket {i} closed before ready: {other:?}"),
        }
    }
    Ok(tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} }))
}

/// An HTTP/1.1 connection that got one answer and stays open (keep-alive).
async fn keep_alive(addr: SocketAddr, i: usize) -> anyhow::Result<TcpStream> {
    let mut s = connect_bound(source_for(KEEP_ALIVE_HOSTS, i)?, addr).await?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n").await?;
    let mut buf = [0u8; 512];
    let mut got = 0;
    // "ok" is the whole body: read until it has come.
    while got < buf.len() {
        let n = s.read(&mut buf[got..]).await?;
        if n == 0 {
            bail!("connection {i} closed");
        }
        got += n;
        if buf[..got].ends_with(b"ok") {
            break;
        }
    }
    if !buf.starts_with(b"HTTP/1.1 200") {
        bail!("GET /healthz on connection {i} did not answer 200");
    }
    Ok(s)
}

pub async fn run(
    backend: &mut Backend,
    connections: usize,
    settle: Duration,
    target: &Target,
    report: &mut Report,
) -> anyhow::Result<()> {
    let wanted = connections;
    // Both this process and the server hold one descriptor per connection.
    let limit = crate::raise_nofile_limit(connections as u64 + 4096);
    let held = connections.min(limit.saturating_sub(1024) as usize);
    if held < 10 {
        bail!("the open files limit is {limit}: too low to hold connections (raise `ulimit -n`)");
    }
    if held < connections {
        println!(
            "idle: the open files limit ({limit}, hard limit of this system) allows {held} of the {connections} connections; \
             measuring {held}"
        );
    }
    let connections = held;
    let http = crate::client::http_client()?;

    // Baseline: idle keep-alive HTTP connections.
    let server = Server::start(target).await?;
    let addr = server.addr;
    let base = per_connection(&server, connections, settle, move |i| keep_alive(addr, i))
        .await
        .context("keep-alive connections")?;
    server.stop().await?;

    // Visitors' widget sockets.
    let server = Server::start(target).await?;
    let api = Api::login(&http, &server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    let addr = server.addr;
    let (channel_id, tokens) = website_visitors(&api, addr, connections).await?;
    let visitors =
        per_connection(&server, connections, settle, move |i| visitor_socket(addr, channel_id, tokens.clone(), i))
            .await
            .context("visitor sockets")?;
    server.stop().await?;

    // Operators' sockets.
    let server = Server::start(target).await?;
    let api = Api::login(&http, &server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    let token = Arc::new(api.token.clone());
    let addr = server.addr;
    let operators = per_connection(&server, connections, settle, move |i| websocket(addr, token.clone(), i))
        .await
        .context("operator websockets")?;
    server.stop().await?;

    report.push(ScenarioResult::new(
        "idle",
        backend.name(),
        "connections_held",
        connections as f64,
        "connections",
        connections as f64,
        Some((Better::Higher, wanted as f64)),
    ));
    report.push(ScenarioResult::new(
        "idle",
        backend.name(),
        "rss_per_visitor_socket",
        visitors,
        "KiB",
        base,
        Some((Better::Lower, 10.0)),
    ));
    report.push(ScenarioResult::new("idle", backend.name(), "rss_per_operator_socket", operators, "KiB", base, None));
    Ok(())
}
