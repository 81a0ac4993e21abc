//! `charla bench`: Charla's performance figures, reproducible with one command.
//!
//! Every scenario runs against a real `charla serve` child process (its memory and start-up
//! time are its own) on SQLite and on PostgreSQL, and prints each figure beside a baseline
//! measured in the same run, with the target it is meant to reach:
//!
//! | scenario  | value | baseline |
//! |-----------|-------|----------|
//! | `ingest`  | signed API-channel webhooks over HTTP from N clients, until an operator's WebSocket receives them | the same messages through `Store::ingest_inbound` in-process (same store, same durability, no HTTP) |
//! | `idle`    | server RSS per idle operator WebSocket | per idle HTTP keep-alive connection |
//! | `inbox`   | inbox queries through the HTTP API on a generated dataset | the same store call in-process |
//! | `reports` | the per-operator report through the HTTP API | the same store call in-process |
//! | `startup` | RSS and time to a ready `/healthz` on the dataset's database | on an empty database |
//!
//! Nothing here asserts timings: the test suite runs every scenario at tiny sizes to keep the
//! bench working, and checks only the shape of what it reports.

pub mod client;
pub mod cpu;
pub mod dataset;
pub mod idle;
pub mod inbox;
pub mod ingest;
pub mod report;
pub mod server;
pub mod startup;

use anyhow::{Context, bail};
use clap::{ArgAction, Args, ValueEnum};
pub use report::{Better, Report, ScenarioResult};
use server::Target;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScenarioKind {
    Ingest,
    Idle,
    Inbox,
    Reports,
    Startup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Size {
    /// The published figures (minutes; the inbox dataset is generated once and reused).
    Full,
    /// Seconds: every scenario at a few hundred rows and tens of connections.
    Tiny,
}

/// Options of `charla bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Stores to measure (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "sqlite,postgres")]
    pub stores: Vec<StoreKind>,
    /// PostgreSQL server for the PostgreSQL runs; the bench creates (and drops) its own
    /// databases there.
    #[arg(long, env = "CHARLA_BENCH_POSTGRES_URL", default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pub postgres_url: String,
    /// Bench data folder: the generated inbox dataset (kept for later runs) and scratch
    /// databases (removed at the end).
    #[arg(long, default_value = "./charla-bench-data")]
    pub data: PathBuf,
    /// Reuse the inbox dataset found in the data folder; `--reuse=false` generates it again.
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub reuse: bool,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Preset sizes.
    #[arg(long, value_enum, default_value = "full")]
    pub size: Size,
    /// Scenarios to run (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "ingest,idle,inbox,reports,startup")]
    pub only: Vec<ScenarioKind>,
    /// Remove everything the run created, the dataset included (what the test suite wants).
    #[arg(long)]
    pub cleanup: bool,
    /// Ingest: concurrent HTTP clients.
    #[arg(long)]
    pub clients: Option<usize>,
    /// Ingest: operator WebSockets connected besides the timed one, each receiving every event
    /// (how the server fans events out to a team online).
    #[arg(long)]
    pub watchers: Option<usize>,
    /// Ingest: website visitors with their widget sockets open (idle, on a channel of their own)
    /// while the messages arrive.
    #[arg(long)]
    pub visitors: Option<usize>,
    /// Ingest: most messages of the throughput run.
    #[arg(long)]
    pub ingest_messages: Option<u64>,
    /// Ingest: longest throughput run, in seconds.
    #[arg(long)]
    pub ingest_secs: Option<f64>,
    /// Ingest: messages per second of the steady-rate latency run.
    #[arg(long)]
    pub steady_rate: Option<u64>,
    /// Ingest: length of the steady-rate run, in seconds.
    #[arg(long)]
    pub steady_secs: Option<f64>,
    /// Idle: WebSocket connections held.
    #[arg(long)]
    pub connections: Option<usize>,
    /// Inbox dataset: conversations.
    #[arg(long)]
    pub conversations: Option<u64>,
    /// Inbox dataset: messages.
    #[arg(long)]
    pub messages: Option<u64>,
    /// Inbox dataset: operators (agents).
    #[arg(long)]
    pub operators: Option<u64>,
    /// Inbox dataset: conversations of 1,000 messages.
    #[arg(long)]
    pub long_conversations: Option<u64>,
    /// Inbox and reports: timed requests per query.
    #[arg(long)]
    pub samples: Option<usize>,
    /// Start-up: server starts measured per database.
    #[arg(long)]
    pub starts: Option<usize>,
    /// The `charla` binary to run as the server (default: this executable).
    #[arg(long, hide = true)]
    pub server_exe: Option<PathBuf>,
}

