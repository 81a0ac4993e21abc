//! `charla`: the command line over the server.

use anyhow::{Context, bail};
use charla_core::{Flags, Language, Role};
use charla_server::Config;
use charla_store::sql::{Options, SqlStore};
use charla_store::{NewUser, Store};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// mimalloc, also in place of the C library's malloc (the `override` feature), so that SQLite
/// allocates from it too. The SQLite writer allocates and frees on every statement (statement
/// journals, rows, values) while the runtime's threads free what it made (events): with glibc's
/// arenas those frees and allocations contended for the same arena lock (perf of `charla bench`
/// ingest: a quarter of the writer's time in malloc, a tenth in futex wake-ups).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "charla", version, about = "Charla: self-hosted omnichannel customer conversations")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply database migrations and exit (serve also migrates on start).
    Migrate(StoreArgs),
    /// Measure the hot paths against a server process on SQLite and PostgreSQL and print the
    /// figures beside their baselines and targets (see the README's Benchmarks section).
    Bench(Box<charla_bench::BenchArgs>),
    /// Administration tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin (and the first workspace, if there is none yet).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args, Clone)]
struct StoreArgs {
    /// Data folder: the SQLite database and uploaded files.
    #[arg(long = "data", env = "CHARLA_DATA", default_value = "./charla-data")]
    data: PathBuf,
    /// `postgres://...` selects PostgreSQL; default: SQLite in the data folder.
    #[arg(long, env = "CHARLA_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, env = "CHARLA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    #[command(flatten)]
    store: StoreArgs,
    /// NATS server for the realtime bus when several nodes share PostgreSQL.
    #[arg(long, env = "CHARLA_NATS_URL")]
    nats_url: Option<String>,
    /// Mark the session cookie Secure (serve behind HTTPS).
    #[arg(long, env = "CHARLA_SECURE_COOKIES")]
    secure_cookies: bool,
    /// This server's public address (`https://chat.example.com`), used in website channels'
    /// snippet and chat link.
    #[arg(long, env = "CHARLA_PUBLIC_URL")]
    public_url: Option<String>,
    /// A MaxMind-format GeoIP database file (GeoLite2-Country) for website channels' country rules.
    #[arg(long, env = "CHARLA_GEOIP_DB")]
    geoip_db: Option<PathBuf>,
    /// SMTP server for chat transcripts: `smtp://user:pass@host:587?tls=required`, `smtps://host:465`...
    #[arg(long, env = "CHARLA_SMTP_URL")]
    smtp_url: Option<String>,
    /// Sender of the e-mails (`Support <support@example.com>`).
    #[arg(long, env = "CHARLA_SMTP_FROM")]
    smtp_from: Option<String>,
    /// Behind a reverse proxy: trust X-Forwarded-For/-Host/-Proto.
    #[arg(long, env = "CHARLA_TRUST_PROXY")]
    trust_proxy: bool,
}

impl StoreArgs {
    fn config(&self) -> Config {
        Config { data_dir: self.data.clone(), database_url: self.database_url.clone(), ..Config::default() }
    }
    async fn open(&self) -> anyhow::Result<SqlStore> {
        let config = self.config();
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data folder {}", config.data_dir.display()))?;
        SqlStore::open(&config.database_url(), Options::default())
            .await
            .map_err(|e| anyhow::anyhow!("cannot open database: {e}"))
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The bench prints its own progress; its in-process store's slow-statement notes (the
    // dataset load) are noise there.
    let default_filter = if matches!(cli.command, Command::Bench(_)) { "warn,sqlx=error" } else { "info,sqlx=warn" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_filter.into()),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            raise_open_files_limit();
            let config = Config {
                listen: args.listen,
                nats_url: args.nats_url,
                secure_cookies: args.secure_cookies,
                public_url: args.public_url,
                geoip_db: args.geoip_db,
                smtp_url: args.smtp_url,
                trust_proxy: args.trust_proxy,
                ..args.store.config()
            };
            let config = match args.smtp_from {
                Some(from) => Config { smtp_from: from, ..config },
                None => config,
            };
            let running = charla_server::start(config).await?;
            println!("charla listening on http://{}", running.addr);
            shutdown_signal().await;
            tracing::info!("shutting down");
            running.stop().await;
            Ok(())
        }
        Command::Bench(args) => {
            charla_bench::run(*args).await?;
            Ok(())
        }
        Command::Migrate(args) => {
            let store = args.open().await?;
            store.shutdown().await;
            println!("database is up to date");
            Ok(())
        }
        Command::Admin { command: AdminCommand::Create { email, password, name, store: args } } => {
            if password.chars().count() < 8 {
                bail!("the password must have at least 8 characters");
            }
            let store = args.open().await?;
            let result = create_admin(&store, &email, &password, name).await;
            store.shutdown().await;
            let user = result?;
            println!("admin {} created (id {}) in workspace {}", user.email, user.id, user.workspace_id);
            Ok(())
        }
    }
}

/// Every connection (operators, visitors' widgets) is a file descriptor: take the soft limit
/// up to the hard limit the system allows, as servers do.
fn raise_open_files_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit { current: limit.maximum, maximum: limit.maximum };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!("cannot raise the open files limit: {e}");
        }
    }
}

async fn create_admin(
    store: &SqlStore,
    email: &str,
    password: &str,
    name: Option<String>,
) -> anyhow::Result<charla_core::User> {
    let workspace = match store.first_workspace().await? {
        Some(w) => w,
        None => store.create_workspace("Charla").await?,
    };
    let hash =
        charla_server::auth::hash_password(password.to_string()).await.map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or(email).to_string());
    match store
        .create_user(NewUser {
            workspace_id: workspace.id,
            email: email.to_string(),
            name,
            display_name: String::new(),
            password_hash: hash,
            role: Role::Admin,
            flags: Flags::default(),
            language: Language::En,
        })
        .await
    {
        Ok(u) => Ok(u),
        Err(charla_store::StoreError::Conflict(_)) => bail!("a user with e-mail {email} already exists"),
        Err(e) => Err(e.into()),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
