//! Scenario 3 — the inbox at scale, and scenario 4 — reports, on the generated dataset.
//!
//! Value: each query through the HTTP API (the session check included), one at a time, as
//! the admin and three agents in turn (one with `see_all_conversations`); p50 and p99 of the
//! samples. Baseline: the same store calls in this process on the same database (the viewer
//! loaded once), i.e. the query without HTTP, session and JSON, each sample interleaved with
//! its HTTP request (which goes first alternates, so neither always finds the other's pages
//! read).
//!
//! Queries: the first page of each section with its counters (processing order); all by last
//! activity; filtered by a tag and a channel; contact search (4-6 characters of a name, or
//! phone digits: the search's Contacts tab); message full-text search (a product name of
//! middling frequency: its Messages tab); the search box looking in both for a contact's name
//! (most common first names are in thousands of messages too, greetings); opening a
//! conversation of 1,000 messages (the conversation, then its latest page of history).
//! Report: per-operator figures over the dataset's last 30 days.

use crate::client::Api;
use crate::dataset::{Facts, OPERATOR_PASSWORD};
use crate::report::{Better, Report, ScenarioResult, p50_p99};
use crate::server::Server;
use anyhow::Context;
use charla_core::access::Viewer;
use charla_core::search::SearchScope;
use charla_core::{Id, Millis};
use charla_store::sql::{Options, SqlStore};
use charla_store::{ConversationFilter, Section, Sort, Store, TagFilter};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

const WORKSPACE: Id = 1;
const DAY: Millis = 24 * 60 * 60 * 1000;

/// `samples` timed runs of `f(i)` (after a few untimed ones), in milliseconds.
async fn time<F, Fut>(samples: usize, mut f: F) -> anyhow::Result<Vec<f64>>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    for i in 0..samples.clamp(1, 3) {
        f(i).await?;
    }
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        let t = Instant::now();
        f(i).await?;
        out.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(out)
}

/// One kind of query: its query string (or None for "open conversation") and the filter.
struct Query {
    metric: &'static str,
    /// Query string for `GET /api/v1/conversations` for sample `i`.
    http: Box<dyn Fn(usize) -> String + Send + Sync>,
    filter: Box<dyn Fn(usize) -> ConversationFilter + Send + Sync>,
}

fn queries(facts: &Facts) -> Vec<Query> {
    let section = |name: &'static str, s: Section| Query {
        metric: name,
        http: Box::new(move |_| format!("section={}", name.trim_start_matches("section_"))),
        filter: Box::new(move |_| ConversationFilter { section: s, limit: 50, ..Default::default() }),
    };
    let tags = facts.filter_tag_ids.clone();
    let channels = facts.channel_ids.clone();
    let (tags2, channels2) = (tags.clone(), channels.clone());
    let contact_terms = Arc::new(facts.contact_terms.clone());
    let fulltext_terms = Arc::new(facts.fulltext_terms.clone());
    // Sample `i` of a search looks for term `from + i` of `terms`, in `scope`.
    let search = |metric: &'static str, terms: Arc<Vec<String>>, scope: SearchScope, from: usize| {
        let pick =
            move |i: usize| terms.get((from + i) % terms.len().max(1)).cloned().unwrap_or_else(|| "maria".into());
        let pick2 = pick.clone();
        let scope_param = match scope {
            SearchScope::Everywhere => "",
            SearchScope::Contacts => "&search_in=contacts",
            SearchScope::Messages => "&search_in=messages",
        };
        Query {
            metric,
            http: Box::new(move |i| format!("section=all&q={}{scope_param}", urlencode(&pick(i)))),
            filter: Box::new(move |i| ConversationFilter {
                search: charla_core::search::parse(&pick2(i)).ok().map(|t| t.within(scope)),
                limit: 50,
                ..Default::default()
            }),
        }
    };
    vec![
        section("section_mine", Section::Mine),
        section("section_unassigned", Section::Unassigned),
        section("section_all", Section::All),
        section("section_teammates", Section::Teammates),
        Query {
            metric: "all_by_last_activity",
            http: Box::new(|_| "section=all&sort=last_activity".into()),
            filter: Box::new(|_| ConversationFilter { sort: Sort::LastActivity, limit: 50, ..Default::default() }),
        },
        Query {
            metric: "filter_tag_and_channel",
            http: Box::new(move |i| {
                format!("section=all&tag={}&channel_id={}", tags[i % tags.len()], channels[i % channels.len()])
            }),
            filter: Box::new(move |i| ConversationFilter {
                tag: TagFilter::All(vec![tags2[i % tags2.len()]]),
                channel_id: Some(channels2[i % channels2.len()]),
                limit: 50,
                ..Default::default()
            }),
        },
        // The search's Contacts tab, its Messages tab, and the search box (both at once) with a
        // contact's name, on other terms than the Contacts tab's (none read before).
        search("search_contact", contact_terms.clone(), SearchScope::Contacts, 0),
        search("search_fulltext", fulltext_terms, SearchScope::Messages, 0),
        search("search_everywhere", contact_terms.clone(), SearchScope::Everywhere, contact_terms.len() / 2),
    ]
}

