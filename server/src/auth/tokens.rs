//! Access tokens: JWTs signed with HS256 (the embedded default: a shared secret) or EdDSA
//! (Ed25519, for production: a PKCS#8 private key file, plus public keys that are still
//! accepted while keys rotate).
//!
//! Claims: `iss = "fieldsync"`, `aud = "fieldsync-api"`, `sub` (user id), `tid` (tenant id),
//! `role`, `iat`, `nbf`, `exp`, `jti`, and for tokens issued to a device `did` (device id) and
//! `sid` (session id). Verification pins the algorithm of the configured signing key, requires
//! `exp`, `iss`, `aud` and `sub` (jsonwebtoken only checks claims that are present unless told
//! to require them), and picks the key by the `kid` header: a token without it, or naming a key
//! this server does not hold, is refused.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use uuid::Uuid;

use fieldsync_shared::master::{Role, UserProfile};
use fieldsync_shared::{DeviceId, TenantId, UserId};

use super::receipts::ReceiptKey;

/// Token issuer.
pub const ISSUER: &str = "fieldsync";
/// Token audience.
pub const AUDIENCE: &str = "fieldsync-api";
/// Clock skew tolerated when checking `exp` and `nbf`, seconds.
const LEEWAY_SECS: u64 = 5;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub tid: TenantId,
    pub role: Role,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub jti: String,
    pub iss: String,
    pub aud: String,
    /// The device the token was issued to; absent for tokens without a device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did: Option<DeviceId>,
    /// The session (refresh token family) the token belongs to; present iff `did` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// The key id of a key: the first 8 hex digits of the SHA-256 of the HS256 secret or of the
/// Ed25519 public key. Names the key in token headers without revealing a secret.
pub fn key_id(key: &[u8]) -> String {
    hex::encode(&sha2::Sha256::digest(key)[..4])
}

/// Signing and verification keys for access tokens.
pub struct TokenKeys {
    algorithm: Algorithm,
    encoding: EncodingKey,
    kid: String,
    /// Every key tokens may be signed with, by kid: the signing key's own, and on EdDSA the
    /// verify-only public keys of a rotation.
    verifying: HashMap<String, DecodingKey>,
    validation: Validation,
    ttl_secs: u64,
    /// Signs the pulls' receipts; derived from the signing key (see `super::receipts`).
    receipts: ReceiptKey,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<&String> = self.verifying.keys().collect();
        kids.sort();
        f.debug_struct("TokenKeys")
            .field("algorithm", &self.algorithm)
            .field("keys", &"[redacted]")
            .field("kid", &self.kid)
            .field("verifying_kids", &kids)
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

/// An issued access token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

/// Why a token was refused (logged at debug level; the client only sees `unauthorized`).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("invalid access token: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    #[error("invalid access token: no kid header")]
    MissingKeyId,
    #[error("invalid access token: unknown kid {0:?}")]
    UnknownKeyId(String),
    #[error("invalid access token: did and sid must come together")]
    HalfSession,
}

fn validation(algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.algorithms = vec![algorithm];
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation.leeway = LEEWAY_SECS;
    validation
}

impl TokenKeys {
    /// HS256 keys from a shared secret; tokens live `ttl_secs`.
    pub fn hs256(secret: &[u8], ttl_secs: u64) -> Self {
        let kid = key_id(secret);
        TokenKeys {
            algorithm: Algorithm::HS256,
            encoding: EncodingKey::from_secret(secret),
            verifying: HashMap::from([(kid.clone(), DecodingKey::from_secret(secret))]),
            kid,
            validation: validation(Algorithm::HS256),
            ttl_secs,
            receipts: ReceiptKey::derive(secret),
        }
    }

