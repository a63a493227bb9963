//! Information-governance properties, through the library and the real binary:
//! opt-outs never reach planning outputs, practice lists hold only their own
//! patients, summaries never publish a small count or an identifier, logs never
//! carry identifiers, and NHS-number ids are pseudonymised or refused.

use polars::prelude::*;
use proptest::prelude::*;
use strata::governance::disclosure::DisclosureProfile;
use strata::governance::opt_out::secondary_use;
use strata::ingest::PID;
use strata::products::lists::clinical_lists;
use strata::products::summaries::{DIMENSIONS, summarise};

use crate::support::{
    ENCOUNTERS_HEADER, PATIENTS_HEADER, csv_extract, root, stderr, stdout, strata,
};

const TIERS: [&str; 4] = ["very_high", "high", "rising", "low"];
const SEGMENTS: [&str; 3] = ["healthy", "long_term_conditions", "frailty_and_dementia"];

/// One generated person: (practice 0..4, tier, segment, age band 0..3, has LTCs, national opt-out, type-1 objection).
type Person = (u8, usize, usize, u8, bool, bool, bool);

fn people_strategy() -> impl Strategy<Value = Vec<Person>> {
    prop::collection::vec(
        (
            0u8..4,
            0usize..4,
            0usize..3,
            0u8..3,
            any::<bool>(),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.05),
        ),
        1..400,
    )
}

/// The scored-people frame and the patients frame (opt-out flags) of a generated population.
fn frames(people: &[Person]) -> (DataFrame, DataFrame) {
    let n = people.len();
    let pid: Vec<u32> = (0..n as u32).collect();
    let mut columns = vec![
        Column::new(PID.into(), &pid),
        Column::new(
            "person_id".into(),
            (0..n).map(|i| format!("P{i:06}")).collect::<Vec<_>>(),
        ),
        Column::new(
            "practice_code".into(),
            people
                .iter()
                .map(|p| format!("PR{}", p.0))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "pcn_code".into(),
            people
                .iter()
                .map(|p| format!("PCN{}", p.0 / 2))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "lsoa".into(),
            people
                .iter()
                .map(|p| format!("E0100000{}", p.0))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "imd_quintile".into(),
            people
                .iter()
                .map(|p| i32::from(p.3) + 1)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "ethnicity_group".into(),
            people
                .iter()
                .map(|p| if p.4 { "White" } else { "Asian" })
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "age_band".into(),
            people
                .iter()
                .map(|p| ["18-29", "45-64", "85+"][p.3 as usize])
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "sex".into(),
            people
                .iter()
                .map(|p| if p.0 % 2 == 0 { "F" } else { "M" })
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "tier".into(),
            people.iter().map(|p| TIERS[p.1]).collect::<Vec<_>>(),
        ),
        Column::new(
            "segment".into(),
            people.iter().map(|p| SEGMENTS[p.2]).collect::<Vec<_>>(),
        ),
        Column::new(
            "efi_category".into(),
            people
                .iter()
                .map(|p| if p.2 == 2 { "severe frailty" } else { "fit" })
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "risk".into(),
            people
                .iter()
                .map(|p| 0.9 / (p.1 as f64 + 1.0))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "cost_12m".into(),
            people
                .iter()
                .map(|p| Some(100.0 * f64::from(p.3)))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "age".into(),
            people
                .iter()
                .map(|p| 20 + 30 * i32::from(p.3))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "emergency_admissions_12m".into(),
            people
                .iter()
                .map(|p| i32::from(p.1 == 0))
                .collect::<Vec<_>>(),
        ),
        Column::new("reason_1".into(), vec![Some("aged 80"); n]),
        Column::new("reason_2".into(), vec![None::<&str>; n]),
        Column::new("reason_3".into(), vec![None::<&str>; n]),
        Column::new(
            "days_since_emergency_admission".into(),
            vec![Some(10i32); n],
        ),
        Column::new("new_to_flagged".into(), vec![true; n]),
    ];
    for ltc in strata::codelists::Ltc::ALL {
        columns.push(Column::new(
            format!("ltc_{}", ltc.key()).into(),
            people.iter().map(|p| p.4).collect::<Vec<_>>(),
        ));
    }
    let patients = DataFrame::new(
        n,
        vec![
            Column::new(PID.into(), &pid),
            Column::new("nhs_number".into(), vec![None::<&str>; n]),
            Column::new(
                "opt_out_national".into(),
                people.iter().map(|p| p.5).collect::<Vec<_>>(),
            ),
            Column::new(
                "opt_out_type1".into(),
                people.iter().map(|p| p.6).collect::<Vec<_>>(),
            ),
        ],
    )
    .expect("patients");
    (DataFrame::new(n, columns).expect("people"), patients)
}

