//! Backups: `casework backup FILE` and `casework restore FILE`.
//!
//! A backup is one tar file: a consistent copy of the database taken while
//! the service runs (SQLite: `VACUUM INTO`; PostgreSQL: `pg_dump` on a
//! snapshot exported by a transaction that also reads the chain's head),
//! the signed checkpoints up to that head, and the keys kept in the data
//! directory. The checkpoints are read after the copy and cut at its head,
//! so that every one of them is reached by the copied chain, and the copy's
//! record of the last checkpoint made never passes the file.
//!
//! `restore` goes into an empty data directory (and, on PostgreSQL, an empty
//! database), then checks the whole chain and every checkpoint against it.

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
};

use anyhow::{Context, bail, ensure};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde::{Deserialize, Serialize};

use crate::{
    audit::{
        Verification,
        checkpoint::{Checkpoint, Checkpoints},
    },
    config::Settings,
    db,
};

/// The entries of a backup; nothing else is read from one.
const MANIFEST: &str = "casework-backup.json";
const SQLITE_COPY: &str = "casework.db";
const POSTGRES_DUMP: &str = "casework.pgdump";
const CHECKPOINTS: &str = "audit-checkpoints.jsonl";
const SIGNING_KEY: &str = "signing.key";
const CHECKPOINT_KEY: &str = "checkpoint.key";

const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    /// `sqlite` or `postgres`.
    database: String,
    created_at: String,
    /// The audit chain's last `seq` in the copy (0 when empty).
    head_seq: i64,
    checkpoints: usize,
    files: Vec<String>,
}

/// What a backup or a restore did, for the command to print.
pub struct Report {
    pub database: &'static str,
    pub head_seq: i64,
    pub checkpoints: usize,
    pub files: Vec<String>,
    pub notes: Vec<String>,
    /// After a restore: the events of the chain checked in full.
    pub events: Option<i64>,
}

fn is_postgres(settings: &Settings) -> bool {
    let url = settings.effective_database_url();
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Writes a backup of the running (or stopped) service to `out`, which must
/// not exist yet. The file appears only once complete.
pub async fn backup(settings: &Settings, out: &Path) -> anyhow::Result<Report> {
    ensure!(
        !out.exists(),
        "`{}` exists already; a backup never overwrites a file",
        out.display()
    );
    let partial = with_suffix(out, ".partial");
    let work = with_suffix(out, ".partial-db");
    let _ = std::fs::remove_file(&partial);
    let _ = std::fs::remove_file(&work);
    let result = write_backup(settings, out, &partial, &work).await;
    let _ = std::fs::remove_file(&work);
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

async fn write_backup(
    settings: &Settings,
    out: &Path,
    partial: &Path,
    work: &Path,
) -> anyhow::Result<Report> {
    // The database first, with the chain's head as the copy holds it.
    let (database, entry, head_seq) = if is_postgres(settings) {
        let head = pg_dump(settings, work).await?;
        ("postgres", POSTGRES_DUMP, head)
    } else {
        let file = db::sqlite_file(settings).context("the database is not a SQLite file")?;
        ensure!(
            file.is_file(),
            "no database at `{}` (setting `data_dir` or `database_url`)",
            file.display()
        );
        let copy = work.to_owned();
        let head = tokio::task::spawn_blocking(move || sqlite_copy(&file, &copy)).await??;
        ("sqlite", SQLITE_COPY, head)
    };
    // Then the checkpoints, cut at that head.
    let checkpoints = read_checkpoints(&settings.data_dir.join(CHECKPOINTS))?
        .into_iter()
        .take_while(|(c, _)| c.seq <= head_seq)
        .map(|(_, line)| line)
        .collect::<Vec<_>>();
    let mut notes = Vec::new();
    let mut keys = Vec::new();
    if settings.signing_key.trim().is_empty() {
        keys.push((SIGNING_KEY, settings.data_dir.join(SIGNING_KEY)));
    } else {
        notes.push(
            "the token signing key is a setting (`signing_key`): keep it with the configuration"
                .to_owned(),
        );
    }
    match settings.audit_checkpoint_key.trim() {
        "" => keys.push((CHECKPOINT_KEY, settings.data_dir.join(CHECKPOINT_KEY))),
        path => notes.push(format!(
            "the checkpoint key is kept at `{path}` (setting `audit_checkpoint_key`) and is not \
             in the backup: restore it there before `casework restore`"
        )),
    }
    keys.retain(|(_, path)| path.is_file());

    let mut files = vec![entry.to_owned()];
    if !checkpoints.is_empty() {
        files.push(CHECKPOINTS.to_owned());
    }
    files.extend(keys.iter().map(|(name, _)| (*name).to_owned()));
    let manifest = Manifest {
        format: FORMAT,
        database: database.to_owned(),
        created_at: crate::audit::format_time(chrono::Utc::now()),
        head_seq,
        checkpoints: checkpoints.len(),
        files: files.clone(),
    };
    let f = std::fs::File::create(partial)
        .with_context(|| format!("cannot write `{}`", partial.display()))?;
    let mut tar = tar::Builder::new(f);
    append_bytes(&mut tar, MANIFEST, &serde_json::to_vec_pretty(&manifest)?)?;
    tar.append_path_with_name(work, entry)
        .context("cannot add the database copy")?;
    if !checkpoints.is_empty() {
        append_bytes(&mut tar, CHECKPOINTS, checkpoints.concat().as_bytes())?;
    }
    for (name, path) in &keys {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
        append_bytes(&mut tar, name, &bytes)?;
    }
    let f = tar.into_inner().context("cannot finish the backup")?;
    f.sync_all().context("cannot flush the backup")?;
    drop(f);
    std::fs::rename(partial, out).with_context(|| format!("cannot write `{}`", out.display()))?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(Report {
        database,
        head_seq,
        checkpoints: checkpoints.len(),
        files,
        notes,
        events: None,
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn append_bytes<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    bytes: &[u8],
) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(chrono::Utc::now().timestamp().max(0) as u64);
    header.set_cksum();
    tar.append_data(&mut header, name, bytes)
        .with_context(|| format!("cannot add `{name}` to the backup"))
}

/// The checkpoint file's lines, each with the checkpoint it holds, oldest
/// first; none when there is no file yet.
fn read_checkpoints(path: &Path) -> anyhow::Result<Vec<(Checkpoint, String)>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    };
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let c: Checkpoint = serde_json::from_str(line).with_context(|| {
            format!("`{}` holds a line that is not a checkpoint", path.display())
        })?;
        out.push((c, format!("{line}\n")));
    }
    Ok(out)
}