    /// EdDSA keys: tokens are signed with `signing`; tokens signed with it or with any of
    /// `also_accepted` (the previous keys of a rotation) verify. HS256 tokens never do.
    pub fn ed25519(signing: &SigningKey, also_accepted: &[VerifyingKey], ttl_secs: u64) -> Self {
        let public = signing.verifying_key();
        let kid = key_id(public.as_bytes());
        let mut verifying = HashMap::new();
        for key in std::iter::once(&public).chain(also_accepted) {
            verifying.insert(
                key_id(key.as_bytes()),
                DecodingKey::from_ed_der(key.as_bytes()),
            );
        }
        // jsonwebtoken's EdDSA signer takes the PKCS#8 document.
        let der = signing
            .to_pkcs8_der()
            .expect("an Ed25519 key always encodes as PKCS#8");
        TokenKeys {
            algorithm: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            kid,
            verifying,
            validation: validation(Algorithm::EdDSA),
            ttl_secs,
            receipts: ReceiptKey::derive(&signing.to_bytes()),
        }
    }

    /// The key of the pulls' receipts.
    pub fn receipts(&self) -> &ReceiptKey {
        &self.receipts
    }

    /// The algorithm tokens are signed (and must be signed) with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The id (`kid` header) of the signing key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The ids of every key whose tokens verify.
    pub fn accepted_kids(&self) -> Vec<String> {
        let mut kids: Vec<String> = self.verifying.keys().cloned().collect();
        kids.sort();
        kids
    }

    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// Issues an access token for `user` without a device (administration tools): it cannot
    /// sync, and it cannot be revoked before it expires.
    pub fn issue(&self, user: &UserProfile) -> Result<IssuedToken, TokenError> {
        self.sign(user, None)
    }

    /// Issues an access token for `user` on `device` in `session`.
    pub fn issue_for_session(
        &self,
        user: &UserProfile,
        device: DeviceId,
        session: Uuid,
    ) -> Result<IssuedToken, TokenError> {
        self.sign(user, Some((device, session)))
    }

    fn sign(
        &self,
        user: &UserProfile,
        session: Option<(DeviceId, Uuid)>,
    ) -> Result<IssuedToken, TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: user.id,
            tid: user.tenant_id,
            role: user.role,
            iat: now,
            nbf: now,
            exp: now + self.ttl_secs,
            jti: Uuid::new_v4().to_string(),
            iss: ISSUER.to_string(),
            aud: AUDIENCE.to_string(),
            did: session.map(|s| s.0),
            sid: session.map(|s| s.1),
        };
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)?;
        Ok(IssuedToken {
            token,
            expires_in: self.ttl_secs,
        })
    }

    /// Verifies the key id, signature, algorithm, issuer, audience and validity period. The
    /// session (if any) is checked against the database by the caller.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let key = match jsonwebtoken::decode_header(token)?.kid {
            None => return Err(TokenError::MissingKeyId),
            Some(kid) => match self.verifying.get(&kid) {
                Some(key) => key,
                None => {
                    let shown: String = kid.chars().take(16).collect();
                    return Err(TokenError::UnknownKeyId(shown));
                }
            },
        };
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation)?.claims;
        if claims.did.is_some() != claims.sid.is_some() {
            return Err(TokenError::HalfSession);
        }
        Ok(claims)
    }
}

/// Why a key file could not be read, written or understood.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read or write the key file {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("the key file {path} is not {what}: {detail}")]
    Invalid {
        path: String,
        what: &'static str,
        detail: String,
    },
    #[error("the key file {0} already exists; choose another path (keys are never overwritten)")]
    Exists(String),
    #[error("no randomness available: {0}")]
    Random(String),
}

fn read_key_file(path: &Path) -> Result<String, KeyFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(text)
}

/// Reads an Ed25519 private key (PEM, PKCS#8: `-----BEGIN PRIVATE KEY-----`).
pub fn load_ed25519_private_key(path: &Path) -> Result<SigningKey, KeyFileError> {
    let text = read_key_file(path)?;
    warn_if_readable_by_others(path, "the JWT signing key file");
    SigningKey::from_pkcs8_pem(text.trim()).map_err(|e| KeyFileError::Invalid {
        path: path.display().to_string(),
        what: "an Ed25519 private key in PKCS#8 PEM (BEGIN PRIVATE KEY)",
        detail: e.to_string(),
    })
}

