//! CDM rows → contract rows, as Polars plans (docs/omop.md maps every field).
//!
//! Each function takes scanned CDM tables (text columns) and returns a plan
//! with the contract table's columns, the source row number ([`ROW`]) and,
//! for a row that gives nothing or gives a row with a caveat, its kind and
//! reason ([`KIND`], [`REASON`]). `mod.rs` counts those and writes the rest.

use polars::prelude::*;

use super::locate::{ROW, Scanned};

/// Why a row gives no contract row (or a caveat on the row it gives).
pub const REASON: &str = "__reason";
/// `rejected` (bad input), `dropped` (a documented rule) or `noted` (kept).
pub const KIND: &str = "__kind";
pub const REJECTED: &str = "rejected";
pub const DROPPED: &str = "dropped";
pub const NOTED: &str = "noted";
/// True on rows whose person is in the converted `person` table.
pub const KNOWN: &str = "__known";

// Concept ids (OMOP standard vocabulary), see docs/omop.md.
pub const MALE: &str = "8507";
pub const FEMALE: &str = "8532";
pub const INPATIENT_VISIT: &str = "9201";
pub const OUTPATIENT_VISIT: &str = "9202";
pub const ER_VISIT: &str = "9203";
pub const ER_AND_INPATIENT_VISIT: &str = "262";
pub const HOME_VISIT: &str = "581476";
pub const OFFICE_VISIT: &str = "581477";
/// Place of service "Emergency Room - Hospital" (admitted_from_concept_id).
pub const ADMITTED_FROM_ER: &str = "8870";

