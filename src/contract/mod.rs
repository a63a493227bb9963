//! The data contract: one schema per input table, shared by `ingest` (which
//! checks extracts against it) and `synth` (which writes extracts that meet
//! it), so the two cannot drift apart.
//!
//! `docs/data-contract.md` is the prose form of this module; keep them together.

/// The logical type a contract column must have after parsing.
///
/// CSV cells arrive as text and are parsed to this type; Parquet columns may
/// already carry it (or a compatible physical type, e.g. a timestamp for a date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Free text, kept as UTF-8.
    Text,
    /// A calendar date; in CSV, ISO 8601 `YYYY-MM-DD`.
    Date,
    /// `true`/`false` (CSV also accepts `1`/`0`, `t`/`f`, `yes`/`no`, any case).
    Bool,
    /// A decimal number.
    Number,
    /// An integer in an inclusive range.
    Integer { min: i64, max: i64 },
    /// One of a fixed set of codes (compared exactly, after trimming spaces).
    Code(&'static [&'static str]),
    /// An NHS number: ten digits that pass the Modulus 11 check.
    NhsNumber,
}

impl ColumnType {
    /// What a valid value looks like, for error messages.
    pub fn expectation(&self) -> String {
        match self {
            ColumnType::Text => "text".to_string(),
            ColumnType::Date => "a date as YYYY-MM-DD".to_string(),
            ColumnType::Bool => "true or false".to_string(),
            ColumnType::Number => "a number".to_string(),
            ColumnType::Integer { min, max } => format!("a whole number from {min} to {max}"),
            ColumnType::Code(codes) => format!("one of {}", codes.join(", ")),
            ColumnType::NhsNumber => {
                "a 10-digit NHS number passing the Modulus 11 check".to_string()
            }
        }
    }
}

/// One column of a contract table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub ty: ColumnType,
    /// The column must be present in the file.
    pub required: bool,
    /// Empty cells are allowed (a null is not a rejection).
    pub nullable: bool,
    /// Values identify a person: never written to logs or error messages.
    pub identifying: bool,
}

const fn col(name: &'static str, ty: ColumnType) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        required: true,
        nullable: false,
        identifying: false,
    }
}

const fn nullable(name: &'static str, ty: ColumnType) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        required: true,
        nullable: true,
        identifying: false,
    }
}

const fn optional(name: &'static str, ty: ColumnType) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        required: false,
        nullable: true,
        identifying: false,
    }
}

const fn identifying(spec: ColumnSpec) -> ColumnSpec {
    ColumnSpec {
        identifying: true,
        ..spec
    }
}

/// One table of a combined extract.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    pub name: &'static str,
    /// The extract is unusable without this table.
    pub required: bool,
    pub columns: &'static [ColumnSpec],
    /// Date columns that place an event in a person's life: each must not be
    /// before birth, after death or in the future.
    pub event_dates: &'static [&'static str],
    /// A `(start, end)` pair where `end`, when present, must not precede `start`.
    pub period: Option<(&'static str, &'static str)>,
    /// Rows belong to a person in `patients` (checked by `person_id`).
    pub per_person: bool,
}

