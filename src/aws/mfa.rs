//! Profiles that assume a role with `mfa_serial`: the SDK's profile provider cannot ask for a
//! one-time code, so xwizard gets the code from the front end in use and makes the calls
//! itself.
//!
//! The source profile's long-term keys buy one MFA session (GetSessionToken with the code);
//! every role of the run is then assumed with that session, which AWS counts as MFA-present.
//! So two profiles sharing a device cost one code per run. When the source credentials are
//! temporary (GetSessionToken refuses those), each role is assumed with a code of its own.
//!
//! The code is never stored, logged or echoed: errors name the device, not the code.

use anyhow::{Result, anyhow, bail};
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// What is left of a role's credentials when they are reused rather than renewed.
const REUSE_MARGIN: Duration = Duration::from_secs(300);
/// The MFA session lives as long as AWS's default, so a long run (or a long stay on the
/// full screen) assumes its roles again without a second code.
const MFA_SESSION_SECONDS: i32 = 43_200;
/// How long `mfa_code_command` may take: it prints a code, it does not wait for a person.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The flag, variable and preset field that give a code without a prompt.
pub const HOW_TO_GIVE: &str = "pass --mfa-code CODE, set XWIZARD_MFA_CODE, or put \
    mfa_code_command (a command printing the code) in the --preset file";

/// A front end that can ask the person for the code their device shows now.
pub trait CodePrompt: Send + Sync {
    /// The code `serial` shows now, asked for `profile`.
    fn ask<'a>(&'a self, serial: &'a str, profile: &'a str) -> BoxFuture<'a, Result<String>>;
}

/// Whether `code` looks like a one-time code; the reason, never the code, otherwise.
pub fn check_code(code: &str) -> Result<(), String> {
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("an MFA code is the 6 digits the device shows".into())
    }
}

/// Where this run's codes come from, in order: a given code (flag or variable), the preset's
/// command, the front end's prompt.
#[derive(Default)]
pub struct CodeSources {
    pub given: Option<String>,
    pub command: Option<String>,
    pub prompt: Option<Box<dyn CodePrompt>>,
}

impl std::fmt::Debug for CodeSources {
    // The code is a secret for its 30 seconds: a debug print says only whether there is one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeSources")
            .field("given", &self.given.as_ref().map(|_| "<code>"))
            .field("command", &self.command)
            .field("prompt", &self.prompt.is_some())
            .finish()
    }
}

impl CodeSources {
    async fn code(&self, serial: &str, profile: &str) -> Result<String> {
        if let Some(code) = &self.given {
            check_code(code).map_err(|e| anyhow!("--mfa-code / XWIZARD_MFA_CODE: {e}"))?;
            return Ok(code.clone());
        }
        if let Some(command) = &self.command {
            return run_command(command, serial, profile).await;
        }
        match &self.prompt {
            Some(prompt) => {
                let code = prompt.ask(serial, profile).await?;
                check_code(&code).map_err(|e| anyhow!("{e}"))?;
                Ok(code)
            }
            None => bail!(
                "profile '{profile}' assumes its role with the MFA device {serial}, and nothing \
                 can ask for its one-time code here: {HOW_TO_GIVE}"
            ),
        }
    }
}

