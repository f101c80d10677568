//! How often to ask CloudFormation while a stack moves: quickly while events arrive, backing
//! off while nothing changes (the SDK's own retry handles throttling).

use std::future::Future;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct PollPolicy {
    pub min: Duration,
    pub max: Duration,
    /// The longest pause between two calls while following a stack: a finished stack is
    /// noticed within it, and a stack costs at most one call per this much time.
    pub follow_max: Duration,
}

impl PollPolicy {
    /// Real AWS: resources take seconds to minutes. A stack is followed at one call every
    /// 1.5 s (each call answers both "new events?" and "done?"), which notices its end in
    /// 0.75 s on average and leaves room, within one call a second, for the calls a stack
    /// step makes anyway (its change set, its outputs); retries of other calls back off from
    /// 2 to 10 seconds.
    pub const AWS: PollPolicy = PollPolicy {
        min: Duration::from_secs(2),
        max: Duration::from_secs(10),
        follow_max: Duration::from_millis(1500),
    };
    /// The local sandbox at its fast pace.
    pub const SANDBOX: PollPolicy = PollPolicy {
        min: Duration::from_millis(100),
        max: Duration::from_millis(800),
        follow_max: Duration::from_millis(800),
    };

    /// The pause before the next call while following a stack.
    pub fn next_follow(&self, last: Duration, progressed: bool) -> Duration {
        self.next(last, progressed).min(self.follow_max)
    }

    /// The next interval: back to `min` after progress, else 1.5 × the last, up to `max`.
    pub fn next(&self, last: Duration, progressed: bool) -> Duration {
        if progressed {
            self.min
        } else {
            last.mul_f64(1.5).clamp(self.min, self.max)
        }
    }

    /// Calls `call` until `pending` finds nothing left to wait for in its result (it says
    /// what, when there is), or until `within` has passed, backing off between calls;
    /// `on_retry` hears the attempt and why before each new call. The last result and how
    /// many calls it took.
    pub async fn retry<T, F, Fut>(
        &self,
        within: Duration,
        mut call: F,
        pending: impl Fn(&T) -> Option<String>,
        mut on_retry: impl FnMut(u32, &str),
    ) -> (T, u32)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = T>,
    {
        let deadline = Instant::now() + within;
        let mut interval = self.min;
        let mut attempts = 1;
        loop {
            let result = call().await;
            let Some(why) = pending(&result) else {
                return (result, attempts);
            };
            if Instant::now() + interval > deadline {
                return (result, attempts);
            }
            on_retry(attempts, &why);
            tokio::time::sleep(interval).await;
            interval = self.next(interval, false);
            attempts += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICK: PollPolicy = PollPolicy {
        min: Duration::from_millis(1),
        max: Duration::from_millis(2),
        follow_max: Duration::from_millis(2),
    };

    #[tokio::test]
    async fn retry_calls_until_nothing_is_pending_and_says_why_each_time() {
        let mut calls = 0;
        let mut heard = Vec::new();
        let (last, attempts) = QUICK
            .retry(
                Duration::from_secs(5),
                || {
                    calls += 1;
                    std::future::ready(calls)
                },
                |n| (*n < 3).then(|| format!("only {n}")),
                |attempt, why| heard.push(format!("{attempt}: {why}")),
            )
            .await;
        assert_eq!((last, attempts), (3, 3));
        assert_eq!(heard, ["1: only 1", "2: only 2"]);
    }

    #[tokio::test]
    async fn retry_gives_up_at_its_deadline_with_the_last_result() {
        let (last, attempts) = QUICK
            .retry(
                Duration::from_millis(20),
                || std::future::ready("503"),
                |r| Some(r.to_string()),
                |_, _| {},
            )
            .await;
        assert_eq!(last, "503");
        assert!(attempts > 1, "it retried before giving up");
    }

    #[test]
    fn following_a_stack_on_aws_never_pauses_more_than_a_second_and_a_half() {
        let p = PollPolicy::AWS;
        let mut d = p.min.min(p.follow_max);
        for progressed in [false, false, true, false, false, false] {
            d = p.next_follow(d, progressed);
            assert!(d <= Duration::from_millis(1500), "{d:?}");
        }
        // Other retries still back off to their own ceiling.
        assert_eq!(p.next(p.max, false), p.max);
    }

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
