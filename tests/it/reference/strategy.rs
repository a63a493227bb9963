//! Random small extracts for the reference-engine property test. Dates are
//! drawn as offsets from the index date, most of them on window edges; every
//! row is valid per the contract, so the test is about the feature engine and
//! not about validation.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::{Duration, Months, NaiveDate};
use proptest::prelude::*;

use super::codes::lists;
use super::rows::{
    Diagnosis, Encounter, LsoaImd, Medication, Observation, Patient, Rows, SocialCare,
};

/// The day validation checks "in the future" against; every generated date is before it.
pub const TODAY: &str = "2026-11-23";

/// Index dates: month ends, a leap day, a year's first and last days.
const INDEX_DATES: &[&str] = &[
    "2025-03-31",
    "2024-02-29",
    "2025-01-01",
    "2024-12-31",
    "2026-03-01",
    "2025-07-15",
];

/// Offsets from the index date on the windows' edges (catalogue windows
/// -182d, -365d, -730d and the index date itself).
const EDGES: &[i64] = &[
    0, -1, 1, 2, -181, -182, -183, -364, -365, -366, -729, -730, -731,
];

fn offset() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => proptest::sample::select(EDGES),
        1 => -800i64..=30,
    ]
}

/// One event of a person, as offsets; turned into rows by [`materialise`].
#[derive(Debug, Clone)]
pub enum Event {
    Encounter {
        setting: usize,
        start: i64,
        /// Days from start to end; `None` = no end date.
        length: Option<i64>,
        emergency: bool,
        cost_pence: Option<i64>,
    },
    Diagnosis {
        at: i64,
        code: Code,
    },
    Medication {
        at: i64,
        substance: usize,
        presentation: usize,
        /// How the row is coded: [`MedicineForm`].
        form: MedicineForm,
    },
    Observation {
        at: i64,
        code: Code,
        value: Option<i32>,
    },
    SocialCare {
        start: i64,
        length: Option<i64>,
        service: usize,
        weekly: Option<i64>,
    },
}

/// How a medications row is coded (docs/data-contract.md, "medications").
#[derive(Debug, Clone, Copy)]
pub enum MedicineForm {
    /// `bnf_code` only (the old form).
    Bnf,
    /// `code_system` bnf and the BNF code as `code`.
    CodedBnf,
    /// `code_system` dmd: [`dmd_code`] of the substance and presentation.
    Dmd,
    /// `code_system` rxnorm: [`rxnorm_code`].
    Rxnorm,
    /// A `bnf_code` and, beside it, the dm+d code of the next substance
    /// (the BNF code must win).
    BnfAndDmd,
}

fn medicine_form() -> impl Strategy<Value = MedicineForm> {
    prop_oneof![
        6 => Just(MedicineForm::Bnf),
        1 => Just(MedicineForm::CodedBnf),
        3 => Just(MedicineForm::Dmd),
        1 => Just(MedicineForm::Rxnorm),
        1 => Just(MedicineForm::BnfAndDmd),
    ]
}

/// A made-up dm+d code (9 digits) for a substance's presentation.
pub fn dmd_code(substance: usize, presentation: usize) -> String {
    (320_000_000 + substance * 10 + presentation).to_string()
}

/// A made-up RxNorm concept id (6 digits) for a substance's presentation.
fn rxnorm_code(substance: usize, presentation: usize) -> String {
    (100_000 + substance * 10 + presentation).to_string()
}

/// The dm+d → BNF map a case may run with: the dm+d codes of the
/// even-numbered substances (the others count by product code).
fn dmd_bnf_map() -> Vec<(String, String)> {
    (0..SUBSTANCES.len())
        .step_by(2)
        .flat_map(|s| {
            (0..PRESENTATIONS.len()).map(move |p| {
                (
                    dmd_code(s, p),
                    format!("{}{}", SUBSTANCES[s], PRESENTATIONS[p]),
                )
            })
        })
        .collect()
}

/// A code as drawn: which pool, which entry, how it is written.
#[derive(Debug, Clone)]
pub enum Code {
    /// An ICD-10 prefix from a list (index into the pool), an optional extra
    /// digit and a way of writing it (see [`write_icd10`]).
    Icd10 {
        entry: usize,
        digit: Option<u8>,
        form: u8,
    },
    /// A concept from the pool, optionally with spaces around it.
    Snomed(usize, bool),
}

