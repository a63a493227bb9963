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
