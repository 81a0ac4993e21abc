use std::path::PathBuf;
use std::time::Duration;

/// Server settings. `charla serve` fills them from flags and `CHARLA_*` variables.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    /// Data folder: the SQLite file and uploaded files live here.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; None: SQLite file `charla.db` in the data folder.
    pub database_url: Option<String>,
    /// NATS server for the realtime bus when several nodes share PostgreSQL.
    pub nats_url: Option<String>,
    /// NATS subject the nodes publish events on. Nodes of one deployment share it; tests give
    /// each server group its own so parallel runs do not hear each other.
    pub nats_subject: String,
    /// Events a node's realtime ring holds; a WebSocket connection further behind re-reads
    /// the event log.
    pub bus_capacity: usize,
    /// Largest JSON request body.
    pub max_body_bytes: usize,
    /// Largest uploaded file.
    pub max_upload_bytes: usize,
    /// Outbound delivery: attempts before a message is `failed`.
    pub delivery_max_attempts: i64,
    /// Outbound delivery: first retry delay; doubles each attempt.
    pub delivery_backoff: Duration,
    pub delivery_timeout: Duration,
    /// How often the job runner looks for due work when nothing woke it.
    pub jobs_poll: Duration,
    /// Session lifetime.
    pub session_ttl: Duration,
    /// WebSocket heartbeat (ping) interval.
    pub ws_heartbeat: Duration,
    /// Whether the session cookie needs HTTPS.
    pub secure_cookies: bool,
    /// Downloading a contact's media from a messenger (and uploading ours) may take this long.
    pub media_timeout: Duration,
    /// Send limits of the messengers: Telegram about 30 messages a second per bot, one a
    /// second per chat and 20 a minute per group; WhatsApp Cloud API 80 a second per number.
    pub telegram_per_bot_per_sec: f64,
    pub telegram_chat_interval: Duration,
    pub telegram_group_interval: Duration,
    pub whatsapp_per_number_per_sec: f64,
    /// A send that must wait longer than this for a limit is put back in the outbox instead
    /// of waiting in the worker.
    pub max_inline_wait: Duration,
    /// The address visitors and operators reach this server at (`https://chat.example.com`):
    /// website channels' snippet and chat link use it. None: the address of the request that
    /// created or changed the channel.
    pub public_url: Option<String>,
    /// MaxMind-format GeoIP database (GeoLite2-Country or -City) for the country rules of
    /// website channels; None: visitors' countries are unknown.
    pub geoip_db: Option<PathBuf>,
    /// SMTP server for transcripts, lettre's URL form (`smtp://user:pass@host:587?tls=required`,
    /// `smtps://host:465`, `smtp://127.0.0.1:25`); None: no e-mail is sent.
    pub smtp_url: Option<String>,
    /// The sender of transcripts.
    pub smtp_from: String,
    /// Behind a reverse proxy: take the client's address from `X-Forwarded-For` (and the public
    /// address from `X-Forwarded-Host`/`-Proto`).
    pub trust_proxy: bool,
    /// Largest file a website visitor may send.
    pub visitor_max_upload_bytes: usize,
    /// Visitor requests: a burst of this many, then this many a second, per client address…
    pub visitor_burst_per_ip: u32,
    pub visitor_rate_per_ip: f64,
    /// … and per visitor.
    pub visitor_burst_per_visitor: u32,
    pub visitor_rate_per_visitor: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./charla-data"),
            database_url: None,
            nats_url: None,
            nats_subject: "charla.events".into(),
            bus_capacity: crate::bus::BROADCAST_CAPACITY,
            max_body_bytes: 256 * 1024,
            max_upload_bytes: 20 * 1024 * 1024,
            delivery_max_attempts: 8,
            delivery_backoff: Duration::from_secs(2),
            delivery_timeout: Duration::from_secs(10),
            jobs_poll: Duration::from_secs(1),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            ws_heartbeat: Duration::from_secs(25),
            secure_cookies: false,
            media_timeout: Duration::from_secs(60),
            telegram_per_bot_per_sec: 30.0,
            telegram_chat_interval: Duration::from_secs(1),
            telegram_group_interval: Duration::from_secs(3),
            whatsapp_per_number_per_sec: 80.0,
            max_inline_wait: Duration::from_secs(2),
            public_url: None,
            geoip_db: None,
            smtp_url: None,
            smtp_from: "Charla <charla@localhost>".into(),
            trust_proxy: false,
            visitor_max_upload_bytes: 10 * 1024 * 1024,
            visitor_burst_per_ip: 120,
            visitor_rate_per_ip: 5.0,
            visitor_burst_per_visitor: 60,
            visitor_rate_per_visitor: 2.0,
        }
    }
}

impl Config {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("charla.db").display()),
        }
    }
}
