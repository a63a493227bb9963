//! Declarative feature specifications: TOML in, checked definitions out.
//!
//! A feature file holds `[[feature]]` entries. Each is checked against the
//! data contract before any data is read, and errors name the feature and the
//! key. The built-in catalogue (`src/features/builtin.toml`) is declared the
//! same way; users add features with `--features FILE`.
//!
//! ```toml
//! [[feature]]
//! name = "emergency_admissions_12m"
//! kind = "events"
//! table = "encounters"
//! where = { setting = "inpatient", emergency = true }
//! window = "-365d..0d"          # the 365 days ending on the index date
//! aggregate = "count"
//! description = "Emergency admissions in the 365 days ending on the index date."
//! ```

use std::collections::BTreeMap;

use crate::codelists::SpecError;
use crate::codelists::{CodeSystem, Codelist, Ltc};
use crate::contract::{self, ColumnType, TableSpec};

/// The compiled-in catalogue.
pub const BUILTIN_TOML: &str = include_str!("builtin.toml");

/// A feature file as written.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    feature: Vec<RawFeature>,
}

/// One `[[feature]]` entry as written; checked into a [`FeatureDef`].
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeature {
    name: String,
    kind: String,
    description: String,
    #[serde(default)]
    group: Option<String>,
    // person
    value: Option<String>,
    // events
    table: Option<String>,
    #[serde(rename = "where", default)]
    filters: BTreeMap<String, toml::Value>,
    window: Option<String>,
    /// A code-list CSV (path relative to the feature file) that the row's code must match.
    codelist: Option<String>,
    /// The code system of `codelist` (default: bnf for medications).
    code_system: Option<String>,
    aggregate: Option<String>,
    of: Option<String>,
    prefix: Option<usize>,
    // score
    score: Option<String>,
    // threshold
    feature: Option<String>,
    at_least: Option<f64>,
}

/// A window of days relative to the index date: days `index − start + 1 …
/// index − end`, both inclusive. `-365d..0d` is the 365 days ending on the
/// index date; consecutive windows (`-730d..-365d`, `-365d..0d`) tile without overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Window {
    /// Every event up to and including the index date.
    All,
    /// (index − `start` days, index − `end` days], with `start` > `end` ≥ 0.
    Days { start: i64, end: i64 },
}

impl Window {
    fn parse(text: &str) -> Result<Window, String> {
        if text == "all" {
            return Ok(Window::All);
        }
        let (a, b) = text
            .split_once("..")
            .ok_or_else(|| format!("window `{text}`: expected `all` or `-Nd..-Md`"))?;
        let days = |s: &str| -> Result<i64, String> {
            let n = s
                .trim()
                .strip_suffix('d')
                .ok_or_else(|| format!("window `{text}`: `{s}` should end in `d` (days)"))?;
            n.parse::<i64>()
                .map_err(|_| format!("window `{text}`: `{s}` is not a whole number of days"))
        };
        let (from, to) = (days(a)?, days(b)?);
        if from >= to || to > 0 {
            return Err(format!(
                "window `{text}`: expected a start before its end, both at or before the index date (e.g. -365d..0d)"
            ));
        }
        Ok(Window::Days {
            start: -from,
            end: -to,
        })
    }

    /// First and last day (inclusive) relative to `index`; `None` start = no lower bound.
    pub fn bounds(
        &self,
        index: chrono::NaiveDate,
    ) -> (Option<chrono::NaiveDate>, chrono::NaiveDate) {
        match *self {
            Window::All => (None, index),
            Window::Days { start, end } => (
                Some(index - chrono::Duration::days(start - 1)),
                index - chrono::Duration::days(end),
            ),
        }
    }

    /// Plain words for documentation.
    pub fn describe(&self) -> String {
        match *self {
            Window::All => "all history up to and including the index date".into(),
            Window::Days { start, end: 0 } => format!("the {start} days ending on the index date"),
            Window::Days { start, end } => {
                format!("days {} to {end} before the index date", start - 1)
            }
        }
    }
}

