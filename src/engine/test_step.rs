//! The test step: the consumer API with the key, without it and with a wrong one, then the
//! consumer function, and the producer's own refusals through it: a call through an endpoint
//! the producer's policy does not name, and a wrong key, each refused by the producer itself
//! (the consumer API's refusals come from the consumer's authorizer). Every call is shown with
//! its evidence; the key itself never is.

use super::events::{CheckView, Event};
use super::{Engine, StepError};
use crate::aws::{functions, secrets};
use crate::check;
use crate::plan::{Source, Step};

/// What the producer's API answers.
pub fn widget() -> serde_json::Value {
    serde_json::json!({"id": "1", "value": "4.99"})
}

/// One API call: its name, the Authorization it sends, what it should get.
type Case<'k> = (
    &'static str,
    Option<&'k str>,
    &'static str,
    fn(u16, &str) -> bool,
);

/// A key of the right shape that is not the real one.
const WRONG_KEY: &str = "xwizardWrongKey0000000000000000x";

impl Engine<'_> {
    pub(super) async fn run_tests(
        &self,
        step: &Step,
        api_url: &Source,
        secret: &Source,
        function: &Source,
        probe: (&Source, &Source),
    ) -> Result<(), StepError> {
        let url = self.resolve(api_url)?;
        let secret_arn = self.resolve(secret)?;
        let function_name = self.resolve(function)?;
        let (endpoint_id, endpoint_dns_name) = match (self.resolve(probe.0), self.resolve(probe.1))
        {
            (Ok(id), Ok(dns_name)) => (id, dns_name),
            // A consumer-vpc stack made by an xwizard without the probe endpoint: nothing
            // here can show that the producer refuses other endpoints.
            _ => {
                return Err(StepError::new(
                    "the consumer-vpc stack has no probe endpoint (outputs ProbeEndpointId and \
                     ProbeEndpointDnsName), so the producer's own refusals cannot be checked",
                    "it was made by an earlier xwizard: `xwizard destroy <name>`, then deploy \
                     again, makes it with one",
                ));
            }
        };
        let session = self.sessions.of(step.role);
        let key = secrets::read(session, &secret_arn).await?;

        let cases: [Case; 3] = [
            (
                "with the API key",
                Some(key.expose()),
                "200 and {\"id\":\"1\",\"value\":\"4.99\"}",
                |status, body| status == 200 && check::same_json(body, &widget()),
            ),
            (
                "without a key",
                None,
                "refused (401 or 403)",
                |status, _| matches!(status, 401 | 403),
            ),
            (
                "with a wrong key",
                Some(WRONG_KEY),
                "refused (401 or 403)",
                |status, _| matches!(status, 401 | 403),
            ),
        ];
        let mut failed = 0;
        for (name, auth, expected, passes) in cases {
            let shown_auth = match auth {
                Some(value) if value == key.expose() => {
                    " (Authorization: <API key from the secret>)"
                }
                Some(_) => " (Authorization: <a wrong key>)",
                None => " (no Authorization header)",
            };
            let headers: Vec<(&str, &str)> =
                auth.map(|a| ("Authorization", a)).into_iter().collect();
            let check_name = format!("consumer API {name}");
            let (answer, attempts) = self
                .settled(
                    step,
                    &check_name,
                    || check::get(&self.opts.check, &url, &headers),
                    |r| match r {
                        Ok(resp) if is_transient(resp.status) => Some(format!("{}", resp.status)),
                        Ok(_) => None,
                        // Judged at once: no warm-up makes a name resolve or a port listen.
                        Err(err) if check::no_connection(err) => None,
                        Err(err) => Some(redact(&format!("{err:#}"), key.expose())),
                    },
                )
                .await;
            let view = match answer {
                Ok(resp) => CheckView {
                    name: check_name,
                    request: format!("GET {url}{shown_auth}"),
                    expected: expected.to_string(),
                    status: Some(resp.status),
                    passed: passes(resp.status, &resp.body),
                    body: redact(&resp.body, key.expose()),
                    latency_ms: resp.latency.as_millis() as u64,
                    attempts,
                },
                Err(err) => CheckView {
                    name: check_name,
                    request: format!("GET {url}{shown_auth}"),
                    expected: expected.to_string(),
                    status: None,
                    body: redact(&format!("{err:#}"), key.expose()),
                    latency_ms: 0,
                    passed: false,
                    attempts,
                },
            };
            failed += usize::from(!self.report_check(step, view));
        }

        let function = FunctionCall {
            name: &function_name,
            key: key.expose(),
        };
        let function_cases = [
            (
                "consumer function",
                serde_json::json!({}),
                "statusCode 200 with the widget",
                passes_with_widget as fn(u16, &str) -> bool,
            ),
            (
                "producer refuses a call through another endpoint",
                // The real key, through an endpoint the producer's policy does not name.
                serde_json::json!({
                    "probe": "other-endpoint",
                    "endpoint_id": endpoint_id,
                    "dns_name": endpoint_dns_name,
                }),
                "403 from the producer's resource policy (\"User: anonymous is not authorized \
                 to perform: execute-api:Invoke on resource: … with an explicit deny\")",
                refused_by_resource_policy,
            ),
            (
                "producer refuses a wrong key",
                // Through the admitted endpoint, with a key that is not the real one.
                serde_json::json!({"probe": "wrong-key"}),
                "403 from the producer's authorizer (\"User is not authorized to access this \
                 resource with an explicit deny\")",
                refused_by_authorizer,
            ),
        ];
        let total = cases.len() + function_cases.len();
        for (name, event, expected, passes) in function_cases {
            let view = self
                .function_check(step, &function, name, &event, expected, passes)
                .await;
            failed += usize::from(!self.report_check(step, view));
        }

        if failed > 0 {
            return Err(StepError::new(
                format!("{failed} of {total} test checks failed"),
                "read the checks above; after fixing, `xwizard test <name>` runs them again",
            ));
        }
        Ok(())
    }

    /// Invokes the consumer function with `event` and judges what it passed on.
    async fn function_check(
        &self,
        step: &Step,
        function: &FunctionCall<'_>,
        name: &str,
        event: &serde_json::Value,
        expected: &str,
        passes: fn(u16, &str) -> bool,
    ) -> CheckView {
        let session = self.sessions.of(step.role);
        let request = if event.as_object().is_some_and(|o| o.is_empty()) {
            format!("Lambda Invoke {}", function.name)
        } else {
            format!("Lambda Invoke {} {event}", function.name)
        };
        let started = std::time::Instant::now();
        let (invoked, attempts) = self
            .settled(
                step,
                name,
                || functions::invoke(session, function.name, event),
                |r| match r {
                    // The function passes the producer's answer on: a 5xx there is the same
                    // warming-up as above.
                    Ok(inv) => inv
                        .payload
                        .get("statusCode")
                        .and_then(|v| v.as_u64())
                        .filter(|s| is_transient(*s as u16))
                        .map(|s| s.to_string()),
                    Err(_) => None,
                },
            )
            .await;
        match invoked {
            Ok(inv) => {
                let status = inv
                    .payload
                    .get("statusCode")
                    .and_then(|v| v.as_u64())
                    .map(|v| v as u16);
                let body = inv
                    .payload
                    .get("body")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string();
                CheckView {
                    name: name.into(),
                    request,
                    expected: expected.into(),
                    passed: inv.function_error.is_none()
                        && status.is_some_and(|s| passes(s, &body)),
                    status,
                    body: redact(
                        &match inv.function_error {
                            Some(kind) => format!("{kind}: {}", inv.payload),
                            None => body,
                        },
                        function.key,
                    ),
                    latency_ms: started.elapsed().as_millis() as u64,
                    attempts,
                }
            }
            Err(err) => CheckView {
                name: name.into(),
                request,
                expected: expected.into(),
                status: None,
                body: redact(&format!("{err:#}"), function.key),
                latency_ms: started.elapsed().as_millis() as u64,
                passed: false,
                attempts,
            },
        }
    }
}

