//! Signed checkpoints: the end of the chain, recorded outside the database.
//!
//! The hash chain shows an edited or deleted row *inside* the chain, but not
//! that its newest rows were cut off. So the head of the chain (its last
//! `seq` and `hash`) is signed with a key that is not in the database
//! (Ed25519, at `audit_checkpoint_key`, by default `data_dir/checkpoint.key`;
//! docs/operations.md recommends a path outside the data directory, owned by
//! another account) and appended to an append-only file beside the database
//! (`data_dir/audit-checkpoints.jsonl`), at least every 10,000 events and
//! every minute, and, where configured, sent to a syslog collector and to an
//! HTTP endpoint. Each checkpoint also signs the previous one's signature
//! (`prev`), so the checkpoints form a chain of their own, and the database
//! keeps a mark of the last one made, so a missing or shortened file stops
//! the start. A routine verify walks only what came after the last
//! checkpoint and checks its signature alone; the service refuses to start
//! on a chain that no longer reaches it; a receipt (a signed head an auditor
//! kept) proves that nothing up to it was removed or changed.

use std::{
    io::{BufRead, Write},
    net::UdpSocket,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{GENESIS, Verification, walk};
use crate::config::Settings;
use entities::{audit_checkpoint_mark, audit_event};

/// A checkpoint is written after this many events at the latest...
pub const EVERY_EVENTS: i64 = 10_000;
/// ...and after this long, when anything was written meanwhile.
pub const EVERY: Duration = Duration::from_secs(60);

/// The signed head of the chain at a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub at: String,
    /// Hex Ed25519 signature over [`Checkpoint::message`].
    pub signature: String,
    /// Hex Ed25519 public key that verifies it.
    pub public_key: String,
    /// The previous checkpoint's signature, signed with this one (absent on
    /// the first, and on checkpoints made before they were chained).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

impl Checkpoint {
    fn message(seq: i64, hash: &str, at: &str, prev: Option<&str>) -> String {
        match prev {
            Some(prev) => format!("casework audit checkpoint v2\n{seq}\n{hash}\n{at}\n{prev}"),
            None => format!("casework audit checkpoint v1\n{seq}\n{hash}\n{at}"),
        }
    }

    /// Whether the signature holds under `key` (the deployment's own).
    pub fn signed_by(&self, key: &VerifyingKey) -> bool {
        let (Ok(sig), Ok(pk)) = (hex::decode(&self.signature), hex::decode(&self.public_key))
        else {
            return false;
        };
        let Ok(sig) = Signature::from_slice(&sig) else {
            return false;
        };
        pk == key.as_bytes()
            && key
                .verify(
                    Self::message(self.seq, &self.hash, &self.at, self.prev.as_deref()).as_bytes(),
                    &sig,
                )
                .is_ok()
    }
}

/// Signs and keeps checkpoints for one deployment.
pub struct Checkpoints {
    key: SigningKey,
    path: PathBuf,
    syslog: Option<String>,
    /// The HTTP endpoint and the client that posts to it.
    sink: Option<(String, reqwest::Client)>,
    lock: tokio::sync::Mutex<()>,
}

impl Checkpoints {
    pub fn open(settings: &Settings) -> anyhow::Result<Checkpoints> {
        let key_path = match settings.audit_checkpoint_key.trim() {
            "" => settings.data_dir.join("checkpoint.key"),
            path => PathBuf::from(path),
        };
        let secret = crate::credentials::load_or_create_key(&key_path).with_context(|| {
            format!(
                "checkpoint key `{}` (setting `audit_checkpoint_key`)",
                key_path.display()
            )
        })?;
        let seed: [u8; 32] = secret[..32].try_into().context("checkpoint key length")?;
        Ok(Checkpoints {
            key: SigningKey::from_bytes(&seed),
            path: settings.data_dir.join("audit-checkpoints.jsonl"),
            syslog: Some(settings.audit_syslog.trim().to_owned()).filter(|s| !s.is_empty()),
            sink: match settings.audit_checkpoint_url.trim() {
                "" => None,
                url => Some((
                    url.to_owned(),
                    reqwest::Client::builder()
                        .timeout(SINK_TIMEOUT)
                        .build()
                        .context("cannot build the checkpoint sink's HTTP client")?,
                )),
            },
            lock: tokio::sync::Mutex::new(()),
        })
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every checkpoint in the file, oldest first.
    pub fn all(&self) -> anyhow::Result<Vec<Checkpoint>> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).context("cannot read the checkpoint file"),
        };
        std::io::BufReader::new(file)
            .lines()
            .map(|l| {
                let l = l.context("cannot read the checkpoint file")?;
                serde_json::from_str(&l).context("a checkpoint line is not a checkpoint")
            })
            .collect()
    }

    /// The newest checkpoint: only the file's tail is read.
    pub fn last(&self) -> anyhow::Result<Option<Checkpoint>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).context("cannot read the checkpoint file"),
        };
        let len = file
            .metadata()
            .context("cannot read the checkpoint file")?
            .len();
        // A line is well under 1 KiB; read enough for the last whole one.
        let from = len.saturating_sub(4096);
        file.seek(SeekFrom::Start(from))
            .context("cannot read the checkpoint file")?;
        let mut tail = String::new();
        file.read_to_string(&mut tail)
            .context("cannot read the checkpoint file")?;
        match tail.lines().rev().find(|l| !l.trim().is_empty()) {
            None => Ok(None),
            Some(line) => Ok(Some(
                serde_json::from_str(line).context("a checkpoint line is not a checkpoint")?,
            )),
        }
    }

    /// Signs the chain's head at `now` (the service's clock) and appends it,
    /// unless the last checkpoint already holds it. Returns the checkpoint in
    /// force.
    pub async fn write(
        &self,
        db: &impl ConnectionTrait,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<Option<Checkpoint>> {
        let _one_at_a_time = self.lock.lock().await;
        let Some((seq, hash)) = head(db).await? else {
            return Ok(None);
        };
        let last = self.last()?;
        if let Some(l) = last.as_ref().filter(|l| l.seq >= seq) {
            return Ok(Some(l.clone()));
        }
        let at = super::format_time(now);
        let prev = last.map(|l| l.signature);
        let signature = self
            .key
            .sign(Checkpoint::message(seq, &hash, &at, prev.as_deref()).as_bytes());
        let cp = Checkpoint {
            seq,
            hash,
            at,
            signature: hex::encode(signature.to_bytes()),
            public_key: hex::encode(self.key.verifying_key().as_bytes()),
            prev,
        };
        let line = serde_json::to_string(&cp)?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .context("cannot open the checkpoint file")?;
        writeln!(f, "{line}").context("cannot write the checkpoint file")?;
        f.sync_all().context("cannot sync the checkpoint file")?;
        // The database keeps where the file must reach: a file that goes
        // missing or shorter later stops the start.
        mark(db, seq, &cp.public_key, &cp.at).await?;
        if let Some(target) = &self.syslog {
            send_syslog(target, &line, &cp.at);
        }
        if let Some((url, client)) = &self.sink {
            post(client.clone(), url.clone(), cp.clone());
        }
        Ok(Some(cp))
    }

    /// Writes a checkpoint every [`EVERY_EVENTS`] events and every [`EVERY`]
    /// while events are written, until the process ends; each is signed at
    /// the time `clock` reads.
    pub fn spawn(self: Arc<Self>, db: sea_orm::DatabaseConnection, clock: crate::clock::Clock) {
        tokio::spawn(crate::db::as_background(async move {
            let mut since = Instant::now();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let Ok(Some((seq, _))) = head(&db).await else {
                    continue;
                };
                let last = self.last().ok().flatten();
                let done = last.as_ref().map_or(0, |c| c.seq);
                let mut in_force = last.map(|c| c.at);
                if seq - done >= EVERY_EVENTS || (seq > done && since.elapsed() >= EVERY) {
                    match self.write(&db, clock.now()).await {
                        Ok(cp) => {
                            since = Instant::now();
                            in_force = cp.map(|c| c.at).or(in_force);
                        }
                        Err(e) => {
                            tracing::error!(error = %format!("{e:#}"), "cannot write an audit checkpoint")
                        }
                    }
                }
                if let Some(at) = in_force
                    .as_deref()
                    .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
                {
                    crate::telemetry::checkpoint_age(at.to_utc(), clock.now());
                }
            }
        }));
    }

    /// Walks what came after the last checkpoint (all of it with `full`),
    /// checking every checkpoint's signature and that the chain still reaches
    /// the last one with the same hash.
    pub async fn verify(
        &self,
        db: &impl ConnectionTrait,
        full: bool,
    ) -> anyhow::Result<Verification> {
        let key = self.verifying_key();
        let public_key = hex::encode(key.as_bytes());
        // The mark first, then the file: a checkpoint is written to the file
        // before it is marked, so a file read after the mark reaches it even
        // while a checkpoint is being made (read the other way round, a
        // checkpoint made between the two reads looked like a cut file).
        let marked = marked(db, &public_key).await?;
        // Routinely the last checkpoint alone: its signature, and that the
        // file reaches what the database says was checkpointed.
        let last = self.last()?;
        if let Some(bad) = last.as_ref().filter(|c| !c.signed_by(&key)) {
            return Ok(Verification::Broken {
                seq: bad.seq,
                id: Uuid::nil(),
                reason: "a checkpoint's signature does not hold",
            });
        }
        if let Some(marked) = marked
            && last.as_ref().is_none_or(|c| c.seq < marked)
        {
            return Ok(Verification::Broken {
                seq: marked,
                id: Uuid::nil(),
                reason: "the checkpoint file is missing or shorter than the checkpoints made",
            });
        }
        if full {
            let all = self.all()?;
            for (i, c) in all.iter().enumerate() {
                let linked = i == 0
                    || c.prev.is_none() && all[i - 1].prev.is_none()
                    || c.prev.as_deref() == Some(all[i - 1].signature.as_str());
                if !c.signed_by(&key) || !linked {
                    return Ok(Verification::Broken {
                        seq: c.seq,
                        id: Uuid::nil(),
                        reason: "a checkpoint's signature or its link to the one before does not hold",
                    });
                }
            }
            let whole = walk(db, 1, GENESIS.to_owned(), None).await?;
            if !matches!(whole, Verification::Intact { .. }) {
                return Ok(whole);
            }
            for c in &all {
                if let Some(broken) = reaches(db, c).await? {
                    return Ok(broken);
                }
            }
            return Ok(whole);
        }
        match last.as_ref() {
            None => Ok(walk(db, 1, GENESIS.to_owned(), None).await?),
            Some(c) => {
                if let Some(broken) = reaches(db, c).await? {
                    return Ok(broken);
                }
                Ok(walk(db, c.seq + 1, c.hash.clone(), None).await?)
            }
        }
    }
}