/// How events in a window become one value per person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Aggregate {
    /// Any matching event (bool).
    Exists,
    /// Number of matching events.
    Count,
    /// Number of distinct values of a column (optionally its first `prefix` characters).
    CountDistinct {
        column: String,
        prefix: Option<usize>,
    },
    Sum {
        column: String,
    },
    Min {
        column: String,
    },
    Max {
        column: String,
    },
    /// The value of a column at the latest matching event.
    Last {
        column: String,
    },
    /// Days from the latest matching event to the index date.
    DaysSinceLast,
    /// Days of the window covered by the rows' periods: start … end date,
    /// both inclusive; an open end runs to the window's last day.
    DaysCovered,
    /// Nights of the rows' periods beginning in the window, each counted on
    /// the day it begins (the midnight census): start … the day before the
    /// end date; an open end runs to the window's last day.
    Nights,
    /// A period covers the index date (bool).
    ActiveOnIndex,
}

/// A filter on an event table: the column equals one of the values.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum Filter {
    Text { column: String, any_of: Vec<String> },
    Bool { column: String, value: bool },
}

/// Rows whose code is in a user's code list (matched once per distinct code).
#[derive(Debug, Clone)]
pub struct CodeFilter {
    /// Where the list came from, for messages and the catalogue.
    pub origin: String,
    pub system: CodeSystem,
    pub list: std::sync::Arc<Codelist>,
}

impl PartialEq for CodeFilter {
    fn eq(&self, other: &Self) -> bool {
        self.origin == other.origin && self.system == other.system
    }
}

impl serde::Serialize for CodeFilter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{} ({})", self.origin, self.system.name()))
    }
}

/// The code column and code-system column (if any) of an event table.
pub fn code_columns(table: &str) -> Option<(&'static str, Option<&'static str>)> {
    match table {
        "diagnoses" | "observations" => Some(("code", Some("code_system"))),
        "medications" => Some(("bnf_code", None)),
        _ => None,
    }
}

/// A column derived from an event table's contract columns that features
/// may read: `medications.ingredient`, the ingredient each row counts as
/// (`contract::ingredient_key`: the BNF chemical substance where known,
/// else `dmd:<code>` / `rxnorm:<code>`). Features may also filter on the
/// derived flag `medications.medicine` (`contract::MEDICINE`).
pub fn derived_column(table: &TableSpec, column: &str) -> Option<&'static str> {
    (table.name == contract::MEDICATIONS.name && column == contract::INGREDIENT)
        .then_some(contract::INGREDIENT)
}

/// Values derived from the person rather than events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PersonValue {
    Age,
    AgeBand,
    Sex,
    ImdDecile,
    ImdQuintile,
    EthnicityGroup,
}

/// Scores computed by matching distinct codes against published lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Score {
    Charlson1987,
    CharlsonQuan2011,
    /// Elixhauser comorbidities (Quan 2005 coding) with van Walraven weights.
    ElixhauserVanWalraven,
    /// Hospital Frailty Risk Score (Gilbert et al. 2018).
    Hfrs,
    /// A long-term condition flag.
    #[serde(serialize_with = "serialize_ltc")]
    Ltc(Ltc),
    /// Number of long-term conditions.
    LtcCount,
    /// A metastatic solid tumour (the Charlson category, ICD-10 C77–C80).
    MetastaticCancer,
    /// Electronic Frailty Index (Clegg et al. 2016), 0–1.
    Efi,
    /// eFI category: fit, mild frailty, moderate frailty, severe frailty.
    EfiCategory,
}

fn serialize_ltc<S: serde::Serializer>(ltc: &Ltc, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(ltc.key())
}

impl Score {
    fn parse(text: &str) -> Option<Score> {
        Some(match text {
            "charlson_1987" => Score::Charlson1987,
            "charlson_quan_2011" => Score::CharlsonQuan2011,
            "elixhauser_van_walraven" => Score::ElixhauserVanWalraven,
            "hfrs" => Score::Hfrs,
            "ltc_count" => Score::LtcCount,
            "metastatic_cancer" => Score::MetastaticCancer,
            "efi" => Score::Efi,
            "efi_category" => Score::EfiCategory,
            other => Score::Ltc(Ltc::from_key(other.strip_prefix("ltc:")?)?),
        })
    }
}

/// A checked feature definition.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum FeatureKind {
    Person(PersonValue),
    Events {
        table: &'static str,
        filters: Vec<Filter>,
        /// Only rows whose code is in this list.
        codes: Option<CodeFilter>,
        window: Window,
        aggregate: Aggregate,
    },
    Score {
        score: Score,
        window: Window,
    },
    Threshold {
        feature: String,
        at_least: f64,
    },
}