const SETTINGS: &[&str] = &[
    "gp",
    "inpatient",
    "emergency_department",
    "outpatient",
    "community",
    "mental_health",
];
const SERVICES: &[&str] = &[
    "residential",
    "nursing",
    "home_care",
    "day_care",
    "direct_payment",
    "reablement",
    "other",
];
/// Twelve BNF chemical substances (9 characters), so polypharmacy ≥ 10
/// happens, then five items of the BNF chapters that hold no medicines (18
/// diagnosis, 19 other preparations, 20 dressings, 21 appliances, 23 stoma).
const SUBSTANCES: &[&str] = &[
    "0501013B0",
    "0212000B0",
    "0401020K0",
    "0205051R0",
    "0206020A0",
    "0601022B0",
    "0103050P0",
    "0407010H0",
    "0403030E0",
    "0208020Z0",
    "0209000A0",
    "0602010V0",
    "200300000",
    "210109004",
    "180300000",
    "190400000",
    "230506005",
];
const PRESENTATIONS: &[&str] = &["AAABAB", "AAAHAH", "BBACAC"];

/// ICD-10 codes to draw from: every prefix of the Charlson, Elixhauser, HFRS
/// and LTC lists, and a few codes in none of them.
fn icd10_pool() -> &'static Vec<String> {
    static POOL: OnceLock<Vec<String>> = OnceLock::new();
    POOL.get_or_init(|| {
        let l = lists();
        let mut pool: Vec<String> = ["Z00", "A09", "R69", "S72", "J40"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        pool.extend(l.charlson.prefixes.iter().flatten().cloned());
        pool.extend(l.elixhauser.prefixes.iter().flatten().cloned());
        pool.extend(l.hfrs.iter().map(|(g, _)| g.clone()));
        pool.extend(l.ltc_icd10.values().flatten().cloned());
        pool.sort();
        pool.dedup();
        pool
    })
}

/// SNOMED CT concepts: LTC and eFI concepts, every 40th concept of the
/// Charlson and Elixhauser lists (and the first of each category), and two
/// in no list.
fn snomed_pool() -> &'static Vec<String> {
    static POOL: OnceLock<Vec<String>> = OnceLock::new();
    POOL.get_or_init(|| {
        let l = lists();
        let mut pool: Vec<String> = vec!["22298006".into(), "271737000".into()];
        pool.extend(l.ltc_snomed.keys().cloned());
        pool.extend(l.efi.keys().cloned());
        for map in [&l.charlson_snomed, &l.elixhauser_snomed] {
            let mut seen = BTreeSet::new();
            for (i, (code, categories)) in map.iter().enumerate() {
                if i % 40 == 0 || categories.iter().any(|c| seen.insert(*c)) {
                    pool.push(code.clone());
                }
            }
        }
        pool.sort();
        pool.dedup();
        pool
    })
}

/// One SNOMED concept per eFI deficit: a frail person's codes.
fn efi_representatives() -> &'static Vec<usize> {
    static POOL: OnceLock<Vec<usize>> = OnceLock::new();
    POOL.get_or_init(|| {
        let pool = snomed_pool();
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for (code, deficits) in &lists().efi {
            if deficits.iter().any(|d| seen.insert(d.clone())) {
                out.push(pool.binary_search(code).expect("in the pool"));
            }
        }
        out
    })
}

/// An ICD-10 code written in one of the forms the contract accepts:
/// plain, with a dot, lower case, with an `X` or `-` filler, dagger,
/// asterisk, or with spaces inside or around it.
fn write_icd10(prefix: &str, digit: Option<u8>, form: u8) -> String {
    let code = match digit {
        Some(d) if prefix.len() == 3 => format!("{prefix}{d}"),
        _ => prefix.to_string(),
    };
    let dotted = if code.len() > 3 {
        format!("{}.{}", &code[..3], &code[3..])
    } else {
        code.clone()
    };
    match form % 10 {
        0 => code,
        1 => dotted,
        2 => dotted.to_lowercase(),
        3 if code.len() == 3 => format!("{code}X"),
        3 => format!("{dotted}X"),
        4 if code.len() == 3 => format!("{code}-"),
        4 => code,
        5 => format!("{dotted}\u{2020}"),
        6 => format!("{dotted}*"),
        7 => format!("{code}+"),
        8 if code.len() > 3 => format!("{} {}", &code[..3], &code[3..]),
        8 => format!(" {code}"),
        _ => format!("{dotted} "),
    }
}