/// The sizes of a run: the preset, then the overrides.
#[derive(Debug, Clone)]
pub struct Sizes {
    pub clients: usize,
    pub watchers: usize,
    pub visitors: usize,
    pub ingest_messages: u64,
    pub ingest_secs: f64,
    pub steady_rate: u64,
    pub steady_secs: f64,
    pub connections: usize,
    pub dataset: dataset::Spec,
    pub samples: usize,
    pub report_samples: usize,
    pub starts: usize,
    /// Quiet time before the server's memory is read (idle, startup).
    pub settle: std::time::Duration,
}

impl Sizes {
    pub fn of(args: &BenchArgs) -> Sizes {
        let mut s = match args.size {
            Size::Full => Sizes {
                clients: 64,
                watchers: 0,
                visitors: 0,
                ingest_messages: 2_000_000,
                ingest_secs: 15.0,
                steady_rate: 1_000,
                steady_secs: 10.0,
                connections: 50_000,
                dataset: dataset::Spec {
                    conversations: 1_000_000,
                    messages: 10_000_000,
                    operators: 200,
                    long_conversations: 20,
                },
                samples: 200,
                report_samples: 5,
                starts: 5,
                settle: std::time::Duration::from_secs(2),
            },
            Size::Tiny => Sizes {
                clients: 8,
                watchers: 2,
                visitors: 20,
                ingest_messages: 300,
                ingest_secs: 10.0,
                steady_rate: 200,
                steady_secs: 1.0,
                // Enough that the sockets' memory outgrows what the allocator keeps of what the
                // server freed since it started (a few MiB): with fewer, growth could read 0.
                connections: 1_000,
                dataset: dataset::Spec { conversations: 500, messages: 5_000, operators: 10, long_conversations: 1 },
                samples: 5,
                report_samples: 2,
                starts: 2,
                settle: std::time::Duration::from_millis(200),
            },
        };
        if let Some(v) = args.clients {
            s.clients = v.max(1);
        }
        if let Some(v) = args.watchers {
            s.watchers = v;
        }
        if let Some(v) = args.visitors {
            s.visitors = v;
        }
        if let Some(v) = args.ingest_messages {
            s.ingest_messages = v.max(1);
        }
        if let Some(v) = args.ingest_secs {
            s.ingest_secs = v;
        }
        if let Some(v) = args.steady_rate {
            s.steady_rate = v.max(1);
        }
        if let Some(v) = args.steady_secs {
            s.steady_secs = v;
        }
        if let Some(v) = args.connections {
            s.connections = v.max(1);
        }
        if let Some(v) = args.conversations {
            s.dataset.conversations = v;
        }
        if let Some(v) = args.messages {
            s.dataset.messages = v;
        }
        if let Some(v) = args.operators {
            s.dataset.operators = v.max(1);
        }
        if let Some(v) = args.long_conversations {
            s.dataset.long_conversations = v;
        }
        if let Some(v) = args.samples {
            s.samples = v.max(1);
            s.report_samples = v.clamp(1, 20);
        }
        if let Some(v) = args.starts {
            s.starts = v.max(1);
        }
        s
    }
}

/// `CHARLA_BENCH_TRACE=1`: print what explains a figure (slow inbox requests, the steady ingest
/// runs' latencies over time).
pub(crate) fn trace() -> bool {
    std::env::var("CHARLA_BENCH_TRACE").is_ok_and(|v| v == "1")
}

/// The e-mail and password of the admin the bench creates in every database.
pub const ADMIN_EMAIL: &str = "bench-admin@example.com";
pub const ADMIN_PASSWORD: &str = "bench-admin-password";

/// One store under test: makes fresh databases for the scenarios and removes them after.
pub struct Backend {
    pub kind: StoreKind,
    exe: PathBuf,
    scratch: PathBuf,
    pg_admin_url: String,
    pg_databases: Vec<String>,
    /// Folders and files to remove at cleanup (the dataset with `--cleanup`).
    remove: Vec<PathBuf>,
    counter: usize,
}

