//! The commands that run deployments: gather the answers (flags, preset, prompts), verify both
//! profiles, and hand the plan to the engine with the chosen front end.

use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::aws::mfa::{CodeSources, Mfa};
use crate::aws::{ProfileSource, Session, session::list_profiles};
use crate::check::CheckOptions;
use crate::engine::{self, AlwaysYes, Asker, Engine, Outcome, PollPolicy, Reporter, Sessions};
use crate::plan::{
    ACCEPT_CONNECTION, Answers, KEY_FILES, KEY_STORE, Pattern, Role, YES, validate_deployment_name,
    validate_region,
};
use crate::preset::Preset;
use crate::sandbox;
use crate::state::{Account, Deployment, SCHEMA_VERSION, Store, now};
use crate::ui::{json::JsonReporter, line::LineReporter, prompts};

/// How a run talks to its user.
#[derive(Debug, Clone, Default)]
pub struct Frontend {
    pub json: bool,
    pub yes: bool,
    /// Clean up right after a new deployment completes (the sandbox run without a terminal).
    pub clean_up: bool,
    /// The MFA code given on the command line (`--mfa-code`, `XWIZARD_MFA_CODE`).
    pub mfa_code: Option<String>,
    /// The preset's command that prints an MFA code.
    pub mfa_code_command: Option<String>,
}

/// Answers with no prompt when `--json` runs without `--yes`: a question is a typed error.
struct NoPrompts;

impl Asker for NoPrompts {
    fn confirm<'a>(
        &'a self,
        q: &'a engine::Question,
    ) -> engine::events::BoxFuture<'a, Result<bool>> {
        let what = match q {
            engine::Question::ApplyChangeSet { stack, .. } => {
                format!("apply the change set for {stack}?")
            }
            engine::Question::DeleteFailedStack { stack, .. } => {
                format!("delete the failed stack {stack}?")
            }
            engine::Question::Destroy { deployment, .. } => format!("destroy {deployment}?"),
            engine::Question::AcceptConnection { request, .. } => {
                format!("accept the connection of {}?", request.endpoint_id)
            }
        };
        Box::pin(async move {
            bail!("missing answer: {what} Pass --yes to answer yes to every question")
        })
    }
}

impl Frontend {
    /// The line or JSON front end of a run.
    pub fn io(&self) -> Io {
        Io {
            reporter: if self.json {
                Box::new(JsonReporter)
            } else {
                Box::new(LineReporter)
            },
            asker: if self.yes {
                Box::new(AlwaysYes)
            } else if self.json {
                Box::new(NoPrompts)
            } else {
                Box::new(prompts::LineAsker)
            },
            // In JSON mode stdout carries only events.
            say: if self.json {
                |text| eprintln!("{text}")
            } else {
                |text| println!("{text}")
            },
            // On a terminal, offer the cleanup right after a successful run, as the last step.
            offer_cleanup: self.clean_up || (!self.yes && !self.json && prompts::interactive()),
            mfa: Arc::new(Mfa::new(self.codes())),
        }
    }

    /// Where MFA codes come from: what was given, else a prompt where one can be answered.
    fn codes(&self) -> CodeSources {
        let asks = !self.yes && !self.json && prompts::interactive();
        CodeSources {
            given: self.mfa_code.clone(),
            command: self.mfa_code_command.clone(),
            prompt: asks.then(|| Box::new(prompts::LineCodePrompt) as _),
        }
    }
}

/// Where a run's events go, who answers its questions and where its remarks for the person
/// go: the line mode, the JSON mode or the full screen. Owned, so a run can move to a task.
pub struct Io {
    pub reporter: Box<dyn Reporter>,
    pub asker: Box<dyn Asker>,
    /// Remarks outside the event stream (identities, how to carry on).
    pub say: fn(&str),
    /// After a new deployment completes, go on to the cleanup (which asks first).
    pub offer_cleanup: bool,
    /// MFA codes and the sessions they bought, for every profile of the run.
    pub mfa: Arc<Mfa>,
}

/// Answers given on the command line; they win over the preset.
#[derive(Debug, Clone, Default)]
pub struct NewArgs {
    pub preset: Preset,
    pub allow_same_account: bool,
    pub check: CheckOptions,
    /// The sandbox's profiles, when running on it.
    pub profile_files: Option<(PathBuf, PathBuf)>,
}