/// SQLite: `VACUUM INTO` copies the database as one read transaction sees
/// it, while writers go on; then the copy's chain head.
fn sqlite_copy(file: &Path, copy: &Path) -> anyhow::Result<i64> {
    use rusqlite::OpenFlags;
    let c = rusqlite::Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open `{}`", file.display()))?;
    c.busy_timeout(std::time::Duration::from_secs(30))?;
    c.execute("VACUUM INTO ?1", [copy.to_string_lossy().as_ref()])
        .context("cannot copy the database (VACUUM INTO)")?;
    drop(c);
    let copied = rusqlite::Connection::open_with_flags(copy, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let head: Option<i64> =
        copied.query_row("SELECT MAX(seq) FROM audit_event", [], |r| r.get(0))?;
    Ok(head.unwrap_or(0))
}

/// PostgreSQL: a read-only repeatable-read transaction exports its snapshot
/// and reads the chain's head in it; `pg_dump` dumps that same snapshot
/// while the transaction stays open.
async fn pg_dump(settings: &Settings, out: &Path) -> anyhow::Result<i64> {
    let url = settings.effective_database_url();
    let conn = db::connect_url(&url, settings.sqlite_synchronous).await?;
    let txn = conn
        .begin_with_config(
            Some(sea_orm::IsolationLevel::RepeatableRead),
            Some(sea_orm::AccessMode::ReadOnly),
        )
        .await?;
    let row = txn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_export_snapshot() AS snapshot, \
             (SELECT COALESCE(MAX(seq), 0) FROM audit_event) AS head",
        ))
        .await?
        .context("no snapshot")?;
    let snapshot: String = row.try_get("", "snapshot")?;
    let head: i64 = row.try_get("", "head")?;
    let out = out.to_owned();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("pg_dump")
            .arg("--format=custom")
            .arg("--no-owner")
            .arg("--no-privileges")
            .arg(format!("--snapshot={snapshot}"))
            .arg(format!("--file={}", out.display()))
            .arg(format!("--dbname={url}"))
            .status()
    })
    .await?
    .context("cannot run `pg_dump` (PostgreSQL's client programs must be installed)")?;
    txn.commit().await?;
    ensure!(status.success(), "`pg_dump` failed ({status})");
    Ok(head)
}

