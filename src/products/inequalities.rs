//! Core20PLUS5 and inequalities: the planning population by the groups NHS
//! England asks systems to report against, with rates per 1,000 directly
//! age-standardised to the 2013 European Standard Population.
//!
//! Core20PLUS5 (NHS England, *Core20PLUS5 – an approach to reducing health
//! inequalities*): the most deprived 20% of the national population
//! (`core20`: IMD 2025 national deciles 1–2), PLUS groups (here those the
//! data can support: ethnic minority groups, learning disability, serious
//! mental illness), and five clinical areas (for adults: maternity, severe
//! mental illness, chronic respiratory disease, early cancer diagnosis,
//! hypertension case-finding). Each grouping is a table of the same release
//! as the other summaries: protected with them, linked to them (core20 is
//! IMD quintile 1; the ethnic-minority groups are four rows of
//! `by_ethnicity_group`; the people with a learning disability are the
//! `ltc_learning_disability` cell of every `ALL` row) and audited with them.

use polars::prelude::*;

use super::Result;
use super::summaries::{keep_top, text};
use crate::cohort::Tier;
use crate::governance::audit::Hierarchy;
use crate::governance::disclosure::{
    Contributions, GroupRow, REDACTED_SUFFIX, SummaryTable, TableSpec, TotalRowMethod, ValueKind,
};
use crate::model::metrics::Z_95 as Z95;

/// 2013 European Standard Population, per 100,000, in 5-year bands 0–4 …
/// 85–89 and 90+ (90–94: 800 and 95+: 200 combined).
/// Source: Eurostat, *Revision of the European Standard Population: report
/// of Eurostat's task force* (2013), table 3.
pub const ESP2013: [f64; 19] = [
    5000.0, 5500.0, 5500.0, 5500.0, 6000.0, 6000.0, 6500.0, 7000.0, 7000.0, 7000.0, 7000.0, 6500.0,
    6000.0, 5500.0, 5000.0, 4000.0, 2500.0, 1500.0, 1000.0,
];
const BANDS: usize = ESP2013.len();
/// Rates are published per 1,000 people, to one decimal place.
pub const PER: f64 = 1000.0;
const RATE_DECIMALS: i32 = 1;
/// The file these groupings are published in.
pub const FILE: &str = "by_core20plus5.parquet";
/// Prefix of each grouping's table name in the release (and the audit).
pub const TABLE_PREFIX: &str = "core20plus5.";

/// The three measures, each a count (or sum) per group and age band.
const MEASURES: [&str; 3] = ["high_risk", "emergency_admitted", "expected_admissions"];

/// One grouping: its name, how a person is labelled, and how its groups
/// relate to the other summaries.
struct Grouping {
    name: &'static str,
    label: fn(&PersonRow) -> Option<&'static str>,
    /// Public links to another summary dimension: (this group, that
    /// dimension, those groups), columns matched by name.
    related: &'static str,
    children: &'static [(&'static str, &'static [&'static str])],
    /// For yes/no groupings of a condition: the `ltc_*` column of the `ALL`
    /// row that equals this grouping's `yes` population.
    ltc: Option<&'static str>,
}

/// What a person contributes.
struct PersonRow<'a> {
    imd_quintile: Option<&'a str>,
    ethnicity: Option<&'a str>,
    ltcs: [bool; 5],
}

