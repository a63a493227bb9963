//! Atomic publication.
//!
//! A run writes into `OUT/.staging/<run-id>/`. Only when every file is written
//! is that folder renamed to `OUT/runs/<run-id>/` and the `OUT/latest` symlink
//! replaced in one `rename(2)`, so a reader sees the previous run or the new
//! one, never a mixture. A failed run removes its staging folder; a killed run
//! leaves one behind, which the next run clears while holding the lock.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use super::OutputError;

const STAGING: &str = ".staging";
const RUNS: &str = "runs";
const LATEST: &str = "latest";
const LOCK: &str = ".strata.lock";

fn io<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(std::io::Error) -> OutputError + 'a {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// An exclusive lock on an output folder, held for the whole run so two
/// nightly jobs cannot publish over each other. Released on drop.
pub struct OutputLock {
    _file: File,
}

impl OutputLock {
    /// Takes the lock on `out` (creating the folder), or fails at once if held.
    pub fn acquire(out: &Path) -> Result<OutputLock, OutputError> {
        std::fs::create_dir_all(out).map_err(io(out, "creating the output folder"))?;
        let path = out.join(LOCK);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path, "opening the lock file"))?;
        match file.try_lock() {
            Ok(()) => Ok(OutputLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(OutputError::Locked { path }),
            Err(TryLockError::Error(e)) => Err(io(&path, "locking")(e)),
        }
    }
}

/// A run's staging folder: removed on drop unless published.
pub struct Staging {
    out: PathBuf,
    run_id: String,
    dir: PathBuf,
    published: bool,
}

impl Staging {
    /// Clears leftovers of killed runs and creates `OUT/.staging/<run-id>/`.
    /// Needs the [`OutputLock`], which guarantees no other run is staging.
    pub fn create(out: &Path, run_id: &str, _lock: &OutputLock) -> Result<Staging, OutputError> {
        let staging_root = out.join(STAGING);
        if staging_root.exists() {
            std::fs::remove_dir_all(&staging_root)
                .map_err(io(&staging_root, "clearing old staging folders"))?;
        }
        let dir = staging_root.join(run_id);
        std::fs::create_dir_all(&dir).map_err(io(&dir, "creating the staging folder"))?;
        Ok(Staging {
            out: out.to_path_buf(),
            run_id: run_id.to_string(),
            dir,
            published: false,
        })
    }

    /// Where outputs are written before publication.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Moves the staged run to `OUT/runs/<run-id>/` and points `OUT/latest` at it.
    pub fn publish(mut self) -> Result<PathBuf, OutputError> {
        let runs = self.out.join(RUNS);
        std::fs::create_dir_all(&runs).map_err(io(&runs, "creating the runs folder"))?;
        let final_dir = runs.join(&self.run_id);
        std::fs::rename(&self.dir, &final_dir)
            .map_err(io(&final_dir, "moving the staged run into place"))?;
        self.published = true;
        // Leave no empty `.staging/` behind after a clean publish.
        let _ = std::fs::remove_dir(self.out.join(STAGING));
        point_latest(&self.out, &self.run_id)?;
        Ok(final_dir)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Replaces `OUT/latest` with a relative symlink to `runs/<run-id>` atomically:
/// the new link is made under a temporary name, then renamed over the old one.
fn point_latest(out: &Path, run_id: &str) -> Result<(), OutputError> {
    let target = Path::new(RUNS).join(run_id);
    let temporary = out.join(format!(".{LATEST}.{run_id}"));
    let _ = std::fs::remove_file(&temporary);
    make_link(&target, &temporary)?;
    let latest = out.join(LATEST);
    std::fs::rename(&temporary, &latest).map_err(io(&latest, "switching latest to the new run"))
}

#[cfg(unix)]
fn make_link(target: &Path, link: &Path) -> Result<(), OutputError> {
    std::os::unix::fs::symlink(target, link).map_err(io(link, "creating the latest link"))
}

#[cfg(not(unix))]
fn make_link(target: &Path, link: &Path) -> Result<(), OutputError> {
    // Windows needs privileges for symlinks; a junction would not be atomic either.
    Err(OutputError::Io {
        path: link.to_path_buf(),
        action: "creating the latest link",
        source: std::io::Error::other(format!(
            "symlinks to {} are only supported on Unix",
            target.display()
        )),
    })
}

/// The run `OUT/latest` points at, if any.
pub fn latest_run(out: &Path) -> Option<PathBuf> {
    std::fs::read_link(out.join(LATEST))
        .ok()
        .map(|t| out.join(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_switches_latest_and_failed_staging_leaves_nothing() {
        let out = tempfile::tempdir().expect("tempdir");
        let lock = OutputLock::acquire(out.path()).expect("lock");
        let first = Staging::create(out.path(), "run-1", &lock).expect("stage");
        std::fs::write(first.dir().join("a.txt"), "1").expect("write");
        first.publish().expect("publish");
        assert_eq!(
            std::fs::read_to_string(out.path().join("latest/a.txt")).expect("read"),
            "1"
        );

        let second = Staging::create(out.path(), "run-2", &lock).expect("stage");
        let staged = second.dir().to_path_buf();
        std::fs::write(staged.join("a.txt"), "2").expect("write");
        drop(second); // a failure before publish
        assert!(!staged.exists());
        assert_eq!(latest_run(out.path()), Some(out.path().join("runs/run-1")));
    }

    #[test]
    fn a_second_run_cannot_take_the_lock() {
        let out = tempfile::tempdir().expect("tempdir");
        let _held = OutputLock::acquire(out.path()).expect("lock");
        assert!(matches!(
            OutputLock::acquire(out.path()),
            Err(OutputError::Locked { .. })
        ));
    }
}
