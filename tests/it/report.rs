//! The HTML reports in a real browser: headless Chromium opens the run report
//! of a real sample run and an evaluation report, and the test checks that
//! they render without console errors, that every section, chart and table
//! is in the rendered DOM, and saves a screenshot of each under
//! `target/report-screenshots/`.
//!
//! Chromium is Debian's `chromium` package (`/usr/bin/chromium`), or the
//! binary named by `STRATA_CHROMIUM`. Without it the test fails and says how
//! to install it, unless `STRATA_SKIP_BROWSER=1` is set.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::support::{root, stderr, strata};

use strata::report::ids::{
    EVALUATION_CHARTS as CHARTS_EVALUATION, EVALUATION_SECTIONS as SECTIONS_EVALUATION,
    EVALUATION_TABLES as TABLES_EVALUATION, RUN_CHARTS as CHARTS_RUN, RUN_SECTIONS as SECTIONS_RUN,
    RUN_TABLES as TABLES_RUN,
};

/// The Chromium binary, or `None` when the browser test is to be skipped.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("STRATA_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let candidates = ["chromium", "chromium-browser", "google-chrome"];
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|dir| candidates.iter().map(move |c| dir.join(c)))
            .find(|p| p.is_file())
    });
    if found.is_some() {
        return found;
    }
    if std::env::var("STRATA_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("STRATA_SKIP_BROWSER=1: skipping the browser test of the HTML reports");
        return None;
    }
    panic!(
        "the report browser test needs headless Chromium: install it with \
         `apt-get install -y chromium` (Debian), or point STRATA_CHROMIUM at a Chromium binary, \
         or set STRATA_SKIP_BROWSER=1 to skip this test"
    );
}

/// Where screenshots go: `<target>/report-screenshots/`.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let dir = target.join("report-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// Runs Chromium with `args` on `page`, killing it after a minute.
/// Returns (stdout, stderr).
fn run_chromium(browser: &Path, page: &Path, args: &[String]) -> (String, String) {
    let profile = tempfile::tempdir().expect("profile dir");
    let out = tempfile::NamedTempFile::new().expect("stdout file");
    let err = tempfile::NamedTempFile::new().expect("stderr file");
    let mut child = Command::new(browser)
        .args([
            "--headless=new",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(out.reopen().expect("stdout"))
        .stderr(err.reopen().expect("stderr"))
        .spawn()
        .unwrap_or_else(|e| panic!("{}: could not start Chromium: {e}", browser.display()));
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match child.try_wait().expect("wait") {
            Some(status) => {
                let stdout = std::fs::read_to_string(out.path()).unwrap_or_default();
                let stderr = std::fs::read_to_string(err.path()).unwrap_or_default();
                assert!(
                    status.success(),
                    "Chromium failed ({status}) on {}:\n{stderr}",
                    page.display()
                );
                return (stdout, stderr);
            }
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("Chromium did not finish within 90 s on {}", page.display());
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Lines of Chromium's log that report a problem with the page itself.
fn page_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains("CONSOLE")
                || l.contains("Uncaught")
                || l.contains("Refused to")
                || l.contains("Content Security Policy")
                || l.contains("Failed to load resource")
        })
        .collect()
}

/// Opens `page` in headless Chromium: checks the DOM and the console, and
/// saves `<name>.png`.
fn check_in_browser(
    browser: &Path,
    page: &Path,
    name: &str,
    ids: &[&[&str]],
    charts: usize,
    height: u32,
) {
    let (dom, log) = run_chromium(browser, page, &["--dump-dom".to_string()]);
    let errors = page_errors(&log);
    assert!(
        errors.is_empty(),
        "{name}: the page logged errors:\n{}",
        errors.join("\n")
    );
    assert!(
        dom.contains("<main>") && dom.contains("</html>"),
        "{name}: Chromium returned no rendered page:\n{}",
        &dom[..dom.len().min(2000)]
    );
    for id in ids.iter().flat_map(|list| list.iter()) {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "{name}: `{id}` is missing from the rendered page"
        );
    }
    assert!(
        dom.matches("<svg").count() >= charts,
        "{name}: expected at least {charts} inline SVG charts"
    );
    let png = screenshot_dir().join(format!("{name}.png"));
    let _ = std::fs::remove_file(&png);
    let (_, log) = run_chromium(
        browser,
        page,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size=1280,{height}"),
        ],
    );
    let errors = page_errors(&log);
    assert!(errors.is_empty(), "{name}: {}", errors.join("\n"));
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
        "{}: not a plausible screenshot",
        png.display()
    );
    eprintln!("{name}: screenshot saved to {}", png.display());
}

