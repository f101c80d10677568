//! Pattern 2's test, from the consumer's instance through SSM Run Command (it has no SSH and
//! no public address): the instance makes its own key and CSR, the deployment's CA signs the
//! CSR (and a CA the trust store does not hold signs it too), the instance reads the API key
//! from the producer's secret with its own role and calls the service with and without its
//! certificate, with the other CA's, and without the key.
//!
//! No private key or secret travels: the key stays on the instance, the API key goes from
//! Secrets Manager into a 0600 header file there, and what comes back is certificates, status
//! codes, curl's exit codes and the API's bodies.

use std::time::Duration;

use super::events::CheckView;
use super::test_step::widget;
use super::{Engine, StepError};
use crate::aws::run_command::{Invocation, RunCommand};
use crate::plan::{ClientCertificate, MtlsCheck, MtlsExpect, Source, Step};

/// An instance registers with Systems Manager a minute or two after it starts.
const AGENT_DEADLINE: Duration = Duration::from_secs(10 * 60);
/// What one script may take on the instance (SSM's `executionTimeout`).
const SCRIPT_TIMEOUT_SECONDS: u32 = 120;
/// Where the test keeps its files on the instance (its key never leaves it). Run Command's
/// shell runs as root without HOME set, so the scripts set it first.
const DIR: &str = "$HOME/xwizard-test";
const SET_HOME: &str = "export HOME=\"${HOME:-/root}\"";

/// curl's exit codes for a TLS handshake the server ended: 35 (handshake failed), 55 (the
/// server closed the connection while curl sent its request) or 56 (TLS
/// 1.3 sends the refusal as an alert after the handshake, read as a receive failure).
const HANDSHAKE_REFUSED: [i32; 3] = [35, 55, 56];

/// One check's result, as the instance printed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Reading {
    exit: i32,
    status: u16,
    /// curl's `time_total`.
    latency_ms: u64,
    body: String,
    error: String,
}

