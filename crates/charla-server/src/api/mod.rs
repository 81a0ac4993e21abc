//! The REST API under `/api/v1`: one file per resource.

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub mod health;

/// Every `/api/v1` route, with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
