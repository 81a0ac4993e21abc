//! Routing policy for channels in `auto` mode.

use crate::{Id, Millis, Presence};

#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub user_id: Id,
    /// Effective presence (see [`crate::presence::effective`]).
    pub presence: Presence,
    pub open_attentions: i64,
    pub max_concurrent: i64,
    pub last_assigned_at: Option<Millis>,
}

/// A new attention goes to an online member with capacity: fewest open attentions, then
/// longest since their last assignment (never assigned counts as longest), then lowest id
/// so the choice is deterministic. None: it stays unassigned.
pub fn pick(candidates: &[Candidate]) -> Option<Id> {
    candidates
        .iter()
        .filter(|c| c.presence == Presence::Online && c.open_attentions < c.max_concurrent)
        .min_by_key(|c| (c.open_attentions, c.last_assigned_at.unwrap_or(i64::MIN), c.user_id))
        .map(|c| c.user_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: Id, presence: Presence, open: i64, max: i64, last: Option<Millis>) -> Candidate {
        Candidate { user_id: id, presence, open_attentions: open, max_concurrent: max, last_assigned_at: last }
    }

    #[test]
    fn picks_fewest_open_then_longest_idle() {
        use Presence::*;
        let cases: Vec<(Vec<Candidate>, Option<Id>)> = vec![
            (vec![], None),
            (vec![c(1, Offline, 0, 5, None)], None),
            (vec![c(1, Away, 0, 5, None)], None),
            (vec![c(1, Online, 5, 5, None)], None),
            (vec![c(1, Online, 4, 5, None)], Some(1)),
            (vec![c(1, Online, 2, 5, None), c(2, Online, 1, 5, Some(10))], Some(2)),
            (vec![c(1, Online, 1, 5, Some(20)), c(2, Online, 1, 5, Some(10))], Some(2)),
            (vec![c(1, Online, 1, 5, Some(20)), c(2, Online, 1, 5, None)], Some(2)),
            (vec![c(3, Online, 1, 5, None), c(2, Online, 1, 5, None)], Some(2)),
            (vec![c(1, Offline, 0, 5, None), c(2, Online, 3, 5, Some(1))], Some(2)),
        ];
        for (i, (cands, want)) in cases.iter().enumerate() {
            assert_eq!(pick(cands), *want, "case {i}");
        }
    }
}