/// The profiles a run reads: the sandbox's pair of files, or the user's usual AWS config.
pub fn profile_source(files: &Option<(PathBuf, PathBuf)>) -> ProfileSource {
    match files {
        Some((config, credentials)) => ProfileSource::files(config.clone(), credentials.clone()),
        None => ProfileSource::default(),
    }
}

/// A fresh deployment name for the pattern, e.g. `vpce-1a2b`.
pub fn suggested_name(pattern: Pattern) -> String {
    format!("{}-{}", pattern.short(), short_id())
}

fn short_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0);
    format!("{:04x}", nanos % 0xffff)
}

async fn ask_profile(
    role: Role,
    given: Option<String>,
    source: &ProfileSource,
    other: Option<&str>,
) -> Result<String> {
    if let Some(p) = given {
        return Ok(p);
    }
    let profiles = list_profiles(source).await?;
    if profiles.is_empty() {
        bail!(
            "no AWS profiles found; configure one with `aws configure` (or `aws configure sso`), or try `xwizard sandbox`"
        );
    }
    let candidates: Vec<_> = profiles
        .iter()
        .filter(|p| Some(p.name.as_str()) != other)
        .collect();
    let options: Vec<String> = candidates
        .iter()
        .map(|p| format!("{} ({})", p.name, p.kind))
        .collect();
    // A profile named for the role (e.g. sandbox-producer) is the likely answer.
    let default = candidates
        .iter()
        .position(|p| p.name.contains(role.as_str()))
        .unwrap_or(0);
    let flag = format!("--{role}-profile");
    loop {
        let choice = prompts::select(
            &format!("Which AWS profile is the {role}?"),
            &flag,
            options.clone(),
            default,
        )?;
        let profile = choice.split(" (").next().unwrap_or(&choice).to_string();
        // Checked at once: a profile that cannot sign in is found before the next question,
        // not after all of them.
        match Session::load(&profile, None, source).await.identify().await {
            Ok(id) => {
                eprintln!(
                    "  {role}: {profile} is account {} ({})",
                    id.account_id, id.arn
                );
                return Ok(profile);
            }
            Err(e) => eprintln!(
                "  {e:#}\n  Choose another profile, or fix this one in another terminal and \
                 choose it again."
            ),
        }
    }
}

