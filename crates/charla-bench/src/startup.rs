//! Scenario 5 — start-up: time from spawning `charla serve` to the first `200` of `/healthz`,
//! and the server's resident memory once it is up and idle.
//!
//! Value: on an existing database (the inbox dataset when it was generated, else the one the
//! ingest scenario wrote). Baseline: on an empty database (migrated, one admin).

use crate::report::{Better, Report, ScenarioResult, percentile};
use crate::server::{Server, Target};
use crate::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Sizes};
use std::time::Duration;

/// Median start-up time (ms) and median idle RSS (KiB) over `starts` starts.
pub async fn measure(target: &Target, starts: usize, settle: Duration) -> anyhow::Result<(f64, f64)> {
    let mut times = Vec::with_capacity(starts);
    let mut rss = Vec::with_capacity(starts);
    for _ in 0..starts {
        let server = Server::start(target).await?;
        times.push(server.ready_after.as_secs_f64() * 1000.0);
        tokio::time::sleep(settle).await;
        rss.push(server.rss_kib()? as f64);
        server.stop().await?;
    }
    times.sort_by(f64::total_cmp);
    rss.sort_by(f64::total_cmp);
    Ok((percentile(&times, 50.0), percentile(&rss, 50.0)))
}

pub async fn run(backend: &mut Backend, sizes: &Sizes, existing: &Target, report: &mut Report) -> anyhow::Result<()> {
    let empty = backend.fresh("empty").await?;
    empty.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await?;
    // One start first, so neither side pays for first-time work (migrations, cold files).
    Server::start(&empty).await?.stop().await?;
    Server::start(existing).await?.stop().await?;
    let (base_ms, base_rss) = measure(&empty, sizes.starts, sizes.settle).await?;
    let (ms, rss) = measure(existing, sizes.starts, sizes.settle).await?;
    let store = backend.name();
    report.push(ScenarioResult::new(
        "startup",
        store,
        "idle_rss",
        rss / 1024.0,
        "MiB",
        base_rss / 1024.0,
        Some((Better::Lower, 30.0)),
    ));
    report.push(ScenarioResult::new("startup", store, "ready", ms, "ms", base_ms, Some((Better::Lower, 300.0))));
    Ok(())
}
