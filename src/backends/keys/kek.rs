//! Where the key-encryption key (KEK) comes from, in order of precedence:
//!
//! 1. the key itself (`AWALA_KEK`: base64 or hex of 32 octets), for orchestrators that inject
//!    secrets as environment variables;
//! 2. a KEK file named by the configuration (`--kek-file`, `keys.kek_file`, `AWALA_KEK_FILE`),
//!    which replicas with different data directories share;
//! 3. `<data_dir>/kek.bin`, the embedded default.
//!
//! A KEK file holds the 32 raw octets, or their base64 or hex form (so `openssl rand -base64 32`
//! makes one). A missing file is created (mode 0600) with a random key on first start; a file
//! that group or others can read stops start-up, because anyone who can read it and the database
//! holds every private key: better not to start than to run with keys exposed.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;

use crate::backends::error::BackendError;
use crate::protocols::awala::keys::random_bytes;

/// Name of the KEK file in the data directory.
pub const KEK_FILE_NAME: &str = "kek.bin";
/// AES-256: 32 octets.
pub const KEK_LENGTH: usize = 32;
/// Largest KEK file read: the hex form plus a line ending, with room for stray whitespace.
const MAX_KEK_FILE_LENGTH: u64 = 256;

/// A 32-octet key-encryption key. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Kek([u8; KEK_LENGTH]);

impl Kek {
    pub fn as_bytes(&self) -> &[u8; KEK_LENGTH] {
        &self.0
    }
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kek(REDACTED)")
    }
}

/// Where a loaded KEK came from: named in errors, and re-checked by health checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KekOrigin {
    /// Given as a value (`AWALA_KEK`).
    Value,
    /// Read from (or created in) this file.
    File(PathBuf),
}

impl fmt::Display for KekOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KekOrigin::Value => f.write_str("AWALA_KEK"),
            KekOrigin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The configured KEK sources; both unset means `<data_dir>/kek.bin`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KekSettings {
    /// The key itself, base64 or hex (a secret).
    pub value: Option<String>,
    /// A KEK file shared by replicas.
    pub file: Option<PathBuf>,
}

impl fmt::Debug for KekSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KekSettings")
            .field("value", &self.value.as_ref().map(|_| "REDACTED"))
            .field("file", &self.file)
            .finish()
    }
}

impl KekSettings {
    /// Where the KEK comes from, by precedence (see the module documentation).
    pub fn origin(&self, data_dir: &Path) -> KekOrigin {
        match (&self.value, &self.file) {
            (Some(_), _) => KekOrigin::Value,
            (None, Some(file)) => KekOrigin::File(file.clone()),
            (None, None) => KekOrigin::File(data_dir.join(KEK_FILE_NAME)),
        }
    }

    /// Loads the KEK, creating its file when a file is used and missing.
    pub fn load(&self, data_dir: &Path) -> Result<(Kek, KekOrigin), BackendError> {
        let origin = self.origin(data_dir);
        let kek = match (&origin, &self.value) {
            (KekOrigin::Value, Some(value)) => decode_kek(value).map_err(|reason| {
                BackendError::internal(format!("invalid key-encryption key in AWALA_KEK: {reason}"))
            })?,
            (KekOrigin::File(path), _) => open_kek_file(path)?,
            (KekOrigin::Value, None) => {
                return Err(BackendError::internal("no key-encryption key value"))
            }
        };
        Ok((kek, origin))
    }
}

/// Decodes a KEK written as text: base64 (standard, padded or not) or hex, of exactly 32 octets.
pub fn decode_kek(text: &str) -> Result<Kek, String> {
    let text = text.trim();
    let bytes = if text.len() == 2 * KEK_LENGTH && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|e| format!("not valid hex: {e}"))?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .map_err(|_| {
                format!("expected {KEK_LENGTH} octets in base64 or hex (e.g. `openssl rand -base64 32`)")
            })?
    };
    to_kek(&bytes).map_err(|length| {
        format!(
            "it decodes to {length} octets, expected {KEK_LENGTH} (e.g. `openssl rand -base64 32`)"
        )
    })
}

fn to_kek(bytes: &[u8]) -> Result<Kek, usize> {
    <[u8; KEK_LENGTH]>::try_from(bytes)
        .map(Kek)
        .map_err(|_| bytes.len())
}

/// Reads the KEK file at `path`, creating it (mode 0600, random key) if it does not exist.
pub fn open_kek_file(path: &Path) -> Result<Kek, BackendError> {
    match create_kek_file(path) {
        Ok(()) => tracing::info!(path = %path.display(), "created key-encryption key"),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(BackendError::from_io(
                &format!("creating key-encryption key file {}", path.display()),
                e,
            ))
        }
    }
    read_kek_file(path)
}

