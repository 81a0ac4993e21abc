//! Who may see and do what (DESIGN §2 Access). Every check takes plain data.

use crate::{Flag, Flags, Id, Role};

/// The acting operator, with what the checks need to know about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Viewer {
    pub user_id: Id,
    pub workspace_id: Id,
    pub role: Role,
    pub flags: Flags,
    /// Channels the user is a member of.
    pub channel_ids: Vec<Id>,
    /// Teams the user belongs to.
    pub team_ids: Vec<Id>,
    /// Embedded mode: when set, only conversations of these contacts are visible.
    pub allowed_contact_ids: Option<Vec<Id>>,
}

/// What visibility depends on, taken from a conversation (or carried by an event about it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConversationAccess {
    pub workspace_id: Id,
    pub channel_id: Id,
    pub assignee_id: Option<Id>,
    pub team_id: Option<Id>,
    pub contact_id: Option<Id>,
    pub is_group: bool,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
    pub fn has(&self, f: Flag) -> bool {
        self.is_admin() || self.flags.has(f)
    }
    pub fn is_member_of(&self, channel_id: Id) -> bool {
        self.channel_ids.contains(&channel_id)
    }

    /// Admins see everything in their workspace. Agents see what is assigned to them,
    /// unassigned conversations in their channels (or of their team), everything in their
    /// channels with `see_all_conversations`, and group chats only with `see_group_chats`.
    pub fn can_see(&self, c: &ConversationAccess) -> bool {
        if c.workspace_id != self.workspace_id {
            return false;
        }
        if let Some(allowed) = &self.allowed_contact_ids {
            match c.contact_id {
                Some(id) if allowed.contains(&id) => {}
                _ => return false,
            }
        }
        if self.is_admin() {
            return true;
        }
        if c.is_group && !self.flags.has(Flag::SeeGroupChats) {
            return false;
        }
        let member = self.is_member_of(c.channel_id);
        if member && self.flags.has(Flag::SeeAllConversations) {
            return true;
        }
        match c.assignee_id {
            Some(a) => a == self.user_id,
            None => member || c.team_id.is_some_and(|t| self.team_ids.contains(&t)),
        }
    }

    /// Writing (messages, notes, read marks, drafts) follows visibility.
    pub fn can_write(&self, c: &ConversationAccess) -> bool {
        self.can_see(c)
    }

    /// Only an admin or the current assignee may reassign; an unassigned conversation may be
    /// taken by anyone who sees it.
    pub fn can_assign(&self, c: &ConversationAccess) -> bool {
        self.can_see(c) && (self.is_admin() || c.assignee_id.is_none_or(|a| a == self.user_id))
    }

    pub fn can_delete_conversations(&self) -> bool {
        self.has(Flag::DeleteConversations)
    }

    pub fn can_manage_settings(&self) -> bool {
        self.has(Flag::ManageSettings)
    }

    /// Blocking, detaching and editing contacts: anyone who can see a conversation of theirs.
    pub fn can_manage_contact(&self, c: &ConversationAccess) -> bool {
        self.can_see(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role, flags: &[Flag]) -> Viewer {
        Viewer {
            user_id: 10,
            workspace_id: 1,
            role,
            flags: Flags::from_list(flags),
            channel_ids: vec![100],
            team_ids: vec![7],
            allowed_contact_ids: None,
        }
    }

    fn conv(channel: Id, assignee: Option<Id>, group: bool) -> ConversationAccess {
        ConversationAccess {
            workspace_id: 1,
            channel_id: channel,
            assignee_id: assignee,
            team_id: None,
            contact_id: Some(5),
            is_group: group,
        }
    }

    /// (role, flags, channel, assignee, group, expected)
    type Case = (Role, &'static [Flag], Id, Option<Id>, bool, bool);

    #[test]
    fn visibility_matrix() {
        use Flag::*;
        let cases: &[Case] = &[
            (Role::Admin, &[], 999, Some(3), false, true),
            (Role::Admin, &[], 999, None, true, true),
            (Role::Agent, &[], 100, Some(10), false, true),
            (Role::Agent, &[], 999, Some(10), false, true),
            (Role::Agent, &[], 100, None, false, true),
            (Role::Agent, &[], 999, None, false, false),
            (Role::Agent, &[], 100, Some(3), false, false),
            (Role::Agent, &[SeeAllConversations], 100, Some(3), false, true),
            (Role::Agent, &[SeeAllConversations], 999, Some(3), false, false),
            (Role::Agent, &[], 100, None, true, false),
            (Role::Agent, &[], 100, Some(10), true, false),
            (Role::Agent, &[SeeGroupChats], 100, None, true, true),
            (Role::Agent, &[SeeGroupChats], 100, Some(3), true, false),
            (Role::Agent, &[SeeGroupChats, SeeAllConversations], 100, Some(3), true, true),
        ];
        for (i, (role, flags, ch, asg, group, want)) in cases.iter().enumerate() {
            let v = viewer(*role, flags);
            assert_eq!(v.can_see(&conv(*ch, *asg, *group)), *want, "case {i}");
        }
    }

    #[test]
    fn other_workspace_is_invisible_even_to_admins() {
        let v = viewer(Role::Admin, &[]);
        let mut c = conv(100, None, false);
        c.workspace_id = 2;
        assert!(!v.can_see(&c));
    }

    #[test]
    fn team_members_see_unassigned_team_conversations() {
        let v = viewer(Role::Agent, &[]);
        let mut c = conv(999, None, false);
        assert!(!v.can_see(&c));
        c.team_id = Some(7);
        assert!(v.can_see(&c));
        c.assignee_id = Some(3);
        assert!(!v.can_see(&c));
    }

    #[test]
    fn embedded_viewer_limited_to_contacts() {
        let mut v = viewer(Role::Admin, &[]);
        v.allowed_contact_ids = Some(vec![6]);
        assert!(!v.can_see(&conv(100, None, false)));
        v.allowed_contact_ids = Some(vec![5]);
        assert!(v.can_see(&conv(100, None, false)));
        let mut detached = conv(100, None, false);
        detached.contact_id = None;
        assert!(!v.can_see(&detached));
    }

    #[test]
    fn reassign_only_admin_or_assignee() {
        let agent = viewer(Role::Agent, &[Flag::SeeAllConversations]);
        assert!(agent.can_assign(&conv(100, Some(10), false)));
        assert!(!agent.can_assign(&conv(100, Some(3), false)));
        assert!(agent.can_assign(&conv(100, None, false)));
        assert!(viewer(Role::Admin, &[]).can_assign(&conv(100, Some(3), false)));
        // cannot reassign what one cannot see
        assert!(!viewer(Role::Agent, &[]).can_assign(&conv(999, None, false)));
    }

    #[test]
    fn rights_from_flags() {
        assert!(viewer(Role::Admin, &[]).can_delete_conversations());
        assert!(!viewer(Role::Agent, &[]).can_delete_conversations());
        assert!(viewer(Role::Agent, &[Flag::DeleteConversations]).can_delete_conversations());
        assert!(!viewer(Role::Agent, &[Flag::DeleteConversations]).can_manage_settings());
        assert!(viewer(Role::Agent, &[Flag::ManageSettings]).can_manage_settings());
    }
}