/// Starts a new deployment: answers, STS checks, then the plan.
pub async fn new(store: &Store, args: NewArgs, fe: &Frontend) -> Result<Outcome> {
    let source = profile_source(&args.profile_files);
    let p = args.preset;
    let given = p.clone();
    // What was given is checked before anything is asked or called.
    if let Some(name) = &p.name {
        validate_deployment_name(name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    }
    if let Some(region) = &p.region {
        validate_region(region).map_err(|e| anyhow::anyhow!("--region: {e}"))?;
    }
    let pattern = match p.pattern {
        Some(pattern) => pattern,
        None => {
            let options: Vec<String> = Pattern::ALL.iter().map(|p| p.to_string()).collect();
            let chosen = prompts::select("Which pattern?", "--pattern", options, 0)?;
            *Pattern::ALL
                .iter()
                .find(|p| p.to_string() == chosen)
                .unwrap_or(&Pattern::VpcEndpoint)
        }
    };
    let producer_profile = ask_profile(Role::Producer, p.producer_profile, &source, None).await?;
    let consumer_profile = ask_profile(
        Role::Consumer,
        p.consumer_profile,
        &source,
        Some(&producer_profile),
    )
    .await?;
    let region = match p.region {
        Some(r) => r,
        None => {
            let probe = Session::load(&producer_profile, None, &source).await;
            let default = probe.region().unwrap_or("us-east-1").to_string();
            prompts::text("Region?", "--region", &default, validate_region)?
        }
    };
    let name = match p.name {
        Some(n) => n,
        None if prompts::interactive() && !fe.yes => {
            let default = suggested_name(pattern);
            prompts::text(
                "Deployment name?",
                "--name",
                &default,
                validate_deployment_name,
            )?
        }
        None => suggested_name(pattern),
    };
    let asks = prompts::interactive() && !fe.yes && !fe.json;
    let settings = resolve_settings(pattern, &given, &name, asks)?;
    let answers = Answers {
        pattern,
        producer_profile,
        consumer_profile,
        region,
        name,
        allow_same_account: args.allow_same_account || p.allow_same_account == Some(true),
        settings,
    };
    create(store, answers, args.profile_files, args.check, &fe.io()).await
}

/// The pattern's own answers, each from the flag or preset (`given`), else a prompt when one
/// can be answered, else its default; a choice that costs money and was made at a prompt is
/// confirmed. Also records the run's standing choices (`accept_connection`, `key_store`).
pub fn resolve_settings(
    pattern: Pattern,
    given: &Preset,
    name: &str,
    asks: bool,
) -> Result<std::collections::BTreeMap<String, String>> {
    let mut answers = std::collections::BTreeMap::new();
    for setting in pattern.settings() {
        if !setting.applies(&answers) {
            continue;
        }
        let value = if let Some(value) = given.setting(setting.key) {
            setting.check(value).map_err(|e| anyhow::anyhow!("{e}"))?;
            value.clone()
        } else if asks {
            ask_setting(setting, name)?
        } else if let Some(value) = setting.default_value(name) {
            value
        } else {
            bail!(
                "missing answer: {} ({}). Pass {} (or put `{} = \"…\"` in the --preset file)",
                setting.question.trim_end_matches('?'),
                setting.help,
                setting.flag(),
                setting.key
            );
        };
        answers.insert(setting.key.to_string(), value);
    }
    if pattern.settings().is_empty() {
        return Ok(answers);
    }
    answers.extend(standing_choices(given));
    Ok(answers)
}

/// The run's standing choices that flags or a preset give (`--accept-connection`,
/// `--key-files`), as a pattern with settings records them among its settings.
pub fn standing_choices(given: &Preset) -> std::collections::BTreeMap<String, String> {
    let mut choices = std::collections::BTreeMap::new();
    if given.accept_connection == Some(true) {
        choices.insert(ACCEPT_CONNECTION.into(), YES.into());
    }
    if given.key_files == Some(true) {
        choices.insert(KEY_STORE.into(), KEY_FILES.into());
    }
    choices
}

/// Every pattern setting that flags or a preset give, by key, whichever pattern is chosen
/// later (the full screen asks for the pattern after the flags are read).
pub fn given_settings(given: &Preset) -> std::collections::BTreeMap<String, String> {
    Pattern::ALL
        .iter()
        .flat_map(|p| p.settings())
        .filter_map(|s| Some((s.key.to_string(), given.setting(s.key)?.clone())))
        .collect()
}

/// A CA the user brings is read and checked before anything is made: a leaf certificate, a
/// key of another certificate or an expired CA is refused now, not half-way through a run.
fn check_brought_ca(settings: &std::collections::BTreeMap<String, String>) -> Result<()> {
    if settings.get("ca").map(String::as_str) != Some(crate::plan::pattern2::CA_BRING) {
        return Ok(());
    }
    let read = |key: &str| -> Result<String> {
        let path = settings.get(key).cloned().unwrap_or_default();
        std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("--{}: cannot read {path}: {e}", key.replace('_', "-")))
    };
    let (cert, key) = (read("ca_certificate_file")?, read("ca_key_file")?);
    crate::ca::LocalCa::from_pem(&cert, &key).map_err(|e| {
        anyhow::anyhow!(
            "--ca-certificate-file {} with --ca-key-file {}: {e}",
            settings["ca_certificate_file"],
            settings["ca_key_file"]
        )
    })?;
    Ok(())
}

/// One setting at a line prompt: a list for closed choices (each costly one confirmed), a
/// text with its default otherwise.
fn ask_setting(setting: &crate::plan::Setting, name: &str) -> Result<String> {
    let flag = setting.flag();
    if setting.choices.is_empty() {
        let default = setting.default_value(name).unwrap_or_default();
        let question = format!("{} ({})", setting.question, setting.help);
        return prompts::text(&question, &flag, &default, setting.validate);
    }
    let labels: Vec<String> = setting
        .choices
        .iter()
        .map(|c| c.label.to_string())
        .collect();
    let default = setting
        .default_value(name)
        .and_then(|d| setting.choices.iter().position(|c| c.value == d))
        .unwrap_or(0);
    loop {
        let label = prompts::select(setting.question, &flag, labels.clone(), default)?;
        let Some(choice) = setting.choices.iter().find(|c| c.label == label) else {
            continue;
        };
        match choice.confirm {
            Some(warning) if !prompts::confirm(warning, false)? => continue,
            _ => return Ok(choice.value.to_string()),
        }
    }
}