fn icd10() -> impl Strategy<Value = Code> {
    (
        0..icd10_pool().len(),
        proptest::option::of(0u8..10),
        0u8..10,
    )
        .prop_map(|(entry, digit, form)| Code::Icd10 { entry, digit, form })
}

fn code() -> impl Strategy<Value = Code> {
    prop_oneof![
        icd10(),
        (0..snomed_pool().len(), proptest::bool::weighted(0.1))
            .prop_map(|(i, padded)| Code::Snomed(i, padded)),
    ]
}

fn length() -> impl Strategy<Value = Option<i64>> {
    proptest::option::weighted(
        0.8,
        prop_oneof![
            3 => 0i64..=3,
            1 => 0i64..=400,
        ],
    )
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => (
            0..SETTINGS.len(),
            offset(),
            length(),
            any::<bool>(),
            proptest::option::of(0i64..500_000),
        )
            .prop_map(|(setting, start, length, emergency, cost_pence)| Event::Encounter {
                setting: if setting >= 4 { 1 } else { setting }, // inpatient more often
                start,
                length,
                emergency,
                cost_pence,
            }),
        3 => (offset(), code()).prop_map(|(at, code)| Event::Diagnosis { at, code }),
        2 => (
            offset(),
            0..SUBSTANCES.len(),
            0..PRESENTATIONS.len(),
            medicine_form()
        )
            .prop_map(|(at, substance, presentation, form)| Event::Medication {
                at,
                substance,
                presentation,
                form,
            }),
        1 => (offset(), code(), proptest::option::of(-5i32..200))
            .prop_map(|(at, code, value)| Event::Observation { at, code, value }),
        2 => (
            offset(),
            length(),
            0..SERVICES.len(),
            proptest::option::of(0i64..2_000),
        )
            .prop_map(|(start, length, service, weekly)| Event::SocialCare {
                start,
                length,
                service,
                weekly,
            }),
    ]
}

/// A frail person's events: SNOMED concepts of distinct eFI deficits.
fn frail_event() -> impl Strategy<Value = Event> {
    (offset(), 0..efi_representatives().len(), any::<bool>()).prop_map(|(at, i, observed)| {
        let code = Code::Snomed(efi_representatives()[i], false);
        if observed {
            Event::Observation {
                at,
                code,
                value: None,
            }
        } else {
            Event::Diagnosis { at, code }
        }
    })
}

/// Someone on many medicines: substances 0..n, one prescription each, most
/// of them in the 12 months (so both polypharmacy thresholds are crossed).
fn polypharmacy() -> impl Strategy<Value = Vec<Event>> {
    (
        4usize..=SUBSTANCES.len(),
        proptest::collection::vec(
            (
                prop_oneof![3 => -364i64..=0, 1 => offset()],
                0..PRESENTATIONS.len(),
                medicine_form(),
            ),
            SUBSTANCES.len(),
        ),
    )
        .prop_map(|(n, draws)| {
            draws
                .into_iter()
                .take(n)
                .enumerate()
                .map(|(substance, (at, presentation, form))| Event::Medication {
                    at,
                    substance,
                    presentation,
                    form,
                })
                .collect()
        })
}

/// A person as drawn, dates as offsets from the index date.
#[derive(Debug, Clone)]
pub struct PersonSpec {
    /// Age in whole years at the index date, then a shift of the birth date.
    years: u32,
    birth_shift: i64,
    /// Registration, days from the index date.
    registered: i64,
    death: Option<i64>,
    sex: usize,
    ethnicity: Option<usize>,
    lsoa: usize,
    practice: bool,
    pcn: bool,
    opt_out: (bool, bool),
    events: Vec<Event>,
    /// Events repeated verbatim (duplicates), by position.
    repeats: Vec<usize>,
}

