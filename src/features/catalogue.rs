//! `docs/feature-catalogue.md`, generated from the built-in declarations and
//! the spec tables ([`super::examples`]) so the documentation cannot drift
//! from the code (a test compares the two; the spec tables are run through
//! the engine by `tests/it/feature_examples.rs`).

use super::examples::{Case, ExampleFile, columns};
use super::spec::{Aggregate, FeatureDef, FeatureKind, Filter, PersonValue, Score};

/// The text of `docs/feature-catalogue.md`: the conventions, then each
/// group's features (in order of first declaration) and worked examples.
pub fn render_markdown(defs: &[FeatureDef], examples: &[ExampleFile]) -> String {
    let mut out = String::from(
        "# Feature catalogue\n\n\
         <!-- Generated from src/features/builtin.toml and src/features/examples/ by `STRATA_BLESS=1 cargo test catalogue_doc`; do not edit by hand. -->\n\n\
         Conventions:\n\n\
         - Features use events **up to and including** the index date.\n\
         - A **12-month window** is the 365 days ending on the index date: index − 364 days … index, both inclusive. \
         Windows are written `-Nd..-Md` = days index − N + 1 … index − M, so consecutive windows tile without overlap.\n\
         - Outcomes count from the day after the index date: days 1–365.\n\
         - The population at an index date is everyone born, registered (`registered_from` ≤ index) and alive \
         (no `date_of_death`, or one after the index date) on that date.\n\
         - Counts are 0 and flags false, never null, for people with no events.\n\
         - Results never depend on the order of rows: a `sum` is added in integer millionths (each value rounded to 10⁻⁶), \
         and `last` takes the value on the latest date, the greatest value when several share that date \
         (numbers and dates compared as such, text as text; a missing value is the least).\n\
         - `count_distinct` counts a missing value as one more value; `min` and `max` ignore NaN.\n\
         - Periods (`encounters`, `social_care`: `start_date` … `end_date`, no end = ongoing) are clipped to the window, not dropped. \
         `days_covered` counts the days a period covers, start and end date both included, as `active_on_index` does \
         (a one-day period is 1 day); `nights` counts nights, each on the day it begins (the midnight census: \
         a period has end − start nights, a same-day one none). An ongoing period runs to the window's last day.\n\
         - Features are declared in TOML (`src/features/builtin.toml`); add your own with the same syntax and `--features FILE`. \
         An events feature may also take `codelist = \"file.csv\"` (relative to the TOML file) and `code_system` \
         (`icd10` or `snomed` for diagnoses and observations; medications are BNF): only rows whose code is in the list count \
         (ICD-10 and BNF by prefix, SNOMED CT exactly; see docs/codelists.md).\n",
    );
    out.push_str(
        "- Each group ends with **worked examples**: one person's rows in, the expected values out, and why. \
         They are the spec tests of `src/features/examples/` (run by `tests/it/feature_examples.rs`), \
         worked out by hand from the definitions. Unless a case says otherwise the person was born 1950-01-01, \
         registered since 2000-01-01, is alive and has no other rows.\n",
    );
    let mut groups: Vec<&str> = Vec::new();
    for f in defs {
        if !groups.contains(&f.group.as_str()) {
            groups.push(&f.group);
        }
    }
    for group in groups {
        out.push_str(&format!(
            "\n## {group}\n\n| feature | type | definition | declared as |\n|---|---|---|---|\n"
        ));
        for f in defs.iter().filter(|f| f.group == group) {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                f.name,
                f.type_label(),
                f.description,
                declared(f)
            ));
        }
        for file in examples.iter().filter(|e| e.group == group) {
            out.push_str(&render_examples(file));
        }
    }
    out
}

