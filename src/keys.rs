//! Where private keys are kept: the operating system's keyring, or — only when none is usable
//! and the user agreed — files that only the user can read.
//!
//! The OS keyring is reached through `keyring-core` with one store per platform, chosen here
//! rather than through the `keyring` crate's defaults (which on Linux need a Secret Service
//! over D-Bus and fail on a headless machine):
//! - Linux: the kernel's key-management facility (keyutils), no daemon needed. The store
//!   adds each key to the session keyring and links it into the user's *persistent* keyring
//!   when the kernel has one (`CONFIG_PERSISTENT_KEYRINGS`, Linux 3.13+), so a key outlives
//!   the login session that made it. The persistent keyring itself expires after
//!   `/proc/sys/kernel/keys/persistent_keyring_expiry` seconds without use (3 days by
//!   default; every use restarts the clock), and the kernel keeps nothing across a reboot:
//!   [`KeyStore::survives_reboot`] says so, so that callers can tell the user.
//! - macOS: the login keychain.
//! - Windows: the Credential Manager.
//!
//! Entries are service `xwizard`, user `<deployment>/<name>`. Opening a store writes, reads
//! back and deletes a probe entry, so a broken store is found before any key is made.
//!
//! The fallback keeps each secret in `DIR/<deployment>/<name>`, mode 0600, in directories of
//! mode 0700, written through a temporary file and a rename so that a reader never sees half
//! a key and the file is never readable by others, not even for a moment.
//!
//! Invariant: no secret appears in any `Debug` or `Display` of this module's types, errors
//! included (keyring-core's own error can carry the bytes it read; it is turned into text here
//! and never kept).

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use keyring_core::{CredentialStore, Entry};

/// The keyring service every entry is filed under.
pub const SERVICE: &str = "xwizard";

/// How long the probe on open may take: a keychain that waits for a password dialog nobody
/// can see (an SSH session on a Mac) must not hang the wizard.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The keyutils store invalidates a deleted key at once, but the kernel may still find it for
/// a few milliseconds from the process that deleted it: how long `delete` waits for that.
const DELETE_SETTLE: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// No OS keyring can be used here and no file fallback was allowed.
    #[error(
        "no OS keyring is usable here ({why}); run again with --key-files to keep private keys \
         in files only you can read (mode 0600, in a 0700 directory under xwizard's state \
         directory) instead"
    )]
    Unavailable { why: String },
    /// The fallback directory cannot be used safely.
    #[error("cannot keep private keys in {dir}: {why}")]
    BadDirectory { dir: PathBuf, why: String },
    /// A deployment or key name that cannot name an entry.
    #[error("{what} {value:?} cannot name a stored key: {why}")]
    BadName {
        what: &'static str,
        value: String,
        why: &'static str,
    },
    /// An operation on a usable store failed.
    #[error("cannot {action} key {entry} in {store}: {why}")]
    Failed {
        action: &'static str,
        entry: String,
        store: String,
        why: String,
    },
}

pub type Result<T> = std::result::Result<T, KeyStoreError>;

/// An open key store: the OS keyring, or 0600 files in a directory.
pub struct KeyStore {
    backend: Backend,
}

enum Backend {
    Os {
        store: Arc<CredentialStore>,
        description: String,
        survives_reboot: bool,
    },
    Files {
        dir: PathBuf,
    },
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStore")
            .field("kind", &self.describe())
            .finish()
    }
}

impl KeyStore {
    /// The OS keyring; or, when none is usable and the user agreed (`file_fallback` =
    /// `Some(dir)`), 0600 files in `dir` (a 0700 directory, made if missing). A usable OS
    /// keyring is preferred even when a directory is given.
    pub fn open(file_fallback: Option<&Path>) -> Result<KeyStore> {
        match open_os() {
            Ok(backend) => Ok(KeyStore { backend }),
            Err(why) => match file_fallback {
                Some(dir) => KeyStore::files(dir),
                None => Err(KeyStoreError::Unavailable { why }),
            },
        }
    }

