//! Sections about the run itself: what it read and how long it took, drift
//! since the previous run, data quality, and the headline that sums them up.

use super::figures::Population;
use super::text::{bytes_text, psi_reading, seconds_text};
use super::{Context, Figure, Finding};
use crate::report::ReportError;
use crate::report::html::{Status, Table, Td, callout, columns, note, p, tile, tiles};
use crate::report::{format_count, format_number, format_percent};

/// Rows read and rows rejected, over every input table.
fn rows_totals(ctx: &Context) -> (u64, u64) {
    ctx.manifest
        .tables
        .iter()
        .fold((0, 0), |(read, rejected), t| {
            (read + t.rows_read, rejected + t.rows_rejected)
        })
}

/// Input files, time per stage and the settings that matter.
pub(super) fn run_summary(ctx: &Context) -> String {
    let manifest = &ctx.manifest;
    let mut inputs = Table::new("table-inputs", "Input files", &["file", "size", "blake3"]);
    for f in &manifest.inputs {
        inputs.row(vec![
            Td::text(&f.path),
            Td::num(bytes_text(f.bytes)),
            Td::text(f.blake3.chars().take(12).collect::<String>() + "…"),
        ]);
    }
    let mut stages = Table::new("table-stages", "Time per stage", &["stage", "time"]);
    let total_seconds: f64 = manifest.stages.iter().map(|s| s.seconds).sum();
    for s in &manifest.stages {
        stages.row(vec![Td::text(&s.stage), Td::num(seconds_text(s.seconds))]);
    }
    stages.row(vec![
        Td::text("total"),
        Td::num(seconds_text(total_seconds)),
    ]);
    let (rows_read, _) = rows_totals(ctx);
    format!(
        "{}{}{}",
        p(&format!(
            "This run scored everyone alive and registered on {} for their risk of an emergency hospital admission in the following 12 months, using model {} ({}). It read {} files ({} rows in {} tables) and took {} in total. Started {}.",
            manifest.as_of.format("%-d %B %Y"),
            manifest.model.model_id,
            manifest.model.path,
            manifest.inputs.len(),
            format_count(rows_read, false),
            manifest.tables.len(),
            seconds_text(total_seconds),
            manifest.started_at
        )),
        columns(&[inputs.render(), stages.render()]),
        note(&format!(
            "Settings: input `{}`, disclosure profile {}.",
            manifest
                .settings
                .get("input")
                .and_then(|v| v.as_str())
                .unwrap_or("?"),
            ctx.profile
        ))
    )
}

/// Population stability of the risk distribution and of the tier sizes since
/// the previous run; shifts and drift warnings become findings.
pub(super) fn drift(ctx: &Context, findings: &mut Vec<Finding>) -> String {
    match &ctx.manifest.drift {
        None => {
            let mut table = Table::new(
                "table-drift",
                "Compared with the previous run",
                &["measure", "PSI", "reading"],
            );
            for name in ["distribution of predicted risk", "sizes of the risk tiers"] {
                table.row(vec![Td::text(name), Td::num("–"), Td::text("not compared")]);
            }
            format!(
                "{}{}",
                callout(
                    Status::Neutral,
                    "Not compared: there is no earlier run in this output folder to compare with (or the run did not record a comparison).",
                    &[],
                ),
                table.render()
            )
        }
        Some(d) => {
            let mut table = Table::new(
                "table-drift",
                &format!("Compared with run {}", d.previous_run_id),
                &["measure", "PSI", "reading"],
            );
            for (name, psi) in [
                ("distribution of predicted risk", d.psi_risk),
                ("sizes of the risk tiers", d.psi_tiers),
            ] {
                let (reading, status) = psi_reading(psi);
                if status != Status::Good {
                    findings.push((status, format!("{name}: {reading} (PSI {psi:.3})")));
                }
                table.row(vec![
                    Td::text(name),
                    Td::num(format!("{:.3}", psi.max(0.0))),
                    Td::text(reading),
                ]);
            }
            for w in &d.warnings {
                findings.push((Status::Warn, format!("drift: {w}")));
            }
            let warnings = if d.warnings.is_empty() {
                callout(Status::Good, "No drift warnings.", &[])
            } else {
                callout(
                    Status::Warn,
                    &format!("{} drift warning(s):", d.warnings.len()),
                    &d.warnings,
                )
            };
            format!(
                "{}{}{}",
                warnings,
                table.render(),
                note(
                    "Population stability index (PSI): below 0.1 stable, 0.1–0.25 some shift, above 0.25 a major shift. A shift is not an error, but it is worth knowing why (new data feed, a change in coding, a new model)."
                )
            )
        }
    }
}

