//! Where xwizard keeps things on disk, following the XDG base directories.

use std::path::PathBuf;

const APP: &str = "xwizard";

/// `$XDG_CACHE_HOME/xwizard` (or the platform's cache dir): rebuildable things such as the
/// sandbox's Python environment.
pub fn cache_dir() -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join(APP)
}

/// `$XDG_STATE_HOME/xwizard` (or the platform's local data dir): deployments and the running
/// sandbox's files.
pub fn state_dir() -> PathBuf {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join(APP)
}
