//! How a failed request is retried: a named classification and backoff.
//!
//! - `NetworkFailure`: no answer at all (offline, refused, timed out): keep
//!   the work, back off, try again.
//! - `Transient`: the server answered 429 or 5xx: keep the work, wait at least
//!   `retry_after` when the server said so.
//! - `Permanent`: the server refused for good (4xx): do not retry by itself;
//!   the reason is kept and shown to the user.

use std::time::Duration;

use mostrador_core::{ApiError, ErrorCode};

use crate::ClientError;

#[derive(Debug, Clone, PartialEq)]
pub enum RetryKind {
    NetworkFailure,
    Transient { retry_after: Option<Duration> },
    Permanent(ApiError),
}

pub fn classify(err: &ClientError) -> RetryKind {
    match err {
        ClientError::Network(_) => RetryKind::NetworkFailure,
        ClientError::Api(e) if e.code.is_transient() => RetryKind::Transient {
            retry_after: e
                .details
                .as_ref()
                .and_then(|d| d.get("retry_after_seconds"))
                .and_then(|v| v.as_u64())
                .map(Duration::from_secs),
        },
        ClientError::Api(e) => RetryKind::Permanent(e.clone()),
        ClientError::Config(m) => {
            RetryKind::Permanent(ApiError::new(ErrorCode::Internal, m.clone()))
        }
        // An answer we could not read, a local store hiccup: try again later.
        ClientError::Decode(_) | ClientError::Store(_) | ClientError::Keychain(_) => {
            RetryKind::Transient { retry_after: None }
        }
        ClientError::SignedOut | ClientError::UnsentWritesOfAnotherUser(_) => {
            RetryKind::Permanent(err.to_api_error())
        }
    }
}

/// Exponential backoff from 500 ms, doubling, capped at 60 s, with jitter:
/// `jitter` in `[0, 1)` picks a point between half and all of the step, so
/// many clients coming back at once do not retry in lockstep. A server's
/// `retry_after` is a floor.
pub fn backoff(attempt: u32, jitter: f64, retry_after: Option<Duration>) -> Duration {
    let step = Duration::from_millis(500)
        .saturating_mul(1u32 << attempt.min(7))
        .min(Duration::from_secs(60));
    let jittered = step.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
    retry_after.map_or(jittered, |r| jittered.max(r))
}

/// The longest the live connection waits between reconnect attempts: a
/// server that comes back is seen within a few seconds.
pub const RECONNECT_CAP: Duration = Duration::from_secs(3);

/// The wait before live reconnect attempt `attempt`: `base` doubling per
/// failure, capped at `cap`, with jitter (`[0, 1)` picks a point between
/// half and all of the step, so clients coming back do not retry in
/// lockstep). Never more than `cap`.
pub fn reconnect_delay(attempt: u32, jitter: f64, base: Duration, cap: Duration) -> Duration {
    let step = base.saturating_mul(1u32 << attempt.min(16)).min(cap);
    step.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// A jitter value in `[0, 1)` from the clock (good enough to spread
/// retries). Through jiff, whose clock is the browser's on wasm32, where
/// `std::time::SystemTime::now` panics.
pub fn jitter() -> f64 {
    let nanos = jiff::Timestamp::now().subsec_nanosecond().unsigned_abs();
    f64::from(nanos % 1000) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: ErrorCode) -> ClientError {
        ClientError::Api(ApiError::new(code, "x"))
    }

    #[test]
    fn classification_table() {
        let cases: Vec<(ClientError, &str)> = vec![
            (ClientError::Network("refused".into()), "network"),
            (api(ErrorCode::Unavailable), "transient"),
            (api(ErrorCode::Internal), "transient"),
            (api(ErrorCode::RateLimited), "transient"),
            (api(ErrorCode::ValidationFailed), "permanent"),
            (api(ErrorCode::Forbidden), "permanent"),
            (api(ErrorCode::NotFound), "permanent"),
            (api(ErrorCode::Conflict), "permanent"),
            (ClientError::Decode("bad".into()), "transient"),
            (ClientError::Config("bad url".into()), "permanent"),
        ];
        for (err, want) in cases {
            let got = match classify(&err) {
                RetryKind::NetworkFailure => "network",
                RetryKind::Transient { .. } => "transient",
                RetryKind::Permanent(_) => "permanent",
            };
            assert_eq!(got, want, "{err:?}");
        }
        let limited = ClientError::Api(
            ApiError::new(ErrorCode::RateLimited, "slow down")
                .with_details(serde_json::json!({"retry_after_seconds": 7})),
        );
        assert_eq!(
            classify(&limited),
            RetryKind::Transient {
                retry_after: Some(Duration::from_secs(7))
            }
        );
    }

    #[test]
    fn the_reconnect_delay_never_exceeds_its_cap() {
        let base = Duration::from_millis(500);
        for attempt in [0, 1, 2, 3, 4, 5, 8, 16, 17, 31, 32, 1000, u32::MAX] {
            for jitter in [0.0, 0.25, 0.5, 0.999, 1.0, 7.0, -1.0] {
                let d = reconnect_delay(attempt, jitter, base, RECONNECT_CAP);
                assert!(
                    d <= RECONNECT_CAP,
                    "attempt {attempt}, jitter {jitter}: {d:?}"
                );
                assert!(d >= base / 2, "attempt {attempt}, jitter {jitter}: {d:?}");
            }
        }
        // It grows from the base, then stays at the cap (jitter below it).
        let full = |a| reconnect_delay(a, 1.0, base, RECONNECT_CAP);
        assert_eq!(
            [0, 1, 2, 3, 10].map(full),
            [500, 1000, 2000, 3000, 3000].map(Duration::from_millis)
        );
        assert_eq!(
            reconnect_delay(10, 0.0, base, RECONNECT_CAP),
            Duration::from_millis(1500)
        );
        assert!(RECONNECT_CAP <= Duration::from_secs(5), "a few seconds");
    }

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        assert_eq!(backoff(0, 1.0, None), Duration::from_millis(500));
        assert_eq!(backoff(0, 0.0, None), Duration::from_millis(250));
        assert_eq!(backoff(3, 1.0, None), Duration::from_secs(4));
        assert_eq!(backoff(30, 1.0, None), Duration::from_secs(60));
        assert!(backoff(30, 0.0, None) >= Duration::from_secs(30));
        assert_eq!(
            backoff(0, 1.0, Some(Duration::from_secs(9))),
            Duration::from_secs(9)
        );
    }
}
