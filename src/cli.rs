//! The command line: what a user types, parsed by clap, dispatched to the modules.

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use crate::engine::Outcome;
use crate::paths;
use crate::plan::Pattern;
use crate::preset::Preset;
use crate::run;
use crate::sandbox::{self, Pace};
use crate::state::Store;
use crate::tui_runner::{self, Prefill, Start};

#[derive(Debug, Parser)]
#[command(
    name = "xwizard",
    version,
    about = "Deploys the AWS cross-account private API patterns across two accounts, end to end",
    long_about = None
)]
pub struct Cli {
    /// Where deployments and the running sandbox are kept [default: $XDG_STATE_HOME/xwizard]
    #[arg(long, global = true, env = "XWIZARD_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// Without one, on a terminal: the full-screen interface's home (the saved deployments)
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a new deployment (asks what it needs, or takes it from flags and --preset)
    New(NewArgs),
    /// Carry on a deployment after a failure or an interruption
    Resume {
        name: String,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Run the deployment's test calls again
    Test {
        name: String,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Delete everything a deployment made, in both accounts
    Destroy {
        name: String,
        /// Pattern 2: also disable and delete the AWS Private CA the deployment created (it
        /// is kept otherwise, and costs money every month it exists)
        #[arg(long)]
        delete_private_ca: bool,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Show a deployment's steps, stacks, outputs and failure, if any
    Status {
        name: String,
        /// The record as one JSON object on stdout
        #[arg(long)]
        json: bool,
    },
    /// Remove a destroyed or abandoned deployment's record (refused while any of its stacks is
    /// still in AWS, unless --force)
    Forget {
        name: String,
        /// Forget it even if its stacks may still exist, or its accounts cannot be reached
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        mfa: MfaCode,
    },
    /// List known deployments
    List {
        /// One JSON object per deployment (and per unreadable record) on stdout
        #[arg(long)]
        json: bool,
    },
    /// List the AWS profiles of your config
    Profiles,
    /// The IAM policy each account's profile needs to run a pattern (deploy, resume, test,
    /// clean up), CloudFormation's work on its behalf included
    Permissions {
        /// Only this pattern [default: all]
        #[arg(long, value_enum)]
        pattern: Option<Pattern>,
        /// Only this account's policy [default: both]
        #[arg(long, value_enum)]
        role: Option<crate::plan::Role>,
        /// One JSON object per policy on stdout
        #[arg(long)]
        json: bool,
    },
    /// Pattern 2: write your own client certificate, its private key (mode 0600) and the CA
    /// certificate to a directory, for curl or your own client. The key is made once and kept
    /// in the OS keyring; this is the only command that writes it to a file.
    Cert {
        name: String,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Replace files of the same names in DIR
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        mfa: MfaCode,
    },
    /// Write the embedded CloudFormation templates to a directory for review
    Templates {
        #[arg(long)]
        out: PathBuf,
    },
    /// The local two-account AWS sandbox: rehearse without an AWS account.
    /// Without a subcommand: start it, run the wizard on it, stop it.
    Sandbox {
        #[command(subcommand)]
        action: Option<SandboxAction>,
        #[command(flatten)]
        run: RunArgs,
        /// How fast stacks progress [default: fast]
        #[arg(long, value_enum)]
        pace: Option<Pace>,
        /// The pattern to rehearse without a terminal [default: the sandbox preset's]
        #[arg(long, value_enum)]
        pattern: Option<Pattern>,
    },
}

/// How a run talks to its user and reaches the API for the test calls.
#[derive(Debug, Clone, Args, Default)]
pub struct RunArgs {
    /// Answer yes to every question (apply change sets, delete failed stacks)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// One JSON event per line on stdout
    #[arg(long)]
    pub json: bool,
    /// Line prompts and progress lines instead of the full-screen interface
    #[arg(long)]
    pub no_tui: bool,
    /// For the test calls, as curl's: HOST:PORT:ADDR
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<crate::check::Resolve>,
    /// For the test calls, as curl's: HOST:PORT:CONNECT_HOST:CONNECT_PORT
    #[arg(long, value_name = "HOST:PORT:CHOST:CPORT")]
    pub connect_to: Vec<crate::check::ConnectTo>,
    /// Extra CA certificates (PEM) to trust for the test calls
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    #[command(flatten)]
    pub mfa: MfaCode,
    /// Pattern 2: accept the consumer's pending connection without asking (without it, and
    /// without a terminal, the connection waits for `xwizard resume`)
    #[arg(long)]
    pub accept_connection: bool,
}

/// The one-time code of the MFA device that a profile's role needs (`mfa_serial`).
#[derive(Debug, Clone, Args, Default)]
pub struct MfaCode {
    /// The one-time code of the MFA device that a profile's role needs (`mfa_serial`);
    /// without it a terminal asks for it
    #[arg(
        long,
        value_name = "CODE",
        env = "XWIZARD_MFA_CODE",
        hide_env_values = true
    )]
    pub mfa_code: Option<String>,
}

impl MfaCode {
    /// The code, checked before anything is read or called: a mistyped one is refused first.
    pub fn checked(&self) -> Result<Option<String>> {
        if let Some(code) = &self.mfa_code {
            crate::aws::mfa::check_code(code)
                .map_err(|e| anyhow::anyhow!("--mfa-code (or XWIZARD_MFA_CODE): {e}"))?;
        }
        Ok(self.mfa_code.clone())
    }