fn count_columns(frame: &DataFrame) -> Vec<Column> {
    frame
        .columns()
        .iter()
        .filter(|c| c.dtype().is_integer() && c.name().as_str() != "imd_quintile")
        .cloned()
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("STRATA_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24)
    ))]

    #[test]
    fn opted_out_people_never_change_a_summary_and_no_small_count_is_published(people in people_strategy()) {
        let (frame, patients) = frames(&people);
        let planning = secondary_use(&frame, &patients).expect("secondary use");
        let kept: Vec<Person> = people.iter().copied().filter(|p| !p.5 && !p.6).collect();
        for dimension in DIMENSIONS {
            let with = summarise(&planning, dimension, &DisclosureProfile::default()).expect("summary").frame;
            // The same population without the opted-out people at all gives the same table.
            if !kept.is_empty() {
                let (only_kept, kept_patients) = frames(&kept);
                let without = summarise(&secondary_use(&only_kept, &kept_patients).expect("use"), dimension, &DisclosureProfile::default())
                    .expect("summary")
                    .frame;
                prop_assert!(with.equals_missing(&without), "{dimension}: opted-out people changed the summary");
            }
            for column in count_columns(&with) {
                for value in column.cast(&DataType::Int64).expect("cast").i64().expect("i64").iter().flatten() {
                    prop_assert!(!(1..=7).contains(&value), "{dimension}.{}: small count {value}", column.name());
                    prop_assert!(value % 5 == 0, "{dimension}.{}: {value} not a multiple of 5", column.name());
                }
            }
            for name in ["person_id", "nhs_number", "date_of_birth", "risk"] {
                prop_assert!(with.column(name).is_err(), "{dimension} summary has person-level column {name}");
            }
        }
    }

    #[test]
    fn a_practice_list_holds_only_that_practices_flagged_patients(people in people_strategy()) {
        let (frame, patients) = frames(&people);
        let first = DataFrame::new(0, vec![
            Column::new("person_id".into(), Vec::<String>::new()),
            Column::new("first_flagged".into(), Vec::<i32>::new()).cast(&DataType::Date).expect("date"),
        ]).expect("first");
        let as_of = chrono::NaiveDate::from_ymd_opt(2026, 3, 31).expect("date");
        let lists = clinical_lists(&frame, &patients, &first, as_of).expect("lists");
        let ids = lists.column("person_id").expect("ids").str().expect("str").clone();
        let practices = lists.column("practice_code").expect("practice").str().expect("str").clone();
        let tiers = lists.column("tier").expect("tier").str().expect("str").clone();
        for ((id, practice), tier) in ids.iter().zip(practices.iter()).zip(tiers.iter()) {
            let i: usize = id.and_then(|s| s[1..].parse().ok()).expect("generated id");
            let expected = format!("PR{}", people[i].0);
            prop_assert_eq!(practice, Some(expected.as_str()));
            prop_assert!(matches!(tier, Some("very_high" | "high")));
        }
        let flagged = people.iter().filter(|p| p.1 < 2).count();
        prop_assert_eq!(lists.height(), flagged, "every flagged patient, opt-outs included (direct care)");
    }
}