/// Runs the preset's `mfa_code_command` with `sh -c` (so `oathtool --totp -b "$(cat key)"`
/// works as typed); its stdout's first line is the code. `XWIZARD_MFA_SERIAL` and
/// `XWIZARD_MFA_PROFILE` tell it which device is asked, for a person with more than one.
async fn run_command(command: &str, serial: &str, profile: &str) -> Result<String> {
    let run = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("XWIZARD_MFA_SERIAL", serial)
        .env("XWIZARD_MFA_PROFILE", profile)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(COMMAND_TIMEOUT, run)
        .await
        .map_err(|_| {
            anyhow!(
                "the preset's mfa_code_command did not finish within {}s",
                COMMAND_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| anyhow!("the preset's mfa_code_command could not be run: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr.lines().next().unwrap_or("no message").trim();
        bail!(
            "the preset's mfa_code_command failed ({}): {why}",
            out.status
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let code = stdout.lines().next().unwrap_or("").trim().to_string();
    check_code(&code).map_err(|e| {
        anyhow!("the preset's mfa_code_command did not print a code on its first line: {e}")
    })?;
    Ok(code)
}

/// What an `mfa_serial` role profile says.
#[derive(Debug, Clone)]
pub struct MfaRole {
    pub profile: String,
    pub role_arn: String,
    pub serial: String,
    pub source_profile: String,
    pub session_name: String,
    pub duration_seconds: i32,
    pub external_id: Option<String>,
}

impl MfaRole {
    /// The profile's role, when it assumes one with an MFA device; an error when the
    /// profile says it wrongly.
    pub fn of(profile: &aws_config::profile::Profile) -> Option<Result<Self>> {
        let serial = profile.get("mfa_serial")?;
        let role_arn = profile.get("role_arn")?;
        let name = profile.name();
        Some((|| {
            let Some(source_profile) = profile.get("source_profile") else {
                bail!(
                    "profile '{name}' assumes {role_arn} with MFA but has no source_profile: \
                     xwizard signs only with credentials from profiles, so give it a \
                     source_profile with keys"
                );
            };
            let duration_seconds = match profile.get("duration_seconds") {
                None => 3600,
                Some(text) => text.trim().parse().map_err(|_| {
                    anyhow!(
                        "profile '{name}': duration_seconds is '{text}', not a number of seconds"
                    )
                })?,
            };
            let session_name = profile
                .get("role_session_name")
                .map(str::to_string)
                .unwrap_or_else(|| {
                    let secs = SystemTime::now()
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0);
                    format!("xwizard-{secs}")
                });
            Ok(Self {
                profile: name.to_string(),
                role_arn: role_arn.to_string(),
                serial: serial.to_string(),
                source_profile: source_profile.to_string(),
                session_name,
                duration_seconds,
                external_id: profile.get("external_id").map(str::to_string),
            })
        })())
    }
}

/// The MFA sessions and assumed roles of one run, so that each device is asked once.
#[derive(Debug, Default)]
pub struct Mfa {
    pub codes: CodeSources,
    /// MFA sessions by device and the profile whose keys made them.
    sessions: tokio::sync::Mutex<HashMap<(String, String), Credentials>>,
    /// Each role profile's credentials, reused while they last.
    roles: tokio::sync::Mutex<HashMap<String, Credentials>>,
}

fn lasting(creds: &Credentials) -> bool {
    creds
        .expiry()
        .is_none_or(|at| at > SystemTime::now() + REUSE_MARGIN)
}

/// The code, wherever it appears in an AWS message, stands as `<code>`.
fn redact(text: String, code: &str) -> String {
    if code.is_empty() {
        text
    } else {
        text.replace(code, "<code>")
    }
}

/// STS's answer in words, naming the real cause: a refused code, or the role's refusal.
fn sts_error<E>(
    what: &str,
    role: &MfaRole,
    code: &str,
    err: aws_sdk_sts::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> anyhow::Error
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let message = err
        .as_service_error()
        .and_then(|e| e.message())
        .unwrap_or_default()
        .to_string();
    if message.contains("MultiFactorAuthentication failed") {
        return anyhow!(
            "the MFA code for {} was refused: {}, run again with a fresh code (wait for the \
             device to show the next one)",
            role.serial,
            redact(message, code).trim_end_matches('.')
        );
    }
    let cause = redact(format!("{:#}", super::error::explain(what, err)), code);
    anyhow!(
        "profile '{}' could not assume {} with the MFA device {}: {cause}",
        role.profile,
        role.role_arn,
        role.serial
    )
}

fn to_credentials(
    c: Option<&aws_sdk_sts::types::Credentials>,
    name: &'static str,
) -> Result<Credentials> {
    let c = c.ok_or_else(|| anyhow!("STS answered without credentials"))?;
    let expiry = SystemTime::try_from(*c.expiration()).ok();
    Ok(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        expiry,
        name,
    ))
}

impl Mfa {
    pub fn new(codes: CodeSources) -> Self {
        Self {
            codes,
            ..Self::default()
        }
    }

    /// Credentials of `role`, assumed with MFA: reused from earlier in the run while they
    /// last. `base` is the role profile's configuration (region, endpoint), used for STS.
    pub async fn credentials(
        &self,
        role: &MfaRole,
        base: &aws_config::SdkConfig,
        source: &(dyn ProvideCredentials + 'static),
    ) -> Result<Credentials> {
        if let Some(creds) = self.roles.lock().await.get(&role.profile)
            && lasting(creds)
        {
            return Ok(creds.clone());
        }
        let keys = source.provide_credentials().await.map_err(|e| {
            anyhow!(
                "profile '{}' takes its credentials from source_profile '{}', which has none \
                 usable: {e}",
                role.profile,
                role.source_profile
            )
        })?;
        let creds = if keys.session_token().is_none() {
            let session = self.mfa_session(role, base, keys).await?;
            self.assume(role, base, session, None).await?
        } else {
            // GetSessionToken refuses temporary credentials: the code goes with the role.
            // One code asked at a time, as for the MFA sessions.
            let _one_at_a_time = self.sessions.lock().await;
            let code = self.codes.code(&role.serial, &role.profile).await?;
            self.assume(role, base, keys, Some(&code)).await?
        };
        self.roles
            .lock()
            .await
            .insert(role.profile.clone(), creds.clone());
        Ok(creds)
    }

    /// The MFA session of the device and source keys, asking for a code only the first time.
    async fn mfa_session(
        &self,
        role: &MfaRole,
        base: &aws_config::SdkConfig,
        keys: Credentials,
    ) -> Result<Credentials> {
        // Held while the code is asked: a second profile on the same device waits for the
        // session the first one makes, rather than asking again.
        let mut sessions = self.sessions.lock().await;
        let key = (role.serial.clone(), role.source_profile.clone());
        if let Some(session) = sessions.get(&key)
            && lasting(session)
        {
            return Ok(session.clone());
        }
        let code = self.codes.code(&role.serial, &role.profile).await?;
        let sts = client(base, keys);
        let out = sts
            .get_session_token()
            .serial_number(&role.serial)
            .token_code(&code)
            .duration_seconds(MFA_SESSION_SECONDS)
            .send()
            .await
            .map_err(|e| sts_error("STS GetSessionToken failed", role, &code, e))?;
        let session = to_credentials(out.credentials(), "xwizard-mfa-session")?;
        sessions.insert(key, session.clone());
        Ok(session)
    }

    async fn assume(
        &self,
        role: &MfaRole,
        base: &aws_config::SdkConfig,
        creds: Credentials,
        code: Option<&str>,
    ) -> Result<Credentials> {
        let mut call = client(base, creds)
            .assume_role()
            .role_arn(&role.role_arn)
            .role_session_name(&role.session_name)
            .duration_seconds(role.duration_seconds)
            .set_external_id(role.external_id.clone());
        if let Some(code) = code {
            call = call.serial_number(&role.serial).token_code(code);
        }
        let out = call
            .send()
            .await
            .map_err(|e| sts_error("STS AssumeRole failed", role, code.unwrap_or(""), e))?;
        to_credentials(out.credentials(), "xwizard-mfa-role")
    }
}

fn client(base: &aws_config::SdkConfig, creds: Credentials) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::config::Builder::from(base)
        .credentials_provider(creds)
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_a_bad_one_is_not_echoed() {
        assert!(check_code("012345").is_ok());
        for bad in ["12345", "1234567", "12a456", " 12345", ""] {
            let why = check_code(bad).unwrap_err();
            assert!(bad.is_empty() || !why.contains(bad), "{why}");
        }
    }

    #[tokio::test]
    async fn without_a_source_the_error_names_the_flag_the_variable_and_the_preset_field() {
        let err = CodeSources::default()
            .code("arn:aws:iam::1:mfa/me", "prod")
            .await
            .unwrap_err()
            .to_string();
        for part in [
            "--mfa-code",
            "XWIZARD_MFA_CODE",
            "mfa_code_command",
            "arn:aws:iam::1:mfa/me",
        ] {
            assert!(err.contains(part), "{part} not in {err}");
        }
    }

    #[tokio::test]
    async fn the_command_prints_the_code_and_its_failures_are_said_without_output() {
        let sources = CodeSources {
            command: Some("echo 123456; echo more".into()),
            ..Default::default()
        };
        assert_eq!(sources.code("s", "p").await.unwrap(), "123456");
        // The command knows which device is asked.
        let sources = CodeSources {
            command: Some(r#"test "$XWIZARD_MFA_SERIAL" = dev2 && echo 222222"#.into()),
            ..Default::default()
        };
        assert_eq!(sources.code("dev2", "p").await.unwrap(), "222222");
        let sources = CodeSources {
            command: Some("echo 98765x".into()),
            ..Default::default()
        };
        let err = sources.code("s", "p").await.unwrap_err().to_string();
        assert!(!err.contains("98765x"), "{err}");
        let sources = CodeSources {
            command: Some("echo nope >&2; exit 3".into()),
            ..Default::default()
        };
        let err = sources.code("s", "p").await.unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
    }
}
