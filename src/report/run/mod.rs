//! The run report: `report.html` in a published run directory, from the
//! manifest and the disclosure-controlled summaries only.
//!
//! Must never read `patient_risk/` or `clinical_lists/` (person-level) and
//! never show a count that has not passed disclosure control: counts from
//! the manifest are protected here with the run's own disclosure profile,
//! counts from `summaries/` were protected when they were written.
//!
//! [`Context`] loads and protects everything once; each section of the page
//! is a function of it: `health` (run summary, drift, data quality and the
//! headline), `risk` (pyramid, tiers and segments, score distribution) and
//! `neighbourhoods`.

mod figures;
mod health;
mod inequalities;
mod neighbourhoods;
mod risk;
mod summary;
mod text;

use std::path::{Path, PathBuf};

use super::html::{self, Page, Status};
use super::{ReportError, write_atomically};
use crate::governance::disclosure::DisclosureProfile;
use crate::publication::manifest::Manifest;
use figures::{Figure, ProtectedCounts, Shower, protect_manifest_counts};
use summary::Summary;

/// The report's file name inside the run directory.
pub const REPORT_FILE: &str = "report.html";

/// Ids of the page's sections, in order (the browser test checks them).
pub const SECTION_IDS: &[&str] = &[
    "run-summary",
    "risk-pyramid",
    "tiers-and-segments",
    "score-distribution",
    "drift",
    "neighbourhoods",
    "inequalities",
    "data-quality",
];

/// Ids of the charts of a run report.
pub const CHART_IDS: &[&str] = &[
    "chart-risk-pyramid",
    "chart-segments",
    "chart-score-distribution",
    "chart-neighbourhoods",
    "chart-inequalities",
];

/// Ids of the tables of a run report.
pub const TABLE_IDS: &[&str] = &[
    "table-inputs",
    "table-stages",
    "table-tiers",
    "table-tier-segment",
    "table-drift",
    "table-lsoa",
    "table-pcn",
    "table-imd",
    "table-inequalities",
    "table-data-quality",
];

/// Writes `run_dir/report.html` from `run_dir/manifest.json` and
/// `run_dir/summaries/*.parquet`; returns the report's path.
pub fn write_run_report(run_dir: &Path) -> Result<PathBuf, ReportError> {
    let html = render_run_report(run_dir)?;
    let path = run_dir.join(REPORT_FILE);
    write_atomically(&path, &html)?;
    Ok(path)
}

/// Something the reader should look at, raised by a section and listed in
/// the headline.
type Finding = (Status, String);