/// Reads an Ed25519 public key (PEM, SubjectPublicKeyInfo: `-----BEGIN PUBLIC KEY-----`).
pub fn load_ed25519_public_key(path: &Path) -> Result<VerifyingKey, KeyFileError> {
    let text = read_key_file(path)?;
    VerifyingKey::from_public_key_pem(text.trim()).map_err(|e| KeyFileError::Invalid {
        path: path.display().to_string(),
        what: "an Ed25519 public key in PEM (BEGIN PUBLIC KEY)",
        detail: e.to_string(),
    })
}

/// A key written by [`generate_ed25519_key`].
#[derive(Debug, Clone)]
pub struct GeneratedKey {
    /// The public key, PEM (`BEGIN PUBLIC KEY`): give it to the other instances as a
    /// verify-only key during a rotation.
    pub public_pem: String,
    /// The `kid` tokens signed with the key carry.
    pub kid: String,
}

/// Writes a new random Ed25519 private key to `path` (PKCS#8 PEM, mode 0600; refuses to
/// overwrite an existing file).
pub fn generate_ed25519_key(path: &Path) -> Result<GeneratedKey, KeyFileError> {
    let io_err = |source: io::Error| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| KeyFileError::Random(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeyFileError::Random(e.to_string()))?;
    let public = key.verifying_key();
    let public_pem = public
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| KeyFileError::Random(e.to_string()))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(KeyFileError::Exists(path.display().to_string()))
        }
        Err(e) => return Err(io_err(e)),
    };
    file.write_all(pem.as_bytes()).map_err(io_err)?;
    file.sync_all().map_err(io_err)?;
    Ok(GeneratedKey {
        public_pem,
        kid: key_id(public.as_bytes()),
    })
}

/// Why the HS256 signing secret could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read or write the JWT secret file {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("the JWT secret file {0} does not hold at least 32 hex-encoded bytes")]
    Invalid(String),
    #[error("no randomness available: {0}")]
    Random(String),
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error("{0}")]
    Config(String),
}

/// Loads the HS256 secret from `path` (hex), or generates 32 random bytes into it (mode 0600)
/// on first start.
pub fn load_or_create_secret(path: &Path) -> Result<Vec<u8>, SecretError> {
    let io_err = |source: io::Error| SecretError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim())
                .map_err(|_| SecretError::Invalid(path.display().to_string()))?;
            if bytes.len() < 32 {
                return Err(SecretError::Invalid(path.display().to_string()));
            }
            warn_if_readable_by_others(path, "the JWT secret file");
            Ok(bytes)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut secret = vec![0u8; 32];
            getrandom::fill(&mut secret).map_err(|e| SecretError::Random(e.to_string()))?;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            match opts.open(path) {
                Ok(mut file) => {
                    file.write_all(hex::encode(&secret).as_bytes())
                        .map_err(io_err)?;
                    file.sync_all().map_err(io_err)?;
                    tracing::info!(path = %path.display(), "generated a new JWT signing secret");
                    Ok(secret)
                }
                // Another process created it meanwhile: use theirs.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => load_or_create_secret(path),
                Err(e) => Err(io_err(e)),
            }
        }
        Err(e) => Err(io_err(e)),
    }
}

fn warn_if_readable_by_others(path: &Path, what: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "{what} is readable by other users; chmod 600 it");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
}

#[cfg(test)]
mod tests {
    use super::*;
    use fieldsync_shared::PersonCode;

    fn user() -> UserProfile {
        UserProfile {
            id: UserId::new_random(),
            tenant_id: TenantId::new_random(),
            username: "rep1".into(),
            display_name: "Rep One".into(),
            role: Role::Rep,
            code: PersonCode::parse("R001").unwrap(),
        }
    }

    fn ed_key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn issued_tokens_verify_and_carry_their_claims() {
        let keys = TokenKeys::hs256(&[7u8; 32], 60);
        let u = user();
        let t = keys.issue(&u).unwrap();
        let c = keys.verify(&t.token).unwrap();
        assert_eq!(
            (c.sub, c.tid, c.role, c.did, c.sid),
            (u.id, u.tenant_id, Role::Rep, None, None)
        );
        assert!(TokenKeys::hs256(&[8u8; 32], 60).verify(&t.token).is_err());

        let (device, session) = (DeviceId::new_random(), Uuid::new_v4());
        let t = keys.issue_for_session(&u, device, session).unwrap();
        let c = keys.verify(&t.token).unwrap();
        assert_eq!((c.did, c.sid), (Some(device), Some(session)));
    }

