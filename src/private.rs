//! The data directory holds case notes (the SQLite database and its
//! journal), the signing keys and the audit checkpoints: nobody but the
//! service's own account may read it, whatever the umask. Folders are 0700
//! and files 0600; files the service creates get those modes from the
//! process's umask, set first thing, and anything found broader at start is
//! narrowed with a warning that names the path (never a record).

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Makes every file and folder the process creates from now on private to
/// its account (umask 077): SQLite's `-wal` and `-shm` included.
pub fn private_umask() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file creation mask; it cannot
    // fail and touches no memory.
    unsafe {
        libc::umask(0o077);
    }
}

/// The files the service keeps in the data directory.
pub const DATA_FILES: &[&str] = &[
    "casework.db",
    "casework.db-wal",
    "casework.db-shm",
    "casework.db-journal",
    "signing.key",
    "checkpoint.key",
    "audit-checkpoints.jsonl",
];

/// Creates `dir` if needed and narrows it to 0700 and the service's own
/// files in it ([`DATA_FILES`]) to 0600; nothing else in it is touched (a
/// data directory pointed at a shared folder by mistake stays as it was).
/// Returns the paths that were broader.
pub fn secure_dir(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create data_dir `{}`", dir.display()))?;
    let mut narrowed = Vec::new();
    narrow(dir, 0o700, &mut narrowed)?;
    for name in DATA_FILES {
        let path = dir.join(name);
        if path.exists() {
            narrow(&path, 0o600, &mut narrowed)?;
        }
    }
    for path in &narrowed {
        tracing::warn!(
            path = %path.display(),
            "a data file or folder was open to other accounts; narrowed to 0600 (files) or 0700 (the folder)"
        );
    }
    Ok(narrowed)
}

#[cfg(unix)]
fn narrow(path: &Path, want: u32, narrowed: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & !want != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & want))
            .with_context(|| format!("cannot narrow the mode of `{}`", path.display()))?;
        narrowed.push(path.to_owned());
    }
    Ok(())
}

#[cfg(not(unix))]
fn narrow(_: &Path, _: u32, _: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    Ok(())
}
