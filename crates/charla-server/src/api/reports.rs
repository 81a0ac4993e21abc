//! Reports: how each operator did over a period.

use crate::api::require_settings;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Query;
use crate::state::{AppState, now_ms};
use crate::wire;
use axum::extract::State;
use charla_core::{Id, Millis};
use charla_store::{OperatorStats, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Default report period: the last 30 days.
const DEFAULT_DAYS: i64 = 30;
/// Longest period one request may cover.
const MAX_DAYS: i64 = 400;
const DAY_MS: Millis = 24 * 60 * 60 * 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(operators_report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// Start of the period (RFC 3339, included); default: 30 days before `to`.
    pub from: Option<String>,
    /// End of the period (RFC 3339, excluded); default: now.
    pub to: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OperatorsReport {
    pub from: String,
    pub to: String,
    /// Operators with attentions opened in the period, by user id.
    pub operators: Vec<OperatorReport>,
}

/// One operator's figures over the attentions assigned to them that were opened in the period.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OperatorReport {
    pub user_id: Id,
    pub name: String,
    /// Attentions handled.
    pub attentions: i64,
    /// Of those, how many got a first response.
    pub responded: i64,
    /// First-response time (first answer minus opening of the attention), in seconds.
    pub first_response_median_secs: Option<f64>,
    pub first_response_average_secs: Option<f64>,
    pub ratings: Ratings,
}

/// The contacts' ratings of these attentions: counts, and shares of the rated ones (null when
/// none was rated).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Ratings {
    pub count: i64,
    pub satisfied: i64,
    pub neutral: i64,
    pub dissatisfied: i64,
    pub satisfied_share: Option<f64>,
    pub neutral_share: Option<f64>,
    pub dissatisfied_share: Option<f64>,
}

fn secs(ms: Option<i64>) -> Option<f64> {
    ms.map(|v| v as f64 / 1000.0)
}

impl OperatorReport {
    fn new(s: &OperatorStats, name: String) -> OperatorReport {
        let count = s.satisfied + s.neutral + s.dissatisfied;
        let share = |n: i64| (count > 0).then(|| n as f64 / count as f64);
        OperatorReport {
            user_id: s.user_id,
            name,
            attentions: s.attentions,
            responded: s.responded,
            first_response_median_secs: secs(s.first_response_median_ms),
            first_response_average_secs: secs(s.first_response_avg_ms),
            ratings: Ratings {
                count,
                satisfied: s.satisfied,
                neutral: s.neutral,
                dissatisfied: s.dissatisfied,
                satisfied_share: share(s.satisfied),
                neutral_share: share(s.neutral),
                dissatisfied_share: share(s.dissatisfied),
            },
        }
    }
}

fn bad_time(name: &str, v: &str) -> ApiError {
    ApiError::bad_request("invalid_query", format!("invalid value {v:?} for parameter {name}: expected RFC 3339"))
}

/// Per operator: attentions handled, median and average first-response time, and rating
/// shares, over the attentions opened in `[from, to)`. Needs `manage_settings` (admins have it).
#[utoipa::path(
    get, path = "/api/v1/reports/operators", tag = "reports",
    params(ReportParams),
    responses(
        (status = 200, body = OperatorsReport),
        (status = 400, description = "invalid_query", body = ErrorBody),
        (status = 403, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn operators_report(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(params): Query<ReportParams>,
) -> ApiResult<axum::Json<OperatorsReport>> {
    require_settings(&me)?;
    let to = match params.to.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => wire::parse_time(v).ok_or_else(|| bad_time("to", v))?,
        None => now_ms(),
    };
    let from = match params.from.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => wire::parse_time(v).ok_or_else(|| bad_time("from", v))?,
        None => to - DEFAULT_DAYS * DAY_MS,
    };
    if from >= to {
        return Err(ApiError::bad_request("invalid_query", "from must be before to"));
    }
    if to - from > MAX_DAYS * DAY_MS {
        return Err(ApiError::bad_request("invalid_query", format!("a report covers at most {MAX_DAYS} days")));
    }
    let ws = me.user.workspace_id;
    let stats = state.store.operator_report(ws, from, to).await.map_err(|e| match e {
        StoreError::Invalid(code, m) => ApiError::bad_request(code, m),
        e => e.into(),
    })?;
    let names: HashMap<Id, String> = state.store.list_users(ws).await?.into_iter().map(|u| (u.id, u.name)).collect();
    let operators =
        stats.iter().map(|s| OperatorReport::new(s, names.get(&s.user_id).cloned().unwrap_or_default())).collect();
    Ok(axum::Json(OperatorsReport { from: wire::time(from), to: wire::time(to), operators }))
}
