//! Charla's server: the HTTP + WebSocket API, authentication, the realtime hub, timed jobs,
//! channel adapters and outbound delivery.
//!
//! Layering: handlers check permissions with `charla-core`, act through the `Store` trait, and
//! publish the events the store returns on the [`bus::Bus`]. Nothing here runs SQL.

pub mod api;
pub mod auth;
pub mod bus;
pub mod channels;
pub mod config;
pub mod error;
pub mod extract;
pub mod files;
pub mod hooks;
pub mod jobs;
pub mod outbox;
pub mod signature;
pub mod state;
pub mod visitor;
pub mod web;
pub mod wire;
pub mod ws;

use anyhow::Context;
use auth::BearerScheme;
use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use config::Config;
pub use state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Charla API", description = "Omnichannel customer conversations: the operator API."),
    modifiers(&BearerScheme)
)]
struct ApiDoc;

/// The whole HTTP application and its OpenAPI document.
pub fn app(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let (api_router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::router())
        .merge(ws::router())
        .merge(visitor::api_router())
        .split_for_parts();
    let openapi_json = Arc::new(openapi.clone());
    let router = Router::new()
        .merge(api_router)
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = openapi_json.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(hooks::router())
        .merge(visitor::router(state.clone()))
        .route("/healthz", get(api::health::healthz))
        .route("/metrics", get(api::health::metrics))
        // The operator web app at `/` (and its pages); unknown /api and /hooks paths stay JSON 404s.
        .fallback(web::fallback)
        .layer(axum::extract::DefaultBodyLimit::max(state.config.max_body_bytes))
        .with_state(state);
    (router, openapi)
}

/// A running server: its address and a way to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets background work finish its current step, closes the store.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        self.state.store.shutdown().await;
    }
}

/// Opens the store, starts the background workers and serves HTTP until stopped.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    let state = AppState::open(config).await?;
    let listener = tokio::net::TcpListener::bind(&state.config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", state.config.listen))?;
    let addr = listener.local_addr()?;
    // Every answer and WebSocket frame goes out at once. Without TCP_NODELAY the kernel holds a
    // small write while an earlier one is unacknowledged, and a peer that only reads (an
    // operator's socket between events) acknowledges after its 40 ms delayed-ACK timer: events
    // written one after another reached the operator up to 40 ms late.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY on an accepted connection: {e}");
        }
    });
    let (shutdown, rx) = watch::channel(false);
    let workers = vec![
        tokio::spawn(jobs::run(state.clone(), rx.clone())),
        tokio::spawn(ws::run_presence_sweeper(state.clone(), rx.clone())),
        tokio::spawn(jobs::run_housekeeping(state.clone(), rx.clone())),
    ];
    let (router, _) = app(state.clone());
    let mut stop = rx.clone();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            });
        if let Err(e) = serve.await {
            tracing::error!("http server: {e}");
        }
        for w in workers {
            let _ = w.await;
        }
    });
    tracing::info!("charla listening on http://{addr} ({} store)", state.store.backend());
    Ok(Running { addr, state, shutdown, task })
}
