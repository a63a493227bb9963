//! The scheduling files of docs/operations.md (deploy/) are valid: the systemd
//! units pass `systemd-analyze verify` where it is installed (with no warning
//! about our files), and always parse as INI with the keys the doc relies on;
//! the cron line has five time fields in range and runs `strata run`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::root;

/// section → key → values (a key may repeat), from systemd's INI syntax.
type Unit = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn parse_unit(path: &Path) -> Unit {
    let text = std::fs::read_to_string(path).expect("unit file");
    let mut unit = Unit::new();
    let mut section: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.to_string());
            unit.entry(name.to_string()).or_default();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{}:{}: not key=value", path.display(), i + 1));
        let section = section
            .as_ref()
            .unwrap_or_else(|| panic!("{}:{}: key before any section", path.display(), i + 1));
        unit.entry(section.clone())
            .or_default()
            .entry(key.trim().to_string())
            .or_default()
            .push(value.trim().to_string());
    }
    unit
}

fn one<'a>(unit: &'a Unit, section: &str, key: &str) -> &'a str {
    let values = unit
        .get(section)
        .and_then(|s| s.get(key))
        .unwrap_or_else(|| panic!("[{section}] {key} is missing"));
    assert_eq!(values.len(), 1, "[{section}] {key} is set once");
    &values[0]
}

#[test]
fn the_systemd_units_have_the_keys_the_runbook_relies_on() {
    let dir = root().join("deploy/systemd");
    let service = parse_unit(&dir.join("strata-nightly.service"));
    let timer = parse_unit(&dir.join("strata-nightly.timer"));
    assert_eq!(one(&service, "Service", "Type"), "oneshot");
    let exec = one(&service, "Service", "ExecStart");
    let words: Vec<&str> = exec.split_whitespace().collect();
    assert!(words[0].ends_with("/strata") && words[1] == "run", "{exec}");
    assert!(
        one(&service, "Service", "Environment").starts_with("STRATA_PSEUDONYM_KEY_FILE="),
        "the key comes from a file, never the environment itself"
    );
    assert!(one(&service, "Service", "LoadCredential").starts_with("pseudonym-key:"));
    assert_eq!(one(&timer, "Timer", "OnCalendar"), "*-*-* 02:30:00");
    assert_eq!(one(&timer, "Timer", "Unit"), "strata-nightly.service");
    assert_eq!(one(&timer, "Timer", "Persistent"), "true");
    assert_eq!(one(&timer, "Install", "WantedBy"), "timers.target");
}

#[test]
fn the_systemd_units_pass_systemd_analyze_verify_when_it_is_installed() {
    let available = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        eprintln!("systemd-analyze is not installed: only the INI check ran");
        return;
    }
    // verify checks that ExecStart's program exists: point it at the built binary.
    let scratch = tempfile::tempdir().expect("tempdir");
    let dir = root().join("deploy/systemd");
    let service = std::fs::read_to_string(dir.join("strata-nightly.service"))
        .expect("service")
        .replace("/usr/local/bin/strata", env!("CARGO_BIN_EXE_strata"));
    std::fs::write(scratch.path().join("strata-nightly.service"), service).expect("write");
    std::fs::copy(
        dir.join("strata-nightly.timer"),
        scratch.path().join("strata-nightly.timer"),
    )
    .expect("copy");
    let result = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(scratch.path().join("strata-nightly.timer"))
        .arg(scratch.path().join("strata-nightly.service"))
        .output()
        .expect("systemd-analyze runs");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    // Unknown keys and unparsable values are only warnings to verify: none may name our files.
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("strata-nightly"))
        .collect();
    assert!(ours.is_empty(), "{ours:?}");
}

#[test]
fn the_cron_line_runs_strata_nightly_with_valid_time_fields() {
    let text = std::fs::read_to_string(root().join("deploy/cron/strata")).expect("cron file");
    let jobs: Vec<&str> = text
        .lines()
        .map(str::trim)
        // Job lines start with the minute; comments and `MAILTO=` do not.
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit() || c == '*'))
        .collect();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let fields: Vec<&str> = jobs[0].split_whitespace().collect();
    // minute hour day-of-month month day-of-week user command (/etc/cron.d format)
    let ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
    for (field, (low, high)) in fields[..5].iter().zip(ranges) {
        if *field != "*" {
            let n: u32 = field
                .parse()
                .unwrap_or_else(|_| panic!("{field}: a number or *"));
            assert!((low..=high).contains(&n), "{field} outside {low}..={high}");
        }
    }
    assert_eq!(fields[5], "strata", "runs as the strata user");
    let command = fields[6..].join(" ");
    assert!(command.contains("strata run --config"), "{command}");
    assert!(command.contains("STRATA_PSEUDONYM_KEY_FILE="), "{command}");
}
