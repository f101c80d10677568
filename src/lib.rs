//! xwizard: deploys the AWS cross-account private API patterns across two accounts.
//!
//! The binary (`src/main.rs`) is a thin entry; everything it does lives in these modules so
//! that the integration tests in `tests/` drive the same code.

pub mod aws;
pub mod ca;
pub mod check;
pub mod cli;
pub mod engine;
pub mod keys;
pub mod paths;
pub mod plan;
pub mod preset;
pub mod run;
pub mod sandbox;
pub mod stack_status;
pub mod state;
pub mod tui_runner;
pub mod ui;
