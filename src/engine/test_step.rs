//! The test step: the consumer API with the key, without it and with a wrong one, then the
//! consumer function. Every call is shown with its evidence; the key itself never is.

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
        &mut self,
        step: &Step,
        api_url: &Source,
        secret: &Source,
        function: &Source,
    ) -> Result<(), StepError> {
        let url = self.resolve(api_url)?;
        let secret_arn = self.resolve(secret)?;
        let function_name = self.resolve(function)?;
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
            let view = match check::get(&self.opts.check, &url, &headers).await {
                Ok(resp) => CheckView {
                    name: format!("consumer API {name}"),
                    request: format!("GET {url}{shown_auth}"),
                    expected: expected.to_string(),
                    status: Some(resp.status),
                    passed: passes(resp.status, &resp.body),
                    body: redact(&resp.body, key.expose()),
                    latency_ms: resp.latency.as_millis() as u64,
                },
                Err(err) => CheckView {
                    name: format!("consumer API {name}"),
                    request: format!("GET {url}{shown_auth}"),
                    expected: expected.to_string(),
                    status: None,
                    body: redact(&format!("{err:#}"), key.expose()),
                    latency_ms: 0,
                    passed: false,
                },
            };
            failed += usize::from(!view.passed);
            self.emit(Event::Check {
                step: step.id.to_string(),
                check: view,
            });
        }

        let started = std::time::Instant::now();
        let view = match functions::invoke(session, &function_name).await {
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
                    name: "consumer function".into(),
                    request: format!("Lambda Invoke {function_name}"),
                    expected: "statusCode 200 with the widget".into(),
                    passed: inv.function_error.is_none()
                        && status == Some(200)
                        && check::same_json(&body, &widget()),
                    status,
                    body: redact(
                        &match inv.function_error {
                            Some(kind) => format!("{kind}: {}", inv.payload),
                            None => body,
                        },
                        key.expose(),
                    ),
                    latency_ms: started.elapsed().as_millis() as u64,
                }
            }
            Err(err) => CheckView {
                name: "consumer function".into(),
                request: format!("Lambda Invoke {function_name}"),
                expected: "statusCode 200 with the widget".into(),
                status: None,
                body: redact(&format!("{err:#}"), key.expose()),
                latency_ms: started.elapsed().as_millis() as u64,
                passed: false,
            },
        };
        failed += usize::from(!view.passed);
        self.emit(Event::Check {
            step: step.id.to_string(),
            check: view,
        });

        if failed > 0 {
            return Err(StepError::new(
                format!("{failed} of 4 test checks failed"),
                "read the checks above; after fixing, `xwizard test <name>` runs them again",
            ));
        }
        Ok(())
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