    /// The front end of a command that only reads and deletes (forget, cert).
    fn frontend(&self) -> Result<run::Frontend> {
        Ok(run::Frontend {
            mfa_code: self.checked()?,
            ..run::Frontend::default()
        })
    }
}

impl RunArgs {
    /// The full screen, unless asked for lines or JSON, or `--yes` leaves nothing to ask, or
    /// there is no terminal to draw on.
    fn tui(&self) -> bool {
        !self.no_tui && !self.json && !self.yes && tui_runner::available()
    }

    fn frontend(&self) -> run::Frontend {
        run::Frontend {
            json: self.json,
            yes: self.yes,
            clean_up: false,
            mfa_code: self.mfa.mfa_code.clone(),
            mfa_code_command: None,
        }
    }

    /// The test calls' options, checked before anything runs (the MFA code too: it is
    /// checked here so that a mistyped one is refused before anything is read or called).
    fn check(&self) -> Result<crate::check::CheckOptions> {
        self.mfa.checked()?;
        let options = crate::check::CheckOptions {
            resolve: self.resolve.clone(),
            connect_to: self.connect_to.clone(),
            ca_bundle: self.ca_bundle.clone(),
            timeout: None,
        };
        options.validate()?;
        Ok(options)
    }
}

#[derive(Debug, Clone, Args)]
pub struct NewArgs {
    /// Answers from a TOML file (see profiles/); flags win over it
    #[arg(long, value_name = "FILE")]
    pub preset: Option<PathBuf>,
    #[arg(long, value_enum)]
    pub pattern: Option<Pattern>,
    #[arg(long)]
    pub region: Option<String>,
    #[arg(long)]
    pub producer_profile: Option<String>,
    #[arg(long)]
    pub consumer_profile: Option<String>,
    /// Deployment name: 3-20 of a-z, 0-9 and '-'
    #[arg(long)]
    pub name: Option<String>,
    /// Let one account play both roles (rehearsals)
    #[arg(long)]
    pub allow_same_account: bool,
    /// Pattern 2: the domain whose public Route 53 hosted zone is in the producer account
    #[arg(long, help_heading = "Pattern 2")]
    pub domain: Option<String>,
    /// Pattern 2: the label in front of the domain [default: the deployment's name]
    #[arg(long, help_heading = "Pattern 2")]
    pub subdomain: Option<String>,
    /// Pattern 2: local, private-ca, private-ca-short-lived, existing-private-ca or
    /// bring-your-own [default: local]
    #[arg(long, value_name = "CA", help_heading = "Pattern 2")]
    pub ca: Option<String>,
    /// Pattern 2, --ca existing-private-ca: the Private CA's ARN
    #[arg(long, value_name = "ARN", help_heading = "Pattern 2")]
    pub ca_arn: Option<String>,
    /// Pattern 2, --ca bring-your-own: the CA certificate (PEM)
    #[arg(long, value_name = "FILE", help_heading = "Pattern 2")]
    pub ca_certificate_file: Option<String>,
    /// Pattern 2, --ca bring-your-own: the CA's private key (PEM), read once into the keyring
    #[arg(long, value_name = "FILE", help_heading = "Pattern 2")]
    pub ca_key_file: Option<String>,
    /// Pattern 2: keep private keys in 0600 files under the state directory when no OS
    /// keyring is usable
    #[arg(long, help_heading = "Pattern 2")]
    pub key_files: bool,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum SandboxAction {
    /// Start the sandbox in the background and print how to reach it
    Up(UpArgs),
    /// Stop the sandbox that `up` started
    Down,
    /// Print `export` lines pointing the AWS CLI or boto3 at the running sandbox
    Env,
    /// Say whether the sandbox runs, and where
    Status,
    /// Make the running sandbox misbehave as AWS sometimes does (for rehearsals)
    Fault {
        #[command(subcommand)]
        fault: FaultAction,
    },
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// How fast stacks progress: fast, or realistic (slow resources take visibly longer)
    /// [default: fast]
    #[arg(long, value_enum)]
    pub pace: Option<Pace>,
    /// Region written into the sandbox profiles
    #[arg(long, default_value = sandbox::DEFAULT_REGION)]
    pub region: String,
    /// Emulator port on 127.0.0.1 [default: a free port]
    #[arg(long)]
    pub port: Option<u16>,
    /// Local data plane (HTTPS) port on 127.0.0.1 [default: a free port]
    #[arg(long)]
    pub data_plane_port: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum FaultAction {
    /// The next creation (or, with --on delete, deletion) of a resource fails with the given reason
    FailResource {
        /// Logical id in the template, e.g. ConsumerNlb
        logical_id: String,
        #[arg(
            long,
            default_value = "Injected failure: the sandbox was asked to fail this resource"
        )]
        reason: String,
        /// Only in this stack
        #[arg(long)]
        stack: Option<String>,
        /// Which operation fails
        #[arg(long, value_enum, default_value_t)]
        on: crate::sandbox::control::FaultOn,
    },
    /// Keep a stack in progress until released
    Hold { stack: String },
    /// Let a held stack carry on
    Release { stack: String },
    /// The APIs answer the next N calls 503, as a just-made API sometimes does
    Unavailable {
        #[arg(default_value_t = 1)]
        count: u32,
    },
    /// An account's credentials expire: every call signed with them is refused until `renew`
    Expire {
        /// producer, consumer or an account id
        account: String,
    },
    /// An account's credentials work again, as after signing in anew
    Renew {
        /// producer, consumer or an account id
        account: String,
    },
    /// Throttle the next N calls of an operation, e.g. `cloudformation DescribeStackEvents 3`
    Throttle {
        service: String,
        operation: String,
        #[arg(default_value_t = 1)]
        count: u32,
    },
    /// API Gateway refuses the next N CloudWatch roles it is given, as it does one IAM has not
    /// yet propagated ("does not have required permissions set to API Gateway")
    RoleNotReady {
        #[arg(default_value_t = 1)]
        count: u32,
    },
    /// STS refuses the next N MFA one-time codes it is given ("MultiFactorAuthentication
    /// failed"), as it does a mistyped or stale code
    MfaReject {
        #[arg(default_value_t = 1)]
        count: u32,
    },
    /// Stack reads (DescribeStacks, DescribeStackEvents) lag each change by MS milliseconds,
    /// as AWS's eventually consistent reads can; 0 makes them current again
    StaleReads { ms: u64 },
    /// Forget every resource and fault; the accounts stay
    Reset,
}

impl Cli {
    fn state_dir(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(paths::state_dir)
    }

