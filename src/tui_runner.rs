//! The full-screen run: the terminal, the event loop, and the work behind the screen. The
//! screen (`ui::tui`) only draws and answers; here its `Action`s become profile checks and
//! runs (through `run`, as in line mode), and the engine's events and questions become its
//! `Message`s.

use anyhow::{Result, anyhow};
use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::future::Future;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::aws::Session;
use crate::aws::mfa::{CodePrompt, CodeSources, Mfa};
use crate::aws::session::list_profiles;
use crate::check::CheckOptions;
use crate::engine::events::BoxFuture;
use crate::engine::{Asker, ConnectionAnswer, Event, Outcome, Question, Reporter};
use crate::plan::{Pattern, Role};
use crate::run::{self, Io};
use crate::state::Store;
use crate::ui::tui::model::Identity;
use crate::ui::tui::{self, Action, Message, Model, ProfileRow, Screen, Theme};

/// How often the clock on screen moves: step and resource timers count in seconds, so a
/// quarter of a second keeps them honest without redrawing for nothing.
const TICK: Duration = Duration::from_millis(250);

/// Whether the full screen can run: the user both reads and types at a terminal.
pub fn available() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// What the full screen opens on.
#[derive(Debug, Clone)]
pub enum Start {
    Home,
    /// The wizard for a new deployment, pre-filled with what flags or a preset gave.
    New(Prefill),
    Resume(String),
    Test(String),
    Destroy(String),
}

/// Answers known before the wizard opens; the rest are asked on screen.
#[derive(Debug, Clone, Default)]
pub struct Prefill {
    pub pattern: Option<Pattern>,
    pub region: Option<String>,
    pub name: Option<String>,
    pub producer_profile: Option<String>,
    pub consumer_profile: Option<String>,
    pub allow_same_account: bool,
    /// The pattern settings given, by key (`run::given_settings`): shown, and changeable, on
    /// the parameters screen.
    pub settings: BTreeMap<String, String>,
    /// The standing choices given (`run::standing_choices`), recorded as the line mode
    /// records them.
    pub standing: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Setup {
    pub store: Store,
    /// Where the profiles of a new deployment come from: the sandbox's pair of files, or the
    /// user's AWS config. A saved deployment carries its own.
    pub profile_files: Option<(PathBuf, PathBuf)>,
    /// The test-call options of the command line; a run on a sandbox adds the sandbox's own.
    pub check: CheckOptions,
    pub start: Start,
    pub codes: Codes,
}

/// MFA codes the run has without asking; otherwise the screen asks.
#[derive(Debug, Clone, Default)]
pub struct Codes {
    /// `--mfa-code` or `XWIZARD_MFA_CODE`.
    pub given: Option<String>,
    /// The preset's `mfa_code_command`.
    pub command: Option<String>,
}

/// What reaches the loop from the tasks that work for the screen.
enum Feed {
    Show(Message),
    /// The engine waits for this answer; dropping the sender tells it none will come.
    Ask(Question, oneshot::Sender<bool>),
    /// A consumer's connection waits for accept, reject or later; dropping the sender
    /// leaves it for later.
    AskConnection(Question, oneshot::Sender<ConnectionAnswer>),
    /// A profile's role needs an MFA code (device, profile); dropping the sender gives none.
    AskCode(String, String, oneshot::Sender<String>),
    /// A run ended: its outcome, or its error in words.
    Ended(Result<Outcome, String>),
}

/// The engine's events, forwarded to the loop.
struct ScreenReporter(mpsc::UnboundedSender<Feed>);

impl Reporter for ScreenReporter {
    fn report(&self, event: &Event) {
        // Only a closed screen drops events, and then nobody is left to read them.
        let _ = self.0.send(Feed::Show(Message::Engine(event.clone())));
    }
}

/// The engine's questions, put on screen; the answer comes back when the user gives it.
struct ScreenAsker(mpsc::UnboundedSender<Feed>);

impl Asker for ScreenAsker {
    fn confirm<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let (answer, answered) = oneshot::channel();
            self.0
                .send(Feed::Ask(question.clone(), answer))
                .map_err(|_| unanswered())?;
            answered.await.map_err(|_| unanswered())
        })
    }

    fn connection<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Result<ConnectionAnswer>> {
        Box::pin(async move {
            let (answer, answered) = oneshot::channel();
            // A screen that is gone, or closed before the answer, leaves the connection
            // pending: `xwizard resume` asks again.
            if self
                .0
                .send(Feed::AskConnection(question.clone(), answer))
                .is_err()
            {
                return Ok(ConnectionAnswer::Later);
            }
            Ok(answered.await.unwrap_or(ConnectionAnswer::Later))
        })
    }
}

