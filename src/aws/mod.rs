//! Everything that calls AWS. One thin adapter per concern; nothing outside this module
//! talks to an AWS SDK client.

pub mod api_logging;
pub mod apis;
pub mod buckets;
pub mod dns;
pub mod endpoint_services;
pub mod endpoints;
pub mod error;
pub mod functions;
pub mod mfa;
pub mod pca;
pub mod run_command;
pub mod secrets;
pub mod session;
pub mod stacks;

pub use session::{Identity, ProfileSource, Session};