impl Engine<'_> {
    pub(super) async fn mtls_test(
        &self,
        step: &Step,
        (instance, host, secret, ca_kind): (&Source, &Source, &Source, &Source),
        checks: &[MtlsCheck],
    ) -> Result<(), StepError> {
        let instance_id = self.resolve(instance)?;
        let host = self.resolve(host)?;
        let secret_arn = self.resolve(secret)?;
        let ca_kind = self.resolve(ca_kind)?;
        let ssm = RunCommand::new(self.sessions.of(step.role));
        self.wait_for_agent(step, &ssm, &instance_id).await?;

        let csr = self
            .run_script(
                step,
                &ssm,
                &instance_id,
                "make a key and a CSR",
                key_and_csr_script(),
            )
            .await?;
        let csr = pem_block(&csr.stdout, "CERTIFICATE REQUEST").ok_or_else(|| {
            StepError::new(
                format!("the instance printed no CSR: {}", csr.stderr.trim()),
                "check that openssl is installed on the instance; `xwizard test <name>` tries \
                 again",
            )
        })?;
        let trusted = self.sign_client_csr(&csr).await?;
        let other = super::certificates::sign_with_untrusted_ca(&csr)?;
        self.info(
            step.id,
            format!(
                "instance {instance_id} made its key; the {} CA signed its certificate",
                ca_kind
            ),
        );

        let script = checks_script(&host, &secret_arn, &trusted, &other, checks);
        let url = format!("https://{host}/widgets");
        let (readings, attempts) = self
            .settled(
                step,
                checks.first().map_or("mTLS", |c| c.name),
                || async {
                    self.run_script(step, &ssm, &instance_id, "call the service", script.clone())
                        .await
                        .map(|out| parse_readings(&out.stdout, checks))
                },
                |r: &Result<Vec<Reading>, StepError>| match r {
                    // A just-made load balancer answers 502/503 until its targets pass their
                    // health checks.
                    Ok(readings) => readings
                        .first()
                        .filter(|r| matches!(r.status, 500 | 502 | 503 | 504))
                        .map(|r| format!("{} {}", r.status, r.body)),
                    Err(_) => None,
                },
            )
            .await;
        let readings = readings?;
        let mut failed = 0;
        for (check, reading) in checks.iter().zip(readings) {
            let passed = judge(check.expect, &reading);
            if !passed {
                failed += 1;
            }
            self.report_check(
                step,
                CheckView {
                    name: check.name.to_string(),
                    request: describe_request(&url, check),
                    expected: expectation(check.expect),
                    status: (reading.status != 0).then_some(reading.status),
                    body: evidence(&reading),
                    latency_ms: reading.latency_ms,
                    passed,
                    attempts,
                },
            );
        }
        if failed > 0 {
            return Err(StepError::new(
                format!("{failed} of {} mTLS checks failed", checks.len()),
                "read each check's evidence above; `xwizard test <name>` runs them again",
            ));
        }
        Ok(())
    }

    async fn wait_for_agent(
        &self,
        step: &Step,
        ssm: &RunCommand,
        instance_id: &str,
    ) -> Result<(), StepError> {
        if ssm.agent_status(instance_id).await?.as_deref() != Some("Online") {
            self.info(
                step.id,
                format!(
                    "waiting for instance {instance_id} to register with Systems Manager (a \
                     minute or two after it starts)"
                ),
            );
        }
        let (online, status) = self
            .wait_until(
                AGENT_DEADLINE,
                || ssm.agent_status(instance_id),
                |s: &Option<String>| s.as_deref() == Some("Online"),
            )
            .await?;
        if !online {
            return Err(StepError::new(
                format!(
                    "instance {instance_id} is {} to Systems Manager after {} minutes",
                    status.as_deref().unwrap_or("unknown"),
                    AGENT_DEADLINE.as_secs() / 60
                ),
                "it reaches SSM through the consumer VPC's ssm, ssmmessages and ec2messages \
                 endpoints: check they exist and the instance's role has \
                 AmazonSSMManagedInstanceCore; `xwizard resume <name>` waits again",
            ));
        }
        Ok(())
    }

    /// Runs a script on the instance and waits for its end; a failed script is an error
    /// with its output.
    async fn run_script(
        &self,
        step: &Step,
        ssm: &RunCommand,
        instance_id: &str,
        what: &str,
        lines: Vec<String>,
    ) -> Result<Invocation, StepError> {
        let command_id = ssm
            .send_shell(
                instance_id,
                &format!("xwizard {}: {what}", self.deployment().name),
                lines,
                SCRIPT_TIMEOUT_SECONDS,
            )
            .await?;
        self.info(
            step.id,
            format!("{what}: SSM command {command_id} on {instance_id}"),
        );
        let deadline = Duration::from_secs(u64::from(SCRIPT_TIMEOUT_SECONDS) + 120);
        let (finished, last) = self
            .wait_until(
                deadline,
                || ssm.invocation(&command_id, instance_id),
                |i: &Option<Invocation>| i.as_ref().is_some_and(Invocation::finished),
            )
            .await?;
        match last {
            Some(out) if finished && out.status == "Success" => Ok(out),
            Some(out) => Err(StepError::new(
                format!(
                    "SSM command {command_id} ({what}) on {instance_id} is {} (exit {}): {}",
                    out.status,
                    out.response_code,
                    last_lines(&format!("{}\n{}", out.stdout, out.stderr), 5)
                ),
                "`xwizard test <name>` runs the test again",
            )),
            None => Err(StepError::new(
                format!("SSM shows no run of command {command_id} on {instance_id}"),
                "`xwizard test <name>` runs the test again",
            )),
        }
    }
}

/// Makes the instance's key once (0600, kept for later runs) and prints its CSR.
fn key_and_csr_script() -> Vec<String> {
    vec![
        "set -eu".into(),
        SET_HOME.into(),
        "umask 077".into(),
        format!("mkdir -p {DIR} && cd {DIR}"),
        "[ -s client.key ] || openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
         -nodes -keyout client.key -subj '/CN=xwizard test client' -out client.csr 2>/dev/null"
            .into(),
        "[ -s client.csr ] || openssl req -new -key client.key -subj '/CN=xwizard test client' \
         -out client.csr"
            .into(),
        "cat client.csr".into(),
    ]
}

