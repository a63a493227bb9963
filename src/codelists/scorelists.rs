//! The code lists behind the comorbidity scores, as one value a run carries:
//! Charlson and Elixhauser each from an ICD-10 list (hospital diagnoses,
//! Quan et al. 2005) and a SNOMED CT list (primary care, the CPRD Aurum
//! lists of Metcalfe et al. 2019 / Launders et al. 2022). The built-in lists
//! are compiled in; any of the four can be replaced by a file named in
//! `strata.toml` (`[codelists]`, see [`ListFiles`]), read by the one loader
//! ([`Codelist`]). A replacement supplies codes and category keys only; the
//! weights stay the published ones (src/codelists/charlson.rs `WEIGHTS`, the
//! van Walraven weights of the built-in Elixhauser list).
//!
//! Every list a run uses (these four, and the built-in HFRS, eFI and
//! long-term-condition lists) is described in [`ScoreLists::used`] with the
//! blake3 checksum of its text, for the manifest.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::SpecError;
use super::charlson::CharlsonCategory;
use super::code::CodeSystem;
use super::elixhauser::ElixhauserCategory;
use super::load::Codelist;

const CHARLSON_ICD10: &str = include_str!("../../codelists/icd10/charlson_quan2005.csv");
const CHARLSON_SNOMED: &str = include_str!("../../codelists/snomed/charlson_aurum_snomed.csv");
const ELIXHAUSER_ICD10: &str = include_str!("../../codelists/icd10/elixhauser_quan2005.csv");
const ELIXHAUSER_SNOMED: &str = include_str!("../../codelists/snomed/elixhauser_aurum_snomed.csv");

/// Lists used as built in, recorded for their checksums only.
const FIXED: [(&str, &str, CodeSystem, &str); 4] = [
    (
        "hfrs_icd10",
        "hfrs_gilbert2018.csv",
        CodeSystem::Icd10,
        include_str!("../../codelists/icd10/hfrs_gilbert2018.csv"),
    ),
    (
        "efi_snomed",
        "efi_clegg2016_snomed.csv",
        CodeSystem::Snomed,
        include_str!("../../codelists/efi/efi_clegg2016_snomed.csv"),
    ),
    (
        "ltc_icd10",
        "ltc_icd10.csv",
        CodeSystem::Icd10,
        include_str!("../../codelists/ltc/ltc_icd10.csv"),
    ),
    (
        "ltc_snomed",
        "ltc_snomed.csv",
        CodeSystem::Snomed,
        include_str!("../../codelists/ltc/ltc_snomed.csv"),
    ),
];

/// `[codelists]` in `strata.toml`: a file replacing each built-in score list
/// (none by default).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListFiles {
    pub charlson_icd10: Option<PathBuf>,
    pub charlson_snomed: Option<PathBuf>,
    pub elixhauser_icd10: Option<PathBuf>,
    pub elixhauser_snomed: Option<PathBuf>,
}

/// One code list a run used.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ListUse {
    /// Which list (`charlson_icd10`, `charlson_snomed`, …).
    pub list: String,
    /// `built-in:<file>` or the path of the file that replaced it.
    pub origin: String,
    /// `icd10` or `snomed`.
    pub code_system: String,
    /// Code lines in the list.
    pub entries: usize,
    /// blake3 of the list's text, hex.
    pub blake3: String,
}

/// A list whose categories are bits of a score's condition set.
#[derive(Debug, Clone)]
struct CategoryList {
    list: Codelist,
    /// The bit of each of the list's categories (by [`Codelist::categories`] index).
    bits: Vec<u64>,
}

impl CategoryList {
    fn set(&self, code: &str) -> u64 {
        let mut set = 0;
        self.list.for_each_match(code, |e| {
            if let Some(bit) = e.category.and_then(|c| self.bits.get(c)) {
                set |= bit;
            }
        });
        set
    }
}