/// Everything the sections draw from, loaded and protected once.
struct Context {
    manifest: Manifest,
    /// The manifest's `validation` details as JSON; older runs lack them.
    validation: Option<serde_json::Value>,
    manifest_path: PathBuf,
    report_path: PathBuf,
    profile: DisclosureProfile,
    show: Shower,
    counts: ProtectedCounts,
    summaries: Vec<(&'static str, Option<Summary>)>,
    /// The planning-population totals: (index into `summaries`, row).
    planning: Option<(usize, usize)>,
    /// Tier key → its definition in words, from the run's settings.
    definitions: Vec<(String, String)>,
}

impl Context {
    /// Reads `run_dir/manifest.json` and every summary present, and protects
    /// the manifest's counts with the run's disclosure profile.
    fn load(run_dir: &Path) -> Result<Context, ReportError> {
        let manifest_path = run_dir.join("manifest.json");
        let text = std::fs::read_to_string(&manifest_path).map_err(|source| ReportError::Io {
            path: manifest_path.clone(),
            action: "reading the run manifest",
            source,
        })?;
        let raw: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| ReportError::Invalid {
                path: manifest_path.clone(),
                problem: format!("not valid JSON: {e}"),
            })?;
        let validation = raw.get("validation").filter(|v| !v.is_null()).cloned();
        let manifest: Manifest = serde_json::from_value(raw).map_err(|e| ReportError::Invalid {
            path: manifest_path.clone(),
            problem: format!("not a strata run manifest: {e}"),
        })?;
        let profile_name = manifest
            .settings
            .get("disclosure")
            .and_then(|v| v.as_str())
            .unwrap_or("opensafely");
        let profile: DisclosureProfile = profile_name.parse().unwrap_or_default();
        let show = Shower {
            threshold: profile.redact_at_or_below(),
        };
        let manifest_counts = protect_manifest_counts(&manifest, &profile, &manifest_path)?;
        let summaries: Vec<(&'static str, Option<Summary>)> =
            crate::products::summaries::DIMENSIONS
                .iter()
                .map(|d| Summary::read(run_dir, d).map(|s| (*d, s)))
                .collect::<Result<_, _>>()?;
        let planning = planning_row(&manifest, &summaries)?;
        // Commissioners see the planning population in every summary: the
        // page shows the same published figures (the ALL row), so nothing on
        // it can be set against a summary to tell about opted-out people.
        let counts = match planning.and_then(|(i, row)| summaries[i].1.as_ref().map(|s| (s, row))) {
            Some((summary, row)) => figures::planning_counts(
                summary,
                row,
                &manifest,
                manifest_counts,
                &profile,
                &manifest_path,
            )?,
            None => manifest_counts,
        };
        let definitions = text::tier_definitions(&manifest);
        Ok(Context {
            manifest,
            validation,
            manifest_path,
            report_path: run_dir.join(REPORT_FILE),
            profile,
            show,
            counts,
            summaries,
            planning,
            definitions,
        })
    }

    /// The summary by `dimension`, if the run wrote it.
    fn summary(&self, dimension: &str) -> Option<&Summary> {
        self.summaries
            .iter()
            .find(|(k, _)| *k == dimension)
            .and_then(|(_, s)| s.as_ref())
    }

    /// The summary and row holding the planning-population totals.
    fn planning(&self) -> Option<(&Summary, usize)> {
        let (index, row) = self.planning?;
        self.summaries[index].1.as_ref().map(|s| (s, row))
    }

    /// A tier's definition in words ("top 0.5% of risk"); empty if unknown.
    fn definition(&self, tier: &str) -> String {
        self.definitions
            .iter()
            .find(|(k, _)| k == tier)
            .map_or(String::new(), |(_, d)| d.clone())
    }

    /// Maps a chart's error to one that names the report.
    fn chart_err(&self) -> impl Fn(super::charts::ChartError) -> ReportError + '_ {
        ReportError::chart(&self.report_path)
    }
}

