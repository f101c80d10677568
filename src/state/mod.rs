//! Deployment records on disk: one TOML file per deployment, written atomically (temp file +
//! rename), locked while a run is live, with a schema version. Never a secret value in it:
//! only names, ids, ARNs, statuses and reasons.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::aws::Identity;
use crate::plan::{Pattern, Role};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    Pending,
    Running,
    Done,
    Failed,
    /// Cleanup removed what the step made.
    Destroyed,
    /// The step waits for the user's answer (a connection left for later); its `failure`
    /// says what it waits for and how to answer.
    Waiting,
}

/// The first real failure of a stack, not the cascade of cancellations after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootCause {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepFailure {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<RootCause>,
    /// What the user can do next.
    pub next: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepState {
    pub status: StepStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_id: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, String>,
    /// The inputs the step last ran with (a stack's parameters, an SDK step's values): a done
    /// step whose inputs have changed since, because an earlier step was made again, runs
    /// again. Never a secret: inputs are ids, ARNs and names.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<StepFailure>,
    #[serde(default)]
    pub updated_at: u64,
}

impl Default for StepState {
    fn default() -> Self {
        Self {
            status: StepStatus::Pending,
            stack_name: None,
            stack_id: None,
            outputs: BTreeMap::new(),
            inputs: BTreeMap::new(),
            failure: None,
            updated_at: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub profile: String,
    pub account_id: String,
    pub arn: String,
}

impl Account {
    pub fn new(profile: &str, identity: &Identity) -> Self {
        Self {
            profile: profile.to_string(),
            account_id: identity.account_id.clone(),
            arn: identity.arn.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub schema_version: u32,
    pub name: String,
    pub pattern: Pattern,
    pub region: String,
    pub created_at: u64,
    pub updated_at: u64,
    pub producer: Account,
    pub consumer: Account,
    /// The private AWS config/credentials pair of a sandbox run, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_files: Option<(PathBuf, PathBuf)>,
    /// The pattern's own answers (`Pattern::settings`): a domain, a CA choice, file paths.
    /// Never a secret.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, String>,
    #[serde(default)]
    pub steps: BTreeMap<String, StepState>,
}

impl Deployment {
    pub fn account(&self, role: Role) -> &Account {
        match role {
            Role::Producer => &self.producer,
            Role::Consumer => &self.consumer,
        }
    }

    pub fn step(&self, id: &str) -> StepState {
        self.steps.get(id).cloned().unwrap_or_default()
    }

    /// Whether a yes/no standing choice (`plan::ACCEPT_CONNECTION` …) is on.
    pub fn chose(&self, key: &str) -> bool {
        self.settings
            .get(key)
            .is_some_and(|v| v == crate::plan::YES)
    }

    pub fn step_mut(&mut self, id: &str) -> &mut StepState {
        self.steps.entry(id.to_string()).or_default()
    }

    /// A one-word summary for listings.
    pub fn summary(&self) -> &'static str {
        let statuses: Vec<StepStatus> = self.steps.values().map(|s| s.status).collect();
        if statuses.contains(&StepStatus::Failed) {
            "failed"
        } else if statuses.contains(&StepStatus::Running) {
            "interrupted"
        } else if statuses.contains(&StepStatus::Waiting) {
            "waiting for you"
        } else if !statuses.is_empty() && statuses.iter().all(|s| *s == StepStatus::Destroyed) {
            "destroyed"
        } else if self
            .pattern
            .steps()
            .iter()
            .all(|s| self.step(s.id).status == StepStatus::Done)
        {
            "deployed"
        } else {
            "incomplete"
        }
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The deployments directory: `<state dir>/deployments`.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(state_dir: &Path) -> Self {
        Self {
            dir: state_dir.join("deployments"),
        }
    }

    /// Where private keys are kept as 0600 files, for users who agreed to files because no
    /// OS keyring is usable: beside the deployments, never in their records.
    pub fn keys_dir(&self) -> PathBuf {
        self.dir.parent().unwrap_or(&self.dir).join("keys")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.toml"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether a record of that name exists (an invalid name has none).
    pub fn exists(&self, name: &str) -> bool {
        check_name(name).is_ok() && self.path(name).exists()
    }

    /// The deployment's record, read strictly: the name is checked before any file is
    /// touched, and the record must name itself as its file does and be of a schema this
    /// xwizard knows.
    pub fn load(&self, name: &str) -> Result<Deployment> {
        check_name(name)?;
        let path = self.path(name);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "no deployment named '{name}' in {}; `xwizard list` shows the known ones",
                    self.dir.display()
                )
            } else {
                anyhow::anyhow!("cannot read {}: {e}", path.display())
            }
        })?;
        parse_record(name, &path, &text)
    }
    /// Writes the record atomically: a reader never sees half a file, a crash never loses it.
    pub fn save(&self, deployment: &Deployment) -> Result<()> {
        use std::io::Write;

        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let path = self.path(&deployment.name);
        let tmp = self.dir.join(format!(".{}.toml.tmp", deployment.name));
        let text = toml::to_string_pretty(deployment)?;
        let mut file =
            File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }

    /// Every record in the deployments directory, newest activity first; the ones that cannot
    /// be read are listed too, with why, rather than silently left out.
    pub fn list(&self) -> Result<Listing> {
        let mut listing = Listing::default();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(listing),
            Err(e) => return Err(anyhow::anyhow!("cannot read {}: {e}", self.dir.display())),
        };
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot read {}", self.dir.display()))?
                .path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            if name.starts_with('.') {
                continue; // a temporary file of a save under way
            }
            match self.load(&name) {
                Ok(d) => listing.deployments.push(d),
                Err(e) => listing.unreadable.push(Unreadable {
                    file: path,
                    why: format!("{e:#}"),
                }),
            }
        }
        listing
            .deployments
            .sort_by_key(|d| std::cmp::Reverse(d.updated_at));
        listing.unreadable.sort_by(|a, b| a.file.cmp(&b.file));
        Ok(listing)
    }

    /// Removes a deployment's record and its lock file, under its lock. What the record named
    /// in AWS is not looked at here: the caller decides whether it may go.
    pub fn remove(&self, name: &str) -> Result<()> {
        check_name(name)?;
        let path = self.path(name);
        {
            let _lock = self.lock(name)?;
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
        let _ = std::fs::remove_file(self.lock_path(name));
        Ok(())
    }

    /// Forgets the deployments made in the sandbox kept at `sandbox_dir` (their profile files
    /// live there): once that sandbox is stopped, nothing they name exists any more. Their
    /// names.
    pub fn forget_made_in(&self, sandbox_dir: &Path) -> Result<Vec<String>> {
        let mut forgotten = Vec::new();
        for d in self.list()?.deployments {
            let inside = d
                .profile_files
                .as_ref()
                .is_some_and(|(config, _)| config.starts_with(sandbox_dir));
            if !inside {
                continue;
            }
            // A record another run holds is left alone.
            let Ok(_lock) = self.lock(&d.name) else {
                continue;
            };
            std::fs::remove_file(self.path(&d.name))
                .with_context(|| format!("cannot remove {}", self.path(&d.name).display()))?;
            forgotten.push(d.name);
        }
        Ok(forgotten)
    }

    fn lock_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!(".{name}.lock"))
    }

    /// Takes the lock of an existing deployment for the life of the returned guard; a second
    /// live run of the same deployment is refused instead of racing the first. An unknown name
    /// is refused before any file is made.
    pub fn lock(&self, name: &str) -> Result<Lock> {
        check_name(name)?;
        if !self.path(name).exists() {
            // The same message as a load: no lock file is left for a name that is not there.
            self.load(name)?;
        }
        self.take_lock(name)
    }

    /// Takes the lock for a deployment about to be made.
    pub fn lock_new(&self, name: &str) -> Result<Lock> {
        check_name(name)?;
        self.take_lock(name)
    }

    fn take_lock(&self, name: &str) -> Result<Lock> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let path = self.lock_path(name);
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Lock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "deployment '{name}' is being run by another xwizard right now; \
                 wait for it to finish or stop it, then retry"
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(anyhow::anyhow!("cannot lock {}: {e}", path.display()))
            }
        }
    }
}

