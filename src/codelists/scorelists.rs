//! The code lists behind the code-list scores, as one value a run carries:
//! Charlson and Elixhauser each from an ICD-10 list (hospital diagnoses,
//! Quan et al. 2005) and a SNOMED CT list (primary care, the CPRD Aurum
//! lists of Metcalfe et al. 2019 / Launders et al. 2022); the HFRS groups
//! (ICD-10, Gilbert et al. 2018); the eFI deficits (SNOMED CT, Clegg et al.
//! 2016); the long-term conditions (ICD-10 and SNOMED CT). The built-in
//! lists are compiled in; any of the eight can be replaced by a file named
//! in `strata.toml` (`[codelists]`, see [`ListFiles`]), read by the one
//! loader ([`Codelist`]). A replacement supplies codes and category keys
//! only; the weights stay the published ones (src/codelists/charlson.rs
//! `WEIGHTS`, the van Walraven weights, the HFRS group weights; an HFRS
//! replacement may carry a `weight` column only if it repeats them).
//!
//! Every list a run uses is described in [`ScoreLists::used`] with the
//! blake3 checksum of its text, for the manifest.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::SpecError;
use super::charlson::CharlsonCategory;
use super::code::CodeSystem;
use super::efi::EfiDeficit;
use super::elixhauser::ElixhauserCategory;
use super::hfrs;
use super::load::Codelist;
use super::ltc::Ltc;

/// A built-in list: its `[codelists]` key, file name, code system and text.
struct BuiltIn {
    name: &'static str,
    file: &'static str,
    system: CodeSystem,
    text: &'static str,
}

const CHARLSON_ICD10: BuiltIn = BuiltIn {
    name: "charlson_icd10",
    file: "charlson_quan2005.csv",
    system: CodeSystem::Icd10,
    text: include_str!("../../codelists/icd10/charlson_quan2005.csv"),
};
const CHARLSON_SNOMED: BuiltIn = BuiltIn {
    name: "charlson_snomed",
    file: "charlson_aurum_snomed.csv",
    system: CodeSystem::Snomed,
    text: include_str!("../../codelists/snomed/charlson_aurum_snomed.csv"),
};
const ELIXHAUSER_ICD10: BuiltIn = BuiltIn {
    name: "elixhauser_icd10",
    file: "elixhauser_quan2005.csv",
    system: CodeSystem::Icd10,
    text: include_str!("../../codelists/icd10/elixhauser_quan2005.csv"),
};
const ELIXHAUSER_SNOMED: BuiltIn = BuiltIn {
    name: "elixhauser_snomed",
    file: "elixhauser_aurum_snomed.csv",
    system: CodeSystem::Snomed,
    text: include_str!("../../codelists/snomed/elixhauser_aurum_snomed.csv"),
};
const HFRS_ICD10: BuiltIn = BuiltIn {
    name: "hfrs_icd10",
    file: "hfrs_gilbert2018.csv",
    system: CodeSystem::Icd10,
    text: include_str!("../../codelists/icd10/hfrs_gilbert2018.csv"),
};
const EFI_SNOMED: BuiltIn = BuiltIn {
    name: "efi_snomed",
    file: "efi_clegg2016_snomed.csv",
    system: CodeSystem::Snomed,
    text: include_str!("../../codelists/efi/efi_clegg2016_snomed.csv"),
};
const LTC_ICD10: BuiltIn = BuiltIn {
    name: "ltc_icd10",
    file: "ltc_icd10.csv",
    system: CodeSystem::Icd10,
    text: include_str!("../../codelists/ltc/ltc_icd10.csv"),
};
const LTC_SNOMED: BuiltIn = BuiltIn {
    name: "ltc_snomed",
    file: "ltc_snomed.csv",
    system: CodeSystem::Snomed,
    text: include_str!("../../codelists/ltc/ltc_snomed.csv"),
};

/// `[codelists]` in `strata.toml`: a file replacing each built-in score list
/// (none by default).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListFiles {
    pub charlson_icd10: Option<PathBuf>,
    pub charlson_snomed: Option<PathBuf>,
    pub elixhauser_icd10: Option<PathBuf>,
    pub elixhauser_snomed: Option<PathBuf>,
    /// HFRS: ICD-10 codes → group (the group's three-character category as
    /// `category`, or the code itself when there is no `category` column).
    pub hfrs_icd10: Option<PathBuf>,
    /// eFI: SNOMED CT concepts → coded deficit (gm-sde keys; not polypharmacy).
    pub efi_snomed: Option<PathBuf>,
    pub ltc_icd10: Option<PathBuf>,
    pub ltc_snomed: Option<PathBuf>,
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

