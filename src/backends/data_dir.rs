//! The data directory: created private to the gateway's user, since it holds the database and
//! the key-encryption key. One the operator made is left as it is, because they may share it on
//! purpose (a group that backs it up), but an accessible one is worth a warning.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// Mode of a data directory the gateway creates (and of any missing parent it creates with it).
pub const DATA_DIR_MODE: u32 = 0o700;

/// Creates `dir` with [`DATA_DIR_MODE`] if it does not exist; warns if an existing one is
/// open to group or others.
pub fn prepare(dir: &Path) -> io::Result<()> {
    match fs::metadata(dir) {
        Ok(metadata) if !metadata.is_dir() => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "exists and is not a directory",
        )),
        Ok(metadata) => {
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %dir.display(),
                    mode = format!("{mode:04o}"),
                    "the data directory is accessible to group or others; it holds the \
                     database and the key-encryption key (chmod 700 it unless that is intended)"
                );
            }
            Ok(())
        }
        // `mode` applies before the directory is visible, so it is never more open than 0700
        // (the umask can only narrow it).
        Err(error) if error.kind() == io::ErrorKind::NotFound => DirBuilder::new()
            .recursive(true)
            .mode(DATA_DIR_MODE)
            .create(dir),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn a_missing_directory_is_created_private_with_its_parents() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("a/b/data");
        prepare(&dir).expect("prepare");
        assert_eq!(mode(&dir), DATA_DIR_MODE);
        assert_eq!(mode(&root.path().join("a")), DATA_DIR_MODE);
        // Preparing again (every start) changes nothing.
        prepare(&dir).expect("prepare again");
        assert_eq!(mode(&dir), DATA_DIR_MODE);
    }

    #[test]
    fn an_existing_directory_keeps_its_mode() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o750)).expect("chmod");
        prepare(dir.path()).expect("prepare");
        assert_eq!(mode(dir.path()), 0o750);
    }

    #[test]
    fn a_file_in_its_place_is_an_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("data");
        fs::write(&file, b"").expect("write");
        assert_eq!(
            prepare(&file).expect_err("a file").kind(),
            io::ErrorKind::AlreadyExists
        );
    }
}
