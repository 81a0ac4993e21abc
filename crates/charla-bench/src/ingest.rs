//! Scenario 1 — ingest: customers' messages through the API channel webhook.
//!
//! Value: N clients POST signed webhooks (unique message ids; a few hundred contacts per
//! client, so both new and existing conversations) over keep-alive HTTP/1.1 while one operator
//! WebSocket receives every `message.created` (`--watchers N`: N more operator sockets, each
//! receiving every event; `--visitors N`: N website visitors' widget sockets open meanwhile).
//! The server answers only once the message is durable. Latency runs
//! from the request's start (its scheduled time in the steady run, so a stall is not hidden) to
//! the operator's receipt; the send time travels in the message text. Before each steady run
//! the store is settled (PostgreSQL: a `CHECKPOINT`, see `Backend::settle`).
//!
//! Baseline: the same workload through `Store::ingest_inbound` in this process, on the same
//! database with the same durability (SQLite `synchronous=FULL` group commit; PostgreSQL
//! commits), without HTTP, signature or WebSocket. Latency there ends when the call returns.
//!
//! Where the CPU goes at saturation (`crate::cpu`): CPU time per message of the whole machine
//! (server, load generator, database, kernel), of the server process and of its SQLite writer
//! thread, each against the same figure of the in-process run (the server's against the bench
//! process, which is then the store and its callers). On SQLite a line sets the machine's
//! figure against what the CPUs allow at 20,000 messages/s.

use crate::client::{Api, RawConn, sign};
use crate::cpu;
use crate::report::{Better, Report, ScenarioResult, p50_p99};
use crate::server::{Server, Target};
use crate::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Sizes, StoreKind};
use anyhow::{Context, bail};
use bytes::Bytes;
use charla_core::{ChannelKind, Id, RoutingMode};
use charla_store::sql::{Options, SqlStore};
use charla_store::{ContactInput, InboundMessage, NewChannel, Store};
use futures_util::StreamExt;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Contacts each client writes as, in turn.
const CONTACTS_PER_CLIENT: u64 = 200;
/// Clients of the steady-rate run (enough that one slow answer does not hold the schedule).
const STEADY_CLIENTS: usize = 32;
/// Marks the send time in a message's text: `bench-t<nanoseconds since CLOCK_BASE>`.
const MARK: &str = "bench-t";

static CLOCK_BASE: OnceLock<Instant> = OnceLock::new();

fn clock_base() -> Instant {
    *CLOCK_BASE.get_or_init(Instant::now)
}

fn nanos_since_base(t: Instant) -> u64 {
    t.saturating_duration_since(clock_base()).as_nanos() as u64
}

fn ms_since_base(t: Instant) -> f64 {
    nanos_since_base(t) as f64 / 1e6
}

/// The send time written in a frame's message text, if there is one.
fn marked_time(frame: &str) -> Option<Instant> {
    let at = frame.find(MARK)? + MARK.len();
    let digits: &str = &frame[at..];
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    let nanos: u64 = digits[..end].parse().ok()?;
    Some(clock_base() + Duration::from_nanos(nanos))
}

/// One message of the workload.
struct Msg {
    message_id: String,
    external_id: String,
    name: String,
    text: String,
}

fn message(phase: &str, client: usize, seq: u64, local: u64, sent_at: Instant) -> Msg {
    let contact = local % CONTACTS_PER_CLIENT;
    Msg {
        message_id: format!("{phase}-{seq}"),
        external_id: format!("{phase}-c{client}-{contact}"),
        name: format!("Cliente {client}-{contact}"),
        text: format!("{MARK}{} Hola, my order #{seq} has not arrived yet, can you check?", nanos_since_base(sent_at)),
    }
}

/// Where the workload goes: the server over HTTP, or the store in-process.
#[derive(Clone)]
enum Sink {
    Http { addr: std::net::SocketAddr, path: String, secret: Arc<Vec<u8>> },
    Direct { store: Arc<dyn Store>, channel_id: Id },
}

enum Client {
    Http { conn: RawConn, path: String, secret: Arc<Vec<u8>> },
    Direct { store: Arc<dyn Store>, channel_id: Id },
}