    fn sandbox_dir(&self) -> PathBuf {
        self.state_dir().join("sandbox")
    }
}

/// Exit status: success, or a failed step (the deployment is kept and can be resumed).
pub async fn run(cli: Cli) -> Result<Outcome> {
    let store = Store::new(&cli.state_dir());
    let Some(command) = &cli.command else {
        if tui_runner::available() {
            // A shell pointed at a running sandbox (`eval "$(xwizard sandbox env)"`): new
            // deployments from the home screen are made there, as `xwizard new` makes them.
            let files = run::sandbox_files_from_env();
            let codes = tui_runner::Codes {
                given: std::env::var("XWIZARD_MFA_CODE").ok(),
                command: None,
            };
            return on_screen(store, files, Default::default(), Start::Home, codes).await;
        }
        // No terminal to draw the home screen on: say what there is, as for a usage error.
        use clap::CommandFactory;
        Cli::command().print_help()?;
        std::process::exit(1);
    };
    match command {
        Command::New(args) => {
            let mut preset = match &args.preset {
                Some(path) => Preset::load(path)?,
                None => Preset::default(),
            };
            merge(&mut preset, args);
            let explicit = args.run.check()?;
            let files = run::sandbox_files_from_env();
            let check = run::sandbox_check(&files, explicit);
            if args.run.tui() {
                let prefill = Prefill {
                    settings: run::given_settings(&preset),
                    standing: run::standing_choices(&preset),
                    pattern: preset.pattern,
                    region: preset.region,
                    name: preset.name,
                    producer_profile: preset.producer_profile,
                    consumer_profile: preset.consumer_profile,
                    allow_same_account: args.allow_same_account
                        || preset.allow_same_account == Some(true),
                };
                let codes = codes(&args.run, preset.mfa_code_command.clone());
                return on_screen(store, files, check, Start::New(prefill), codes).await;
            }
            let mut frontend = args.run.frontend();
            frontend.mfa_code_command = preset.mfa_code_command.clone();
            let new = run::NewArgs {
                preset,
                allow_same_account: args.allow_same_account,
                check,
                profile_files: files,
            };
            run::new(&store, new, &frontend).await
        }
        Command::Resume { name, run: r }
        | Command::Test { name, run: r }
        | Command::Destroy { name, run: r, .. } => {
            // Name and options first: nothing is read, locked or called with a bad one.
            crate::state::check_name(name)?;
            let explicit = r.check()?;
            let delete_private_ca = matches!(
                command,
                Command::Destroy {
                    delete_private_ca: true,
                    ..
                }
            );
            run::record_choices(
                &store,
                name,
                &[
                    (crate::plan::ACCEPT_CONNECTION, r.accept_connection),
                    (crate::plan::DELETE_PRIVATE_CA, delete_private_ca),
                ],
            )?;
            let d = store.load(name)?;
            if r.tui() {
                // A saved deployment carries its own profile files.
                let start = match command {
                    Command::Resume { .. } => Start::Resume(name.clone()),
                    Command::Test { .. } => Start::Test(name.clone()),
                    _ => Start::Destroy(name.clone()),
                };
                return on_screen(store, None, explicit, start, codes(r, None)).await;
            }
            let io = r.frontend().io();
            let check = run::sandbox_check(&d.profile_files, explicit);
            match command {
                Command::Resume { .. } => run::resume(&store, name, &io, check).await,
                Command::Test { .. } => run::test(&store, name, &io, check).await,
                _ => run::destroy(&store, name, &io).await,
            }
        }
        Command::Cert {
            name,
            out,
            overwrite,
            mfa,
        } => {
            crate::state::check_name(name)?;
            let frontend = mfa.frontend()?;
            let paths = run::cert(&store, name, out, *overwrite, &frontend.io()).await?;
            for path in paths {
                println!("{}", path.display());
            }
            Ok(Outcome::Completed)
        }
        Command::Status { name, json } => {
            let d = store.load(name)?;
            let text = if *json {
                format!("{}\n", crate::ui::json::status(&d))
            } else {
                crate::ui::line::status(&d)
            };
            crate::ui::stdout(&text);
            Ok(Outcome::Completed)
        }
        Command::Forget { name, force, mfa } => {
            let frontend = mfa.frontend()?;
            run::forget(&store, name, *force, &frontend.io().mfa).await
        }
        Command::List { json } => {
            let text = if *json {
                crate::ui::json::list(&store.list()?)
            } else {
                list(&store)?
            };
            crate::ui::stdout(&text);
            Ok(Outcome::Completed)
        }
        Command::Profiles => {
            let mut text = String::new();
            for p in crate::aws::session::list_profiles(&Default::default()).await? {
                text.push_str(&format!(
                    "{:<30} {:<8} {}\n",
                    p.name,
                    p.kind,
                    p.region.unwrap_or_default()
                ));
            }
            crate::ui::stdout(&text);
            Ok(Outcome::Completed)
        }
        Command::Permissions {
            pattern,
            role,
            json,
        } => {
            crate::ui::stdout(&permissions(*pattern, *role, *json)?);
            Ok(Outcome::Completed)
        }
        Command::Templates { out } => {
            // Every file is written before anything is printed: a reader that goes away
            // (`| head -1`) never leaves a template unwritten.
            let written = write_templates(out)?;
            crate::ui::stdout(&written);
            Ok(Outcome::Completed)
        }
        Command::Sandbox {
            action: Some(action),
            ..
        } => run_sandbox(&cli, action).await.map(|()| Outcome::Completed),
        Command::Sandbox {
            action: None,
            run: r,
            pace,
            pattern,
        } => sandbox_run(&cli, &store, r, *pace, *pattern).await,
    }
}

/// `xwizard permissions`: each selected policy, as a commented JSON document or one JSON
/// object a line.
fn permissions(
    pattern: Option<Pattern>,
    role: Option<crate::plan::Role>,
    json: bool,
) -> Result<String> {
    use crate::plan::{Role, permissions};
    let patterns = pattern.map_or(Pattern::ALL.to_vec(), |p| vec![p]);
    let roles = role.map_or(Role::BOTH.to_vec(), |r| vec![r]);
    let mut text = String::new();
    for pattern in patterns {
        for role in &roles {
            let policy = permissions::policy(&permissions::actions(pattern, *role)?);
            let note = permissions::note(pattern, *role)?;
            if json {
                let row = serde_json::json!({
                    "pattern": pattern,
                    "role": role,
                    "note": note,
                    "policy": policy,
                });
                text.push_str(&format!("{row}\n"));
            } else {
                text.push_str(&format!(
                    "# Pattern {} ({}): attach to what the {} profile signs in as, in the {} account\n",
                    pattern.number(),
                    pattern.short(),
                    role.as_str(),
                    role.as_str(),
                ));
                for line in note
                    .iter()
                    .flat_map(|n| crate::ui::tui::model::wrap(n, 94, 0))
                {
                    text.push_str(&format!("# {line}\n"));
                }
                text.push_str(&format!("{}\n", serde_json::to_string_pretty(&policy)?));
            }
        }
    }
    Ok(text)
}

/// `xwizard list`: one line per deployment, then the files that are not readable records.
fn list(store: &Store) -> Result<String> {
    let listing = store.list()?;
    let mut text = String::new();
    if listing.deployments.is_empty() && listing.unreadable.is_empty() {
        text.push_str("no deployments yet: `xwizard new` or `xwizard sandbox` starts one\n");
    }
    let listed_at = crate::state::now();
    for d in &listing.deployments {
        text.push_str(&format!(
            "{:<22} pattern {}  {:<11} producer {} consumer {}  {:<14} {} old\n",
            d.name,
            d.pattern.number(),
            d.summary(),
            d.producer.account_id,
            d.consumer.account_id,
            d.region,
            crate::ui::age(listed_at.saturating_sub(d.created_at))
        ));
    }
    for u in &listing.unreadable {
        text.push_str(&format!("unreadable: {}\n", u.why));
    }
    Ok(text)
}

/// Writes every embedded template under `out`; the paths written, one per line. Each error
/// names the path it is about.
fn write_templates(out: &std::path::Path) -> Result<String> {
    use anyhow::Context;
    let mut written = String::new();
    for (path, body) in crate::plan::templates() {
        let target = out.join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).with_context(|| {
                format!(
                    "--out: cannot make the directory {} (is a parent a file, or read-only?)",
                    dir.display()
                )
            })?;
        }
        std::fs::write(&target, body)
            .with_context(|| format!("--out: cannot write {}", target.display()))?;
        written.push_str(&format!("{}\n", target.display()));
    }
    Ok(written)
}