fn create_kek_file(path: &Path) -> io::Result<()> {
    if path.exists() {
        return Err(io::ErrorKind::AlreadyExists.into());
    }
    // Written whole under a private temporary name, then published with `hard_link`, which
    // fails if the name exists: replicas starting at once on a shared volume never read a
    // half-written key, and exactly one key wins.
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    // A random suffix, not the pid: replicas in containers are all pid 1.
    let suffix = hex::encode(random_bytes(8));
    let temporary = path.with_file_name(format!(".{name}.{suffix}.tmp"));
    let published = write_new_key(&temporary).and_then(|()| fs::hard_link(&temporary, path));
    let _ = fs::remove_file(&temporary);
    published?;
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn write_new_key(path: &Path) -> io::Result<()> {
    // `create_new` + mode: the file never exists with wider permissions, even for an instant.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(&random_bytes(KEK_LENGTH))?;
    file.sync_all()
}

/// Reads a KEK file: private (no group or other access), holding 32 raw octets or their text form.
pub fn read_kek_file(path: &Path) -> Result<Kek, BackendError> {
    let context = || format!("reading key-encryption key file {}", path.display());
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
    let file = File::open(path).map_err(|e| BackendError::from_io(&context(), e))?;
    let mut contents = Vec::with_capacity(KEK_LENGTH);
    Read::take(file, MAX_KEK_FILE_LENGTH + 1)
        .read_to_end(&mut contents)
        .map_err(|e| BackendError::from_io(&context(), e))?;
    if let Ok(kek) = to_kek(&contents) {
        return Ok(kek);
    }
    // Not 32 raw octets: the text form, or a damaged file.
    std::str::from_utf8(&contents)
        .map_err(|_| "it is neither 32 raw octets nor text".to_owned())
        .and_then(decode_kek)
        .map_err(|reason| {
            BackendError::corrupt(format!(
                "{} is not a key-encryption key ({} octets): {reason}",
                path.display(),
                contents.len()
            ))
        })
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::backends::error::BackendErrorKind;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn counting() -> [u8; KEK_LENGTH] {
        std::array::from_fn(|i| i as u8)
    }

    fn private_file(dir: &Path, contents: &[u8]) -> PathBuf {
        let path = dir.join("kek");
        fs::write(&path, contents).expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        path
    }

    #[test]
    fn decodes_hex_and_base64_of_32_octets() {
        let base64 = base64::engine::general_purpose::STANDARD.encode(counting());
        for text in [
            HEX.to_owned(),
            HEX.to_uppercase(),
            base64.clone(),
            format!("{base64}\n"),
            base64.trim_end_matches('=').to_owned(),
        ] {
            assert_eq!(decode_kek(&text).expect(&text).as_bytes(), &counting());
        }
    }

    #[test]
    fn malformed_keys_say_what_is_expected() {
        for text in ["", "not base64!", "AAAA", &HEX[..62]] {
            let reason = decode_kek(text).expect_err(text);
            assert!(reason.contains("32"), "{text}: {reason}");
        }
    }

    #[test]
    fn precedence_is_value_then_file_then_data_dir() {
        let data_dir = Path::new("/data");
        let file = PathBuf::from("/shared/kek");
        let mut settings = KekSettings::default();
        assert_eq!(
            settings.origin(data_dir),
            KekOrigin::File(data_dir.join(KEK_FILE_NAME))
        );
        settings.file = Some(file.clone());
        assert_eq!(settings.origin(data_dir), KekOrigin::File(file));
        settings.value = Some(HEX.to_owned());
        assert_eq!(settings.origin(data_dir), KekOrigin::Value);
        let (kek, origin) = settings.load(data_dir).expect("the value wins");
        assert_eq!(kek.as_bytes(), &counting());
        assert_eq!(origin, KekOrigin::Value);
    }

    #[test]
    fn a_bad_value_is_a_clear_error() {
        let settings = KekSettings {
            value: Some("short".into()),
            file: None,
        };
        let error = settings.load(Path::new("/nowhere")).expect_err("refused");
        assert!(error.message.contains("AWALA_KEK"), "{error}");
    }

    #[test]
    fn a_missing_file_is_created_private_and_then_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("shared-kek");
        let settings = KekSettings {
            value: None,
            file: Some(path.clone()),
        };
        let (first, origin) = settings.load(Path::new("/unused")).expect("create");
        assert_eq!(origin, KekOrigin::File(path.clone()));
        let mode = fs::metadata(&path).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (second, _) = settings.load(Path::new("/elsewhere")).expect("reuse");
        assert_eq!(first, second);
    }

    #[test]
    fn replicas_creating_the_file_at_once_all_get_the_one_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kek");
        let keys: Vec<Kek> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| open_kek_file(&path).expect("open")))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("thread"))
                .collect()
        });
        assert!(keys.iter().all(|key| *key == keys[0]));
        let entries = fs::read_dir(dir.path()).expect("read_dir").count();
        assert_eq!(entries, 1, "no temporary file is left behind");
    }

    #[test]
    fn files_may_hold_raw_octets_or_text() {
        let dir = tempfile::tempdir().expect("temp dir");
        let base64 = base64::engine::general_purpose::STANDARD.encode(counting());
        for contents in [
            counting().to_vec(),
            format!("{HEX}\n").into_bytes(),
            format!("{base64}\n").into_bytes(),
        ] {
            let path = private_file(dir.path(), &contents);
            assert_eq!(read_kek_file(&path).expect("read").as_bytes(), &counting());
        }
    }

    #[test]
    fn readable_files_are_refused_and_damaged_ones_are_corrupt() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = private_file(dir.path(), &counting());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        let error = read_kek_file(&path).expect_err("refused");
        assert_eq!(error.kind, BackendErrorKind::Internal);
        assert!(error.message.contains("chmod 600"), "{error}");

        for contents in [&[0u8; 16][..], &[0xff; 40], b"not a key\n"] {
            let path = private_file(dir.path(), contents);
            let error = read_kek_file(&path).expect_err("corrupt");
            assert_eq!(error.kind, BackendErrorKind::Corrupt, "{error}");
            assert!(
                error.message.contains("not a key-encryption key"),
                "{error}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let settings = KekSettings {
            value: Some(HEX.to_owned()),
            file: None,
        };
        assert!(!format!("{settings:?}").contains(HEX));
        let (kek, _) = settings.load(Path::new("/")).expect("load");
        assert_eq!(format!("{kek:?}"), "Kek(REDACTED)");
    }
}