/// The part of a new deployment that asks nothing: checks the name and both profiles (STS),
/// refuses one account in both roles unless allowed, saves the record under its lock and runs
/// the plan.
pub async fn create(
    store: &Store,
    answers: Answers,
    profile_files: Option<(PathBuf, PathBuf)>,
    check: CheckOptions,
    io: &Io,
) -> Result<Outcome> {
    let Answers {
        pattern,
        producer_profile,
        consumer_profile,
        region,
        name,
        allow_same_account,
        settings,
    } = answers;
    let source = profile_source(&profile_files);
    if let Err(e) = validate_deployment_name(&name) {
        bail!("{e}");
    }
    check_brought_ca(&settings)?;
    if let Err(e) = validate_region(&region) {
        bail!("{e}; give it with --region or in the preset");
    }
    if store.exists(&name) {
        match store.load(&name) {
            Ok(d) if d.summary() == "destroyed" => bail!(
                "a deployment named '{name}' was made and destroyed before; `xwizard forget \
                 {name}` frees the name, or choose another --name"
            ),
            _ => bail!(
                "a deployment named '{name}' exists already; `xwizard resume {name}` carries \
                 it on, or choose another --name"
            ),
        }
    }

    let known = list_profiles(&source).await?;
    for (role, profile) in [
        ("producer", &producer_profile),
        ("consumer", &consumer_profile),
    ] {
        if !known.iter().any(|p| &p.name == profile) {
            bail!(
                "the {role} profile '{profile}' is not in your AWS config; `xwizard profiles` lists \
                 the ones there (add it with `aws configure --profile {profile}` or `aws configure sso`)"
            );
        }
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        (io.say)(
            "AWS_ACCESS_KEY_ID is set in this environment: xwizard ignores it and signs each \
             account's calls with the profile chosen for that account",
        );
    }
    // One after the other: two profiles on one MFA device ask for its code once.
    let producer = Session::open(&producer_profile, Some(&region), &source, &io.mfa).await?;
    let consumer = Session::open(&consumer_profile, Some(&region), &source, &io.mfa).await?;
    let (pid, cid) = tokio::join!(producer.identify(), consumer.identify());
    let (pid, cid) = (pid?, cid?);
    (io.say)(&format!(
        "producer: {producer_profile} → account {} ({})",
        pid.account_id, pid.arn
    ));
    (io.say)(&format!(
        "consumer: {consumer_profile} → account {} ({})",
        cid.account_id, cid.arn
    ));
    if pid.account_id == cid.account_id && !allow_same_account {
        bail!(
            "both profiles are account {}: the patterns join two accounts. Choose profiles of two accounts, \
             or pass --allow-same-account to rehearse both roles in one",
            pid.account_id
        );
    }
    let deployment = Deployment {
        schema_version: SCHEMA_VERSION,
        name: name.clone(),
        pattern,
        region,
        created_at: now(),
        updated_at: now(),
        producer: Account::new(&producer_profile, &pid),
        consumer: Account::new(&consumer_profile, &cid),
        profile_files,
        settings,
        steps: Default::default(),
    };
    let _lock = store.lock_new(&name)?;
    store.save(&deployment)?;
    let sessions = Sessions { producer, consumer };
    let offer_cleanup = io.offer_cleanup;
    drive(
        store,
        deployment,
        &sessions,
        io,
        check,
        "resume",
        move |e| {
            Box::pin(async move {
                let outcome = e.run().await?;
                if outcome == Outcome::Completed && offer_cleanup {
                    // The cleanup asks first, listing each stack and its account.
                    return e.destroy().await;
                }
                Ok(outcome)
            })
        },
    )
    .await
}