    /// 0600 files in `dir`, whatever the OS offers (for `--key-files`, and for tests).
    pub fn files(dir: &Path) -> Result<KeyStore> {
        let bad = |why: String| KeyStoreError::BadDirectory {
            dir: dir.to_path_buf(),
            why,
        };
        private_dir(dir).map_err(|e| bad(e.to_string()))?;
        let store = KeyStore {
            backend: Backend::Files {
                dir: dir.to_path_buf(),
            },
        };
        store.probe().map_err(bad)?;
        Ok(store)
    }

    /// Where keys go, for the user: "the Linux kernel keyring (…)", "files in DIR (mode 0600)".
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Os { description, .. } => description.clone(),
            Backend::Files { dir } => format!("files in {} (mode 0600)", dir.display()),
        }
    }

    /// False for the Linux kernel keyring: a reboot empties it.
    pub fn survives_reboot(&self) -> bool {
        match &self.backend {
            Backend::Os {
                survives_reboot, ..
            } => *survives_reboot,
            Backend::Files { .. } => true,
        }
    }

    /// Stores `secret` (not empty) as `<deployment>/<name>`, replacing what was there.
    pub fn put(&self, deployment: &str, name: &str, secret: &str) -> Result<()> {
        let user = entry_user(deployment, name)?;
        if secret.is_empty() {
            return Err(self.failed("store", &user, "the key is empty".into()));
        }
        match &self.backend {
            Backend::Os { store, .. } => {
                let entry = self.entry(store, &user, "store")?;
                entry
                    .set_password(secret)
                    .map_err(|e| self.failed("store", &user, store_error(&e)))
            }
            Backend::Files { dir } => {
                let deployment_dir = dir.join(deployment);
                private_dir(&deployment_dir)
                    .and_then(|()| {
                        write_private_file(&deployment_dir.join(name), secret.as_bytes(), true)
                    })
                    .map_err(|e| self.failed("store", &user, e.to_string()))
            }
        }
    }

    /// The secret stored as `<deployment>/<name>`, or `None` when there is none.
    pub fn get(&self, deployment: &str, name: &str) -> Result<Option<String>> {
        let user = entry_user(deployment, name)?;
        match &self.backend {
            Backend::Os { store, .. } => {
                let entry = self.entry(store, &user, "read")?;
                match entry.get_password() {
                    Ok(secret) => Ok(Some(secret)),
                    Err(keyring_core::Error::NoEntry) => Ok(None),
                    Err(e) => Err(self.failed("read", &user, store_error(&e))),
                }
            }
            Backend::Files { dir } => match std::fs::read(dir.join(deployment).join(name)) {
                Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| {
                    self.failed("read", &user, "the file does not hold UTF-8 text".into())
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(self.failed("read", &user, e.to_string())),
            },
        }
    }

    /// Removes `<deployment>/<name>`; false when it was not there.
    pub fn delete(&self, deployment: &str, name: &str) -> Result<bool> {
        let user = entry_user(deployment, name)?;
        match &self.backend {
            Backend::Os { store, .. } => {
                let entry = self.entry(store, &user, "delete")?;
                match entry.delete_credential() {
                    Ok(()) => {}
                    Err(keyring_core::Error::NoEntry) => return Ok(false),
                    Err(e) => return Err(self.failed("delete", &user, store_error(&e))),
                }
                // A caller that deletes and then looks must see it gone (see DELETE_SETTLE).
                let deadline = std::time::Instant::now() + DELETE_SETTLE;
                while entry.get_password().is_ok() {
                    if std::time::Instant::now() > deadline {
                        return Err(self.failed(
                            "delete",
                            &user,
                            "the key was still readable after it was deleted".into(),
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(true)
            }
            Backend::Files { dir } => {
                let deployment_dir = dir.join(deployment);
                match std::fs::remove_file(deployment_dir.join(name)) {
                    Ok(()) => {
                        // Tidy: the deployment's directory goes with its last key.
                        let _ = std::fs::remove_dir(&deployment_dir);
                        Ok(true)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                    Err(e) => Err(self.failed("delete", &user, e.to_string())),
                }
            }
        }
    }

    fn entry(
        &self,
        store: &Arc<CredentialStore>,
        user: &str,
        action: &'static str,
    ) -> Result<Entry> {
        settle_thread(store);
        Entry::new_in_store(store, SERVICE, user)
            .map_err(|e| self.failed(action, user, store_error(&e)))
    }

    fn failed(&self, action: &'static str, user: &str, why: String) -> KeyStoreError {
        KeyStoreError::Failed {
            action,
            entry: user.to_string(),
            store: self.describe(),
            why,
        }
    }

    /// Writes, reads back and deletes a probe entry: a store that cannot do all three is
    /// found now, not after a key was made and lost.
    fn probe(&self) -> std::result::Result<(), String> {
        let name = probe_name();
        let value = format!("probe {name}");
        // `.probe` cannot be a deployment name (names never start with a dot), so the probe
        // can never touch a real key.
        let deployment = ".probe";
        let result: std::result::Result<(), String> = (|| {
            self.put_unchecked(deployment, &name, &value)?;
            match self.get_unchecked(deployment, &name)? {
                Some(read) if read == value => {}
                Some(_) => {
                    return Err("a probe key read back different from what was written".into());
                }
                None => return Err("a probe key was written but could not be read back".into()),
            }
            Ok(())
        })();
        let deleted = self.delete_unchecked(deployment, &name);
        result?;
        deleted.map(|_| ())
    }

    fn put_unchecked(
        &self,
        deployment: &str,
        name: &str,
        secret: &str,
    ) -> std::result::Result<(), String> {
        match &self.backend {
            Backend::Os { store, .. } => os_entry(store, deployment, name)?
                .set_password(secret)
                .map_err(|e| format!("writing a probe key failed: {}", store_error(&e))),
            Backend::Files { dir } => {
                let d = dir.join(deployment);
                private_dir(&d)
                    .and_then(|()| write_private_file(&d.join(name), secret.as_bytes(), true))
                    .map_err(|e| format!("writing a probe file failed: {e}"))
            }
        }
    }

    fn get_unchecked(
        &self,
        deployment: &str,
        name: &str,
    ) -> std::result::Result<Option<String>, String> {
        match &self.backend {
            Backend::Os { store, .. } => match os_entry(store, deployment, name)?.get_password() {
                Ok(v) => Ok(Some(v)),
                Err(keyring_core::Error::NoEntry) => Ok(None),
                Err(e) => Err(format!("reading a probe key failed: {}", store_error(&e))),
            },
            Backend::Files { dir } => {
                match std::fs::read_to_string(dir.join(deployment).join(name)) {
                    Ok(v) => Ok(Some(v)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(format!("reading a probe file failed: {e}")),
                }
            }
        }
    }

    fn delete_unchecked(&self, deployment: &str, name: &str) -> std::result::Result<(), String> {
        match &self.backend {
            Backend::Os { store, .. } => {
                match os_entry(store, deployment, name)?.delete_credential() {
                    Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
                    Err(e) => Err(format!("deleting a probe key failed: {}", store_error(&e))),
                }
            }
            Backend::Files { dir } => {
                let d = dir.join(deployment);
                match std::fs::remove_file(d.join(name)) {
                    Ok(()) => {
                        let _ = std::fs::remove_dir(&d);
                        Ok(())
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(format!("deleting a probe file failed: {e}")),
                }
            }
        }
    }
}

fn os_entry(
    store: &Arc<CredentialStore>,
    deployment: &str,
    name: &str,
) -> std::result::Result<Entry, String> {
    settle_thread(store);
    Entry::new_in_store(store, SERVICE, &format!("{deployment}/{name}"))
        .map_err(|e| format!("the store refused an entry: {}", store_error(&e)))
}

/// Makes the calling thread's keyrings what the keyutils store expects before it builds a
/// real entry. Building an entry resolves the session keyring and then asks the kernel for the
/// persistent keyring, linked into "the session keyring". In a thread that has no session
/// keyring of its own (a headless process: SSH, CI, a service) the first step answers the
/// user-session keyring, but the second makes the kernel give the thread a new anonymous
/// session keyring, so the first entry a thread builds adds its key to a keyring the thread
/// no longer possesses, and linking that key into the persistent keyring is refused
/// (EACCES). A throwaway entry built first takes the thread through that change; every
/// entry after it resolves the thread's settled session keyring, which holds the persistent
/// keyring. Harmless where a login session keyring exists (nothing changes there), and a
/// no-op for the other platforms' stores.
fn settle_thread(store: &Arc<CredentialStore>) {
    #[cfg(target_os = "linux")]
    {
        thread_local! {
            static SETTLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
        if !SETTLED.with(std::cell::Cell::get) {
            let _ = Entry::new_in_store(store, SERVICE, ".probe/settle");
            SETTLED.with(|s| s.set(true));
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = store;
}

fn probe_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

/// Opens this platform's store and probes it, within [`PROBE_TIMEOUT`]. The reason it is not
/// usable otherwise.
fn open_os() -> std::result::Result<Backend, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    // The probe runs on its own thread so that a store that blocks (a locked keychain
    // waiting for a dialog) is abandoned after the timeout instead of hanging the caller.
    std::thread::Builder::new()
        .name("keyring-probe".into())
        .spawn(move || {
            let _ = tx.send(open_os_blocking());
        })
        .map_err(|e| format!("cannot start the keyring probe: {e}"))?;
    match rx.recv_timeout(PROBE_TIMEOUT) {
        Ok(result) => result,
        Err(_) => Err(format!(
            "{} did not answer within {} s (is it locked?)",
            platform_store_name(),
            PROBE_TIMEOUT.as_secs()
        )),
    }
}

fn open_os_blocking() -> std::result::Result<Backend, String> {
    let (store, description, survives_reboot) = platform_store()?;
    let store = KeyStore {
        backend: Backend::Os {
            store,
            description,
            survives_reboot,
        },
    };
    store
        .probe()
        .map_err(|e| format!("{}: {e}", platform_store_name()))?;
    Ok(store.backend)
}

#[cfg(target_os = "linux")]
fn platform_store_name() -> &'static str {
    "the Linux kernel keyring"
}

#[cfg(target_os = "macos")]
fn platform_store_name() -> &'static str {
    "the macOS login keychain"
}

#[cfg(target_os = "windows")]
fn platform_store_name() -> &'static str {
    "the Windows Credential Manager"
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn platform_store_name() -> &'static str {
    "an OS keyring"
}

#[cfg(target_os = "linux")]
fn platform_store() -> std::result::Result<(Arc<CredentialStore>, String, bool), String> {
    let store: Arc<CredentialStore> = linux_keyutils_keyring_store::Store::new()
        .map_err(|e| format!("{}: {}", platform_store_name(), store_error(&e)))?;
    // Whether the kernel gave the store a persistent keyring to link keys into decides
    // whether a key outlives the login session: tell the user which.
    let persistent = Entry::new_in_store(&store, SERVICE, ".probe/persistent")
        .ok()
        .and_then(|entry| {
            entry
                .as_any()
                .downcast_ref::<linux_keyutils_keyring_store::Cred>()
                .map(|cred| cred.persistent.is_some())
        })
        .unwrap_or(false);
    let description = if persistent {
        let expiry = std::fs::read_to_string("/proc/sys/kernel/keys/persistent_keyring_expiry")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        match expiry {
            Some(secs) => format!(
                "the Linux kernel keyring (kept across logins until the machine restarts or \
                 xwizard goes {} unused)",
                human_duration(secs)
            ),
            None => "the Linux kernel keyring (kept across logins until the machine restarts)"
                .to_string(),
        }
    } else {
        "the Linux kernel keyring (kept until you log out or the machine restarts)".to_string()
    };
    Ok((store, description, false))
}

#[cfg(target_os = "macos")]
fn platform_store() -> std::result::Result<(Arc<CredentialStore>, String, bool), String> {
    let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()
        .map_err(|e| format!("{}: {}", platform_store_name(), store_error(&e)))?;
    Ok((store, platform_store_name().to_string(), true))
}

#[cfg(target_os = "windows")]
fn platform_store() -> std::result::Result<(Arc<CredentialStore>, String, bool), String> {
    let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()
        .map_err(|e| format!("{}: {}", platform_store_name(), store_error(&e)))?;
    Ok((store, platform_store_name().to_string(), true))
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn platform_store() -> std::result::Result<(Arc<CredentialStore>, String, bool), String> {
    Err("xwizard knows no OS keyring on this platform".to_string())
}

#[cfg(target_os = "linux")]
fn human_duration(secs: u64) -> String {
    match secs {
        s if s >= 86_400 && s % 86_400 == 0 => plural(s / 86_400, "day"),
        s if s >= 3_600 && s % 3_600 == 0 => plural(s / 3_600, "hour"),
        s => plural(s, "second"),
    }
}

#[cfg(target_os = "linux")]
fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// A keyring-core error as text, without any secret bytes it may carry.
fn store_error(err: &keyring_core::Error) -> String {
    use keyring_core::Error as E;
    match err {
        // These two carry what was read; their Display does not print it, but say it plainly.
        E::BadEncoding(_) => "the stored value is not UTF-8 text".to_string(),
        E::BadDataFormat(_, _) => "the stored value is malformed".to_string(),
        E::NoStorageAccess(cause) => format!("access refused: {cause}"),
        E::PlatformFailure(cause) => cause.to_string(),
        other => other.to_string(),
    }
}

/// `<deployment>/<name>`, after checking both are plain names (they also name directories
/// and files of the fallback, so nothing that could climb out of it).
fn entry_user(deployment: &str, name: &str) -> Result<String> {
    check_name("deployment", deployment)?;
    check_name("key name", name)?;
    Ok(format!("{deployment}/{name}"))
}

fn check_name(what: &'static str, value: &str) -> Result<()> {
    let bad = |why| {
        Err(KeyStoreError::BadName {
            what,
            value: value.to_string(),
            why,
        })
    };
    if value.is_empty() {
        return bad("it is empty");
    }
    if value.len() > 128 {
        return bad("it is longer than 128 characters");
    }
    if value.starts_with('.') {
        return bad("it starts with a dot");
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return bad("only letters, digits, '-', '_' and '.' may be used");
    }
    Ok(())
}

/// Makes `dir` (and its parents) if missing, and makes sure `dir` itself is a directory only
/// its owner can enter (0700 on Unix).
fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        match std::fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let meta = std::fs::symlink_metadata(dir)?;
        if !meta.is_dir() {
            return Err(std::io::Error::other(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(std::io::Error::other(format!(
                "{} belongs to another user (uid {})",
                dir.display(),
                meta.uid()
            )));
        }
        if meta.mode() & 0o077 != 0 {
            // Ours, but others may look in: close it rather than refuse.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Writes `contents` to `path` as a file only its owner can read or write (0600 on Unix),
/// created with that mode from the start. Without `overwrite` an existing file is an error
/// (`AlreadyExists`); with it the file is replaced through a temporary file and a rename, so
/// no reader ever sees a partial file.
pub fn write_private_file(path: &Path, contents: &[u8], overwrite: bool) -> std::io::Result<()> {
    if !overwrite {
        let mut file = create_private(path)?;
        let written = file.write_all(contents).and_then(|()| file.sync_all());
        if written.is_err() {
            let _ = std::fs::remove_file(path);
        }
        return written;
    }
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("{} names no file", path.display())))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp-{}", probe_name()));
    let tmp = path.with_file_name(tmp_name);
    let written = (|| {
        let mut file = create_private(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        // The umask can only take bits away from 0600; set it exactly all the same, so the
        // owner can always read back what was written.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        options.open(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_leave_the_directory_are_refused() {
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", ".hidden", "a b", "ü"] {
            assert!(
                matches!(entry_user(bad, "ok"), Err(KeyStoreError::BadName { .. })),
                "deployment {bad:?} was accepted"
            );
            assert!(
                matches!(entry_user("ok", bad), Err(KeyStoreError::BadName { .. })),
                "name {bad:?} was accepted"
            );
        }
        assert_eq!(entry_user("demo-1", "ca.key").unwrap(), "demo-1/ca.key");
    }

    #[test]
    fn unavailable_says_what_to_do() {
        let text = KeyStoreError::Unavailable {
            why: "the Linux kernel keyring: access refused".into(),
        }
        .to_string();
        assert!(text.contains("no OS keyring is usable here"), "{text}");
        assert!(text.contains("access refused"), "{text}");
        assert!(text.contains("--key-files"), "{text}");
        assert!(text.contains("0600"), "{text}");
    }

    #[test]
    fn store_errors_never_carry_the_bytes_read() {
        let secret = "-----BEGIN PRIVATE KEY-----SECRETBYTES";
        let err = keyring_core::Error::BadEncoding(secret.as_bytes().to_vec());
        let text = store_error(&err);
        assert!(!text.contains("SECRETBYTES"), "{text}");
    }
}