/// Restores `file` into an empty data directory (and, on PostgreSQL, an
/// empty database), then verifies the whole audit chain and every
/// checkpoint against it.
pub async fn restore(settings: &Settings, file: &Path) -> anyhow::Result<Report> {
    let postgres = is_postgres(settings);
    let dir = &settings.data_dir;
    let empty = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", dir.display())),
    };
    ensure!(
        empty,
        "the data directory `{}` is not empty: restore goes into an empty one (setting `data_dir`)",
        dir.display()
    );
    let sqlite_target = if postgres {
        None
    } else {
        let target = db::sqlite_file(settings).context("the database is not a SQLite file")?;
        ensure!(
            !target.exists(),
            "`{}` exists already: restore goes into an empty data directory",
            target.display()
        );
        Some(target)
    };
    if postgres {
        let conn = db::connect_url(
            &settings.effective_database_url(),
            settings.sqlite_synchronous,
        )
        .await?;
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()",
            ))
            .await?
            .context("cannot read the database's tables")?;
        let n: i64 = row.try_get("", "n")?;
        ensure!(
            n == 0,
            "the database (setting `database_url`) has tables: restore goes into an empty database"
        );
        conn.close().await?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;

    let mut archive = tar::Archive::new(
        std::fs::File::open(file).with_context(|| format!("cannot open `{}`", file.display()))?,
    );
    let mut manifest: Option<Manifest> = None;
    let mut notes = Vec::new();
    let mut files = Vec::new();
    let dump = dir.join(".restore.pgdump");
    for entry in archive.entries().context("not a Casework backup")? {
        let mut entry = entry.context("the backup is damaged")?;
        let name = entry.path()?.to_string_lossy().into_owned();
        if name == MANIFEST {
            let mut text = String::new();
            entry.read_to_string(&mut text)?;
            let m: Manifest = serde_json::from_str(&text).context("not a Casework backup")?;
            ensure!(
                m.format == FORMAT,
                "a backup of format {} cannot be restored by this version",
                m.format
            );
            let wanted = if postgres { "postgres" } else { "sqlite" };
            ensure!(
                m.database == wanted,
                "this is a backup of a {} database; the settings name a {wanted} one",
                m.database
            );
            manifest = Some(m);
            continue;
        }
        ensure!(
            manifest.is_some(),
            "not a Casework backup (no manifest first)"
        );
        let target = match name.as_str() {
            SQLITE_COPY if !postgres => sqlite_target.clone().context("no SQLite file")?,
            POSTGRES_DUMP if postgres => dump.clone(),
            CHECKPOINTS => dir.join(CHECKPOINTS),
            SIGNING_KEY if settings.signing_key.trim().is_empty() => dir.join(SIGNING_KEY),
            CHECKPOINT_KEY if settings.audit_checkpoint_key.trim().is_empty() => {
                dir.join(CHECKPOINT_KEY)
            }
            SIGNING_KEY | CHECKPOINT_KEY => {
                notes.push(format!(
                    "`{name}` was not restored: its setting names another key"
                ));
                continue;
            }
            other => bail!("the backup holds `{other}`, which no Casework backup holds"),
        };
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = private_file(&target)?;
        std::io::copy(&mut entry, &mut out)
            .with_context(|| format!("cannot write `{}`", target.display()))?;
        out.sync_all()?;
        files.push(name);
    }
    let manifest = manifest.context("not a Casework backup (no manifest)")?;
    if postgres {
        ensure!(
            files.iter().any(|f| f == POSTGRES_DUMP),
            "the backup holds no database"
        );
        let url = settings.effective_database_url();
        let from = dump.clone();
        let status = tokio::task::spawn_blocking(move || {
            std::process::Command::new("pg_restore")
                .arg("--no-owner")
                .arg("--no-privileges")
                .arg("--exit-on-error")
                .arg(format!("--dbname={url}"))
                .arg(&from)
                .status()
        })
        .await?
        .context("cannot run `pg_restore` (PostgreSQL's client programs must be installed)")?;
        let _ = std::fs::remove_file(&dump);
        ensure!(status.success(), "`pg_restore` failed ({status})");
    } else {
        ensure!(
            files.iter().any(|f| f == SQLITE_COPY),
            "the backup holds no database"
        );
    }

    // The restored chain, checked in full against the restored checkpoints.
    let key = match settings.audit_checkpoint_key.trim() {
        "" => dir.join(CHECKPOINT_KEY),
        path => PathBuf::from(path),
    };
    ensure!(
        key.is_file() || manifest.checkpoints == 0,
        "the checkpoint key `{}` is missing: put it back (it is not in the backup when it is kept \
         outside the data directory), then run `casework audit verify`",
        key.display()
    );
    let conn = db::connect(settings).await?;
    let checkpoints = Checkpoints::open(settings)?;
    let events = match checkpoints.verify(&conn, true).await? {
        Verification::Intact { events } => events,
        Verification::Broken { seq, reason, .. } => {
            bail!("restored, but the audit chain does not verify at seq {seq}: {reason}")
        }
    };
    conn.close().await?;
    Ok(Report {
        database: if postgres { "postgres" } else { "sqlite" },
        head_seq: manifest.head_seq,
        checkpoints: manifest.checkpoints,
        files,
        notes,
        events: Some(events as i64),
    })
}

/// A new file only its owner may read (keys, and a database of notes).
fn private_file(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .with_context(|| format!("cannot create `{}`", path.display()))
}
