//! SQLite reads on the calling thread (setting `sqlite_reads =
//! "calling_thread"`).
//!
//! sqlx gives every SQLite connection a thread of its own, and every
//! statement is a round trip to it: two thread switches a statement, which
//! on a busy core cost more than a short read itself. This connection runs a
//! read (a statement SQLite reports read-only) with rusqlite on the thread
//! that asks, from a small set of connections to the same file; anything
//! else (the few changes made outside the audit writer: sign-in throttling,
//! refresh tokens) runs on a blocking thread, so that a change waiting for
//! the write lock never holds up the runtime. It is a sea-orm proxy
//! connection: the service's entities and queries are the same either way.
//!
//! sea-orm hands a proxy's rows over as sea-query values, which it converts
//! by their exact kind; SQLite keeps only storage classes (and sqlx's
//! encodings: a UUID as 16 bytes, a time as RFC 3339 text). So each column
//! a statement reads is typed by the entity column it comes from (SQLite
//! names it), and only computed columns by their storage class.
//!
//! Transactions never run here: the audit writer and the migrations have
//! the sqlx connection of their own.

use std::{
    collections::{BTreeMap, HashMap},
    path::PathBuf,
    sync::{Mutex, OnceLock},
    time::Duration,
};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rusqlite::{OpenFlags, types::Value as Sql, types::ValueRef};
use sea_orm::{
    ColumnTrait, ColumnType, DbErr, EntityName, IdenStatic, Iterable, ProxyDatabaseTrait,
    ProxyExecResult, ProxyRow, Statement, Value,
};

/// Connections kept open for the next read (more are opened when needed).
const KEEP: usize = 8;

/// How a column's stored value is handed to sea-orm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    BigInt,
    Bool,
    Uuid,
    Time,
    Date,
    Text,
    Double,
    Bytes,
}

type Kinds = HashMap<(&'static str, &'static str), Kind>;

fn kind_of(t: &ColumnType) -> Kind {
    match t {
        ColumnType::Integer | ColumnType::SmallInteger | ColumnType::TinyInteger => Kind::Int,
        ColumnType::BigInteger => Kind::BigInt,
        ColumnType::Boolean => Kind::Bool,
        ColumnType::Uuid => Kind::Uuid,
        ColumnType::TimestampWithTimeZone | ColumnType::DateTime | ColumnType::Timestamp => {
            Kind::Time
        }
        ColumnType::Date => Kind::Date,
        ColumnType::Float | ColumnType::Double => Kind::Double,
        ColumnType::Binary(_) | ColumnType::VarBinary(_) | ColumnType::Blob => Kind::Bytes,
        _ => Kind::Text,
    }
}

/// Every entity column's kind, by table and column name.
fn kinds() -> &'static Kinds {
    static KINDS: OnceLock<Kinds> = OnceLock::new();
    KINDS.get_or_init(|| {
        let mut k = Kinds::new();
        macro_rules! entities {
            ($($m:path),* $(,)?) => {$({
                use $m as e;
                let table: &'static str = e::Entity.table_name();
                for c in e::Column::iter() {
                    k.insert((table, c.as_str()), kind_of(c.def().get_column_type()));
                }
            })*};
        }
        use entities::*;
        entities!(
            audit_checkpoint_mark,
            audit_event,
            audit_event_patron,
            audit_flag,
            audit_reader_day,
            audit_reader_day_patron,
            audit_rollup_backfill,
            branch,
            break_glass,
            case_file,
            case_member,
            case_note,
            certification,
            change_log,
            consent,
            contact,
            device_session,
            follow_up,
            idempotency_record,
            login_throttle,
            mandated_report,
            patron,
            patron_name_key,
            referral,
            referral_event,
            refresh_token,
            rule,
            safety::incident,
            safety::incident_amendment,
            safety::suspension,
            service,
            sso_flow,
            sso_ticket,
            staff,
            staff_branch,
            support_link,
            support_request,
            sync_holding,
            training,
        );
        k
    })
}