impl TableSpec {
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Sex as recorded: female, male, indeterminate, unknown.
pub const SEX_CODES: &[&str] = &["F", "M", "I", "U"];

/// NHS ethnic category codes (Data Dictionary "ETHNIC CATEGORY"), Z = not stated.
pub const ETHNICITY_CODES: &[&str] = &[
    "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z",
];

/// Care settings of an encounter.
pub const SETTINGS: &[&str] = &[
    "gp",
    "inpatient",
    "emergency_department",
    "outpatient",
    "community",
    "mental_health",
];

/// Coding systems for diagnoses and observations.
pub const CODE_SYSTEMS: &[&str] = &["icd10", "snomed"];

/// Coding systems of a medicine in `medications.code`: a BNF presentation
/// code, a dm+d concept (UK Core, GP records) or an RxNorm concept (OMOP).
pub const MEDICINE_CODE_SYSTEMS: &[&str] = &["bnf", "dmd", "rxnorm"];

/// A derived column of `medications`: the ingredient a row counts as
/// ([`ingredient_key`]). Features may read it like a contract column.
pub const INGREDIENT: &str = "ingredient";

/// Characters of a BNF code that name its chemical substance.
pub const BNF_SUBSTANCE_CHARS: usize = 9;

/// A derived column of `medications`: whether the row is a medicine
/// ([`ingredient_is_medicine`] of its [`INGREDIENT`]). Features may filter
/// on it (`where = { medicine = true }`), as `medicines_12m` does.
pub const MEDICINE: &str = "medicine";

/// BNF chapters (the first two characters of a BNF code) that hold no
/// medicines, so that polypharmacy counts medicines only: 18 preparations
/// used in diagnosis (contrast media, diagnostic agents: given once, in a
/// test), 19 other drugs and preparations (toiletries, waters, oils,
/// flavourings, antidotes), 20 dressings, 21 appliances, 22 incontinence
/// appliances and 23 stoma appliances. Chapters 1–15 are the medicines
/// (there are no chapters 16 and 17).
pub const NON_MEDICINE_BNF_CHAPTERS: [&str; 6] = ["18", "19", "20", "21", "22", "23"];

/// Whether a row with this [`ingredient_key`] counts as a medicine: a BNF
/// substance outside [`NON_MEDICINE_BNF_CHAPTERS`], or a product code
/// (dm+d without a BNF mapping, RxNorm), whose chapter cannot be known and
/// which is counted (the run says how many such rows it counted).
pub fn ingredient_is_medicine(key: &str) -> bool {
    is_product_key(key) || !NON_MEDICINE_BNF_CHAPTERS.contains(&first_chars(key, 2))
}

/// True when `s` is a dm+d code: a SNOMED CT-style concept id of 6 to 18 digits.
pub fn dmd_code_is_valid(s: &str) -> bool {
    (6..=18).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// True when `s` is an RxNorm concept id (RXCUI): 1 to 10 digits.
pub fn rxnorm_code_is_valid(s: &str) -> bool {
    (1..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// The first `n` characters of `s` (all of it if shorter).
fn first_chars(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(at, _)| &s[..at])
}

/// The ingredient a medications row counts as, at the finest level the row
/// allows (docs/data-contract.md, "medications"):
///
/// 1. a `bnf_code` → its chemical substance (first 9 characters);
/// 2. else `code_system` `bnf` → the substance of `code`;
/// 3. else `dmd` with `code` in the user's dm+d → BNF map → the substance of
///    the mapped BNF code;
/// 4. else the product code itself, `dmd:<code>` or `rxnorm:<code>`.
///
/// BNF codes hold no `:`, so the two levels never share a key. `None` when
/// the row has no code (validation rejects such rows).
pub fn ingredient_key<'a>(
    bnf_code: Option<&'a str>,
    system: Option<&str>,
    code: Option<&'a str>,
    dmd_bnf: Option<&'a std::collections::HashMap<String, String>>,
) -> Option<std::borrow::Cow<'a, str>> {
    use std::borrow::Cow;
    let substance = |c: &'a str| Cow::Borrowed(first_chars(c, BNF_SUBSTANCE_CHARS));
    if let Some(bnf) = bnf_code {
        return Some(substance(bnf));
    }
    let (system, code) = (system?, code?);
    match system {
        "bnf" => Some(substance(code)),
        "dmd" => match dmd_bnf.and_then(|m| m.get(code)) {
            Some(bnf) => Some(substance(bnf.as_str())),
            None => Some(Cow::Owned(format!("dmd:{code}"))),
        },
        other => Some(Cow::Owned(format!("{other}:{code}"))),
    }
}

/// Whether an [`ingredient_key`] is a product code (dm+d or RxNorm, no BNF
/// substance known) rather than a BNF chemical substance.
pub fn is_product_key(key: &str) -> bool {
    key.contains(':')
}

/// Adult social-care service types.
pub const SERVICE_TYPES: &[&str] = &[
    "residential",
    "nursing",
    "home_care",
    "day_care",
    "direct_payment",
    "reablement",
    "other",
];

pub const PATIENTS: TableSpec = TableSpec {
    name: "patients",
    required: true,
    columns: &[
        identifying(col("person_id", ColumnType::Text)),
        identifying(optional("nhs_number", ColumnType::NhsNumber)),
        identifying(col("date_of_birth", ColumnType::Date)),
        col("sex", ColumnType::Code(SEX_CODES)),
        nullable("ethnicity", ColumnType::Code(ETHNICITY_CODES)),
        nullable("lsoa", ColumnType::Text),
        col("practice_code", ColumnType::Text),
        nullable("pcn_code", ColumnType::Text),
        col("registered_from", ColumnType::Date),
        nullable("date_of_death", ColumnType::Date),
        col("opt_out_national", ColumnType::Bool),
        col("opt_out_type1", ColumnType::Bool),
    ],
    event_dates: &["registered_from", "date_of_death"],
    period: None,
    per_person: false,
};

pub const ENCOUNTERS: TableSpec = TableSpec {
    name: "encounters",
    required: true,
    columns: &[
        identifying(col("person_id", ColumnType::Text)),
        col("encounter_id", ColumnType::Text),
        col("setting", ColumnType::Code(SETTINGS)),
        col("start_date", ColumnType::Date),
        nullable("end_date", ColumnType::Date),
        col("emergency", ColumnType::Bool),
        nullable("cost_gbp", ColumnType::Number),
    ],
    event_dates: &["start_date", "end_date"],
    period: Some(("start_date", "end_date")),
    per_person: true,
};

pub const DIAGNOSES: TableSpec = TableSpec {
    name: "diagnoses",
    required: false,
    columns: &[
        identifying(col("person_id", ColumnType::Text)),
        col("date", ColumnType::Date),
        col("code_system", ColumnType::Code(CODE_SYSTEMS)),
        col("code", ColumnType::Text),
        nullable("encounter_id", ColumnType::Text),
    ],
    event_dates: &["date"],
    period: None,
    per_person: true,
};

pub const MEDICATIONS: TableSpec = TableSpec {
    name: "medications",
    required: false,
    columns: &[
        identifying(col("person_id", ColumnType::Text)),
        col("date", ColumnType::Date),
        optional("bnf_code", ColumnType::Text),
        optional("code_system", ColumnType::Code(MEDICINE_CODE_SYSTEMS)),
        optional("code", ColumnType::Text),
    ],
    event_dates: &["date"],
    period: None,
    per_person: true,
};

pub const OBSERVATIONS: TableSpec = TableSpec {
    name: "observations",
    required: false,
    columns: &[
        identifying(col("person_id", ColumnType::Text)),
        col("date", ColumnType::Date),
        col("code_system", ColumnType::Code(CODE_SYSTEMS)),
        col("code", ColumnType::Text),
        nullable("value", ColumnType::Number),
        nullable("unit", ColumnType::Text),
    ],
    event_dates: &["date"],
    period: None,
    per_person: true,
};

pub const SOCIAL_CARE: TableSpec = TableSpec {
    name: "social_care",
    required: false,
    columns: &[
        identifying(col("person_id", ColumnType::Text)),
        col("start_date", ColumnType::Date),
        nullable("end_date", ColumnType::Date),
        col("service_type", ColumnType::Code(SERVICE_TYPES)),
        nullable("weekly_cost_gbp", ColumnType::Number),
    ],
    event_dates: &["start_date", "end_date"],
    period: Some(("start_date", "end_date")),
    per_person: true,
};

pub const LSOA_IMD: TableSpec = TableSpec {
    name: "lsoa_imd",
    required: false,
    columns: &[
        col("lsoa", ColumnType::Text),
        col("imd_decile", ColumnType::Integer { min: 1, max: 10 }),
    ],
    event_dates: &[],
    period: None,
    per_person: false,
};

/// Every table of the contract, patients first (the others are checked against it).
pub const TABLES: &[TableSpec] = &[
    PATIENTS,
    ENCOUNTERS,
    DIAGNOSES,
    MEDICATIONS,
    OBSERVATIONS,
    SOCIAL_CARE,
    LSOA_IMD,
];

/// Looks a table up by name.
pub fn table(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name == name)
}

