//! Timed work survives a restart and happens exactly once: a snooze wake-up due while the
//! server is down, and an outbound delivery pending when it stopped. On SQLite and PostgreSQL.

mod harness;

use charla_core::{Author, AuthorType, MessageKind, MessageStatus, Status};
use charla_store::NewOutgoing;
use harness::*;
use std::time::Duration;

async fn restart_scenario(backend: Backend) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = Db::new(backend).await;
    let mut cfg = config(dir.path(), &db);
    // The first attempt fails (receiver down) and the retry is due well after the restart.
    cfg.delivery_backoff = Duration::from_millis(300);
    cfg.delivery_max_attempts = 5;

    // The integrator's address, refusing connections until it comes up.
    let reserved = refusing_port();
    let hook_path = unique("hook");
    let hook_url = port_url(&reserved, &format!("/hook/{hook_path}"));

    let first = start(cfg.clone()).await;
    let fx = fixture(&first, Some(hook_url)).await;
    let store = first.state.store.clone();
    let (_, conv) = send_inbound(&first, &fx.channel, "in-1", "ext-1", "please call me back").await;
    let now = charla_server::state::now_ms();
    let w = store
        .assign(fx.workspace_id, conv, fx.admin.id, Some(fx.admin.id), None, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    first.state.publish(w.events).await;

    // Outbound while the receiver is down: the first attempt fails and is rescheduled.
    let sent = store
        .send_message(
            fx.workspace_id,
            NewOutgoing {
                conversation_id: conv,
                author: Author { kind: AuthorType::User, id: Some(fx.admin.id), name: fx.admin.name.clone() },
                kind: MessageKind::Outbound,
                text: "we will call you".into(),
                reply_to: None,
                client_msg_id: Some("c-1".into()),
                attachment_ids: vec![],
                template: None,
            },
            charla_server::state::now_ms(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    first.state.publish(sent.events).await;
    charla_server::jobs::wake(&first.state);
    let message_id = sent.value.id;
    wait_for("the first delivery attempt to fail", || async {
        let m = store.get_message(fx.workspace_id, message_id).await.ok()?;
        m.error.is_some().then_some(())
    })
    .await;

    // Snoozed until shortly after the restart.
    let until = charla_server::state::now_ms() + 1500;
    let w = store
        .snooze(fx.workspace_id, conv, fx.admin.id, until, charla_server::state::now_ms())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    first.state.publish(w.events).await;
    first.stop().await;
    assert!(charla_server::state::now_ms() < until, "the server must stop before the wake-up is due");

    // The receiver comes up, then a new server on the same data.
    let mut receiver = Receiver::on_reserved(reserved, &hook_path, &[]);
    let second = start(cfg.clone()).await;
    let store = second.state.store.clone();

    let req = receiver.next().await;
    assert_eq!(req.delivery, Some(message_id.to_string()));
    assert_eq!(req.signature.as_deref(), Some(sign(&fx.channel.secret, &req.body).as_str()));

    let conversation = wait_for("the snooze to end", || async {
        let c = store.get_conversation(fx.workspace_id, conv).await.ok()?;
        (c.status == Status::Open).then_some(c)
    })
    .await;
    assert_eq!(conversation.snoozed_until, None);
    wait_for("the message to be sent", || async {
        let m = store.get_message(fx.workspace_id, message_id).await.ok()?;
        (m.status == MessageStatus::Sent).then_some(())
    })
    .await;
    // Nothing is left to run: whatever happened is all that will happen.
    wait_for("the jobs table to be empty", || async {
        store.next_job_at().await.ok().filter(|n| n.is_none()).map(|_| ())
    })
    .await;

    let reminders: Vec<_> = store
        .list_notifications(fx.workspace_id, fx.admin.id, false, 100)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n.kind == "snooze_reminder")
        .collect();
    assert_eq!(reminders.len(), 1, "{reminders:#?}");
    let lines: Vec<_> = store
        .list_messages(fx.workspace_id, conv, None, 100)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.kind == MessageKind::Event && m.text.to_lowercase().contains("snooze ended"))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(receiver.count(), 1, "delivered exactly once");

    second.stop().await;
    receiver.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_work_survives_a_restart_on_sqlite() {
    restart_scenario(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_work_survives_a_restart_on_postgres() {
    restart_scenario(Backend::Postgres).await;
}