/// Proves a receipt: its signature is this deployment's, and the chain from
/// its start up to the receipt's head is intact and ends in the receipt's
/// hash, so nothing before it was removed or changed.
pub async fn verify_receipt(
    db: &impl ConnectionTrait,
    key: &VerifyingKey,
    receipt: &Checkpoint,
) -> anyhow::Result<Verification> {
    if !receipt.signed_by(key) {
        return Ok(Verification::Broken {
            seq: receipt.seq,
            id: Uuid::nil(),
            reason: "the receipt is not signed by this deployment's checkpoint key",
        });
    }
    let upto = walk(db, 1, GENESIS.to_owned(), Some(receipt.seq)).await?;
    if !matches!(upto, Verification::Intact { .. }) {
        return Ok(upto);
    }
    Ok(reaches(db, receipt).await?.unwrap_or(upto))
}

/// Whether the chain still holds the checkpoint's head: the row at its `seq`
/// exists with its hash.
async fn reaches(
    db: &impl ConnectionTrait,
    c: &Checkpoint,
) -> Result<Option<Verification>, sea_orm::DbErr> {
    let row = audit_event::Entity::find()
        .filter(audit_event::Column::Seq.eq(c.seq))
        .one(db)
        .await?;
    Ok(match row {
        None => Some(Verification::Broken {
            seq: c.seq,
            id: Uuid::nil(),
            reason: "the chain ends before a signed checkpoint: events were removed",
        }),
        Some(r) if r.hash != c.hash => Some(Verification::Broken {
            seq: r.seq,
            id: r.id,
            reason: "the row at a signed checkpoint is not the one signed",
        }),
        Some(_) => None,
    })
}