/// A sample run in a scratch folder laid out like the repository.
fn sample_run() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["sample-data", "models"] {
        std::os::unix::fs::symlink(root().join(name), dir.path().join(name)).expect("link");
    }
    let result = strata(dir.path(), &["run"]);
    assert!(result.status.success(), "{}", stderr(&result));
    let latest = dir.path().join("out/latest");
    (dir, latest)
}

/// A synthetic evaluation with known true risks and one miscalibrated group.
fn example_evaluation() -> strata::model::evaluate::Evaluation {
    use strata::model::evaluate::{EvaluateOptions, EvaluationContext, evaluate};
    use strata::model::fairness::GroupLabels;
    let n = 4000;
    let truth: Vec<f64> = (0..n)
        .map(|i| 0.01 + 0.6 * (i as f64 / n as f64).powi(3))
        .collect();
    let outcome: Vec<bool> = (0..n)
        .map(|i| (((i as u64 * 2_654_435_761) % 10_007) as f64 / 10_007.0) < truth[i])
        .collect();
    let risk: Vec<f64> = truth
        .iter()
        .enumerate()
        .map(|(i, r)| if i % 4 == 0 { 0.04 + 0.4 * r } else { *r * 0.9 })
        .collect();
    let groups = [
        GroupLabels {
            attribute: "sex".into(),
            labels: (0..n)
                .map(|i| Some(if i % 4 == 0 { "F" } else { "M" }.to_string()))
                .collect(),
        },
        GroupLabels {
            attribute: "age_band".into(),
            labels: (0..n)
                .map(|i| Some(["0-17", "18-64", "65+"][i % 3].to_string()))
                .collect(),
        },
    ];
    evaluate(
        &risk,
        &outcome,
        &groups,
        Some(&truth),
        &EvaluateOptions::default(),
        &strata::governance::disclosure::DisclosureProfile::default(),
    )
    .expect("valid")
    .with_context(EvaluationContext {
        model_id: Some("emergency_admission-example".into()),
        outcome: Some("emergency admission within 12 months".into()),
        index_date: chrono::NaiveDate::from_ymd_opt(2025, 3, 31),
        data: Some("synthetic example".into()),
        synthetic_data: Some(true),
    })
}

#[test]
fn the_run_report_is_aggregate_only_and_complete() {
    let (_dir, latest) = sample_run();
    let path = strata::report::write_run_report(&latest).expect("report");
    assert_eq!(path, latest.join("report.html"));
    let html = std::fs::read_to_string(&path).expect("read");
    for id in SECTIONS_RUN {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    for id in CHARTS_RUN.iter().chain(TABLES_RUN) {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    // No person-level value may appear: no NHS numbers (999 test range), no person ids.
    let lists = std::fs::read_dir(latest.join("clinical_lists"))
        .expect("lists")
        .count();
    assert!(lists > 0);
    assert!(!html.contains("nhs_number") && !html.contains("person_id"));
}

#[test]
fn reports_render_in_headless_chromium_without_errors() {
    let Some(browser) = chromium() else {
        return;
    };
    let (_dir, latest) = sample_run();
    let run_report = strata::report::write_run_report(&latest).expect("run report");
    check_in_browser(
        &browser,
        &run_report,
        "run-report",
        &[SECTIONS_RUN, CHARTS_RUN, TABLES_RUN],
        CHARTS_RUN.len(),
        6200,
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let evaluation_report = dir.path().join("evaluation.html");
    strata::report::write_evaluation_report(&example_evaluation(), &evaluation_report)
        .expect("evaluation report");
    check_in_browser(
        &browser,
        &evaluation_report,
        "evaluation-report",
        &[SECTIONS_EVALUATION, CHARTS_EVALUATION, TABLES_EVALUATION],
        CHARTS_EVALUATION.len(),
        3600,
    );
}

#[test]
fn the_console_check_catches_a_failing_page() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><script>console.error('boom'); undefined_function();</script></body></html>",
    )
    .expect("write");
    let (_, log) = run_chromium(&browser, &page, &["--dump-dom".to_string()]);
    assert!(
        !page_errors(&log).is_empty(),
        "console errors must be detected:\n{log}"
    );
}
