//! The event log and job claiming.

use super::rows::{EVENT_COLUMNS, event_from_row};
use super::*;

const MAX_EVENTS_PAGE: i64 = 1000;

/// The lock that orders the event log on PostgreSQL (see [`insert_event`]).
pub(crate) const LOG_LOCK: i64 = 7244002;

/// Reads the event log. On PostgreSQL, transactions that write events commit concurrently,
/// each holding [`LOG_LOCK`] shared from the moment it takes a seq until its commit; a reader
/// takes it exclusively for the time of its read, so every seq handed out before then has
/// committed or rolled back: no event below what the reader sees can become visible later.
/// (SQLite has one writer, whose seqs are in commit order.)
async fn read_log<'q>(
    s: &SqlStore,
    query: sqlx::query::Query<'q, sqlx::Any, AnyArguments<'q>>,
) -> StoreResult<Vec<sqlx::any::AnyRow>> {
    match s.dialect {
        Dialect::Sqlite => Ok(query.fetch_all(&s.pool).await?),
        Dialect::Postgres => {
            let mut tx = s.pool.begin().await?;
            tx.execute(format!("SELECT pg_advisory_xact_lock({LOG_LOCK})").as_str()).await?;
            let rows = query.fetch_all(&mut *tx).await?;
            tx.commit().await?;
            Ok(rows)
        }
    }
}

pub(crate) async fn events_since(s: &SqlStore, workspace_id: Id, seq: i64, limit: i64) -> StoreResult<Vec<Event>> {
    // A non-positive limit means "as many as one page may hold": resuming clients want all.
    let limit = if limit <= 0 { MAX_EVENTS_PAGE } else { limit.min(MAX_EVENTS_PAGE) };
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE workspace_id = $1 AND seq > $2 ORDER BY seq LIMIT $3");
    read_log(s, sqlx::query(&sql).bind(workspace_id).bind(seq).bind(limit)).await?.iter().map(event_from_row).collect()
}

pub(crate) async fn last_event_seq(s: &SqlStore) -> StoreResult<i64> {
    let rows = read_log(s, sqlx::query("SELECT MAX(seq) AS seq FROM events")).await?;
    let seq: Option<i64> = match rows.first() {
        Some(row) => col(row, "seq")?,
        None => None,
    };
    Ok(seq.unwrap_or(0))
}

/// A job is due when its time has come and nobody holds a live lease on it.
const DUE: &str = "run_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)";