/// The proxy: a file, and connections to it waiting for the next read.
pub struct CallingThread {
    path: PathBuf,
    synchronous: &'static str,
    idle: std::sync::Arc<Mutex<Vec<rusqlite::Connection>>>,
    /// The audit writer's own connection: its statements run on the calling
    /// thread (the writer's task), reads or not, but `BEGIN IMMEDIATE` (which
    /// may wait for the write lock) and `COMMIT` (the flush) on a blocking
    /// thread; its transactions are statements the writer
    /// sends (`BEGIN IMMEDIATE`, `SAVEPOINT`, `COMMIT`), so that a failure
    /// to begin or commit is an error it sees.
    writer: bool,
}

impl std::fmt::Debug for CallingThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallingThread")
    }
}

impl CallingThread {
    pub fn new(path: PathBuf, synchronous: &'static str, writer: bool) -> Self {
        // Built once, before the first read.
        kinds();
        CallingThread {
            path,
            synchronous,
            idle: Default::default(),
            writer,
        }
    }

    fn take(&self) -> Result<rusqlite::Connection, DbErr> {
        if let Some(c) = self.idle.lock().map_err(|_| poisoned())?.pop() {
            return Ok(c);
        }
        open(&self.path, self.synchronous)
    }

    fn give_back(&self, c: rusqlite::Connection) {
        give_back(&self.idle, c);
    }

    /// Runs `work` with a connection: here if `sql` only reads, otherwise on
    /// a blocking thread.
    async fn run<T: Send + 'static>(
        &self,
        sql: String,
        work: impl FnOnce(&rusqlite::Connection, &str) -> Result<T, DbErr> + Send + 'static,
    ) -> Result<T, DbErr> {
        super::count_statement();
        let conn = self.take()?;
        if self.writer {
            // A writer that died mid-batch (it is started again) left its
            // transaction open on this connection: end it before a new one.
            if sql == "BEGIN IMMEDIATE" && !conn.is_autocommit() {
                conn.execute_batch("ROLLBACK").map_err(sql_err)?;
            }
        }
        // The writer's statements run here, but the two that can wait (for
        // the write lock, for the flush to disk) on a blocking thread; anyone
        // else's reads run here, their changes on a blocking thread.
        let here = if self.writer {
            sql != "COMMIT" && sql != "BEGIN IMMEDIATE"
        } else {
            conn.prepare_cached(&sql)
                .map(|s| s.readonly())
                .map_err(sql_err)?
        };
        if here {
            let out = work(&conn, &sql);
            self.give_back(conn);
            return out;
        }
        let idle = self.idle.clone();
        tokio::task::spawn_blocking(move || {
            let out = work(&conn, &sql);
            give_back(&idle, conn);
            out
        })
        .await
        .map_err(|_| DbErr::Custom("a database change stopped unexpectedly".into()))?
    }
}

fn give_back(idle: &Mutex<Vec<rusqlite::Connection>>, c: rusqlite::Connection) {
    if let Ok(mut idle) = idle.lock()
        && idle.len() < KEEP
    {
        idle.push(c);
    }
}

fn open(path: &PathBuf, synchronous: &str) -> Result<rusqlite::Connection, DbErr> {
    let c = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_err)?;
    c.busy_timeout(Duration::from_secs(10)).map_err(sql_err)?;
    c.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = {synchronous}; PRAGMA mmap_size = {};",
        super::MMAP_BYTES
    ))
    .map_err(sql_err)?;
    c.set_prepared_statement_cache_capacity(256);
    Ok(c)
}

/// What a unique constraint's refusal says (see [`super::is_unique_violation`]).
pub const UNIQUE: &str = "sqlite unique constraint: ";

fn sql_err(e: rusqlite::Error) -> DbErr {
    use rusqlite::ffi;
    match e.sqlite_error() {
        Some(f)
            if f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            DbErr::Custom(format!("{UNIQUE}{e}"))
        }
        _ => DbErr::Custom(format!("sqlite: {e}")),
    }
}

fn poisoned() -> DbErr {
    DbErr::Custom("the read connections' lock is poisoned".into())
}