/// The consumer function, and the key its answers must never show.
struct FunctionCall<'a> {
    name: &'a str,
    key: &'a str,
}

fn passes_with_widget(status: u16, body: &str) -> bool {
    status == 200 && check::same_json(body, &widget())
}

/// API Gateway's message in a refusal body: `{"Message": …}` (some answers spell it
/// `message`).
fn refusal_message(body: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(body).ok()?;
    let object = doc.as_object()?;
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("message"))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string)
}

/// The producer's resource policy refused: its explicit deny of an anonymous caller on the
/// API's own ARN, not a refusal by the endpoint's policy or by the authorizer.
fn refused_by_resource_policy(status: u16, body: &str) -> bool {
    status == 403
        && refusal_message(body).is_some_and(|m| {
            m.starts_with(
            "User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:",
        ) && m.contains("with an explicit deny")
            && !m.contains("VPC endpoint policy")
        })
}

/// The producer's authorizer refused: API Gateway's answer to a Deny policy from a Lambda
/// authorizer.
fn refused_by_authorizer(status: u16, body: &str) -> bool {
    status == 403
        && refusal_message(body).as_deref()
            == Some("User is not authorized to access this resource with an explicit deny")
}

/// Answers a just-made API gives while it warms up (a stage, a VPC link, targets passing
/// their first health checks, cold functions): worth asking again before judging.
fn is_transient(status: u16) -> bool {
    matches!(status, 500 | 502 | 503 | 504)
}

