//! xwizard: deploys the AWS cross-account private API patterns across two accounts.
//!
//! The binary (`src/main.rs`) is a thin entry; everything it does lives in these modules so
//! that the integration tests in `tests/` drive the same code.

pub mod aws;
pub mod cli;
pub mod paths;
pub mod sandbox;