/// How a list's entries become bits of a score's set.
#[derive(Debug, Clone)]
enum Bits {
    /// The bit of each of the list's categories (by [`Codelist::categories`] index).
    ByCategory(Vec<u128>),
    /// HFRS lists without a `category` column: each code is its own group.
    ByCode(HashMap<String, u128>),
}

/// A list whose categories are bits of a score's set.
#[derive(Debug, Clone)]
struct CategoryList {
    list: Codelist,
    bits: Bits,
}

impl CategoryList {
    fn set(&self, code: &str) -> u128 {
        let mut set = 0;
        self.list.for_each_match(code, |e| {
            let bit = match &self.bits {
                Bits::ByCategory(bits) => e.category.and_then(|c| bits.get(c)),
                Bits::ByCode(bits) => bits.get(&e.code),
            };
            if let Some(bit) = bit {
                set |= bit;
            }
        });
        set
    }
}

/// The code lists of a run's scores, per code system.
#[derive(Debug, Clone)]
pub struct ScoreLists {
    /// ICD-10, SNOMED CT.
    charlson: [CategoryList; 2],
    elixhauser: [CategoryList; 2],
    hfrs: CategoryList,
    efi: CategoryList,
    /// ICD-10, SNOMED CT.
    ltc: [CategoryList; 2],
    used: Vec<ListUse>,
}

/// What a score makes of a list's category keys.
struct Keys<'a> {
    /// The bits of a key, `None` for a key the score does not know.
    bits: &'a dyn Fn(&str) -> Option<u128>,
    /// What the keys are, for messages ("a Charlson category").
    what: &'static str,
    /// HFRS: a list without a `category` column keys each entry by its code,
    /// and a `weight` column must repeat the key's published weight.
    hfrs: bool,
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
        let mut used = Vec::new();
        let charlson = Keys {
            bits: &|k| CharlsonCategory::from_key(k).map(|c| u128::from(c.bit())),
            what: "a Charlson category",
            hfrs: false,
        };
        let elixhauser = Keys {
            bits: &|k| ElixhauserCategory::from_key(k).map(|c| u128::from(c.bit())),
            what: "an Elixhauser category",
            hfrs: false,
        };
        let hfrs = Keys {
            bits: &|k| hfrs::group_of_key(k).map(|g| 1u128 << g),
            what: "an HFRS group (the three-character ICD-10 categories of Gilbert et al. 2018)",
            hfrs: true,
        };
        let efi = Keys {
            // Polypharmacy comes from prescriptions, never from a code.
            bits: &|k| {
                EfiDeficit::from_key(k)
                    .filter(|d| *d != EfiDeficit::Polypharmacy)
                    .map(|d| u128::from(d.bit()))
            },
            what: "a coded eFI deficit",
            hfrs: false,
        };
        let ltc = Keys {
            bits: &|k| Ltc::from_key(k).map(|l| u128::from(l.bit())),
            what: "a long-term condition",
            hfrs: false,
        };
        let mut read = |b: &BuiltIn, file: &Option<PathBuf>, keys: &Keys<'_>| {
            category_list(b, file.as_deref(), keys, &mut used)
        };
        let charlson = [
            read(&CHARLSON_ICD10, &files.charlson_icd10, &charlson)?,
            read(&CHARLSON_SNOMED, &files.charlson_snomed, &charlson)?,
        ];
        let elixhauser = [
            read(&ELIXHAUSER_ICD10, &files.elixhauser_icd10, &elixhauser)?,
            read(&ELIXHAUSER_SNOMED, &files.elixhauser_snomed, &elixhauser)?,
        ];
        let hfrs = read(&HFRS_ICD10, &files.hfrs_icd10, &hfrs)?;
        let efi = read(&EFI_SNOMED, &files.efi_snomed, &efi)?;
        let ltc = [
            read(&LTC_ICD10, &files.ltc_icd10, &ltc)?,
            read(&LTC_SNOMED, &files.ltc_snomed, &ltc)?,
        ];
        Ok(ScoreLists {
            charlson,
            elixhauser,
            hfrs,
            efi,
            ltc,
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
            CodeSystem::Icd10 => self.elixhauser[0].set(code) as u64,
            CodeSystem::Snomed => self.elixhauser[1].set(code) as u64,
            CodeSystem::Bnf => 0,
        }
    }

    /// The HFRS groups of one code, bit `g` for group `g` (see
    /// [`super::hfrs_weight`]); ICD-10 only, 0 for other systems.
    pub fn hfrs(&self, system: CodeSystem, code: &str) -> u128 {
        match system {
            CodeSystem::Icd10 => self.hfrs.set(code),
            _ => 0,
        }
    }

    /// The eFI deficits (bits of [`EfiDeficit::bit`]) of one code; SNOMED CT
    /// only, never polypharmacy.
    pub fn efi(&self, system: CodeSystem, code: &str) -> u64 {
        match system {
            CodeSystem::Snomed => self.efi.set(code) as u64,
            _ => 0,
        }
    }

    /// The long-term conditions (bits of [`Ltc::bit`]) of one code.
    pub fn ltc(&self, system: CodeSystem, code: &str) -> u32 {
        match system {
            CodeSystem::Icd10 => self.ltc[0].set(code) as u32,
            CodeSystem::Snomed => self.ltc[1].set(code) as u32,
            CodeSystem::Bnf => 0,
        }
    }

    /// Every list used, with its origin and checksum, in a fixed order.
    pub fn used(&self) -> &[ListUse] {
        &self.used
    }
}

