//! The results: one row per measured figure, printed as a table and written as JSON.

use serde::{Deserialize, Serialize};

/// Which way a figure is better, to tell whether it reaches its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// One figure: `value` measured through the server, `baseline` the same work measured in the
/// same run without the part under test (see each scenario), `ratio = value / baseline`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub name: String,
    pub store: String,
    pub metric: String,
    pub value: f64,
    pub unit: String,
    pub baseline: f64,
    pub ratio: f64,
    /// None: no target for this figure (shown for context).
    pub target: Option<f64>,
    /// Whether `value` reaches `target` (at least it for throughputs, at most it otherwise);
    /// None when there is no target.
    pub met: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub scenarios: Vec<ScenarioResult>,
}

impl ScenarioResult {
    pub fn new(
        name: &str,
        store: &str,
        metric: &str,
        value: f64,
        unit: &str,
        baseline: f64,
        target: Option<(Better, f64)>,
    ) -> ScenarioResult {
        let ratio = if baseline != 0.0 { value / baseline } else { 0.0 };
        let met = target.map(|(better, t)| match better {
            Better::Higher => value >= t,
            Better::Lower => value <= t,
        });
        ScenarioResult {
            name: name.into(),
            store: store.into(),
            metric: metric.into(),
            value: round(value),
            unit: unit.into(),
            baseline: round(baseline),
            ratio: round(ratio),
            target: target.map(|(_, t)| t),
            met,
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            None => "-".into(),
            Some(t) => {
                let op = if self.unit.ends_with("/s") || self.unit == "connections" { ">=" } else { "<=" };
                format!("{op} {}", fmt_num(t))
            }
        }
    }
}

/// Four significant decimals are more than any figure here deserves.
fn round(v: f64) -> f64 {
    if !v.is_finite() {
        return 0.0;
    }
    (v * 10_000.0).round() / 10_000.0
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

impl Report {
    pub fn push(&mut self, r: ScenarioResult) {
        println!("  {:<14} {:<9} {:<34} {:>10} {}", r.name, r.store, r.metric, fmt_num(r.value), r.unit);
        self.scenarios.push(r);
    }

    /// The table of every figure.
    pub fn table(&self) -> String {
        let headers = ["scenario", "store", "metric", "value", "unit", "baseline", "ratio", "target", "met"];
        let rows: Vec<[String; 9]> = self
            .scenarios
            .iter()
            .map(|r| {
                [
                    r.name.clone(),
                    r.store.clone(),
                    r.metric.clone(),
                    fmt_num(r.value),
                    r.unit.clone(),
                    fmt_num(r.baseline),
                    format!("{:.2}", r.ratio),
                    r.target_text(),
                    match r.met {
                        None => "-".into(),
                        Some(true) => "yes".into(),
                        Some(false) => "NO".into(),
                    },
                ]
            })
            .collect();
        let mut widths = headers.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let numeric = [false, false, false, true, false, true, true, true, false];
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, cell) in cells.iter().enumerate() {
                let pad = widths[i] - cell.chars().count();
                if numeric[i] {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                } else {
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad));
                }
                s.push_str("  ");
            }
            s.trim_end().to_string() + "\n"
        };
        let mut out = line(&headers.map(String::from));
        out.push_str(&line(&widths.map(|w| "-".repeat(w))));
        for row in &rows {
            out.push_str(&line(row));
        }
        out
    }
}

/// Percentile (0..=100) of sorted samples, nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sorts samples (milliseconds) and gives p50 and p99.
pub fn p50_p99(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(|a, b| a.total_cmp(b));
    (percentile(samples, 50.0), percentile(samples, 99.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_ratios() {
        let r = ScenarioResult::new(
            "ingest",
            "sqlite",
            "throughput",
            25_000.0,
            "messages/s",
            50_000.0,
            Some((Better::Higher, 20_000.0)),
        );
        assert_eq!(r.ratio, 0.5);
        assert_eq!(r.met, Some(true));
        let r = ScenarioResult::new("ingest", "sqlite", "p99", 12.0, "ms", 3.0, Some((Better::Lower, 10.0)));
        assert_eq!(r.met, Some(false));
        assert_eq!(r.ratio, 4.0);
        let r = ScenarioResult::new("x", "postgres", "p50", 1.0, "ms", 1.0, None);
        assert_eq!(r.met, None);
        let mut rep = Report::default();
        rep.scenarios.push(r);
        assert!(rep.table().contains("postgres"));
    }

    #[test]
    fn percentiles() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(p50_p99(&mut v), (50.0, 99.0));
        assert_eq!(percentile(&[3.0], 99.0), 3.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
