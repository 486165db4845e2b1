//! Objects as files under a root directory (`file://<data_dir>/objects`).
//!
//! Why not `object_store`'s `LocalFileSystem`: it writes a staging file and renames it into place
//! without any fsync, so after a power cut a parcel we answered 202 for (or the old version of a
//! replaced one) can be empty or gone. Here `put` writes a hidden temporary file in the target
//! directory, fsyncs it, renames it over the key, then fsyncs the directory (and any directory it
//! created, and their parents), which is the POSIX recipe for a durable atomic replace.
//! The blocking file calls run on tokio's blocking pool.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use super::{validate_key, validate_prefix, ObjectStore, MAX_LIST, MAX_OBJECT_SIZE};
use crate::backends::error::BackendError;

/// An [`ObjectStore`] on the local file system.
#[derive(Debug, Clone)]
pub struct LocalObjectStore {
    root: PathBuf,
}

impl LocalObjectStore {
    /// Uses `root` (created if missing) as the store.
    pub fn open(root: &Path) -> Result<Self, BackendError> {
        fs::create_dir_all(root)
            .map_err(|e| BackendError::from_io(&format!("creating {}", root.display()), e))?;
        Ok(LocalObjectStore {
            root: root.to_path_buf(),
        })
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, BackendError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }
}

async fn blocking<T: Send + 'static>(
    context: &'static str,
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, BackendError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| BackendError::internal(format!("{context}: task failed: {e}")))?
        .map_err(|e| BackendError::from_io(context, e))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates the directories between `root` and `dir`, fsyncing the parent of each one created.
fn create_dirs_durably(root: &Path, dir: &Path) -> io::Result<()> {
    let relative = dir.strip_prefix(root).map_err(io::Error::other)?;
    let mut current = root.to_path_buf();
    for component in relative.components() {
        let parent = current.clone();
        current.push(component);
        match fs::create_dir(&current) {
            Ok(()) => sync_dir(&parent)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn write_durably(root: &Path, path: &Path, body: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(root);
    create_dirs_durably(root, dir)?;
    let temporary = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4()));
    let written = (|| {
        let mut file = File::create(&temporary)?;
        file.write_all(body)?;
        file.sync_all()?;
        fs::rename(&temporary, path)?;
        sync_dir(dir)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// Depth-first walk in key order: a directory sorts as its name plus `/`, which is where its
/// keys fall among its siblings' names.
fn walk(
    root: &Path,
    dir: &Path,
    prefix: &str,
    limit: usize,
    out: &mut Vec<String>,
) -> io::Result<()> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // temporary files
        }
        let is_dir = entry.file_type()?.is_dir();
        let sort_name = if is_dir { format!("{name}/") } else { name };
        entries.push((sort_name, entry.path(), is_dir));
    }
    entries.sort();
    for (_, path, is_dir) in entries {
        if out.len() >= limit {
            break;
        }
        let key = path
            .strip_prefix(root)
            .map_err(io::Error::other)?
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        if is_dir {
            // Descend only where keys with the prefix can be.
            let as_prefix = format!("{key}/");
            if as_prefix.starts_with(prefix) || prefix.starts_with(&as_prefix) {
                walk(root, &path, prefix, limit, out)?;
            }
        } else if key.starts_with(prefix) {
            out.push(key);
        }
    }
    Ok(())
}

#[async_trait]
impl ObjectStore for LocalObjectStore {
    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        let path = self.path_of(key)?;
        if body.len() > MAX_OBJECT_SIZE {
            return Err(BackendError::internal(format!(
                "object of {} bytes is over the limit of {MAX_OBJECT_SIZE}",
                body.len()
            )));
        }
        let root = self.root.clone();
        blocking("writing an object", move || {
            write_durably(&root, &path, &body)
        })
        .await
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, BackendError> {
        let path = self.path_of(key)?;
        let read = blocking("reading an object", move || {
            let file = match File::open(&path) {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            let length = file.metadata()?.len();
            if length > MAX_OBJECT_SIZE as u64 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "object over the size limit",
                ));
            }
            let mut body = Vec::with_capacity(length as usize);
            io::Read::read_to_end(
                &mut io::Read::take(file, MAX_OBJECT_SIZE as u64 + 1),
                &mut body,
            )?;
            Ok(Some(body))
        })
        .await?;
        Ok(read.map(Bytes::from))
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        let path = self.path_of(key)?;
        // No directory fsync: callers delete the metadata entry (durably) first, so an object a
        // crash brings back is unreachable garbage for housekeeping, never a resurrected parcel,
        // and an fsync per acknowledgement would cap collection at a few hundred parcels a second.
        blocking("deleting an object", move || match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        })
        .await
    }

    async fn list(&self, prefix: &str, limit: usize) -> Result<Vec<String>, BackendError> {
        validate_prefix(prefix)?;
        let root = self.root.clone();
        let prefix = prefix.to_string();
        let limit = limit.min(MAX_LIST);
        blocking("listing objects", move || {
            let mut keys = Vec::new();
            walk(&root, &root, &prefix, limit, &mut keys)?;
            Ok(keys)
        })
        .await
    }

    async fn health_check(&self) -> Result<(), BackendError> {
        let root = self.root.clone();
        blocking("object store health check", move || {
            // Writability, not just existence: a read-only remount must fail readiness.
            write_durably(&root, &root.join(".health"), b"ok")
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::LocalObjectStore;
    use crate::backends::objects::ObjectStore;

    async fn open() -> (tempfile::TempDir, Arc<dyn ObjectStore>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = LocalObjectStore::open(&dir.path().join("objects")).expect("open");
        (dir, Arc::new(store))
    }

    crate::objects_conformance!(open());

    #[tokio::test]
    async fn no_temporary_files_are_left_behind() {
        let (dir, store) = open().await;
        store.put("a/b", "1".into()).await.expect("put");
        store.put("a/b", "2".into()).await.expect("replace");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("objects/a"))
            .expect("read dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec!["b"]);
    }
}