/// What `Store::list` found.
#[derive(Debug, Default)]
pub struct Listing {
    pub deployments: Vec<Deployment>,
    pub unreadable: Vec<Unreadable>,
}

/// A file in the deployments directory that is not a record this xwizard can use.
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub file: PathBuf,
    pub why: String,
}

/// A deployment name, checked before it is used in a path: the same rule `new` applies, so
/// `../elsewhere` or `a/b` never reaches the file system.
pub fn check_name(name: &str) -> Result<()> {
    crate::plan::validate_deployment_name(name)
        .map_err(|e| anyhow::anyhow!("{e}; `xwizard list` shows the known deployments"))
}

/// A record's text, checked: it parses, its schema is known and it names itself `name`.
pub fn parse_record(name: &str, path: &Path, text: &str) -> Result<Deployment> {
    if text.trim().is_empty() {
        bail!(
            "{} is empty (a disk that filled up?); `xwizard forget {name} --force` removes it",
            path.display()
        );
    }
    // The schema first, so a newer record is named as such rather than as unparseable.
    #[derive(Deserialize)]
    struct Header {
        schema_version: Option<u32>,
    }
    if let Ok(Header {
        schema_version: Some(v),
    }) = toml::from_str::<Header>(text)
        && v > SCHEMA_VERSION
    {
        bail!(
            "{} was written by a newer xwizard (schema {v}); upgrade xwizard to use it",
            path.display()
        );
    }
    let deployment: Deployment = toml::from_str(text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a deployment record ({}); fix or remove it (`xwizard forget {name} \
             --force`)",
            path.display(),
            e.message()
        )
    })?;
    if deployment.name != name {
        bail!(
            "{} names deployment '{}', not '{name}' as its file name says; rename the file \
             back to {}.toml",
            path.display(),
            deployment.name,
            deployment.name
        );
    }
    Ok(deployment)
}