/// Reads one list (built in, or the file replacing it) and maps its
/// category keys to bits; a key the score does not know is an error naming
/// the file, line and column.
fn category_list(
    builtin: &BuiltIn,
    file: Option<&Path>,
    keys: &Keys<'_>,
    used: &mut Vec<ListUse>,
) -> Result<CategoryList, SpecError> {
    let (text, origin) = match file {
        None => (
            builtin.text.to_string(),
            format!("built-in:{}", builtin.file),
        ),
        Some(path) => (
            std::fs::read_to_string(path).map_err(|e| SpecError::Codelist {
                path: path.display().to_string(),
                reason: format!("cannot be read: {e}"),
            })?,
            path.display().to_string(),
        ),
    };
    let name = builtin.name;
    let list = Codelist::parse(&text, &origin, builtin.system)?;
    let refuse = |line: usize, column: &str, reason: String| SpecError::CodelistEntry {
        path: origin.clone(),
        line,
        column: column.into(),
        reason,
    };
    let bits = if list.categories().is_empty() {
        if !keys.hfrs {
            return Err(SpecError::Codelist {
                path: origin.clone(),
                reason: "has no `category` column (the score needs each code's category)".into(),
            });
        }
        let mut bits = HashMap::new();
        for e in list.entries() {
            let Some(b) = (keys.bits)(&e.code) else {
                return Err(refuse(
                    e.line,
                    "code",
                    format!(
                        "`{}` is not {} (with no `category` column each code names its group)",
                        e.code, keys.what
                    ),
                ));
            };
            bits.insert(e.code.clone(), b);
        }
        Bits::ByCode(bits)
    } else {
        let mut bits = Vec::with_capacity(list.categories().len());
        for (k, key) in list.categories().iter().enumerate() {
            let line = list
                .entries()
                .iter()
                .find(|e| e.category == Some(k))
                .map_or(0, |e| e.line);
            let Some(b) = (keys.bits)(key) else {
                return Err(refuse(
                    line,
                    "category",
                    format!("`{key}` is not {} (the {name} list)", keys.what),
                ));
            };
            bits.push(b);
        }
        Bits::ByCategory(bits)
    };
    if keys.hfrs {
        // The published weights stay: a `weight` column may only repeat them.
        for e in list.entries() {
            let Some(w) = e.weight else { continue };
            let key = e
                .category
                .and_then(|c| list.categories().get(c))
                .map_or(e.code.as_str(), String::as_str);
            let published = hfrs::group_of_key(key).map_or(0.0, hfrs::hfrs_weight);
            if (w - published).abs() > 1e-9 {
                return Err(refuse(
                    e.line,
                    "weight",
                    format!(
                        "{w} is not the published weight of HFRS group {key} ({published}); \
                         HFRS weights cannot be replaced (leave the column out)"
                    ),
                ));
            }
        }
    }
    used.push(ListUse {
        list: name.into(),
        origin,
        code_system: builtin.system.name().into(),
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
            blake3::hash(CHARLSON_SNOMED.text.as_bytes())
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

    /// Lists with the one replacement `key` = a file holding `text`.
    fn swapped(
        key: &str,
        text: &str,
    ) -> (tempfile::TempDir, PathBuf, Result<ScoreLists, SpecError>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(format!("{key}.csv"));
        std::fs::write(&path, text).expect("write");
        let files: ListFiles =
            toml::from_str(&format!("{key} = '{}'", path.display())).expect("a [codelists] key");
        let lists = ScoreLists::load(&files);
        (dir, path, lists)
    }

    /// The list recorded as `key` names `path` and the blake3 of its bytes.
    fn assert_recorded(lists: &ScoreLists, key: &str, path: &Path, entries: usize) {
        let used = lists
            .used()
            .iter()
            .find(|u| u.list == key)
            .expect("recorded");
        assert_eq!(used.origin, path.display().to_string());
        let bytes = std::fs::read(path).expect("read");
        assert_eq!(used.blake3, blake3::hash(&bytes).to_hex().to_string());
        assert_eq!(used.entries, entries);
        assert_eq!(lists.used().len(), 8, "every list is still recorded");
    }

    fn hfrs_of(lists: &ScoreLists, codes: &[&str]) -> f64 {
        let set = codes
            .iter()
            .fold(0u128, |s, c| s | lists.hfrs(CodeSystem::Icd10, c));
        crate::codelists::hfrs_score((0..128u16).filter(|g| set & (1 << g) != 0))
    }

    #[test]
    fn an_hfrs_replacement_maps_codes_to_groups_and_keeps_the_published_weights() {
        // I21.9 (MI, no HFRS group) and R29.6 (R29, 3.6): built in 0 + 3.6.
        assert_eq!(hfrs_of(lists(), &["I21.9", "R29.6"]), 3.6);
        // A list putting I21 in group F00 (published weight 7.1) and nothing
        // else: I21.9 scores 7.1, R29.6 no longer counts: 7.1.
        let text = "code,description,category\nI21,Myocardial infarction,F00\n";
        let (_dir, path, mine) = swapped("hfrs_icd10", text);
        let mine = mine.expect("valid list");
        assert_eq!(hfrs_of(&mine, &["I21.9", "R29.6"]), 7.1);
        assert_eq!(mine.hfrs(CodeSystem::Snomed, "22298006"), 0);
        assert_recorded(&mine, "hfrs_icd10", &path, 1);
        // The built-in file's own format (each code its group, weights
        // repeated) is accepted: W19 3.2 + F00 7.1 = 10.3.
        let text = "code,description,weight\nF00,Dementia in Alzheimer's disease,7.1\nW19,Unspecified fall,3.2\n";
        let (_dir, _, own) = swapped("hfrs_icd10", text);
        assert_eq!(
            hfrs_of(&own.expect("valid"), &["F00.1", "W19X", "R29.6"]),
            10.3
        );
        // A changed weight is refused: the weights are the published ones.
        let text = "code,description,weight\nF00,Dementia in Alzheimer's disease,7.1\nW19,Unspecified fall,9\n";
        let err = swapped("hfrs_icd10", text).2.expect_err("changed weight");
        assert!(err.to_string().contains("line 3, column `weight`"), "{err}");
        // A group that is not one of the 109.
        let text = "code,description,category\nI21,Myocardial infarction,I21\n";
        let err = swapped("hfrs_icd10", text).2.expect_err("unknown group");
        assert!(
            err.to_string().contains("line 2, column `category`"),
            "{err}"
        );
        assert_eq!(err.class(), crate::error::ExitClass::Spec);
    }

    #[test]
    fn an_efi_replacement_raises_the_score_by_one_deficit_over_36() {
        use crate::codelists::{EfiDeficit, efi_score};
        // Acute viral pharyngitis (195662009) is no deficit in the built-in list.
        assert_eq!(lists().efi(CodeSystem::Snomed, "195662009"), 0);
        let text = "code,description,category\n195662009,Acute viral pharyngitis,falls\n";
        let (_dir, path, mine) = swapped("efi_snomed", text);
        let mine = mine.expect("valid list");
        let set = mine.efi(CodeSystem::Snomed, "195662009");
        assert_eq!(set, EfiDeficit::Falls.bit());
        // 0/36 built in, 1/36 with the list; with polypharmacy 2/36.
        assert_eq!(efi_score(set, false), 1.0 / 36.0);
        assert_eq!(efi_score(set, true), 2.0 / 36.0);
        // Falls itself (161898004) is not in my list any more.
        assert_eq!(mine.efi(CodeSystem::Snomed, "161898004"), 0);
        assert_eq!(
            lists().efi(CodeSystem::Snomed, "161898004"),
            EfiDeficit::Falls.bit()
        );
        assert_recorded(&mine, "efi_snomed", &path, 1);
        // Polypharmacy is counted from prescriptions, never from a code.
        let text = "code,description,category\n195662009,Acute viral pharyngitis,falls\n161898004,Falls,polypharmacy\n";
        let err = swapped("efi_snomed", text).2.expect_err("polypharmacy");
        assert!(
            err.to_string().contains("line 3, column `category`"),
            "{err}"
        );
    }

    #[test]
    fn ltc_replacements_flag_their_conditions() {
        use crate::codelists::ltc_count;
        // ICD-10: pneumonia (J18) as COPD, nothing else.
        assert_eq!(lists().ltc(CodeSystem::Icd10, "J18.9"), 0);
        let text = "code,description,category\nJ18,Pneumonia,copd\n";
        let (_dir, path, mine) = swapped("ltc_icd10", text);
        let mine = mine.expect("valid list");
        let set = mine.ltc(CodeSystem::Icd10, "J18.9") | mine.ltc(CodeSystem::Icd10, "I10X");
        assert_eq!(set, Ltc::Copd.bit(), "I10 is no longer hypertension");
        assert_eq!(ltc_count(set), 1);
        // The SNOMED CT list is still the built-in one: heart failure.
        assert_eq!(
            mine.ltc(CodeSystem::Snomed, "84114007"),
            Ltc::HeartFailure.bit()
        );
        assert_recorded(&mine, "ltc_icd10", &path, 1);
        // SNOMED CT: one concept for two conditions.
        let text = "code,description,category\n195662009,Acute viral pharyngitis,asthma\n195662009,Acute viral pharyngitis,copd\n";
        let (_dir, path, mine) = swapped("ltc_snomed", text);
        let mine = mine.expect("valid list");
        let set = mine.ltc(CodeSystem::Snomed, "195662009");
        assert_eq!(set, Ltc::Asthma.bit() | Ltc::Copd.bit());
        assert_eq!(ltc_count(set), 2);
        assert_eq!(mine.ltc(CodeSystem::Snomed, "84114007"), 0);
        assert_recorded(&mine, "ltc_snomed", &path, 2);
        let text = "code,description,category\n195662009,Acute viral pharyngitis,sore_throat\n";
        let err = swapped("ltc_snomed", text)
            .2
            .expect_err("unknown condition");
        assert!(
            err.to_string().contains("line 2, column `category`"),
            "{err}"
        );
    }

    #[test]
    fn the_lists_used_through_scorelists_match_the_module_functions() {
        // The built-in lists read by the one loader give what the module
        // functions give: hfrs_group matches with its own group table (kept
        // for weights and names); efi_deficits and ltc_categories now call
        // these lists, so for them this only pins the public functions.
        use crate::codelists::{efi_deficits, hfrs_group, ltc_categories};
        for code in ["F00.1", "R296", "W19X", "I21.9", "N39.0", "E86X"] {
            assert_eq!(
                lists().hfrs(CodeSystem::Icd10, code),
                hfrs_group(code).map_or(0, |g| 1u128 << g),
                "{code}"
            );
        }
        for code in ["161898004", "312912001", "84114007", "195662009"] {
            assert_eq!(
                lists().efi(CodeSystem::Snomed, code),
                efi_deficits(code),
                "{code}"
            );
            assert_eq!(
                lists().ltc(CodeSystem::Snomed, code),
                ltc_categories(CodeSystem::Snomed, code),
                "{code}"
            );
        }
        for code in ["I11.0", "I255", "C44.9", "C79.5", "F71.1", "J18.9"] {
            assert_eq!(
                lists().ltc(CodeSystem::Icd10, code),
                ltc_categories(CodeSystem::Icd10, code),
                "{code}"
            );
        }
    }
}