/// A run of the sample data at trace level: the logs hold no person id or NHS number.
#[test]
fn logs_never_contain_identifiers_even_at_trace_level() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let model = root().join("models/emergency_admission.json");
    let result = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["-vvv", "run", "--input", "sample-data", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .current_dir(root())
        .env("RUST_LOG", "trace")
        .output()
        .expect("runs");
    assert!(result.status.success(), "{}", stderr(&result));
    let logs = format!("{}{}", stderr(&result), stdout(&result));
    assert!(
        logs.contains("stage finished"),
        "trace logging was on: {logs}"
    );
    let patients = ParquetReader::new(
        std::fs::File::open(root().join("sample-data/patients.parquet")).expect("open"),
    )
    .finish()
    .expect("patients");
    for column in ["person_id", "nhs_number"] {
        let values = patients
            .column(column)
            .expect("column")
            .str()
            .expect("str")
            .clone();
        for value in values.iter().flatten() {
            assert!(
                !logs.contains(value),
                "a value of `{column}` appeared in the logs"
            );
        }
    }
}

fn nhs_id_extract() -> tempfile::TempDir {
    // Person ids that are valid NHS numbers (Modulus 11): 943 476 5919, 401 023 2137, 999 000 0018.
    let patients = format!(
        "{PATIENTS_HEADER}
        9434765919,,1940-02-01,F,A,E01000001,A81001,PCN1,2000-01-01,,false,false
        4010232137,,1950-03-01,M,A,E01000001,A81001,PCN1,2000-01-01,,false,false
        9990000018,,1990-03-01,M,A,E01000001,A81002,PCN1,2000-01-01,,false,false"
    );
    let encounters = format!(
        "{ENCOUNTERS_HEADER}
        9434765919,e1,inpatient,2025-12-01,2025-12-03,true,
        9434765919,e2,emergency_department,2026-01-01,,false,
        4010232137,e3,gp,2026-02-01,,false,"
    );
    csv_extract(&[("patients", &patients), ("encounters", &encounters)])
}

