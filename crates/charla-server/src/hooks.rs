//! Inbound webhooks of the channels (`/hooks/...`).

use crate::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
