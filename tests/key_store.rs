//! Where private keys are kept: this machine's real OS keyring (on Linux the kernel keyring),
//! and the 0600-file fallback.

use std::path::Path;

use xwizard::keys::{KeyStore, KeyStoreError};

/// A deployment name no other test run uses, so runs never meet in the shared keyring.
fn deployment() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

const SECRET: &str = "-----BEGIN PRIVATE KEY-----\nTOPSECRETMATERIAL\n-----END PRIVATE KEY-----\n";

fn round_trip(store: &KeyStore) {
    let d = deployment();
    assert_eq!(store.get(&d, "ca").unwrap(), None);
    store.put(&d, "ca", SECRET).unwrap();
    assert_eq!(store.get(&d, "ca").unwrap().as_deref(), Some(SECRET));
    // Replacing a key keeps one entry with the new value.
    store.put(&d, "ca", "second value").unwrap();
    assert_eq!(
        store.get(&d, "ca").unwrap().as_deref(),
        Some("second value")
    );
    // Entries are per deployment and name.
    store.put(&d, "client", "client value").unwrap();
    assert_eq!(
        store.get(&d, "ca").unwrap().as_deref(),
        Some("second value")
    );
    assert!(store.delete(&d, "ca").unwrap());
    assert_eq!(store.get(&d, "ca").unwrap(), None);
    assert!(
        !store.delete(&d, "ca").unwrap(),
        "a second delete finds nothing"
    );
    assert_eq!(
        store.get(&d, "client").unwrap().as_deref(),
        Some("client value")
    );
    assert!(store.delete(&d, "client").unwrap());
}

#[test]
fn keys_round_trip_through_this_machines_os_keyring() {
    match KeyStore::open(None) {
        Ok(store) => {
            let described = store.describe();
            eprintln!("keys are kept in {described}");
            if cfg!(target_os = "linux") {
                assert!(
                    described.starts_with("the Linux kernel keyring"),
                    "{described}"
                );
                assert!(!store.survives_reboot());
            }
            round_trip(&store);
        }
        Err(KeyStoreError::Unavailable { why }) => {
            eprintln!(
                "SKIPPED the OS keyring: it is not usable here ({why}); testing the file fallback"
            );
            let dir = tempfile::tempdir().unwrap();
            let keys = dir.path().join("keys");
            let store = KeyStore::open(Some(&keys)).unwrap();
            assert!(
                store.describe().starts_with("files in "),
                "{}",
                store.describe()
            );
            round_trip(&store);
        }
        Err(other) => panic!("unexpected error opening the OS keyring: {other}"),
    }
}

#[test]
fn a_usable_os_keyring_is_preferred_to_the_file_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let store = KeyStore::open(Some(&keys)).unwrap();
    if KeyStore::open(None).is_ok() {
        assert!(
            !store.describe().starts_with("files"),
            "{}",
            store.describe()
        );
    } else {
        assert!(
            store.describe().starts_with("files"),
            "{}",
            store.describe()
        );
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_file_fallback_keeps_0600_files_in_0700_directories() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("state").join("keys");
    let store = KeyStore::files(&keys).unwrap();
    assert_eq!(
        store.describe(),
        format!("files in {} (mode 0600)", keys.display())
    );
    assert!(store.survives_reboot());
    let d = deployment();
    store.put(&d, "ca", SECRET).unwrap();
    let file = keys.join(&d).join("ca");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), SECRET);
    #[cfg(unix)]
    {
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&keys.join(&d)), 0o700);
        assert_eq!(mode(&keys), 0o700);
    }
    // Replaced through a rename: still 0600, no temporary file left.
    store.put(&d, "ca", "new").unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);
    let names: Vec<_> = std::fs::read_dir(keys.join(&d))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["ca".to_string()]);
    // The probe left nothing behind.
    let top: Vec<_> = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(top, vec![d.clone()]);
    round_trip(&store);
}

#[cfg(unix)]
#[test]
fn a_fallback_directory_others_can_read_is_closed_first() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o755)).unwrap();
    let _store = KeyStore::files(&keys).unwrap();
    assert_eq!(mode(&keys), 0o700);
}

#[test]
fn a_fallback_that_is_not_a_directory_is_refused_with_where() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys");
    std::fs::write(&file, "not a directory").unwrap();
    let err = KeyStore::files(&file).unwrap_err();
    assert!(matches!(err, KeyStoreError::BadDirectory { .. }), "{err}");
    assert!(
        err.to_string().contains(&file.display().to_string()),
        "{err}"
    );
}

#[test]
fn the_secret_never_shows_in_debug_display_or_errors() {
    let dir = tempfile::tempdir().unwrap();
    let stores = [
        KeyStore::files(&dir.path().join("keys")).unwrap(),
        KeyStore::open(Some(&dir.path().join("fallback"))).unwrap(),
    ];
    for store in &stores {
        let d = deployment();
        store.put(&d, "ca", SECRET).unwrap();
        let shown = format!("{store:?} {}", store.describe());
        assert!(!shown.contains("TOPSECRET"), "{shown}");
        // Errors name the entry, never the value.
        let err = store.put("bad/name", "ca", SECRET).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("TOPSECRET"), "{err:?}");
        let err = store.put(&d, "", SECRET).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("TOPSECRET"), "{err:?}");
        store.delete(&d, "ca").unwrap();
    }
    // A file that is not text: the error says so without echoing it.
    let store = &stores[0];
    let d = deployment();
    store.put(&d, "k", "x").unwrap();
    let mut bytes = b"TOPSECRET".to_vec();
    bytes.push(0xff);
    std::fs::write(dir.path().join("keys").join(&d).join("k"), bytes).unwrap();
    let err = store.get(&d, "k").unwrap_err();
    assert!(err.to_string().contains("not hold UTF-8"), "{err}");
    assert!(!format!("{err} {err:?}").contains("TOPSECRET"), "{err:?}");
}

#[test]
fn names_that_could_escape_the_store_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::files(&dir.path().join("keys")).unwrap();
    for (deployment, name) in [
        ("..", "x"),
        ("ok", "../x"),
        ("a/b", "x"),
        ("ok", ""),
        (".probe", "x"),
    ] {
        let err = store.put(deployment, name, "v").unwrap_err();
        assert!(matches!(err, KeyStoreError::BadName { .. }), "{err}");
    }
}

/// A key stored by one process is read by the next: what `xwizard cert` relies on after the
/// run that made the CA has ended. The test runs itself again as that second process.
#[test]
fn a_key_outlives_the_process_that_stored_it() {
    const CHILD: &str = "XWIZARD_TEST_KEY_CHILD";
    if let Ok(d) = std::env::var(CHILD) {
        let store = KeyStore::open(None).unwrap();
        let value = store.get(&d, "ca").unwrap();
        println!("child read: {value:?}");
        store.delete(&d, "ca").unwrap();
        return;
    }
    let Ok(store) = KeyStore::open(None) else {
        eprintln!(
            "SKIPPED: no OS keyring is usable here; the file fallback outlives processes by construction"
        );
        return;
    };
    let d = deployment();
    store.put(&d, "ca", "kept for the next process").unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_key_outlives_the_process_that_stored_it",
            "--nocapture",
        ])
        .env(CHILD, &d)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("child read: Some(\"kept for the next process\")"),
        "{stdout}"
    );
    // The child deleted it.
    assert_eq!(store.get(&d, "ca").unwrap(), None);
}