impl Engine<'_> {
    /// Shows one check with its evidence; whether it passed.
    pub(super) fn report_check(&self, step: &Step, check: CheckView) -> bool {
        let passed = check.passed;
        self.emit(Event::Check {
            step: step.id.to_string(),
            check,
        });
        passed
    }

    /// Calls `call` until `transient` finds nothing to wait out in its result, or until the
    /// warm-up time is over; the last result and how many calls it took. Each retry is said,
    /// with why.
    pub(super) async fn settled<T, F, Fut>(
        &self,
        step: &Step,
        what: &str,
        call: F,
        transient: impl Fn(&T) -> Option<String>,
    ) -> (T, u32)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        // Two minutes against AWS; seconds on the sandbox at its fast pace.
        let warm_up = self.opts.poll.max * 12;
        self.opts
            .poll
            .retry(warm_up, call, transient, |attempt, why| {
                self.emit(Event::CheckRetry {
                    step: step.id.to_string(),
                    check: what.to_string(),
                    attempt,
                    cause: why.to_string(),
                })
            })
            .await
    }
}

/// A body or error could echo the key back; it never reaches a screen or a log.
fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_string()
    } else {
        text.replace(secret, "<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY_DENY: &str = "User: anonymous is not authorized to perform: execute-api:Invoke \
        on resource: arn:aws:execute-api:us-east-1:111111111111:abc123/prod/GET/widgets with an \
        explicit deny";

    #[test]
    fn only_the_producer_policy_s_denial_passes_the_other_endpoint_check() {
        let body = |key: &str, m: &str| serde_json::json!({ key: m }).to_string();
        assert!(refused_by_resource_policy(
            403,
            &body("Message", POLICY_DENY)
        ));
        assert!(refused_by_resource_policy(
            403,
            &body("message", POLICY_DENY)
        ));
        // Answered, or refused by something else: the producer's policy did not refuse.
        assert!(!refused_by_resource_policy(
            200,
            r#"{"id":"1","value":"4.99"}"#
        ));
        assert!(!refused_by_resource_policy(
            403,
            r#"{"message":"Forbidden"}"#
        ));
        assert!(!refused_by_resource_policy(
            403,
            &body(
                "Message",
                "User is not authorized to access this resource with an explicit deny"
            )
        ));
        assert!(!refused_by_resource_policy(
            403,
            &body(
                "Message",
                &format!("{POLICY_DENY} in a VPC endpoint policy")
            )
        ));
        assert!(!refused_by_resource_policy(403, "not JSON"));
    }

    #[test]
    fn only_the_authorizer_s_deny_passes_the_wrong_key_check() {
        let deny = "User is not authorized to access this resource with an explicit deny";
        assert!(refused_by_authorizer(
            403,
            &serde_json::json!({ "Message": deny }).to_string()
        ));
        assert!(!refused_by_authorizer(401, r#"{"message":"Unauthorized"}"#));
        assert!(!refused_by_authorizer(
            403,
            &serde_json::json!({ "Message": POLICY_DENY }).to_string()
        ));
        assert!(!refused_by_authorizer(200, r#"{"id":"1","value":"4.99"}"#));
    }
}
