//! Property tests over random summary tables. The checkers here are written
//! independently of the implementation: they rebuild every additive equation
//! from the spec and count redactions themselves.
//!
//! Cases default to 256; set `STRATA_PROPTEST_CASES` to run more.

use super::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn cases() -> u32 {
    std::env::var("STRATA_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

const TIERS: [&str; 4] = ["tier_very_high", "tier_high", "tier_rising", "tier_low"];
const SEGMENTS: [&str; 3] = ["segment_healthy", "segment_ltc", "segment_frailty"];

fn spec(total_row: Option<TotalRowMethod>) -> TableSpec {
    let s = TableSpec::new("practice_code", "population")
        .partition("tier", TIERS)
        .partition("segment", SEGMENTS)
        .subset("ltc_copd")
        .subset("frail_moderate")
        .value("mean_risk", "population", ValueKind::Mean)
        .value("expected_admissions", "population", ValueKind::Sum)
        .value("mean_risk_copd", "ltc_copd", ValueKind::Mean)
        .value("expected_admissions_upper", "population", ValueKind::Other);
    match total_row {
        Some(m) => s.with_total_row("ALL", m),
        None => s,
    }
}

/// Small counts are common on purpose: that is where the rules bite.
fn small_or_not() -> impl Strategy<Value = u64> {
    prop_oneof![3 => 0..=9u64, 2 => 0..=40u64, 1 => 0..=300u64]
}

fn arb_row() -> impl Strategy<Value = (Vec<u64>, Vec<Option<f64>>)> {
    (
        proptest::collection::vec(small_or_not(), 4),
        0..=1000u64,
        0..=1000u64,
        0..=1000u64,
        small_or_not(),
        proptest::option::of(0.0..1.0f64),
    )
        .prop_map(|(tiers, a, b, c, frail_gap, risk)| {
            let pop: u64 = tiers.iter().sum();
            let s1 = pop * a / 1000;
            let s2 = (pop - s1) * b / 1000;
            let s3 = pop - s1 - s2;
            let copd = pop * c / 1000;
            let frail = pop.saturating_sub(frail_gap);
            let mut counts = vec![pop];
            counts.extend(tiers);
            counts.extend([s1, s2, s3, copd, frail]);
            let values = vec![
                risk,
                risk.map(|r| r * pop as f64),
                risk.map(|r| r / 2.0),
                risk.map(|r| r * pop as f64 * 1.2),
            ];
            (counts, values)
        })
}

fn arb_profile() -> impl Strategy<Value = DisclosureProfile> {
    prop_oneof![
        3 => Just(DisclosureProfile::OpenSafely { midpoint6: false }),
        1 => Just(DisclosureProfile::OpenSafely { midpoint6: true }),
        2 => Just(DisclosureProfile::NhsSecondaryCare),
        2 => (0..=12u64, 1..=10u64).prop_map(|(t, b)| DisclosureProfile::Custom {
            redact_at_or_below: t,
            round_to: b
        }),
    ]
}

fn arb_total_row() -> impl Strategy<Value = Option<TotalRowMethod>> {
    prop_oneof![
        Just(None),
        Just(Some(TotalRowMethod::ProfileDefault)),
        Just(Some(TotalRowMethod::SumOfProtected)),
        Just(Some(TotalRowMethod::RoundedIndependently)),
    ]
}

fn arb_table() -> impl Strategy<Value = SummaryTable> {
    (proptest::collection::vec(arb_row(), 1..10), arb_total_row()).prop_map(|(rows, total)| {
        SummaryTable {
            spec: spec(total),
            rows: rows
                .into_iter()
                .enumerate()
                .map(|(i, (counts, values))| GroupRow {
                    label: format!("P{i:03}"),
                    counts,
                    values,
                    contributions: Vec::new(),
                })
                .collect(),
        }
    })
}

/// The true counts of every published row, including an independent total
/// row (column sums); `None` for a total row derived from protected cells.
fn true_rows(table: &SummaryTable, p: &ProtectedTable) -> Vec<Option<Vec<u64>>> {
    let mut out: Vec<Option<Vec<u64>>> =
        table.rows.iter().map(|r| Some(r.counts.clone())).collect();
    if p.total_row_method == Some(TotalRowMethod::RoundedIndependently) {
        let n = table.spec.count_columns().len();
        let sums = (0..n)
            .map(|k| table.rows.iter().map(|r| r.counts[k]).sum())
            .collect();
        out.push(Some(sums));
    } else if p.total_row_method.is_some() {
        out.push(None);
    }
    out
}

fn check(table: &SummaryTable, profile: &DisclosureProfile) -> Result<(), TestCaseError> {
    let p = match protect(table, profile) {
        Ok(p) => p,
        Err(e) => return Err(TestCaseError::fail(format!("protect failed: {e}"))),
    };
    let t = profile.redact_at_or_below();
    let rounding = profile.rounding();
    let truth = true_rows(table, &p);
    prop_assert_eq!(p.rows.len(), truth.len());
    let columns = table.spec.count_columns();
    let index = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .unwrap_or(usize::MAX)
    };
    let independent = p.total_row_method == Some(TotalRowMethod::RoundedIndependently);

    for (r, row) in p.rows.iter().enumerate() {
        // (e) a redacted cell is always null; flags and nulls agree
        for c in row.counts.iter() {
            prop_assert!(!c.is_redacted() || c.value.is_none());
            prop_assert!(
                c.is_redacted() || c.value.is_some(),
                "count null but not flagged"
            );
        }
        for c in row.values.iter() {
            prop_assert!(!c.is_redacted() || c.value.is_none());
        }
        let Some(true_counts) = &truth[r] else {
            // (f) the derived total row is the sum of the published group cells
            for k in 0..columns.len() {
                let sum: u64 = p.rows[..r].iter().filter_map(|g| g.counts[k].value).sum();
                prop_assert_eq!(row.counts[k].value, Some(sum));
            }
            continue;
        };
        for (k, c) in row.counts.iter().enumerate() {
            let tv = true_counts[k];
            match c.value {
                Some(v) => {
                    // published = rounding of the truth
                    prop_assert_eq!(v, rounding.apply(tv));
                    if profile.is_midpoint() {
                        // (b') zero is zero; otherwise a midpoint label within -2..+3
                        prop_assert!(v == 0 || v % 6 == 3, "midpoint label {}", v);
                        prop_assert!(tv == 0 || (v - 2 <= tv && tv <= v + 3));
                    } else {
                        // (a) no published count describes 1..=t people
                        prop_assert!(tv == 0 || tv > t, "published a small count");
                        // (b) every published count is a multiple of the base
                        if let Rounding::NearestHalfUp { base } = rounding {
                            prop_assert_eq!(v % base, 0);
                        }
                        // (a) for the standard profiles: nothing in 1..=7 is shown
                        if !matches!(profile, DisclosureProfile::Custom { .. }) {
                            prop_assert!(v == 0 || v > 7, "published {} in 1..=7", v);
                        }
                        prop_assert!(tv == 0 || v > 0, "silent zero");
                    }
                }
                None => prop_assert!(!profile.is_midpoint(), "midpoint never redacts counts"),
            }
        }
        // (g) a small group goes whole
        if !profile.is_midpoint() && true_counts[0] >= 1 && true_counts[0] <= t {
            prop_assert!(row.counts.iter().all(Cell::is_redacted));
            prop_assert!(row.values.iter().all(Cell::is_redacted));
        }
        // (d) values go with the counts they describe
        for (j, v) in table.spec.values.iter().enumerate() {
            let k = index(&v.describes);
            if profile.is_midpoint() {
                let n = true_counts[k];
                if n >= 1 && n <= t {
                    prop_assert!(row.values[j].is_redacted());
                }
            } else if row.counts[k].is_redacted() {
                prop_assert!(
                    row.values[j].is_redacted(),
                    "value `{}` shown, its count redacted",
                    v.name
                );
            }
            if !row.values[j].is_redacted() && r < table.rows.len() {
                prop_assert_eq!(row.values[j].value, table.rows[r].values[j]);
            }
        }
    }

    // (c) no redacted cell recoverable by subtraction: every additive
    // equation has 0 or >= 2 redacted cells, and when its total is shown the
    // redacted parts together describe more than t people.
    let mut equations: Vec<Vec<(usize, usize)>> = Vec::new(); // first = total
    for (r, tr) in truth.iter().enumerate() {
        if tr.is_none() {
            continue;
        }
        for part in &table.spec.partitions {
            let mut eq = vec![(r, 0)];
            eq.extend(part.cells.iter().map(|c| (r, index(c))));
            equations.push(eq);
        }
    }
    if independent {
        let total = p.rows.len() - 1;
        for k in 0..columns.len() {
            let mut eq = vec![(total, k)];
            eq.extend((0..table.rows.len()).map(|r| (r, k)));
            equations.push(eq);
        }
    }
    for eq in &equations {
        let red: Vec<(usize, usize)> = eq
            .iter()
            .copied()
            .filter(|&(r, k)| p.rows[r].counts[k].is_redacted())
            .collect();
        prop_assert!(
            red.is_empty() || red.len() >= 2,
            "one redacted cell in {:?}",
            eq
        );
        let (tr, tk) = eq[0];
        if !red.is_empty() && !p.rows[tr].counts[tk].is_redacted() {
            let mass: u64 = red
                .iter()
                .map(|&(r, k)| truth[r].as_ref().map_or(0, |c| c[k]))
                .sum();
            prop_assert!(mass > t, "redacted parts recoverable as a small group");
        }
    }
    // ... and no aggregable value column (a mean or a sum; interval bounds
    // cannot be differenced) has exactly one redacted cell under an
    // independent total row.
    if independent {
        for j in 0..table.spec.values.len() {
            if table.spec.values[j].kind == ValueKind::Other {
                continue;
            }
            let n = p.rows.iter().filter(|r| r.values[j].is_redacted()).count();
            prop_assert!(n != 1, "value column with one redaction");
        }
    }

    // (h) deterministic
    let again = protect(table, profile).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&again, &p);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn protected_tables_keep_every_rule(table in arb_table(), profile in arb_profile()) {
        prop_assume!(profile.validate().is_ok());
        check(&table, &profile)?;
    }

    #[test]
    fn row_order_does_not_change_what_a_group_publishes_without_column_equations(
        table in arb_table(), profile in arb_profile()
    ) {
        // Without an independent total row each row is protected on its own,
        // so reversing the rows reverses the output and nothing else.
        prop_assume!(profile.validate().is_ok());
        let mut t = table.clone();
        t.spec.total_row = None;
        let forward = protect(&t, &profile).map_err(|e| TestCaseError::fail(e.to_string()))?;
        t.rows.reverse();
        let backward = protect(&t, &profile).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut b = backward.rows.clone();
        b.reverse();
        prop_assert_eq!(forward.rows, b);
    }
}