/// Rows read and rejected per table, the problems found, and people without
/// a deprivation score; each problem becomes a finding.
pub(super) fn data_quality(ctx: &Context, findings: &mut Vec<Finding>) -> String {
    let (manifest, show) = (&ctx.manifest, ctx.show);
    let mut dq = Table::new(
        "table-data-quality",
        "Rows read and rejected per table",
        &["table", "rows read", "rows rejected", "rejected"],
    );
    for t in &manifest.tables {
        let share = if t.rows_read > 0 {
            t.rows_rejected as f64 / t.rows_read as f64
        } else {
            0.0
        };
        if t.rows_rejected > 0 {
            findings.push((
                Status::Warn,
                format!(
                    "{}: {} of {} rows rejected ({})",
                    t.table,
                    format_count(t.rows_rejected, false),
                    format_count(t.rows_read, false),
                    format_percent(share)
                ),
            ));
        }
        dq.highlighted_row(
            vec![
                Td::text(&t.table),
                Td::num(format_count(t.rows_read, false)),
                Td::num(format_count(t.rows_rejected, false)),
                Td::num(format_percent(share)),
            ],
            t.rows_rejected > 0,
        );
    }
    let mut dq_parts = vec![
        p(
            "Every input row is checked against the data contract. Rejected rows are left out of the run; the run stops if any table loses more than its allowed share.",
        ),
        dq.render(),
    ];
    match &ctx.validation {
        Some(v) => {
            let issues = validation_issues(v);
            let mut table = Table::new(
                "table-validation-issues",
                "Problems found",
                &["table", "column", "problem", "action", "rows"],
            );
            for issue in &issues {
                table.row(vec![
                    Td::text(&issue[0]),
                    Td::text(&issue[1]),
                    Td::text(&issue[2]),
                    Td::text(&issue[3]),
                    Td::num(&issue[4]),
                ]);
            }
            table.empty = "No problems found.".into();
            dq_parts.push(table.render());
        }
        _ => dq_parts.push(note(
            "Details of each problem (column and reason) are not recorded in this run's manifest.",
        )),
    }
    if let Some(table) = fhir_conversion(&manifest.settings) {
        dq_parts.push(table);
    }
    if let Some(warning) = ctx
        .validation
        .as_ref()
        .and_then(medicine_codes)
        .and_then(|m| m.warning())
    {
        findings.push((Status::Warn, warning.clone()));
        dq_parts.push(p(&format!("{warning}.")));
    }
    match ctx.counts.imd_unmatched {
        Figure::Count(0) => {}
        f => {
            findings.push((
                Status::Warn,
                format!(
                    "{} could not be matched to a deprivation score (LSOA missing from the {} IMD table)",
                    show.people(f),
                    manifest.imd_source
                ),
            ));
            dq_parts.push(p(&format!(
                "{} had an LSOA that is not in the IMD table ({}), so their deprivation is unknown.",
                show.people(f),
                manifest.imd_source
            )));
        }
    }
    dq_parts.push(coverage(ctx, findings));
    dq_parts.push(note(
        "Row counts are counts of records in the input files, not of people, and are shown exactly.",
    ));
    dq_parts.concat()
}

