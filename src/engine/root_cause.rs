//! Naming why a stack failed: the first real `*_FAILED` of a resource, not the cascade of
//! "Resource creation cancelled" that CloudFormation adds for its siblings, nor the stack-level
//! summary.

use crate::aws::stacks::StackEvent;
use crate::state::RootCause;

const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

fn is_cascade(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    reason.contains("cancelled") || reason.contains("canceled")
}

/// `events` oldest first, as they happened during one operation.
pub fn root_cause(events: &[StackEvent]) -> Option<RootCause> {
    let to_cause = |e: &StackEvent| RootCause {
        logical_id: e.logical_id.clone(),
        resource_type: e.resource_type.clone(),
        status: e.status.clone(),
        reason: e.reason.clone(),
    };
    let failed = |e: &&StackEvent| crate::stack_status::Status(&e.status).failed();
    events
        .iter()
        .filter(failed)
        .find(|e| e.resource_type != STACK_TYPE && !is_cascade(&e.reason))
        .or_else(|| {
            events
                .iter()
                .filter(failed)
                .find(|e| e.resource_type != STACK_TYPE)
        })
        .or_else(|| events.iter().find(failed))
        .map(to_cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ev(logical: &str, ty: &str, status: &str, reason: &str) -> StackEvent {
        StackEvent {
            event_id: format!("{logical}-{status}"),
            timestamp: String::new(),
            logical_id: logical.into(),
            physical_id: String::new(),
            resource_type: ty.into(),
            status: status.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn the_first_real_failure_wins_over_cancellations_and_the_stack_summary() {
        let events = vec![
            ev("s", STACK_TYPE, "CREATE_IN_PROGRESS", "User Initiated"),
            ev("Vpc", "AWS::EC2::VPC", "CREATE_COMPLETE", ""),
            ev(
                "Nat",
                "AWS::EC2::NatGateway",
                "CREATE_FAILED",
                "Resource creation cancelled",
            ),
            ev(
                "Nlb",
                "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "CREATE_FAILED",
                "Quota exceeded",
            ),
            ev(
                "s",
                STACK_TYPE,
                "ROLLBACK_IN_PROGRESS",
                "The following resource(s) failed to create: [Nat, Nlb].",
            ),
            ev("s", STACK_TYPE, "ROLLBACK_COMPLETE", ""),
        ];
        let cause = root_cause(&events).unwrap();
        assert_eq!(cause.logical_id, "Nlb");
        assert_eq!(cause.reason, "Quota exceeded");
    }

    #[test]
    fn no_failure_no_cause() {
        assert_eq!(
            root_cause(&[ev("Vpc", "AWS::EC2::VPC", "CREATE_COMPLETE", "")]),
            None
        );
    }

    proptest! {
        /// Whatever cancellations surround it, a single genuine resource failure is named.
        #[test]
        fn a_genuine_failure_is_found_among_cancellations(before in 0usize..6, after in 0usize..6) {
            let mut events = Vec::new();
            for i in 0..before {
                events.push(ev(&format!("A{i}"), "AWS::EC2::Subnet", "CREATE_FAILED", "Resource creation cancelled"));
            }
            events.push(ev("Real", "AWS::EC2::Subnet", "CREATE_FAILED", "InvalidSubnet.Range"));
            for i in 0..after {
                events.push(ev(&format!("B{i}"), "AWS::EC2::Subnet", "CREATE_FAILED", "Resource creation cancelled"));
            }
            events.push(ev("s", STACK_TYPE, "ROLLBACK_COMPLETE", "rolled back"));
            prop_assert_eq!(root_cause(&events).unwrap().logical_id, "Real");
        }
    }
}