/// One example file as a table: input, expected values, reason.
fn render_examples(file: &ExampleFile) -> String {
    let mut out = format!(
        "\n### Worked examples: {}\n\n\
         Index date {} unless the case gives one. Rows: {}. \
         (`src/features/examples/{}`)\n\n\
         | case | input | expected | why |\n|---|---|---|---|\n",
        file.title,
        file.index_date,
        used_tables(file),
        file.file
    );
    for case in &file.cases {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell(&case.name),
            cell(&input(case, file)),
            cell(&expected(case)),
            cell(&case.reason)
        ));
    }
    out
}

/// The column lists of the tables the file's cases use.
fn used_tables(file: &ExampleFile) -> String {
    let mut tables: Vec<&str> = Vec::new();
    for case in &file.cases {
        for (table, _) in &case.rows {
            if !tables.contains(table) {
                tables.push(table);
            }
        }
    }
    if tables.is_empty() {
        return "none, only the person".into();
    }
    tables
        .iter()
        .map(|t| format!("`{t}` ({})", columns(t).join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn input(case: &Case, file: &ExampleFile) -> String {
    let mut lines = Vec::new();
    if case.index_date != file.index_date {
        lines.push(format!("index date {}", case.index_date));
    }
    if !case.patient.is_empty() {
        let fields: Vec<String> = case
            .patient
            .iter()
            .map(|(k, v)| format!("{k} {}", if v.is_empty() { "(empty)" } else { v }))
            .collect();
        lines.push(format!("patient: {}", fields.join(", ")));
    }
    for (table, rows) in &case.rows {
        for row in rows {
            let mut fields = Case::fields(table, row);
            // A medications row with a BNF code only is shown without the
            // empty coded form (code_system, code) that follows it.
            while *table == "medications" && fields.last().is_some_and(String::is_empty) {
                fields.pop();
            }
            let shown: Vec<&str> = fields
                .iter()
                .map(|f| if f.is_empty() { "–" } else { f.as_str() })
                .collect();
            lines.push(format!("{table}: {}", shown.join(", ")));
        }
    }
    for (dmd, bnf) in &case.dmd_bnf {
        lines.push(format!("dm+d → BNF map: {dmd} → {bnf}"));
    }
    if lines.is_empty() {
        lines.push("no rows".into());
    }
    lines.join("<br>")
}

fn expected(case: &Case) -> String {
    if !case.in_population {
        return "not in the population".into();
    }
    case.expect
        .iter()
        .map(|(feature, value)| format!("`{feature}` = {value}"))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn declared(f: &FeatureDef) -> String {
    match &f.kind {
        FeatureKind::Person(v) => format!("person: {}", person_key(*v)),
        FeatureKind::Events {
            table,
            filters,
            codes,
            window,
            aggregate,
        } => {
            let filters: Vec<String> = filters
                .iter()
                .map(|f| match f {
                    Filter::Bool { column, value } => format!("{column} = {value}"),
                    Filter::Text { column, any_of } => {
                        format!("{column} ∈ {{{}}}", any_of.join(", "))
                    }
                })
                .collect();
            let aggregate = match aggregate {
                Aggregate::CountDistinct {
                    column,
                    prefix: Some(n),
                } => format!("count distinct {column}[..{n}]"),
                Aggregate::CountDistinct {
                    column,
                    prefix: None,
                } => format!("count distinct {column}"),
                Aggregate::Sum { column } => format!("sum of {column}"),
                Aggregate::Min { column } => format!("min of {column}"),
                Aggregate::Max { column } => format!("max of {column}"),
                Aggregate::Last { column } => format!("last {column}"),
                Aggregate::Exists => "exists".into(),
                Aggregate::Count => "count".into(),
                Aggregate::DaysSinceLast => "days_since_last".into(),
                Aggregate::DaysCovered => "days_covered".into(),
                Aggregate::Nights => "nights".into(),
                Aggregate::ActiveOnIndex => "active_on_index".into(),
            };
            let where_ = if filters.is_empty() {
                String::new()
            } else {
                format!(" where {}", filters.join(" and "))
            };
            let listed = codes.as_ref().map_or(String::new(), |c| {
                format!(" with a code in {} ({})", c.origin, c.system.name())
            });
            format!(
                "{table}{where_}{listed}; {}; {aggregate}",
                window.describe()
            )
        }
        FeatureKind::Score { score, window } => {
            format!("score {}; {}", score_key(*score), window.describe())
        }
        FeatureKind::Threshold { feature, at_least } => format!("`{feature}` ≥ {at_least}"),
    }
}

/// A person value as written in TOML (`value = "..."`).
fn person_key(v: PersonValue) -> &'static str {
    match v {
        PersonValue::Age => "age",
        PersonValue::AgeBand => "age_band",
        PersonValue::Sex => "sex",
        PersonValue::ImdDecile => "imd_decile",
        PersonValue::ImdQuintile => "imd_quintile",
        PersonValue::EthnicityGroup => "ethnicity_group",
    }
}

/// A score as written in TOML (`score = "..."`).
fn score_key(score: Score) -> String {
    match score {
        Score::Charlson1987 => "charlson_1987".into(),
        Score::CharlsonQuan2011 => "charlson_quan_2011".into(),
        Score::ElixhauserVanWalraven => "elixhauser_van_walraven".into(),
        Score::Hfrs => "hfrs".into(),
        Score::Ltc(ltc) => format!("ltc:{}", ltc.key()),
        Score::LtcCount => "ltc_count".into(),
        Score::MetastaticCancer => "metastatic_cancer".into(),
        Score::Efi => "efi".into(),
        Score::EfiCategory => "efi_category".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/feature-catalogue.md must equal the rendering of the catalogue.
    /// Regenerate with `STRATA_BLESS=1 cargo test catalogue_doc`.
    #[test]
    fn catalogue_doc_is_up_to_date() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/feature-catalogue.md");
        let expected = render_markdown(
            &crate::features::spec::builtin().expect("catalogue"),
            &crate::features::examples::load().expect("examples"),
        );
        if std::env::var_os("STRATA_BLESS").is_some() {
            std::fs::write(&path, &expected).expect("write catalogue doc");
        }
        let found = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            found == expected,
            "docs/feature-catalogue.md is stale: run STRATA_BLESS=1 cargo test catalogue_doc"
        );
    }

    /// Every built-in feature has a worked example, every example names
    /// built-in features, and every group has examples.
    #[test]
    fn every_feature_and_group_has_worked_examples() {
        let defs = crate::features::spec::builtin().expect("catalogue");
        let files = crate::features::examples::load().expect("examples");
        let named = |f: &str| {
            files
                .iter()
                .flat_map(|e| &e.cases)
                .any(|c| c.expect.iter().any(|(n, _)| n == f))
        };
        let missing: Vec<&str> = defs
            .iter()
            .map(|d| d.name.as_str())
            .filter(|f| !named(f))
            .collect();
        assert!(
            missing.is_empty(),
            "features without an example: {missing:?}"
        );
        for file in &files {
            assert!(
                defs.iter().any(|d| d.group == file.group),
                "{}: no group `{}`",
                file.file,
                file.group
            );
            for case in &file.cases {
                for (feature, _) in &case.expect {
                    assert!(
                        defs.iter().any(|d| &d.name == feature),
                        "{}, case `{}`: no feature `{feature}`",
                        file.file,
                        case.name
                    );
                }
            }
        }
        for d in &defs {
            assert!(
                files.iter().any(|f| f.group == d.group),
                "group `{}` has no examples",
                d.group
            );
        }
    }

    /// The eFI category's description names the categories as the code emits them.
    #[test]
    fn the_efi_category_description_uses_the_emitted_labels() {
        use crate::codelists::EfiCategory::*;
        let defs = crate::features::spec::builtin().expect("catalogue");
        let def = defs
            .iter()
            .find(|d| d.name == "efi_category")
            .expect("efi_category");
        for c in [Fit, Mild, Moderate, Severe] {
            assert!(
                def.description.contains(&format!("`{}`", c.label())),
                "{:?}",
                c.label()
            );
        }
    }
}
