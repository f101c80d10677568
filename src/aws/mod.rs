//! Everything that calls AWS. One thin adapter per concern; nothing outside this module
//! talks to an AWS SDK client.

pub mod session;

pub use session::{Identity, ProfileSource, Session};