/// The first day of Polars' `Date` type: a date is stored as days since it.
const EPOCH: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("1970-01-01 is a valid date"),
};

/// Days since 1970-01-01: the physical value of a Polars `Date`.
pub fn epoch_days(date: chrono::NaiveDate) -> i32 {
    (date - EPOCH).num_days() as i32
}

/// The date `days` after 1970-01-01 (`None` outside chrono's range).
pub fn date_from_epoch_days(days: i32) -> Option<chrono::NaiveDate> {
    EPOCH.checked_add_signed(chrono::Duration::days(i64::from(days)))
}

/// An NHS number as written by people and systems (`943 476 5919`,
/// `943-476-5919`) with its separators removed: ASCII spaces and hyphens
/// anywhere, and surrounding whitespace, are dropped. Nothing else is changed,
/// so the result is only an NHS number if [`nhs_number_is_valid`] says so.
/// Borrowed when there is nothing to remove.
pub fn normalise_nhs_number(s: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = s.trim();
    if trimmed.bytes().any(|b| b == b' ' || b == b'-') {
        std::borrow::Cow::Owned(trimmed.chars().filter(|c| *c != ' ' && *c != '-').collect())
    } else {
        std::borrow::Cow::Borrowed(trimmed)
    }
}

/// The NHS number `s` holds, separators removed ([`normalise_nhs_number`]),
/// when it passes the Modulus 11 check.
pub fn nhs_number_in(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    let normalised = normalise_nhs_number(s);
    nhs_number_is_valid(&normalised).then_some(normalised)
}

