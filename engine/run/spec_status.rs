//! `spec.status` in reconcile's terms, and how stop requests escalate it: the first cancels
//! gracefully (`CancelledRunFinally`), the second cancels everything (`Cancelled`).

use crate::reconcile::SpecStatus;

/// The `spec.status` after `interrupts` stop requests: graceful first, then immediate.
pub(super) fn escalate(initial: SpecStatus, interrupts: usize) -> SpecStatus {
    match (initial, interrupts) {
        (status, 0) => status,
        (SpecStatus::Cancelled, _) | (_, 2..) => SpecStatus::Cancelled,
        _ => SpecStatus::CancelledRunFinally,
    }
}

/// `spec.status` as written (`None`: absent); a value Tekton does not define is none.
pub(super) fn spec_status(status: Option<&str>) -> SpecStatus {
    match status {
        Some("Cancelled") => SpecStatus::Cancelled,
        Some("CancelledRunFinally") => SpecStatus::CancelledRunFinally,
        Some("StoppedRunFinally") => SpecStatus::StoppedRunFinally,
        Some("PipelineRunPending") => SpecStatus::Pending,
        _ => SpecStatus::None,
    }
}
