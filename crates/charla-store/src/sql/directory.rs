//! Workspaces, users, presence, teams, channels, contacts, tags, close reasons, canned
//! responses, attachments, notifications.

#![allow(unused_variables)]

use super::*;

pub(crate) async fn server_secret(s: &SqlStore) -> StoreResult<Vec<u8>> {
    let _ = s;
    todo!("directory::server_secret")
}

pub(crate) async fn create_workspace(s: &SqlStore, name: &str) -> StoreResult<Workspace> {
    let _ = s;
    todo!("directory::create_workspace")
}

pub(crate) async fn first_workspace(s: &SqlStore) -> StoreResult<Option<Workspace>> {
    let _ = s;
    todo!("directory::first_workspace")
}

pub(crate) async fn create_user(s: &SqlStore, user: NewUser) -> StoreResult<User> {
    let _ = s;
    todo!("directory::create_user")
}

pub(crate) async fn get_user(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<User> {
    let _ = s;
    todo!("directory::get_user")
}

pub(crate) async fn find_user_by_email(s: &SqlStore, email: &str) -> StoreResult<Option<(User, String)>> {
    let _ = s;
    todo!("directory::find_user_by_email")
}

pub(crate) async fn list_users(s: &SqlStore, workspace_id: Id) -> StoreResult<Vec<User>> {
    let _ = s;
    todo!("directory::list_users")
}

pub(crate) async fn update_user(s: &SqlStore, workspace_id: Id, id: Id, patch: UserPatch) -> StoreResult<Written<User>> {
    let _ = s;
    todo!("directory::update_user")
}

pub(crate) async fn viewer(s: &SqlStore, workspace_id: Id, user_id: Id) -> StoreResult<Viewer> {
    let _ = s;
    todo!("directory::viewer")
}

pub(crate) async fn touch_presence(s: &SqlStore, user_id: Id, presence: Option<Presence>, now: Millis) -> StoreResult<Written<User>> {
    let _ = s;
    todo!("directory::touch_presence")
}

pub(crate) async fn sweep_presence(s: &SqlStore, now: Millis) -> StoreResult<Vec<Event>> {
    let _ = s;
    todo!("directory::sweep_presence")
}

pub(crate) async fn create_team(s: &SqlStore, workspace_id: Id, name: &str, member_ids: &[Id]) -> StoreResult<Team> {
    let _ = s;
    todo!("directory::create_team")
}

pub(crate) async fn list_teams(s: &SqlStore, workspace_id: Id) -> StoreResult<Vec<Team>> {
    let _ = s;
    todo!("directory::list_teams")
}

pub(crate) async fn get_team(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<Team> {
    let _ = s;
    todo!("directory::get_team")
}

pub(crate) async fn update_team(s: &SqlStore, workspace_id: Id, id: Id, name: Option<&str>, member_ids: Option<&[Id]>) -> StoreResult<Team> {
    let _ = s;
    todo!("directory::update_team")
}

pub(crate) async fn delete_team(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<()> {
    let _ = s;
    todo!("directory::delete_team")
}

pub(crate) async fn create_channel(s: &SqlStore, channel: NewChannel) -> StoreResult<Channel> {
    let _ = s;
    todo!("directory::create_channel")
}

pub(crate) async fn get_channel(s: &SqlStore, workspace_id: Option<Id>, id: Id) -> StoreResult<Channel> {
    let _ = s;
    todo!("directory::get_channel")
}

pub(crate) async fn list_channels(s: &SqlStore, workspace_id: Id) -> StoreResult<Vec<Channel>> {
    let _ = s;
    todo!("directory::list_channels")
}

pub(crate) async fn update_channel(s: &SqlStore, workspace_id: Id, id: Id, patch: ChannelPatch) -> StoreResult<Written<Channel>> {
    let _ = s;
    todo!("directory::update_channel")
}

pub(crate) async fn set_channel_secret(s: &SqlStore, workspace_id: Id, id: Id, secret: &str) -> StoreResult<Channel> {
    let _ = s;
    todo!("directory::set_channel_secret")
}

pub(crate) async fn set_channel_members(s: &SqlStore, workspace_id: Id, id: Id, user_ids: &[Id]) -> StoreResult<Written<Channel>> {
    let _ = s;
    todo!("directory::set_channel_members")
}

pub(crate) async fn delete_channel(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<()> {
    let _ = s;
    todo!("directory::delete_channel")
}

pub(crate) async fn get_contact(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<Contact> {
    let _ = s;
    todo!("directory::get_contact")
}

pub(crate) async fn list_contacts(s: &SqlStore, workspace_id: Id, query: ContactQuery) -> StoreResult<Vec<Contact>> {
    let _ = s;
    todo!("directory::list_contacts")
}

pub(crate) async fn create_contact(s: &SqlStore, workspace_id: Id, name: &str, patch: ContactPatch) -> StoreResult<Contact> {
    let _ = s;
    todo!("directory::create_contact")
}

pub(crate) async fn update_contact(s: &SqlStore, workspace_id: Id, id: Id, patch: ContactPatch) -> StoreResult<Written<Contact>> {
    let _ = s;
    todo!("directory::update_contact")
}

pub(crate) async fn set_contact_blocked(s: &SqlStore, workspace_id: Id, id: Id, blocked: bool) -> StoreResult<Written<Contact>> {
    let _ = s;
    todo!("directory::set_contact_blocked")
}

pub(crate) async fn set_contact_tags(s: &SqlStore, workspace_id: Id, id: Id, tag_ids: &[Id]) -> StoreResult<Written<Contact>> {
    let _ = s;
    todo!("directory::set_contact_tags")
}

pub(crate) async fn create_tag(s: &SqlStore, workspace_id: Id, name: &str, color: &str, pinned: bool) -> StoreResult<Tag> {
    let _ = s;
    todo!("directory::create_tag")
}

pub(crate) async fn list_tags(s: &SqlStore, workspace_id: Id) -> StoreResult<Vec<Tag>> {
    let _ = s;
    todo!("directory::list_tags")
}

pub(crate) async fn update_tag(s: &SqlStore, workspace_id: Id, id: Id, name: Option<&str>, color: Option<&str>, pinned: Option<bool>) -> StoreResult<Tag> {
    let _ = s;
    todo!("directory::update_tag")
}

pub(crate) async fn delete_tag(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<()> {
    let _ = s;
    todo!("directory::delete_tag")
}

pub(crate) async fn create_close_reason(s: &SqlStore, workspace_id: Id, name: &str) -> StoreResult<CloseReason> {
    let _ = s;
    todo!("directory::create_close_reason")
}

pub(crate) async fn list_close_reasons(s: &SqlStore, workspace_id: Id) -> StoreResult<Vec<CloseReason>> {
    let _ = s;
    todo!("directory::list_close_reasons")
}

pub(crate) async fn delete_close_reason(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<()> {
    let _ = s;
    todo!("directory::delete_close_reason")
}

pub(crate) async fn create_canned_response(s: &SqlStore, workspace_id: Id, owner_id: Option<Id>, shortcut: &str, text: &str) -> StoreResult<CannedResponse> {
    let _ = s;
    todo!("directory::create_canned_response")
}

pub(crate) async fn list_canned_responses(s: &SqlStore, workspace_id: Id, user_id: Id) -> StoreResult<Vec<CannedResponse>> {
    let _ = s;
    todo!("directory::list_canned_responses")
}

pub(crate) async fn get_canned_response(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<CannedResponse> {
    let _ = s;
    todo!("directory::get_canned_response")
}

pub(crate) async fn update_canned_response(s: &SqlStore, workspace_id: Id, id: Id, shortcut: Option<&str>, text: Option<&str>) -> StoreResult<CannedResponse> {
    let _ = s;
    todo!("directory::update_canned_response")
}

pub(crate) async fn delete_canned_response(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<()> {
    let _ = s;
    todo!("directory::delete_canned_response")
}

pub(crate) async fn create_attachment(s: &SqlStore, workspace_id: Id, name: &str, content_type: &str, size: i64, storage_key: &str, now: Millis) -> StoreResult<Attachment> {
    let _ = s;
    todo!("directory::create_attachment")
}

pub(crate) async fn get_attachment(s: &SqlStore, workspace_id: Id, id: Id) -> StoreResult<Attachment> {
    let _ = s;
    todo!("directory::get_attachment")
}

pub(crate) async fn list_notifications(s: &SqlStore, workspace_id: Id, user_id: Id, unread_only: bool, limit: i64) -> StoreResult<Vec<Notification>> {
    let _ = s;
    todo!("directory::list_notifications")
}

pub(crate) async fn mark_notification_read(s: &SqlStore, workspace_id: Id, user_id: Id, id: Id) -> StoreResult<()> {
    let _ = s;
    todo!("directory::mark_notification_read")
}