    #[test]
    fn tokens_without_the_key_id_are_refused() {
        let keys = TokenKeys::hs256(&[7u8; 32], 60);
        assert_eq!(keys.kid(), key_id(&[7u8; 32]));
        assert_eq!(keys.kid().len(), 8);
        assert_ne!(keys.kid(), key_id(&[8u8; 32]));
        let good = keys.issue(&user()).unwrap().token;
        let data = keys.verify(&good).unwrap();
        for kid in [None, Some("hs256-1".to_string())] {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = kid.clone();
            let t = jsonwebtoken::encode(&header, &data, &keys.encoding).unwrap();
            assert!(keys.verify(&t).is_err(), "{kid:?}");
        }
    }

    #[test]
    fn a_device_id_without_a_session_id_is_refused() {
        let keys = TokenKeys::hs256(&[7u8; 32], 60);
        let mut claims = keys.verify(&keys.issue(&user()).unwrap().token).unwrap();
        claims.did = Some(DeviceId::new_random());
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(keys.kid().to_string());
        let t = jsonwebtoken::encode(&header, &claims, &keys.encoding).unwrap();
        assert!(matches!(keys.verify(&t), Err(TokenError::HalfSession)));
    }

    #[test]
    fn eddsa_keys_sign_verify_and_accept_rotated_keys_only() {
        let old = ed_key(1);
        let new = ed_key(2);
        let u = user();
        let old_keys = TokenKeys::ed25519(&old, &[], 60);
        let new_keys = TokenKeys::ed25519(&new, &[old.verifying_key()], 60);
        assert_eq!(new_keys.algorithm(), Algorithm::EdDSA);
        assert_eq!(new_keys.kid(), key_id(new.verifying_key().as_bytes()));
        assert_eq!(new_keys.accepted_kids().len(), 2);

        let by_old = old_keys.issue(&u).unwrap().token;
        let by_new = new_keys.issue(&u).unwrap().token;
        assert_eq!(
            jsonwebtoken::decode_header(&by_new).unwrap().alg,
            Algorithm::EdDSA
        );
        new_keys.verify(&by_new).unwrap();
        new_keys.verify(&by_old).unwrap();
        // The old instance does not know the new key yet.
        assert!(old_keys.verify(&by_new).is_err());
        // HS256 tokens are refused by an EdDSA server, whatever their kid says.
        let hs = TokenKeys::hs256(&[7u8; 32], 60);
        let claims = hs.verify(&hs.issue(&u).unwrap().token).unwrap();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(new_keys.kid().to_string());
        let forged = jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(new.verifying_key().as_bytes()),
        )
        .unwrap();
        assert!(new_keys.verify(&forged).is_err());
        assert!(new_keys.verify(&hs.issue(&u).unwrap().token).is_err());
    }

    #[test]
    fn generated_keys_load_back_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt-ed25519.pem");
        let generated = generate_ed25519_key(&path).unwrap();
        let key = load_ed25519_private_key(&path).unwrap();
        assert_eq!(generated.kid, key_id(key.verifying_key().as_bytes()));
        assert!(generated
            .public_pem
            .starts_with("-----BEGIN PUBLIC KEY-----"));
        let public_path = dir.path().join("jwt-ed25519.pub.pem");
        std::fs::write(&public_path, &generated.public_pem).unwrap();
        assert_eq!(
            load_ed25519_public_key(&public_path).unwrap(),
            key.verifying_key()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(matches!(
            generate_ed25519_key(&path),
            Err(KeyFileError::Exists(_))
        ));
        // A public key is not a private key, and the reverse.
        assert!(load_ed25519_private_key(&public_path).is_err());
        assert!(load_ed25519_public_key(&path).is_err());
    }

    #[test]
    fn secret_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt-secret");
        let a = load_or_create_secret(&path).unwrap();
        let b = load_or_create_secret(&path).unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
