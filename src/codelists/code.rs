//! Code systems and validated codes: ICD-10, SNOMED CT and BNF.
//!
//! Matching rules (docs/codelists.md):
//! - **ICD-10**: normalised ([`normalise_icd10`]), then matched by prefix:
//!   a list entry `I50` matches `I500`, `I50.9` and `I50X`.
//! - **SNOMED CT**: matched by exact concept id (no hierarchy expansion: a
//!   list names every concept it means).
//! - **BNF**: matched by prefix of the upper-cased code; a list entry of 2
//!   characters is a chapter, 4 a section, 6 a paragraph, 9 a chemical
//!   substance, 15 a presentation ([`BnfLevel`]).
//!
//! One normaliser per code system, used by every list and every matcher:
//! [`normalise_icd10`] (and [`Icd10Key`], the same rule into a stack buffer,
//! for the matching path), [`snomed_id`], and [`BnfCode`] / the
//! case-insensitive prefix test of [`super::load`] for BNF.
//!
//! This module never allocates on the matching path: [`Icd10Key`] normalises
//! into a stack buffer.

use std::fmt;
use std::str::FromStr;

/// Normalises an ICD-10 code for prefix matching: upper case, with dots,
/// spaces, dagger (`†`, `+`) and asterisk (`*`) marks removed, and trailing
/// filler characters (`X`, `-`) after the three-character category dropped.
///
/// `e11.2` → `E112`, `R69X` → `R69`, `A17.0†` → `A170`, `G01*` → `G01`.
pub fn normalise_icd10(code: &str) -> String {
    let mut out: String = icd10_chars(code).collect();
    out.truncate(without_fillers(out.as_bytes()));
    out
}

/// The characters of an ICD-10 code that matching reads, upper-cased: the
/// first half of [`normalise_icd10`], shared with [`Icd10Key`].
fn icd10_chars(code: &str) -> impl Iterator<Item = char> + '_ {
    code.chars()
        .filter(|c| !matches!(c, '.' | ' ' | '†' | '*' | '+' | '\t'))
        .flat_map(char::to_uppercase)
}

/// The length of normalised `code` without its trailing fillers (`X`, `-`)
/// after the three-character category: the second half of [`normalise_icd10`].
fn without_fillers(code: &[u8]) -> usize {
    let mut len = code.len();
    while len > 3 && matches!(code[len - 1], b'X' | b'-') {
        len -= 1;
    }
    len
}

/// A SNOMED CT concept id as an extract writes it, for matching: the
/// trimmed text as a number, `None` if it is not one. No check digit is
/// tested here (lists are validated when loaded, [`SnomedCode`]); an id that
/// no list holds simply matches nothing.
pub fn snomed_id(code: &str) -> Option<u64> {
    code.trim().parse().ok()
}

/// A clinical coding system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeSystem {
    /// ICD-10 (WHO, and the UK 5th edition used by HES).
    Icd10,
    /// SNOMED CT concept ids.
    Snomed,
    /// British National Formulary codes (NHSBSA).
    Bnf,
}

impl CodeSystem {
    /// The name used in extracts, configuration and docs: `icd10`, `snomed`, `bnf`.
    pub fn name(self) -> &'static str {
        match self {
            CodeSystem::Icd10 => "icd10",
            CodeSystem::Snomed => "snomed",
            CodeSystem::Bnf => "bnf",
        }
    }
}

impl fmt::Display for CodeSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CodeSystem {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, CodeError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "icd10" | "icd-10" => Ok(CodeSystem::Icd10),
            "snomed" | "snomedct" | "snomed-ct" | "sct" => Ok(CodeSystem::Snomed),
            "bnf" => Ok(CodeSystem::Bnf),
            _ => Err(CodeError(format!(
                "unknown code system `{s}` (expected icd10, snomed or bnf)"
            ))),
        }
    }
}

/// Why a text is not a valid code. The message never quotes more than the code itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CodeError(pub String);

/// A normalised ICD-10 code or code prefix: a letter and two digits (the
/// three-character category), then up to 4 letters or digits (subdivisions
/// and UK extensions); 2 to 7 characters after [`normalise_icd10`]. Two-character entries such as `C0` are
/// prefixes, as in the published Charlson lists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Icd10Code(String);

