//! Settings, layered: built-in defaults, then an optional TOML file, then
//! `CASEWORK_*` environment variables.

use std::{fmt, net::SocketAddr, path::PathBuf};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

/// The environment variables read, each overriding the setting of the same name.
pub const ENV_KEYS: &[&str] = &[
    "listen",
    "database_url",
    "data_dir",
    "log_format",
    "sqlite_synchronous",
    "shutdown_grace_seconds",
    "signing_key",
    "trusted_proxies",
    "audit_syslog",
    "audit_checkpoint_url",
    "audit_checkpoint_key",
    "web_dir",
    "metrics_listen",
    "sqlite_reads",
    "sqlite_writes",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_client_secret",
    "oidc_provider_name",
    "oidc_redirect_base",
    "oidc_link_by_email",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address and port the HTTP server binds to.
    pub listen: SocketAddr,
    /// Directory for the embedded database and generated keys.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; empty means the SQLite file
    /// `casework.db` inside `data_dir`.
    pub database_url: String,
    /// `human` (default) or `json` log lines.
    pub log_format: LogFormat,
    /// SQLite durability: `full` (default: durable at acknowledgement) or `normal`.
    pub sqlite_synchronous: SqliteSynchronous,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace_seconds: u64,
    /// Secret (at least 32 characters) that signs access tokens. Empty means a
    /// key generated on first start and kept in `data_dir/signing.key`.
    /// Instances that share a database must share this key.
    pub signing_key: String,
    /// Addresses of the load balancers or reverse proxies in front of the
    /// service, comma-separated. Only a request from one of them is believed
    /// about the client's address (`X-Forwarded-For`); empty means none.
    #[serde(default)]
    pub trusted_proxies: String,
    /// A syslog collector (`host:port`, UDP) that receives every signed
    /// audit checkpoint as well; empty means none.
    #[serde(default)]
    pub audit_syslog: String,
    /// An HTTP endpoint (`http://` or `https://`) that receives every signed
    /// audit checkpoint as well, as a JSON `POST`; empty means none.
    #[serde(default)]
    pub audit_checkpoint_url: String,
    /// Where the key that signs audit checkpoints is kept (made on first
    /// start); empty means `data_dir/checkpoint.key`. Keep it outside the
    /// data directory, owned by another account, so that whoever holds the
    /// data directory cannot sign checkpoints.
    #[serde(default)]
    pub audit_checkpoint_key: String,
    /// Serve the app from this folder (the repository's `web/`) instead of
    /// the copy built into the binary, so that a change to it shows on the
    /// next reload; empty means the built-in copy. For development.
    #[serde(default)]
    pub web_dir: String,
    /// Serve Prometheus metrics (`/metrics`) on this address, apart from the
    /// API; empty means no metrics. Counts and timings only: no personal
    /// data, no ids.
    #[serde(default)]
    pub metrics_listen: String,
    /// How SQLite reads run: `calling_thread` (default: on the thread that
    /// asks, no thread switch a statement) or `pool` (sqlx's connections,
    /// each a thread of its own that every statement goes to and back from;
    /// docs/benchmark.md measures both). PostgreSQL always uses its pool.
    #[serde(default = "SqliteStatements::calling_thread")]
    pub sqlite_reads: SqliteStatements,
    /// How the audit writer's SQLite statements run: `calling_thread`
    /// (default: on the writer's thread, the commit's flush on a blocking
    /// one) or `pool` (sqlx's connection, a thread switch a statement).
    #[serde(default = "SqliteStatements::calling_thread")]
    pub sqlite_writes: SqliteStatements,
    /// Single sign-on: the OpenID Connect provider's issuer URL (discovery
    /// is read from `<issuer>/.well-known/openid-configuration`); empty
    /// means passwords only.
    #[serde(default)]
    pub oidc_issuer: String,
    /// The client id Casework is registered under at the provider.
    #[serde(default)]
    pub oidc_client_id: String,
    /// The client secret the provider gave Casework (never shown: masked
    /// when set, left out when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub oidc_client_secret: String,
    /// The provider's name as staff know it, on the sign-in button and in
    /// the audit trail (say "Library staff account"); empty means "single
    /// sign-on".
    #[serde(default)]
    pub oidc_provider_name: String,
    /// Casework's address as browsers reach it (`https://casework.example.org`):
    /// the provider sends them back to `<this>/v1/auth/sso/callback`,
    /// which must be registered at the provider as the redirect URI.
    #[serde(default)]
    pub oidc_redirect_base: String,
    /// Link an account on its first single sign-on by the verified email an
    /// admin gave it (`sso_email`), once; off means only a subject an admin
    /// linked signs in.
    #[serde(default)]
    pub oidc_link_by_email: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqliteStatements {
    CallingThread,
    Pool,
}

impl SqliteStatements {
    fn calling_thread() -> Self {
        SqliteStatements::CallingThread
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    Full,
    Normal,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            log_format: LogFormat::Human,
            sqlite_synchronous: SqliteSynchronous::Full,
            shutdown_grace_seconds: 30,
            signing_key: String::new(),
            trusted_proxies: String::new(),
            audit_syslog: String::new(),
            audit_checkpoint_url: String::new(),
            audit_checkpoint_key: String::new(),
            web_dir: String::new(),
            metrics_listen: String::new(),
            sqlite_reads: SqliteStatements::CallingThread,
            sqlite_writes: SqliteStatements::CallingThread,
            oidc_issuer: String::new(),
            oidc_client_id: String::new(),
            oidc_client_secret: String::new(),
            oidc_provider_name: String::new(),
            oidc_redirect_base: String::new(),
            oidc_link_by_email: false,
        }
    }
}