/// `value` as the `'static` label of `labels` it equals, if any.
fn one_of(value: Option<&str>, labels: &[&'static str]) -> Option<&'static str> {
    labels.iter().copied().find(|l| Some(*l) == value)
}

fn yes_no(b: bool) -> Option<&'static str> {
    Some(if b { "yes" } else { "no" })
}

/// The long-term conditions behind the PLUS and clinical-area groupings.
const LTCS: [&str; 5] = [
    "ltc_learning_disability",
    "ltc_serious_mental_illness",
    "ltc_hypertension",
    "ltc_copd",
    "ltc_cancer",
];

const MINORITY: &[&str] = &["Asian", "Black", "Mixed", "Other"];

const GROUPINGS: &[Grouping] = &[
    Grouping {
        name: "core20",
        label: |p| match p.imd_quintile {
            Some("1") => Some("core20"),
            Some("unknown") | None => Some("unknown"),
            Some(_) => Some("other"),
        },
        related: "imd_quintile",
        children: &[
            ("core20", &["1"]),
            ("other", &["2", "3", "4", "5"]),
            ("unknown", &["unknown"]),
        ],
        ltc: None,
    },
    Grouping {
        name: "imd_quintile",
        label: |p| Some(one_of(p.imd_quintile, &["1", "2", "3", "4", "5"]).unwrap_or("unknown")),
        related: "imd_quintile",
        children: &[
            ("1", &["1"]),
            ("2", &["2"]),
            ("3", &["3"]),
            ("4", &["4"]),
            ("5", &["5"]),
            ("unknown", &["unknown"]),
        ],
        ltc: None,
    },
    Grouping {
        name: "ethnic_minority",
        label: |p| match p.ethnicity {
            Some(e) if MINORITY.contains(&e) => Some("yes"),
            Some("White") => Some("no"),
            _ => Some("unknown"),
        },
        related: "ethnicity_group",
        children: &[
            ("yes", MINORITY),
            ("no", &["White"]),
            ("unknown", &["Not stated", "unknown"]),
        ],
        ltc: None,
    },
    Grouping {
        name: "ethnicity_group",
        label: |p| {
            let groups = ["Asian", "Black", "Mixed", "Other", "White", "Not stated"];
            Some(one_of(p.ethnicity, &groups).unwrap_or("unknown"))
        },
        related: "ethnicity_group",
        children: &[
            ("Asian", &["Asian"]),
            ("Black", &["Black"]),
            ("Mixed", &["Mixed"]),
            ("Other", &["Other"]),
            ("White", &["White"]),
            ("Not stated", &["Not stated"]),
            ("unknown", &["unknown"]),
        ],
        ltc: None,
    },
    Grouping {
        name: "learning_disability",
        label: |p| yes_no(p.ltcs[0]),
        related: "",
        children: &[],
        ltc: Some("ltc_learning_disability"),
    },
    Grouping {
        name: "serious_mental_illness",
        label: |p| yes_no(p.ltcs[1]),
        related: "",
        children: &[],
        ltc: Some("ltc_serious_mental_illness"),
    },
    Grouping {
        name: "hypertension",
        label: |p| yes_no(p.ltcs[2]),
        related: "",
        children: &[],
        ltc: Some("ltc_hypertension"),
    },
    Grouping {
        name: "copd",
        label: |p| yes_no(p.ltcs[3]),
        related: "",
        children: &[],
        ltc: Some("ltc_copd"),
    },
    Grouping {
        name: "cancer",
        label: |p| yes_no(p.ltcs[4]),
        related: "",
        children: &[],
        ltc: Some("ltc_cancer"),
    },
];

/// The table name of a grouping in the release.
pub fn table_name(grouping: &str) -> String {
    format!("{TABLE_PREFIX}{grouping}")
}

/// Per group and age band: people, the three measures and the variance of
/// expected admissions.
#[derive(Clone, Default)]
struct Bands {
    people: [u64; BANDS],
    high_risk: [u64; BANDS],
    admitted: [u64; BANDS],
    expected: [f64; BANDS],
    variance: [f64; BANDS],
    /// People per tier, in the order of `Tier::ALL` (a person with no
    /// tier is in none).
    tiers: [u64; 4],
    risk_n: u64,
    risk_top: [f64; 2],
}

impl Bands {
    fn population(&self) -> u64 {
        self.people.iter().sum()
    }
}

fn band_of(age: i64) -> usize {
    usize::try_from(age / 5).unwrap_or(0).min(BANDS - 1)
}

/// The standardisation inputs of every grouping: label → bands, sorted.
pub struct Inputs {
    groupings: Vec<Vec<(String, Bands)>>,
}

/// Tallies every grouping over the counted people in one pass.
pub fn tally(people: &DataFrame, counted: Option<&[bool]>) -> Result<Inputs> {
    let age = people.column("age")?.cast(&DataType::Int64)?.i64()?.clone();
    let quintile = text(people, "imd_quintile")?;
    let ethnicity = text(people, "ethnicity_group")?;
    let tier = text(people, "tier")?;
    let admissions = people
        .column("emergency_admissions_12m")?
        .cast(&DataType::Int64)?
        .i64()?
        .clone();
    let risk = people
        .column("risk")?
        .cast(&DataType::Float64)?
        .f64()?
        .clone();
    let ltcs = LTCS
        .iter()
        .map(|name| Ok(people.column(name)?.bool()?.clone()))
        .collect::<Result<Vec<_>>>()?;
    let mut groups: Vec<std::collections::BTreeMap<&'static str, Bands>> =
        GROUPINGS.iter().map(|_| Default::default()).collect();
    for row in 0..people.height() {
        if !counted.is_none_or(|m| m.get(row).copied().unwrap_or(false)) {
            continue;
        }
        let mut flags = [false; 5];
        for (flag, ltc) in flags.iter_mut().zip(&ltcs) {
            *flag = ltc.get(row).unwrap_or(false);
        }
        let person = PersonRow {
            imd_quintile: quintile.get(row),
            ethnicity: ethnicity.get(row),
            ltcs: flags,
        };
        let band = band_of(age.get(row).unwrap_or(0));
        let tier = tier
            .get(row)
            .and_then(|t| Tier::ALL.iter().position(|x| x.label() == t));
        let very_high = tier == Some(0);
        let high = tier == Some(1);
        let admitted = admissions.get(row).unwrap_or(0) > 0;
        let p = risk.get(row);
        for (grouping, groups) in GROUPINGS.iter().zip(groups.iter_mut()) {
            let Some(label) = (grouping.label)(&person) else {
                continue;
            };
            let b = groups.entry(label).or_default();
            b.people[band] += 1;
            b.high_risk[band] += u64::from(very_high || high);
            b.admitted[band] += u64::from(admitted);
            if let Some(t) = tier.filter(|&t| t < 4) {
                b.tiers[t] += 1;
            }
            if let Some(p) = p {
                b.expected[band] += p;
                b.variance[band] += p * (1.0 - p);
                b.risk_n += 1;
                keep_top(&mut b.risk_top, p);
            }
        }
    }
    Ok(Inputs {
        groupings: groups
            .into_iter()
            .map(|g| g.into_iter().map(|(l, b)| (l.to_string(), b)).collect())
            .collect(),
    })
}

impl Inputs {
    /// One summary table per grouping, named [`table_name`], for the
    /// release: population, people in the very-high and high tiers, people
    /// with an emergency admission in the last 12 months, expected
    /// admissions.
    pub fn tables(&self) -> Vec<(String, SummaryTable)> {
        GROUPINGS
            .iter()
            .zip(&self.groupings)
            .map(|(g, groups)| {
                let name = table_name(g.name);
                let tiers: Vec<String> = Tier::ALL
                    .iter()
                    .map(|t| format!("tier_{}", t.label()))
                    .collect();
                let spec = TableSpec::new(name.as_str(), "population")
                    .partition("tier", tiers)
                    .subset("emergency_admitted_12m")
                    .value("expected_admissions", "population", ValueKind::Sum)
                    .rounded_to(super::summaries::EXPECTED_ROUND_TO)
                    .with_total_row(
                        super::summaries::TOTAL_LABEL,
                        TotalRowMethod::RoundedIndependently,
                    );
                let rows = groups
                    .iter()
                    .map(|(label, b)| GroupRow {
                        label: label.clone(),
                        counts: std::iter::once(b.population())
                            .chain(b.tiers)
                            .chain([b.admitted.iter().sum()])
                            .collect(),
                        values: vec![Some(b.expected.iter().sum())],
                        contributions: vec![Contributions {
                            people: b.risk_n,
                            largest: b.risk_top,
                        }],
                    })
                    .collect();
                (name, SummaryTable { spec, rows })
            })
            .collect()
    }

    /// The public links of the groupings to the other summaries: only groups
    /// present on both sides (a group with nobody is in neither table).
    pub fn links(&self, dimensions: &[(&str, Vec<String>)], all_row_of: &str) -> Vec<Hierarchy> {
        let mut links = Vec::new();
        for (g, groups) in GROUPINGS.iter().zip(&self.groupings) {
            let have = |label: &str| groups.iter().any(|(l, _)| l == label);
            if let Some((_, labels)) = dimensions.iter().find(|(d, _)| *d == g.related) {
                for (parent, children) in g.children {
                    let present: Vec<String> = children
                        .iter()
                        .filter(|c| labels.iter().any(|l| l == *c))
                        .map(|c| c.to_string())
                        .collect();
                    if have(parent) && !present.is_empty() {
                        links.push(Hierarchy {
                            parent_dimension: table_name(g.name),
                            parent: parent.to_string(),
                            child_dimension: g.related.to_string(),
                            children: present,
                            columns: Vec::new(),
                        });
                    }
                }
            }
            if let (Some(ltc), true) = (g.ltc, have("yes")) {
                links.push(Hierarchy {
                    parent_dimension: table_name(g.name),
                    parent: "yes".into(),
                    child_dimension: all_row_of.to_string(),
                    children: vec![super::summaries::TOTAL_LABEL.to_string()],
                    columns: vec![("population".into(), ltc.into())],
                });
            }
        }
        links
    }

    /// The published file: every grouping's protected frame (group column
    /// renamed `group`, with a `grouping` column), with crude rates per
    /// 1,000 from the published figures and directly age-standardised rates
    /// with 95% intervals; `protected` in the order of [`Inputs::tables`].
    pub fn publish(&self, protected: &[DataFrame], threshold: u64) -> Result<DataFrame> {
        let mut frames = Vec::with_capacity(protected.len());
        for ((g, groups), frame) in GROUPINGS.iter().zip(&self.groupings).zip(protected) {
            frames.push(rates(g.name, groups, frame, threshold)?);
        }
        let mut out = frames
            .into_iter()
            .reduce(|a, b| a.vstack(&b).unwrap_or(a))
            .unwrap_or_default();
        out.rechunk_mut();
        Ok(out)
    }
}

/// A directly age-standardised rate per 1,000 and its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standardised {
    pub rate: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Byar's approximation to the exact Poisson 95% interval of a count `o`
/// (Public Health England, *Technical Guide: Confidence intervals*, 2018).
pub fn byar(o: f64) -> (f64, f64) {
    let lower = if o > 0.0 {
        o * (1.0 - 1.0 / (9.0 * o) - Z95 / (3.0 * o.sqrt())).powi(3)
    } else {
        0.0
    };
    let p = o + 1.0;
    let upper = p * (1.0 - 1.0 / (9.0 * p) + Z95 / (3.0 * p.sqrt())).powi(3);
    (lower, upper)
}

/// Directly age-standardised rate per 1,000 of events `o` over people `n`
/// by age band, weighted by the 2013 European Standard Population, with the
/// Dobson et al. (1991) 95% interval: DSR + √(var/O)·(O_L − O), and
/// likewise for the upper limit, O_L and O_U from [`byar`]. `None` when no
/// event. Bands with nobody add nothing (their weight is still counted).
pub fn dsr(o: &[f64; BANDS], n: &[u64; BANDS]) -> Option<Standardised> {
    let total: f64 = ESP2013.iter().sum();
    let (mut rate, mut variance, mut events) = (0.0, 0.0, 0.0);
    for i in 0..BANDS {
        if n[i] == 0 {
            continue;
        }
        let w = ESP2013[i] / total;
        let n = n[i] as f64;
        rate += w * o[i] / n;
        variance += w * w * o[i] / (n * n);
        events += o[i];
    }
    if events <= 0.0 {
        return None;
    }
    let (lo, hi) = byar(events);
    let scale = (variance / events).sqrt();
    Some(Standardised {
        rate: rate * PER,
        lower: (rate + scale * (lo - events)) * PER,
        upper: (rate + scale * (hi - events)) * PER,
    })
}

/// The same for a sum of probabilities (expected admissions): a normal
/// interval with variance Σ w² V / n², V the band's Σ p(1 − p).
fn dsr_expected(e: &[f64; BANDS], v: &[f64; BANDS], n: &[u64; BANDS]) -> Standardised {
    let total: f64 = ESP2013.iter().sum();
    let (mut rate, mut variance) = (0.0, 0.0);
    for i in 0..BANDS {
        if n[i] > 0 {
            let w = ESP2013[i] / total;
            let n = n[i] as f64;
            rate += w * e[i] / n;
            variance += w * w * v[i] / (n * n);
        }
    }
    let half = Z95 * variance.sqrt();
    Standardised {
        rate: rate * PER,
        lower: (rate - half).max(0.0) * PER,
        upper: (rate + half) * PER,
    }
}

fn round_rate(x: f64) -> f64 {
    let scale = 10f64.powi(RATE_DECIMALS);
    (x * scale).round() / scale
}

/// One grouping's published frame with its rates.
fn rates(
    grouping: &str,
    groups: &[(String, Bands)],
    frame: &DataFrame,
    threshold: u64,
) -> Result<DataFrame> {
    let name = table_name(grouping);
    let labels: Vec<String> = frame
        .column(&name)?
        .str()?
        .iter()
        .map(|l| l.unwrap_or_default().to_string())
        .collect();
    let count = |c: &str| -> Result<(Vec<Option<i32>>, Vec<bool>)> {
        Ok((
            frame.column(c)?.i32()?.iter().collect(),
            frame
                .column(&format!("{c}{REDACTED_SUFFIX}"))?
                .bool()?
                .iter()
                .map(|f| f.unwrap_or(true))
                .collect(),
        ))
    };
    let (population, population_withheld) = count("population")?;
    let (very_high, vh_withheld) = count("tier_very_high")?;
    let (high, high_withheld) = count("tier_high")?;
    let (admitted, admitted_withheld) = count("emergency_admitted_12m")?;
    let expected: Vec<Option<f64>> = frame.column("expected_admissions")?.f64()?.iter().collect();
    let expected_withheld: Vec<bool> = frame
        .column(&format!("expected_admissions{REDACTED_SUFFIX}"))?
        .bool()?
        .iter()
        .map(|f| f.unwrap_or(true))
        .collect();
    // The whole population's bands, for the ALL row.
    let mut all = Bands::default();
    for (_, b) in groups {
        for i in 0..BANDS {
            all.people[i] += b.people[i];
            all.high_risk[i] += b.high_risk[i];
            all.admitted[i] += b.admitted[i];
            all.expected[i] += b.expected[i];
            all.variance[i] += b.variance[i];
        }
    }
    let mut columns: Vec<(String, Vec<Option<f64>>, Vec<bool>)> = Vec::new();
    for measure in MEASURES {
        for suffix in ["_per_1000", "_dsr_per_1000", "_dsr_lower", "_dsr_upper"] {
            columns.push((format!("{measure}{suffix}"), Vec::new(), Vec::new()));
        }
    }
    let t = threshold as f64;
    for (r, label) in labels.iter().enumerate() {
        let bands = if label == super::summaries::TOTAL_LABEL {
            &all
        } else {
            match groups.iter().find(|(l, _)| l == label) {
                Some((_, b)) => b,
                None => &all,
            }
        };
        let pop = population[r]
            .filter(|_| !population_withheld[r])
            .map(f64::from);
        let high_risk = match (very_high[r], high[r]) {
            (Some(a), Some(b)) if !vh_withheld[r] && !high_withheld[r] => Some(f64::from(a + b)),
            _ => None,
        };
        let shown = [
            high_risk,
            admitted[r].filter(|_| !admitted_withheld[r]).map(f64::from),
            expected[r].filter(|_| !expected_withheld[r]),
        ];
        let true_events = [
            bands.high_risk.map(|x| x as f64),
            bands.admitted.map(|x| x as f64),
            bands.expected,
        ];
        for (m, (shown, events)) in shown.iter().zip(true_events).enumerate() {
            let crude = match (shown, pop) {
                (Some(c), Some(p)) if p > 0.0 => Some(round_rate(c / p * PER)),
                _ => None,
            };
            let total_events: f64 = events.iter().sum();
            // A rate over 1..=t events describes that few people: withheld,
            // like any count describing them. No events: a rate of 0 (the
            // count 0 is published too), with no interval.
            let empty = pop == Some(0.0);
            let small = m != 2 && total_events > 0.0 && total_events <= t;
            let publishable = pop.is_some() && shown.is_some() && !small && !empty;
            let standardised = if !publishable {
                None
            } else if m == 2 {
                Some(dsr_expected(
                    &bands.expected,
                    &bands.variance,
                    &bands.people,
                ))
            } else {
                Some(dsr(&events, &bands.people).unwrap_or(Standardised {
                    rate: 0.0,
                    lower: 0.0,
                    upper: f64::NAN,
                }))
            };
            let cells = [
                crude,
                standardised.map(|s| round_rate(s.rate)),
                standardised.map(|s| round_rate(s.lower.max(0.0))),
                standardised
                    .map(|s| s.upper)
                    .filter(|u| u.is_finite())
                    .map(round_rate),
            ];
            // Null and flagged withheld, unless there is nobody to describe
            // (or no event to bound): then null means "not applicable".
            let withheld = [crude.is_none() && !empty, !publishable && !empty];
            for (k, cell) in cells.into_iter().enumerate() {
                let column = &mut columns[m * 4 + k];
                column.1.push(cell);
                column.2.push(withheld[usize::from(k > 0)]);
            }
        }
    }
    let mut out = frame.clone();
    out.rename(&name, "group".into())?;
    let complete = out.drop_in_place(crate::governance::disclosure::COMPLETE_COLUMN)?;
    for (column, values, flags) in columns {
        out.with_column(Column::new(column.as_str().into(), values))?;
        out.with_column(Column::new(
            format!("{column}{REDACTED_SUFFIX}").into(),
            flags,
        ))?;
    }
    out.with_column(complete)?;
    out.insert_column(
        0,
        Column::new("grouping".into(), vec![grouping; out.height()]),
    )?;
    Ok(out)
}

/// Splits the published file back into one frame per grouping, named and
/// with its group column named as in the release, for the audit.
pub fn split(file: &DataFrame) -> Result<Vec<(String, DataFrame)>> {
    let mut out = Vec::new();
    for g in GROUPINGS {
        let mask = file.column("grouping")?.str()?.equal(g.name);
        let mut part = file.filter(&mask)?.drop("grouping")?;
        if part.height() == 0 {
            continue;
        }
        let name = table_name(g.name);
        part.rename("group", name.as_str().into())?;
        out.push((name, part));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_population_adds_up_to_100000() {
        assert_eq!(ESP2013.iter().sum::<f64>(), 100_000.0);
        assert_eq!(band_of(0), 0);
        assert_eq!(band_of(4), 0);
        assert_eq!(band_of(5), 1);
        assert_eq!(band_of(89), 17);
        assert_eq!(band_of(90), 18);
        assert_eq!(band_of(104), 18);
    }

    #[test]
    fn byar_matches_the_exact_poisson_limits_closely() {
        // Exact Poisson 95% limits of 12 events: 6.2006 and 20.9641.
        let (lo, hi) = byar(12.0);
        assert!((lo - 6.2006).abs() < 0.01, "{lo}");
        assert!((hi - 20.9641).abs() < 0.01, "{hi}");
    }

    #[test]
    fn dsr_and_dobson_interval_worked_by_hand() {
        // 100 people aged 0-4 with 2 events (weight 5,000/100,000 = 0.05)
        // and 50 aged 85-89 with 10 (weight 0.015):
        // DSR = 0.05·2/100 + 0.015·10/50 = 0.004 = 4.0 per 1,000;
        // var = 0.05²·2/100² + 0.015²·10/50² = 1.4e-6 (1.4 per 1,000²);
        // O = 12, Byar: O_L = 6.193510, O_U = 20.962858;
        // lower = 4.0 + √(1.4/12)·(6.193510 − 12) = 2.016706,
        // upper = 4.0 + √(1.4/12)·(20.962858 − 12) = 7.061399.
        let mut o = [0.0; BANDS];
        let mut n = [0u64; BANDS];
        (o[0], n[0]) = (2.0, 100);
        (o[17], n[17]) = (10.0, 50);
        let s = dsr(&o, &n).expect("events");
        assert!((s.rate - 4.0).abs() < 1e-9, "{s:?}");
        assert!((s.lower - 2.016706).abs() < 1e-5, "{s:?}");
        assert!((s.upper - 7.061399).abs() < 1e-5, "{s:?}");
        assert_eq!(dsr(&[0.0; BANDS], &n), None);
    }

    #[test]
    fn an_older_group_has_a_higher_crude_rate_but_the_same_standardised_rate() {
        // Same age-specific rates (1% at 0-4, 20% at 85-89); group B is
        // mostly old. Crude rates differ, standardised rates are equal.
        let mut n_a = [0u64; BANDS];
        let mut n_b = [0u64; BANDS];
        let mut o_a = [0.0; BANDS];
        let mut o_b = [0.0; BANDS];
        (n_a[0], o_a[0], n_a[17], o_a[17]) = (900, 9.0, 100, 20.0);
        (n_b[0], o_b[0], n_b[17], o_b[17]) = (100, 1.0, 900, 180.0);
        let (a, b) = (dsr(&o_a, &n_a).expect("a"), dsr(&o_b, &n_b).expect("b"));
        assert!((a.rate - b.rate).abs() < 1e-9, "{a:?} {b:?}");
        // crude: 29/1000 vs 181/1000
        assert!(o_a.iter().sum::<f64>() < o_b.iter().sum::<f64>());
    }

    /// 60 people: 30 in IMD quintile 1 (Core20), 30 in quintile 3; in
    /// each, 15 aged 2 and 15 aged 87.
    fn people() -> DataFrame {
        let n = 60;
        let quintile: Vec<i32> = (0..n).map(|i| if i < 30 { 1 } else { 3 }).collect();
        let age: Vec<i64> = (0..n).map(|i| if i % 30 < 15 { 2 } else { 87 }).collect();
        // Core20: 3 of the young and 6 of the old admitted; other: 1 and 9.
        let admitted: Vec<i64> = (0..n)
            .map(|i| {
                let (group, k) = (i / 30, i % 30);
                let young = k < 15;
                let j = k % 15;
                let cut = match (group, young) {
                    (0, true) => 3,
                    (0, false) => 6,
                    (_, true) => 1,
                    _ => 9,
                };
                i64::from(j < cut)
            })
            .collect();
        let tier: Vec<&str> = (0..n)
            .map(|i| if i % 10 == 0 { "high" } else { "low" })
            .collect();
        let mut columns = vec![
            Column::new("age".into(), age),
            Column::new("imd_quintile".into(), quintile),
            Column::new("ethnicity_group".into(), vec!["White"; n]),
            Column::new("tier".into(), tier),
            Column::new("emergency_admissions_12m".into(), admitted),
            Column::new("risk".into(), vec![0.1f64; n]),
        ];
        for ltc in LTCS {
            columns.push(Column::new(ltc.into(), vec![false; n]));
        }
        DataFrame::new(n, columns).expect("frame")
    }

    #[test]
    fn groupings_are_tallied_protected_and_standardised() {
        use crate::governance::disclosure::{
            DisclosureProfile, Dominance, protect_release, to_dataframe,
        };
        let inputs = tally(&people(), None).expect("tally");
        let tables = inputs.tables();
        let (names, tables): (Vec<String>, Vec<SummaryTable>) = tables.into_iter().unzip();
        assert_eq!(names[0], "core20plus5.core20");
        let core20 = &tables[0];
        let labels: Vec<&str> = core20.rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["core20", "other"]);
        // population, very high, high, rising, low, admitted
        assert_eq!(core20.rows[0].counts, [30, 0, 3, 0, 27, 9]);
        assert_eq!(core20.rows[1].counts, [30, 0, 3, 0, 27, 10]);
        let profile = DisclosureProfile::default();
        let protected =
            protect_release(&tables, &[], &profile, &Dominance::default()).expect("protect");
        let frames: Vec<DataFrame> = protected
            .iter()
            .map(|t| to_dataframe(t).expect("frame"))
            .collect();
        let file = inputs.publish(&frames, 7).expect("publish");
        let core20 = file
            .filter(
                &file
                    .column("grouping")
                    .expect("g")
                    .str()
                    .expect("s")
                    .equal("core20"),
            )
            .expect("filter");
        let value = |name: &str, row: usize| {
            core20
                .column(name)
                .expect(name)
                .f64()
                .expect("f64")
                .get(row)
        };
        // crude: published 10 of a published 30 -> 333.3 per 1,000
        assert_eq!(value("emergency_admitted_per_1000", 0), Some(333.3));
        // DSR: 0.05 * 3/15 + 0.015 * 6/15 = 0.016 -> 16.0 per 1,000
        assert_eq!(value("emergency_admitted_dsr_per_1000", 0), Some(16.0));
        // other: 0.05 * 1/15 + 0.015 * 9/15 = 0.012333 -> 12.3
        assert_eq!(value("emergency_admitted_dsr_per_1000", 1), Some(12.3));
        // high risk: 3 people in each group: 1..=7 events, withheld with their count
        assert_eq!(value("high_risk_dsr_per_1000", 0), None);
        let flag = core20
            .column("high_risk_dsr_per_1000_redacted")
            .expect("flag")
            .bool()
            .expect("bool")
            .get(0);
        assert_eq!(flag, Some(true));
        // expected: 0.1 for everyone: 0.05 * 0.1 + 0.015 * 0.1 = 0.0065 -> 6.5
        assert_eq!(value("expected_admissions_dsr_per_1000", 0), Some(6.5));
        // the split for the audit gives each grouping back under its name
        let parts = split(&file).expect("split");
        assert_eq!(parts[0].0, "core20plus5.core20");
        assert!(parts[0].1.column("core20plus5.core20").is_ok());
    }
}