/// The Charlson and Elixhauser lists of a run, per code system.
#[derive(Debug, Clone)]
pub struct ScoreLists {
    /// ICD-10, SNOMED CT.
    charlson: [CategoryList; 2],
    elixhauser: [CategoryList; 2],
    used: Vec<ListUse>,
}

/// Where a list's text comes from.
enum Source<'a> {
    BuiltIn(&'static str, &'static str),
    File(&'a Path),
}

impl ScoreLists {
    /// The built-in lists (compiled in; parsed once). Their parsing is
    /// covered by tests, so it cannot fail in a released binary; should it,
    /// the error is returned, never a panic.
    pub fn builtin() -> Result<&'static ScoreLists, SpecError> {
        static BUILTIN: OnceLock<Result<ScoreLists, SpecError>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| ScoreLists::load(&ListFiles::default()))
            .as_ref()
            .map_err(|e| SpecError::Codelist {
                path: "built-in score lists".into(),
                reason: e.to_string(),
            })
    }

    /// The built-in lists with the replacements named in `files`.
    pub fn load(files: &ListFiles) -> Result<ScoreLists, SpecError> {
        fn source<'a>(
            file: &'a Option<PathBuf>,
            name: &'static str,
            text: &'static str,
        ) -> Source<'a> {
            match file {
                Some(path) => Source::File(path.as_path()),
                None => Source::BuiltIn(name, text),
            }
        }
        let mut used = Vec::new();
        let charlson_key = |k: &str| CharlsonCategory::from_key(k).map(|c| u64::from(c.bit()));
        let elixhauser_key = |k: &str| ElixhauserCategory::from_key(k).map(|c| c.bit());
        let charlson = [
            category_list(
                "charlson_icd10",
                source(
                    &files.charlson_icd10,
                    "charlson_quan2005.csv",
                    CHARLSON_ICD10,
                ),
                CodeSystem::Icd10,
                &charlson_key,
                &mut used,
            )?,
            category_list(
                "charlson_snomed",
                source(
                    &files.charlson_snomed,
                    "charlson_aurum_snomed.csv",
                    CHARLSON_SNOMED,
                ),
                CodeSystem::Snomed,
                &charlson_key,
                &mut used,
            )?,
        ];
        let elixhauser = [
            category_list(
                "elixhauser_icd10",
                source(
                    &files.elixhauser_icd10,
                    "elixhauser_quan2005.csv",
                    ELIXHAUSER_ICD10,
                ),
                CodeSystem::Icd10,
                &elixhauser_key,
                &mut used,
            )?,
            category_list(
                "elixhauser_snomed",
                source(
                    &files.elixhauser_snomed,
                    "elixhauser_aurum_snomed.csv",
                    ELIXHAUSER_SNOMED,
                ),
                CodeSystem::Snomed,
                &elixhauser_key,
                &mut used,
            )?,
        ];
        for (list, file, system, text) in FIXED {
            used.push(ListUse {
                list: list.into(),
                origin: format!("built-in:{file}"),
                code_system: system.name().into(),
                entries: code_lines(text),
                blake3: blake3::hash(text.as_bytes()).to_hex().to_string(),
            });
        }
        Ok(ScoreLists {
            charlson,
            elixhauser,
            used,
        })
    }

    /// The Charlson categories (bits of [`CharlsonCategory::bit`]) of one code.
    pub fn charlson(&self, system: CodeSystem, code: &str) -> u32 {
        match system {
            CodeSystem::Icd10 => self.charlson[0].set(code) as u32,
            CodeSystem::Snomed => self.charlson[1].set(code) as u32,
            CodeSystem::Bnf => 0,
        }
    }

    /// The Elixhauser categories (bits of [`ElixhauserCategory::bit`]) of one code.
    pub fn elixhauser(&self, system: CodeSystem, code: &str) -> u64 {
        match system {
            CodeSystem::Icd10 => self.elixhauser[0].set(code),
            CodeSystem::Snomed => self.elixhauser[1].set(code),
            CodeSystem::Bnf => 0,
        }
    }

    /// Every list used, with its origin and checksum, in a fixed order.
    pub fn used(&self) -> &[ListUse] {
        &self.used
    }
}