/// A configuration that cannot be used; the message names the setting.
#[derive(Debug)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl From<figment::Error> for ConfigError {
    fn from(err: figment::Error) -> Self {
        let mut text = String::from("invalid configuration");
        for e in err {
            let key = e.path.join(".").to_lowercase();
            let origin = e
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            if key.is_empty() {
                text.push_str(&format!("\n  - {}{origin}", e.kind));
            } else {
                text.push_str(&format!(
                    "\n  - setting `{key}` (environment variable CASEWORK_{}): {}{origin}",
                    key.to_uppercase(),
                    e.kind
                ));
            }
        }
        ConfigError(text)
    }
}

/// Where the optional file comes from.
#[derive(Debug, Clone)]
pub enum ConfigFile {
    /// `casework.toml` in the working directory, read only if it exists.
    Default,
    /// A path given on the command line; it must exist.
    Explicit(PathBuf),
}

impl Settings {
    pub fn load(file: &ConfigFile) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            ConfigFile::Default => figment = figment.merge(Toml::file("casework.toml")),
            ConfigFile::Explicit(path) => {
                if !path.is_file() {
                    return Err(ConfigError(format!(
                        "invalid configuration: --config file `{}` does not exist",
                        path.display()
                    )));
                }
                figment = figment.merge(Toml::file_exact(path));
            }
        }
        figment = figment.merge(Env::prefixed("CASEWORK_").only(ENV_KEYS));
        let settings: Settings = figment.extract()?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database_url.trim();
        if !(url.is_empty()
            || url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError(
                "invalid configuration: `database_url` (CASEWORK_DATABASE_URL) must start with \
                 `sqlite:` or `postgres://`"
                    .into(),
            ));
        }
        if self.trusted_proxy_addrs().is_none() {
            return Err(ConfigError(
                "invalid configuration: `trusted_proxies` (CASEWORK_TRUSTED_PROXIES) must be \
                 IP addresses separated by commas"
                    .into(),
            ));
        }
        let sink = self.audit_checkpoint_url.trim();
        if !(sink.is_empty()
            || reqwest::Url::parse(sink).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
        {
            return Err(ConfigError(
                "invalid configuration: `audit_checkpoint_url` (CASEWORK_AUDIT_CHECKPOINT_URL) \
                 must be an http:// or https:// URL"
                    .into(),
            ));
        }
        if !self.oidc_issuer.trim().is_empty() {
            let url = |s: &str| {
                reqwest::Url::parse(s.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
            };
            for (ok, key, what) in [
                (
                    url(&self.oidc_issuer),
                    "oidc_issuer",
                    "an http:// or https:// URL",
                ),
                (
                    !self.oidc_client_id.trim().is_empty(),
                    "oidc_client_id",
                    "set when `oidc_issuer` is",
                ),
                (
                    !self.oidc_client_secret.is_empty(),
                    "oidc_client_secret",
                    "set when `oidc_issuer` is",
                ),
                (
                    url(&self.oidc_redirect_base),
                    "oidc_redirect_base",
                    "Casework's own http:// or https:// address, set when `oidc_issuer` is",
                ),
            ] {
                if !ok {
                    return Err(ConfigError(format!(
                        "invalid configuration: `{key}` (CASEWORK_{}) must be {what}",
                        key.to_uppercase()
                    )));
                }
            }
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError(
                "invalid configuration: `data_dir` (CASEWORK_DATA_DIR) is empty".into(),
            ));
        }
        Ok(())
    }

    /// The trusted proxies' addresses; `None` if one is not an IP address.
    pub fn trusted_proxy_addrs(&self) -> Option<Vec<std::net::IpAddr>> {
        self.trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().ok())
            .collect()
    }

    /// The database URL in force: the configured one, or the SQLite file in
    /// the data directory.
    pub fn effective_database_url(&self) -> String {
        let url = self.database_url.trim();
        if url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("casework.db").display()
            )
        } else {
            url.to_owned()
        }
    }

    /// The settings as TOML, with any password in the database URL masked.
    pub fn to_toml_masked(&self) -> String {
        let mut shown = self.clone();
        shown.database_url = mask_password(&self.effective_database_url());
        if !shown.signing_key.is_empty() {
            shown.signing_key = "***".into();
        }
        if !shown.oidc_client_secret.is_empty() {
            shown.oidc_client_secret = "***".into();
        }
        toml::to_string(&shown).unwrap_or_default()
    }
}

/// Replaces the password of a URL (if any) with `***`.
pub fn mask_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