/// Coverage of each feature family: its sources' rows and the people they
/// touch, and a warning when a family has no source or touches far fewer
/// people than expected. A model term whose source is absent degrades the
/// run (a `Bad` finding: the banner cannot read "healthy").
fn coverage(ctx: &Context, findings: &mut Vec<Finding>) -> String {
    let (manifest, show) = (&ctx.manifest, ctx.show);
    let coverage = &manifest.coverage;
    // People counts are protected like every count in the report: small
    // numbers withheld, the rest rounded by the run's profile.
    let people = |n: u64| {
        if n > 0 && n <= ctx.profile.redact_at_or_below() {
            Figure::Redacted
        } else {
            Figure::Count(ctx.profile.rounding().apply(n))
        }
    };
    if coverage.families.is_empty() {
        return note("Coverage of the feature families is not recorded in this run's manifest.");
    }
    for w in &coverage.warnings {
        findings.push((Status::Warn, format!("coverage: {w}")));
    }
    for d in &manifest.degraded_terms {
        findings.push((Status::Bad, format!("degraded: {d}")));
    }
    let mut table = Table::new(
        "table-coverage",
        "Coverage of each feature family",
        &["family", "source", "rows", "people", "status"],
    );
    for f in &coverage.families {
        let status = match f.status {
            crate::features::CoverageStatus::Ok => "ok",
            crate::features::CoverageStatus::Partial => "partial",
            crate::features::CoverageStatus::Sparse => "sparse",
            crate::features::CoverageStatus::Absent => "absent",
        };
        for s in &f.sources {
            table.highlighted_row(
                vec![
                    Td::text(&f.family),
                    Td::text(&s.source),
                    Td::num(s.rows.map_or("–".to_string(), |r| format_count(r, false))),
                    show.td(people(s.people)),
                    Td::text(status),
                ],
                f.status != crate::features::CoverageStatus::Ok,
            );
        }
    }
    let lead = if manifest.degraded_terms.is_empty() {
        callout(
            if coverage.warnings.is_empty() {
                Status::Good
            } else {
                Status::Warn
            },
            if coverage.warnings.is_empty() {
                "Every feature family has a source."
            } else {
                "Feature families with a missing or thin source:"
            },
            &coverage.warnings,
        )
    } else {
        callout(
            Status::Bad,
            "Degraded run: the model reads features whose source is absent.",
            &manifest.degraded_terms,
        )
    };
    format!(
        "{}{}{}",
        lead,
        table.render(),
        note(&format!(
            "People are those in scope ({}) with any row of the family's sources (for an event family: any non-zero value of its features). A family is sparse when it touches under 1% (social care: 0.1%) of a population of 1,000 or more; observations feed the eFI, shown as its SNOMED CT observations source.",
            show.people(people(coverage.population))
        ))
    )
}

/// The headline tiles and the list of findings shown above the first section.
pub(super) fn headline(ctx: &Context, findings: &[Finding]) -> Result<String, ReportError> {
    let (manifest, show, counts) = (&ctx.manifest, ctx.show, &ctx.counts);
    let (rows_read, rows_rejected) = rows_totals(ctx);
    let worst = findings
        .iter()
        .map(|(s, _)| *s)
        .max_by_key(|s| match s {
            Status::Bad => 3,
            Status::Warn => 2,
            Status::Neutral => 1,
            Status::Good => 0,
        })
        .unwrap_or(Status::Good);
    let very_high = counts
        .tiers
        .iter()
        .find(|(t, _)| t == "very_high")
        .map_or(Figure::Missing, |(_, f)| *f);
    let expected_total = ctx
        .planning()
        .map(|(s, row)| s.figures("expected_admissions", false).map(|v| v[row]))
        .transpose()?
        .unwrap_or(Figure::Missing);
    let drift_tile = match &manifest.drift {
        None => tile(
            "Change since last run",
            "not compared",
            "no earlier run to compare with",
            Status::Neutral,
        ),
        Some(d) => {
            let (reading, status) = psi_reading(d.psi_risk.max(d.psi_tiers));
            tile(
                "Change since last run",
                reading,
                &format!(
                    "PSI {:.3} (risk), {:.3} (tiers)",
                    d.psi_risk.max(0.0),
                    d.psi_tiers.max(0.0)
                ),
                status,
            )
        }
    };
    let headline = tiles(&[
        tile(
            "Run health",
            match worst {
                _ if !manifest.degraded_terms.is_empty() => "degraded",
                Status::Good | Status::Neutral => "healthy",
                Status::Warn => "check warnings",
                Status::Bad => "needs attention",
            },
            &format!(
                "{} rows read, {} rejected",
                format_count(rows_read, false),
                format_count(rows_rejected, false)
            ),
            worst,
        ),
        match counts.population {
            Population::Planning => tile(
                "People (planning population)",
                &show.text(counts.people),
                &format!(
                    "alive and registered on {}, no opt-out",
                    manifest.as_of.format("%-d %b %Y")
                ),
                Status::Neutral,
            ),
            Population::EveryoneScored => tile(
                "People scored",
                &show.text(counts.people),
                &format!(
                    "alive and registered on {}",
                    manifest.as_of.format("%-d %b %Y")
                ),
                Status::Neutral,
            ),
        },
        tile(
            "Very high risk",
            &show.text(very_high),
            &format!("people in the {}", ctx.definition("very_high")),
            Status::Neutral,
        ),
        tile(
            "Expected admissions",
            &match expected_total {
                Figure::Number(v) => format_number(v.round()),
                f => show.text(f),
            },
            "emergency admissions in the next 12 months (planning population)",
            Status::Neutral,
        ),
        drift_tile,
    ]);
    let health = if findings.is_empty() {
        callout(
            Status::Good,
            "Healthy run: no rejected rows, no drift warnings, every person matched to a deprivation score.",
            &[],
        )
    } else {
        callout(
            worst,
            "Things to look at:",
            &findings.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(),
        )
    };
    Ok(format!("{headline}{health}"))
}

