//! Atomic, durable publication.
//!
//! A run writes into `OUT/.staging/<run-id>/`. Only when every file is written
//! is every file and folder of it flushed to disk (`fsync`: files, then their
//! folders, then the parent), the folder renamed to `OUT/runs/<run-id>/`, the
//! `runs/` and `OUT` folders flushed, and the `OUT/latest` symlink replaced in
//! one `rename(2)` and flushed. A reader sees the previous run or the new one,
//! never a mixture, and a power cut cannot leave `latest` pointing at files
//! whose contents were still in the page cache.
//!
//! A failed run removes its staging folder; a killed run leaves one behind,
//! which the next run clears while holding the lock ([`Staging::create`]). A
//! run killed between the rename and the switch leaves a complete
//! `runs/<run-id>/` that `latest` does not point at; the next run finds it
//! ([`recover`]) and moves `latest` forward to it. `latest` only ever moves
//! forward, and only to a complete run (one with a `manifest.json`).
//! [`prune`] removes the oldest complete runs beyond `[publish] keep_runs`,
//! never the one `latest` points at and never a folder that is not a run.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use super::OutputError;

const STAGING: &str = ".staging";
const RUNS: &str = "runs";
const LATEST: &str = "latest";
const LOCK: &str = ".strata.lock";
const MANIFEST: &str = "manifest.json";
/// The name a new `latest` link is made under before it is renamed into place.
const TEMPORARY_LATEST: &str = ".latest.";

fn io<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(std::io::Error) -> OutputError + 'a {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// An exclusive lock on an output folder, held for the whole run (taken
/// before any input is read) so two nightly jobs cannot publish over each
/// other, and by `strata report --run`. Released on drop, also when the
/// process dies (an advisory `flock`), so a stale lock file never blocks.
pub struct OutputLock {
    _file: File,
    out: PathBuf,
}

impl OutputLock {
    /// Takes the lock on `out` (creating the folder), or fails at once if
    /// held: it never waits.
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
            Ok(()) => Ok(OutputLock {
                _file: file,
                out: out.to_path_buf(),
            }),
            Err(TryLockError::WouldBlock) => Err(OutputError::Locked { path }),
            Err(TryLockError::Error(e)) => Err(io(&path, "locking")(e)),
        }
    }

    /// The lock of the output folder that holds the published run `run`
    /// (`OUT/runs/<run-id>` or `OUT/latest`), taken like [`acquire`]; `None`
    /// when `run` is not inside a strata output folder (a copied run).
    ///
    /// [`acquire`]: OutputLock::acquire
    pub fn for_run(run: &Path) -> Result<Option<OutputLock>, OutputError> {
        // A run that does not exist is the report's error to give, not the lock's.
        let resolved = match std::fs::canonicalize(run) {
            Ok(resolved) => resolved,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(run, "finding the run folder")(e)),
        };
        let Some(runs) = resolved.parent() else {
            return Ok(None);
        };
        if runs.file_name() != Some(RUNS.as_ref()) {
            return Ok(None);
        }
        match runs.parent() {
            Some(out) => OutputLock::acquire(out).map(Some),
            None => Ok(None),
        }
    }

    /// The output folder this lock is for.
    pub fn out(&self) -> &Path {
        &self.out
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
    pub fn create(out: &Path, run_id: &str, lock: &OutputLock) -> Result<Staging, OutputError> {
        if lock.out() != out {
            return Err(OutputError::Io {
                path: out.to_path_buf(),
                action: "staging",
                source: std::io::Error::other(format!(
                    "the lock held is for {}, not this output folder",
                    lock.out().display()
                )),
            });
        }
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

    /// Flushes the staged run to disk, moves it to `OUT/runs/<run-id>/` and
    /// points `OUT/latest` at it.
    pub fn publish(self) -> Result<PathBuf, OutputError> {
        self.publish_with(&mut fsync)
    }

    /// [`publish`](Staging::publish) with the flush given, so a test can
    /// observe what is flushed and in what order.
    fn publish_with(
        mut self,
        sync: &mut dyn FnMut(&Path) -> std::io::Result<()>,
    ) -> Result<PathBuf, OutputError> {
        sync_tree(&self.dir, sync)?;
        let runs = self.out.join(RUNS);
        std::fs::create_dir_all(&runs).map_err(io(&runs, "creating the runs folder"))?;
        let final_dir = runs.join(&self.run_id);
        std::fs::rename(&self.dir, &final_dir)
            .map_err(io(&final_dir, "moving the staged run into place"))?;
        self.published = true;
        // The rename is durable once the folders holding both names are.
        sync(&runs).map_err(io(&runs, "flushing to disk"))?;
        sync(&self.out).map_err(io(&self.out, "flushing to disk"))?;
        // Leave no empty `.staging/` behind after a clean publish.
        let _ = std::fs::remove_dir(self.out.join(STAGING));
        point_latest(&self.out, &self.run_id, sync)?;
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

/// Flushes a file or folder to disk (`fsync`; a folder is opened read-only,
/// which Unix allows for exactly this).
fn fsync(path: &Path) -> std::io::Result<()> {
    File::open(path)?.sync_all()
}

/// Flushes every file under `dir`, then each folder after everything in it,
/// `dir` last: so when a folder's entry is durable, its contents are too.
/// Symlinks are not followed (a run holds none).
pub(crate) fn sync_tree(
    dir: &Path,
    sync: &mut dyn FnMut(&Path) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir, "listing the run for flushing"))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(io(dir, "listing the run for flushing"))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    let mut folders = Vec::new();
    for entry in entries {
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(io(&path, "listing the run for flushing"))?;
        if kind.is_dir() {
            folders.push(path);
        } else if kind.is_file() {
            sync(&path).map_err(io(&path, "flushing to disk"))?;
        }
    }
    for folder in folders {
        sync_tree(&folder, sync)?;
    }
    sync(dir).map_err(io(dir, "flushing to disk"))
}

/// Replaces `OUT/latest` with a relative symlink to `runs/<run-id>` atomically:
/// the new link is made under a temporary name, then renamed over the old
/// one, and `OUT` is flushed so the switch survives a power cut.
fn point_latest(
    out: &Path,
    run_id: &str,
    sync: &mut dyn FnMut(&Path) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let target = Path::new(RUNS).join(run_id);
    let temporary = out.join(format!("{TEMPORARY_LATEST}{run_id}"));
    let _ = std::fs::remove_file(&temporary);
    make_link(&target, &temporary)?;
    let latest = out.join(LATEST);
    std::fs::rename(&temporary, &latest).map_err(io(&latest, "switching latest to the new run"))?;
    sync(out).map_err(io(out, "flushing to disk"))
}

/// `YYYYMMDDTHHMMSSZ-<8 lower-case hex>`, the form of every run id.
pub fn is_run_id(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() == 25
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'Z'
        && b[16] == b'-'
        && b[17..]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

/// The complete runs under `OUT/runs/`, oldest first: folders named by a run
/// id that hold a `manifest.json` (written last, so a run with one was
/// staged whole). Anything else there is not a run and is never touched.
fn complete_runs(out: &Path) -> Result<Vec<String>, OutputError> {
    let runs = out.join(RUNS);
    let entries = match std::fs::read_dir(&runs) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&runs, "listing published runs")(e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(&runs, "listing published runs"))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && is_run_id(&name) && entry.path().join(MANIFEST).is_file() {
            found.push(name);
        }
    }
    // Run ids start with the UTC start time, so names sort oldest first.
    found.sort();
    Ok(found)
}

