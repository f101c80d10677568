use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("XWIZARD_LOG"))
        .with_writer(std::io::stderr)
        .init();
    // A usage error is bad input like any other: exit 1, as the README says (clap's own
    // choice, 2, means a failed step here). Help and version go to stdout with 0.
    let cli = match xwizard::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match xwizard::cli::run(cli).await {
        Ok(xwizard::engine::Outcome::Completed) => ExitCode::SUCCESS,
        Ok(xwizard::engine::Outcome::Failed) => ExitCode::from(2),
        // As a shell reports a program stopped by SIGINT.
        Ok(xwizard::engine::Outcome::Interrupted) => ExitCode::from(130),
        Ok(xwizard::engine::Outcome::Waiting) => ExitCode::from(3),
        // Ctrl-C at a question asked before anything ran.
        Err(err) if err.is::<xwizard::engine::Interrupted>() => {
            eprintln!("Interrupted: nothing was started.");
            ExitCode::from(130)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            if xwizard::aws::error::needs_sign_in(&err) {
                eprintln!(
                    "The credentials of an AWS profile used here have expired or are not \
                     valid: sign in again (for an SSO profile: `aws sso login --profile NAME`) \
                     and run the command again; a deployment carries on with `xwizard resume`."
                );
            }
            ExitCode::FAILURE
        }
    }
}
