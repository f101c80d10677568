//! A session is one AWS profile, loaded as the AWS CLI loads it (SSO, credential_process,
//! static keys, `endpoint_url`, roles, roles assumed with an MFA code), with the identity STS
//! reports for it.

use anyhow::Result;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_runtime::env_config::file::{
    EnvConfigFileKind as ProfileFileKind, EnvConfigFiles as ProfileFiles,
};
use std::path::PathBuf;

/// Where profiles are read from: the user's usual files, or an explicit pair (the sandbox's).
#[derive(Debug, Clone, Default)]
pub struct ProfileSource {
    pub config_file: Option<PathBuf>,
    pub credentials_file: Option<PathBuf>,
}

impl ProfileSource {
    pub fn files(config: PathBuf, credentials: PathBuf) -> Self {
        Self {
            config_file: Some(config),
            credentials_file: Some(credentials),
        }
    }

    fn profile_files(&self) -> Option<ProfileFiles> {
        if self.config_file.is_none() && self.credentials_file.is_none() {
            return None;
        }
        let mut builder = ProfileFiles::builder();
        if let Some(config) = &self.config_file {
            builder = builder.with_file(ProfileFileKind::Config, config);
        }
        if let Some(credentials) = &self.credentials_file {
            builder = builder.with_file(ProfileFileKind::Credentials, credentials);
        }
        Some(builder.build())
    }
}

/// Who a profile is, as STS GetCallerIdentity says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub account_id: String,
    pub arn: String,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub profile: String,
    /// What signing in involves for the profile (as `ProfileSummary::kind`), for the advice
    /// an error gives.
    pub kind: &'static str,
    pub config: SdkConfig,
}

impl Session {
    /// Loads `profile`; `region` overrides the profile's own region. A role profile with
    /// `mfa_serial` is loaded as the SDK loads it (without the code AWS will ask for): runs
    /// go through `open`.
    pub async fn load(profile: &str, region: Option<&str>, source: &ProfileSource) -> Self {
        let kind = profile_kind(profile, source).await;
        let credentials = file_credentials(profile, source);
        Self {
            profile: profile.to_string(),
            kind,
            config: loader(profile, region, source)
                .credentials_provider(credentials)
                .load()
                .await,
        }
    }

    /// Loads `profile` for a run: as `load`, except that a role assumed with an MFA device
    /// gets its code from `mfa` (which keeps the session for the rest of the run).
    pub async fn open(
        profile: &str,
        region: Option<&str>,
        source: &ProfileSource,
        mfa: &super::mfa::Mfa,
    ) -> Result<Self> {
        let set = profile_set(source).await?;
        let role = match set.get_profile(profile).and_then(super::mfa::MfaRole::of) {
            Some(role) => role?,
            None => return Ok(Self::load(profile, region, source).await),
        };
        // The STS calls are signed with the source's keys, then with the MFA session: the
        // profile's own configuration lends them only its region and endpoint.
        let base = loader(profile, region, source)
            .no_credentials()
            .load()
            .await;
        let keys = file_credentials(&role.source_profile, source);
        let credentials = mfa.credentials(&role, &base, &keys).await?;
        Ok(Self {
            profile: profile.to_string(),
            kind: ROLE_MFA,
            config: loader(profile, region, source)
                .credentials_provider(credentials)
                .load()
                .await,
        })
    }

    pub fn region(&self) -> Option<&str> {
        self.config.region().map(|r| r.as_ref())
    }

    /// STS GetCallerIdentity: proves the profile's credentials work and names the account.
    pub async fn identify(&self) -> Result<Identity> {
        let sts = aws_sdk_sts::Client::new(&self.config);
        let out = sts.get_caller_identity().send().await.map_err(|e| {
            let cause = super::error::explain("STS GetCallerIdentity failed", e);
            let profile = &self.profile;
            let remedy = match self.kind {
                "sso" => format!("sign in with `aws sso login --profile {profile}`"),
                ROLE_MFA => {
                    "its role session was refused or has expired: run again with a fresh MFA \
                     code"
                        .to_string()
                }
                "role" => "check its role_arn, and that its source_profile may assume that role"
                    .to_string(),
                "process" => "run its credential_process by hand to see why it fails".to_string(),
                _ => format!(
                    "check its access keys (`aws configure --profile {profile}` replaces them)"
                ),
            };
            anyhow::anyhow!("profile '{profile}' could not be verified: {cause}. {remedy}")
        })?;
        Ok(Identity {
            account_id: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        })
    }
}

