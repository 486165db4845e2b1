//! A [`KeySealer`] with a local key-encryption key (KEK): from `AWALA_KEK`, a shared KEK file,
//! or `<data_dir>/kek.bin` (see [`super::kek`] for the sources and their checks).

use std::path::Path;

use async_trait::async_trait;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};

use super::kek::{read_kek_file, Kek, KekOrigin, KekSettings};
use super::{KeySealer, MAX_PLAINTEXT_LENGTH, NONCE_LENGTH, SEALED_FORMAT_VERSION, TAG_LENGTH};
use crate::backends::error::BackendError;
use crate::protocols::awala::keys::random_bytes;

pub use super::kek::KEK_FILE_NAME;

/// A [`KeySealer`] whose KEK is held in this process.
pub struct FileKeySealer {
    kek: Kek,
    origin: KekOrigin,
}

impl std::fmt::Debug for FileKeySealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        write!(f, "FileKeySealer({})", self.origin)
    }
}

impl FileKeySealer {
    /// Loads `<data_dir>/kek.bin`, creating it (mode 0600) if missing.
    pub fn open(data_dir: &Path) -> Result<Self, BackendError> {
        Self::open_with(&KekSettings::default(), data_dir)
    }

    /// Loads the KEK from the source `settings` pick (see [`super::kek`]).
    pub fn open_with(settings: &KekSettings, data_dir: &Path) -> Result<Self, BackendError> {
        let (kek, origin) = settings.load(data_dir)?;
        Ok(FileKeySealer { kek, origin })
    }
}

impl FileKeySealer {
    fn seal_now(&self, key_id: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, BackendError> {
        if plaintext.len() > MAX_PLAINTEXT_LENGTH {
            return Err(BackendError::internal("key too large to seal"));
        }
        let nonce = random_bytes(NONCE_LENGTH);
        let mut tag = [0u8; TAG_LENGTH];
        let ciphertext = encrypt_aead(
            Cipher::aes_256_gcm(),
            self.kek.as_bytes(),
            Some(&nonce),
            key_id,
            plaintext,
            &mut tag,
        )
        .map_err(|e| BackendError::internal(format!("sealing a key: {e}")).with_source(e))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LENGTH + ciphertext.len() + TAG_LENGTH);
        sealed.push(SEALED_FORMAT_VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed.extend_from_slice(&tag);
        Ok(sealed)
    }

    fn unseal_now(&self, key_id: &[u8], sealed: &[u8]) -> Result<Vec<u8>, BackendError> {
        if sealed.len() < 1 + NONCE_LENGTH + TAG_LENGTH {
            return Err(BackendError::corrupt("sealed key too short"));
        }
        if sealed[0] != SEALED_FORMAT_VERSION {
            return Err(BackendError::corrupt(format!(
                "sealed key of unknown format version {}",
                sealed[0]
            )));
        }
        let (nonce, rest) = sealed[1..].split_at(NONCE_LENGTH);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LENGTH);
        decrypt_aead(
            Cipher::aes_256_gcm(),
            self.kek.as_bytes(),
            Some(nonce),
            key_id,
            ciphertext,
            tag,
        )
        .map_err(|_| {
            BackendError::corrupt(format!(
                "sealed key does not authenticate: the key-encryption key ({}) is not the one it \
                 was sealed with, or the record was moved or tampered with",
                self.origin
            ))
        })
    }
}

#[async_trait]
impl KeySealer for FileKeySealer {
    async fn seal(&self, key_id: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, BackendError> {
        self.seal_now(key_id, plaintext)
    }

    async fn unseal(&self, key_id: &[u8], sealed: &[u8]) -> Result<Vec<u8>, BackendError> {
        self.unseal_now(key_id, sealed)
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        // A file must still be ours alone and hold the key we loaded; a value cannot change.
        if let KekOrigin::File(path) = &self.origin {
            if read_kek_file(path)? != self.kek {
                return Err(BackendError::corrupt(format!(
                    "key-encryption key file {} changed on disk",
                    path.display()
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    use super::{FileKeySealer, KEK_FILE_NAME};
    use crate::backends::error::BackendErrorKind;
    use crate::backends::keys::KeySealer;

    async fn open() -> (tempfile::TempDir, Arc<dyn KeySealer>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let sealer = FileKeySealer::open(dir.path()).expect("open");
        (dir, Arc::new(sealer))
    }

    async fn open_another() -> (tempfile::TempDir, Arc<dyn KeySealer>) {
        open().await
    }

    crate::keys_conformance!(open(), open_another());

    #[tokio::test]
    async fn kek_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = FileKeySealer::open(dir.path()).expect("create");
        let path = dir.path().join(KEK_FILE_NAME);
        let mode = fs::metadata(&path).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let sealed = first.seal(b"id", b"secret").await.expect("seal");
        let second = FileKeySealer::open(dir.path()).expect("reopen");
        assert_eq!(
            second.unseal(b"id", &sealed).await.expect("unseal"),
            b"secret"
        );
        second.health_check().await.expect("healthy");
    }

    #[test]
    fn readable_kek_file_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        FileKeySealer::open(dir.path()).expect("create");
        let path = dir.path().join(KEK_FILE_NAME);
        for mode in [0o640, 0o604, 0o644] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
            let error = FileKeySealer::open(dir.path()).expect_err("refused");
            assert_eq!(error.kind, BackendErrorKind::Internal);
            assert!(error.message.contains("chmod 600"), "{error}");
        }
    }

    #[test]
    fn truncated_kek_file_is_corrupt() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(KEK_FILE_NAME);
        fs::write(&path, [0u8; 16]).expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        let error = FileKeySealer::open(dir.path()).expect_err("refused");
        assert_eq!(error.kind, BackendErrorKind::Corrupt);
    }
}