/// One feature: its name, meaning and definition.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FeatureDef {
    pub name: String,
    pub description: String,
    /// A heading for the catalogue (e.g. "Utilisation").
    pub group: String,
    pub kind: FeatureKind,
}

/// Output type of a feature column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum FeatureType {
    /// i32, 0 when there are no events.
    Count,
    /// bool, false when there are no events.
    Flag,
    /// f64, may be null.
    Number,
    /// i32, may be null.
    Integer,
    /// text, may be null.
    Text,
}

impl FeatureType {
    /// The column's data type.
    pub fn data_type(self) -> &'static str {
        match self {
            FeatureType::Count | FeatureType::Integer => "i32",
            FeatureType::Flag => "bool",
            FeatureType::Number => "f64",
            FeatureType::Text => "string",
        }
    }
}

/// A feature's value for a person without the events (or codes) it reads.
/// [`super::derive_features`] fills missing values by this, and the
/// catalogue's type column says it, so the two cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenNone {
    /// 0 (counts; scores of an empty set of codes).
    Zero,
    /// false.
    False,
    /// A fixed text: the category of an empty set (`efi_category`: "fit").
    Text(&'static str),
    /// Null: unknown (no latest value, no value to sum, no LSOA match).
    Null,
    /// Read from a required column of `patients`: never missing.
    Never,
}

impl FeatureDef {
    /// What a person without events gets (see [`WhenNone`]).
    pub fn when_none(&self) -> WhenNone {
        match (&self.kind, self.output_type()) {
            (FeatureKind::Person(PersonValue::ImdDecile | PersonValue::ImdQuintile), _) => {
                WhenNone::Null
            }
            (FeatureKind::Person(_), _) => WhenNone::Never,
            // Null below 65 (codelists::EFI_MIN_AGE); a person of 65 or
            // over with no coded deficit has an eFI of 0, "fit" (scored, not filled).
            (
                FeatureKind::Score {
                    score: Score::Efi | Score::EfiCategory,
                    ..
                },
                _,
            ) => WhenNone::Null,
            (FeatureKind::Score { .. }, FeatureType::Number) => WhenNone::Zero,
            (_, FeatureType::Count) => WhenNone::Zero,
            (_, FeatureType::Flag) => WhenNone::False,
            _ => WhenNone::Null,
        }
    }

    /// The catalogue's type column: data type and value when there are no events.
    pub fn type_label(&self) -> String {
        let t = self.output_type().data_type();
        match self.when_none() {
            WhenNone::Zero => format!("{t} (0 if none)"),
            WhenNone::False => format!("{t} (false if none)"),
            WhenNone::Text(v) => format!("{t} (\"{v}\" if none)"),
            WhenNone::Null => format!("{t} (nullable)"),
            WhenNone::Never => format!("{t} (never null)"),
        }
    }
}

impl FeatureDef {
    /// The column type this feature produces.
    pub fn output_type(&self) -> FeatureType {
        match &self.kind {
            FeatureKind::Person(
                PersonValue::Age | PersonValue::ImdDecile | PersonValue::ImdQuintile,
            ) => FeatureType::Integer,
            FeatureKind::Person(_) => FeatureType::Text,
            FeatureKind::Events { aggregate, .. } => match aggregate {
                Aggregate::Exists | Aggregate::ActiveOnIndex => FeatureType::Flag,
                Aggregate::Count
                | Aggregate::CountDistinct { .. }
                | Aggregate::DaysCovered
                | Aggregate::Nights => FeatureType::Count,
                Aggregate::DaysSinceLast => FeatureType::Integer,
                Aggregate::Last { .. } => FeatureType::Text,
                Aggregate::Sum { .. } | Aggregate::Min { .. } | Aggregate::Max { .. } => {
                    FeatureType::Number
                }
            },
            FeatureKind::Score { score, .. } => match score {
                Score::Ltc(_) | Score::MetastaticCancer => FeatureType::Flag,
                Score::Hfrs | Score::Efi => FeatureType::Number,
                Score::EfiCategory => FeatureType::Text,
                _ => FeatureType::Count,
            },
            FeatureKind::Threshold { .. } => FeatureType::Flag,
        }
    }
}

