//! Scenario 2 — idle connections: how much server memory one idle WebSocket costs.
//!
//! Value: N WebSocket connections to `/api/v1/ws` (an operator session; Charla's only WebSocket
//! today), each past its `ready` frame and then idle; server RSS growth divided by N. Source
//! addresses 127.0.0.2, 127.0.0.3, ... (at most [`PER_SOURCE`] connections each) so that more
//! than one address's ephemeral ports can be held. Loopback only.
//!
//! Baseline: the same number of idle HTTP/1.1 keep-alive connections (each answered one
//! `GET /healthz`), on a server started the same way.

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
/// Connections being opened at once.
const CONNECTING: usize = 256;
/// Quiet time before reading the server's memory.
const SETTLE: Duration = Duration::from_secs(2);

/// A loopback source address for connection `i`: 127.0.0.2, then .3 every PER_SOURCE.
fn source_for(i: usize) -> anyhow::Result<SocketAddr> {
    let host = 2 + i / PER_SOURCE;
    if host > 254 {
        bail!("too many connections for the loopback source addresses");
    }
    Ok(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, host as u8), 0)))
}

async fn connect_from(i: usize, server: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(source_for(i)?)?;
    Ok(socket.connect(server).await?)
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
async fn per_connection<T, F, Fut>(server: &Server, n: usize, open: F) -> anyhow::Result<f64>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
{
    // A few connections first, so that one-time allocations are not counted per connection.
    let warm = open_all(n.min(16), &open).await?;
    drop(warm);
    tokio::time::sleep(SETTLE).await;
    let before = server.rss_kib()?;
    let held = open_all(n, &open).await?;
    tokio::time::sleep(SETTLE).await;
    let after = server.rss_kib()?;
    drop(held);
    Ok(after.saturating_sub(before) as f64 / n as f64)
}

/// An operator WebSocket past its `ready` frame; a task keeps reading it (answering pings).
async fn websocket(addr: SocketAddr, token: Arc<String>, i: usize) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let stream = connect_from(i, addr).await?;
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
    let mut s = connect_from(i, addr).await?;
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
    let base =
        per_connection(&server, connections, move |i| keep_alive(addr, i)).await.context("keep-alive connections")?;
    server.stop().await?;

    let server = Server::start(target).await?;
    let api = Api::login(&http, &server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    let token = Arc::new(api.token.clone());
    let addr = server.addr;
    let value = per_connection(&server, connections, move |i| websocket(addr, token.clone(), i))
        .await
        .context("websocket connections")?;
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
        "rss_per_websocket",
        value,
        "KiB",
        base,
        Some((Better::Lower, 10.0)),
    ));
    Ok(())
}
