//! The job runner: auto-close, snooze wake-up and outbound delivery.

use crate::state::AppState;
use tokio::sync::watch;

pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let _ = state;
    let _ = stop.wait_for(|s| *s).await;
}