impl Backend {
    async fn new(kind: StoreKind, args: &BenchArgs, exe: PathBuf, scratch: PathBuf) -> anyhow::Result<Backend> {
        let b = Backend {
            kind,
            exe,
            scratch,
            pg_admin_url: args.postgres_url.clone(),
            pg_databases: Vec::new(),
            remove: Vec::new(),
            counter: 0,
        };
        if kind == StoreKind::Postgres {
            b.pg_admin("SELECT 1").await.with_context(|| {
                format!(
                    "PostgreSQL at {} is unreachable; pass --postgres-url, or --stores sqlite to bench SQLite only",
                    args.postgres_url
                )
            })?;
        }
        Ok(b)
    }

    pub fn name(&self) -> &'static str {
        self.kind.as_str()
    }

    pub fn exe(&self) -> &std::path::Path {
        &self.exe
    }

    async fn pg_admin(&self, sql: &str) -> anyhow::Result<()> {
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::PgConnection::connect(&self.pg_admin_url).await?;
        conn.execute(sql).await?;
        let _ = conn.close().await;
        Ok(())
    }

    /// Before a steady-rate run: PostgreSQL writes out what the runs before left dirty (a
    /// `CHECKPOINT`), so that the run measures the rate it is given, not PostgreSQL catching up
    /// on a saturated run's WAL (about 500 MB, whose checkpoint otherwise spreads over the
    /// next 15 s with stalls of 50-130 ms). Best effort: a role without the right to
    /// checkpoint gets a note and the run goes on. SQLite: nothing (the server's writer
    /// checkpoints its own WAL).
    pub async fn settle(&self) {
        if self.kind == StoreKind::Postgres
            && let Err(e) = self.pg_admin("CHECKPOINT").await
        {
            eprintln!("  (PostgreSQL CHECKPOINT before the steady run failed: {e})");
        }
    }

    /// The URL of database `db` on the bench's PostgreSQL server.
    pub fn pg_url(&self, db: &str) -> String {
        let admin = self.pg_admin_url.split('?').next().unwrap_or(&self.pg_admin_url);
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
        format!("{base}/{db}")
    }

    /// A new empty database (and data folder) for one scenario, removed by [`Backend::cleanup`].
    pub async fn fresh(&mut self, purpose: &str) -> anyhow::Result<Target> {
        self.counter += 1;
        let data = self.scratch.join(format!("{}-{purpose}-{}", self.name(), self.counter));
        server::remove_dir(&data);
        std::fs::create_dir_all(&data)?;
        let database_url = match self.kind {
            StoreKind::Sqlite => None,
            StoreKind::Postgres => {
                let db = format!("charla_bench_{purpose}_{}_{}", std::process::id(), self.counter);
                self.pg_admin(&format!("CREATE DATABASE {db}")).await?;
                self.pg_databases.push(db.clone());
                Some(self.pg_url(&db))
            }
        };
        Ok(Target { exe: self.exe.clone(), data, database_url })
    }

    /// Whether a dataset's database exists and holds conversations.
    pub async fn dataset_present(&self, target: &Target) -> bool {
        use sqlx::Connection;
        match self.kind {
            StoreKind::Sqlite => target.data.join("charla.db").exists(),
            StoreKind::Postgres => {
                let Some(url) = &target.database_url else { return false };
                let Ok(mut conn) = sqlx::PgConnection::connect(url).await else { return false };
                let n: Result<i64, _> =
                    sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM conversations LIMIT 1) x")
                        .fetch_one(&mut conn)
                        .await;
                let _ = conn.close().await;
                matches!(n, Ok(1))
            }
        }
    }

    /// Drops database `db` if it exists and creates it empty.
    pub async fn recreate_database(&mut self, db: &str) -> anyhow::Result<()> {
        self.pg_admin(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await?;
        self.pg_admin(&format!("CREATE DATABASE {db}")).await
    }

    /// Removes these at cleanup too.
    pub fn forget_on_cleanup(&mut self, db: Option<String>, dir: Option<PathBuf>, file: Option<PathBuf>) {
        self.pg_databases.extend(db);
        self.remove.extend(dir);
        self.remove.extend(file);
    }

    /// Drops the scratch databases (and what [`Backend::forget_on_cleanup`] named).
    pub async fn cleanup(&mut self) {
        for db in std::mem::take(&mut self.pg_databases) {
            if let Err(e) = self.pg_admin(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await {
                eprintln!("warning: cannot drop database {db}: {e}");
            }
        }
        for path in std::mem::take(&mut self.remove) {
            if path.is_dir() {
                server::remove_dir(&path);
            } else if path.exists() {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// Raises this process's open-file limit as far as allowed (the server child inherits it).
pub fn raise_nofile_limit(want: u64) -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let cur = getrlimit(Resource::Nofile);
    let hard = cur.maximum.unwrap_or(u64::MAX);
    // Privileged processes may raise the hard limit too; others stop at it.
    if hard < want {
        let _ = setrlimit(Resource::Nofile, Rlimit { current: Some(want), maximum: Some(want) });
    }
    let now = getrlimit(Resource::Nofile);
    let hard = now.maximum.unwrap_or(u64::MAX);
    let soft = want.min(hard);
    if now.current.is_some_and(|c| c < soft) {
        let _ = setrlimit(Resource::Nofile, Rlimit { current: Some(soft), maximum: now.maximum });
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Runs the selected scenarios on the selected stores, prints the table, writes the JSON.
pub async fn run(args: BenchArgs) -> anyhow::Result<Report> {
    if args.stores.is_empty() || args.only.is_empty() {
        bail!("nothing to run: --stores and --only need at least one value");
    }
    let sizes = Sizes::of(&args);
    let exe = match &args.server_exe {
        Some(p) => p.clone(),
        None => std::env::current_exe().context("cannot find the charla executable")?,
    };
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("cannot create the bench data folder {}", args.data.display()))?;
    let scratch = args.data.join(format!("scratch-{}", std::process::id()));
    println!("charla bench: {:?} size, stores {:?}, data in {}", args.size, args.stores, args.data.display());
    let mut report = Report::default();
    let result = run_all(&args, &sizes, &exe, &scratch, &mut report).await;
    server::remove_dir(&scratch);
    result?;

    println!("\n{}", report.table());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("results written to {}", path.display());
    }
    Ok(report)
}

async fn run_all(
    args: &BenchArgs,
    sizes: &Sizes,
    exe: &std::path::Path,
    scratch: &std::path::Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    for &kind in &args.stores {
        let mut backend = Backend::new(kind, args, exe.to_path_buf(), scratch.to_path_buf()).await?;
        println!("\n== {} ==", backend.name());
        let result = run_store(args, sizes, &mut backend, report).await;
        backend.cleanup().await;
        result?;
    }
    Ok(())
}

async fn run_store(args: &BenchArgs, sizes: &Sizes, backend: &mut Backend, report: &mut Report) -> anyhow::Result<()> {
    let wants = |s: ScenarioKind| args.only.contains(&s);
    let mut existing: Option<Target> = None;
    if wants(ScenarioKind::Ingest) {
        println!(
            "ingest: {} clients, up to {} messages or {} s; then {} messages/s for {} s; {} operator socket(s), {} visitor socket(s)",
            sizes.clients,
            sizes.ingest_messages,
            sizes.ingest_secs,
            sizes.steady_rate,
            sizes.steady_secs,
            1 + sizes.watchers,
            sizes.visitors
        );
        existing = Some(ingest::run(backend, sizes, report).await.context("ingest scenario")?);
    }
    if wants(ScenarioKind::Idle) {
        println!("idle: {} connections", sizes.connections);
        let target = match &existing {
            Some(t) => t.clone(),
            None => {
                let t = backend.fresh("idle").await?;
                t.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await?;
                t
            }
        };
        idle::run(backend, sizes.connections, sizes.settle, &target, report).await.context("idle scenario")?;
    }
    let (inbox, reports, startup) =
        (wants(ScenarioKind::Inbox), wants(ScenarioKind::Reports), wants(ScenarioKind::Startup));
    if inbox || reports || startup {
        let (target, facts) = dataset::ensure(backend, &args.data, sizes.dataset, args.reuse, args.cleanup)
            .await
            .context("inbox dataset")?;
        if startup {
            println!("startup: {} starts per database", sizes.starts);
            startup::run(backend, sizes, &target, report).await.context("startup scenario")?;
        }
        if inbox || reports {
            println!("inbox/reports: {} samples per query", sizes.samples);
            let server = server::Server::start(&target).await?;
            let result = inbox::run(
                backend.name(),
                &server,
                &facts,
                sizes.samples,
                sizes.report_samples,
                (inbox, reports),
                report,
            )
            .await
            .context("inbox scenario");
            server.stop().await?;
            result?;
        }
    }
    Ok(())
}