/// Parses and checks a feature file. `known` holds features defined before
/// (the built-in catalogue), which thresholds may refer to.
/// Code lists named by features are read relative to `base` (the feature file's folder).
pub fn parse_features(
    text: &str,
    origin: &str,
    base: &std::path::Path,
    known: &[FeatureDef],
) -> Result<Vec<FeatureDef>, SpecError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| SpecError::Feature {
        feature: origin.to_string(),
        reason: e
            .to_string()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    })?;
    let mut out: Vec<FeatureDef> = Vec::new();
    for r in raw.feature {
        if known.iter().chain(&out).any(|f| f.name == r.name) {
            return Err(err(
                &r.name,
                "is defined twice; feature names must be unique",
            ));
        }
        let def = check(r, base, known, &out)?;
        out.push(def);
    }
    Ok(out)
}

/// The built-in catalogue.
pub fn builtin() -> Result<Vec<FeatureDef>, SpecError> {
    parse_features(
        BUILTIN_TOML,
        "built-in catalogue",
        std::path::Path::new("."),
        &[],
    )
}

fn err(feature: &str, reason: impl Into<String>) -> SpecError {
    SpecError::Feature {
        feature: feature.to_string(),
        reason: reason.into(),
    }
}

fn need<'a>(r: &'a RawFeature, value: &'a Option<String>, key: &str) -> Result<&'a str, SpecError> {
    value.as_deref().ok_or_else(|| {
        err(
            &r.name,
            format!("`{key}` is required for kind = \"{}\"", r.kind),
        )
    })
}

fn check(
    r: RawFeature,
    base: &std::path::Path,
    known: &[FeatureDef],
    earlier: &[FeatureDef],
) -> Result<FeatureDef, SpecError> {
    if r.name.is_empty()
        || !r
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(err(
            &r.name,
            "names use lower-case letters, digits and underscores",
        ));
    }
    let kind = match r.kind.as_str() {
        "person" => FeatureKind::Person(person_value(&r)?),
        "events" => events(&r, base)?,
        "score" => {
            let name = need(&r, &r.score, "score")?;
            let score = Score::parse(name).ok_or_else(|| {
                err(
                    &r.name,
                    format!(
                        "unknown score `{name}` (expected charlson_1987, charlson_quan_2011, elixhauser_van_walraven, hfrs, efi, efi_category, ltc_count, metastatic_cancer or ltc:<condition>)"
                    ),
                )
            })?;
            let window =
                Window::parse(r.window.as_deref().unwrap_or("all")).map_err(|e| err(&r.name, e))?;
            if let Window::Days { end, .. } = window
                && end != 0
            {
                return Err(err(
                    &r.name,
                    "a score's window must end on the index date (`all` or `-Nd..0d`)",
                ));
            }
            FeatureKind::Score { score, window }
        }
        "threshold" => {
            let feature = need(&r, &r.feature, "feature")?.to_string();
            if !known.iter().chain(earlier).any(|f| f.name == feature) {
                return Err(err(
                    &r.name,
                    format!("refers to feature `{feature}`, which is not defined before it"),
                ));
            }
            let at_least = r
                .at_least
                .ok_or_else(|| err(&r.name, "`at_least` is required for kind = \"threshold\""))?;
            FeatureKind::Threshold { feature, at_least }
        }
        other => {
            return Err(err(
                &r.name,
                format!("unknown kind `{other}` (expected person, events, score or threshold)"),
            ));
        }
    };
    Ok(FeatureDef {
        name: r.name,
        description: r.description,
        group: r.group.unwrap_or_else(|| "Other".into()),
        kind,
    })
}

fn person_value(r: &RawFeature) -> Result<PersonValue, SpecError> {
    Ok(match need(r, &r.value, "value")? {
        "age" => PersonValue::Age,
        "age_band" => PersonValue::AgeBand,
        "sex" => PersonValue::Sex,
        "imd_decile" => PersonValue::ImdDecile,
        "imd_quintile" => PersonValue::ImdQuintile,
        "ethnicity_group" => PersonValue::EthnicityGroup,
        other => {
            return Err(err(
                &r.name,
                format!(
                    "unknown person value `{other}` (expected age, age_band, sex, imd_decile, imd_quintile or ethnicity_group)"
                ),
            ));
        }
    })
}

