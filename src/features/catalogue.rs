//! `docs/feature-catalogue.md`, generated from the built-in declarations so
//! the documentation cannot drift from the code (a test compares the two).

use super::spec::{Aggregate, FeatureDef, FeatureKind, Filter};

/// The text of `docs/feature-catalogue.md`.
pub fn render_markdown(defs: &[FeatureDef]) -> String {
    let mut out = String::from(
        "# Feature catalogue\n\n\
         <!-- Generated from src/features/builtin.toml by `STRATA_BLESS=1 cargo test catalogue_doc`; do not edit by hand. -->\n\n\
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
         - Features are declared in TOML (`src/features/builtin.toml`); add your own with the same syntax and `--features FILE`. \
         An events feature may also take `codelist = \"file.csv\"` (relative to the TOML file) and `code_system` \
         (`icd10` or `snomed` for diagnoses and observations; medications are BNF): only rows whose code is in the list count \
         (ICD-10 and BNF by prefix, SNOMED CT exactly; see docs/codelists.md).\n",
    );
    let mut group = "";
    for f in defs {
        if f.group != group {
            group = &f.group;
            out.push_str(&format!(
                "\n## {group}\n\n| feature | type | definition | declared as |\n|---|---|---|---|\n"
            ));
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            f.name,
            f.output_type().label(),
            f.description,
            declared(f)
        ));
    }
    out
}

fn declared(f: &FeatureDef) -> String {
    match &f.kind {
        FeatureKind::Person(v) => format!("person: {v:?}"),
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
                other => format!("{other:?}").to_lowercase(),
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
        FeatureKind::Score { score, window } => format!("score {score:?}; {}", window.describe()),
        FeatureKind::Threshold { feature, at_least } => format!("`{feature}` ≥ {at_least}"),
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
        let expected = render_markdown(&crate::features::spec::builtin().expect("catalogue"));
        if std::env::var_os("STRATA_BLESS").is_some() {
            std::fs::write(&path, &expected).expect("write catalogue doc");
        }
        let found = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            found == expected,
            "docs/feature-catalogue.md is stale: run STRATA_BLESS=1 cargo test catalogue_doc"
        );
    }
}