#[test]
fn nhs_number_person_ids_are_refused_without_a_key() {
    let extract = nhs_id_extract();
    let out = extract.path().join("out");
    let model = root().join("models/emergency_admission.json");
    let result = strata(
        extract.path(),
        &[
            "run",
            "--input",
            ".",
            "--out",
            out.to_str().expect("utf-8"),
            "--model",
            model.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(result.status.code(), Some(13), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("column `person_id`: holds NHS numbers"),
        "{}",
        stderr(&result)
    );
    assert!(!out.join("latest").exists(), "nothing published");
}

#[test]
fn nhs_number_person_ids_are_pseudonymised_with_a_key() {
    let extract = nhs_id_extract();
    let out = extract.path().join("out");
    let key = extract.path().join("key");
    std::fs::write(&key, "a secret key of at least thirty-two bytes, for tests").expect("key");
    let model = root().join("models/emergency_admission.json");
    let result = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["run", "--input", ".", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .current_dir(extract.path())
        .env("STRATA_PSEUDONYM_KEY_FILE", &key)
        .output()
        .expect("runs");
    assert!(result.status.success(), "{}", stderr(&result));
    let risk = crate::pipeline::read_parts(&out.join("latest/patient_risk"));
    let ids: Vec<String> = risk
        .column("person_id")
        .expect("ids")
        .str()
        .expect("str")
        .iter()
        .flatten()
        .map(String::from)
        .collect();
    assert_eq!(ids.len(), 3);
    for id in &ids {
        assert_eq!(id.len(), 32, "a 128-bit hex pseudonym");
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(!["9434765919", "4010232137", "9990000018"].contains(&id.as_str()));
    }
    // No output file holds an NHS number: Parquet read column by column (it is compressed), the rest as text.
    for file in walk(&out) {
        let texts: Vec<String> = if file.extension().is_some_and(|e| e == "parquet") {
            let frame = ParquetReader::new(std::fs::File::open(&file).expect("open"))
                .finish()
                .expect("parquet");
            frame
                .columns()
                .iter()
                .filter_map(|c| c.cast(&DataType::String).ok())
                .flat_map(|c| {
                    c.str()
                        .expect("str")
                        .iter()
                        .flatten()
                        .map(String::from)
                        .collect::<Vec<_>>()
                })
                .collect()
        } else {
            vec![String::from_utf8_lossy(&std::fs::read(&file).expect("read")).into_owned()]
        };
        for nhs in ["9434765919", "4010232137", "9990000018"] {
            assert!(
                !texts.iter().any(|t| t.contains(nhs)),
                "{nhs} written to {}",
                file.display()
            );
        }
    }
}

#[test]
fn the_feature_table_is_person_level_and_keeps_the_pseudonymisation_rules() {
    let extract = nhs_id_extract();
    let out = extract.path().join("features.parquet");
    let args = [
        "features",
        "--input",
        ".",
        "--index-date",
        "2026-03-31",
        "--out",
        "features.parquet",
    ];
    // Without a key: refused, as a run is, and nothing written.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(extract.path())
        .env_remove("STRATA_PSEUDONYM_KEY")
        .env_remove("STRATA_PSEUDONYM_KEY_FILE")
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(13), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("column `person_id`: holds NHS numbers"));
    assert!(!out.exists(), "no feature table without a key");

    // With a key: pseudonyms, and the file and the command say what it is.
    let key = extract.path().join("key");
    std::fs::write(&key, "a secret key of at least thirty-two bytes, for tests").expect("key");
    let result = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(extract.path())
        .env_remove("STRATA_PSEUDONYM_KEY")
        .env("STRATA_PSEUDONYM_KEY_FILE", &key)
        .output()
        .expect("runs");
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(
        String::from_utf8_lossy(&result.stdout).contains("person-level data"),
        "{}",
        String::from_utf8_lossy(&result.stdout)
    );
    let frame = ParquetReader::new(std::fs::File::open(&out).expect("open"))
        .finish()
        .expect("parquet");
    let ids: Vec<&str> = frame
        .column("person_id")
        .expect("ids")
        .str()
        .expect("str")
        .iter()
        .flatten()
        .collect();
    assert_eq!(ids.len(), 3);
    for id in ids {
        assert_eq!(id.len(), 32, "a 128-bit hex pseudonym, not {id}");
        assert!(!["9434765919", "4010232137", "9990000018"].contains(&id));
    }
    // The Parquet footer (plain Thrift, never compressed) names the audience.
    let bytes = std::fs::read(&out).expect("read");
    let note = b"strata.audience";
    assert!(
        bytes.windows(note.len()).any(|w| w == note),
        "the footer states that the file is person-level"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path))
        } else {
            files.push(path)
        }
    }
    files
}

#[test]
fn the_pseudonymisation_key_can_come_from_the_environment() {
    let extract = nhs_id_extract();
    let out = extract.path().join("out");
    let model = root().join("models/emergency_admission.json");
    let result = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["run", "--input", ".", "--model"])
        .arg(&model)
        .arg("--out")
        .arg(&out)
        .current_dir(extract.path())
        .env(
            "STRATA_PSEUDONYM_KEY",
            "another secret key of at least thirty-two bytes",
        )
        .output()
        .expect("runs");
    assert!(result.status.success(), "{}", stderr(&result));
    assert!(
        !stderr(&result).contains("another secret key"),
        "the key is never echoed"
    );
    let risk = crate::pipeline::read_parts(&out.join("latest/patient_risk"));
    assert_eq!(risk.height(), 3);
}