/// Loads a deployment with sessions for its two profiles.
pub async fn open(store: &Store, name: &str, mfa: &Mfa) -> Result<(Deployment, Sessions)> {
    let d = store.load(name)?;
    // A sandbox deployment whose sandbox is gone: its profiles (and everything it made) went
    // with it. Say that, not "sign in again".
    if let Some((config, _)) = &d.profile_files
        && running_sandbox(&d.profile_files).is_none()
    {
        let run_dir = config.parent().and_then(Path::parent).unwrap_or(config);
        bail!(
            "{name} was made in the sandbox at {}, which is not running (its profile files {}); \
             a stopped sandbox forgets everything it held, so nothing of {name} exists any more: \
             `xwizard forget {name}` removes its record",
            run_dir.display(),
            if config.exists() {
                "are stale"
            } else {
                "are gone"
            }
        );
    }
    let source = profile_source(&d.profile_files);
    let producer = Session::open(&d.producer.profile, Some(&d.region), &source, mfa).await?;
    let consumer = Session::open(&d.consumer.profile, Some(&d.region), &source, mfa).await?;
    // The profiles must still be the accounts the deployment was made in.
    let (pid, cid) = tokio::join!(producer.identify(), consumer.identify());
    for (role, id, account) in [
        ("producer", pid?, &d.producer),
        ("consumer", cid?, &d.consumer),
    ] {
        if id.account_id != account.account_id {
            bail!(
                "profile '{}' is now account {}, but {name}'s {role} is account {}; point the profile back \
                 at that account (or use the sandbox it was made in) and retry",
                account.profile,
                id.account_id,
                account.account_id
            );
        }
    }
    Ok((d, Sessions { producer, consumer }))
}

/// Runs `action` on the deployment's engine until it ends or a signal stops the waiting.
/// `carry_on` is the command that carries a failed run on: `resume`, `test` or `destroy`.
async fn drive<F>(
    store: &Store,
    d: Deployment,
    sessions: &Sessions,
    io: &Io,
    check: CheckOptions,
    carry_on: &str,
    action: F,
) -> Result<Outcome>
where
    F: for<'e, 'f> FnOnce(&'f mut Engine<'e>) -> engine::events::BoxFuture<'f, Result<Outcome>>,
{
    let opts = engine::Options {
        poll: poll_policy(&d.profile_files),
        check,
        key_files: key_files(store, &d),
    };
    let name = d.name.clone();
    let mut engine = Engine::new(
        d,
        store,
        sessions,
        io.reporter.as_ref(),
        io.asker.as_ref(),
        opts,
    );
    // Ctrl-C stops the waiting, not the work: the run's future is dropped between two awaits
    // (state is written synchronously, so it is never half-saved) and AWS carries on.
    let finished = tokio::select! {
        outcome = action(&mut engine) => match outcome {
            // Ctrl-C at a prompt: the same as SIGINT while waiting.
            Err(e) if e.is::<engine::Interrupted>() => None,
            other => Some(other?),
        },
        _ = stop_signal() => None,
    };
    let outcome = match finished {
        Some(outcome) => outcome,
        None => {
            engine.interrupted();
            (io.say)(&format!(
                "Interrupted: nothing was undone, and a stack operation in progress carries on \
                 in AWS. `xwizard resume {name}` picks it up; `xwizard destroy {name}` removes \
                 it all."
            ));
            return Ok(Outcome::Interrupted);
        }
    };
    if outcome == Outcome::Failed {
        (io.say)(&format!(
            "The deployment is kept: `xwizard status {name}` shows it, `xwizard {carry_on} {name}` carries on."
        ));
    }
    Ok(outcome)
}

/// Records standing choices given for one run of a saved deployment (`--accept-connection`,
/// `--delete-private-ca`) in its settings, under its lock, before the run reads them.
pub fn record_choices(store: &Store, name: &str, choices: &[(&str, bool)]) -> Result<()> {
    if !choices.iter().any(|(_, on)| *on) {
        return Ok(());
    }
    let _lock = store.lock(name)?;
    let mut d = store.load(name)?;
    for (key, on) in choices {
        if *on {
            d.settings.insert((*key).to_string(), YES.into());
        }
    }
    store.save(&d)
}

/// The directory of 0600 key files, when the deployment's user agreed to files instead of
/// the OS keyring.
pub fn key_files(store: &Store, d: &Deployment) -> Option<PathBuf> {
    (d.settings.get(KEY_STORE).map(String::as_str) == Some(KEY_FILES)).then(|| store.keys_dir())
}

/// SIGINT (Ctrl-C), SIGTERM (`kill`, a shutdown) or SIGHUP (the terminal closed): each
/// stops the waiting, never the work already saved.
pub async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
}