async fn on_screen(
    store: Store,
    profile_files: Option<(PathBuf, PathBuf)>,
    check: crate::check::CheckOptions,
    start: Start,
    codes: tui_runner::Codes,
) -> Result<Outcome> {
    tui_runner::run(tui_runner::Setup {
        store,
        profile_files,
        check,
        start,
        codes,
    })
    .await
}

/// The MFA codes a full-screen run has without asking.
fn codes(r: &RunArgs, command: Option<String>) -> tui_runner::Codes {
    tui_runner::Codes {
        given: r.mfa.mfa_code.clone(),
        command,
    }
}

fn merge(preset: &mut Preset, args: &NewArgs) {
    let pick = |flag: &Option<String>, slot: &mut Option<String>| {
        if flag.is_some() {
            *slot = flag.clone();
        }
    };
    pick(&args.region, &mut preset.region);
    pick(&args.producer_profile, &mut preset.producer_profile);
    pick(&args.consumer_profile, &mut preset.consumer_profile);
    pick(&args.name, &mut preset.name);
    if args.pattern.is_some() {
        preset.pattern = args.pattern;
    }
    for (key, flag) in [
        ("domain", &args.domain),
        ("subdomain", &args.subdomain),
        ("ca", &args.ca),
        ("ca_arn", &args.ca_arn),
        ("ca_certificate_file", &args.ca_certificate_file),
        ("ca_key_file", &args.ca_key_file),
    ] {
        if let Some(slot) = preset.setting_mut(key) {
            pick(flag, slot);
        }
    }
    if args.key_files {
        preset.key_files = Some(true);
    }
    if args.run.accept_connection {
        preset.accept_connection = Some(true);
    }
}

