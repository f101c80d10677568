//! An engine run on the test sandbox: the deployment record, the sessions of both accounts,
//! and a recorder of every event the engine emits.

use std::sync::Mutex;

use super::{TestSandbox, unique};
use xwizard::aws::Session;
use xwizard::engine::{AlwaysYes, Engine, Event, PollPolicy, Reporter, Sessions};
use xwizard::plan::{Pattern, Role};
use xwizard::preset::Preset;
use xwizard::state::{Account, Deployment, SCHEMA_VERSION, Store, now};

#[derive(Default)]
pub struct Recorder(Mutex<Vec<Event>>);

impl Reporter for Recorder {
    fn report(&self, event: &Event) {
        self.0.lock().unwrap().push(event.clone());
    }
}

impl Recorder {
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }
    pub fn json(&self) -> String {
        self.events()
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

pub struct Run {
    pub store: Store,
    _dir: tempfile::TempDir,
    pub sessions: Sessions,
    pub deployment: Deployment,
    pub opts: xwizard::engine::Options,
}

/// A Pattern 1 run on `sb`, not yet started.
pub async fn prepare(sb: &TestSandbox) -> Run {
    prepare_with(sb, &sandbox_answers(Pattern::VpcEndpoint)).await
}

/// The answers `xwizard sandbox` runs `pattern` with (profiles/sandbox.toml): for Pattern 2
/// the sandbox's domain, a local CA and the connection accepted as if by flag. Change a field
/// (`ca`) to run another variant.
pub fn sandbox_answers(pattern: Pattern) -> Preset {
    let mut answers = Preset::parse(xwizard::preset::SANDBOX, "profiles/sandbox.toml").unwrap();
    answers.pattern = Some(pattern);
    answers
}

/// A run of `answers.pattern` on `sb`, not yet started: a fresh deployment name, and the
/// pattern's settings resolved from `answers` as `xwizard new --yes` resolves them (Pattern
/// 2's subdomain is the deployment's name).
pub async fn prepare_with(sb: &TestSandbox, answers: &Preset) -> Run {
    let pattern = answers.pattern.expect("answers name a pattern");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    let producer = sb.session("producer").await;
    let consumer = sb.session("consumer").await;
    let (pid, cid) = (
        producer.identify().await.unwrap(),
        consumer.identify().await.unwrap(),
    );
    let files = Some((
        sb.running.profiles.config.clone(),
        sb.running.profiles.credentials.clone(),
    ));
    let name: String = unique(&format!("p{}", pattern.number()))
        .replace('-', "x")
        .chars()
        .take(20)
        .collect();
    let settings = xwizard::run::resolve_settings(pattern, answers, &name, false).unwrap();
    let deployment = Deployment {
        schema_version: SCHEMA_VERSION,
        name,
        pattern,
        region: "us-east-1".into(),
        created_at: now(),
        updated_at: now(),
        producer: Account::new("sandbox-producer", &pid),
        consumer: Account::new("sandbox-consumer", &cid),
        profile_files: files.clone(),
        settings,
        steps: Default::default(),
    };
    let opts = xwizard::engine::Options {
        poll: PollPolicy::SANDBOX,
        check: xwizard::run::sandbox_check(&files, Default::default()),
        key_files: None,
    };
    Run {
        store,
        _dir: dir,
        sessions: Sessions { producer, consumer },
        deployment,
        opts,
    }
}

/// The engine on this run's store and sessions, answering yes to every question.
pub fn engine_for<'a>(run: &'a Run, d: Deployment, rec: &'a Recorder) -> Engine<'a> {
    Engine::new(
        d,
        &run.store,
        &run.sessions,
        rec,
        &AlwaysYes,
        run.opts.clone(),
    )
}

pub fn output(d: &Deployment, step: &str, key: &str) -> String {
    d.step(step)
        .outputs
        .get(key)
        .cloned()
        .unwrap_or_else(|| panic!("no output {key} of {step}"))
}

/// Deletes the consumer's stacks of `d` (in cleanup's order) as someone in the console would,
/// behind xwizard's back, and waits until they are gone.
pub async fn delete_consumer_stacks_behind_its_back(run: &Run, d: &Deployment) {
    let consumer = &run.sessions.consumer;
    let cfn = aws_sdk_cloudformation::Client::new(&consumer.config);
    let mut stacks: Vec<_> = d
        .pattern
        .steps()
        .into_iter()
        .filter(|s| s.role == Role::Consumer)
        .filter_map(|s| s.stack().cloned())
        .collect();
    stacks.sort_by_key(|spec| spec.teardown_wave);
    assert!(!stacks.is_empty(), "{:?} has consumer stacks", d.pattern);
    for spec in stacks {
        let name = xwizard::plan::stack_name(&d.name, &spec);
        cfn.delete_stack().stack_name(&name).send().await.unwrap();
        super::wait_for(&name, std::time::Duration::from_secs(300), || async {
            (!stack_exists(consumer, &name).await).then_some(())
        })
        .await;
    }
}

pub async fn stack_exists(session: &Session, name: &str) -> bool {
    xwizard::aws::stacks::Stacks::new(session)
        .describe(name)
        .await
        .unwrap()
        .is_some()
}

/// A Pattern 1 deployment made to its end on `sb`: the run, the record as saved, and what
/// the engine said on the way.
pub async fn deployed(sb: &TestSandbox) -> (Run, Deployment, Recorder) {
    deployed_with(sb, &sandbox_answers(Pattern::VpcEndpoint)).await
}

/// A deployment of `answers.pattern` made to its end on `sb` (see [`prepare_with`]).
pub async fn deployed_with(sb: &TestSandbox, answers: &Preset) -> (Run, Deployment, Recorder) {
    let run = prepare_with(sb, answers).await;
    let rec = Recorder::default();
    let outcome = engine_for(&run, run.deployment.clone(), &rec).run().await;
    assert_eq!(
        outcome.unwrap(),
        xwizard::engine::Outcome::Completed,
        "{}",
        rec.json()
    );
    let d = run.store.load(&run.deployment.name).unwrap();
    (run, d, rec)
}