/// Runs the binary on `extract` with `env` set (and both key variables
/// otherwise removed), publishing to `extract/out`.
fn run_with_env(
    extract: &std::path::Path,
    extra: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> std::process::Output {
    let model = root().join("models/emergency_admission.json");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_strata"));
    command
        .args(["run", "--input", ".", "--out", "out", "--model"])
        .arg(&model)
        .args(extra)
        .current_dir(extract)
        .env_remove("RUST_LOG")
        .env_remove("STRATA_PSEUDONYM_KEY")
        .env_remove("STRATA_PSEUDONYM_KEY_FILE");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("runs")
}

fn strings(frame: &DataFrame, column: &str) -> Vec<Option<String>> {
    frame
        .column(column)
        .expect("column")
        .str()
        .expect("str")
        .iter()
        .map(|v| v.map(String::from))
        .collect()
}

#[test]
fn nhs_numbers_with_spaces_or_dashes_reach_the_clinical_list_normalised() {
    // 943 476 5919 and 401 023 2137 pass Modulus 11 (by hand: 9·10+4·9+3·8+4·7+7·6+6·5+5·4+9·3+1·2
    // = 299, 299 mod 11 = 2, 11 − 2 = 9 ✓). Everyone is flagged: absolute thresholds below any risk.
    let patients = format!(
        "{PATIENTS_HEADER}
        P1,943 476 5919,1940-02-01,F,A,E01000001,A81001,PCN1,2000-01-01,,false,false
        P2,401-023-2137,1950-03-01,M,A,E01000001,A81001,PCN1,2000-01-01,,false,false
        P3,999 000 0019,1990-03-01,M,A,E01000001,A81001,PCN1,2000-01-01,,false,false"
    );
    let encounters = format!(
        "{ENCOUNTERS_HEADER}
        P1,e1,inpatient,2025-12-01,2025-12-03,true,
        P2,e3,gp,2026-02-01,,false,"
    );
    let extract = csv_extract(&[("patients", &patients), ("encounters", &encounters)]);
    std::fs::write(
        extract.path().join("strata.toml"),
        "[tiers]\nmethod = \"thresholds\"\nvery_high_risk = 1e-9\nhigh_risk = 1e-10\nrising_risk = 1e-11\n",
    )
    .expect("config");
    let result = run_with_env(extract.path(), &["--config", "strata.toml"], &[]);
    assert!(result.status.success(), "{}", stderr(&result));
    let lists = crate::pipeline::read_parts(&extract.path().join("out/latest/clinical_lists"));
    let mut by_person: Vec<(Option<String>, Option<String>)> = strings(&lists, "person_id")
        .into_iter()
        .zip(strings(&lists, "nhs_number"))
        .collect();
    by_person.sort();
    assert_eq!(
        by_person,
        [
            (Some("P1".into()), Some("9434765919".into())),
            (Some("P2".into()), Some("4010232137".into())),
            // 999 000 0019 fails the check (check digit 8), so it is removed, not guessed.
            (Some("P3".into()), None),
        ]
    );
}

fn spaced_nhs_id_extract() -> tempfile::TempDir {
    let patients = format!(
        "{PATIENTS_HEADER}
        943 476 5919,,1940-02-01,F,A,E01000001,A81001,PCN1,2000-01-01,,false,false
        401-023-2137,,1950-03-01,M,A,E01000001,A81001,PCN1,2000-01-01,,false,false"
    );
    let encounters = format!(
        "{ENCOUNTERS_HEADER}
        943 476 5919,e1,inpatient,2025-12-01,2025-12-03,true,
        401-023-2137,e3,gp,2026-02-01,,false,"
    );
    csv_extract(&[("patients", &patients), ("encounters", &encounters)])
}

#[test]
fn spaced_nhs_number_person_ids_are_identifying_refused_without_a_key_and_pseudonymised_with_one() {
    let extract = spaced_nhs_id_extract();
    let refused = run_with_env(extract.path(), &[], &[]);
    assert_eq!(refused.status.code(), Some(13), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("holds NHS numbers"),
        "{}",
        stderr(&refused)
    );
    assert!(!extract.path().join("out/latest").exists());

    // The key file's bytes are the key, exactly: its trailing newline included.
    let key_path = extract.path().join("key");
    let key_bytes = b"a secret key of at least thirty-two bytes\n".to_vec();
    std::fs::write(&key_path, &key_bytes).expect("key");
    let result = run_with_env(
        extract.path(),
        &[],
        &[("STRATA_PSEUDONYM_KEY_FILE", key_path.as_os_str())],
    );
    assert!(result.status.success(), "{}", stderr(&result));
    let risk = crate::pipeline::read_parts(&extract.path().join("out/latest/patient_risk"));
    let mut ids: Vec<String> = strings(&risk, "person_id").into_iter().flatten().collect();
    ids.sort();
    let key = strata::governance::pseudonym::PseudonymKey::new(key_bytes).expect("key");
    // Hashed in the normalised form, with the exact key.
    let mut expected = vec![key.pseudonym("9434765919"), key.pseudonym("4010232137")];
    expected.sort();
    assert_eq!(ids, expected);
    let trimmed = strata::governance::pseudonym::PseudonymKey::new(
        b"a secret key of at least thirty-two bytes".to_vec(),
    )
    .expect("key");
    assert!(
        !ids.contains(&trimmed.pseudonym("9434765919")),
        "the newline is not trimmed"
    );
    for file in walk(&extract.path().join("out")) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).expect("read")).into_owned();
        for raw in ["943 476 5919", "401-023-2137", "9434765919", "4010232137"] {
            assert!(!text.contains(raw), "{raw} written to {}", file.display());
        }
    }
}