pub fn person() -> impl Strategy<Value = PersonSpec> {
    let events = prop_oneof![
        6 => proptest::collection::vec(event(), 0..=15),
        1 => proptest::collection::vec(frail_event(), 4..=15),
        1 => polypharmacy(),
    ];
    (
        (
            // 64-65: either side of the age the eFI is reported from.
            prop_oneof![3 => 0u32..100, 1 => Just(0u32), 1 => 80u32..110, 1 => 64u32..=65],
            prop_oneof![3 => Just(0i64), 1 => -1i64..=1, 1 => 0i64..365],
            prop_oneof![
                1 => Just(0i64),
                1 => Just(1i64),
                1 => -2000i64..=10,
                1 => Just(-20_000i64),
            ],
            proptest::option::weighted(
                0.25,
                prop_oneof![Just(0i64), Just(-1i64), Just(1i64), -400i64..30],
            ),
        ),
        (
            0usize..4,
            proptest::option::of(0usize..17),
            0usize..4,
            any::<bool>(),
            any::<bool>(),
            (any::<bool>(), any::<bool>()),
        ),
        events,
        proptest::collection::vec(0usize..15, 0..3),
    )
        .prop_map(
            |(
                (years, birth_shift, registered, death),
                (sex, ethnicity, lsoa, practice, pcn, opt_out),
                events,
                repeats,
            )| PersonSpec {
                years,
                birth_shift,
                registered,
                death,
                sex,
                ethnicity,
                lsoa,
                practice,
                pcn,
                opt_out,
                events,
                repeats,
            },
        )
}

/// A case: an index date and independent sub-extracts of 1–12 people each.
#[derive(Debug, Clone)]
pub struct Case {
    pub index: NaiveDate,
    pub extracts: Vec<Vec<PersonSpec>>,
    /// An optional table left out of the extract altogether, rows and file
    /// (a GP-only extract has no `social_care`): 0 diagnoses, 1 medications,
    /// 2 observations, 3 social care.
    pub without: Option<u8>,
    /// [`Rows::spelling`].
    pub spelling: u8,
    /// The run is given the dm+d → BNF map ([`dmd_bnf_map`]).
    pub dmd_map: bool,
}

pub fn case(sub_extracts: usize) -> impl Strategy<Value = Case> {
    (
        proptest::sample::select(INDEX_DATES),
        proptest::collection::vec(proptest::collection::vec(person(), 1..=12), sub_extracts),
        proptest::option::weighted(0.2, 0u8..4),
        prop_oneof![3 => Just(0u8), 1 => 1u8..4],
        any::<bool>(),
    )
        .prop_map(|(index, extracts, without, spelling, dmd_map)| Case {
            index: index.parse().expect("index date"),
            extracts,
            without,
            spelling,
            dmd_map,
        })
}

const ETHNICITY: &[&str] = &[
    "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z",
];
/// Two LSOAs in the IMD table, one not in it; index 3 = no LSOA.
const LSOAS: &[&str] = &["E01000001", "E01000002", "E01099999"];

fn day(index: NaiveDate, offset: i64) -> NaiveDate {
    index + Duration::days(offset)
}