/// True when `s` is ten digits whose Modulus 11 check digit is right.
/// Separators are not accepted here: see [`nhs_number_in`].
///
/// Weights 10..2 over the first nine digits; check = 11 − (sum mod 11), where
/// 11 becomes 0 and 10 means the number is invalid (NHS Data Dictionary).
pub fn nhs_number_is_valid(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() != 10 || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let digits: Vec<u32> = bytes.iter().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(d, w)| d * w)
        .sum();
    match 11 - (sum % 11) {
        11 => digits[9] == 0,
        10 => false,
        check => digits[9] == check,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_number_check_digit_follows_modulus_11() {
        // 943 476 5919: 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 mod 11 = 2; 11-2 = 9.
        assert!(nhs_number_is_valid("9434765919"));
        assert!(!nhs_number_is_valid("9434765918"));
        // 401 023 2137: 4*10+0+1*8+0+2*6+3*5+2*4+1*3+3*2 = 92; 92 mod 11 = 4; 11-4 = 7.
        assert!(nhs_number_is_valid("4010232137"));
    }

    #[test]
    fn nhs_number_with_remainder_one_is_never_valid() {
        // 000 000 001x: sum = 1*2 = 2 → 11-2 = 9, valid with 9; make sum ≡ 1: digit 6 in pos 9 → 12 ≡ 1 → check 10.
        assert!(!nhs_number_is_valid("0000000060"));
        assert!(nhs_number_is_valid("0000000019"));
    }

    #[test]
    fn nhs_number_must_be_ten_digits() {
        assert!(!nhs_number_is_valid("943476591"));
        assert!(!nhs_number_is_valid("943 476 5919"));
        assert!(!nhs_number_is_valid("94347659190"));
        assert!(!nhs_number_is_valid("943476591X"));
    }

    #[test]
    fn nhs_numbers_written_with_spaces_or_dashes_are_normalised_before_the_check() {
        assert_eq!(nhs_number_in("943 476 5919").as_deref(), Some("9434765919"));
        assert_eq!(nhs_number_in("943-476-5919").as_deref(), Some("9434765919"));
        assert_eq!(nhs_number_in(" 9434765919 ").as_deref(), Some("9434765919"));
        assert_eq!(nhs_number_in("9434765919").as_deref(), Some("9434765919"));
        // Normalising does not rescue a wrong check digit or other characters.
        assert_eq!(nhs_number_in("943 476 5918"), None);
        assert_eq!(nhs_number_in("943.476.5919"), None);
        assert_eq!(nhs_number_in("943 476 591"), None);
        assert_eq!(normalise_nhs_number("P-0001"), "P0001");
    }

    #[test]
    fn dmd_codes_are_six_to_eighteen_digits() {
        assert!(dmd_code_is_valid("322236009")); // paracetamol 500mg tablets (VMP)
        assert!(dmd_code_is_valid("123456"));
        assert!(dmd_code_is_valid("123456789012345678"));
        assert!(!dmd_code_is_valid("12345"));
        assert!(!dmd_code_is_valid("1234567890123456789"));
        assert!(!dmd_code_is_valid("32223600X"));
        assert!(!dmd_code_is_valid(" 322236009"));
    }

    #[test]
    fn medicines_are_bnf_chapters_1_to_15_and_unmapped_products() {
        // Chapter 2 (cardiovascular) and 15 (anaesthesia): medicines.
        assert!(ingredient_is_medicine("0212000B0"));
        assert!(ingredient_is_medicine("1501010A0"));
        // 18 diagnosis, 19 other, 20 dressings, 21 appliances, 22
        // incontinence, 23 stoma: not medicines.
        for key in [
            "1801000A0",
            "190201000",
            "20010100",
            "2102",
            "220100",
            "2301",
        ] {
            assert!(!ingredient_is_medicine(key), "{key}");
        }
        // Products of unknown chapter count.
        assert!(ingredient_is_medicine("dmd:322236009"));
        assert!(ingredient_is_medicine("rxnorm:197361"));
    }

    #[test]
    fn the_ingredient_key_takes_the_finest_level_a_row_allows() {
        let map: std::collections::HashMap<String, String> =
            [("322236009".to_string(), "0407010H0AAAMAM".to_string())].into();
        let key = |b, s, c, m| ingredient_key(b, s, c, m).map(|k| k.into_owned());
        // A BNF code wins over a coded form.
        assert_eq!(
            key(
                Some("0212000B0AAABAB"),
                Some("dmd"),
                Some("322236009"),
                Some(&map)
            )
            .as_deref(),
            Some("0212000B0")
        );
        assert_eq!(
            key(None, Some("bnf"), Some("0501013B0AAABAB"), None).as_deref(),
            Some("0501013B0")
        );
        assert_eq!(
            key(None, Some("dmd"), Some("322236009"), Some(&map)).as_deref(),
            Some("0407010H0")
        );
        assert_eq!(
            key(None, Some("dmd"), Some("322236009"), None).as_deref(),
            Some("dmd:322236009")
        );
        assert_eq!(
            key(None, Some("dmd"), Some("999999"), Some(&map)).as_deref(),
            Some("dmd:999999")
        );
        assert_eq!(
            key(None, Some("rxnorm"), Some("197361"), Some(&map)).as_deref(),
            Some("rxnorm:197361")
        );
        assert_eq!(key(None, None, None, None), None);
        assert!(is_product_key("dmd:322236009") && !is_product_key("0407010H0"));
    }

    #[test]
    fn every_table_has_its_person_key_first_when_per_person() {
        for t in TABLES.iter().filter(|t| t.per_person) {
            assert_eq!(t.columns[0].name, "person_id", "{}", t.name);
        }
    }
}
