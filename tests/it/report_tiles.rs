//! The run report is shared with commissioners: through the real binary, its
//! headline tiles and tier table show the published figures of the planning
//! population's `ALL` row in `summaries/`, not the manifest's exact counts of
//! everyone scored.

use polars::prelude::*;

use crate::support::{read_parquet, root, stderr, strata};

/// The text of the tile labelled `label`.
fn tile(html: &str, label: &str) -> String {
    let at = html
        .find(&format!("<div class=\"tile-label\">{label}</div>"))
        .unwrap_or_else(|| panic!("no tile {label}"));
    let rest = &html[at..];
    let start = rest.find("tile-value\">").expect("value") + "tile-value\">".len();
    rest[start..start + rest[start..].find('<').expect("end")].to_string()
}

/// A count as the report writes it (thousands separated by commas), or the
/// withheld mark.
fn shown(v: Option<i64>, redacted: bool) -> String {
    match (v, redacted) {
        (_, true) | (None, _) => "≤7".into(),
        (Some(n), false) => {
            let digits = n.to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            out
        }
    }
}

/// (published text, column) of the ALL row of `frame`, for `columns`.
fn all_row(frame: &DataFrame, group: &str, columns: &[&str]) -> Option<Vec<String>> {
    let labels = frame.column(group).ok()?.cast(&DataType::String).ok()?;
    let row = labels.str().ok()?.iter().position(|l| l == Some("ALL"))?;
    columns
        .iter()
        .map(|c| {
            let value = frame.column(c).ok()?.cast(&DataType::Int64).ok()?;
            let flag = frame.column(&format!("{c}_redacted")).ok()?;
            Some(shown(
                value.i64().ok()?.get(row),
                flag.bool().ok()?.get(row).unwrap_or(false),
            ))
        })
        .collect()
}

#[test]
fn the_run_report_tiles_are_the_published_all_row_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let run = strata(
        &root(),
        &[
            "run",
            "--input",
            "sample-data",
            "--model",
            "models/emergency_admission.json",
            "--out",
            out.to_str().expect("utf-8"),
        ],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let latest = out.join("latest");
    let html = std::fs::read_to_string(latest.join("report.html")).expect("report");
    let people = tile(&html, "People (planning population)");
    let very_high = tile(&html, "Very high risk");
    let start = html.find("id=\"table-tiers\"").expect("tier table");
    let tiers = &html[start..start + html[start..].find("</table>").expect("end")];
    let columns = [
        "population",
        "tier_very_high",
        "tier_high",
        "tier_rising",
        "tier_low",
    ];
    // Some summary's ALL row holds exactly the figures shown (every ALL row
    // is the rounded true total of the same planning population).
    let mut matched = Vec::new();
    for dimension in strata::products::summaries::DIMENSIONS {
        let path = latest
            .join("summaries")
            .join(format!("by_{dimension}.parquet"));
        if !path.exists() {
            continue;
        }
        let Some(all) = all_row(&read_parquet(&path), dimension, &columns) else {
            continue;
        };
        let in_table = all[1..].iter().all(|v| tiers.contains(&format!(">{v}<")));
        if all[0] == people && all[1] == very_high && in_table {
            matched.push(*dimension);
        }
    }
    assert!(
        !matched.is_empty(),
        "tiles (people {people}, very high {very_high}) and the tier table match no summary's ALL row"
    );
    // The manifest's exact count of everyone scored is not on the page.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(latest.join("manifest.json")).expect("m"))
            .expect("json");
    let scored = manifest["people_scored"].as_i64().expect("people_scored");
    assert!(!html.contains(&format!(">{}<", shown(Some(scored), false))));
}