/// True where the text satisfies `test` (false on null).
fn matches(e: Expr, test: fn(&str) -> bool) -> Expr {
    e.map(
        move |c: Column| {
            let out: BooleanChunked = c.str()?.iter().map(|v| Some(v.is_some_and(test))).collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, f| Ok(Field::new(f.name().clone(), DataType::Boolean)),
    )
}

/// `YYYY-MM-DD` from year, month and day text (month and day default to
/// 1), null unless all three are whole numbers.
fn ymd(year: Expr, month: Expr, day: Expr) -> Expr {
    year.map_many(
        |cols: &mut [Column]| {
            // A column the file lacks arrives as one null: widen it.
            let n = cols.iter().map(Column::len).max().unwrap_or(0);
            for c in cols.iter_mut() {
                if c.len() != n {
                    *c = c.new_from_index(0, n);
                }
            }
            let y = cols[0].str()?;
            let m = cols[1].str()?;
            let d = cols[2].str()?;
            let out: StringChunked = y
                .iter()
                .zip(m.iter())
                .zip(d.iter())
                .map(|((y, m), d)| {
                    let y: i32 = y?.parse().ok()?;
                    let m: u32 = m.map_or(Some(1), |m| m.parse().ok())?;
                    let d: u32 = d.map_or(Some(1), |d| d.parse().ok())?;
                    Some(format!("{y:04}-{m:02}-{d:02}"))
                })
                .collect();
            Ok(out.with_name(cols[0].name().clone()).into_column())
        },
        &[month, day],
        |_, f| Ok(Field::new(f[0].name().clone(), DataType::String)),
    )
}

/// A pattern's test: ICD-10 as written in the UK (a letter, two digits,
/// optionally a dot and up to four more characters, e.g. `I21`, `I21.4`,
/// `I214`, `F00.0*`).
pub fn is_icd10(v: &str) -> bool {
    let b = v.trim().as_bytes();
    if b.len() < 3 || !b[0].is_ascii_uppercase() || !b[1].is_ascii_digit() || !b[2].is_ascii_digit()
    {
        return false;
    }
    let mut rest = &b[3..];
    if let Some(r) = rest.strip_prefix(b".") {
        rest = r;
    }
    if let Some(r) = rest.strip_suffix(b"*").or_else(|| rest.strip_suffix(b"+")) {
        rest = r;
    }
    rest.len() <= 4
        && rest
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

/// A SNOMED CT identifier: 6 to 18 digits.
pub fn is_snomed(v: &str) -> bool {
    (6..=18).contains(&v.len()) && v.bytes().all(|c| c.is_ascii_digit())
}

/// A BNF code: 9 to 15 characters, the first seven digits (chapter,
/// section, paragraph, sub-paragraph), then digits or upper-case letters,
/// with at least one letter (dm+d and SNOMED CT codes are all digits).
pub fn is_bnf(v: &str) -> bool {
    let b = v.as_bytes();
    (9..=15).contains(&b.len())
        && b[..7].iter().all(u8::is_ascii_digit)
        && b[7..]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && b.iter().any(u8::is_ascii_uppercase)
}

/// An LSOA 2021 code: England (E01) or Wales (W01) and six digits.
pub fn is_lsoa(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 9
        && (b.starts_with(b"E01") || b.starts_with(b"W01"))
        && b[3..].iter().all(u8::is_ascii_digit)
}

/// The SUS admission method of an emergency admission (NHS Data Dictionary
/// ADMISSION METHOD 21-25, 2A-2D and legacy 28), alone or as `admimeth=XX`
/// / `admission_method:XX` (key in any case).
pub fn is_emergency_method(v: &str) -> bool {
    let lower = v.trim().to_ascii_lowercase();
    let code = ["admimeth", "admission_method"]
        .iter()
        .find_map(|k| lower.strip_prefix(k))
        .map(|r| r.trim_start().trim_start_matches(['=', ':']).trim_start())
        .unwrap_or(&lower);
    matches!(
        code,
        "21" | "22" | "23" | "24" | "25" | "2a" | "2b" | "2c" | "2d" | "28"
    )
}

/// An NHS ethnic category letter (Data Dictionary ETHNIC CATEGORY).
pub fn is_ethnic_category(v: &str) -> bool {
    v.len() == 1 && crate::contract::ETHNICITY_CODES.contains(&v)
}

/// Ten digits (an NHS number, checked for its check digit after mapping).
fn is_ten_digits(v: &str) -> bool {
    v.len() == 10 && v.bytes().all(|c| c.is_ascii_digit())
}

/// A date from text: the first ten characters as `YYYY-MM-DD` (so a
/// datetime's date), null when that does not parse.
pub fn date(e: Expr) -> Expr {
    e.str()
        .slice(lit(0), lit(10))
        .str()
        .to_date(StrptimeOptions {
            format: Some("%Y-%m-%d".into()),
            strict: false,
            exact: true,
            cache: true,
        })
}

/// Null text, or text that gives no date.
fn bad_date(raw: Expr) -> Expr {
    raw.clone().is_not_null().and(date(raw).is_null())
}

/// A left join that keeps the left frame's row order (results never depend
/// on hash-table iteration order).
pub fn left_join() -> JoinArgs {
    let mut args = JoinArgs::new(JoinType::Left);
    args.maintain_order = MaintainOrderJoin::Left;
    args
}

fn text(s: &str) -> Expr {
    lit(s.to_string())
}

fn null_text() -> Expr {
    lit(NULL).cast(DataType::String)
}

/// The first matching rule's kind and reason, as two columns.
fn classify(rules: Vec<(Expr, &str, &str)>) -> [Expr; 2] {
    let mut kind = null_text();
    let mut reason = null_text();
    for (cond, k, r) in rules.into_iter().rev() {
        kind = when(cond.clone()).then(text(k)).otherwise(kind);
        reason = when(cond).then(text(r)).otherwise(reason);
    }
    [kind.alias(KIND), reason.alias(REASON)]
}

/// `lf` with `{prefix}_vocabulary` and `{prefix}_code` of the concept in
/// column `key` (null without a concept table or match).
pub fn with_concept(
    lf: LazyFrame,
    key: &str,
    prefix: &str,
    concepts: Option<&LazyFrame>,
) -> LazyFrame {
    let vocab = format!("{prefix}_vocabulary");
    let code = format!("{prefix}_code");
    match concepts {
        Some(c) => lf.join(
            c.clone().select([
                col("concept_id").alias(key),
                col("vocabulary_id").alias(vocab.as_str()),
                col("concept_code").alias(code.as_str()),
            ]),
            [col(key)],
            [col(key)],
            left_join(),
        ),
        None => lf.with_columns([
            null_text().alias(vocab.as_str()),
            null_text().alias(code.as_str()),
        ]),
    }
}

/// The concept table's columns strata uses (text).
pub fn concepts(t: &Scanned) -> LazyFrame {
    t.lf.clone()
        .select([
            t.text("concept_id").alias("concept_id"),
            t.text("vocabulary_id").alias("vocabulary_id"),
            t.text("concept_code").alias("concept_code"),
        ])
        .filter(col("concept_id").is_not_null())
        .unique(Some(cols(["concept_id"])), UniqueKeepStrategy::First)
}

/// `lf` with [`KNOWN`]: whether its `person_id` is a converted person.
pub fn with_known(lf: LazyFrame, people: &LazyFrame) -> LazyFrame {
    lf.join(
        people
            .clone()
            .select([col("person_id"), lit(true).alias(KNOWN)]),
        [col("person_id")],
        [col("person_id")],
        left_join(),
    )
    .with_column(col(KNOWN).fill_null(lit(false)))
}

/// `person` (+ `location`, `care_site`): the patient columns known from the
/// person table alone (`registered_from` and `date_of_death` are added from
/// `observation_period` and `death` once those are read).
pub fn person(t: &Scanned, location: Option<&Scanned>, care_site: Option<&Scanned>) -> LazyFrame {
    let birth_from_parts = ymd(
        t.text("year_of_birth"),
        t.text("month_of_birth"),
        t.text("day_of_birth"),
    );
    let birth_raw = when(t.text("birth_datetime").is_not_null())
        .then(t.text("birth_datetime"))
        .otherwise(birth_from_parts);
    let sex = when(t.text("gender_concept_id").eq(lit(MALE)))
        .then(text("M"))
        .when(t.text("gender_concept_id").eq(lit(FEMALE)))
        .then(text("F"))
        .otherwise(text("U"));
    let letter = |c: &str| t.text(c).str().to_uppercase();
    let ethnicity = when(matches(
        letter("ethnicity_source_value"),
        is_ethnic_category,
    ))
    .then(letter("ethnicity_source_value"))
    .when(matches(letter("race_source_value"), is_ethnic_category))
    .then(letter("race_source_value"))
    .otherwise(text("Z"));
    let nhs = when(matches(t.text("person_source_value"), is_ten_digits))
        .then(t.text("person_source_value"))
        .otherwise(null_text());

    let mut lf = t.lf.clone().select([
        col(ROW),
        t.text("person_id").alias("person_id"),
        nhs.alias("nhs_number"),
        birth_raw.alias("__birth_raw"),
        sex.alias("sex"),
        ethnicity.alias("ethnicity"),
        t.text("location_id").alias("location_id"),
        t.text("care_site_id").alias("care_site_id"),
    ]);
    lf = match location {
        Some(loc) => {
            let lsoa_of = |c: &str| {
                when(matches(loc.text(c), is_lsoa))
                    .then(loc.text(c))
                    .otherwise(null_text())
            };
            let lsoa = lsoa_of("location_source_value")
                .fill_null(lsoa_of("county"))
                .fill_null(lsoa_of("zip"));
            lf.join(
                loc.lf
                    .clone()
                    .select([
                        loc.text("location_id").alias("location_id"),
                        lsoa.alias("lsoa"),
                    ])
                    .filter(col("location_id").is_not_null())
                    .unique(Some(cols(["location_id"])), UniqueKeepStrategy::First),
                [col("location_id")],
                [col("location_id")],
                left_join(),
            )
        }
        None => lf.with_column(null_text().alias("lsoa")),
    };
    lf = match care_site {
        Some(cs) => lf.join(
            cs.lf
                .clone()
                .select([
                    cs.text("care_site_id").alias("care_site_id"),
                    cs.text("care_site_source_value").alias("practice_code"),
                ])
                .filter(col("care_site_id").is_not_null())
                .unique(Some(cols(["care_site_id"])), UniqueKeepStrategy::First),
            [col("care_site_id")],
            [col("care_site_id")],
            left_join(),
        ),
        None => lf.with_column(null_text().alias("practice_code")),
    };
    let birth = date(col("__birth_raw"));
    lf.with_columns([birth.clone().alias("date_of_birth")])
        .with_columns(classify(vec![
            (col("person_id").is_null(), REJECTED, "no person_id"),
            (
                col("date_of_birth").is_null(),
                REJECTED,
                "no date of birth, or one that is not a date",
            ),
            (
                col("practice_code").is_null(),
                REJECTED,
                "no practice (care_site_id with a care_site_source_value)",
            ),
        ]))
        .with_columns([
            null_text().alias("pcn_code"),
            lit(false).alias("opt_out_national"),
            lit(false).alias("opt_out_type1"),
        ])
}

/// Rows of a per-person table: the person must be known and `date_col`
/// must be a date.
fn person_rules(date_raw: Expr, date_name: &str) -> Vec<(Expr, &'static str, String)> {
    vec![
        (
            col("person_id").is_null().or(col(KNOWN).not()),
            REJECTED,
            "person_id not in the person table".to_string(),
        ),
        (
            date_raw.clone().is_null().or(bad_date(date_raw)),
            REJECTED,
            format!("no {date_name}, or one that is not a date"),
        ),
    ]
}

fn classify_owned(rules: Vec<(Expr, &'static str, String)>) -> [Expr; 2] {
    let mut kind = null_text();
    let mut reason = null_text();
    for (cond, k, r) in rules.into_iter().rev() {
        kind = when(cond.clone()).then(text(k)).otherwise(kind);
        reason = when(cond).then(lit(r)).otherwise(reason);
    }
    [kind.alias(KIND), reason.alias(REASON)]
}

/// `observation_period`: person_id and start date (end checked when given).
pub fn observation_period(t: &Scanned, people: &LazyFrame) -> LazyFrame {
    let lf = t.lf.clone().select([
        col(ROW),
        t.text("person_id").alias("person_id"),
        t.text("observation_period_start_date").alias("__start"),
        t.text("observation_period_end_date").alias("__end"),
    ]);
    let mut rules = person_rules(col("__start"), "observation_period_start_date");
    rules.push((
        bad_date(col("__end")),
        REJECTED,
        "observation_period_end_date is not a date".to_string(),
    ));
    with_known(lf, people)
        .with_columns(classify_owned(rules))
        .with_column(date(col("__start")).alias("registered_from"))
}

/// `death`: person_id and death_date.
pub fn death(t: &Scanned, people: &LazyFrame) -> LazyFrame {
    let lf = t.lf.clone().select([
        col(ROW),
        t.text("person_id").alias("person_id"),
        t.text("death_date").alias("__date"),
    ]);
    with_known(lf, people)
        .with_columns(classify_owned(person_rules(col("__date"), "death_date")))
        .with_column(date(col("__date")).alias("date_of_death"))
}

/// `visit_occurrence` (+ `cost`) → encounters.
pub fn visits(t: &Scanned, people: &LazyFrame, cost: Option<&Scanned>) -> LazyFrame {
    let concept = t.text("visit_concept_id");
    let source = t.text("visit_source_value");
    let lf = t.lf.clone().select([
        col(ROW),
        t.text("person_id").alias("person_id"),
        t.text("visit_occurrence_id").alias("encounter_id"),
        concept.clone().alias("__concept"),
        source.clone().alias("__source"),
        t.text("visit_start_date").alias("__start"),
        t.text("visit_end_date").alias("__end"),
        t.text("preceding_visit_occurrence_id").alias("__preceding"),
        t.text("admitted_from_concept_id").alias("__admitted_from"),
    ]);
    // The preceding visit's concept, from the same table.
    let preceding =
        t.lf.clone()
            .select([
                t.text("visit_occurrence_id").alias("__preceding"),
                t.text("visit_concept_id").alias("__preceding_concept"),
            ])
            .filter(col("__preceding").is_not_null())
            .unique(Some(cols(["__preceding"])), UniqueKeepStrategy::First);
    let lf = lf.join(
        preceding,
        [col("__preceding")],
        [col("__preceding")],
        left_join(),
    );
    let lf = match cost {
        Some(c) => {
            let visit_costs =
                c.lf.clone()
                    .filter(
                        c.text("cost_domain_id")
                            .str()
                            .to_lowercase()
                            .eq(lit("visit")),
                    )
                    .select([
                        c.text("cost_event_id").alias("encounter_id"),
                        c.text("total_cost").cast(DataType::Float64).alias("__cost"),
                    ])
                    .group_by([col("encounter_id")])
                    .agg([col("__cost").sum().alias("cost_gbp")]);
            lf.join(
                visit_costs,
                [col("encounter_id")],
                [col("encounter_id")],
                left_join(),
            )
        }
        None => lf.with_column(lit(NULL).cast(DataType::Float64).alias("cost_gbp")),
    };
    let c = col("__concept");
    let named_setting = col("__source").is_in(
        lit(Series::new(
            "settings".into(),
            crate::contract::SETTINGS.to_vec(),
        ))
        .implode(false),
        false,
    );
    let setting = when(c.clone().eq(lit(INPATIENT_VISIT)))
        .then(text("inpatient"))
        .when(c.clone().eq(lit(ER_AND_INPATIENT_VISIT)))
        .then(text("inpatient"))
        .when(c.clone().eq(lit(ER_VISIT)))
        .then(text("emergency_department"))
        .when(c.clone().eq(lit(OUTPATIENT_VISIT)))
        .then(text("outpatient"))
        .when(c.clone().eq(lit(OFFICE_VISIT)))
        .then(text("gp"))
        .when(c.clone().eq(lit(HOME_VISIT)))
        .then(text("community"))
        .when(named_setting.fill_null(lit(false)))
        .then(col("__source"))
        .otherwise(null_text());
    let emergency_admission = c.clone().eq(lit(ER_AND_INPATIENT_VISIT)).or(c
        .clone()
        .eq(lit(INPATIENT_VISIT))
        .and(
            col("__preceding_concept")
                .eq(lit(ER_VISIT))
                .fill_null(lit(false))
                .or(col("__admitted_from")
                    .eq(lit(ADMITTED_FROM_ER))
                    .fill_null(lit(false)))
                .or(matches(col("__source"), is_emergency_method)),
        ));
    let emergency = emergency_admission
        .or(c.eq(lit(ER_VISIT)))
        .fill_null(lit(false));
    let mut rules = person_rules(col("__start"), "visit_start_date");
    rules.insert(
        1,
        (
            col("encounter_id").is_null(),
            REJECTED,
            "no visit_occurrence_id".to_string(),
        ),
    );
    rules.push((
        bad_date(col("__end")),
        REJECTED,
        "visit_end_date is not a date".to_string(),
    ));
    rules.push((
        col("setting").is_null(),
        DROPPED,
        "visit_concept_id not mapped to a care setting (docs/omop.md)".to_string(),
    ));
    with_known(lf, people)
        .with_columns([
            setting.alias("setting"),
            emergency.alias("emergency"),
            date(col("__start")).alias("start_date"),
            date(col("__end")).alias("end_date"),
        ])
        .with_columns(classify_owned(rules))
}

/// The code of a coded row: from the concept (`std_` columns), the source
/// concept (`src_` columns) and the source value (`__source`), by the rules
/// of docs/omop.md. Gives `code_system`, `code` and whether the code came
/// from the source value alone (`__from_source`).
fn coded(icd10_first: bool) -> [Expr; 3] {
    let src_icd10 = col("src_vocabulary")
        .is_in(
            lit(Series::new("v".into(), ["ICD10", "ICD10CM"])).implode(false),
            false,
        )
        .fill_null(lit(false))
        .and(col("src_code").is_not_null());
    let value_icd10 = matches(col("__source").str().to_uppercase(), is_icd10);
    let std_snomed = col("std_vocabulary")
        .eq(lit("SNOMED"))
        .fill_null(lit(false))
        .and(col("std_code").is_not_null());
    let value_snomed = matches(col("__source"), is_snomed);
    let (mut system, mut code, mut from_source) = (null_text(), null_text(), lit(false));
    // Built last rule first.
    let mut rules: Vec<(Expr, &str, Expr, bool)> = vec![
        (std_snomed, "snomed", col("std_code"), false),
        (value_snomed, "snomed", col("__source"), true),
    ];
    if icd10_first {
        rules.insert(0, (src_icd10, "icd10", col("src_code"), false));
        rules.insert(
            1,
            (
                value_icd10,
                "icd10",
                col("__source").str().to_uppercase(),
                false,
            ),
        );
    }
    for (cond, s, c, f) in rules.into_iter().rev() {
        system = when(cond.clone()).then(text(s)).otherwise(system);
        code = when(cond.clone()).then(c).otherwise(code);
        from_source = when(cond).then(lit(f)).otherwise(from_source);
    }
    [
        system.alias("code_system"),
        code.alias("code"),
        from_source.alias("__from_source"),
    ]
}

/// `condition_occurrence` → diagnoses.
pub fn conditions(t: &Scanned, people: &LazyFrame, concepts: Option<&LazyFrame>) -> LazyFrame {
    let lf = t.lf.clone().select([
        col(ROW),
        t.text("person_id").alias("person_id"),
        t.text("condition_start_date").alias("__date"),
        t.text("condition_concept_id").alias("__std"),
        t.text("condition_source_concept_id").alias("__src"),
        t.text("condition_source_value").alias("__source"),
        t.text("visit_occurrence_id").alias("encounter_id"),
    ]);
    let lf = with_concept(lf, "__std", "std", concepts);
    let lf = with_concept(lf, "__src", "src", concepts);
    let mut rules = person_rules(col("__date"), "condition_start_date");
    rules.push((
        col("code").is_null(),
        DROPPED,
        "no ICD-10 or SNOMED CT code (source concept, source value or standard concept)"
            .to_string(),
    ));
    rules.push((
        col("__from_source"),
        NOTED,
        "SNOMED CT code taken from condition_source_value as given (no concept table match)"
            .to_string(),
    ));
    with_known(lf, people)
        .with_columns(coded(true))
        .with_column(date(col("__date")).alias("date"))
        .with_columns(classify_owned(rules))
}

/// `drug_exposure` → medications (`bnf_code`, and the coded form
/// `code_system` / `code`).
pub fn drugs(t: &Scanned, people: &LazyFrame, concepts: Option<&LazyFrame>) -> LazyFrame {
    let lf = t.lf.clone().select([
        col(ROW),
        t.text("person_id").alias("person_id"),
        t.text("drug_exposure_start_date").alias("__date"),
        t.text("drug_concept_id").alias("__std"),
        t.text("drug_source_value").alias("__source"),
    ]);
    let lf = with_concept(lf, "__std", "std", concepts);
    let source = col("__source").str().to_uppercase();
    let bnf = matches(source.clone(), is_bnf);
    let vocab = col("std_vocabulary");
    let system = when(
        vocab
            .clone()
            .is_in(
                lit(Series::new("v".into(), ["RxNorm", "RxNorm Extension"])).implode(false),
                false,
            )
            .fill_null(lit(false)),
    )
    .then(text("rxnorm"))
    .when(vocab.eq(lit("dm+d")).fill_null(lit(false)))
    .then(text("dmd"))
    .when(bnf.clone())
    .then(text("bnf"))
    .otherwise(null_text());
    let code = when(system.clone().eq(lit("bnf")))
        .then(source.clone())
        .otherwise(col("std_code"));
    let mut rules = person_rules(col("__date"), "drug_exposure_start_date");
    rules.push((
        col("bnf_code")
            .is_null()
            .and(col("code_system").is_null().or(col("code").is_null())),
        DROPPED,
        "no medicine code: no BNF code in drug_source_value and no RxNorm or dm+d concept"
            .to_string(),
    ));
    with_known(lf, people)
        .with_columns([
            system.alias("code_system"),
            code.alias("code"),
            when(bnf)
                .then(source)
                .otherwise(null_text())
                .alias("bnf_code"),
            date(col("__date")).alias("date"),
        ])
        .with_columns(classify_owned(rules))
}

/// `measurement` or `observation` (`domain`) → observations.
pub fn measurements(
    t: &Scanned,
    domain: &str,
    people: &LazyFrame,
    concepts: Option<&LazyFrame>,
) -> LazyFrame {
    let lf = t.lf.clone().select([
        col(ROW),
        t.text("person_id").alias("person_id"),
        t.text(&format!("{domain}_date")).alias("__date"),
        t.text(&format!("{domain}_concept_id")).alias("__std"),
        t.text(&format!("{domain}_source_value")).alias("__source"),
        t.text("value_as_number").alias("__value"),
        t.text("unit_source_value").alias("__unit"),
        t.text("unit_concept_id").alias("__unit_concept"),
    ]);
    let lf = with_concept(lf, "__std", "std", concepts);
    let lf = with_concept(lf, "__unit_concept", "unit", concepts);
    let value = col("__value").cast(DataType::Float64);
    let mut rules = person_rules(col("__date"), &format!("{domain}_date"));
    rules.push((
        col("__value")
            .is_not_null()
            .and(col("value").is_null().or(col("value").is_nan())),
        REJECTED,
        "value_as_number is not a number".to_string(),
    ));
    rules.push((
        col("code").is_null(),
        DROPPED,
        "no SNOMED CT code (standard concept or source value)".to_string(),
    ));
    rules.push((
        col("__from_source"),
        NOTED,
        "SNOMED CT code taken from the source value as given (no concept table match)".to_string(),
    ));
    with_known(lf, people)
        .with_columns(coded(false))
        .with_columns([
            date(col("__date")).alias("date"),
            value.alias("value"),
            col("__unit").fill_null(col("unit_code")).alias("unit"),
        ])
        .with_columns(classify_owned(rules))
}