/// `xwizard sandbox`: up (unless one runs), the wizard with the sandbox preset, then down
/// (only if this run started it).
async fn sandbox_run(
    cli: &Cli,
    store: &Store,
    r: &RunArgs,
    pace: Option<Pace>,
    pattern: Option<Pattern>,
) -> Result<Outcome> {
    let explicit = r.check()?;
    refuse_flags_of_a_running_sandbox(&cli.sandbox_dir(), pace, None, None)?;
    let mut opts = sandbox::Options::new(cli.sandbox_dir(), paths::cache_dir());
    opts.pace = pace.unwrap_or(Pace::Fast);
    let running =
        tokio::task::spawn_blocking(move || sandbox::up(&opts, &mut |line| eprintln!("{line}")))
            .await??;
    eprintln!(
        "Sandbox at {} (producer 111111111111, consumer 222222222222).",
        running.info.endpoint_url
    );
    let files = Some((
        running.profiles.config.clone(),
        running.profiles.credentials.clone(),
    ));
    let outcome = if r.tui() {
        // The screen offers the sandbox's two profiles and adds the sandbox's data plane to
        // the test calls, as `run::sandbox_check` does below. As the line wizard on a
        // terminal, it asks everything but the domain, the sandbox's own hosted zone.
        let sandbox = Preset::parse(crate::preset::SANDBOX, "the sandbox preset")?;
        let given = Preset {
            pattern,
            domain: sandbox.domain,
            accept_connection: r.accept_connection.then_some(true),
            ..Preset::default()
        };
        let prefill = Prefill {
            pattern,
            settings: run::given_settings(&given),
            standing: run::standing_choices(&given),
            ..Prefill::default()
        };
        on_screen(
            store.clone(),
            files,
            explicit,
            Start::New(prefill),
            codes(r, None),
        )
        .await
    } else {
        sandbox_wizard(store, r, files, explicit, pattern).await
    };
    let unfinished = !matches!(outcome, Ok(Outcome::Completed));
    if running.started_now && !unfinished {
        sandbox::down(&running.run_dir)?;
        let forgotten = store.forget_made_in(&running.run_dir)?;
        eprintln!(
            "Sandbox stopped; everything it held is gone{}.",
            match forgotten.len() {
                0 => String::new(),
                _ => format!(", and so is the record of {}", forgotten.join(", ")),
            }
        );
    } else if running.started_now {
        // The deployment lives in the sandbox: stopping it would leave nothing to resume.
        eprintln!(
            "The sandbox keeps running for the unfinished deployment (`xwizard sandbox down` \
             stops it and forgets everything in it)."
        );
    } else {
        eprintln!("The sandbox keeps running (`xwizard sandbox down` stops it).");
    }
    outcome
}