/// A sea-query value as sqlx would have stored it.
fn bind(v: &Value) -> Sql {
    match v {
        Value::Bool(b) => b.map_or(Sql::Null, |b| Sql::Integer(b.into())),
        Value::TinyInt(x) => x.map_or(Sql::Null, |x| Sql::Integer(x.into())),
        Value::SmallInt(x) => x.map_or(Sql::Null, |x| Sql::Integer(x.into())),
        Value::Int(x) => x.map_or(Sql::Null, |x| Sql::Integer(x.into())),
        Value::BigInt(x) => x.map_or(Sql::Null, Sql::Integer),
        Value::TinyUnsigned(x) => x.map_or(Sql::Null, |x| Sql::Integer(x.into())),
        Value::SmallUnsigned(x) => x.map_or(Sql::Null, |x| Sql::Integer(x.into())),
        Value::Unsigned(x) => x.map_or(Sql::Null, |x| Sql::Integer(x.into())),
        Value::BigUnsigned(x) => x.map_or(Sql::Null, |x| Sql::Integer(x as i64)),
        Value::Float(x) => x.map_or(Sql::Null, |x| Sql::Real(x.into())),
        Value::Double(x) => x.map_or(Sql::Null, Sql::Real),
        Value::String(s) => s.as_ref().map_or(Sql::Null, |s| Sql::Text(s.to_string())),
        Value::Char(c) => c.map_or(Sql::Null, |c| Sql::Text(c.to_string())),
        Value::Bytes(b) => b.as_ref().map_or(Sql::Null, |b| Sql::Blob(b.to_vec())),
        Value::Json(j) => j.as_ref().map_or(Sql::Null, |j| Sql::Text(j.to_string())),
        Value::Uuid(u) => u.map_or(Sql::Null, |u| Sql::Blob(u.as_bytes().to_vec())),
        Value::ChronoDate(d) => d.map_or(Sql::Null, |d| Sql::Text(d.format("%F").to_string())),
        Value::ChronoDateTime(t) => {
            t.map_or(Sql::Null, |t| Sql::Text(t.format("%F %T%.f").to_string()))
        }
        Value::ChronoDateTimeUtc(t) => t.map_or(Sql::Null, |t| {
            Sql::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
        }),
        Value::ChronoDateTimeLocal(t) => t.map_or(Sql::Null, |t| {
            Sql::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
        }),
        Value::ChronoDateTimeWithTimeZone(t) => t.map_or(Sql::Null, |t| {
            Sql::Text(t.to_rfc3339_opts(SecondsFormat::AutoSi, false))
        }),
        // Nothing else is bound by this service; fail loudly if it is.
        other => Sql::Text(format!("{other:?}")),
    }
}

fn mismatch(column: &str) -> DbErr {
    DbErr::Custom(format!(
        "sqlite: column `{column}` holds a value of another kind"
    ))
}

/// A stored value as sea-orm expects it for `kind` (when the column is an
/// entity's), or by its storage class.
fn value(v: ValueRef<'_>, kind: Option<Kind>, column: &str) -> Result<Value, DbErr> {
    fn text<'a>(v: ValueRef<'a>, column: &str) -> Result<&'a str, DbErr> {
        v.as_str().map_err(|_| mismatch(column))
    }
    Ok(match (kind, v) {
        (Some(Kind::Int), ValueRef::Null) => Value::Int(None),
        (Some(Kind::BigInt), ValueRef::Null) => Value::BigInt(None),
        (Some(Kind::Bool), ValueRef::Null) => Value::Bool(None),
        (Some(Kind::Uuid), ValueRef::Null) => Value::Uuid(None),
        (Some(Kind::Time), ValueRef::Null) => Value::ChronoDateTimeUtc(None),
        (Some(Kind::Date), ValueRef::Null) => Value::ChronoDate(None),
        (Some(Kind::Double), ValueRef::Null) => Value::Double(None),
        (Some(Kind::Bytes), ValueRef::Null) => Value::Bytes(None),
        (_, ValueRef::Null) => Value::String(None),
        (Some(Kind::Int), ValueRef::Integer(i)) => {
            Value::Int(Some(i32::try_from(i).map_err(|_| mismatch(column))?))
        }
        (Some(Kind::Bool), ValueRef::Integer(i)) => Value::Bool(Some(i != 0)),
        (Some(Kind::Double), ValueRef::Integer(i)) => Value::Double(Some(i as f64)),
        (Some(Kind::Text), ValueRef::Integer(i)) => Value::String(Some(i.to_string())),
        (_, ValueRef::Integer(i)) => Value::BigInt(Some(i)),
        (_, ValueRef::Real(f)) => Value::Double(Some(f)),
        (Some(Kind::Uuid) | None, ValueRef::Blob(b)) if b.len() == 16 => Value::Uuid(Some(
            uuid::Uuid::from_slice(b).map_err(|_| mismatch(column))?,
        )),
        (Some(Kind::Uuid), ValueRef::Text(_)) => Value::Uuid(Some(
            uuid::Uuid::parse_str(text(v, column)?).map_err(|_| mismatch(column))?,
        )),
        (_, ValueRef::Blob(b)) => Value::Bytes(Some(b.to_vec())),
        (Some(Kind::Time), ValueRef::Text(_)) => Value::ChronoDateTimeUtc(Some(
            DateTime::parse_from_rfc3339(text(v, column)?)
                .map_err(|_| mismatch(column))?
                .with_timezone(&Utc),
        )),
        (Some(Kind::Date), ValueRef::Text(_)) => Value::ChronoDate(Some(
            NaiveDate::parse_from_str(text(v, column)?, "%F").map_err(|_| mismatch(column))?,
        )),
        (_, ValueRef::Text(_)) => Value::String(Some(text(v, column)?.to_owned())),
    })
}