/// The start time part of a run id (`YYYYMMDDTHHMMSSZ`).
fn started(id: &str) -> &str {
    id.get(..16).unwrap_or(id)
}

/// The run id `OUT/latest` names, whether or not that folder exists.
fn latest_id(out: &Path) -> Option<String> {
    let target = std::fs::read_link(out.join(LATEST)).ok()?;
    target
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
}

/// What [`recover`] found and did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recovery {
    /// A complete run newer than the one `latest` pointed at (a run killed
    /// between its rename and the switch): `latest` now points at it.
    pub switched_to: Option<String>,
}

/// Finishes what an interrupted publication left, under the lock: removes a
/// half-made `latest` link, and when the newest complete run is newer than
/// the one `latest` points at (or `latest` points at nothing), points
/// `latest` at it. Never moves `latest` backwards, never to a run without a
/// manifest, never deletes a run.
pub fn recover(out: &Path, lock: &OutputLock) -> Result<Recovery, OutputError> {
    recover_with(out, lock, &mut fsync)
}

fn recover_with(
    out: &Path,
    _lock: &OutputLock,
    sync: &mut dyn FnMut(&Path) -> std::io::Result<()>,
) -> Result<Recovery, OutputError> {
    if let Ok(entries) = std::fs::read_dir(out) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name
                .to_str()
                .is_some_and(|n| n.starts_with(TEMPORARY_LATEST))
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let Some(newest) = complete_runs(out)?.pop() else {
        return Ok(Recovery::default());
    };
    let current = latest_id(out).filter(|id| out.join(RUNS).join(id).join(MANIFEST).is_file());
    // Compared by start time (the id's first 16 characters): two runs started
    // in the same second are not ordered, so `latest` is then left alone.
    if current
        .as_deref()
        .is_some_and(|id| started(id) >= started(&newest))
    {
        return Ok(Recovery::default());
    }
    tracing::warn!(
        run = newest.as_str(),
        "a run was published but `latest` was not switched to it (the run was interrupted); `latest` now points at it"
    );
    sync_tree(&out.join(RUNS).join(&newest), sync)?;
    point_latest(out, &newest, sync)?;
    Ok(Recovery {
        switched_to: Some(newest),
    })
}

