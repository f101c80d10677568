//! The command line: what a user types, parsed by clap, dispatched to the modules.

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use crate::paths;
use crate::sandbox::{self, Pace};

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

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The local two-account AWS sandbox: rehearse without an AWS account
    Sandbox {
        #[command(subcommand)]
        action: SandboxAction,
    },
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
    #[arg(long, value_enum, default_value = "fast")]
    pub pace: Pace,
    /// Region written into the sandbox profiles
    #[arg(long, default_value = sandbox::DEFAULT_REGION)]
    pub region: String,
    /// Emulator port on 127.0.0.1 [default: a free port]
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Local data plane (HTTPS) port on 127.0.0.1 [default: a free port]
    #[arg(long, default_value_t = 0)]
    pub data_plane_port: u16,
}

#[derive(Debug, Subcommand)]
pub enum FaultAction {
    /// The next creation of a resource fails with the given reason
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
    },
    /// Keep a stack in progress until released
    Hold { stack: String },
    /// Let a held stack carry on
    Release { stack: String },
    /// Throttle the next N calls of an operation, e.g. `cloudformation DescribeStackEvents 3`
    Throttle {
        service: String,
        operation: String,
        #[arg(default_value_t = 1)]
        count: u32,
    },
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

pub async fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Sandbox { action } => run_sandbox(&cli, action).await,
    }
}

async fn run_sandbox(cli: &Cli, action: &SandboxAction) -> Result<()> {
    let run_dir = cli.sandbox_dir();
    match action {
        SandboxAction::Up(args) => {
            let mut opts = sandbox::Options::new(run_dir, paths::cache_dir());
            opts.pace = args.pace;
            opts.region = args.region.clone();
            opts.port = args.port;
            opts.data_plane_port = args.data_plane_port;
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
            print!("{}", running.env_lines());
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
            print!("{}", running.env_lines());
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
                } => {
                    control
                        .fail_resource(logical_id, reason, stack.as_deref())
                        .await?
                }
                FaultAction::Hold { stack } => control.hold_stack(stack).await?,
                FaultAction::Release { stack } => control.release_stack(stack).await?,
                FaultAction::Throttle {
                    service,
                    operation,
                    count,
                } => control.throttle(service, operation, *count).await?,
                FaultAction::Reset => control.reset().await?,
            }
            eprintln!("done");
            Ok(())
        }
    }
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