/// MFA codes, typed on screen.
struct ScreenCodePrompt(mpsc::UnboundedSender<Feed>);

impl CodePrompt for ScreenCodePrompt {
    fn ask<'a>(&'a self, serial: &'a str, profile: &'a str) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            let (answer, answered) = oneshot::channel();
            self.0
                .send(Feed::AskCode(serial.into(), profile.into(), answer))
                .map_err(|_| unanswered())?;
            answered.await.map_err(|_| {
                anyhow!(
                    "no MFA code was given for {serial}: profile '{profile}' cannot be used \
                     without one"
                )
            })
        })
    }
}

fn unanswered() -> anyhow::Error {
    anyhow!("no answer: the full-screen interface was closed before the question was answered")
}

/// Runs the full screen until the user quits; the terminal is restored on every way out
/// (ratatui's panic hook covers a panic).
pub async fn run(setup: Setup) -> Result<Outcome> {
    let mut terminal = ratatui::try_init()?;
    let mut runner = Runner::new(setup);
    let looped = runner.event_loop(&mut terminal).await;
    ratatui::restore();
    looped?;
    runner.finish().await
}

struct Runner {
    setup: Setup,
    model: Model,
    tx: mpsc::UnboundedSender<Feed>,
    rx: mpsc::UnboundedReceiver<Feed>,
    /// The answer the engine waits for, if it asked.
    pending: Option<oneshot::Sender<bool>>,
    /// The answer to a pending connection, if the engine asked.
    pending_connection: Option<oneshot::Sender<ConnectionAnswer>>,
    /// The MFA code a session waits for, if one is asked.
    pending_code: Option<oneshot::Sender<String>>,
    /// The MFA sessions of everything this screen runs: one code per device.
    mfa: Arc<Mfa>,
    /// The run under way; one at a time, as the deployment lock would insist anyway.
    task: Option<JoinHandle<()>>,
    last: Option<Result<Outcome, String>>,
    /// A signal ended the screen.
    signalled: bool,
}