fn events(r: &RawFeature, base: &std::path::Path) -> Result<FeatureKind, SpecError> {
    let table_name = need(r, &r.table, "table")?;
    let table: &'static TableSpec = contract::table(table_name)
        .filter(|t| t.per_person)
        .ok_or_else(|| {
            err(
                &r.name,
                format!("`table = \"{table_name}\"` is not an event table of the data contract"),
            )
        })?;
    let mut filters = Vec::new();
    for (column, value) in &r.filters {
        filters.push(filter(r, table, column, value)?);
    }
    let window = Window::parse(need(r, &r.window, "window")?).map_err(|e| err(&r.name, e))?;
    let column_of = |key: &str| -> Result<String, SpecError> {
        let c = need(r, &r.of, "of")?;
        table
            .column(c)
            .map(|spec| spec.name.to_string())
            .or_else(|| derived_column(table, c).map(str::to_string))
            .ok_or_else(|| {
                err(
                    &r.name,
                    format!(
                        "`of = \"{c}\"` is not a column of `{}` (needed by aggregate `{key}`)",
                        table.name
                    ),
                )
            })
    };
    let aggregate = match need(r, &r.aggregate, "aggregate")? {
        "exists" => Aggregate::Exists,
        "count" => Aggregate::Count,
        "count_distinct" => Aggregate::CountDistinct {
            column: column_of("count_distinct")?,
            prefix: r.prefix,
        },
        "sum" => Aggregate::Sum {
            column: number_column(r, table, column_of("sum")?)?,
        },
        "min" => Aggregate::Min {
            column: number_column(r, table, column_of("min")?)?,
        },
        "max" => Aggregate::Max {
            column: number_column(r, table, column_of("max")?)?,
        },
        "last" => Aggregate::Last {
            column: column_of("last")?,
        },
        "days_since_last" => Aggregate::DaysSinceLast,
        "days_covered" | "nights" | "active_on_index" if table.period.is_none() => {
            return Err(err(
                &r.name,
                format!(
                    "aggregate needs a table with start and end dates; `{}` has none",
                    table.name
                ),
            ));
        }
        "days_covered" => Aggregate::DaysCovered,
        "nights" => Aggregate::Nights,
        "active_on_index" => Aggregate::ActiveOnIndex,
        other => {
            return Err(err(
                &r.name,
                format!(
                    "unknown aggregate `{other}` (expected exists, count, count_distinct, sum, min, max, last, days_since_last, days_covered, nights or active_on_index)"
                ),
            ));
        }
    };
    let codes = code_filter(r, table, base)?;
    Ok(FeatureKind::Events {
        table: table.name,
        filters,
        codes,
        window,
        aggregate,
    })
}

/// Loads the feature's `codelist`, if any, checking it suits the table.
fn code_filter(
    r: &RawFeature,
    table: &TableSpec,
    base: &std::path::Path,
) -> Result<Option<CodeFilter>, SpecError> {
    let Some(path) = r.codelist.as_deref() else {
        if r.code_system.is_some() {
            return Err(err(&r.name, "`code_system` is given without a `codelist`"));
        }
        return Ok(None);
    };
    let Some((_, system_column)) = code_columns(table.name) else {
        return Err(err(
            &r.name,
            format!("`codelist`: table `{}` has no code column", table.name),
        ));
    };
    let system = match (r.code_system.as_deref(), system_column) {
        (Some(s), _) => s.parse::<CodeSystem>().map_err(|e| err(&r.name, e.0))?,
        (None, None) => CodeSystem::Bnf,
        (None, Some(_)) => {
            return Err(err(
                &r.name,
                "`code_system` (icd10 or snomed) is required with a `codelist` on this table",
            ));
        }
    };
    if (system_column.is_none()) != (system == CodeSystem::Bnf) {
        return Err(err(
            &r.name,
            format!(
                "`code_system = \"{}\"` does not fit table `{}`",
                system.name(),
                table.name
            ),
        ));
    }
    let full = base.join(path);
    let list = Codelist::load(&full, system)?;
    Ok(Some(CodeFilter {
        origin: path.to_string(),
        system,
        list: std::sync::Arc::new(list),
    }))
}

fn number_column(r: &RawFeature, table: &TableSpec, column: String) -> Result<String, SpecError> {
    match table.column(&column).map(|c| c.ty) {
        Some(ColumnType::Number | ColumnType::Integer { .. }) => Ok(column),
        _ => Err(err(
            &r.name,
            format!(
                "`of = \"{column}\"` must be a numeric column of `{}`",
                table.name
            ),
        )),
    }
}

