//! What a CloudFormation status says: one set of predicates over AWS's status names, for a
//! stack and for one of its resources, used wherever a status is judged.

/// A status as AWS names it (`CREATE_COMPLETE`, `UPDATE_ROLLBACK_IN_PROGRESS`, …), borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status<'a>(pub &'a str);

/// A stack made by a change set that was never executed: no operation runs on it.
pub const REVIEW_IN_PROGRESS: &str = "REVIEW_IN_PROGRESS";
/// A deleted stack; its reads say nothing more.
pub const DELETE_COMPLETE: &str = "DELETE_COMPLETE";

impl Status<'_> {
    /// AWS is still at it (REVIEW_IN_PROGRESS included: it is no end of a wait either).
    pub fn in_progress(self) -> bool {
        self.0.ends_with("_IN_PROGRESS")
    }

    /// An operation runs on the stack: in progress, and not a change set waiting to run.
    pub fn operating(self) -> bool {
        self.in_progress() && self.0 != REVIEW_IN_PROGRESS
    }

    pub fn failed(self) -> bool {
        self.0.ends_with("_FAILED")
    }

    /// A rollback, under way or over: something did not go as asked.
    pub fn rolling_back(self) -> bool {
        self.0.contains("ROLLBACK")
    }

    pub fn complete(self) -> bool {
        self.0.ends_with("_COMPLETE")
    }

    /// The stack stands as asked, or as it was before an update that was rolled back: what
    /// a done step can rest on.
    pub fn stands(self) -> bool {
        (self.complete() && !self.0.contains("ROLLBACK_COMPLETE"))
            || self.0 == "UPDATE_ROLLBACK_COMPLETE"
    }

    /// The operation asked for succeeded.
    pub fn succeeded(self) -> bool {
        matches!(
            self.0,
            "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE"
        )
    }

    /// Terminal states from which a stack cannot be updated, only deleted and made again.
    pub fn needs_delete(self) -> bool {
        matches!(
            self.0,
            "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" | "DELETE_FAILED"
        )
    }

    pub fn deleted(self) -> bool {
        self.0 == DELETE_COMPLETE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_done_step_can_rest_on() {
        for s in [
            "CREATE_COMPLETE",
            "UPDATE_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
        ] {
            assert!(Status(s).stands(), "{s}");
        }
        for s in [
            "ROLLBACK_COMPLETE",
            "CREATE_IN_PROGRESS",
            "DELETE_FAILED",
            REVIEW_IN_PROGRESS,
        ] {
            assert!(!Status(s).stands(), "{s}");
        }
    }

    #[test]
    fn a_change_set_waiting_to_run_is_no_operation_but_no_end_either() {
        let review = Status(REVIEW_IN_PROGRESS);
        assert!(review.in_progress() && !review.operating());
        assert!(Status("UPDATE_ROLLBACK_IN_PROGRESS").operating());
        assert!(Status("UPDATE_ROLLBACK_IN_PROGRESS").rolling_back());
    }

    #[test]
    fn stacks_that_must_be_deleted_before_a_retry() {
        assert!(Status("ROLLBACK_COMPLETE").needs_delete());
        assert!(!Status("UPDATE_ROLLBACK_COMPLETE").needs_delete());
        assert!(!Status("CREATE_COMPLETE").needs_delete());
        assert!(Status("CREATE_COMPLETE").succeeded());
        assert!(!Status("UPDATE_ROLLBACK_COMPLETE").succeeded());
    }
}
