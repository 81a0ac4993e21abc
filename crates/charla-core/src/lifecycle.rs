//! Conversation and attention lifecycle (DESIGN §2 Lifecycle), as decisions on plain data.

use crate::{Id, MessageKind, Millis, Status};

/// What a new message does to the conversation's current attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMessage {
    /// No attention, or the last one is closed: open a new attention.
    OpenNew,
    /// The attention is snoozed: it returns to open.
    Wake,
    /// The attention is open: nothing changes.
    Keep,
}

/// Inbound and outbound messages (re)open; notes and event lines never change the status.
pub fn on_message(current: Option<Status>, kind: MessageKind) -> OnMessage {
    if !matches!(kind, MessageKind::Inbound | MessageKind::Outbound) {
        return OnMessage::Keep;
    }
    match current {
        None | Some(Status::Closed) => OnMessage::OpenNew,
        Some(Status::Snoozed) => OnMessage::Wake,
        Some(Status::Open) => OnMessage::Keep,
    }
}

/// The "unanswered" bookkeeping of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Answering {
    pub unanswered: bool,
    pub no_reply_needed: bool,
    pub waiting_since: Option<Millis>,
}

impl Answering {
    /// An attention is unanswered while the last customer-visible message is inbound;
    /// notes and events are not customer-visible. `waiting_since` keeps the oldest
    /// unanswered inbound message's time.
    pub fn after(self, kind: MessageKind, at: Millis) -> Answering {
        match kind {
            MessageKind::Inbound => Answering {
                unanswered: true,
                no_reply_needed: false,
                waiting_since: Some(self.waiting_since.filter(|_| self.unanswered).unwrap_or(at)),
            },
            MessageKind::Outbound => Answering::default(),
            MessageKind::Note | MessageKind::Event => self,
        }
    }

    /// "No reply needed" clears the mark and lowers the priority until the next inbound.
    pub fn no_reply_needed(self) -> Answering {
        Answering { unanswered: false, no_reply_needed: true, waiting_since: None }
    }

    /// The processing-order key: when the answer is due. None when nothing is awaited.
    pub fn due_at(self, response_time_limit_secs: i64) -> Option<Millis> {
        if !self.unanswered {
            return None;
        }
        self.waiting_since.map(|w| w.saturating_add(response_time_limit_secs.saturating_mul(1000)))
    }
}

/// What a reassignment does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reassign {
    /// Open (or snoozed) attention: close it with reason `transferred` and open a new one
    /// for the new assignee, so metrics stay per operator.
    Transfer,
    /// Closed conversation: change the assignee, stay closed.
    ChangeAssignee,
    /// First assignment of an attention nobody had: just set the assignee.
    Take,
    /// Same assignee and team as now.
    Nothing,
}

pub const CLOSE_REASON_TRANSFERRED: &str = "transferred";
pub const CLOSE_REASON_INACTIVITY: &str = "inactivity";

pub fn reassign(status: Status, current: (Option<Id>, Option<Id>), new: (Option<Id>, Option<Id>)) -> Reassign {
    if current == new {
        return Reassign::Nothing;
    }
    match status {
        Status::Closed => Reassign::ChangeAssignee,
        Status::Open | Status::Snoozed if current.0.is_none() => Reassign::Take,
        Status::Open | Status::Snoozed => Reassign::Transfer,
    }
}

/// When an open attention closes for inactivity. A snoozed attention never auto-closes.
pub fn auto_close_at(status: Status, last_activity_at: Millis, after_secs: Option<i64>) -> Option<Millis> {
    match (status, after_secs) {
        (Status::Open, Some(s)) if s > 0 => Some(last_activity_at.saturating_add(s.saturating_mul(1000))),
        _ => None,
    }
}

/// Whether a snooze time is acceptable: in the future.
pub fn valid_snooze(until: Millis, now: Millis) -> bool {
    until > now
}

#[cfg(test)]
mod tests {
    use super::*;
    use MessageKind::*;

    #[test]
    fn messages_open_and_wake() {
        let cases = [
            (None, Inbound, OnMessage::OpenNew),
            (Some(Status::Closed), Inbound, OnMessage::OpenNew),
            (Some(Status::Closed), Outbound, OnMessage::OpenNew),
            (Some(Status::Closed), Note, OnMessage::Keep),
            (Some(Status::Closed), Event, OnMessage::Keep),
            (Some(Status::Snoozed), Inbound, OnMessage::Wake),
            (Some(Status::Snoozed), Outbound, OnMessage::Wake),
            (Some(Status::Snoozed), Note, OnMessage::Keep),
            (Some(Status::Open), Inbound, OnMessage::Keep),
            (Some(Status::Open), Outbound, OnMessage::Keep),
        ];
        for (cur, kind, want) in cases {
            assert_eq!(on_message(cur, kind), want, "{cur:?} {kind:?}");
        }
    }

    #[test]
    fn unanswered_follows_last_visible_message() {
        let a = Answering::default().after(Inbound, 100);
        assert!(a.unanswered);
        assert_eq!(a.waiting_since, Some(100));
        let a = a.after(Inbound, 200);
        assert_eq!(a.waiting_since, Some(100), "keeps the oldest unanswered");
        let a2 = a.after(Note, 300);
        assert_eq!(a2, a, "notes change nothing");
        let a = a.after(Outbound, 400);
        assert!(!a.unanswered);
        assert_eq!(a.waiting_since, None);
        assert_eq!(a.after(Inbound, 500).waiting_since, Some(500));
    }

    #[test]
    fn no_reply_needed_until_next_inbound() {
        let a = Answering::default().after(Inbound, 100).no_reply_needed();
        assert!(!a.unanswered && a.no_reply_needed);
        assert_eq!(a.due_at(60), None);
        let a = a.after(Inbound, 200);
        assert!(a.unanswered && !a.no_reply_needed);
        assert_eq!(a.due_at(60), Some(200 + 60_000));
    }

    #[test]
    fn reassign_decisions() {
        use Status::*;
        assert_eq!(reassign(Open, (Some(1), None), (Some(2), None)), Reassign::Transfer);
        assert_eq!(reassign(Snoozed, (Some(1), None), (Some(2), None)), Reassign::Transfer);
        assert_eq!(reassign(Open, (None, None), (Some(2), None)), Reassign::Take);
        assert_eq!(reassign(Open, (None, Some(4)), (Some(2), Some(4))), Reassign::Take);
        assert_eq!(reassign(Closed, (Some(1), None), (Some(2), None)), Reassign::ChangeAssignee);
        assert_eq!(reassign(Open, (Some(1), None), (Some(1), None)), Reassign::Nothing);
        assert_eq!(reassign(Open, (Some(1), None), (None, Some(3))), Reassign::Transfer);
    }

    #[test]
    fn auto_close_never_for_snoozed() {
        assert_eq!(auto_close_at(Status::Open, 1000, Some(60)), Some(61_000));
        assert_eq!(auto_close_at(Status::Snoozed, 1000, Some(60)), None);
        assert_eq!(auto_close_at(Status::Closed, 1000, Some(60)), None);
        assert_eq!(auto_close_at(Status::Open, 1000, None), None);
        assert_eq!(auto_close_at(Status::Open, 1000, Some(0)), None);
    }
}