fn filter(
    r: &RawFeature,
    table: &TableSpec,
    column: &str,
    value: &toml::Value,
) -> Result<Filter, SpecError> {
    // The derived flag `medications.medicine` (contract::MEDICINE).
    if table.name == contract::MEDICATIONS.name && column == contract::MEDICINE {
        return match value {
            toml::Value::Boolean(b) => Ok(Filter::Bool {
                column: column.into(),
                value: *b,
            }),
            _ => Err(err(
                &r.name,
                format!("`where.{column}` must be true or false"),
            )),
        };
    }
    let spec = table.column(column).ok_or_else(|| {
        err(
            &r.name,
            format!(
                "`where.{column}`: `{}` has no column `{column}`",
                table.name
            ),
        )
    })?;
    if spec.identifying {
        return Err(err(
            &r.name,
            format!("`where.{column}`: filtering on an identifying column is not allowed"),
        ));
    }
    match (spec.ty, value) {
        (ColumnType::Bool, toml::Value::Boolean(b)) => Ok(Filter::Bool {
            column: column.into(),
            value: *b,
        }),
        (ColumnType::Bool, _) => Err(err(
            &r.name,
            format!("`where.{column}` must be true or false"),
        )),
        (ty @ (ColumnType::Code(_) | ColumnType::Text), v) => {
            let values: Vec<String> = match v {
                toml::Value::String(s) => vec![s.clone()],
                toml::Value::Array(items) => items
                    .iter()
                    .filter_map(|i| i.as_str().map(String::from))
                    .collect(),
                _ => {
                    return Err(err(
                        &r.name,
                        format!("`where.{column}` must be text or a list of text"),
                    ));
                }
            };
            if let ColumnType::Code(codes) = ty
                && let Some(bad) = values.iter().find(|v| !codes.contains(&v.as_str()))
            {
                return Err(err(
                    &r.name,
                    format!(
                        "`where.{column} = \"{bad}\"`: expected {}",
                        ty.expectation()
                    ),
                ));
            }
            Ok(Filter::Text {
                column: column.into(),
                any_of: values,
            })
        }
        _ => Err(err(
            &r.name,
            format!("`where.{column}`: filters on this column type are not supported"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn twelve_month_window_is_index_minus_364_to_index() {
        let w = Window::parse("-365d..0d").expect("window");
        assert_eq!(
            w.bounds(d("2025-03-31")),
            (Some(d("2024-04-01")), d("2025-03-31"))
        );
    }

    #[test]
    fn consecutive_windows_tile_without_overlap() {
        let index = d("2025-03-31");
        let recent = Window::parse("-182d..0d").expect("w").bounds(index);
        let earlier = Window::parse("-365d..-182d").expect("w").bounds(index);
        assert_eq!(
            earlier.1 + chrono::Duration::days(1),
            recent.0.expect("start")
        );
    }

    #[test]
    fn bad_windows_are_explained() {
        assert!(Window::parse("0d..-365d").is_err());
        assert!(Window::parse("-365..0").is_err());
        assert!(Window::parse("last year").is_err());
    }

    #[test]
    fn builtin_catalogue_parses() {
        let features = builtin().expect("built-in catalogue is valid");
        assert!(
            features
                .iter()
                .any(|f| f.name == "emergency_admissions_12m")
        );
    }

    #[test]
    fn errors_name_the_feature_and_the_problem() {
        let text = "[[feature]]\nname = \"x\"\nkind = \"events\"\ndescription = \"\"\ntable = \"encounters\"\nwindow = \"-365d..0d\"\naggregate = \"count\"\nwhere = { setting = \"ward\" }\n";
        let e = parse_features(text, "f.toml", std::path::Path::new("."), &[])
            .expect_err("unknown setting");
        assert!(e.to_string().contains("feature `x`"), "{e}");
        assert!(e.to_string().contains("`where.setting = \"ward\"`"), "{e}");
        let text = "[[feature]]\nname = \"y\"\nkind = \"events\"\ndescription = \"\"\ntable = \"nope\"\nwindow = \"all\"\naggregate = \"count\"\n";
        assert!(
            parse_features(text, "f.toml", std::path::Path::new("."), &[])
                .expect_err("table")
                .to_string()
                .contains("`table = \"nope\"`")
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let text = "[[feature]]\nname = \"x\"\nkind = \"person\"\nvalue = \"age\"\ndescription = \"\"\nwindw = \"all\"\n";
        let e = parse_features(text, "f.toml", std::path::Path::new("."), &[])
            .expect_err("unknown key");
        assert!(e.to_string().contains("windw"), "{e}");
    }
}
