//! A key-encryption key (KEK) in a file: `<data_dir>/kek.bin`, 32 random octets, mode 0600.
//!
//! Created on first start. A KEK file that group or others can read is refused, because anyone
//! who can read it and the database holds every private key; better not to start than to run
//! with keys exposed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};

use super::{KeySealer, MAX_PLAINTEXT_LENGTH, NONCE_LENGTH, SEALED_FORMAT_VERSION, TAG_LENGTH};
use crate::backends::error::BackendError;
use crate::protocols::awala::keys::random_bytes;

/// Name of the KEK file in the data directory.
pub const KEK_FILE_NAME: &str = "kek.bin";
const KEK_LENGTH: usize = 32;

/// A [`KeySealer`] whose KEK lives in a local file.
pub struct FileKeySealer {
    kek: [u8; KEK_LENGTH],
    path: PathBuf,
}

impl std::fmt::Debug for FileKeySealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        write!(f, "FileKeySealer({})", self.path.display())
    }
}

impl FileKeySealer {
    /// Loads `<data_dir>/kek.bin`, creating it (mode 0600) if missing.
    pub fn open(data_dir: &Path) -> Result<Self, BackendError> {
        let path = data_dir.join(KEK_FILE_NAME);
        match create_kek(&path) {
            Ok(()) => tracing::info!(path = %path.display(), "created key-encryption key"),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(BackendError::from_io(
                    &format!("creating {}", path.display()),
                    e,
                ))
            }
        }
        let kek = read_kek(&path)?;
        Ok(FileKeySealer { kek, path })
    }
}

fn create_kek(path: &Path) -> io::Result<()> {
    // `create_new` + mode: the file never exists with wider permissions, even for an instant.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(&random_bytes(KEK_LENGTH))?;
    file.sync_all()?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn read_kek(path: &Path) -> Result<[u8; KEK_LENGTH], BackendError> {
    let context = || format!("reading {}", path.display());
    let metadata = fs::metadata(path).map_err(|e| BackendError::from_io(&context(), e))?;
    if !metadata.is_file() {
        return Err(BackendError::internal(format!(
            "{} is not a file",
            path.display()
        )));
    }
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(BackendError::internal(format!(
            "refusing to use {}: mode {mode:o} lets group or others read it (chmod 600)",
            path.display()
        )));
    }
    let mut kek = [0u8; KEK_LENGTH];
    let file = File::open(path).map_err(|e| BackendError::from_io(&context(), e))?;
    let mut contents = Vec::with_capacity(KEK_LENGTH);
    Read::take(file, KEK_LENGTH as u64 + 1)
        .read_to_end(&mut contents)
        .map_err(|e| BackendError::from_io(&context(), e))?;
    if contents.len() != KEK_LENGTH {
        return Err(BackendError::corrupt(format!(
            "{} holds {} octets, expected {KEK_LENGTH}",
            path.display(),
            contents.len()
        )));
    }
    kek.copy_from_slice(&contents);
    Ok(kek)
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
            &self.kek,
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
            &self.kek,
            Some(nonce),
            key_id,
            ciphertext,
            tag,
        )
        .map_err(|_| {
            BackendError::corrupt("sealed key does not authenticate (wrong id, key or tampered)")
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
        // The file must still be ours alone and hold the key we loaded.
        let kek = read_kek(&self.path)?;
        if kek != self.kek {
            return Err(BackendError::corrupt(
                "key-encryption key file changed on disk",
            ));
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
