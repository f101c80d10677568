//! Turning SDK errors into sentences: the AWS error code and message, or the transport cause.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::fmt::{Debug, Display};

/// What kind of failure a call met, where the next step depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Refused, or not signable, because the profile's credentials have expired or are not
    /// valid: nothing to fix but signing in again.
    SignInNeeded,
    /// Refused for its rate (after the SDK's own retries): a wait that polls can slow down
    /// and carry on instead of failing its step.
    Throttled,
    /// Never reached AWS (or the sandbox standing in for it): the connection was refused,
    /// reset or timed out. The next step is to check what answers there, not to retry the
    /// work or sign in.
    Unreachable,
}

/// A call's failure of a known [`Kind`], with the sentence that explains it.
#[derive(Debug, thiserror::Error)]
#[error("{text}")]
pub struct Classified {
    pub kind: Kind,
    text: String,
}

/// The kind of `err` (anywhere in its chain), if it is one.
pub fn kind(err: &anyhow::Error) -> Option<Kind> {
    err.chain()
        .find_map(|e| e.downcast_ref::<Classified>().map(|c| c.kind))
}

/// Whether `err` says the profile must sign in again.
pub fn needs_sign_in(err: &anyhow::Error) -> bool {
    kind(err) == Some(Kind::SignInNeeded)
}

/// Whether `err` is a call that could not reach its endpoint.
pub fn unreachable(err: &anyhow::Error) -> bool {
    kind(err) == Some(Kind::Unreachable)
}

/// Whether `err` is a throttled call.
pub fn throttled(err: &anyhow::Error) -> bool {
    kind(err) == Some(Kind::Throttled)
}

/// The codes AWS's services throttle with (the query protocol's, EC2's and the JSON ones).
const THROTTLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "SlowDown",
];

/// Error codes AWS answers with when the caller's credentials have expired (temporary ones:
/// SSO, assumed roles) or are not recognised.
const SIGN_IN_CODES: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthFailure",
];

/// `"<what>: <Code>: <message>"` for a service error, the whole cause chain otherwise. An
/// expired or unrecognised credential, a throttled call and one that never got through are
/// [`Classified`] by their [`Kind`].
pub fn explain<E, R>(what: impl Display, err: SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    let (detail, sign_in) = match err.as_service_error() {
        Some(service) => (
            format!(
                "{}: {}",
                service.code().unwrap_or("error"),
                service.message().unwrap_or("no message")
            ),
            service.code().is_some_and(|c| SIGN_IN_CODES.contains(&c)),
        ),
        // The SDK found no usable credentials before sending (e.g. an expired SSO session).
        None => (cause_chain(&err), credentials_failed(&err)),
    };
    let transport = matches!(&err, SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout());
    let throttle = err
        .as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|c| THROTTLE_CODES.contains(&c));
    let text = format!("{what}: {detail}");
    let kind = if sign_in {
        Kind::SignInNeeded
    } else if throttle {
        Kind::Throttled
    } else if transport {
        Kind::Unreachable
    } else {
        return anyhow::anyhow!(text);
    };
    anyhow::Error::new(Classified { kind, text })
}

fn credentials_failed(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if e.is::<aws_credential_types::provider::error::CredentialsError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Each cause's own message, outermost first, without the debug dump of the last one: enough
/// to act on (e.g. "dispatch failure: io error: Connection refused").
fn cause_chain(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// The AWS error code of a service error, if it is one.
pub fn code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    err.as_service_error().and_then(|e| e.code())
}
