use crate::bus::{self, Bus};
use crate::config::Config;
use anyhow::Context;
use charla_store::sql::{Options, SqlStore};
use charla_store::{Event, Store};
use std::sync::Arc;

/// What every handler and worker shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub config: Arc<Config>,
    /// Key for session tokens and confirmation tokens (from the store, shared by all nodes).
    pub secret: Arc<Vec<u8>>,
    /// Client for outbound webhooks.
    pub http: reqwest::Client,
    /// Wakes the job runner when new work is due soon.
    pub jobs_wake: Arc<tokio::sync::Notify>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
}

impl AppState {
    pub async fn open(config: Config) -> anyhow::Result<AppState> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data folder {}", config.data_dir.display()))?;
        std::fs::create_dir_all(config.data_dir.join("files"))?;
        let url = config.database_url();
        let store =
            SqlStore::open(&url, Options::default()).await.map_err(|e| anyhow::anyhow!("cannot open database: {e}"))?;
        let store: Arc<dyn Store> = Arc::new(store);
        let secret = store.server_secret().await.map_err(|e| anyhow::anyhow!("server secret: {e}"))?;
        let bus = bus::connect(&config, store.clone()).await?;
        let http = reqwest::Client::builder()
            .timeout(config.delivery_timeout)
            .user_agent(concat!("Charla/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(AppState {
            store,
            bus,
            config: Arc::new(config),
            secret: Arc::new(secret),
            http,
            jobs_wake: Arc::new(tokio::sync::Notify::new()),
            metrics: crate::api::health::metrics_handle(),
        })
    }

    /// Sends what a write produced to every node's connections.
    pub async fn publish(&self, events: Vec<Event>) {
        if !events.is_empty() {
            self.bus.publish(events).await;
        }
    }
}

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