/// Untimed requests of each kind before the timed ones.
const WARM_UP: usize = 50;

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The operators the queries run as: the admin and three agents.
struct Viewers {
    apis: Vec<Api>,
    viewers: Vec<Viewer>,
}

async fn viewers(server: &Server, store: &Arc<dyn Store>, facts: &Facts) -> anyhow::Result<Viewers> {
    let http = crate::client::http_client()?;
    let mut apis = vec![Api::login(&http, &server.base, &facts.admin_email, crate::ADMIN_PASSWORD).await?];
    for email in facts.agent_emails.iter().take(3) {
        apis.push(Api::login(&http, &server.base, email, OPERATOR_PASSWORD).await?);
    }
    let mut viewers = Vec::new();
    for api in &apis {
        let me = api.get("/api/v1/auth/me").await?;
        let id = me["id"].as_i64().or_else(|| me["user"]["id"].as_i64()).context("auth/me without id")?;
        viewers.push(store.viewer(WORKSPACE, id).await?);
    }
    Ok(Viewers { apis, viewers })
}

pub async fn run(
    store_name: &str,
    server: &Server,
    facts: &Facts,
    samples: usize,
    report_samples: usize,
    (do_inbox, do_reports): (bool, bool),
    report: &mut Report,
) -> anyhow::Result<()> {
    let store = SqlStore::open(&facts.url, Options::default()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let store: Arc<dyn Store> = Arc::new(store);
    let v = viewers(server, &store, facts).await?;
    let mut result = Ok(());
    if do_inbox {
        result = measure_inbox(store_name, &v, &store, facts, samples, report).await;
    }
    if do_reports && result.is_ok() {
        result = measure_report(store_name, &v, &store, facts, report_samples, report).await;
    }
    store.shutdown().await;
    result
}

async fn measure_inbox(
    store_name: &str,
    v: &Viewers,
    store: &Arc<dyn Store>,
    facts: &Facts,
    samples: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let n = v.apis.len();
    let target = Some((Better::Lower, 20.0));
    for q in queries(facts) {
        // Requests whose page held a conversation: a search that never finds one measures an
        // empty index (a load that left it unfilled), not a search.
        let found = std::sync::atomic::AtomicUsize::new(0);
        let request = |i: usize, traced: bool| {
            let api = &v.apis[i % n];
            let path = format!("/api/v1/conversations?{}", (q.http)(i));
            let found = &found;
            async move {
                let t = std::time::Instant::now();
                let page = api.get(&path).await?;
                anyhow::ensure!(page["counts"].is_object(), "no counts in {path}");
                if page["items"].as_array().is_some_and(|items| !items.is_empty()) {
                    found.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                // `CHARLA_BENCH_TRACE=1`: the requests that take 20 ms or more.
                if traced && crate::trace() && t.elapsed().as_millis() >= 20 {
                    println!("    slow: {} ms as viewer {} {path}", t.elapsed().as_millis(), i % n);
                }
                Ok(())
            }
        };
        // Warm-up, untimed: the same kind of request with the next parameters (other search
        // terms where the dataset has enough), so the timed run meets the caches of a server
        // in use, not the cold start after the dataset was written.
        time(samples.min(WARM_UP), |i| request(samples + i, false)).await.with_context(|| q.metric)?;
        // Each sample's request and its in-process baseline in turn, each first every other
        // time: whichever runs first meets the pages its parameters (a search term seen once)
        // need still on disk, the other finds them read.
        let (mut http, mut base) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
        for i in 0..samples {
            let in_process = || async {
                let t = Instant::now();
                store.list_conversations(&v.viewers[i % n], (q.filter)(i)).await?;
                anyhow::Ok(t.elapsed().as_secs_f64() * 1000.0)
            };
            let through_http = || async {
                let t = Instant::now();
                request(i, true).await.with_context(|| q.metric)?;
                anyhow::Ok(t.elapsed().as_secs_f64() * 1000.0)
            };
            if i % 2 == 0 {
                http.push(through_http().await?);
                base.push(in_process().await?);
            } else {
                base.push(in_process().await?);
                http.push(through_http().await?);
            }
        }
        anyhow::ensure!(
            found.into_inner() > 0,
            "{}: no request found a conversation (is the search index filled?)",
            q.metric
        );
        push_pair(report, store_name, q.metric, &mut http, &mut base, target);
    }

    // Opening a long conversation: the conversation, then its latest page of history (as the
    // admin, who sees them all).
    let long = if facts.long_conversation_ids.is_empty() { vec![1] } else { facts.long_conversation_ids.clone() };
    let admin = &v.apis[0];
    for id in &long {
        admin.get(&format!("/api/v1/conversations/{id}/messages?limit=50")).await?;
    }
    let mut http = time(samples, |i| {
        let id = long[i % long.len()];
        async move {
            admin.get(&format!("/api/v1/conversations/{id}")).await?;
            let page = admin.get(&format!("/api/v1/conversations/{id}/messages?limit=50")).await?;
            anyhow::ensure!(page["items"].as_array().is_some_and(|a| !a.is_empty()), "empty history of {id}");
            Ok(())
        }
    })
    .await
    .context("open conversation")?;
    let mut base = time(samples, |i| {
        let id = long[i % long.len()];
        async move {
            let conv = store.get_conversation(WORKSPACE, id).await?;
            store.conversation_row(1, conv).await?;
            store.list_messages(WORKSPACE, id, None, 50).await?;
            Ok(())
        }
    })
    .await?;
    push_pair(report, store_name, "open_conversation_1000", &mut http, &mut base, target);
    Ok(())
}

async fn measure_report(
    store_name: &str,
    v: &Viewers,
    store: &Arc<dyn Store>,
    facts: &Facts,
    report_samples: usize,
    report: &mut Report,
) -> anyhow::Result<()> {
    let admin = &v.apis[0];
    // Scenario 4: the report over the dataset's last 30 days.
    let (from, to) = (facts.now - 30 * DAY, facts.now);
    let q = format!("/api/v1/reports/operators?from={}&to={}", urlencode(&rfc3339(from)), urlencode(&rfc3339(to)));
    let mut http = time(report_samples, |_| {
        let q = q.clone();
        async move {
            let r = admin.get(&q).await?;
            anyhow::ensure!(r["operators"].as_array().is_some_and(|a| !a.is_empty()), "empty report");
            Ok(())
        }
    })
    .await
    .context("report")?;
    let mut base = time(report_samples, |_| async move {
        store.operator_report(WORKSPACE, from, to).await?;
        Ok(())
    })
    .await?;
    let (p50, p99) = p50_p99(&mut http);
    let (b50, b99) = p50_p99(&mut base);
    report.push(ScenarioResult::new("reports", store_name, "operators_30_days_p50", p50, "ms", b50, None));
    report.push(ScenarioResult::new(
        "reports",
        store_name,
        "operators_30_days_max",
        p99,
        "ms",
        b99,
        Some((Better::Lower, 1000.0)),
    ));
    Ok(())
}

fn push_pair(
    report: &mut Report,
    store: &str,
    metric: &str,
    http: &mut [f64],
    base: &mut [f64],
    target: Option<(Better, f64)>,
) {
    let (p50, p99) = p50_p99(http);
    let (b50, b99) = p50_p99(base);
    report.push(ScenarioResult::new("inbox", store, &format!("{metric}_p50"), p50, "ms", b50, None));
    report.push(ScenarioResult::new("inbox", store, &format!("{metric}_p99"), p99, "ms", b99, target));
}

fn rfc3339(ms: Millis) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}
