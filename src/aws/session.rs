//! A session is one AWS profile, loaded as the AWS CLI loads it (SSO, credential_process,
//! static keys, `endpoint_url`), with the identity STS reports for it.

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
    pub config: SdkConfig,
}

impl Session {
    /// Loads `profile`; `region` overrides the profile's own region.
    ///
    /// Credentials come from the profile alone: the SDK's default chain would take
    /// `AWS_ACCESS_KEY_ID` from the environment before the profile (silently making both
    /// roles one identity) and, for a profile that is not there, go on to the instance
    /// metadata service. The region comes from `region`, else the environment, else the
    /// profile, else us-east-1 (where STS answers for every commercial account).
    pub async fn load(profile: &str, region: Option<&str>, source: &ProfileSource) -> Self {
        use aws_config::environment::EnvironmentVariableRegionProvider;
        use aws_config::meta::region::RegionProviderChain;
        use aws_config::profile::{ProfileFileCredentialsProvider, ProfileFileRegionProvider};

        let mut credentials = ProfileFileCredentialsProvider::builder().profile_name(profile);
        let mut profile_region = ProfileFileRegionProvider::builder().profile_name(profile);
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).profile_name(profile);
        if let Some(files) = source.profile_files() {
            credentials = credentials.profile_files(files.clone());
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
        loader = loader
            .credentials_provider(credentials.build())
            .region(region)
            .retry_config(retries);
        Self {
            profile: profile.to_string(),
            config: loader.load().await,
        }
    }

    pub fn region(&self) -> Option<&str> {
        self.config.region().map(|r| r.as_ref())
    }

    /// STS GetCallerIdentity: proves the profile's credentials work and names the account.
    pub async fn identify(&self) -> Result<Identity> {
        let sts = aws_sdk_sts::Client::new(&self.config);
        let out = sts.get_caller_identity().send().await.map_err(|e| {
            let cause = super::error::explain("STS GetCallerIdentity failed", e);
            anyhow::anyhow!(
                "profile '{}' could not be verified: {cause}. Check its credentials \
                 (for an SSO profile run `aws sso login --profile {}`)",
                self.profile,
                self.profile
            )
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
    /// "sso", "role", "process", "keys" or "other": what signing in will involve.
    pub kind: &'static str,
}

/// Every profile of the config and credentials files, SSO ones included, sorted by name.
pub async fn list_profiles(source: &ProfileSource) -> Result<Vec<ProfileSummary>> {
    use aws_types::os_shim_internal::{Env, Fs};

    let files = source.profile_files().unwrap_or_default();
    let set = aws_config::profile::load(&Fs::real(), &Env::real(), &files, None)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the AWS config: {e}"))?;
    let mut out: Vec<ProfileSummary> = set
        .profiles()
        .filter_map(|name| set.get_profile(name))
        .map(|p| {
            let has = |key: &str| p.get(key).is_some();
            let kind = if has("sso_session") || has("sso_start_url") {
                "sso"
            } else if has("role_arn") {
                "role"
            } else if has("credential_process") {
                "process"
            } else if has("aws_access_key_id") {
                "keys"
            } else {
                "other"
            };
            ProfileSummary {
                name: p.name().to_string(),
                region: p.get("region").map(str::to_string),
                kind,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