impl Sink {
    async fn client(&self) -> anyhow::Result<Client> {
        Ok(match self {
            Sink::Http { addr, path, secret } => {
                Client::Http { conn: RawConn::connect(*addr).await?, path: path.clone(), secret: secret.clone() }
            }
            Sink::Direct { store, channel_id } => Client::Direct { store: store.clone(), channel_id: *channel_id },
        })
    }
}

impl Client {
    async fn send(&mut self, m: Msg) -> anyhow::Result<()> {
        match self {
            Client::Http { conn, path, secret } => {
                let body = serde_json::to_vec(&json!({
                    "message_id": m.message_id,
                    "contact": {"external_id": m.external_id, "name": m.name},
                    "text": m.text,
                }))?;
                let signature = sign(secret, &body);
                let (status, answer) = conn.post_json(path, &signature, Bytes::from(body)).await?;
                if status != 200 {
                    bail!("webhook answered {status}: {}", String::from_utf8_lossy(&answer));
                }
                Ok(())
            }
            Client::Direct { store, channel_id } => {
                let msg = InboundMessage {
                    channel_id: *channel_id,
                    provider_message_id: m.message_id,
                    contact: ContactInput {
                        external_id: m.external_id,
                        name: Some(m.name),
                        source: Some("bench".into()),
                        ..Default::default()
                    },
                    text: m.text,
                    attachment_ids: Vec::new(),
                    is_group: false,
                };
                store.ingest_inbound(msg, now_ms()).await.map_err(|e| anyhow::anyhow!("ingest: {e}"))?;
                Ok(())
            }
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// What a run measured: messages, elapsed time, and per-message latencies in ms.
struct Run {
    messages: u64,
    elapsed: Duration,
    latencies_ms: Vec<f64>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// As fast as the sink takes them: `clients` loops until `max` messages or `secs` elapsed.
/// Latencies here are the call's own (request start to answer).
async fn saturate(sink: &Sink, phase: &str, clients: usize, max: u64, secs: f64) -> anyhow::Result<(Run, Vec<f64>)> {
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        conns.push(sink.client().await?);
    }
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for (i, mut client) in conns.into_iter().enumerate() {
        let next = next.clone();
        let phase = phase.to_string();
        tasks.push(tokio::spawn(async move {
            let mut own = Vec::new();
            let mut local = 0u64;
            loop {
                if Instant::now() >= deadline {
                    break;
                }
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= max {
                    break;
                }
                let t = Instant::now();
                client.send(message(&phase, i, seq, local, t)).await?;
                own.push(t.elapsed().as_secs_f64() * 1000.0);
                local += 1;
            }
            Ok::<_, anyhow::Error>(own)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = started.elapsed();
    let messages = latencies.len() as u64;
    Ok((Run { messages, elapsed, latencies_ms: latencies.clone() }, latencies))
}

/// At a fixed rate: a scheduler hands each message its due time; latency counts from then.
async fn steady(sink: &Sink, phase: &str, rate: u64, secs: f64) -> anyhow::Result<(Run, Vec<f64>)> {
    let total = ((rate as f64) * secs).round().max(1.0) as u64;
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let mut senders = Vec::with_capacity(STEADY_CLIENTS);
    let mut tasks = Vec::with_capacity(STEADY_CLIENTS);
    for i in 0..STEADY_CLIENTS {
        let mut client = sink.client().await?;
        let (tx, mut rx) = mpsc::channel::<(u64, Instant)>(1024);
        senders.push(tx);
        let phase = phase.to_string();
        tasks.push(tokio::spawn(async move {
            let mut own = Vec::new();
            let mut local = 0u64;
            while let Some((seq, due)) = rx.recv().await {
                client.send(message(&phase, i, seq, local, due)).await?;
                own.push((ms_since_base(due), due.elapsed().as_secs_f64() * 1000.0));
                local += 1;
            }
            Ok::<_, anyhow::Error>(own)
        }));
    }
    let started = Instant::now() + Duration::from_millis(5);
    for seq in 0..total {
        let due = started + period.mul_f64(seq as f64);
        tokio::time::sleep_until(due.into()).await;
        senders[(seq as usize) % STEADY_CLIENTS].send((seq, due)).await.context("steady client stopped")?;
    }
    drop(senders);
    let mut timed = Vec::new();
    for t in tasks {
        timed.extend(t.await??);
    }
    let elapsed = started.elapsed();
    let (sent_ms, latencies): (Vec<f64>, Vec<f64>) = timed.into_iter().unzip();
    trace_timeline(&format!("steady, {phase}"), &sent_ms, &latencies);
    Ok((Run { messages: latencies.len() as u64, elapsed, latencies_ms: latencies.clone() }, latencies))
}

/// Reads the operator's socket: the latency of every `message.created` from its marked send
/// time, and when the last one arrived.
struct Receiver {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<anyhow::Result<Received>>,
}

/// What the operator's socket received: each message's latency in ms with its send time (ms
/// since the bench's clock base), and when the last one arrived.
struct Received {
    latencies: Vec<f64>,
    sent_ms: Vec<f64>,
    last: Option<Instant>,
}

/// `CHARLA_BENCH_TRACE=1`: the steady run's latencies over time, in windows of 250 ms.
fn trace_timeline(label: &str, sent_ms: &[f64], latencies: &[f64]) {
    if !crate::trace() || sent_ms.is_empty() {
        return;
    }
    let start = sent_ms.iter().copied().fold(f64::INFINITY, f64::min);
    let mut windows: std::collections::BTreeMap<u64, (usize, usize, f64)> = Default::default();
    for (s, l) in sent_ms.iter().zip(latencies) {
        let w = windows.entry(((s - start) / 250.0) as u64).or_default();
        w.0 += 1;
        w.1 += usize::from(*l > 10.0);
        w.2 = w.2.max(*l);
    }
    let ago = ms_since_base(Instant::now()) - start;
    let from = chrono::Utc::now() - chrono::Duration::microseconds((ago * 1000.0) as i64);
    eprintln!("{label} (from {} UTC): window(250 ms) messages over-10ms max-ms", from.format("%H:%M:%S%.3f"));
    for (w, (n, slow, max)) in windows {
        if slow > 0 {
            eprintln!("  {:>6.2}s {n:>4} {slow:>4} {max:>7.1}", w as f64 / 4.0);
        }
    }
}

impl Receiver {
    async fn start(api: &Api, expected: Arc<AtomicU64>) -> anyhow::Result<Receiver> {
        let mut socket = api.websocket().await?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let task = tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut sent_ms = Vec::new();
            let mut last = None;
            loop {
                if stop2.load(Ordering::Relaxed) && latencies.len() as u64 >= expected.load(Ordering::Relaxed) {
                    break;
                }
                let frame = match tokio::time::timeout(Duration::from_millis(200), socket.ws.next()).await {
                    Err(_) => continue,
                    Ok(None) => bail!("the operator websocket closed"),
                    Ok(Some(f)) => f?,
                };
                if let WsMessage::Text(t) = frame {
                    let t = t.as_str();
                    if t.contains("\"type\":\"message.created\"")
                        && let Some(sent) = marked_time(t)
                    {
                        let now = Instant::now();
                        latencies.push(now.saturating_duration_since(sent).as_secs_f64() * 1000.0);
                        sent_ms.push(ms_since_base(sent));
                        last = Some(now);
                    }
                }
            }
            Ok(Received { latencies, sent_ms, last })
        });
        Ok(Receiver { stop, task })
    }

    /// `n` more operator sockets (`--watchers`), each of which must receive every message.
    async fn start_more(api: &Api, n: usize, expected: &Arc<AtomicU64>) -> anyhow::Result<Vec<Receiver>> {
        let mut receivers = Vec::with_capacity(n);
        for _ in 0..n {
            receivers.push(Receiver::start(api, expected.clone()).await?);
        }
        Ok(receivers)
    }

    /// Waits until each has received every message (see [`Receiver::finish`]).
    async fn finish_all(receivers: Vec<Receiver>) -> anyhow::Result<()> {
        for r in receivers {
            r.finish().await?;
        }
        Ok(())
    }

    /// Waits (at most 60 s) for every expected message, then gives the latencies.
    async fn finish(self) -> anyhow::Result<Received> {
        self.stop.store(true, Ordering::Relaxed);
        let mut task = self.task;
        match tokio::time::timeout(Duration::from_secs(60), &mut task).await {
            Ok(r) => r?,
            Err(_) => {
                task.abort();
                bail!("the operator websocket did not receive every message within 60 s")
            }
        }
    }
}

/// Runs the scenario; answers the database it wrote (an "existing database" for later use).
pub async fn run(backend: &mut Backend, sizes: &Sizes, report: &mut Report) -> anyhow::Result<Target> {
    let target = backend.fresh("ingest").await?;
    target.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    let store_name = backend.name();

    // --- through the server
    let server = Server::start(&target).await?;
    let http = crate::client::http_client()?;
    let api = Api::login(&http, &server.base, ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    let channel = api
        .post(
            "/api/v1/channels",
            json!({"kind": "api", "name": "Bench API", "webhook_url": "http://127.0.0.1:9/bench"}),
        )
        .await?;
    let channel_id = channel["id"].as_i64().context("channel id")?;
    let secret = channel["secret"].as_str().context("channel secret")?.as_bytes().to_vec();
    let sink = Sink::Http { addr: server.addr, path: format!("/hooks/api/{channel_id}"), secret: Arc::new(secret) };
    let visitors = crate::idle::open_visitors(&api, server.addr, sizes.visitors).await.context("visitor sockets")?;

    let expected = Arc::new(AtomicU64::new(u64::MAX));
    let receiver = Receiver::start(&api, expected.clone()).await?;
    let watchers = Receiver::start_more(&api, sizes.watchers, &expected).await?;
    let started = Instant::now();
    let cpu_before = cpu::sample(Some(server.pid()));
    let (sat, _) = saturate(&sink, "http", sizes.clients, sizes.ingest_messages, sizes.ingest_secs).await?;
    expected.store(sat.messages, Ordering::Relaxed);
    let Received { latencies: mut sat_lat, last, .. } = receiver.finish().await?;
    Receiver::finish_all(watchers).await?;
    let sat_cpu = cpu::PerMessage::between(&cpu_before, &cpu::sample(Some(server.pid())), sat.messages);
    // Sustained means delivered: the run ends when the operator has the last message.
    let sat_elapsed = last.map_or(sat.elapsed, |l| l.saturating_duration_since(started).max(sat.elapsed));
    let http_rate = sat.messages as f64 / sat_elapsed.as_secs_f64().max(1e-9);

    let expected = Arc::new(AtomicU64::new(u64::MAX));
    let receiver = Receiver::start(&api, expected.clone()).await?;
    let watchers = Receiver::start_more(&api, sizes.watchers, &expected).await?;
    backend.settle().await;
    let (st, _) = steady(&sink, "http-steady", sizes.steady_rate, sizes.steady_secs).await?;
    expected.store(st.messages, Ordering::Relaxed);
    let Received { latencies: mut steady_lat, sent_ms, .. } = receiver.finish().await?;
    Receiver::finish_all(watchers).await?;
    trace_timeline("steady, over HTTP", &sent_ms, &steady_lat);
    if let Some(closed) = visitors.iter().position(|v| v.is_finished()) {
        bail!("visitor socket {closed} closed during the run");
    }
    visitors.iter().for_each(|v| v.abort());
    server.stop().await?;

    // --- baseline: the store in this process, same database, no HTTP
    let store = SqlStore::open(&target.store_url(), Options::default()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let store: Arc<dyn Store> = Arc::new(store);
    let workspace = store.first_workspace().await?.context("no workspace")?;
    let direct_channel = store
        .create_channel(NewChannel {
            workspace_id: workspace.id,
            kind: ChannelKind::Api,
            name: "Bench direct".into(),
            secret: "direct".into(),
            webhook_url: None,
            routing_mode: RoutingMode::Manual,
            max_message_length: ChannelKind::Api.default_max_message_length(),
            auto_close_after_secs: None,
            response_time_limit_secs: 900,
            greeting: None,
            settings: "{}".into(),
        })
        .await?;
    let direct = Sink::Direct { store: store.clone(), channel_id: direct_channel.id };
    let cpu_before = cpu::sample(None);
    let (base_sat, mut base_sat_lat) =
        saturate(&direct, "direct", sizes.clients, sizes.ingest_messages, sizes.ingest_secs).await?;
    let base_cpu = cpu::PerMessage::between(&cpu_before, &cpu::sample(None), base_sat.messages);
    backend.settle().await;
    let (_, mut base_steady_lat) = steady(&direct, "direct-steady", sizes.steady_rate, sizes.steady_secs).await?;
    store.shutdown().await;

    if sat_lat.len() as u64 != sat.messages || steady_lat.len() as u64 != st.messages {
        bail!("the operator websocket missed messages");
    }
    let _ = base_sat.latencies_ms.len();
    let (p50, p99) = p50_p99(&mut sat_lat);
    let (b50, b99) = p50_p99(&mut base_sat_lat);
    let (s50, s99) = p50_p99(&mut steady_lat);
    let (bs50, bs99) = p50_p99(&mut base_steady_lat);
    let rate_target = (backend.kind == StoreKind::Sqlite).then_some((Better::Higher, 20_000.0));
    let n = "ingest";
    report.push(ScenarioResult::new(
        n,
        store_name,
        "throughput",
        http_rate,
        "messages/s",
        base_sat.rate(),
        rate_target,
    ));
    cpu_rows(report, store_name, &sat_cpu, &base_cpu, rate_target.map(|(_, t)| t));
    report.push(ScenarioResult::new(n, store_name, "saturated_p50", p50, "ms", b50, None));
    report.push(ScenarioResult::new(n, store_name, "saturated_p99", p99, "ms", b99, None));
    let at = format!("at_{}_per_s", sizes.steady_rate);
    report.push(ScenarioResult::new(n, store_name, &format!("{at}_p50"), s50, "ms", bs50, None));
    let p99_target = (sizes.steady_rate == 1_000).then_some((Better::Lower, 10.0));
    report.push(ScenarioResult::new(n, store_name, &format!("{at}_p99"), s99, "ms", bs99, p99_target));
    Ok(target)
}

/// CPU time a message costs at saturation, over HTTP against in-process: the whole machine's
/// (server, load generator, database, kernel), the server's (baseline: the store and its callers
/// in the bench's process) and the SQLite writer thread's; and a line that sets the machine's
/// figure against what the CPUs allow at the throughput target, where there is one.
fn cpu_rows(report: &mut Report, store: &str, http: &cpu::PerMessage, direct: &cpu::PerMessage, rate: Option<f64>) {
    let rows = [
        ("cpu_per_message", http.machine, direct.machine),
        ("server_cpu_per_message", http.server, direct.bench),
        ("writer_cpu_per_message", http.writer, direct.writer),
    ];
    for (metric, value, baseline) in rows {
        if let (Some(v), Some(b)) = (value, baseline) {
            report.push(ScenarioResult::new("ingest", store, metric, v, "µs", b, None));
        }
    }
    let (Some(machine), Some(server)) = (http.machine, http.server) else { return };
    let writer = http.writer.map(|w| format!(" (its SQLite writer thread {w:.0})")).unwrap_or_default();
    let load = http.bench.map(|b| format!(" + load generator {b:.0}")).unwrap_or_default();
    let rest = machine - server - http.bench.unwrap_or(0.0);
    let budget = rate
        .map(|rate| {
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
            format!("; {rate:.0} messages/s on {cpus} CPUs allow {:.0} µs", cpus as f64 * 1e6 / rate)
        })
        .unwrap_or_default();
    println!(
        "ingest ({store}): CPU per message at saturation {machine:.0} µs = server {server:.0}{writer}{load} \
         + the rest of the machine {rest:.0}{budget}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_time_travels_in_the_text() {
        let t = clock_base() + Duration::from_micros(1234);
        let m = message("p", 1, 7, 7, t);
        let frame = format!("{{\"data\":{{\"text\":\"{}\"}},\"type\":\"message.created\"}}", m.text);
        assert_eq!(marked_time(&frame), Some(t));
        assert_eq!(marked_time("no mark"), None);
    }
}
