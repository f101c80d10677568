//! How often to ask CloudFormation while a stack moves: quickly while events arrive, backing
//! off while nothing changes (the SDK's own retry handles throttling).

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct PollPolicy {
    pub min: Duration,
    pub max: Duration,
}

impl PollPolicy {
    /// Real AWS: resources take seconds to minutes.
    pub const AWS: PollPolicy = PollPolicy {
        min: Duration::from_secs(2),
        max: Duration::from_secs(10),
    };
    /// The local sandbox at its fast pace.
    pub const SANDBOX: PollPolicy = PollPolicy {
        min: Duration::from_millis(100),
        max: Duration::from_millis(800),
    };

    /// The next interval: back to `min` after progress, else 1.5 × the last, up to `max`.
    pub fn next(&self, last: Duration, progressed: bool) -> Duration {
        if progressed {
            self.min
        } else {
            last.mul_f64(1.5).clamp(self.min, self.max)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_while_idle_and_snaps_back_on_progress() {
        let p = PollPolicy::AWS;
        let mut d = p.min;
        for _ in 0..10 {
            d = p.next(d, false);
        }
        assert_eq!(d, p.max);
        assert_eq!(p.next(d, true), p.min);
        assert!(p.next(p.min, false) > p.min);
    }
}