/// Locks the deployment, reopens its two sessions (checking they are still its accounts) and
/// runs `action` on it.
async fn with_deployment<F>(
    store: &Store,
    name: &str,
    io: &Io,
    check: CheckOptions,
    carry_on: &str,
    action: F,
) -> Result<Outcome>
where
    F: for<'e, 'f> FnOnce(&'f mut Engine<'e>) -> engine::events::BoxFuture<'f, Result<Outcome>>,
{
    let _lock = store.lock(name)?;
    let (d, sessions) = open(store, name, &io.mfa).await?;
    drive(store, d, &sessions, io, check, carry_on, action).await
}

/// `xwizard forget NAME`: removes the record of a destroyed or abandoned deployment. While
/// any of its stacks is still in AWS (or that cannot be checked) it is refused, since the
/// record is what `destroy` needs; `force` forgets anyway and says what may be left.
pub async fn forget(store: &Store, name: &str, force: bool, mfa: &Mfa) -> Result<Outcome> {
    let d = match store.load(name) {
        Ok(d) => d,
        // No such deployment (or no such name): said as `load` says it.
        Err(e) if !store.exists(name) => return Err(e),
        Err(e) if force => {
            store.remove(name)?;
            eprintln!("Forgot {name}: its record was unreadable ({e:#}).");
            return Ok(Outcome::Completed);
        }
        Err(e) => {
            bail!("{e:#}; `xwizard forget {name} --force` removes the file as it is")
        }
    };
    let present = if d.summary() == "destroyed" {
        Ok(Vec::new())
    } else {
        match open(store, name, mfa).await {
            Ok((d, sessions)) => engine::cleanup::stacks_present(&d, &sessions).await,
            Err(e) => Err(e),
        }
    };
    match (present, force) {
        (Ok(stacks), false) if !stacks.is_empty() => {
            let list: Vec<String> = stacks
                .iter()
                .map(|(stack, account, status)| format!("{stack} ({status}, account {account})"))
                .collect();
            bail!(
                "{name} still has stacks in AWS: {}; `xwizard destroy {name}` removes them, \
                 then forget it (or `xwizard forget {name} --force` forgets it and leaves them)",
                list.join(", ")
            );
        }
        (Err(e), false) => bail!(
            "cannot check whether {name} still has stacks in AWS ({e:#}); sign in and retry, \
             `xwizard destroy {name}` first, or `xwizard forget {name} --force` to forget it \
             without checking"
        ),
        (Ok(stacks), true) if !stacks.is_empty() => {
            store.remove(name)?;
            let list: Vec<String> = stacks
                .iter()
                .map(|(s, a, _)| format!("{s} (account {a})"))
                .collect();
            eprintln!(
                "Forgot {name}, as forced. These stacks of it are still in AWS and xwizard no \
                 longer knows them: {}. Delete them in CloudFormation yourself.",
                list.join(", ")
            );
        }
        (Err(e), true) => {
            store.remove(name)?;
            eprintln!(
                "Forgot {name}, as forced, without checking AWS ({e:#}): any of its stacks \
                 still there (named xw-{name}-…) must be deleted in CloudFormation yourself."
            );
        }
        (Ok(_), _) => {
            store.remove(name)?;
            eprintln!("Forgot {name}: nothing of it is in AWS, and its record is gone.");
        }
    }
    Ok(Outcome::Completed)
}

pub async fn resume(store: &Store, name: &str, io: &Io, check: CheckOptions) -> Result<Outcome> {
    with_deployment(store, name, io, check, "resume", |e| Box::pin(e.run())).await
}

pub async fn test(store: &Store, name: &str, io: &Io, check: CheckOptions) -> Result<Outcome> {
    with_deployment(store, name, io, check, "test", |e| Box::pin(e.test_again())).await
}