/// When the run's input was a FHIR export (`settings.converted_from`), the
/// resources its conversion left out: (resource type, problem, action,
/// count), as counts of records. `None` for a contract extract.
/// How the medications rows were counted (`medicine_codes` of the
/// manifest's medications validation), when the run recorded it.
fn medicine_codes(validation: &serde_json::Value) -> Option<crate::ingest::MedicineCodes> {
    validation
        .as_array()?
        .iter()
        .find(|t| t["table"] == "medications")
        .and_then(|t| serde_json::from_value(t.get("medicine_codes")?.clone()).ok())
}

fn fhir_conversion(settings: &serde_json::Value) -> Option<String> {
    let from = settings.get("converted_from")?;
    let conversion = from.get("conversion")?;
    let mut table = Table::new(
        "table-fhir-issues",
        "FHIR resources left out by the conversion",
        &["resource", "problem", "action", "resources"],
    );
    for issue in conversion.get("issues")?.as_array()? {
        let text = |k: &str| issue.get(k).and_then(|v| v.as_str()).unwrap_or("");
        let count = issue.get("count").and_then(|c| c.as_u64()).unwrap_or(0);
        table.row(vec![
            Td::text(text("resource_type")),
            Td::text(text("reason")),
            Td::text(text("kind")),
            Td::num(format_count(count, false)),
        ]);
    }
    table.empty = "No resource was left out.".into();
    let format = from
        .get("format")
        .and_then(|f| f.as_str())
        .unwrap_or("another format");
    Some(
        [
            p(&format!(
                "The input was a {} export, converted into the data contract before the checks above (docs/fhir.md). Rejected resources are bad input; dropped ones are left out by a documented rule.",
                format.to_uppercase()
            )),
            table.render(),
        ]
        .concat(),
    )
}

/// Data-quality issues found anywhere under the manifest's optional
/// `validation` key: (table, column, problem, action, count). Row numbers
/// (`first_rows`) are left out on purpose.
fn validation_issues(value: &serde_json::Value) -> Vec<[String; 5]> {
    fn walk(v: &serde_json::Value, table: &str, out: &mut Vec<[String; 5]>) {
        match v {
            serde_json::Value::Object(map) => {
                let table = map
                    .get("table")
                    .and_then(|t| t.as_str())
                    .unwrap_or(table)
                    .to_string();
                if let Some(problem) = map.get("problem").and_then(|p| p.as_str()) {
                    let text = |k: &str| {
                        map.get(k).map_or(String::new(), |v| match v {
                            serde_json::Value::String(s) => s.replace('_', " "),
                            other => other.to_string(),
                        })
                    };
                    out.push([
                        table.clone(),
                        text("column"),
                        problem.to_string(),
                        text("action"),
                        map.get("count")
                            .and_then(|c| c.as_u64())
                            .map_or(String::new(), |c| format_count(c, false)),
                    ]);
                    return;
                }
                for (k, child) in map {
                    if k != "first_rows" {
                        walk(child, &table, out);
                    }
                }
            }
            serde_json::Value::Array(items) => {
                for i in items {
                    walk(i, table, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out
}