/// Removes the oldest complete runs so that at most `keep` remain, never the
/// one `latest` points at (it counts among the `keep`) and never a folder
/// that is not a complete run. Returns the run ids removed, oldest first.
pub fn prune(out: &Path, keep: usize, _lock: &OutputLock) -> Result<Vec<String>, OutputError> {
    let runs = complete_runs(out)?;
    let latest = latest_id(out);
    let excess = runs.len().saturating_sub(keep.max(1));
    let doomed: Vec<String> = runs
        .into_iter()
        .filter(|id| Some(id) != latest.as_ref())
        .take(excess)
        .collect();
    for id in &doomed {
        let dir = out.join(RUNS).join(id);
        std::fs::remove_dir_all(&dir).map_err(io(&dir, "removing an old run (keep_runs)"))?;
    }
    Ok(doomed)
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

    const R1: &str = "20260101T020000Z-0000000a";
    const R2: &str = "20260102T020000Z-0000000b";
    const R3: &str = "20260103T020000Z-0000000c";
    const R4: &str = "20260104T020000Z-0000000d";

    /// A published-looking run folder; `complete` = with a manifest.
    fn make_run(out: &Path, id: &str, complete: bool) {
        let dir = out.join(RUNS).join(id);
        std::fs::create_dir_all(&dir).expect("mkdir");
        if complete {
            std::fs::write(dir.join(MANIFEST), "{}").expect("manifest");
        }
    }

    fn link_latest(out: &Path, id: &str) {
        point_latest(out, id, &mut |_| Ok(())).expect("link");
    }

    #[test]
    fn run_ids_have_one_form() {
        assert!(is_run_id(R1));
        assert!(is_run_id("20261204T170100Z-9fa03bc2"));
        assert!(!is_run_id("20261204T170100Z-9FA03BC2"));
        assert!(!is_run_id("20261204T170100Z-9fa03bc"));
        assert!(!is_run_id("backup"));
        assert!(!is_run_id("20261204-170100Z-9fa03bc2"));
    }

    #[test]
    fn every_file_is_flushed_before_its_folder_and_the_folders_before_the_switch() {
        let out = tempfile::tempdir().expect("tempdir");
        let out = out.path();
        let lock = OutputLock::acquire(out).expect("lock");
        let staging = Staging::create(out, R1, &lock).expect("stage");
        let dir = staging.dir().to_path_buf();
        std::fs::create_dir_all(dir.join("patient_risk")).expect("mkdir");
        std::fs::write(dir.join("patient_risk/part-0.parquet"), "p").expect("write");
        std::fs::write(dir.join("manifest.json"), "{}").expect("write");
        let mut synced: Vec<PathBuf> = Vec::new();
        let mut latest_when_synced: Vec<Option<PathBuf>> = Vec::new();
        staging
            .publish_with(&mut |p| {
                synced.push(p.to_path_buf());
                latest_when_synced.push(std::fs::read_link(out.join(LATEST)).ok());
                fsync(p)
            })
            .expect("publish");
        let expected: Vec<PathBuf> = vec![
            dir.join("manifest.json"),
            dir.join("patient_risk/part-0.parquet"),
            dir.join("patient_risk"),
            dir.clone(),
            out.join(RUNS),
            out.to_path_buf(),
            out.to_path_buf(),
        ];
        assert_eq!(synced, expected);
        // Everything but the last flush happened before `latest` existed.
        assert!(latest_when_synced[..6].iter().all(Option::is_none));
        assert_eq!(latest_when_synced[6], Some(Path::new(RUNS).join(R1)));
    }

    #[test]
    fn a_failed_flush_stops_publication_and_latest_stays() {
        let out = tempfile::tempdir().expect("tempdir");
        let out = out.path();
        let lock = OutputLock::acquire(out).expect("lock");
        let staging = Staging::create(out, R1, &lock).expect("stage");
        std::fs::write(staging.dir().join("a.parquet"), "p").expect("write");
        let failed = staging.publish_with(&mut |_| Err(std::io::Error::other("disk gone")));
        assert!(matches!(
            failed,
            Err(OutputError::Io {
                action: "flushing to disk",
                ..
            })
        ));
        assert!(!out.join(LATEST).exists());
        assert!(!out.join(RUNS).join(R1).exists());
    }

    #[test]
    fn the_real_flush_walks_a_folder_tree() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("a/b")).expect("mkdir");
        std::fs::write(dir.path().join("a/b/c.txt"), "c").expect("write");
        sync_tree(dir.path(), &mut fsync).expect("fsync works on files and folders");
    }

    #[test]
    fn recovery_moves_latest_forward_to_a_complete_run_only() {
        let out = tempfile::tempdir().expect("tempdir");
        let out = out.path();
        let lock = OutputLock::acquire(out).expect("lock");
        make_run(out, R1, true);
        link_latest(out, R1);
        assert_eq!(recover(out, &lock).expect("recover"), Recovery::default());

        // Killed between the rename and the switch: R2 is complete, latest still R1.
        // R3 has no manifest and `notes` is not a run: neither is a candidate.
        make_run(out, R2, true);
        make_run(out, R3, false);
        std::fs::create_dir_all(out.join(RUNS).join("notes")).expect("mkdir");
        make_link(
            Path::new("runs/whatever"),
            &out.join(format!("{TEMPORARY_LATEST}{R2}")),
        )
        .expect("half-made link");
        let recovery = recover(out, &lock).expect("recover");
        assert_eq!(recovery.switched_to.as_deref(), Some(R2));
        assert_eq!(latest_run(out), Some(out.join(RUNS).join(R2)));
        assert!(
            std::fs::symlink_metadata(out.join(format!("{TEMPORARY_LATEST}{R2}"))).is_err(),
            "the half-made link is removed"
        );
        assert!(out.join(RUNS).join(R3).exists(), "recovery deletes nothing");

        // Started in the same second as latest: not known to be newer, left alone.
        let same_second = "20260102T020000Z-0000000e";
        make_run(out, same_second, true);
        assert_eq!(recover(out, &lock).expect("recover"), Recovery::default());
        assert_eq!(latest_run(out), Some(out.join(RUNS).join(R2)));

        // Never backwards: latest at R4, an older complete run appears.
        make_run(out, R4, true);
        link_latest(out, R4);
        std::fs::remove_dir_all(out.join(RUNS).join(R2)).expect("rm");
        assert_eq!(recover(out, &lock).expect("recover"), Recovery::default());
        assert_eq!(latest_run(out), Some(out.join(RUNS).join(R4)));
    }

    #[test]
    fn recovery_repoints_a_latest_whose_run_is_gone() {
        let out = tempfile::tempdir().expect("tempdir");
        let out = out.path();
        let lock = OutputLock::acquire(out).expect("lock");
        make_run(out, R1, true);
        link_latest(out, R2); // R2 does not exist
        let recovery = recover(out, &lock).expect("recover");
        assert_eq!(recovery.switched_to.as_deref(), Some(R1));
    }

    #[test]
    fn pruning_keeps_the_newest_and_latest_and_touches_nothing_else() {
        let out = tempfile::tempdir().expect("tempdir");
        let out = out.path();
        let lock = OutputLock::acquire(out).expect("lock");
        for id in [R1, R2, R3, R4] {
            make_run(out, id, true);
        }
        let incomplete = "20251231T020000Z-0000000f";
        make_run(out, incomplete, false);
        std::fs::create_dir_all(out.join(RUNS).join("backup")).expect("mkdir");
        std::fs::write(out.join(RUNS).join("README.txt"), "x").expect("write");
        // latest at an older run (e.g. an operator rolled back): it is kept and counts.
        link_latest(out, R2);
        let removed = prune(out, 2, &lock).expect("prune");
        assert_eq!(removed, [R1, R3]);
        for kept in [R2, R4, incomplete, "backup", "README.txt"] {
            assert!(out.join(RUNS).join(kept).exists(), "{kept} kept");
        }
        assert_eq!(latest_run(out), Some(out.join(RUNS).join(R2)));
        // Already within the limit: nothing more goes.
        assert!(prune(out, 2, &lock).expect("prune").is_empty());
        assert!(prune(out, 5, &lock).expect("prune").is_empty());
    }

    #[test]
    fn the_lock_of_a_published_run_is_its_output_folders() {
        let out = tempfile::tempdir().expect("tempdir");
        let out = out.path();
        make_run(out, R1, true);
        link_latest(out, R1);
        let held = OutputLock::acquire(out).expect("lock");
        assert!(matches!(
            OutputLock::for_run(&out.join(LATEST)),
            Err(OutputError::Locked { .. })
        ));
        assert!(matches!(
            OutputLock::for_run(&out.join(RUNS).join(R1)),
            Err(OutputError::Locked { .. })
        ));
        drop(held);
        assert!(
            OutputLock::for_run(&out.join(LATEST))
                .expect("lock")
                .is_some()
        );
        let copied = tempfile::tempdir().expect("tempdir");
        let missing = copied.path().join("missing");
        assert!(OutputLock::for_run(&missing).expect("no lock").is_none());
        assert!(
            OutputLock::for_run(copied.path())
                .expect("no lock")
                .is_none()
        );
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
