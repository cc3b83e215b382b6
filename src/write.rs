//! The one place connlint writes a user's file: the text of `--fix`.
//!
//! A write is atomic (a temporary file in the same folder, renamed over the file), keeps the
//! file's permissions, follows a symbolic link to the file it names (the link stays a link), and
//! refuses a read-only file and a file whose bytes are no longer the ones that were read and
//! fixed: an editor or another tool may have changed it since. A write that fails (the disk is
//! full) leaves the file as it was and removes the temporary file: never a partial file. The fixed text carries the file's own line endings,
//! encoding declaration and byte-order mark: the fixes only edit the text between them.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::walk::describe_io_error;

/// Replaces the text of `path` with `new`, if the file still holds exactly `old`.
pub fn replace_file(path: &Path, old: &str, new: &str) -> Result<(), String> {
    replace_file_writing_with(path, old, new, |file, bytes| file.write_all(bytes))
}

/// [`replace_file`], writing the temporary file's bytes with `write` (the tests inject failures).
fn replace_file_writing_with(
    path: &Path,
    old: &str,
    new: &str,
    write: impl FnOnce(&mut fs::File, &[u8]) -> std::io::Result<()>,
) -> Result<(), String> {
    let target = fs::canonicalize(path).map_err(|e| describe_io_error(&e))?;
    let unchanged = |target: &Path| -> Result<(), String> {
        let now = fs::read(target).map_err(|e| describe_io_error(&e))?;
        if now == old.as_bytes() {
            Ok(())
        } else {
            Err("the file changed since it was read; it was not overwritten (run again)".to_string())
        }
    };
    unchanged(&target)?;
    let permissions = fs::metadata(&target).map_err(|e| describe_io_error(&e))?.permissions();
    // A rename would replace a read-only file as easily as any other (it needs only the
    // folder's permission); read-only says the user does not want it changed.
    if permissions.readonly() {
        return Err("the file is read-only; it was not fixed".to_string());
    }
    let temporary = temporary_path(&target);
    let written = (|| -> std::io::Result<()> {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temporary)?;
        write(&mut file, new.as_bytes())?;
        file.set_permissions(permissions)?;
        file.sync_all()
    })();
    let result =
        written.map_err(|e| format!("cannot write the fixed file: {}", describe_io_error(&e))).and_then(|()| {
            // Checked again right before the rename, to keep the window small.
            unchanged(&target)?;
            fs::rename(&temporary, &target).map_err(|e| format!("cannot replace the file: {}", describe_io_error(&e)))
        });
    if result.is_err() {
        fs::remove_file(&temporary).ok();
    }
    result
}

/// A new name beside `target`: `.NAME.connlint-PID-N.tmp`.
fn temporary_path(target: &Path) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    target.with_file_name(format!(".{name}.connlint-{}-{n}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("connlint-write-{}-{name}", std::process::id()));
        fs::remove_dir_all(&dir).ok();
        fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    #[test]
    fn replaces_the_text_and_leaves_no_temporary_file() {
        let dir = scratch("replace");
        let path = dir.join("a.py");
        fs::write(&path, "old\r\n").expect("write");
        replace_file(&path, "old\r\n", "new\r\n").expect("replaced");
        assert_eq!(fs::read_to_string(&path).expect("read"), "new\r\n");
        assert_eq!(fs::read_dir(&dir).expect("dir").count(), 1);
    }

    #[test]
    fn refuses_a_file_that_changed() {
        let dir = scratch("changed");
        let path = dir.join("a.py");
        fs::write(&path, "edited meanwhile\n").expect("write");
        let error = replace_file(&path, "old\n", "new\n").expect_err("refused");
        assert!(error.contains("changed since it was read"), "{error}");
        assert_eq!(fs::read_to_string(&path).expect("read"), "edited meanwhile\n");
        assert_eq!(fs::read_dir(&dir).expect("dir").count(), 1);
    }

    #[test]
    fn refuses_a_read_only_file() {
        let dir = scratch("read-only");
        let path = dir.join("a.py");
        fs::write(&path, "old\n").expect("write");
        let mut permissions = fs::metadata(&path).expect("meta").permissions();
        permissions.set_readonly(true);
        fs::set_permissions(&path, permissions).expect("chmod");
        let error = replace_file(&path, "old\n", "new\n").expect_err("refused");
        assert!(error.contains("read-only"), "{error}");
        assert_eq!(fs::read_to_string(&path).expect("read"), "old\n");
        assert_eq!(fs::read_dir(&dir).expect("dir").count(), 1);
    }

    /// The disk fills up halfway through the temporary file: the file keeps its text, and the
    /// half-written temporary file is removed.
    #[test]
    fn a_full_disk_leaves_the_file_as_it_was_and_no_partial_file() {
        let dir = scratch("full");
        let path = dir.join("a.py");
        fs::write(&path, "old text\n").expect("write");
        let new = "new text, longer than what fits\n";
        let error = replace_file_writing_with(&path, "old text\n", new, |file, bytes| {
            file.write_all(&bytes[..bytes.len() / 2])?;
            Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
        })
        .expect_err("the write fails");
        assert_eq!(error, "cannot write the fixed file: no space left on device");
        assert_eq!(fs::read_to_string(&path).expect("read"), "old text\n");
        assert_eq!(fs::read_dir(&dir).expect("dir").count(), 1, "a temporary file was left");
    }

    /// Another program writes the file while the fixed text is being written: the rename is
    /// refused (checked again right before it), the other program's text stays.
    #[test]
    fn a_file_changed_while_the_fix_is_written_is_not_overwritten() {
        let dir = scratch("changed-during");
        let path = dir.join("a.py");
        fs::write(&path, "old\n").expect("write");
        let error = replace_file_writing_with(&path, "old\n", "new\n", |file, bytes| {
            file.write_all(bytes)?;
            fs::write(dir.join("a.py"), "saved by an editor\n")
        })
        .expect_err("refused");
        assert!(error.contains("changed since it was read"), "{error}");
        assert_eq!(fs::read_to_string(&path).expect("read"), "saved by an editor\n");
        assert_eq!(fs::read_dir(&dir).expect("dir").count(), 1, "a temporary file was left");
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions_and_symbolic_links() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("links");
        let real = dir.join("real.py");
        fs::write(&real, "old\n").expect("write");
        fs::set_permissions(&real, fs::Permissions::from_mode(0o750)).expect("chmod");
        let link = dir.join("link.py");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        replace_file(&link, "old\n", "new\n").expect("replaced");
        assert!(fs::symlink_metadata(&link).expect("link").file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).expect("read"), "new\n");
        assert_eq!(fs::metadata(&real).expect("meta").permissions().mode() & 0o777, 0o750);
    }
}