impl Icd10Code {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Icd10Code {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, CodeError> {
        let code = normalise_icd10(s);
        let b = code.as_bytes();
        let ok = (2..=7).contains(&b.len())
            && b[0].is_ascii_uppercase()
            && b[1].is_ascii_digit()
            && b.get(2).is_none_or(u8::is_ascii_digit)
            && b[2..].iter().all(u8::is_ascii_alphanumeric);
        if ok {
            Ok(Icd10Code(code))
        } else {
            Err(CodeError(format!(
                "`{s}` is not an ICD-10 code (expected a letter and two digits, then up to 4 letters or digits, e.g. I50, E11.2, R69X; or a 2-character prefix such as C0)"
            )))
        }
    }
}

impl fmt::Display for Icd10Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SNOMED CT identifier: 6 to 18 digits, no leading zero, with a valid
/// Verhoeff check digit (the last digit), as the SNOMED CT specification
/// defines it. The check catches most mistyped concept ids in user lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnomedCode(u64);

impl SnomedCode {
    pub fn id(self) -> u64 {
        self.0
    }
}

impl FromStr for SnomedCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, CodeError> {
        let t = s.trim();
        if !(6..=18).contains(&t.len()) || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError(format!(
                "`{s}` is not a SNOMED CT concept id (expected 6 to 18 digits)"
            )));
        }
        if t.starts_with('0') {
            return Err(CodeError(format!(
                "`{s}` is not a SNOMED CT concept id (no leading zero)"
            )));
        }
        if !verhoeff_valid(t) {
            return Err(CodeError(format!(
                "`{s}` fails the SNOMED CT check digit (Verhoeff); is a digit mistyped?"
            )));
        }
        t.parse()
            .map(SnomedCode)
            .map_err(|_| CodeError(format!("`{s}` is out of range")))
    }
}

impl fmt::Display for SnomedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The Verhoeff check over a string of ASCII digits (check digit last).
fn verhoeff_valid(digits: &str) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0u8;
    for (i, b) in digits.bytes().rev().enumerate() {
        c = D[c as usize][P[i % 8][(b - b'0') as usize] as usize];
    }
    c == 0
}

/// How much of a BNF code a list entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BnfLevel {
    /// 2 characters, e.g. `02` cardiovascular system.
    Chapter = 2,
    /// 4 characters, e.g. `0205`.
    Section = 4,
    /// 6 characters, e.g. `020505`.
    Paragraph = 6,
    /// 9 characters, e.g. `0205051R0` ramipril.
    ChemicalSubstance = 9,
    /// 15 characters: one presentation.
    Presentation = 15,
}

/// A BNF code or code prefix: upper case, ASCII letters and digits, the
/// first two characters digits (the chapter), and 2, 4, 6, 7, 9, 11, 13 or
/// 15 characters long (7 is a sub-paragraph, 11 and 13 product levels).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BnfCode(String);

impl BnfCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The named level of this code, if its length is one of [`BnfLevel`]'s.
    pub fn level(&self) -> Option<BnfLevel> {
        match self.0.len() {
            2 => Some(BnfLevel::Chapter),
            4 => Some(BnfLevel::Section),
            6 => Some(BnfLevel::Paragraph),
            9 => Some(BnfLevel::ChemicalSubstance),
            15 => Some(BnfLevel::Presentation),
            _ => None,
        }
    }

    /// The code cut to `level` (e.g. the chemical substance of a
    /// presentation), or `None` if the code is shorter than that level.
    pub fn at_level(&self, level: BnfLevel) -> Option<&str> {
        self.0.get(..level as usize)
    }
}

impl FromStr for BnfCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, CodeError> {
        let code = s.trim().to_ascii_uppercase();
        let b = code.as_bytes();
        let ok = matches!(b.len(), 2 | 4 | 6 | 7 | 9 | 11 | 13 | 15)
            && b[..2].iter().all(u8::is_ascii_digit)
            && b.iter().all(u8::is_ascii_alphanumeric);
        if ok {
            Ok(BnfCode(code))
        } else {
            Err(CodeError(format!(
                "`{s}` is not a BNF code (expected 2 digits, then letters or digits, 2/4/6/7/9/11/13/15 characters in all)"
            )))
        }
    }
}

impl fmt::Display for BnfCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The BNF chemical substance of a presentation code: its first 9
/// characters, trimmed but as written (not upper-cased, like the distinct
/// count of the built-in `medicines_12m`); `None` for a shorter code.
pub fn bnf_chemical_substance(code: &str) -> Option<&str> {
    code.trim().get(..BnfLevel::ChemicalSubstance as usize)
}

/// A normalised ICD-10 code held on the stack (no allocation per call).
/// Normalises with the same two steps as [`normalise_icd10`]; codes longer than 15 bytes
/// after normalisation are not ICD-10 and give `None`.
#[derive(Clone, Copy)]
pub struct Icd10Key {
    buf: [u8; 15],
    len: u8,
}

impl Icd10Key {
    pub fn new(code: &str) -> Option<Self> {
        let mut buf = [0u8; 15];
        let mut len = 0usize;
        for c in icd10_chars(code) {
            let mut tmp = [0u8; 4];
            for &b in c.encode_utf8(&mut tmp).as_bytes() {
                *buf.get_mut(len)? = b;
                len += 1;
            }
        }
        Some(Icd10Key {
            buf,
            len: without_fillers(&buf[..len]) as u8,
        })
    }