/// Lines of a list that are neither blank, a comment nor the header.
fn code_lines(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count()
        .saturating_sub(1)
}

/// Reads one list and maps its category keys to bits; a key the score does
/// not know is an error naming the file, line and column.
fn category_list(
    name: &str,
    source: Source<'_>,
    system: CodeSystem,
    bit: &dyn Fn(&str) -> Option<u64>,
    used: &mut Vec<ListUse>,
) -> Result<CategoryList, SpecError> {
    let (text, origin) = match source {
        Source::BuiltIn(file, text) => (text.to_string(), format!("built-in:{file}")),
        Source::File(path) => (
            std::fs::read_to_string(path).map_err(|e| SpecError::Codelist {
                path: path.display().to_string(),
                reason: format!("cannot be read: {e}"),
            })?,
            path.display().to_string(),
        ),
    };
    let list = Codelist::parse(&text, &origin, system)?;
    let mut bits = Vec::with_capacity(list.categories().len());
    for (k, key) in list.categories().iter().enumerate() {
        let Some(b) = bit(key) else {
            let line = list
                .entries()
                .iter()
                .find(|e| e.category == Some(k))
                .map_or(0, |e| e.line);
            return Err(SpecError::CodelistEntry {
                path: origin,
                line,
                column: "category".into(),
                reason: format!("`{key}` is not a category of the {name} list's score"),
            });
        };
        bits.push(b);
    }
    if bits.is_empty() {
        return Err(SpecError::Codelist {
            path: origin,
            reason: "has no `category` column (the score needs each code's category)".into(),
        });
    }
    used.push(ListUse {
        list: name.into(),
        origin,
        code_system: system.name().into(),
        entries: list.len(),
        blake3: blake3::hash(text.as_bytes()).to_hex().to_string(),
    });
    Ok(CategoryList { list, bits })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codelists::{CharlsonWeights, charlson_score, elixhauser_score};
    use CharlsonCategory::*;

    fn lists() -> &'static ScoreLists {
        ScoreLists::builtin().expect("built-in lists parse")
    }

    /// A person's Charlson set from (code system, code) rows: the union of
    /// the categories of every row, whatever its code system.
    fn charlson_set(rows: &[(CodeSystem, &str)]) -> u32 {
        rows.iter().fold(0, |set, (system, code)| {
            set | lists().charlson(*system, code)
        })
    }

    #[test]
    fn one_snomed_concept_per_charlson_category_falls_in_that_category_only() {
        // Concepts chosen by hand from the Aurum list, one per category.
        let cases = [
            ("22298006", MyocardialInfarction),        // myocardial infarction
            ("84114007", CongestiveHeartFailure),      // heart failure
            ("399957001", PeripheralVascularDisease),  // peripheral arterial disease
            ("230690007", CerebrovascularDisease),     // stroke
            ("52448006", Dementia),                    // dementia
            ("13645005", ChronicPulmonaryDisease),     // COPD
            ("69896004", RheumaticDisease),            // rheumatoid arthritis
            ("13200003", PepticUlcerDisease),          // peptic ulcer
            ("19943007", MildLiverDisease),            // cirrhosis of liver
            ("44054006", DiabetesWithoutComplication), // type 2 diabetes
            ("127013003", DiabetesWithComplication),   // diabetic renal disease
            ("50582007", HemiplegiaOrParaplegia),      // hemiplegia
            ("709044004", RenalDisease),               // chronic kidney disease
            ("254837009", AnyMalignancy),              // breast cancer
            ("34742003", ModerateOrSevereLiverDisease), // portal hypertension
            ("94222008", MetastaticSolidTumour),       // secondary malignant neoplasm of bone
            ("86406008", AidsHiv),                     // HIV infection
        ];
        for (code, category) in cases {
            assert_eq!(
                lists().charlson(CodeSystem::Snomed, code),
                category.bit(),
                "{code}"
            );
        }
        let covered: Vec<CharlsonCategory> = cases.iter().map(|c| c.1).collect();
        assert_eq!(covered, CharlsonCategory::ALL, "every category, in order");
        // A SNOMED CT id is never read as ICD-10, nor an ICD-10 code as SNOMED CT.
        assert_eq!(lists().charlson(CodeSystem::Icd10, "22298006"), 0);
        assert_eq!(lists().charlson(CodeSystem::Snomed, "I21"), 0);
        assert_eq!(
            lists().charlson(CodeSystem::Icd10, "I21"),
            MyocardialInfarction.bit()
        );
    }

    #[test]
    fn a_gp_only_person_scores_from_snomed_with_the_hierarchy() {
        // MI, heart failure, COPD, type 2 diabetes and diabetic renal disease,
        // all in SNOMED CT. Diabetes with complication drops the uncomplicated
        // form. Charlson 1987: MI 1 + CHF 1 + COPD 1 + diabetes with
        // complication 2 = 5. Quan 2011: 0 + 2 + 1 + 1 = 4.
        let set = charlson_set(&[
            (CodeSystem::Snomed, "22298006"),
            (CodeSystem::Snomed, "84114007"),
            (CodeSystem::Snomed, "13645005"),
            (CodeSystem::Snomed, "44054006"),
            (CodeSystem::Snomed, "127013003"),
        ]);
        assert_eq!(charlson_score(set, CharlsonWeights::Charlson1987), 5);
        assert_eq!(charlson_score(set, CharlsonWeights::Quan2011), 4);
        // Cirrhosis (mild) and portal hypertension (moderate or severe), both
        // SNOMED CT: only the severe counts, 3 (1987) and 4 (2011).
        let liver = charlson_set(&[
            (CodeSystem::Snomed, "19943007"),
            (CodeSystem::Snomed, "34742003"),
        ]);
        assert_eq!(charlson_score(liver, CharlsonWeights::Charlson1987), 3);
        assert_eq!(charlson_score(liver, CharlsonWeights::Quan2011), 4);
    }

    #[test]
    fn the_union_of_icd10_and_snomed_categories_is_scored_after_the_hierarchy() {
        // Type 2 diabetes in primary care (SNOMED CT) and diabetes with a
        // chronic complication in hospital (ICD-10 E11.2): the union holds
        // both, the hierarchy keeps the complicated form: 2 (1987), 1 (2011),
        // not 1 + 2.
        let diabetes = charlson_set(&[
            (CodeSystem::Snomed, "44054006"),
            (CodeSystem::Icd10, "E11.2"),
        ]);
        assert_eq!(
            diabetes,
            DiabetesWithoutComplication.bit() | DiabetesWithComplication.bit()
        );
        assert_eq!(charlson_score(diabetes, CharlsonWeights::Charlson1987), 2);
        assert_eq!(charlson_score(diabetes, CharlsonWeights::Quan2011), 1);
        // Breast cancer in SNOMED CT, metastases in ICD-10 (C78): 6, not 8.
        let cancer = charlson_set(&[
            (CodeSystem::Snomed, "254837009"),
            (CodeSystem::Icd10, "C78"),
        ]);
        assert_eq!(charlson_score(cancer, CharlsonWeights::Charlson1987), 6);
        // The same condition from both systems counts once: MI 1 (1987).
        let mi = charlson_set(&[(CodeSystem::Snomed, "22298006"), (CodeSystem::Icd10, "I21")]);
        assert_eq!(charlson_score(mi, CharlsonWeights::Charlson1987), 1);
    }

    #[test]
    fn elixhauser_from_snomed_and_icd10_with_van_walraven_weights() {
        use ElixhauserCategory as E;
        let set = [
            (CodeSystem::Snomed, "84114007"),  // heart failure: chf 7
            (CodeSystem::Snomed, "13645005"),  // COPD: cpd 3
            (CodeSystem::Snomed, "127013003"), // diabetic renal disease: diabc 0 and rf 5
            (CodeSystem::Snomed, "254837009"), // breast cancer: solidtum 4
            (CodeSystem::Icd10, "C78"),        // metastases: metacanc 12
        ]
        .iter()
        .fold(0u64, |s, (system, code)| {
            s | lists().elixhauser(*system, code)
        });
        assert_eq!(
            lists().elixhauser(CodeSystem::Snomed, "127013003"),
            E::DiabetesComplicated.bit() | E::RenalFailure.bit()
        );
        // Metastatic cancer drops solid tumour: 7 + 3 + 0 + 5 + 12 = 27.
        assert_eq!(elixhauser_score(set), 27);
        // A GP-only person: heart failure and COPD, 7 + 3 = 10.
        let gp = lists().elixhauser(CodeSystem::Snomed, "84114007")
            | lists().elixhauser(CodeSystem::Snomed, "13645005");
        assert_eq!(elixhauser_score(gp), 10);
    }

    #[test]
    fn the_snomed_lists_cover_every_category_and_resolve_hierarchy_pairs() {
        let charlson = &lists().charlson[1];
        assert_eq!(charlson.list.len(), 3630);
        assert_eq!(charlson.list.categories().len(), 17);
        let elixhauser = &lists().elixhauser[1];
        assert_eq!(elixhauser.list.len(), 4815);
        assert_eq!(elixhauser.list.categories().len(), 31);
        // "Diabetes mellitus" (73211009) states no complication: uncomplicated
        // only, although a Read code with complications maps onto it.
        assert_eq!(
            lists().charlson(CodeSystem::Snomed, "73211009"),
            DiabetesWithoutComplication.bit()
        );
    }

    #[test]
    fn every_list_used_is_recorded_with_the_checksum_of_its_text() {
        let used = lists().used();
        let names: Vec<&str> = used.iter().map(|u| u.list.as_str()).collect();
        assert_eq!(
            names,
            [
                "charlson_icd10",
                "charlson_snomed",
                "elixhauser_icd10",
                "elixhauser_snomed",
                "hfrs_icd10",
                "efi_snomed",
                "ltc_icd10",
                "ltc_snomed"
            ]
        );
        assert_eq!(
            used[1].blake3,
            blake3::hash(CHARLSON_SNOMED.as_bytes())
                .to_hex()
                .to_string()
        );
        assert_eq!(used[1].entries, 3630);
        assert_eq!(used[1].origin, "built-in:charlson_aurum_snomed.csv");
    }

    #[test]
    fn a_replacement_file_is_read_and_checked_like_a_built_in_list() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mine.csv");
        std::fs::write(&path, "code,description,category\n22298006,MI,ami\n").expect("write");
        let files = ListFiles {
            charlson_snomed: Some(path.clone()),
            ..ListFiles::default()
        };
        let mine = ScoreLists::load(&files).expect("valid list");
        assert_eq!(
            mine.charlson(CodeSystem::Snomed, "22298006"),
            MyocardialInfarction.bit()
        );
        assert_eq!(
            mine.charlson(CodeSystem::Snomed, "84114007"),
            0,
            "not in my list"
        );
        assert_ne!(mine.used()[1].blake3, lists().used()[1].blake3);
        std::fs::write(
            &path,
            "code,description,category\n22298006,MI,heart_attack\n",
        )
        .expect("write");
        let err = ScoreLists::load(&files).expect_err("unknown category");
        assert!(
            err.to_string().contains("line 2, column `category`"),
            "{err}"
        );
    }
}
