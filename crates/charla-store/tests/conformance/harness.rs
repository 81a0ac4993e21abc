use charla_store::Store;
use charla_store::sql::{Options, SqlStore};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Harness {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    pg_db: Option<String>,
}

pub fn pg_admin_url() -> String {
    std::env::var("CHARLA_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub async fn sqlite() -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("charla.db").display());
    let store = SqlStore::open(&url, Options::default()).await.expect("open sqlite store");
    Harness { store: Arc::new(store), _dir: Some(dir), pg_db: None }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Runs a statement on the admin database (create/drop test databases).
async fn pg_admin(sql: &str) {
    use sqlx::Connection;
    use sqlx::Executor;
    let mut conn = sqlx::PgConnection::connect(&pg_admin_url())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required for the conformance suite ({}): {e}", pg_admin_url()));
    conn.execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

pub async fn postgres() -> Harness {
    let (db, url) = new_pg_database().await;
    let store = SqlStore::open(&url, Options::default()).await.expect("open postgres store");
    Harness { store: Arc::new(store), _dir: None, pg_db: Some(db) }
}

/// Creates an empty PostgreSQL database for one test: its name and URL.
pub async fn new_pg_database() -> (String, String) {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let db = format!("charla_t_{}_{}_{}", std::process::id(), n, nanos);
    pg_admin(&format!("CREATE DATABASE {db}")).await;
    let admin = pg_admin_url();
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
    let url = format!("{base}/{db}");
    (db, url)
}

/// Drops a database made by [`new_pg_database`].
pub async fn drop_pg_database(db: &str) {
    pg_admin(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
}

impl Harness {
    pub async fn finish(self) {
        self.store.shutdown().await;
        if let Some(db) = self.pg_db {
            drop_pg_database(&db).await;
        }
    }
}

/// Declares conformance tests: each `async fn name(store: Arc<dyn Store>)` of the calling
/// module runs once on SQLite and once on PostgreSQL.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = crate::harness::sqlite().await;
                    super::$name(h.store.clone()).await;
                    h.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = crate::harness::postgres().await;
                    super::$name(h.store.clone()).await;
                    h.finish().await;
                }
            )*
        }
    };
}
