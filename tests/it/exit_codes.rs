//! Every documented exit class (README, "Exit codes") produced by the real binary.

use crate::support::{root, stderr, strata};

fn run_in_sample(args: &[&str]) -> std::process::Output {
    strata(&root(), args)
}

#[test]
fn usage_errors_exit_2() {
    let result = run_in_sample(&["run", "--no-such-flag"]);
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("strata.toml");
    std::fs::write(&config, "[validation]\nmax_reject_fractio = 0.1\n").expect("write");
    let result = run_in_sample(&["validate", "--config", config.to_str().expect("utf-8")]);
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("max_reject_fraction"),
        "suggests the valid key: {}",
        stderr(&result)
    );
}

#[test]
fn input_errors_exit_10() {
    let result = run_in_sample(&["validate", "--input", "no-such-extract"]);
    assert_eq!(result.status.code(), Some(10), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("no-such-extract: no such extract folder"),
        "{}",
        stderr(&result)
    );
}

#[test]
fn feature_spec_errors_exit_11() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("extra.toml");
    std::fs::write(
        &spec,
        "[[feature]]\nname = \"x\"\nkind = \"events\"\ndescription = \"\"\ntable = \"encounters\"\nwindow = \"-30d..0d\"\naggregate = \"median\"\n",
    )
    .expect("write");
    let out = dir.path().join("f.parquet");
    let result = run_in_sample(&[
        "features",
        "--input",
        "sample-data",
        "--index-date",
        "2026-03-31",
        "--out",
        out.to_str().expect("utf-8"),
        "--features",
        spec.to_str().expect("utf-8"),
    ]);
    assert_eq!(result.status.code(), Some(11), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("feature `x`: unknown aggregate `median`"),
        "{}",
        stderr(&result)
    );
    assert!(!out.exists(), "no partial feature table");
}

#[test]
fn model_errors_exit_12() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model.json");
    let mut json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("models/emergency_admission.json")).expect("read"),
    )
    .expect("json");
    json["terms"][0]["feature"] = serde_json::Value::from("shoe_size");
    std::fs::write(&model, json.to_string()).expect("write");
    let out = dir.path().join("out");
    let result = run_in_sample(&[
        "run",
        "--model",
        model.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(result.status.code(), Some(12), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("needs features the catalogue cannot compute: shoe_size"),
        "{}",
        stderr(&result)
    );
}

#[test]
fn publication_errors_exit_14() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The output "folder" is a file, so it cannot be created.
    let out = dir.path().join("out");
    std::fs::write(&out, "not a folder").expect("write");
    let result = run_in_sample(&["run", "--out", out.to_str().expect("utf-8")]);
    assert_eq!(result.status.code(), Some(14), "{}", stderr(&result));
}

#[test]
fn version_default_config_and_completions() {
    let version = run_in_sample(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        crate::support::stdout(&version).trim(),
        format!("strata {}", env!("CARGO_PKG_VERSION"))
    );
    let config = run_in_sample(&["config", "--print-default"]);
    assert!(config.status.success());
    let text = crate::support::stdout(&config);
    let parsed = strata::config::FileConfig::parse(&text)
        .expect("the printed default is a valid strata.toml");
    assert_eq!(parsed, strata::config::FileConfig::default());
    let completions = run_in_sample(&["completions", "bash"]);
    assert!(completions.status.success());
    assert!(crate::support::stdout(&completions).contains("strata"));
}