/// Records in the database the last checkpoint made, signed `at`.
async fn mark(
    db: &impl ConnectionTrait,
    seq: i64,
    public_key: &str,
    at: &str,
) -> anyhow::Result<()> {
    use sea_orm::{ActiveValue::Set, sea_query::OnConflict};
    audit_checkpoint_mark::Entity::insert(audit_checkpoint_mark::ActiveModel {
        public_key: Set(public_key.to_owned()),
        seq: Set(seq),
        at: Set(at.to_owned()),
    })
    .on_conflict(
        OnConflict::column(audit_checkpoint_mark::Column::PublicKey)
            .update_columns([
                audit_checkpoint_mark::Column::Seq,
                audit_checkpoint_mark::Column::At,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .context("cannot record the checkpoint in the database")?;
    Ok(())
}

/// The last checkpoint the database says was made with this key.
async fn marked(
    db: &impl ConnectionTrait,
    public_key: &str,
) -> Result<Option<i64>, sea_orm::DbErr> {
    Ok(
        audit_checkpoint_mark::Entity::find_by_id(public_key.to_owned())
            .one(db)
            .await?
            .map(|m| m.seq),
    )
}

/// The chain's head: its last `seq` and `hash`.
async fn head(db: &impl ConnectionTrait) -> Result<Option<(i64, String)>, sea_orm::DbErr> {
    audit_event::Entity::find()
        .select_only()
        .column(audit_event::Column::Seq)
        .column(audit_event::Column::Hash)
        .order_by_desc(audit_event::Column::Seq)
        .into_tuple::<(i64, String)>()
        .one(db)
        .await
}

/// Sends one RFC 5424 message over UDP; a collector that is down loses it
/// (the file keeps it), and the failure is logged without its content.
fn send_syslog(target: &str, line: &str, at: &str) {
    let host = hostname();
    let msg = format!("<110>1 {at} {host} casework - audit-checkpoint - {line}");
    let sent = UdpSocket::bind("0.0.0.0:0").and_then(|s| s.send_to(msg.as_bytes(), target));
    if sent.is_err() {
        tracing::warn!("cannot send an audit checkpoint to the syslog collector");
    }
}

/// How long the HTTP sink may take to take a checkpoint.
const SINK_TIMEOUT: Duration = Duration::from_secs(10);

/// Posts one checkpoint as JSON, in the background: a sink that is slow or
/// down delays nothing (the file keeps the checkpoint, the next one follows
/// within a minute) and its failure is logged without the content.
fn post(client: reqwest::Client, url: String, cp: Checkpoint) {
    tokio::spawn(async move {
        let sent = client.post(&url).json(&cp).send().await;
        match sent.map(|r| r.status()) {
            Ok(s) if s.is_success() => {}
            Ok(s) => tracing::warn!(
                status = s.as_u16(),
                "the audit checkpoint sink refused a checkpoint"
            ),
            Err(_) => tracing::warn!("cannot send an audit checkpoint to the HTTP sink"),
        }
    });
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "-".to_owned())
}
