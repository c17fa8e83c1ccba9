//! The referral lifecycle (DESIGN.md section 4, after FHIR Task) as one
//! table of allowed moves: what each move requires, and how far it sets the
//! next follow-up. Services ask this table; nothing else decides a move.
//!
//! ```text
//! draft -> requested -> received -> accepted -> in_progress <-> on_hold
//! in_progress | on_hold -> completed | failed          (an outcome)
//! requested | received -> rejected                     (a reason)
//! any open state -> cancelled                          (a reason; `expired` is one)
//! any state but entered_in_error -> entered_in_error   (the requester only)
//! ```

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::domain::ReferralStatus::{self, *};

/// What a move needs besides being in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requires {
    pub reason: bool,
    pub outcome: bool,
    /// Only the staff member who made the referral may make this move.
    pub requester: bool,
}

const PLAIN: Requires = Requires {
    reason: false,
    outcome: false,
    requester: false,
};
const REASON: Requires = Requires {
    reason: true,
    ..PLAIN
};
const OUTCOME: Requires = Requires {
    outcome: true,
    ..PLAIN
};
const REQUESTER: Requires = Requires {
    requester: true,
    ..PLAIN
};

/// Every allowed move, in the order the lifecycle runs.
const MOVES: &[(ReferralStatus, ReferralStatus, Requires)] = &[
    (Draft, Requested, PLAIN),
    (Requested, Received, PLAIN),
    (Received, Accepted, PLAIN),
    (Accepted, InProgress, PLAIN),
    (InProgress, OnHold, PLAIN),
    (OnHold, InProgress, PLAIN),
    (InProgress, Completed, OUTCOME),
    (OnHold, Completed, OUTCOME),
    (InProgress, Failed, OUTCOME),
    (OnHold, Failed, OUTCOME),
    (Requested, Rejected, REASON),
    (Received, Rejected, REASON),
    (Draft, Cancelled, REASON),
    (Requested, Cancelled, REASON),
    (Received, Cancelled, REASON),
    (Accepted, Cancelled, REASON),
    (InProgress, Cancelled, REASON),
    (OnHold, Cancelled, REASON),
    (Draft, EnteredInError, REQUESTER),
    (Requested, EnteredInError, REQUESTER),
    (Received, EnteredInError, REQUESTER),
    (Accepted, EnteredInError, REQUESTER),
    (InProgress, EnteredInError, REQUESTER),
    (OnHold, EnteredInError, REQUESTER),
    (Completed, EnteredInError, REQUESTER),
    (Failed, EnteredInError, REQUESTER),
    (Rejected, EnteredInError, REQUESTER),
    (Cancelled, EnteredInError, REQUESTER),
];

/// A referral in this state still waits for something: it has a follow-up.
pub fn is_open(s: ReferralStatus) -> bool {
    matches!(
        s,
        Draft | Requested | Received | Accepted | InProgress | OnHold
    )
}

/// The states a referral may move to from `from`.
pub fn allowed_from(from: ReferralStatus) -> Vec<ReferralStatus> {
    MOVES
        .iter()
        .filter(|(f, _, _)| *f == from)
        .map(|(_, to, _)| *to)
        .collect()
}

/// Why a move is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not in the table: the moves that are.
    NotAllowed(Vec<ReferralStatus>),
    /// In the table, but this field is required.
    Missing(&'static str),
    /// In the table, for the requester only.
    RequesterOnly,
}

/// Checks a move against the table.
pub fn check(
    from: ReferralStatus,
    to: ReferralStatus,
    has_reason: bool,
    has_outcome: bool,
    by_requester: bool,
) -> Result<Requires, Refusal> {
    let Some((_, _, req)) = MOVES.iter().find(|(f, t, _)| *f == from && *t == to) else {
        return Err(Refusal::NotAllowed(allowed_from(from)));
    };
    if req.requester && !by_requester {
        return Err(Refusal::RequesterOnly);
    }
    if req.reason && !has_reason {
        return Err(Refusal::Missing("reason"));
    }
    if req.outcome && !has_outcome {
        return Err(Refusal::Missing("outcome"));
    }
    Ok(*req)
}

/// The follow-up date after moving to `to` at `at`: a week while the outside
/// agency has yet to act, two weeks once it has accepted; none once closed.
pub fn follow_up_after(to: ReferralStatus, at: DateTime<Utc>) -> Option<NaiveDate> {
    let days = match to {
        Draft | Requested | Received => 7,
        Accepted | InProgress | OnHold => 14,
        _ => return None,
    };
    Some((at + Duration::days(days)).date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_is_allowed_step_by_step() {
        let path = [
            Draft, Requested, Received, Accepted, InProgress, OnHold, InProgress,
        ];
        for w in path.windows(2) {
            assert_eq!(check(w[0], w[1], false, false, false), Ok(PLAIN), "{w:?}");
        }
        assert_eq!(
            check(InProgress, Completed, false, false, false),
            Err(Refusal::Missing("outcome"))
        );
        assert!(check(InProgress, Completed, false, true, false).is_ok());
    }

    #[test]
    fn illegal_moves_name_the_allowed_ones() {
        assert_eq!(
            check(Draft, Completed, true, true, true),
            Err(Refusal::NotAllowed(vec![
                Requested,
                Cancelled,
                EnteredInError
            ]))
        );
        assert_eq!(
            check(Completed, InProgress, true, true, true),
            Err(Refusal::NotAllowed(vec![EnteredInError]))
        );
        assert_eq!(
            check(EnteredInError, Draft, true, true, true),
            Err(Refusal::NotAllowed(vec![]))
        );
    }

    #[test]
    fn reasons_and_the_requester_are_required_where_the_design_says() {
        assert_eq!(
            check(Requested, Rejected, false, false, false),
            Err(Refusal::Missing("reason"))
        );
        assert_eq!(
            check(OnHold, Cancelled, false, false, false),
            Err(Refusal::Missing("reason"))
        );
        assert_eq!(
            check(Accepted, EnteredInError, false, false, false),
            Err(Refusal::RequesterOnly)
        );
        assert!(check(Accepted, EnteredInError, false, false, true).is_ok());
    }

    #[test]
    fn every_open_state_can_be_cancelled_and_closed_states_have_no_follow_up() {
        for s in ReferralStatus::ALL {
            assert_eq!(allowed_from(*s).contains(&Cancelled), is_open(*s), "{s:?}");
            assert_eq!(follow_up_after(*s, Utc::now()).is_some(), is_open(*s));
        }
    }
}
