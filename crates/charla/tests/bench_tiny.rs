//! `charla bench` at tiny sizes, every scenario, on SQLite and PostgreSQL: keeps the bench from
//! rotting. It checks the shape and sanity of the figures, never whether targets are met
//! (timings depend on the machine; the full run is `charla bench`, see the README).
//!
//! PostgreSQL comes from `CHARLA_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`);
//! the bench makes its own databases there and drops them. Unreachable is a failure.

use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

fn pg_url() -> String {
    std::env::var("CHARLA_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

#[test]
fn every_scenario_runs_at_tiny_size_on_both_stores() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("bench.json");
    let out = Command::new(env!("CARGO_BIN_EXE_charla"))
        .args(["bench", "--size", "tiny", "--stores", "sqlite,postgres", "--cleanup", "--postgres-url"])
        .arg(pg_url())
        .arg("--data")
        .arg(dir.path().join("bench-data"))
        .arg("--json")
        .arg(&json)
        .output()
        .expect("run charla bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "charla bench failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("baseline"), "the table is printed:\n{stdout}");

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("json file")).expect("json");
    let rows = report["scenarios"].as_array().expect("scenarios array");
    let mut seen = BTreeSet::new();
    for r in rows {
        for key in ["name", "store", "metric", "value", "unit", "baseline", "ratio", "target", "met"] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
        let (value, baseline, ratio) = (
            r["value"].as_f64().expect("value"),
            r["baseline"].as_f64().expect("baseline"),
            r["ratio"].as_f64().expect("ratio"),
        );
        // Memory growth per socket may read 0 at this size (sockets fitting in memory the
        // allocator kept); every other figure is a positive measurement.
        let may_be_zero = r["metric"].as_str().is_some_and(|m| m.starts_with("rss_per_"));
        assert!(value.is_finite() && (value > 0.0 || (may_be_zero && value == 0.0)), "value must be positive: {r}");
        assert!(baseline > 0.0 && baseline.is_finite(), "baseline must be present and positive: {r}");
        let want = value / baseline;
        assert!((ratio - want).abs() <= 1e-3 * want.max(1.0), "ratio = value / baseline: {r}");
        assert!(r["unit"].as_str().is_some_and(|u| !u.is_empty()), "{r}");
        match (&r["target"], &r["met"]) {
            (Value::Null, Value::Null) => {}
            (Value::Number(_), Value::Bool(_)) => {}
            other => panic!("target and met go together: {other:?} in {r}"),
        }
        seen.insert((r["name"].as_str().unwrap_or("").to_string(), r["store"].as_str().unwrap_or("").to_string()));
    }
    for store in ["sqlite", "postgres"] {
        for name in ["ingest", "idle", "inbox", "reports", "startup"] {
            assert!(seen.contains(&(name.to_string(), store.to_string())), "no {name} figures for {store}: {seen:?}");
        }
    }
    // Where the CPU goes at saturation: the machine and the server on both stores, the SQLite
    // writer thread where there is one.
    let metrics: BTreeSet<(String, String)> = rows
        .iter()
        .filter(|r| r["name"] == "ingest")
        .map(|r| (r["store"].as_str().unwrap_or("").to_string(), r["metric"].as_str().unwrap_or("").to_string()))
        .collect();
    for (store, metric) in [
        ("sqlite", "cpu_per_message"),
        ("sqlite", "server_cpu_per_message"),
        ("sqlite", "writer_cpu_per_message"),
        ("postgres", "cpu_per_message"),
        ("postgres", "server_cpu_per_message"),
    ] {
        assert!(
            metrics.contains(&(store.to_string(), metric.to_string())),
            "no ingest {metric} for {store}: {metrics:?}"
        );
    }
    assert!(stdout.contains("CPU per message at saturation"), "the CPU line is printed:\n{stdout}");
    assert!(
        !dir.path().join("bench-data").read_dir().map(|mut d| d.next().is_some()).unwrap_or(false),
        "--cleanup leaves nothing behind"
    );
}