#[test]
fn short_keys_and_two_keys_are_refused_through_the_binary() {
    let extract = spaced_nhs_id_extract();
    // 31 bytes: one short of the minimum.
    let short = extract.path().join("short-key");
    std::fs::write(&short, [b'k'; 31]).expect("key");
    let result = run_with_env(
        extract.path(),
        &[],
        &[("STRATA_PSEUDONYM_KEY_FILE", short.as_os_str())],
    );
    assert_eq!(result.status.code(), Some(13), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("has 31 bytes; at least 32 are required"),
        "{}",
        stderr(&result)
    );
    assert!(
        !stderr(&result).contains("kkkkkkkk"),
        "the key is never echoed"
    );

    let result = run_with_env(
        extract.path(),
        &[],
        &[("STRATA_PSEUDONYM_KEY", std::ffi::OsStr::new("short"))],
    );
    assert_eq!(result.status.code(), Some(13), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("has 5 bytes"),
        "{}",
        stderr(&result)
    );

    // Both set: neither wins silently.
    let good = extract.path().join("good-key");
    std::fs::write(&good, [b'g'; 40]).expect("key");
    let result = run_with_env(
        extract.path(),
        &[],
        &[
            ("STRATA_PSEUDONYM_KEY_FILE", good.as_os_str()),
            (
                "STRATA_PSEUDONYM_KEY",
                std::ffi::OsStr::new("another key of forty bytes, long enough"),
            ),
        ],
    );
    assert_eq!(result.status.code(), Some(13), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("both are set"),
        "{}",
        stderr(&result)
    );
    assert!(!extract.path().join("out/latest").exists());
}

