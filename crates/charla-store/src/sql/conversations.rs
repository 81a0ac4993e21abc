//! Conversation writes: inbound ingestion, sending, lifecycle actions, read state, drafts,
//! delivery (outbox) and timer jobs.

#![allow(unused_variables)]

use super::*;

pub(crate) async fn ingest_inbound(s: &SqlStore, msg: InboundMessage, now: Millis) -> StoreResult<Written<Ingested>> {
    let _ = s;
    todo!("conversations::ingest_inbound")
}

pub(crate) async fn send_message(s: &SqlStore, workspace_id: Id, msg: NewOutgoing, now: Millis) -> StoreResult<Written<Message>> {
    let _ = s;
    todo!("conversations::send_message")
}

pub(crate) async fn update_message_status(s: &SqlStore, channel_id: Id, message_id: Id, status: MessageStatus, error: Option<String>, now: Millis) -> StoreResult<Written<Message>> {
    let _ = s;
    todo!("conversations::update_message_status")
}

pub(crate) async fn assign(s: &SqlStore, workspace_id: Id, conversation_id: Id, actor: Id, user_id: Option<Id>, team_id: Option<Id>, now: Millis) -> StoreResult<Written<Conversation>> {
    let _ = s;
    todo!("conversations::assign")
}

pub(crate) async fn close(s: &SqlStore, workspace_id: Id, conversation_id: Id, actor: Id, reason: Option<String>, now: Millis) -> StoreResult<Written<Conversation>> {
    let _ = s;
    todo!("conversations::close")
}

pub(crate) async fn reopen(s: &SqlStore, workspace_id: Id, conversation_id: Id, actor: Id, now: Millis) -> StoreResult<Written<Conversation>> {
    let _ = s;
    todo!("conversations::reopen")
}

pub(crate) async fn snooze(s: &SqlStore, workspace_id: Id, conversation_id: Id, actor: Id, until: Millis, now: Millis) -> StoreResult<Written<Conversation>> {
    let _ = s;
    todo!("conversations::snooze")
}

pub(crate) async fn no_reply_needed(s: &SqlStore, workspace_id: Id, conversation_id: Id, actor: Id, now: Millis) -> StoreResult<Written<Conversation>> {
    let _ = s;
    todo!("conversations::no_reply_needed")
}

pub(crate) async fn mark_read(s: &SqlStore, workspace_id: Id, user_id: Id, conversation_id: Id, now: Millis) -> StoreResult<Written<ReadState>> {
    let _ = s;
    todo!("conversations::mark_read")
}

pub(crate) async fn mark_unread(s: &SqlStore, workspace_id: Id, user_id: Id, conversation_id: Id, now: Millis) -> StoreResult<Written<ReadState>> {
    let _ = s;
    todo!("conversations::mark_unread")
}

pub(crate) async fn detach_contact(s: &SqlStore, workspace_id: Id, conversation_id: Id, actor: Id, now: Millis) -> StoreResult<Written<Conversation>> {
    let _ = s;
    todo!("conversations::detach_contact")
}

pub(crate) async fn delete_conversations(s: &SqlStore, workspace_id: Id, ids: &[Id], now: Millis) -> StoreResult<Written<Vec<String>>> {
    let _ = s;
    todo!("conversations::delete_conversations")
}

pub(crate) async fn put_draft(s: &SqlStore, workspace_id: Id, user_id: Id, conversation_id: Id, text: &str, now: Millis) -> StoreResult<Draft> {
    let _ = s;
    todo!("conversations::put_draft")
}

pub(crate) async fn run_timer_job(s: &SqlStore, job: Job, now: Millis) -> StoreResult<Written<()>> {
    let _ = s;
    todo!("conversations::run_timer_job")
}

pub(crate) async fn delivery(s: &SqlStore, job: Job) -> StoreResult<Delivery> {
    let _ = s;
    todo!("conversations::delivery")
}

pub(crate) async fn finish_delivery(s: &SqlStore, job: Job, outcome: DeliveryOutcome, now: Millis) -> StoreResult<Written<Message>> {
    let _ = s;
    todo!("conversations::finish_delivery")
}

