//! Operator presence: online / away / offline, with offline after 30 minutes idle.

use crate::{Millis, Presence};

pub const IDLE_OFFLINE_MS: Millis = 30 * 60 * 1000;

/// The presence others see: what the user set, unless they have been idle too long.
pub fn effective(set: Presence, last_activity_at: Option<Millis>, now: Millis) -> Presence {
    match last_activity_at {
        Some(t) if now.saturating_sub(t) < IDLE_OFFLINE_MS => set,
        _ => Presence::Offline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_goes_offline() {
        let now = 100 * 60 * 1000;
        assert_eq!(effective(Presence::Online, Some(now - 1000), now), Presence::Online);
        assert_eq!(effective(Presence::Away, Some(now - 1000), now), Presence::Away);
        assert_eq!(effective(Presence::Online, Some(now - IDLE_OFFLINE_MS), now), Presence::Offline);
        assert_eq!(effective(Presence::Online, None, now), Presence::Offline);
    }
}
