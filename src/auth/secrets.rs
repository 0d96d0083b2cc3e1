//! Secrets at rest: secret access keys are encrypted (they are needed to verify signatures), passwords are
//! only ever hashed.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read or create the key file {0}: {1}")]
    KeyFile(String, std::io::Error),
    #[error("the key file {0} is not 32 bytes")]
    KeyLength(String),
    #[error("a stored secret cannot be decrypted with this data directory's key")]
    Decrypt,
}

/// Encrypts and decrypts stored secret keys with AES-256-GCM under the data directory's key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl SecretBox {
    /// Loads `path`, creating it (mode 0600) with a fresh random key on first start.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretError> {
        let shown = path.display().to_string();
        if !path.exists() {
            let mut key = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut key);
            write_private_file(path, &key).map_err(|e| SecretError::KeyFile(shown.clone(), e))?;
        }
        Self::load(path)
    }

    /// Loads a key file that must exist: the one given to every node of a cluster, which a node must not
    /// make up on its own (a key of its own could not open what the others sealed).
    pub fn load(path: &Path) -> Result<Self, SecretError> {
        let shown = path.display().to_string();
        let key = std::fs::read(path).map_err(|e| SecretError::KeyFile(shown.clone(), e))?;
        if key.len() != 32 {
            return Err(SecretError::KeyLength(shown));
        }
        let cipher = Aes256Gcm::new_from_slice(&key).expect("key length checked");
        Ok(SecretBox { cipher })
    }

    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let mut out = nonce.to_vec();
        out.extend(
            self.cipher
                .encrypt(Nonce::from_slice(&nonce), plain)
                .expect("AES-GCM encryption does not fail for in-memory input"),
        );
        out
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, SecretError> {
        if sealed.len() < 12 {
            return Err(SecretError::Decrypt);
        }
        let (nonce, body) = sealed.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| SecretError::Decrypt)
    }
}

/// Writes a file only its owner can read (0600 on Unix).
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::thread_rng());
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters accepts any password")
        .to_string()
}

/// Hash of a secret arca generated itself (repo passwords: 32 random letters and digits, about 190 bits).
/// Such a secret cannot be guessed, so one SHA-256 is as safe as argon2 here, and it keeps every
/// Basic-authenticated artifact request cheap; argon2 stays for the passwords people choose.
pub fn hash_generated_secret(secret: &str) -> String {
    format!("sha256${}", super::sha256_hex(secret.as_bytes()))
}

/// Verifies a generated secret against `hash_generated_secret`'s output.
pub fn verify_generated_secret(secret: &str, stored_hash: &str) -> bool {
    stored_hash.strip_prefix("sha256$").is_some_and(|digest| {
        let mut presented = [0u8; 64];
        hex::encode_to_slice(Sha256::digest(secret.as_bytes()), &mut presented)
            .expect("a SHA-256 is 64 hex digits");
        presented[..].ct_eq(digest.as_bytes()).into()
    })
}

pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_round_trip_and_resist_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("secret.key");
        let sbox = SecretBox::load_or_create(&key).unwrap();
        let sealed = sbox.seal(b"my-secret");
        assert_eq!(sbox.open(&sealed).unwrap(), b"my-secret");
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(sbox.open(&tampered).is_err());
        let reloaded = SecretBox::load_or_create(&key).unwrap();
        assert_eq!(reloaded.open(&sealed).unwrap(), b"my-secret");
    }

    #[test]
    fn generated_secrets_verify_only_against_their_hash() {
        let stored = hash_generated_secret("s3cret");
        assert!(stored.starts_with("sha256$"));
        assert!(verify_generated_secret("s3cret", &stored));
        assert!(!verify_generated_secret("s3creT", &stored));
        assert!(!verify_generated_secret("s3cret", "s3cret"));
    }

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("x", "not-a-hash"));
    }
}