/// Held while a run is live; released on drop (and by the OS if the process dies).
pub struct Lock {
    _file: File,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Deployment {
        let account = |p: &str, id: &str| Account {
            profile: p.into(),
            account_id: id.into(),
            arn: format!("arn:aws:iam::{id}:user/x"),
        };
        Deployment {
            schema_version: SCHEMA_VERSION,
            name: "vpce-test".into(),
            pattern: Pattern::VpcEndpoint,
            region: "us-east-1".into(),
            created_at: 1,
            updated_at: 2,
            producer: account("p", "111111111111"),
            consumer: account("c", "222222222222"),
            profile_files: None,
            settings: BTreeMap::new(),
            steps: BTreeMap::new(),
        }
    }

    #[test]
    fn saves_and_loads_the_same_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let mut d = sample();
        d.step_mut("consumer-vpc").status = StepStatus::Done;
        d.step_mut("consumer-vpc")
            .outputs
            .insert("VpcId".into(), "vpc-1".into());
        store.save(&d).unwrap();
        assert_eq!(store.load("vpce-test").unwrap(), d);
        assert_eq!(store.list().unwrap().deployments.len(), 1);
    }

    #[test]
    fn a_second_lock_is_refused_while_the_first_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.save(&sample()).unwrap();
        let held = store.lock("vpce-test").unwrap();
        let err = store.lock("vpce-test").err().expect("second lock refused");
        assert!(err.to_string().contains("another xwizard"), "{err}");
        drop(held);
        store.lock("vpce-test").unwrap();
    }

    #[test]
    fn only_the_records_made_in_a_stopped_sandbox_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let sandbox = dir.path().join("sandbox");
        let files = |root: &Path| Some((root.join("aws/config"), root.join("aws/credentials")));
        let made_in = |name: &str, profile_files| Deployment {
            name: name.into(),
            profile_files,
            ..sample()
        };
        store.save(&made_in("in-sandbox", files(&sandbox))).unwrap();
        store.save(&made_in("in-aws", None)).unwrap();
        store
            .save(&made_in(
                "other-sandbox",
                files(&dir.path().join("elsewhere")),
            ))
            .unwrap();
        let held = store.lock_new("busy-one").unwrap();
        store.save(&made_in("busy-one", files(&sandbox))).unwrap();

        assert_eq!(store.forget_made_in(&sandbox).unwrap(), ["in-sandbox"]);
        let mut left: Vec<String> = store
            .list()
            .unwrap()
            .deployments
            .into_iter()
            .map(|d| d.name)
            .collect();
        left.sort();
        assert_eq!(left, ["busy-one", "in-aws", "other-sandbox"]);
        drop(held);
    }

    #[test]
    fn a_record_from_a_newer_schema_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let mut d = sample();
        d.schema_version = SCHEMA_VERSION + 1;
        store.save(&d).unwrap();
        let err = store.load("vpce-test").unwrap_err().to_string();
        assert!(err.contains("upgrade xwizard"), "{err}");
    }
}