/// The line or JSON wizard on the sandbox's profiles.
async fn sandbox_wizard(
    store: &Store,
    r: &RunArgs,
    files: Option<(PathBuf, PathBuf)>,
    explicit: crate::check::CheckOptions,
    pattern: Option<Pattern>,
) -> Result<Outcome> {
    // On a terminal without --yes the wizard asks everything, offering the sandbox's two
    // profiles. Otherwise (a script, CI, --yes) nobody can answer: the sandbox is local and
    // costs nothing, so its preset answers and every question is answered yes, as --yes
    // would, and that is said.
    let asks = !r.yes && !r.json && crate::ui::prompts::interactive();
    let sandbox = Preset::parse(crate::preset::SANDBOX, "the sandbox preset")?;
    let mut preset = if asks {
        // The domain is the sandbox's own hosted zone: nothing to ask.
        Preset {
            domain: sandbox.domain,
            ..Preset::default()
        }
    } else {
        sandbox
    };
    if pattern.is_some() {
        preset.pattern = pattern;
    }
    if r.accept_connection {
        preset.accept_connection = Some(true);
    }
    let mut frontend = r.frontend();
    if !asks && !r.yes {
        eprintln!(
            "No terminal to ask on: the sandbox runs through on profiles/sandbox.toml, every \
             question answered yes (as --yes does), and cleans up at the end."
        );
        frontend.yes = true;
        // The whole job, as on a terminal: what was made is removed again.
        frontend.clean_up = true;
    }
    let new = run::NewArgs {
        preset,
        allow_same_account: false,
        check: run::sandbox_check(&files, explicit),
        profile_files: files,
    };
    run::new(store, new, &frontend).await
}