    pub fn as_str(&self) -> &str {
        // Built from whole UTF-8 encodings of chars, and only ASCII bytes are
        // removed from the end, so the slice is valid UTF-8.
        std::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_and_case_are_removed() {
        assert_eq!(normalise_icd10("e11.2"), "E112");
        assert_eq!(normalise_icd10("I21.0"), "I210");
        assert_eq!(normalise_icd10(" I50 "), "I50");
    }

    #[test]
    fn x_fillers_after_the_category_are_dropped() {
        assert_eq!(normalise_icd10("R69X"), "R69");
        assert_eq!(normalise_icd10("I10X"), "I10");
        assert_eq!(normalise_icd10("R69.X"), "R69");
        assert_eq!(normalise_icd10("I10-"), "I10");
    }

    #[test]
    fn dagger_and_asterisk_marks_are_dropped() {
        assert_eq!(normalise_icd10("A17.0†"), "A170");
        assert_eq!(normalise_icd10("G01*"), "G01");
        assert_eq!(normalise_icd10("A170+"), "A170");
    }

    #[test]
    fn short_codes_keep_their_letters() {
        // A category is three characters: never strip into it.
        assert_eq!(normalise_icd10("X59"), "X59");
        assert_eq!(normalise_icd10("XX"), "XX");
    }

    #[test]
    fn snomed_ids_are_read_from_trimmed_digits() {
        assert_eq!(snomed_id(" 84114007 "), Some(84_114_007));
        assert_eq!(snomed_id("84114007\t"), Some(84_114_007));
        assert_eq!(snomed_id("I50"), None);
        assert_eq!(snomed_id(""), None);
    }

    #[test]
    fn code_systems_parse_from_their_names() {
        assert_eq!("icd10".parse::<CodeSystem>(), Ok(CodeSystem::Icd10));
        assert_eq!("SNOMED".parse::<CodeSystem>(), Ok(CodeSystem::Snomed));
        assert_eq!("bnf".parse::<CodeSystem>(), Ok(CodeSystem::Bnf));
        assert!("read".parse::<CodeSystem>().is_err());
    }

    #[test]
    fn icd10_codes_are_normalised_and_validated() {
        assert_eq!("e11.2".parse::<Icd10Code>().unwrap().as_str(), "E112");
        assert_eq!("R69X".parse::<Icd10Code>().unwrap().as_str(), "R69");
        assert_eq!("C0".parse::<Icd10Code>().unwrap().as_str(), "C0");
        assert!("11.2".parse::<Icd10Code>().is_err(), "no leading letter");
        assert!("E".parse::<Icd10Code>().is_err(), "too short");
        assert!(
            "EE1".parse::<Icd10Code>().is_err(),
            "second character must be a digit"
        );
        assert!("E11.2;".parse::<Icd10Code>().is_err());
    }

    #[test]
    fn snomed_ids_need_a_valid_verhoeff_check_digit() {
        // Heart failure 84114007, essential hypertension 59621000, a UK
        // extension id 999791000000106 (HbA1c): all valid.
        for ok in ["84114007", "59621000", "999791000000106", " 22298006 "] {
            assert!(ok.parse::<SnomedCode>().is_ok(), "{ok}");
        }
        // One digit changed: the check digit no longer matches.
        assert!("84114008".parse::<SnomedCode>().is_err());
        assert!("84114".parse::<SnomedCode>().is_err(), "too short");
        assert!("I50".parse::<SnomedCode>().is_err());
        assert!("084114007".parse::<SnomedCode>().is_err(), "leading zero");
    }

    #[test]
    fn verhoeff_matches_the_textbook_example() {
        // Standard worked example: 236 has check digit 3, so 2363 is valid.
        assert!(verhoeff_valid("2363"));
        assert!(!verhoeff_valid("2364"));
    }

    #[test]
    fn bnf_levels_are_prefix_lengths() {
        let ramipril: BnfCode = "0205051r0aaacac".parse().unwrap();
        assert_eq!(ramipril.as_str(), "0205051R0AAACAC");
        assert_eq!(ramipril.level(), Some(BnfLevel::Presentation));
        assert_eq!(ramipril.at_level(BnfLevel::Chapter), Some("02"));
        assert_eq!(ramipril.at_level(BnfLevel::Section), Some("0205"));
        assert_eq!(ramipril.at_level(BnfLevel::Paragraph), Some("020505"));
        assert_eq!(
            ramipril.at_level(BnfLevel::ChemicalSubstance),
            Some("0205051R0")
        );
        assert_eq!(bnf_chemical_substance("0205051R0AAACAC"), Some("0205051R0"));
        assert_eq!(bnf_chemical_substance("0205"), None);
        assert!("2".parse::<BnfCode>().is_err());
        assert!("AB05".parse::<BnfCode>().is_err(), "chapter must be digits");
        assert!("02050".parse::<BnfCode>().is_err(), "5 is no BNF level");
    }

    #[test]
    fn stack_key_normalises_exactly_like_normalise_icd10() {
        for s in [
            "e11.2", "I21.0", " I50 ", "R69X", "I10X", "R69.X", "I10-", "A17.0†", "G01*", "A170+",
            "X59", "XX", "", "c01x", "M80.0X",
        ] {
            assert_eq!(
                Icd10Key::new(s).map(|k| k.as_str().to_string()),
                Some(normalise_icd10(s)),
                "{s:?}"
            );
        }
        assert!(Icd10Key::new("ABCDEFGHIJKLMNOPQRSTUVWXYZ").is_none());
    }
}
