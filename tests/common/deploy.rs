//! An engine run on the test sandbox: the deployment record, the sessions of both accounts,
//! and a recorder of every event the engine emits.

use std::sync::Mutex;

use super::{TestSandbox, unique};
use xwizard::aws::Session;
use xwizard::engine::{AlwaysYes, Engine, Event, PollPolicy, Reporter, Sessions};
use xwizard::plan::Pattern;
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

pub async fn prepare(sb: &TestSandbox) -> Run {
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
    let deployment = Deployment {
        schema_version: SCHEMA_VERSION,
        name: unique("p1").replace('-', "x").chars().take(20).collect(),
        pattern: Pattern::VpcEndpoint,
        region: "us-east-1".into(),
        created_at: now(),
        updated_at: now(),
        producer: Account::new("sandbox-producer", &pid),
        consumer: Account::new("sandbox-consumer", &cid),
        profile_files: files.clone(),
        settings: Default::default(),
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

/// Deletes the consumer's API and network stacks of `d` as someone in the console would,
/// behind xwizard's back, and waits until they are gone.
pub async fn delete_consumer_stacks_behind_its_back(run: &Run, d: &Deployment) {
    let consumer = &run.sessions.consumer;
    let cfn = aws_sdk_cloudformation::Client::new(&consumer.config);
    for stack in ["consumer-api", "consumer-vpc"] {
        let name = format!("xw-{}-{stack}", d.name);
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

/// A deployment made to its end on `sb`: the run, the record as saved, and what the engine
/// said on the way.
pub async fn deployed(sb: &TestSandbox) -> (Run, Deployment, Recorder) {
    let run = prepare(sb).await;
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