/// A profile as the user's AWS config describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSummary {
    pub name: String,
    pub region: Option<String>,
    /// "sso", "role+mfa", "role", "process", "keys" or "other": what signing in will involve.
    pub kind: &'static str,
}

/// The kind of a role profile assumed with an MFA code.
pub const ROLE_MFA: &str = "role+mfa";

fn kind_of(p: &aws_config::profile::Profile) -> &'static str {
    let has = |key: &str| p.get(key).is_some();
    if has("sso_session") || has("sso_start_url") {
        "sso"
    } else if has("role_arn") && has("mfa_serial") {
        ROLE_MFA
    } else if has("role_arn") {
        "role"
    } else if has("credential_process") {
        "process"
    } else if has("aws_access_key_id") {
        "keys"
    } else {
        "other"
    }
}

async fn profile_set(source: &ProfileSource) -> Result<aws_config::profile::ProfileSet> {
    use aws_types::os_shim_internal::{Env, Fs};

    let files = source.profile_files().unwrap_or_default();
    aws_config::profile::load(&Fs::real(), &Env::real(), &files, None)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the AWS config: {e}"))
}

/// The kind of `profile`; "other" when the config cannot be read (loading says why).
async fn profile_kind(profile: &str, source: &ProfileSource) -> &'static str {
    match profile_set(source).await {
        Ok(set) => set.get_profile(profile).map_or("other", kind_of),
        Err(_) => "other",
    }
}

/// The credentials of `profile` as the SDK's profile provider makes them, and no others:
/// the SDK's default chain would take `AWS_ACCESS_KEY_ID` from the environment before the
/// profile (silently making both roles one identity) and, for a profile that is not there,
/// go on to the instance metadata service.
fn file_credentials(
    profile: &str,
    source: &ProfileSource,
) -> aws_config::profile::ProfileFileCredentialsProvider {
    let mut credentials =
        aws_config::profile::ProfileFileCredentialsProvider::builder().profile_name(profile);
    if let Some(files) = source.profile_files() {
        credentials = credentials.profile_files(files);
    }
    credentials.build()
}

/// The profile's configuration without its credentials. The region comes from `region`,
/// else the environment, else the profile, else us-east-1 (where STS answers for every
/// commercial account).
fn loader(profile: &str, region: Option<&str>, source: &ProfileSource) -> aws_config::ConfigLoader {
    use aws_config::environment::EnvironmentVariableRegionProvider;
    use aws_config::meta::region::RegionProviderChain;
    use aws_config::profile::ProfileFileRegionProvider;

    let mut profile_region = ProfileFileRegionProvider::builder().profile_name(profile);
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).profile_name(profile);
    if let Some(files) = source.profile_files() {
        profile_region = profile_region.profile_files(files.clone());
        loader = loader.profile_files(files);
    }
    let region = match region {
        Some(region) => RegionProviderChain::first_try(Region::new(region.to_string())),
        None => RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
            .or_else(profile_region.build())
            .or_else(Region::from_static("us-east-1")),
    };
    // Polling a stack for minutes meets AWS's rate limits now and then: more attempts
    // than the SDK's default three, each backing off, before a call counts as failed.
    let retries = aws_config::retry::RetryConfig::standard().with_max_attempts(6);
    loader.region(region).retry_config(retries)
}

/// Every profile of the config and credentials files, SSO ones included, sorted by name.
pub async fn list_profiles(source: &ProfileSource) -> Result<Vec<ProfileSummary>> {
    let set = profile_set(source).await?;
    let mut out: Vec<ProfileSummary> = set
        .profiles()
        .filter_map(|name| set.get_profile(name))
        .map(|p| ProfileSummary {
            name: p.name().to_string(),
            region: p.get("region").map(str::to_string),
            kind: kind_of(p),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
