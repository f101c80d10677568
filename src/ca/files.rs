//! Writing a client's certificate, key and CA bundle to a directory the user named
//! (`xwizard cert NAME --out DIR`): the only place a private key leaves the keyring.

use std::path::{Path, PathBuf};

use super::CaError;

/// Writes `<name>.pem` (the client certificate), `<name>.key` (its private key, created mode
/// 0600 from the start, so never readable by others even for a moment) and `ca.pem` (the CA
/// certificate) in `dir`, making `dir` (mode 0700) if it is missing. Without `overwrite`, an
/// existing file is refused before anything is written (a `ca.pem` that already holds the same
/// certificate is left as it is). The paths, in that order.
pub fn write_client_files(
    dir: &Path,
    name: &str,
    cert_pem: &str,
    key_pem: &str,
    ca_pem: &str,
    overwrite: bool,
) -> Result<Vec<PathBuf>, CaError> {
    check_file_name(name)?;
    let cert_path = dir.join(format!("{name}.pem"));
    let key_path = dir.join(format!("{name}.key"));
    let ca_path = dir.join("ca.pem");
    let write_err = |path: &Path, e: std::io::Error| CaError::Write {
        path: path.to_path_buf(),
        why: e.to_string(),
    };
    make_dir(dir).map_err(|e| write_err(dir, e))?;
    let ca_same = std::fs::read_to_string(&ca_path).is_ok_and(|old| old == ca_pem);
    if !overwrite {
        let taken: Vec<String> = [&cert_path, &key_path]
            .into_iter()
            .chain((!ca_same).then_some(&ca_path))
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .map(|p| p.display().to_string())
            .collect();
        if !taken.is_empty() {
            return Err(CaError::Write {
                path: dir.to_path_buf(),
                why: format!(
                    "{} already exist{}; choose another directory or name, or allow \
                     overwriting (--overwrite)",
                    taken.join(", "),
                    if taken.len() == 1 { "s" } else { "" }
                ),
            });
        }
    }
    // The key first: if it cannot be written, no certificate is left without its key.
    crate::keys::write_private_file(&key_path, key_pem.as_bytes(), overwrite)
        .map_err(|e| write_err(&key_path, e))?;
    write_public(&cert_path, cert_pem, overwrite).map_err(|e| write_err(&cert_path, e))?;
    if !ca_same {
        write_public(&ca_path, ca_pem, overwrite).map_err(|e| write_err(&ca_path, e))?;
    }
    Ok(vec![cert_path, key_path, ca_path])
}

fn check_file_name(name: &str) -> Result<(), CaError> {
    let bad = |why: &str| CaError::Write {
        path: PathBuf::from(name),
        why: format!("{name:?} cannot name the client's files: {why}"),
    };
    if name.is_empty() || name.starts_with('.') {
        return Err(bad("it is empty or starts with a dot"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(bad("only letters, digits, '-', '_' and '.' may be used"));
    }
    if name == "ca" {
        return Err(bad("ca.pem is the CA certificate's file"));
    }
    Ok(())
}

fn make_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// A certificate: public, written whole (a temporary file renamed over the target).
fn write_public(path: &Path, text: &str, overwrite: bool) -> std::io::Result<()> {
    use std::io::Write;
    if !overwrite {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        return file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all());
    }
    let tmp = path.with_extension(format!("pem.tmp-{}", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