/// Writes the two certificates, reads the API key into a 0600 header file, makes each call
/// and prints one `xw-check` line per call (exit code, HTTP status, body and error, each
/// cut short and base64-free: bodies are JSON messages).
fn checks_script(
    host: &str,
    secret_arn: &str,
    trusted: &str,
    other: &str,
    checks: &[MtlsCheck],
) -> Vec<String> {
    // The secret's own region: the instance's CLI may have none configured.
    let region = secret_arn.split(':').nth(3).unwrap_or_default();
    let mut lines = vec![
        "set -u".into(),
        SET_HOME.into(),
        "umask 077".into(),
        format!("cd {DIR}"),
        format!("cat > client.pem <<'PEM'\n{}\nPEM", trusted.trim()),
        format!("cat > other.pem <<'PEM'\n{}\nPEM", other.trim()),
        format!(
            "key=$(aws secretsmanager get-secret-value --region '{region}' --secret-id \
             '{secret_arn}' --query \
             SecretString --output text) || {{ echo 'xw-error cannot read the API key'; exit 3; }}"
        ),
        "printf 'Authorization: %s\\n' \"$key\" > auth.header; unset key".into(),
        "check() { id=$1; shift; status=$(curl -sS -o \"body.$id\" -w '%{http_code} \
         %{time_total}' --max-time 30 \"$@\" 2>\"error.$id\"); rc=$?; printf 'xw-check %s %s %s \
         %s || %s\\n' \"$id\" \"$rc\" \"$status\" \"$(head -c 600 \"body.$id\" | tr '\\n' ' ')\" \
         \"$(head -c 300 \"error.$id\" | tr '\\n' ' ')\"; }"
            .into(),
    ];
    for check in checks {
        let mut args = String::new();
        match check.certificate {
            ClientCertificate::Trusted => args.push_str(" --cert client.pem --key client.key"),
            ClientCertificate::OtherCa => args.push_str(" --cert other.pem --key client.key"),
            ClientCertificate::None => {}
        }
        if check.api_key {
            args.push_str(" -H @auth.header");
        }
        lines.push(format!("check {}{args} 'https://{host}/widgets'", check.id));
    }
    lines.push("rm -f auth.header".into());
    lines
}

/// `xw-check <id> <exit> <status> <seconds> <body> || <error>` lines, in the checks' order; a check
/// the instance printed nothing for reads as not run.
fn parse_readings(stdout: &str, checks: &[MtlsCheck]) -> Vec<Reading> {
    checks
        .iter()
        .map(|check| {
            let prefix = format!("xw-check {} ", check.id);
            let Some(line) = stdout.lines().find_map(|l| l.strip_prefix(&prefix)) else {
                return Reading {
                    exit: -1,
                    error: "the instance printed nothing for this call".into(),
                    ..Reading::default()
                };
            };
            let (head, error) = line.split_once(" || ").unwrap_or((line, ""));
            let mut parts = head.splitn(4, ' ');
            let exit = parts.next().and_then(|p| p.parse().ok()).unwrap_or(-1);
            let status = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            let seconds: f64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0.0);
            let body = parts.next().unwrap_or_default().trim().to_string();
            Reading {
                exit,
                status,
                latency_ms: (seconds * 1000.0).round() as u64,
                body,
                error: error.trim().to_string(),
            }
        })
        .collect()
}

fn judge(expect: MtlsExpect, r: &Reading) -> bool {
    match expect {
        MtlsExpect::Widget => {
            r.exit == 0 && r.status == 200 && crate::check::same_json(&r.body, &widget())
        }
        MtlsExpect::HandshakeRefused => HANDSHAKE_REFUSED.contains(&r.exit) && r.status == 0,
        MtlsExpect::Refused => r.exit == 0 && matches!(r.status, 401 | 403),
    }
}

