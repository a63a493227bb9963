//! The population at an index date and the features read from the person.

use chrono::NaiveDate;
use polars::prelude::*;

use super::Result;
use super::spec::{FeatureDef, FeatureKind, PersonValue};
use super::{KEY_COLUMNS, age_on};
use crate::ingest::{Extract, PID};

/// Age bands used for reporting (lower bounds, then labels).
pub const AGE_BANDS: &[(i32, &str)] = &[
    (0, "0-4"),
    (5, "5-17"),
    (18, "18-29"),
    (30, "30-44"),
    (45, "45-64"),
    (65, "65-74"),
    (75, "75-84"),
    (85, "85+"),
];

/// The band label of an age.
pub fn age_band(age: i32) -> &'static str {
    AGE_BANDS
        .iter()
        .rev()
        .find(|(low, _)| age >= *low)
        .map_or(AGE_BANDS[0].1, |(_, label)| label)
}

/// Census 2021 high-level ethnic group of an NHS ethnic category code.
pub fn ethnicity_group(code: Option<&str>) -> &'static str {
    match code {
        Some("A" | "B" | "C") => "White",
        Some("D" | "E" | "F" | "G") => "Mixed",
        Some("H" | "J" | "K" | "L") => "Asian",
        Some("M" | "N" | "P") => "Black",
        Some("R" | "S") => "Other",
        _ => "Not stated",
    }
}

/// People born, registered and alive on `index`, with their person features.
pub fn population(extract: &Extract, index: NaiveDate, defs: &[FeatureDef]) -> Result<DataFrame> {
    let mut keep = vec![
        col(PID),
        col("date_of_birth"),
        col("sex"),
        col("ethnicity"),
        col("imd_decile").cast(DataType::Int32),
    ];
    keep.extend(KEY_COLUMNS.iter().map(|c| col(*c)));
    let people = extract
        .patients
        .clone()
        .lazy()
        .filter(
            col("date_of_birth")
                .lt_eq(lit(index))
                .and(col("registered_from").lt_eq(lit(index)))
                .and(
                    col("date_of_death")
                        .is_null()
                        .or(col("date_of_death").gt(lit(index))),
                ),
        )
        .select(keep)
        .collect()?;
    let ages = ages(&people, index)?;
    let mut columns: Vec<Column> = Vec::new();
    for def in defs {
        let FeatureKind::Person(value) = def.kind else {
            continue;
        };
        let name: PlSmallStr = def.name.as_str().into();
        let column = match value {
            PersonValue::Age => Column::new(name, &ages),
            PersonValue::AgeBand => Column::new(
                name,
                ages.iter().map(|a| a.map(age_band)).collect::<Vec<_>>(),
            ),
            PersonValue::Sex => people.column("sex")?.clone().with_name(name),
            PersonValue::ImdDecile => people.column("imd_decile")?.clone().with_name(name),
            PersonValue::ImdQuintile => {
                let deciles = people.column("imd_decile")?.i32()?.clone();
                Column::new(
                    name,
                    deciles
                        .iter()
                        .map(|d| d.map(|d| (d + 1) / 2))
                        .collect::<Vec<_>>(),
                )
            }
            PersonValue::EthnicityGroup => {
                let codes = people.column("ethnicity")?.str()?.clone();
                Column::new(name, codes.iter().map(ethnicity_group).collect::<Vec<_>>())
            }
        };
        columns.push(column);
    }
    let mut out = people.select([PID].into_iter().chain(KEY_COLUMNS.iter().copied()))?;
    for c in columns {
        out.with_column(c)?;
    }
    Ok(out)
}

fn ages(people: &DataFrame, index: NaiveDate) -> Result<Vec<Option<i32>>> {
    let births = people.column("date_of_birth")?.cast(&DataType::Int32)?;
    Ok(births
        .i32()?
        .iter()
        .map(|d| {
            d.and_then(crate::contract::date_from_epoch_days)
                .map(|birth| age_on(birth, index))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_bands_start_at_their_lower_bounds() {
        assert_eq!(age_band(0), "0-4");
        assert_eq!(age_band(4), "0-4");
        assert_eq!(age_band(5), "5-17");
        assert_eq!(age_band(64), "45-64");
        assert_eq!(age_band(65), "65-74");
        assert_eq!(age_band(85), "85+");
        assert_eq!(age_band(104), "85+");
    }

    #[test]
    fn ethnic_categories_map_to_census_groups() {
        assert_eq!(ethnicity_group(Some("A")), "White");
        assert_eq!(ethnicity_group(Some("G")), "Mixed");
        assert_eq!(ethnicity_group(Some("L")), "Asian");
        assert_eq!(ethnicity_group(Some("P")), "Black");
        assert_eq!(ethnicity_group(Some("S")), "Other");
        assert_eq!(ethnicity_group(Some("Z")), "Not stated");
        assert_eq!(ethnicity_group(None), "Not stated");
    }
}