/// `sample-data` written twice: into `with`, with the people at the
/// positions `extra` (indices into patients, taken modulo its height) also
/// opted out (national opt-out), and into `without`, with every opted-out
/// person and all their rows deleted.
fn opt_out_variants(extra: &[usize], with: &std::path::Path, without: &std::path::Path) {
    let read = |table: &str| {
        ParquetReader::new(
            std::fs::File::open(root().join("sample-data").join(format!("{table}.parquet")))
                .expect("open"),
        )
        .finish()
        .expect("parquet")
    };
    let write = |dir: &std::path::Path, table: &str, mut frame: DataFrame| {
        let file = std::fs::File::create(dir.join(format!("{table}.parquet"))).expect("create");
        ParquetWriter::new(file).finish(&mut frame).expect("write");
    };
    std::fs::create_dir_all(with).expect("mkdir");
    std::fs::create_dir_all(without).expect("mkdir");
    let mut patients = read("patients");
    let n = patients.height();
    let chosen: std::collections::HashSet<usize> = extra.iter().map(|i| i % n).collect();
    let national: BooleanChunked = patients
        .column("opt_out_national")
        .expect("national")
        .bool()
        .expect("bool")
        .iter()
        .enumerate()
        .map(|(i, v)| Some(v.unwrap_or(false) || chosen.contains(&i)))
        .collect();
    patients
        .with_column(national.with_name("opt_out_national".into()).into_column())
        .expect("flags");
    let opted_out = patients
        .column("opt_out_national")
        .expect("national")
        .bool()
        .expect("bool")
        | patients
            .column("opt_out_type1")
            .expect("type1")
            .bool()
            .expect("bool");
    let gone: std::collections::HashSet<String> = patients
        .filter(&opted_out)
        .expect("filter")
        .column("person_id")
        .expect("ids")
        .str()
        .expect("str")
        .iter()
        .flatten()
        .map(String::from)
        .collect();
    write(
        without,
        "patients",
        patients.filter(&!&opted_out).expect("filter"),
    );
    write(with, "patients", patients);
    for table in [
        "encounters",
        "diagnoses",
        "medications",
        "observations",
        "social_care",
    ] {
        let frame = read(table);
        let keep: BooleanChunked = frame
            .column("person_id")
            .expect("ids")
            .str()
            .expect("str")
            .iter()
            .map(|id| id.is_none_or(|id| !gone.contains(id)))
            .collect();
        write(without, table, frame.filter(&keep).expect("filter"));
        write(with, table, frame);
    }
    write(with, "lsoa_imd", read("lsoa_imd"));
    write(without, "lsoa_imd", read("lsoa_imd"));
}

/// Runs `strata run` on `with` and `without` (as `opt_out_variants` wrote
/// them) and requires every planning summary to be equal, value for value.
fn assert_summaries_ignore_opted_out(dir: &std::path::Path, extra: &[usize]) {
    let (with, without) = (dir.join("with"), dir.join("without"));
    opt_out_variants(extra, &with, &without);
    let model = root().join("models/emergency_admission.json");
    for (input, out) in [(&with, "with-out"), (&without, "without-out")] {
        let result = strata(
            dir,
            &[
                "run",
                "--input",
                input.to_str().expect("utf-8"),
                "--model",
                model.to_str().expect("utf-8"),
                "--out",
                out,
                "--as-of",
                "2026-03-31",
            ],
        );
        assert!(result.status.success(), "{}", stderr(&result));
    }
    let summaries = |out: &str| dir.join(out).join("latest/summaries");
    let mut compared = 0;
    for entry in std::fs::read_dir(summaries("with-out")).expect("summaries") {
        let name = entry.expect("entry").file_name();
        let read = |out: &str| {
            ParquetReader::new(std::fs::File::open(summaries(out).join(&name)).expect("open"))
                .finish()
                .expect("parquet")
        };
        let (a, b) = (read("with-out"), read("without-out"));
        assert!(a.equals_missing(&b), "{name:?} changed:\n{a}\n{b}");
        compared += 1;
    }
    assert!(compared >= 8, "the eight neighbourhood summaries");
}

#[test]
fn the_planning_summaries_are_the_same_with_the_opted_out_people_deleted() {
    // Issue 23: tiers are cut over the planning population, so people with a
    // National Data Opt-out or Type 1 objection move nobody's tier, and the
    // summaries (secondary use) equal, value for value, those of the extract
    // without them. The sample's own 340 opted-out people.
    let dir = tempfile::tempdir().expect("tempdir");
    assert_summaries_ignore_opted_out(dir.path(), &[]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("STRATA_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24) / 6
    ))]

    /// The same for random further sets of opted-out people (up to 600 of
    /// the 5,000, anywhere in the risk ranking).
    #[test]
    fn opting_more_people_out_changes_no_planning_summary(
        extra in proptest::collection::vec(0usize..5000, 0..600)
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_summaries_ignore_opted_out(dir.path(), &extra);
    }
}
