//! Reads: the conversation list (sections, counters, filters, sorts, cursor, search), one
//! conversation, history, drafts.

#![allow(unused_variables)]

use super::*;

pub(crate) async fn contact_conversations(s: &SqlStore, workspace_id: Id, contact_id: Id) -> StoreResult<Vec<Conversation>> {
    let _ = s;
    todo!("inbox::contact_conversations")
}

pub(crate) async fn list_conversations(s: &SqlStore, viewer: &Viewer, filter: ConversationFilter) -> StoreResult<ConversationPage> {
    let _ = s;
    todo!("inbox::list_conversations")
}

pub(crate) async fn get_conversation(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<Conversation> {
    let _ = s;
    todo!("inbox::get_conversation")
}

pub(crate) async fn conversation_row(s: &SqlStore, user_id: Id, conversation: Conversation) -> StoreResult<ConversationRow> {
    let _ = s;
    todo!("inbox::conversation_row")
}

pub(crate) async fn list_attentions(s: &SqlStore, workspace_id: Id, conversation_id: Id) -> StoreResult<Vec<Attention>> {
    let _ = s;
    todo!("inbox::list_attentions")
}

pub(crate) async fn list_messages(s: &SqlStore, workspace_id: Id, conversation_id: Id, before_id: Option<Id>, limit: i64) -> StoreResult<Vec<Message>> {
    let _ = s;
    todo!("inbox::list_messages")
}

pub(crate) async fn get_message(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<Message> {
    let _ = s;
    todo!("inbox::get_message")
}

pub(crate) async fn unread_conversations(s: &SqlStore, viewer: &Viewer) -> StoreResult<i64> {
    let _ = s;
    todo!("inbox::unread_conversations")
}

pub(crate) async fn get_draft(s: &SqlStore, workspace_id: Id, user_id: Id, conversation_id: Id) -> StoreResult<Option<Draft>> {
    let _ = s;
    todo!("inbox::get_draft")
}

