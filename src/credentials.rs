//! Credentials: password hashes, access tokens, refresh tokens and the
//! signing key. Nothing here decides access; see `access`.

use std::{path::Path, time::Duration};

use anyhow::Context;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::Settings;

pub const ISSUER: &str = "casework";
pub const AUDIENCE: &str = "casework-api";
/// Access tokens live 15 minutes (DESIGN.md section 8).
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
/// A session unused for this long expires; every refresh extends it.
pub const SESSION_IDLE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// The HS256 key that signs and checks access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Keys the fingerprints of search words in the audit trail; derived
    /// from the signing key, so every instance computes the same ones.
    fingerprint_key: Vec<u8>,
}

impl TokenKeys {
    pub fn from_secret(secret: &[u8]) -> anyhow::Result<TokenKeys> {
        anyhow::ensure!(secret.len() >= 32, "signing key is shorter than 32 bytes");
        // The algorithm is pinned: a token claiming any other (`none`
        // included) is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["iss", "aud", "sub", "exp", "iat"]);
        validation.leeway = 5;
        // Expiry is judged on the service's clock (see `check`), not the
        // system time the library would read.
        validation.validate_exp = false;
        Ok(TokenKeys {
            encoding: EncodingKey::from_secret(secret).context("signing key")?,
            decoding: DecodingKey::from_secret(secret).context("signing key")?,
            validation,
            fingerprint_key: hmac_sha256(secret, b"casework search-word fingerprint v1"),
        })
    }

    /// Keyed fingerprints of the normalised words of a search (case and
    /// accents folded), so that the trail can answer "who searched for this
    /// name?" without holding the name. Changing `signing_key` changes them.
    pub fn search_fingerprints(&self, text: &str) -> Vec<String> {
        let mut words: Vec<String> = crate::domain::name_key(text)
            .split_whitespace()
            .map(|w| hex::encode(&hmac_sha256(&self.fingerprint_key, w.as_bytes())[..16]))
            .collect();
        words.sort();
        words.dedup();
        words
    }

    /// The configured key (`signing_key`), or the one kept in the data
    /// directory, generated on first start with owner-only permissions.
    pub fn load(settings: &Settings) -> anyhow::Result<TokenKeys> {
        let configured = settings.signing_key.trim();
        if !configured.is_empty() {
            anyhow::ensure!(
                configured.len() >= 32,
                "setting `signing_key` (CASEWORK_SIGNING_KEY) must be at least 32 characters"
            );
            return TokenKeys::from_secret(configured.as_bytes());
        }
        let path = settings.data_dir.join("signing.key");
        let secret = load_or_create_key(&path)?;
        TokenKeys::from_secret(&secret)
    }

    /// A token for the session, issued at `now` (the service's clock).
    pub fn issue(
        &self,
        staff_id: Uuid,
        session_id: Uuid,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<String> {
        let now = now.timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: staff_id,
            sid: session_id,
            iat: now,
            exp: now + ACCESS_TOKEN_TTL.as_secs() as i64,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("cannot sign access token")
    }

    /// The claims of a valid token not expired at `now` (the service's
    /// clock); `None` for anything else.
    pub fn check(&self, token: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
            .filter(|c| c.exp >= now.timestamp() - self.validation.leeway as i64)
    }
}

pub(crate) fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let key = hex::decode(text.trim())
            .with_context(|| format!("signing key file `{}` is not hex", path.display()))?;
        anyhow::ensure!(
            key.len() >= 32,
            "signing key file `{}` is too short",
            path.display()
        );
        return Ok(key);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    let key = random_bytes::<64>();
    write_private(path, hex::encode(key).as_bytes())
        .with_context(|| format!("cannot write signing key `{}`", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new token signing key");
    Ok(key.to_vec())
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

fn new_salt() -> SaltString {
    // 16 random bytes always encode to a valid salt.
    SaltString::encode_b64(&random_bytes::<16>()).expect("16-byte salt")
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS random source failing is not recoverable.
    getrandom::fill(&mut buf).expect("operating system random source");
    buf
}

/// A new opaque refresh token and the hash under which it is stored.
pub fn new_refresh_token() -> (String, String) {
    let token = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let hash = refresh_token_hash(&token);
    (token, hash)
}

pub fn refresh_token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random password for generated accounts: 20 URL-safe characters.
pub fn random_password() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<15>())
}

/// argon2id with the crate's recommended parameters, off the async threads.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = new_salt();
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|_| anyhow::anyhow!("password hashing failed"))
    })
    .await
    .context("password hashing task")?
}

/// Checks a password; with no stored hash it still does the same work, so
/// that timing does not reveal whether a username exists.
pub async fn verify_password(stored: Option<String>, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        match PasswordHash::new(&stored) {
            Ok(parsed) => Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    })
    .await
    .unwrap_or(false)
}

/// The argon2id hash of a random password nobody knows, made once.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = new_salt();
    Argon2::default()
        .hash_password(random_password().as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    // HMAC takes keys of any length; this cannot fail.
    match Hmac::<sha2::Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_and_another_key_is_refused() {
        let keys = TokenKeys::from_secret(&[7u8; 64]).unwrap();
        let (staff, session) = (Uuid::now_v7(), Uuid::now_v7());
        let now = chrono::Utc::now();
        let token = keys.issue(staff, session, now).unwrap();
        let claims = keys.check(&token, now).unwrap();
        assert_eq!((claims.sub, claims.sid), (staff, session));
        let other = TokenKeys::from_secret(&[8u8; 64]).unwrap();
        assert!(other.check(&token, now).is_none());
    }

    #[test]
    fn a_token_expires_on_the_clock_it_is_checked_by() {
        let keys = TokenKeys::from_secret(&[7u8; 64]).unwrap();
        let now = chrono::Utc::now();
        let token = keys.issue(Uuid::now_v7(), Uuid::now_v7(), now).unwrap();
        let ttl = chrono::Duration::from_std(ACCESS_TOKEN_TTL).unwrap();
        assert!(keys.check(&token, now + ttl).is_some());
        assert!(
            keys.check(&token, now + ttl + chrono::Duration::minutes(1))
                .is_none()
        );
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_hashed() {
        let (a, ha) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(refresh_token_hash(&a), ha);
        assert_ne!(a, ha);
    }

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(Some(hash.clone()), "correct horse battery".into()).await);
        assert!(!verify_password(Some(hash), "wrong horse battery".into()).await);
        assert!(!verify_password(None, "anything at all".into()).await);
    }
}
