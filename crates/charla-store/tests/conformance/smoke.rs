//! The store opens, migrates idempotently and reports its backend.

use charla_store::Store;
use std::sync::Arc;

async fn migrates_and_pings(store: Arc<dyn Store>) {
    store.migrate().await.expect("second migrate is a no-op");
    store.ping().await.expect("ping");
    assert!(matches!(store.backend(), "sqlite" | "postgres"));
    assert_eq!(store.last_event_seq().await.expect("seq"), 0);
}

conformance!(migrates_and_pings);