async fn run_sandbox(cli: &Cli, action: &SandboxAction) -> Result<()> {
    let run_dir = cli.sandbox_dir();
    match action {
        SandboxAction::Up(args) => {
            refuse_flags_of_a_running_sandbox(
                &run_dir,
                args.pace,
                args.port,
                args.data_plane_port,
            )?;
            let mut opts = sandbox::Options::new(run_dir, paths::cache_dir());
            opts.pace = args.pace.unwrap_or(Pace::Fast);
            opts.region = args.region.clone();
            opts.port = args.port.unwrap_or(0);
            opts.data_plane_port = args.data_plane_port.unwrap_or(0);
            let started = std::time::Instant::now();
            let running = tokio::task::spawn_blocking(move || {
                sandbox::up(&opts, &mut |line| eprintln!("{line}"))
            })
            .await??;
            if running.started_now {
                eprintln!(
                    "Sandbox up in {:.1}s: emulator {} (pid {}), pace {}.",
                    started.elapsed().as_secs_f64(),
                    running.info.endpoint_url,
                    running.info.pid,
                    running.info.pace
                );
            } else {
                eprintln!(
                    "A sandbox is already running: emulator {} (pid {}).",
                    running.info.endpoint_url, running.info.pid
                );
            }
            eprintln!("Point a shell at it with:  eval \"$(xwizard sandbox env)\"");
            eprintln!("Stop it with:              xwizard sandbox down");
            crate::ui::stdout(&running.env_lines());
            Ok(())
        }
        SandboxAction::Down => match sandbox::down(&run_dir)? {
            sandbox::Down::Stopped { pid } => {
                eprintln!("Sandbox stopped (pid {pid}); its accounts and resources are gone.");
                Ok(())
            }
            sandbox::Down::NotRunning => {
                eprintln!("No sandbox is running from {}.", run_dir.display());
                Ok(())
            }
        },
        SandboxAction::Env => {
            let running = require_running(&run_dir)?;
            crate::ui::stdout(&running.env_lines());
            Ok(())
        }
        SandboxAction::Status => {
            match sandbox::status(&run_dir, sandbox::DEFAULT_REGION) {
                Some(running) => {
                    running.control().health().await?;
                    println!(
                        "running: emulator {} (pid {}), data plane {}, pace {}",
                        running.info.endpoint_url,
                        running.info.pid,
                        running.info.data_plane.url,
                        running.info.pace
                    );
                }
                None => println!("not running (start it with `xwizard sandbox up`)"),
            }
            Ok(())
        }
        SandboxAction::Fault { fault } => {
            let control = require_running(&run_dir)?.control();
            match fault {
                FaultAction::FailResource {
                    logical_id,
                    reason,
                    stack,
                    on,
                } => {
                    control
                        .fail_resource(logical_id, reason, stack.as_deref(), *on)
                        .await?
                }
                FaultAction::Hold { stack } => control.hold_stack(stack).await?,
                FaultAction::Release { stack } => control.release_stack(stack).await?,
                FaultAction::Unavailable { count } => {
                    control.data_plane_unavailable(*count).await?
                }
                FaultAction::Expire { account } => control.expire_credentials(account).await?,
                FaultAction::Renew { account } => control.renew_credentials(account).await?,
                FaultAction::Throttle {
                    service,
                    operation,
                    count,
                } => control.throttle(service, operation, *count).await?,
                FaultAction::StaleReads { ms } => control.stale_reads(*ms).await?,
                FaultAction::RoleNotReady { count } => control.role_not_ready(*count).await?,
                FaultAction::MfaReject { count } => control.mfa_reject(*count).await?,
                FaultAction::Reset => control.reset().await?,
            }
            eprintln!("done");
            Ok(())
        }
    }
}