impl Runner {
    fn new(setup: Setup) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let mfa = Arc::new(Mfa::new(CodeSources {
            given: setup.codes.given.clone(),
            command: setup.codes.command.clone(),
            prompt: Some(Box::new(ScreenCodePrompt(tx.clone()))),
        }));
        Self {
            setup,
            model: Model::new(Theme::from_env(), Instant::now()),
            tx,
            rx,
            pending: None,
            pending_connection: None,
            pending_code: None,
            mfa,
            task: None,
            last: None,
            signalled: false,
        }
    }

    async fn event_loop(&mut self, terminal: &mut ratatui::DefaultTerminal) -> Result<()> {
        self.open();
        let mut terminal_events = EventStream::new();
        let mut clock = tokio::time::interval(TICK);
        clock.set_missed_tick_behavior(MissedTickBehavior::Skip);
        // SIGTERM or SIGHUP (a closed terminal window, `kill`): leave as `q` would, so the
        // terminal is restored and the run is kept for `xwizard resume`.
        let signalled = run::stop_signal();
        tokio::pin!(signalled);
        // Drawn only when something changed, or once a second while a timer is on screen:
        // waiting on a stack costs next to no CPU.
        let mut dirty = true;
        let mut drawn_at = Instant::now();
        loop {
            if dirty {
                terminal.draw(|frame| tui::view(&self.model, frame))?;
                dirty = false;
                drawn_at = Instant::now();
            }
            let feed = tokio::select! {
                Some(feed) = self.rx.recv() => feed,
                input = terminal_events.next() => match input {
                    Some(Ok(TermEvent::Key(key))) => Feed::Show(Message::Key(key)),
                    Some(Ok(TermEvent::Resize(w, h))) => Feed::Show(Message::Resize(w, h)),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e.into()),
                    // The terminal is gone: nobody is left to answer.
                    None => return Ok(()),
                },
                _ = clock.tick() => Feed::Show(Message::Tick(Instant::now())),
                () = &mut signalled => {
                    self.signalled = true;
                    return Ok(());
                }
            };
            dirty |= match &feed {
                Feed::Show(Message::Tick(now)) => {
                    self.model.clock_shown()
                        && now.saturating_duration_since(drawn_at) >= Duration::from_secs(1)
                }
                _ => true,
            };
            if self.take(feed) == Flow::Quit {
                return Ok(());
            }
            // A stack's events come in bursts: fold them all in, then draw once.
            while let Ok(feed) = self.rx.try_recv() {
                dirty = true;
                if self.take(feed) == Flow::Quit {
                    return Ok(());
                }
            }
        }
    }

    /// What the screen needs before the first frame: the saved deployments, the profiles (read
    /// in a task: an SSO config can be slow), and where to start.
    fn open(&mut self) {
        self.show_deployments();
        let source = run::profile_source(&self.setup.profile_files);
        let tx = self.tx.clone();
        tokio::spawn(async move {
            // An unreadable config shows as no profiles; the profiles screen says what to do.
            let rows = list_profiles(&source)
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|p| ProfileRow {
                    name: p.name,
                    kind: p.kind.to_string(),
                    region: p.region,
                })
                .collect();
            let _ = tx.send(Feed::Show(Message::Profiles(rows)));
        });
        match self.setup.start.clone() {
            Start::Home => self.model.screen = Screen::Home,
            Start::New(prefill) => {
                let m = &mut self.model;
                m.pattern = prefill.pattern.unwrap_or(m.pattern);
                m.params.region = prefill.region.unwrap_or_default();
                m.params.name = prefill.name.unwrap_or_default();
                m.profiles.allow_same_account = prefill.allow_same_account;
                m.settings = prefill.settings;
                m.standing = prefill.standing;
                m.screen = Screen::PatternChoice;
                // Named profiles are checked at once, as if picked on the profiles screen.
                for (role, profile) in [
                    (Role::Producer, prefill.producer_profile),
                    (Role::Consumer, prefill.consumer_profile),
                ] {
                    let Some(profile) = profile else { continue };
                    let form = &mut self.model.profiles;
                    match role {
                        Role::Producer => form.producer = Some(profile.clone()),
                        Role::Consumer => form.consumer = Some(profile.clone()),
                    }
                    *form.identity_mut(role) = Identity::Checking;
                    self.act(Action::VerifyProfile { role, profile });
                }
            }
            Start::Resume(name) => self.act(Action::Resume(name)),
            Start::Test(name) => self.act(Action::Test(name)),
            Start::Destroy(name) => self.act(Action::Destroy(name)),
        }
        self.model.suggested_name = run::suggested_name(self.model.pattern);
    }

    /// The saved deployments, read again for the home screen.
    fn show_deployments(&mut self) {
        let deployments = self
            .setup
            .store
            .list()
            .map(|l| l.deployments)
            .unwrap_or_default();
        tui::update(
            &mut self.model,
            Message::Deployments(deployments, crate::state::now()),
        );
    }

    fn take(&mut self, feed: Feed) -> Flow {
        let message = match feed {
            Feed::Show(message) => message,
            Feed::Ask(question, answer) => {
                self.pending = Some(answer);
                Message::Ask(question)
            }
            Feed::AskConnection(question, answer) => {
                self.pending_connection = Some(answer);
                Message::Ask(question)
            }
            Feed::AskCode(serial, profile, answer) => {
                self.pending_code = Some(answer);
                Message::AskCode { serial, profile }
            }
            Feed::Ended(result) => {
                self.task = None;
                // A question the run left behind can no longer be answered.
                self.pending = None;
                self.pending_connection = None;
                self.pending_code = None;
                self.model.code_entry = None;
                self.show_deployments();
                if let Err(message) = &result {
                    tui::update(&mut self.model, Message::Stopped(message.clone()));
                }
                self.last = Some(result);
                return Flow::Go;
            }
        };
        match tui::update(&mut self.model, message) {
            Some(Action::Quit) => Flow::Quit,
            Some(action) => {
                self.act(action);
                Flow::Go
            }
            None => Flow::Go,
        }
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Quit => {}
            Action::Answer(yes) => {
                if let Some(answer) = self.pending.take() {
                    let _ = answer.send(yes);
                }
            }
            Action::Connection(choice) => {
                if let Some(answer) = self.pending_connection.take() {
                    let _ = answer.send(choice);
                }
            }
            Action::Code(code) => {
                // No code (Esc) drops the sender: the session waiting for it fails, saying so.
                if let (Some(answer), Some(code)) = (self.pending_code.take(), code) {
                    let _ = answer.send(code);
                }
            }
            Action::VerifyProfile { role, profile } => {
                let source = run::profile_source(&self.setup.profile_files);
                let tx = self.tx.clone();
                let mfa = self.mfa.clone();
                tokio::spawn(async move {
                    let result = match Session::open(&profile, None, &source, &mfa).await {
                        Ok(session) => session.identify().await,
                        Err(e) => Err(e),
                    }
                    .map(|id| (id.account_id, id.arn))
                    .map_err(|e| format!("{e:#}"));
                    let _ = tx.send(Feed::Show(Message::Identity {
                        role,
                        profile,
                        result,
                    }));
                });
            }
            Action::Start(answers) => {
                let files = self.setup.profile_files.clone();
                let check = run::sandbox_check(&files, self.setup.check.clone());
                let (store, io) = (self.setup.store.clone(), self.io());
                self.launch(async move { run::create(&store, answers, files, check, &io).await });
            }
            Action::Resume(name) => self.on_saved(What::Resume, name),
            Action::Test(name) => self.on_saved(What::Test, name),
            Action::Destroy(name) => self.on_saved(What::Destroy, name),
            Action::Home => {
                if self.task.is_some() {
                    return;
                }
                let mut model = Model::new(self.model.theme, Instant::now());
                model.profiles.profiles = std::mem::take(&mut self.model.profiles.profiles);
                model.suggested_name = run::suggested_name(model.pattern);
                // What the command line gave the pattern (the sandbox's domain, a standing
                // `--accept-connection`) holds for every new deployment of this screen.
                if let Start::New(prefill) = &self.setup.start {
                    model.settings = prefill.settings.clone();
                    model.standing = prefill.standing.clone();
                }
                self.model = model;
                self.show_deployments();
            }
        }
    }

    /// Resume, test or destroy a saved deployment, drawn from its record until the engine
    /// reports.
    fn on_saved(&mut self, what: What, name: String) {
        if self.task.is_some() {
            return;
        }
        let d = match self.setup.store.load(&name) {
            Ok(d) => d,
            Err(e) => {
                tui::update(&mut self.model, Message::Stopped(format!("{e:#}")));
                return;
            }
        };
        let mut model = Model::for_deployment(self.model.theme, Instant::now(), &d);
        model.deployments = std::mem::take(&mut self.model.deployments);
        model.profiles.profiles = std::mem::take(&mut self.model.profiles.profiles);
        model.suggested_name = std::mem::take(&mut self.model.suggested_name);
        self.model = model;
        let check = run::sandbox_check(&d.profile_files, self.setup.check.clone());
        let (store, io) = (self.setup.store.clone(), self.io());
        self.launch(async move {
            match what {
                What::Resume => run::resume(&store, &name, &io, check).await,
                What::Test => run::test(&store, &name, &io, check).await,
                What::Destroy => run::destroy(&store, &name, &io).await,
            }
        });
    }

    /// The screen's side of a run: events and questions come back through the loop's channel.
    fn io(&self) -> Io {
        Io {
            reporter: Box::new(ScreenReporter(self.tx.clone())),
            asker: Box::new(ScreenAsker(self.tx.clone())),
            // Printing would tear the screen; it shows the identities and the next steps itself.
            say: |_| {},
            offer_cleanup: true,
            mfa: self.mfa.clone(),
        }
    }

    /// Runs `work` beside the loop, so the screen never waits on AWS.
    fn launch(&mut self, work: impl Future<Output = Result<Outcome>> + Send + 'static) {
        if self.task.is_some() {
            return;
        }
        let tx = self.tx.clone();
        self.task = Some(tokio::spawn(async move {
            let result = work.await.map_err(|e| format!("{e:#}"));
            let _ = tx.send(Feed::Ended(result));
        }));
    }

    /// After the screen is gone: stop a run still under way and say how to carry it on.
    async fn finish(mut self) -> Result<Outcome> {
        // Quitting at the connection screen leaves the connection for later, as `l` does: the
        // run then ends waiting, which takes a moment at most, and says so below.
        let connection = self.pending_connection.take();
        if connection.is_some()
            && !self.signalled
            && !self.model.interrupted
            && let Some(task) = self.task.take()
        {
            drop(connection);
            let _ = tokio::time::timeout(Duration::from_secs(3), task).await;
            self.take_the_end();
        }
        // Still running, or stopped by the signal that also ended the screen (the run hears
        // it too, and may have ended first).
        let stopped = self.model.running() || matches!(self.last, Some(Ok(Outcome::Interrupted)));
        let interrupted = stopped
            .then(|| self.model.deployment_name().map(str::to_string))
            .flatten();
        if let Some(task) = self.task.take() {
            if self.pending.take().is_some() {
                // The engine's question now has no answer: it records the step as stopped
                // and returns, which takes a moment at most.
                let _ = tokio::time::timeout(Duration::from_secs(3), task).await;
            } else {
                // Between questions the record is saved at every step change, so stopping
                // here is as safe as a kill; a stack operation under way finishes in
                // CloudFormation on its own.
                task.abort();
            }
        }
        if let Some(name) = interrupted {
            eprintln!(
                "Stopped; {name} is kept as it is. `xwizard resume {name}` carries it on, `xwizard status {name}` shows it."
            );
            return Ok(if self.signalled || self.model.interrupted {
                Outcome::Interrupted
            } else {
                Outcome::Failed
            });
        }
        if self.model.interrupted {
            // Ctrl-C is an interruption wherever it is pressed, as in a shell.
            return Ok(Outcome::Interrupted);
        }
        match self.last {
            Some(Ok(Outcome::Waiting)) => {
                if let (Some(name), Some(w)) = (self.model.deployment_name(), &self.model.waiting) {
                    eprintln!("⏸ {name}: {}. Next: {}", w.message, w.next);
                }
                Ok(Outcome::Waiting)
            }
            Some(Ok(outcome)) => Ok(outcome),
            Some(Err(message)) => Err(anyhow!(message)),
            None => Ok(Outcome::Completed),
        }
    }
}

impl Runner {
    /// What the run said after the screen closed: its last events and how it ended.
    fn take_the_end(&mut self) {
        while let Ok(feed) = self.rx.try_recv() {
            match feed {
                Feed::Show(message @ Message::Engine(_)) => {
                    tui::update(&mut self.model, message);
                }
                Feed::Ended(result) => self.last = Some(result),
                _ => {}
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    Quit,
}

#[derive(Debug, Clone, Copy)]
enum What {
    Resume,
    Test,
    Destroy,
}