/// The planning-population totals: the all-groups row with the most people
/// (sum-of-protected totals lose redacted cells, so the largest is the most
/// complete), from the summaries by a low-cardinality dimension.
fn planning_row(
    manifest: &Manifest,
    summaries: &[(&'static str, Option<Summary>)],
) -> Result<Option<(usize, usize)>, ReportError> {
    let mut planning: Option<(usize, usize, f64)> = None;
    for d in [
        "sex",
        "age_band",
        "pcn_code",
        "imd_quintile",
        "ethnicity_group",
    ] {
        let Some(index) = summaries.iter().position(|(k, _)| *k == d) else {
            continue;
        };
        if let Some(s) = &summaries[index].1
            && let Some(row) = s.total_row()?
        {
            // Score: people, then the published tier and segment cells of
            // the row (sum-of-protected totals lose every withheld cell).
            let mut score = s.figures("population", true)?[row].value().unwrap_or(0.0) * 2.0;
            for (key, _) in manifest.tier_counts.iter().chain(&manifest.segment_counts) {
                for prefix in ["tier_", "segment_"] {
                    let name = format!("{prefix}{key}");
                    if s.has(&name) {
                        score += s.figures(&name, true)?[row].value().unwrap_or(0.0);
                    }
                }
            }
            if planning.is_none_or(|(_, _, best)| score > best) {
                planning = Some((index, row, score));
            }
        }
    }
    Ok(planning.map(|(index, row, _)| (index, row)))
}

/// Renders the run report of `run_dir` without writing it.
pub(crate) fn render_run_report(run_dir: &Path) -> Result<String, ReportError> {
    let ctx = Context::load(run_dir)?;
    let manifest = &ctx.manifest;
    let mut page = Page {
        title: "Nightly risk stratification — run report".into(),
        subtitle: format!(
            "Risk as of {} · run {} · model {} · strata {}",
            manifest.as_of.format("%-d %B %Y"),
            manifest.run_id,
            manifest.model.model_id,
            manifest.software_version
        ),
        ..Page::default()
    };
    let mut findings: Vec<Finding> = Vec::new();
    page.section("run-summary", "Run summary", health::run_summary(&ctx));
    page.section("risk-pyramid", "Risk pyramid", risk::pyramid(&ctx)?);
    page.section(
        "tiers-and-segments",
        "Tiers and segments",
        risk::tiers_and_segments(&ctx)?,
    );
    page.section(
        "score-distribution",
        "Score distribution",
        risk::score_distribution(&ctx)?,
    );
    page.section(
        "drift",
        "Change since the previous run",
        health::drift(&ctx, &mut findings),
    );
    page.section(
        "neighbourhoods",
        "Neighbourhoods",
        neighbourhoods::section(&ctx)?,
    );
    page.section(
        "inequalities",
        "Inequalities",
        inequalities::section(&ctx, run_dir)?,
    );
    page.section(
        "data-quality",
        "Data quality",
        health::data_quality(&ctx, &mut findings),
    );
    page.lead = health::headline(&ctx, &findings)?;
    page.footer = footer(&ctx);
    Ok(page.render())
}

/// What every figure on the page is, and where it came from.
fn footer(ctx: &Context) -> String {
    html::p(&format!(
        "All figures are aggregates. Counts of people pass statistical disclosure control ({}): counts of {} or fewer are withheld and shown as “≤{}”, other counts are rounded. Generated by strata {} from {} and summaries/ only.",
        ctx.profile,
        ctx.show.threshold,
        ctx.show.threshold,
        crate::VERSION,
        ctx.manifest_path
            .file_name()
            .map_or("manifest.json".into(), |f| f.to_string_lossy().into_owned())
    ))
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;
    use crate::governance::disclosure::{TableSpec, protect_dataframe};

    /// A manifest as JSON (so the tests do not depend on every field of the
    /// struct; `validation` is an empty list, as a clean run writes it).
    fn manifest(tiers: [u64; 4]) -> serde_json::Value {
        let people: u64 = tiers.iter().sum();
        let mut shares = vec![0.0; 22];
        shares[8] = 6.0 / people as f64;
        shares[9] = (people - 6) as f64 / people as f64;
        serde_json::json!({
            "run_id": "20261123T000000Z-00000000",
            "as_of": "2026-03-31",
            "software_version": "0.1.0",
            "started_at": "2026-11-23T00:00:00Z",
            "model": {"model_id": "m-<1>", "path": "models/m.json", "blake3": "ab".repeat(32)},
            "inputs": [{"path": "sample-data/patients.parquet", "bytes": 93_642, "blake3": "cd".repeat(32)}],
            "tables": [{"table": "patients", "rows_read": 1000, "rows_rejected": 2}],
            "validation": [],
            "imd_source": "extract",
            "imd_unmatched_lsoa": 3,
            "people_scored": people,
            "tier_counts": [["very_high", tiers[0]], ["high", tiers[1]], ["rising", tiers[2]], ["low", tiers[3]]],
            "segment_counts": [["frailty_and_dementia", 6], ["healthy", people - 6]],
            "distribution": {"people": people, "mean_risk": 0.07, "risk_bin_shares": shares,
                "tier_shares": [], "missingness": []},
            "drift": {"previous_run_id": "r0", "psi_risk": 0.3, "psi_tiers": 0.01,
                "warnings": ["risk distribution shifted: PSI 0.300 > 0.2"]},
            "outputs": [],
            "stages": [{"stage": "scoring", "seconds": 0.5}],
            "settings": {"disclosure": "opensafely", "input": "sample-data"}
        })
    }

    fn run_dir(manifest: &serde_json::Value) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("manifest.json"), manifest.to_string()).expect("manifest");
        dir
    }

    #[test]
    fn small_counts_in_the_manifest_are_never_printed() {
        // very_high = 6 people, a segment of 6, a score bin of 6, 3 unmatched LSOAs.
        let m = manifest([6, 44, 150, 800]);
        let dir = run_dir(&m);
        let html = render_run_report(dir.path()).expect("report");
        assert!(html.contains("≤7"), "withheld counts read ≤7");
        for leak in [">6<", "6 people", ">3<", "3 people", "Very high — 6"] {
            assert!(!html.contains(leak), "{leak} leaks a small count");
        }
        // Secondary suppression: the high tier is withheld too, or 6 = total − others.
        assert!(
            !html.contains(">44<") && !html.contains(">45<"),
            "high tier must be withheld"
        );
        // A withheld count is never shown as 0.
        assert!(!html.contains("Very high — 0"));
        // Published counts are rounded.
        assert!(html.contains(">1,000<") && html.contains(">800<"));
    }

    #[test]
    fn every_section_chart_and_table_is_present_and_text_is_escaped() {
        let m = manifest([10, 45, 150, 795]);
        let dir = run_dir(&m);
        let html = render_run_report(dir.path()).expect("report");
        for id in SECTION_IDS {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
        }
        for id in [
            "chart-risk-pyramid",
            "chart-segments",
            "chart-score-distribution",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
        for id in [
            "table-inputs",
            "table-stages",
            "table-tiers",
            "table-tier-segment",
            "table-drift",
            "table-data-quality",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(html.contains("m-&lt;1&gt;") && !html.contains("m-<1>"));
        assert!(html.contains("risk distribution shifted"));
        assert!(html.contains("summaries/by_lsoa.parquet is missing"));
        assert!(html.contains("No problems found."));
        for outside in [
            "<script",
            "<link",
            "@import",
            "url(",
            "src=\"http",
            "href=\"http",
        ] {
            assert!(!html.contains(outside), "{outside}");
        }
    }

    #[test]
    fn validation_details_are_shown_when_the_manifest_has_them() {
        let mut m = manifest([10, 45, 150, 795]);
        m["validation"] = serde_json::json!([{"table": "patients", "path": "p.csv", "rows_read": 1000,
            "rows_rejected": 2, "issues": [{"column": "date_of_birth", "problem": "date in the future",
            "action": "row_rejected", "count": 2, "first_rows": ["17", "18"]}]}]);
        let dir = run_dir(&m);
        let html = render_run_report(dir.path()).expect("report");
        assert!(html.contains("id=\"table-validation-issues\""));
        assert!(html.contains("date in the future") && html.contains("row rejected"));
        assert!(!html.contains(">17<"), "row numbers are not shown");
    }

    #[test]
    fn medicines_counted_by_product_code_are_a_data_quality_warning() {
        let mut m = manifest([10, 45, 150, 795]);
        let medications = |product: u64| {
            serde_json::json!([{"table": "medications", "path": "medications.csv", "rows_read": 10,
                "rows_rejected": 0, "issues": [], "medicine_codes": {"bnf_substance_rows": 10 - product,
                "product_code_rows": product, "dmd_bnf_map": false}}])
        };
        m["validation"] = medications(0);
        let clean = render_run_report(run_dir(&m).path()).expect("report");
        assert!(
            !clean.contains("counted by product code"),
            "all at BNF level"
        );
        m["validation"] = medications(3);
        let html = render_run_report(run_dir(&m).path()).expect("report");
        assert!(
            html.contains(
                "medications: 3 of 10 rows have no BNF code and were counted by product code"
            ),
            "{html}"
        );
        assert!(html.contains("[medicines] dmd_bnf"), "says how to fix it");
    }

    #[test]
    fn a_run_on_a_fhir_export_lists_the_resources_its_conversion_left_out() {
        let mut m = manifest([10, 45, 150, 795]);
        let plain = render_run_report(run_dir(&m).path()).expect("report");
        assert!(!plain.contains("table-fhir-issues"), "only for FHIR input");
        m["settings"] = serde_json::json!({"converted_from": {"format": "fhir", "input": "export",
            "conversion": {"issues": [{"resource_type": "Condition", "kind": "dropped",
            "reason": "verificationStatus refuted", "count": 12, "first": ["Condition.ndjson line 9"]}]}}});
        let html = render_run_report(run_dir(&m).path()).expect("report");
        assert!(html.contains("id=\"table-fhir-issues\""));
        assert!(html.contains("verificationStatus refuted") && html.contains(">12<"));
        assert!(!html.contains("line 9"), "places in files are not shown");
    }

    #[test]
    fn a_model_term_without_a_source_makes_the_run_degraded_never_healthy() {
        let mut m = manifest([10, 45, 150, 795]);
        // No rejected rows and every LSOA matched: otherwise a healthy run.
        m["tables"] =
            serde_json::json!([{"table": "patients", "rows_read": 1000, "rows_rejected": 0}]);
        m["imd_unmatched_lsoa"] = serde_json::json!(0);
        m["coverage"] = serde_json::json!({
            "population": 1000,
            "families": [{"family": "HFRS", "features": ["hfrs"], "people": 0, "status": "absent",
                "sources": [{"source": "ICD-10 diagnoses", "rows": 0, "people": 0}]},
                {"family": "Charlson", "features": ["charlson_index"], "people": 4, "status": "partial",
                "sources": [{"source": "ICD-10 diagnoses", "rows": 0, "people": 0},
                            {"source": "SNOMED CT diagnoses", "rows": 40, "people": 4}]}],
            "warnings": ["no ICD-10 diagnoses: HFRS not computable (null for everyone)",
                         "no ICD-10 diagnoses: Charlson from SNOMED CT diagnoses only"]
        });
        m["health"] = serde_json::json!("degraded");
        m["degraded_terms"] = serde_json::json!([
            "model term `hfrs` reads `hfrs`, whose source (ICD-10 diagnoses) is absent"
        ]);
        let html = render_run_report(run_dir(&m).path()).expect("report");
        assert!(!html.contains("Healthy run"), "no healthy banner");
        assert!(!html.contains(">healthy<"), "no healthy tile");
        assert!(html.contains("degraded"));
        assert!(html.contains("HFRS not computable"));
        assert!(html.contains("id=\"table-coverage\""));
        // 4 people is a small count: withheld in the coverage table.
        assert!(!html.contains(">4<"), "small counts are withheld");
        // Without the coverage problems, the same run is healthy.
        m["coverage"] = serde_json::json!({"population": 1000, "families": [], "warnings": []});
        m["health"] = serde_json::json!("healthy");
        m["degraded_terms"] = serde_json::json!([]);
        let html = render_run_report(run_dir(&m).path()).expect("report");
        assert!(
            !html.contains("degraded"),
            "the control case is not degraded"
        );
    }

    #[test]
    fn summaries_feed_the_neighbourhood_and_cross_tab_tables() {
        let m = manifest([10, 45, 150, 795]);
        let dir = run_dir(&m);
        let folder = dir.path().join("summaries");
        std::fs::create_dir_all(&folder).expect("mkdir");
        let write = |dimension: &str, frame: DataFrame| {
            let spec = TableSpec::by_convention(&frame, dimension)
                .expect("spec")
                .with_total_row(
                    "ALL",
                    crate::governance::disclosure::TotalRowMethod::ProfileDefault,
                );
            let (mut protected, _) =
                protect_dataframe(&frame, &spec, &DisclosureProfile::default()).expect("protect");
            crate::publication::parquet::write_parquet(
                &mut protected,
                &folder.join(format!("by_{dimension}.parquet")),
            )
            .expect("write");
        };
        write(
            "lsoa",
            df!(
                "lsoa" => ["E01000001", "E01000002", "E01000003"],
                "population" => [400i64, 300, 5],
                "tier_very_high" => [20i64, 10, 0],
                "tier_low" => [380i64, 290, 5],
                "mean_risk" => [0.1, 0.05, 0.2],
                "expected_admissions" => [40.0, 15.0, 1.0],
                "expected_admissions_lower" => [30.0, 9.0, 0.0],
                "expected_admissions_upper" => [50.0, 21.0, 3.0],
            )
            .expect("frame"),
        );
        write(
            "segment",
            df!(
                "segment" => ["healthy", "frailty_and_dementia"],
                "population" => [900i64, 100],
                "tier_very_high" => [2i64, 8],
                "tier_high" => [20i64, 25],
                "tier_rising" => [100i64, 50],
                "tier_low" => [778i64, 17],
            )
            .expect("frame"),
        );
        let html = render_run_report(dir.path()).expect("report");
        assert!(html.contains("id=\"chart-neighbourhoods\""));
        assert!(html.contains("E01000001") && html.contains("30 – 50"));
        assert!(
            !html.contains("E01000003"),
            "a suppressed LSOA is not ranked"
        );
        assert!(html.contains("People by segment and risk tier"));
        let start = html.find("id=\"table-tier-segment\"").expect("cross-tab");
        let cross_tab = &html[start..start + html[start..].find("</table>").expect("end")];
        assert!(
            !cross_tab.contains(">2<") && !cross_tab.contains(">8<"),
            "{cross_tab}"
        );
        assert!(cross_tab.contains(">≤7<"), "{cross_tab}");
    }

    /// Writes `summaries/by_<dimension>.parquet` protected like a run's, with an ALL row.
    fn write_summary(folder: &Path, dimension: &str, frame: DataFrame) {
        std::fs::create_dir_all(folder).expect("mkdir");
        let spec = TableSpec::by_convention(&frame, dimension)
            .expect("spec")
            .with_total_row(
                "ALL",
                crate::governance::disclosure::TotalRowMethod::RoundedIndependently,
            );
        let (mut protected, _) =
            protect_dataframe(&frame, &spec, &DisclosureProfile::default()).expect("protect");
        crate::publication::parquet::write_parquet(
            &mut protected,
            &folder.join(format!("by_{dimension}.parquet")),
        )
        .expect("write");
    }

    #[test]
    fn tiles_tiers_and_segments_are_the_published_all_row_not_the_manifest() {
        // The manifest counts everyone scored (1,000); the planning
        // population (no opt-outs) is 903 people: 12 very high, 46 high,
        // 140 rising, 705 low; segments 803 healthy, 100 frail.
        let m = manifest([10, 45, 150, 795]);
        let dir = run_dir(&m);
        write_summary(
            &dir.path().join("summaries"),
            "sex",
            df!(
                "sex" => ["F", "M"],
                "population" => [453i64, 450],
                "tier_very_high" => [6i64, 6],
                "tier_high" => [23i64, 23],
                "tier_rising" => [70i64, 70],
                "tier_low" => [354i64, 351],
                "segment_healthy" => [403i64, 400],
                "segment_frailty_and_dementia" => [50i64, 50],
            )
            .expect("frame"),
        );
        let html = render_run_report(dir.path()).expect("report");
        // ALL row, rounded from the true totals: 903 → 905, 12 → 10, 46 → 45,
        // 140 → 140, 705 → 705; segments 803 → 805, 100 → 100.
        let tile = |label: &str| {
            let at = html
                .find(&format!("<div class=\"tile-label\">{label}</div>"))
                .unwrap_or_else(|| panic!("no tile {label}"));
            let value = &html[at..];
            let start = value.find("tile-value\">").expect("value") + "tile-value\">".len();
            value[start..start + value[start..].find('<').expect("end")].to_string()
        };
        assert_eq!(tile("People (planning population)"), "905");
        assert_eq!(tile("Very high risk"), "10");
        let start = html.find("id=\"table-tiers\"").expect("tier table");
        let tiers = &html[start..start + html[start..].find("</table>").expect("end")];
        assert!(tiers.contains("planning population"), "{tiers}");
        for published in [">10<", ">45<", ">140<", ">705<", ">905<"] {
            assert!(tiers.contains(published), "{published} in {tiers}");
        }
        // Nothing from the manifest's everyone-scored counts.
        assert!(
            !tiers.contains(">1,000<") && !html.contains(">795<") && !html.contains(">150<"),
            "manifest counts shown"
        );
        // Shares are of the published counts: 10 / 905.
        assert!(tiers.contains(&crate::report::format_percent(10.0 / 905.0)));
    }

    #[test]
    fn histogram_shares_come_from_protected_bin_counts() {
        use figures::{Figure, protect_bins};
        let path = Path::new("manifest.json");
        let profile = DisclosureProfile::default();
        // 500 people: bins of 0, 2, 100 and 398 people.
        let (total, bins) = protect_bins(&[0, 2, 100, 398], &profile, path).expect("protect");
        assert_eq!(total, Figure::Count(500));
        // 2 is withheld; alone it would be 500 − 0 − 100 − 398, so the
        // smallest other non-zero bin (100) is withheld too; 398 → 400.
        assert_eq!(
            bins,
            [
                Figure::Count(0),
                Figure::Redacted,
                Figure::Redacted,
                Figure::Count(400)
            ]
        );
        let shares = risk::bin_shares(&bins, total);
        assert_eq!(shares, [Some(0.0), None, None, Some(400.0 / 500.0)]);
        // A withheld total gives no share at all, never a confident 0.
        assert_eq!(
            risk::bin_shares(&[Figure::Count(0)], Figure::Redacted),
            [None]
        );
    }

    #[test]
    fn a_summary_column_without_its_redaction_flag_is_refused() {
        let dir = run_dir(&manifest([10, 45, 150, 795]));
        let folder = dir.path().join("summaries");
        std::fs::create_dir_all(&folder).expect("mkdir");
        let mut frame = df!(
            "pcn_code" => ["P1", "ALL"],
            "population" => [3i64, 3],
        )
        .expect("frame");
        crate::publication::parquet::write_parquet(&mut frame, &folder.join("by_pcn_code.parquet"))
            .expect("write");
        let err = render_run_report(dir.path()).expect_err("unprotected column");
        let text = err.to_string();
        assert!(
            text.contains("by_pcn_code.parquet") && text.contains("population_redacted"),
            "{text}"
        );
    }

    /// Writes the report of a real run: until `strata report --run DIR`
    /// exists, `STRATA_REPORT_RUN_DIR=out/latest cargo test --lib
    /// report::run::tests::report_of_a_real_run -- --ignored`.
    #[test]
    #[ignore = "needs a run directory in STRATA_REPORT_RUN_DIR"]
    fn report_of_a_real_run() {
        let dir = std::env::var("STRATA_REPORT_RUN_DIR").expect("STRATA_REPORT_RUN_DIR");
        let path = write_run_report(Path::new(&dir)).expect("report");
        eprintln!("wrote {}", path.display());
    }

    #[test]
    fn a_missing_manifest_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = write_run_report(dir.path()).expect_err("no manifest");
        assert!(err.to_string().contains("manifest.json"), "{err}");
        std::fs::write(dir.path().join("manifest.json"), "{}").expect("write");
        let err = write_run_report(dir.path()).expect_err("bad manifest");
        assert!(
            err.to_string().contains("not a strata run manifest"),
            "{err}"
        );
    }
}
