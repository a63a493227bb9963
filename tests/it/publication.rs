//! Exclusive, bounded publication through the real binary: the output lock is
//! taken before any input is read (a second run fails at once with exit 14,
//! naming the lock), `strata report --run` takes it too, and `[publish]
//! keep_runs` removes old runs without touching `latest` or foreign folders,
//! and a run left unswitched by an interrupted publication is recovered.
//! (Durability, the fsync order, is unit-tested in `publication::publish`: a
//! power cut cannot be simulated here.)

use strata::publication::OutputLock;

use crate::support::{ENCOUNTERS_HEADER, PATIENTS_HEADER, csv_extract, root, stderr, strata};

fn small_extract() -> tempfile::TempDir {
    let patients = format!(
        "{PATIENTS_HEADER}
        P1,,1940-02-01,F,A,E01000001,A81001,PCN1,2000-01-01,,false,false
        P2,,1950-03-01,M,A,E01000001,A81001,PCN1,2000-01-01,,false,false"
    );
    let encounters = format!(
        "{ENCOUNTERS_HEADER}
        P1,e1,inpatient,2025-12-01,2025-12-03,true,
        P2,e3,gp,2026-02-01,,false,"
    );
    csv_extract(&[("patients", &patients), ("encounters", &encounters)])
}

fn model() -> String {
    root()
        .join("models/emergency_admission.json")
        .to_string_lossy()
        .into_owned()
}

fn assert_locked(result: &std::process::Output) {
    assert_eq!(result.status.code(), Some(14), "{}", stderr(result));
    let message = stderr(result);
    assert!(
        message.contains(".strata.lock"),
        "names the lock: {message}"
    );
    assert!(
        message.contains("another strata process holds the output lock"),
        "{message}"
    );
}

#[test]
fn a_second_run_fails_before_reading_anything_while_the_lock_is_held() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let held = OutputLock::acquire(&out).expect("the test holds the lock");
    // The input does not exist: a run that read it first would exit 10 (input),
    // so exit 14 shows the lock was taken before any input was touched.
    let result = strata(
        dir.path(),
        &[
            "run",
            "--input",
            "no-such-extract",
            "--out",
            "out",
            "--model",
            &model(),
        ],
    );
    assert_locked(&result);
    assert!(!out.join("latest").exists());
    assert!(!out.join(".staging").exists());

    drop(held);
    let result = strata(
        dir.path(),
        &[
            "run",
            "--input",
            "no-such-extract",
            "--out",
            "out",
            "--model",
            &model(),
        ],
    );
    assert_eq!(result.status.code(), Some(10), "{}", stderr(&result));
}

#[test]
fn report_on_a_published_run_takes_the_lock() {
    let extract = small_extract();
    let run = strata(
        extract.path(),
        &["run", "--input", ".", "--out", "out", "--model", &model()],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let out = extract.path().join("out");
    let held = OutputLock::acquire(&out).expect("the test holds the lock");
    let result = strata(extract.path(), &["report", "--run", "out/latest"]);
    assert_locked(&result);
    drop(held);
    let result = strata(extract.path(), &["report", "--run", "out/latest"]);
    assert!(result.status.success(), "{}", stderr(&result));
}

#[test]
fn keep_runs_removes_the_oldest_runs_and_nothing_else() {
    let extract = small_extract();
    std::fs::write(
        extract.path().join("strata.toml"),
        "[publish]\nkeep_runs = 2\n",
    )
    .expect("config");
    let out = extract.path().join("out");
    // Not a run: pruning must never touch it.
    std::fs::create_dir_all(out.join("runs/operator-notes")).expect("mkdir");
    std::fs::write(out.join("runs/operator-notes/a.txt"), "keep me").expect("write");
    let mut published = Vec::new();
    for _ in 0..4 {
        let result = strata(
            extract.path(),
            &[
                "run",
                "--input",
                ".",
                "--out",
                "out",
                "--model",
                &model(),
                "--config",
                "strata.toml",
            ],
        );
        assert!(result.status.success(), "{}", stderr(&result));
        let latest = std::fs::canonicalize(out.join("latest")).expect("latest");
        published.push(latest.file_name().expect("name").to_owned());
    }
    let mut left: Vec<_> = std::fs::read_dir(out.join("runs"))
        .expect("runs")
        .map(|e| e.expect("entry").file_name())
        .collect();
    left.sort();
    assert_eq!(left.len(), 3, "two runs and the notes: {left:?}");
    assert!(left.iter().any(|n| n == "operator-notes"));
    assert!(out.join("runs/operator-notes/a.txt").exists());
    let newest = published.last().expect("a run");
    assert!(left.contains(newest), "the run latest points at is kept");
    assert!(out.join("latest/manifest.json").exists());
    // Exactly two of the four published runs remain. Which of the older ones
    // went is not asserted: runs started in the same second are not ordered.
    assert_eq!(published.iter().filter(|id| left.contains(id)).count(), 2);
}

#[test]
fn a_run_left_unswitched_is_recovered_by_the_next_run() {
    let extract = small_extract();
    let model = model();
    let args = ["run", "--input", ".", "--out", "out", "--model", &model];
    let first = strata(extract.path(), &args);
    assert!(first.status.success(), "{}", stderr(&first));
    let out = extract.path().join("out");
    let first_id = std::fs::canonicalize(out.join("latest"))
        .expect("latest")
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    // A run killed between its rename and the switch: a complete run folder,
    // one second newer, that `latest` does not point at.
    let started = chrono::NaiveDateTime::parse_from_str(&first_id[..16], "%Y%m%dT%H%M%SZ")
        .expect("run id time");
    let unswitched = format!(
        "{}-0000abcd",
        (started + chrono::Duration::seconds(1)).format("%Y%m%dT%H%M%SZ")
    );
    crate::support::copy_dir(
        &out.join("runs").join(&first_id),
        &out.join("runs").join(&unswitched),
    );
    let second = strata(extract.path(), &args);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("`latest` was not switched"),
        "the recovery is logged: {}",
        stderr(&second)
    );
    // The new run published after the recovery; both earlier runs are kept.
    let latest = std::fs::canonicalize(out.join("latest")).expect("latest");
    let latest = latest
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert_ne!(latest, first_id);
    assert_ne!(latest, unswitched);
    assert!(
        out.join("runs")
            .join(&first_id)
            .join("manifest.json")
            .exists()
    );
    assert!(
        out.join("runs")
            .join(&unswitched)
            .join("manifest.json")
            .exists()
    );
}