fn expectation(expect: MtlsExpect) -> String {
    match expect {
        MtlsExpect::Widget => format!("200 and {}", widget()),
        MtlsExpect::HandshakeRefused => {
            "the load balancer ends the TLS handshake (no HTTP answer)".into()
        }
        MtlsExpect::Refused => "401 or 403 from the API's authorizer".into(),
    }
}

/// The call as curl on the instance makes it (the step's messages name the instance).
fn describe_request(url: &str, check: &MtlsCheck) -> String {
    let certificate = match check.certificate {
        ClientCertificate::Trusted => "--cert <signed by the deployment's CA>",
        ClientCertificate::OtherCa => "--cert <signed by another CA>",
        ClientCertificate::None => "no --cert",
    };
    let key = if check.api_key {
        " -H 'Authorization: <API key>'"
    } else {
        ""
    };
    format!("GET {url} {certificate}{key}")
}

/// What the instance saw: the body, or curl's error when there was no HTTP answer.
fn evidence(r: &Reading) -> String {
    if r.status != 0 {
        r.body.clone()
    } else {
        format!("curl exit {}: {}", r.exit, r.error)
    }
}

/// The first PEM block of this label in `text`.
fn pem_block(text: &str, label: &str) -> Option<String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text[start..].find(&end)? + start + end.len();
    Some(format!("{}\n", &text[start..stop]))
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim().lines().collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::pattern2::MTLS_CHECKS;

    #[test]
    fn readings_are_parsed_and_judged_as_a_user_reads_them() {
        let out = "noise\n\
            xw-check with-cert 0 200 0.031 {\"id\":\"1\",\"value\":\"4.99\"} || \n\
            xw-check no-cert 56 000 0.004  || curl: (56) OpenSSL SSL_read: tlsv13 alert certificate required\n\
            xw-check other-ca 35 000 0.003  || curl: (35) alert unknown ca\n\
            xw-check no-key 0 401 0.020 {\"message\":\"Unauthorized\"} || \n";
        let readings = parse_readings(out, MTLS_CHECKS);
        let verdicts: Vec<bool> = MTLS_CHECKS
            .iter()
            .zip(&readings)
            .map(|(c, r)| judge(c.expect, r))
            .collect();
        assert_eq!(verdicts, [true, true, true, true]);
        assert!(evidence(&readings[1]).contains("certificate required"));
        assert_eq!(readings[0].latency_ms, 31);
        // An ALB that let the call through without a certificate fails the check.
        let open = parse_readings("xw-check no-cert 0 200 0.01 {} || \n", &MTLS_CHECKS[1..2]);
        assert!(!judge(MtlsExpect::HandshakeRefused, &open[0]));
        // A check the instance never printed is not a pass.
        assert!(!judge(
            MtlsExpect::Refused,
            &parse_readings("", MTLS_CHECKS)[3]
        ));
    }

    #[test]
    fn no_secret_or_key_is_in_the_scripts() {
        let script =
            checks_script("h.example.com", "arn:x", "CERT", "OTHER", MTLS_CHECKS).join("\n");
        assert!(!script.contains("PRIVATE KEY"));
        assert!(
            script.contains("-H @auth.header"),
            "the key goes by a file, not argv"
        );
        let calls = script.lines().filter(|l| l.starts_with("check ")).count();
        assert_eq!(calls, MTLS_CHECKS.len());
    }

    #[test]
    fn the_first_csr_block_is_taken() {
        let text =
            "x\n-----BEGIN CERTIFICATE REQUEST-----\nAAA\n-----END CERTIFICATE REQUEST-----\ny";
        assert_eq!(
            pem_block(text, "CERTIFICATE REQUEST").unwrap(),
            "-----BEGIN CERTIFICATE REQUEST-----\nAAA\n-----END CERTIFICATE REQUEST-----\n"
        );
        assert!(pem_block("nothing", "CERTIFICATE REQUEST").is_none());
    }
}