/// The rows of a case: sub-extract `s`, person `i` is `s{s}p{i}`. People of
/// different sub-extracts share no rows, and every feature is per person, so
/// one extract of all of them is the same test as one extract each.
pub fn materialise(case: &Case) -> Rows {
    let index = case.index;
    let today: NaiveDate = TODAY.parse().expect("today");
    let mut rows = Rows {
        diagnoses: Some(Vec::new()),
        medications: Some(Vec::new()),
        observations: Some(Vec::new()),
        social_care: Some(Vec::new()),
        lsoa_imd: vec![
            LsoaImd {
                lsoa: "E01000001",
                imd_decile: 1,
            },
            LsoaImd {
                lsoa: "E01000002",
                imd_decile: 10,
            },
        ],
        spelling: case.spelling,
        dmd_bnf: if case.dmd_map {
            dmd_bnf_map()
        } else {
            Vec::new()
        },
        ..Rows::default()
    };
    let mut encounter = 0;
    for (s, people) in case.extracts.iter().enumerate() {
        for (i, spec) in people.iter().enumerate() {
            let id = format!("s{s}p{i}");
            let birth = index
                .checked_sub_months(Months::new(12 * spec.years))
                .expect("birth")
                - Duration::days(spec.birth_shift);
            let birth = birth.min(today);
            // Registration and death not before birth, death not before
            // registration (rules the validator enforces).
            let registered = day(index, spec.registered).max(birth);
            let death = spec
                .death
                .map(|o| day(index, o))
                .filter(|d| *d >= registered && *d <= today);
            rows.patients.push(Patient {
                person_id: id.clone(),
                date_of_birth: birth,
                sex: ["F", "M", "I", "U"][spec.sex],
                ethnicity: spec.ethnicity.map(|e| ETHNICITY[e]),
                lsoa: LSOAS.get(spec.lsoa).copied(),
                practice_code: if spec.practice { "A81001" } else { "B82002" },
                pcn_code: spec.pcn.then_some("PCN1"),
                registered_from: registered,
                date_of_death: death,
                opt_out_national: spec.opt_out.0,
                opt_out_type1: spec.opt_out.1,
            });
            // A date is possible when it is in the person's life and not in the future.
            let possible = |d: NaiveDate| d >= birth && death.is_none_or(|x| d <= x) && d <= today;
            let mut events = spec.events.clone();
            for &r in &spec.repeats {
                if !events.is_empty() {
                    events.push(events[r % events.len()].clone());
                }
            }
            for e in events {
                match e {
                    Event::Encounter {
                        setting,
                        start,
                        length,
                        emergency,
                        cost_pence,
                    } => {
                        let start = day(index, start);
                        let end = length.map(|l| start + Duration::days(l));
                        if possible(start) && end.is_none_or(possible) {
                            encounter += 1;
                            rows.encounters.push(Encounter {
                                person_id: id.clone(),
                                encounter_id: format!("e{encounter}"),
                                setting: SETTINGS[setting],
                                start_date: start,
                                end_date: end,
                                emergency,
                                cost_pence,
                            });
                        }
                    }
                    Event::Diagnosis { at, code } => {
                        let (code_system, code) = write(&code);
                        if possible(day(index, at)) {
                            rows.diagnoses.as_mut().expect("table").push(Diagnosis {
                                person_id: id.clone(),
                                date: day(index, at),
                                code_system,
                                code,
                                encounter_id: None,
                            });
                        }
                    }
                    Event::Medication {
                        at,
                        substance,
                        presentation,
                        form,
                    } => {
                        if possible(day(index, at)) {
                            let bnf =
                                format!("{}{}", SUBSTANCES[substance], PRESENTATIONS[presentation]);
                            let (bnf_code, code_system, code) = match form {
                                MedicineForm::Bnf => (Some(bnf), None, None),
                                MedicineForm::CodedBnf => (None, Some("bnf"), Some(bnf)),
                                MedicineForm::Dmd => {
                                    (None, Some("dmd"), Some(dmd_code(substance, presentation)))
                                }
                                MedicineForm::Rxnorm => (
                                    None,
                                    Some("rxnorm"),
                                    Some(rxnorm_code(substance, presentation)),
                                ),
                                MedicineForm::BnfAndDmd => (
                                    Some(bnf),
                                    Some("dmd"),
                                    Some(dmd_code(
                                        (substance + 1) % SUBSTANCES.len(),
                                        presentation,
                                    )),
                                ),
                            };
                            rows.medications.as_mut().expect("table").push(Medication {
                                person_id: id.clone(),
                                date: day(index, at),
                                bnf_code,
                                code_system,
                                code,
                            });
                        }
                    }
                    Event::Observation { at, code, value } => {
                        let (code_system, code) = write(&code);
                        if possible(day(index, at)) {
                            rows.observations
                                .as_mut()
                                .expect("table")
                                .push(Observation {
                                    person_id: id.clone(),
                                    date: day(index, at),
                                    code_system,
                                    code,
                                    value: value.map(|v| f64::from(v) / 2.0),
                                    unit: value.map(|_| "kg"),
                                });
                        }
                    }
                    Event::SocialCare {
                        start,
                        length,
                        service,
                        weekly,
                    } => {
                        let start = day(index, start);
                        let end = length.map(|l| start + Duration::days(l));
                        if possible(start) && end.is_none_or(possible) {
                            rows.social_care.as_mut().expect("table").push(SocialCare {
                                person_id: id.clone(),
                                start_date: start,
                                end_date: end,
                                service_type: SERVICES[service],
                                weekly_cost_gbp: weekly,
                            });
                        }
                    }
                }
            }
        }
    }
    match case.without {
        Some(0) => rows.diagnoses = None,
        Some(1) => rows.medications = None,
        Some(2) => rows.observations = None,
        Some(_) => rows.social_care = None,
        None => {}
    }
    rows
}

fn write(code: &Code) -> (&'static str, String) {
    match code {
        Code::Icd10 { entry, digit, form } => {
            ("icd10", write_icd10(&icd10_pool()[*entry], *digit, *form))
        }
        Code::Snomed(i, false) => ("snomed", snomed_pool()[*i].clone()),
        Code::Snomed(i, true) => ("snomed", format!(" {} ", snomed_pool()[*i])),
    }
}