/// The key under which a row's `i`th value is also kept: sea-orm reads a
/// proxy row's values by name, or by position in the map's order, so the
/// positions come first (`\u{1}` sorts before every column name).
fn position(i: usize) -> String {
    format!("\u{1}{i:04}")
}

fn query(conn: &rusqlite::Connection, sql: &str, params: &[Sql]) -> Result<Vec<ProxyRow>, DbErr> {
    let mut stmt = conn.prepare_cached(sql).map_err(sql_err)?;
    let kinds = kinds();
    let columns: Vec<(String, Option<Kind>)> = stmt
        .columns_with_metadata()
        .iter()
        .map(|c| {
            let kind = match (c.table_name(), c.origin_name()) {
                (Some(t), Some(o)) => kinds.get(&(t, o)).copied(),
                _ => None,
            };
            (c.name().to_owned(), kind)
        })
        .collect();
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(sql_err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql_err)? {
        let mut values = BTreeMap::new();
        for (i, (name, kind)) in columns.iter().enumerate() {
            let v = value(row.get_ref(i).map_err(sql_err)?, *kind, name)?;
            values.insert(position(i), v.clone());
            values.insert(name.clone(), v);
        }
        out.push(ProxyRow { values });
    }
    Ok(out)
}

fn params(st: &Statement) -> Vec<Sql> {
    st.values
        .as_ref()
        .map(|v| v.0.iter().map(bind).collect())
        .unwrap_or_default()
}

#[async_trait::async_trait]
impl ProxyDatabaseTrait for CallingThread {
    async fn query(&self, st: Statement) -> Result<Vec<ProxyRow>, DbErr> {
        let params = params(&st);
        self.run(st.sql, move |c, sql| query(c, sql, &params)).await
    }

    async fn execute(&self, st: Statement) -> Result<ProxyExecResult, DbErr> {
        let params = params(&st);
        self.run(st.sql, move |c, sql| {
            let mut stmt = c.prepare_cached(sql).map_err(sql_err)?;
            let n = stmt
                .execute(rusqlite::params_from_iter(params.iter()))
                .map_err(sql_err)?;
            Ok(ProxyExecResult {
                last_insert_id: c.last_insert_rowid() as u64,
                rows_affected: n as u64,
            })
        })
        .await
    }

    async fn begin(&self) {
        // The writer begins with a statement of its own; the read connection
        // never begins one (say so if that ever changes).
        if !self.writer {
            tracing::error!("a transaction was begun on the read connection; it is not one");
        }
    }

    async fn ping(&self) -> Result<(), DbErr> {
        let c = self.take()?;
        let ok = c.query_row("SELECT 1", [], |_| Ok(()));
        self.give_back(c);
        ok.map_err(sql_err)
    }
}
