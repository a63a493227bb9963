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
        col("bnf_code", ColumnType::Text),
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

/// True when `s` is ten digits whose Modulus 11 check digit is right.
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
    fn every_table_has_its_person_key_first_when_per_person() {
        for t in TABLES.iter().filter(|t| t.per_person) {
            assert_eq!(t.columns[0].name, "person_id", "{}", t.name);
        }
    }
}