pub(crate) async fn claim_jobs(s: &SqlStore, now: Millis, lease_ms: i64, limit: i64) -> StoreResult<Vec<Job>> {
    let limit = limit.clamp(1, 1000);
    let locked_until = now.saturating_add(lease_ms.max(0));
    // Most polls find nothing: ask a reader before queueing a write.
    let any_due: Option<Id> = sqlx::query_scalar(&format!("SELECT id FROM jobs WHERE {DUE} LIMIT 1"))
        .bind(now)
        .fetch_optional(&s.pool)
        .await?;
    if any_due.is_none() {
        return Ok(Vec::new());
    }
    // On PostgreSQL several nodes claim at once: SKIP LOCKED lets each take rows the others are
    // not taking, and the re-check of the WHERE clause on locked rows keeps a job claimed by a
    // transaction that just committed from being claimed again. SQLite has one writer.
    let skip_locked = match s.dialect {
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET locked_until = $2 WHERE id IN \
         (SELECT id FROM jobs WHERE {DUE} ORDER BY run_at, id LIMIT $3{skip_locked}) \
         RETURNING id, kind, target_id, run_at, attempts"
    );
    s.write(move |c| {
        Box::pin(async move {
            let rows = sqlx::query(&sql).bind(now).bind(locked_until).bind(limit).fetch_all(&mut *c).await?;
            let mut jobs = rows
                .iter()
                .map(|row| {
                    Ok(Job {
                        id: col(row, "id")?,
                        kind: col_enum(row, "kind", parse_job_kind)?,
                        target_id: col(row, "target_id")?,
                        run_at: col(row, "run_at")?,
                        attempts: col(row, "attempts")?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            // RETURNING gives no order.
            jobs.sort_by_key(|j| (j.run_at, j.id));
            Ok(jobs)
        })
    })
    .await
}

/// When the next job falls due: the earliest time of a job nobody holds, or the earliest end of
/// a lease that outlasts its job's time (a leased job cannot run before its lease ends, when its
/// claimer did not finish it). Each half reads the first entry of an index (`jobs_due`, and
/// `jobs_leased` of the jobs being run), where one MIN over both columns read every job, every
/// poll (migration 0014 on PostgreSQL, 0013 on SQLite).
pub(crate) async fn next_job_at(s: &SqlStore) -> StoreResult<Option<Millis>> {
    let at: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(t) FROM (\
         SELECT t FROM (SELECT run_at AS t FROM jobs WHERE locked_until IS NULL OR locked_until <= run_at \
         ORDER BY run_at LIMIT 1) a \
         UNION ALL \
         SELECT t FROM (SELECT locked_until AS t FROM jobs WHERE locked_until IS NOT NULL AND locked_until > run_at \
         ORDER BY locked_until LIMIT 1) b) x",
    )
    .fetch_one(&s.pool)
    .await?;
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn pg_admin_url() -> String {
        std::env::var("CHARLA_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    async fn pg_admin(sql: &str) {
        let mut conn = sqlx::PgConnection::connect(&pg_admin_url())
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is required for these tests ({}): {e}", pg_admin_url()));
        conn.execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.close().await;
    }

    /// Runs `test` on a fresh SQLite store and on a fresh PostgreSQL database.
    async fn on_both<F, Fut>(test: F)
    where
        F: Fn(Arc<SqlStore>) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("jobs.db").display());
        let store = Arc::new(SqlStore::open(&url, Options::default()).await.expect("open sqlite"));
        test(store.clone()).await;
        store.shutdown().await;

        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let db = format!("charla_jobs_{}_{}", std::process::id(), nanos);
        pg_admin(&format!("CREATE DATABASE {db}")).await;
        let admin = pg_admin_url();
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
        let store = Arc::new(SqlStore::open(&format!("{base}/{db}"), Options::default()).await.expect("open postgres"));
        test(store.clone()).await;
        store.shutdown().await;
        pg_admin(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
    }

    async fn schedule(s: &SqlStore, kind: JobKind, target_id: Id, run_at: Millis) {
        s.write(move |c| Box::pin(async move { schedule_job(c, kind, target_id, run_at).await }))
            .await
            .expect("schedule job");
    }

    /// The pool's sessions run without JIT compilation (it delayed searches whose estimated
    /// cost passed its threshold), and read ahead for bitmap scans where the server keeps
    /// PostgreSQL's default of 1 (a cold contact search's gathering), else as the server says.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_sessions_run_without_jit_and_read_ahead() {
        let mut own = sqlx::PgConnection::connect(&pg_admin_url()).await.expect("connect");
        let row = sqlx::query("SELECT current_setting('effective_io_concurrency') AS e")
            .fetch_one(&mut own)
            .await
            .expect("server's setting");
        let server: String = sqlx::Row::try_get(&row, "e").expect("e");
        let _ = own.close().await;
        let want = if server == "1" { "64".to_string() } else { server };
        on_both(|s| {
            let want = want.clone();
            async move {
                if s.dialect != Dialect::Postgres {
                    return;
                }
                let mut held = Vec::new();
                for _ in 0..3 {
                    let mut conn = s.pool.acquire().await.expect("connection");
                    let row = sqlx::query(
                        "SELECT current_setting('jit') AS jit, current_setting('effective_io_concurrency') AS e",
                    )
                    .fetch_one(&mut *conn)
                    .await
                    .expect("settings");
                    assert_eq!(sqlx::Row::try_get::<String, _>(&row, "jit").expect("jit"), "off");
                    assert_eq!(sqlx::Row::try_get::<String, _>(&row, "e").expect("e"), want);
                    held.push(conn);
                }
            }
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_is_claimed_once_until_its_lease_ends() {
        on_both(|s| async move {
            let now = 1_000_000;
            assert_eq!(s.next_job_at().await.expect("next"), None);
            schedule(&s, JobKind::AutoClose, 7, now - 10).await;
            schedule(&s, JobKind::Deliver, 8, now + 60_000).await;
            assert_eq!(s.next_job_at().await.expect("next"), Some(now - 10));

            let jobs = s.claim_jobs(now, 30_000, 10).await.expect("claim");
            assert_eq!(
                jobs,
                vec![Job { id: jobs[0].id, kind: JobKind::AutoClose, target_id: 7, run_at: now - 10, attempts: 0 }]
            );
            // Leased: nobody else gets it, and the next wake-up is the lease's end.
            assert!(s.claim_jobs(now + 1, 30_000, 10).await.expect("claim").is_empty());
            assert_eq!(s.next_job_at().await.expect("next"), Some(now + 30_000));
            // An unleased job due before the lease ends comes first.
            schedule(&s, JobKind::SnoozeWake, 9, now + 20_000).await;
            assert_eq!(s.next_job_at().await.expect("next"), Some(now + 20_000));
            schedule(&s, JobKind::SnoozeWake, 9, now + 90_000).await;
            assert_eq!(s.next_job_at().await.expect("next"), Some(now + 30_000));
            // The lease ran out (its claimer died): it is claimable again.
            let again = s.claim_jobs(now + 30_000, 60_000, 10).await.expect("claim");
            assert_eq!(again.iter().map(|j| j.target_id).collect::<Vec<_>>(), vec![7]);
            // The future job comes when its time does.
            let later = s.claim_jobs(now + 60_000, 30_000, 10).await.expect("claim");
            assert_eq!(later.iter().map(|j| (j.kind, j.target_id)).collect::<Vec<_>>(), vec![(JobKind::Deliver, 8)]);
            // Rescheduling a job clears its lease.
            schedule(&s, JobKind::Deliver, 8, now + 70_000).await;
            let moved = s.claim_jobs(now + 70_000, 30_000, 10).await.expect("claim");
            assert_eq!(moved.iter().map(|j| j.target_id).collect::<Vec<_>>(), vec![8]);
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn claims_come_oldest_first_and_respect_the_limit() {
        on_both(|s| async move {
            let now = 5_000_000;
            for (target, run_at) in [(1, now - 1), (2, now - 3), (3, now - 2), (4, now + 1)] {
                schedule(&s, JobKind::SnoozeWake, target, run_at).await;
            }
            let first = s.claim_jobs(now, 1000, 2).await.expect("claim");
            assert_eq!(first.iter().map(|j| j.target_id).collect::<Vec<_>>(), vec![2, 3]);
            let rest = s.claim_jobs(now, 1000, 10).await.expect("claim");
            assert_eq!(rest.iter().map(|j| j.target_id).collect::<Vec<_>>(), vec![1]);
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_claims_never_share_a_job() {
        on_both(|s| async move {
            let now = 9_000_000;
            let total = 60;
            for target in 0..total {
                schedule(&s, JobKind::Deliver, target, now - 1000 + target).await;
            }
            for round in 0..3 {
                // Claimers racing at the same instant, as several nodes would.
                let mut handles = Vec::new();
                for _ in 0..4 {
                    let s = s.clone();
                    handles.push(tokio::spawn(async move { s.claim_jobs(now + round, 60_000, 25).await }));
                }
                let mut seen = std::collections::HashSet::new();
                for h in handles {
                    for job in h.await.expect("join").expect("claim") {
                        assert!(seen.insert(job.id), "job {} claimed twice", job.id);
                    }
                }
                if round == 0 {
                    assert!(!seen.is_empty());
                }
            }
            // Whatever the interleaving, every job ends up claimed exactly once while leased.
            let mut claimed = std::collections::HashSet::new();
            for _ in 0..2 {
                let mut handles = Vec::new();
                for _ in 0..2 {
                    let s = s.clone();
                    handles.push(tokio::spawn(async move { s.claim_jobs(now + 120_000, 60_000, 1000).await }));
                }
                for h in handles {
                    for job in h.await.expect("join").expect("claim") {
                        assert!(claimed.insert(job.id), "job {} claimed twice", job.id);
                    }
                }
            }
            assert_eq!(claimed.len() as i64, total);
        })
        .await;
    }
}