/// `xwizard cert NAME --out DIR`: the user's client certificate, its key and the CA's
/// certificate written to DIR (the key 0600); the paths written.
pub async fn cert(
    store: &Store,
    name: &str,
    out: &Path,
    overwrite: bool,
    io: &Io,
) -> Result<Vec<PathBuf>> {
    let d = store.load(name)?;
    if d.pattern.aftercare().keys.is_empty() {
        bail!(
            "{name} is pattern {}, which uses no client certificates (pattern 2 does)",
            d.pattern.number()
        );
    }
    let _lock = store.lock(name)?;
    let (d, sessions) = open(store, name, &io.mfa).await?;
    let opts = engine::Options {
        poll: poll_policy(&d.profile_files),
        check: CheckOptions::default(),
        key_files: key_files(store, &d),
    };
    let engine = Engine::new(
        d,
        store,
        &sessions,
        io.reporter.as_ref(),
        io.asker.as_ref(),
        opts,
    );
    let (cert, key, ca) = engine.user_certificate().await?;
    Ok(crate::ca::write_client_files(
        out, name, &cert, &key, &ca, overwrite,
    )?)
}

pub async fn destroy(store: &Store, name: &str, io: &Io) -> Result<Outcome> {
    with_deployment(store, name, io, CheckOptions::default(), "destroy", |e| {
        Box::pin(e.destroy())
    })
    .await
}

/// The sandbox's profile files when the environment points the AWS config at a running
/// sandbox (`eval "$(xwizard sandbox env)"`): a deployment made there then polls at the
/// sandbox's pace and reaches its data plane, as one made by `xwizard sandbox` does.
pub fn sandbox_files_from_env() -> Option<(PathBuf, PathBuf)> {
    let config = PathBuf::from(std::env::var_os("AWS_CONFIG_FILE")?);
    let credentials = PathBuf::from(std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")?);
    let files = Some((config, credentials));
    running_sandbox(&files)?;
    files
}

fn running_sandbox(files: &Option<(PathBuf, PathBuf)>) -> Option<sandbox::Running> {
    let (config, _) = files.as_ref()?;
    let run_dir = config.parent().and_then(Path::parent)?;
    sandbox::status(run_dir, sandbox::DEFAULT_REGION)
}

/// Fast polling for a sandbox at its fast pace; AWS's pace otherwise (a realistic sandbox
/// is meant to behave as AWS does).
fn poll_policy(files: &Option<(PathBuf, PathBuf)>) -> PollPolicy {
    match running_sandbox(files) {
        Some(running) if running.info.pace == "fast" => PollPolicy::SANDBOX,
        _ => PollPolicy::AWS,
    }
}

/// The check overrides that reach a sandbox's data plane, when `files` belong to a running one.
pub fn sandbox_check(files: &Option<(PathBuf, PathBuf)>, explicit: CheckOptions) -> CheckOptions {
    if !explicit.connect_to.is_empty() || !explicit.resolve.is_empty() {
        return explicit;
    }
    match running_sandbox(files) {
        Some(running) if running.info.data_plane.port != 0 => CheckOptions {
            connect_to: vec![crate::check::ConnectTo {
                host: String::new(),
                port: None,
                to_host: "127.0.0.1".into(),
                to_port: running.info.data_plane.port,
            }],
            ca_bundle: explicit
                .ca_bundle
                .or_else(|| Some(PathBuf::from(&running.info.data_plane.ca_file))),
            ..explicit
        },
        _ => explicit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preset_gives_the_screen_its_settings_and_standing_choices_as_the_line_mode_records_them() {
        let sandbox = Preset::parse(crate::preset::SANDBOX, "sandbox").unwrap();
        let settings = given_settings(&sandbox);
        assert_eq!(
            settings.get("domain").map(String::as_str),
            Some("xwizard.test")
        );
        assert_eq!(settings.get("ca").map(String::as_str), Some("local"));
        assert!(
            !settings.contains_key("subdomain"),
            "not given: its default"
        );
        let given = Preset {
            accept_connection: Some(true),
            key_files: Some(true),
            ..Preset::default()
        };
        let standing = standing_choices(&given);
        assert_eq!(standing[ACCEPT_CONNECTION], "yes");
        assert_eq!(standing[KEY_STORE], KEY_FILES);
        // The line mode's resolver records the same, for a pattern with settings only.
        let given = Preset {
            domain: Some("xwizard.test".into()),
            ..given
        };
        let resolved = resolve_settings(Pattern::MtlsPrivateLink, &given, "mtls-a1", false)
            .expect("every setting given or defaulted");
        for (k, v) in &standing {
            assert_eq!(resolved.get(k), Some(v), "{k}");
        }
        assert!(
            resolve_settings(Pattern::VpcEndpoint, &given, "vpce-a1", false)
                .unwrap()
                .is_empty()
        );
    }
}