/// A flag that `up` cannot honour because a sandbox already runs is refused, with why,
/// rather than silently ignored.
fn refuse_flags_of_a_running_sandbox(
    run_dir: &std::path::Path,
    pace: Option<Pace>,
    port: Option<u16>,
    data_plane_port: Option<u16>,
) -> Result<()> {
    let Some(running) = sandbox::status(run_dir, sandbox::DEFAULT_REGION) else {
        return Ok(());
    };
    let endpoint_port = reqwest::Url::parse(&running.info.endpoint_url)
        .ok()
        .and_then(|u| u.port());
    let mut refused = Vec::new();
    if let Some(p) = pace.filter(|p| p.as_str() != running.info.pace) {
        refused.push(format!(
            "--pace {} (it runs at pace {})",
            p.as_str(),
            running.info.pace
        ));
    }
    if let Some(p) = port.filter(|p| Some(*p) != endpoint_port) {
        refused.push(format!(
            "--port {p} (it listens on {})",
            running.info.endpoint_url
        ));
    }
    if let Some(p) = data_plane_port.filter(|p| *p != running.info.data_plane.port) {
        refused.push(format!(
            "--data-plane-port {p} (its data plane is on port {})",
            running.info.data_plane.port
        ));
    }
    if !refused.is_empty() {
        bail!(
            "a sandbox is already running from {}, so {} cannot take effect; stop it with \
             `xwizard sandbox down` (which forgets everything in it) and start again, or leave \
             the flag out to use it as it is",
            run_dir.display(),
            refused.join(" and ")
        );
    }
    Ok(())
}

fn require_running(run_dir: &std::path::Path) -> Result<sandbox::Running> {
    match sandbox::status(run_dir, sandbox::DEFAULT_REGION) {
        Some(running) => Ok(running),
        None => bail!(
            "no sandbox is running from {}; start one with `xwizard sandbox up`",
            run_dir.display()
        ),
    }
}
