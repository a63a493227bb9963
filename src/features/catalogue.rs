//! The feature catalogue: every feature strata can compute, with its meaning.
//! Model files name features from here; `docs/feature-catalogue.md` lists them.

/// One feature in the catalogue.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct FeatureInfo {
    pub name: &'static str,
    /// Column type in the feature table.
    pub dtype: &'static str,
    /// A count: absent events mean 0, never null. Stored as i32, which every
    /// Parquet reader (DuckDB, pyarrow, R arrow, Power BI) maps without glue.
    pub count_like: bool,
    pub description: &'static str,
}

const CATALOGUE: &[FeatureInfo] = &[
    FeatureInfo {
        name: "age",
        dtype: "i32",
        count_like: false,
        description: "Age in whole years on the index date.",
    },
    FeatureInfo {
        name: "sex",
        dtype: "string",
        count_like: false,
        description: "Sex as recorded: F, M, I (indeterminate) or U (unknown).",
    },
    FeatureInfo {
        name: "imd_decile",
        dtype: "i32 (nullable)",
        count_like: false,
        description: "IMD decile of the person's LSOA (1 = most deprived); null when the LSOA is missing or not in the IMD table.",
    },
    FeatureInfo {
        name: "emergency_admissions_12m",
        dtype: "i32",
        count_like: true,
        description: "Emergency admissions (inpatient encounters with emergency = true) starting in the 365 days ending on the index date.",
    },
    FeatureInfo {
        name: "ae_attendances_12m",
        dtype: "i32",
        count_like: true,
        description: "A&E attendances (emergency_department encounters) starting in the 365 days ending on the index date.",
    },
    FeatureInfo {
        name: "medicines_12m",
        dtype: "i32",
        count_like: true,
        description: "Distinct BNF chemical substances (first 9 characters of the BNF code) prescribed in the 365 days ending on the index date.",
    },
    FeatureInfo {
        name: "charlson_index",
        dtype: "i32",
        count_like: true,
        description: "Charlson Comorbidity Index, Charlson 1987 weights, ICD-10 coding of Quan et al. 2005 with the hierarchy rules, over all ICD-10 diagnoses up to and including the index date.",
    },
];

/// Every feature strata can compute.
pub fn catalogue() -> &'static [FeatureInfo] {
    CATALOGUE
}

/// Looks a feature up by name.
pub fn feature_info(name: &str) -> Option<&'static FeatureInfo> {
    CATALOGUE.iter().find(|f| f.name == name)
}

/// The text of `docs/feature-catalogue.md`, generated from [`catalogue`] so the
/// documentation cannot drift from the code (a test compares the two).
pub fn render_markdown() -> String {
    let mut out = String::from(
        "# Feature catalogue\n\n\
         <!-- Generated from src/features/catalogue.rs by `STRATA_BLESS=1 cargo test catalogue_doc`; do not edit by hand. -->\n\n\
         Conventions:\n\n\
         - Features use events **up to and including** the index date.\n\
         - A **12-month window** is the 365 days ending on the index date: index − 364 days … index, both inclusive.\n\
         - Outcomes count from the day after the index date: days 1–365.\n\
         - The population at an index date is everyone born, registered (`registered_from` ≤ index) and alive \
         (no `date_of_death`, or one after the index date) on that date.\n\
         - Counts are 0, never null, for people with no events.\n\n\
         | feature | type | definition |\n|---|---|---|\n",
    );
    for f in CATALOGUE {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            f.name, f.dtype, f.description
        ));
    }
    out
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
        let expected = render_markdown();
        if std::env::var_os("STRATA_BLESS").is_some() {
            std::fs::write(&path, &expected).expect("write catalogue doc");
        }
        let found = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            found == expected,
            "docs/feature-catalogue.md is stale: run STRATA_BLESS=1 cargo test catalogue_doc"
        );
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = CATALOGUE.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len());
    }
}
