//! Hand-worked unit tests: boundaries at every threshold, rounding halves,
//! secondary suppression worked by hand, errors, and the DataFrame round trip.

use super::*;
use polars::prelude::*;

const OS: DisclosureProfile = DisclosureProfile::OpenSafely { midpoint6: false };
const MID6: DisclosureProfile = DisclosureProfile::OpenSafely { midpoint6: true };
const NHS: DisclosureProfile = DisclosureProfile::NhsSecondaryCare;

/// population | tier_very_high tier_high tier_rising tier_low | ltc_copd | mean_risk
fn tier_spec() -> TableSpec {
    TableSpec::new("practice_code", "population")
        .partition(
            "tier",
            ["tier_very_high", "tier_high", "tier_rising", "tier_low"],
        )
        .subset("ltc_copd")
        .value("mean_risk", "population", ValueKind::Mean)
        .value("mean_risk_copd", "ltc_copd", ValueKind::Mean)
}

fn row(label: &str, population: u64, tiers: [u64; 4], copd: u64) -> GroupRow {
    let mut counts = vec![population];
    counts.extend(tiers);
    counts.push(copd);
    GroupRow {
        label: label.into(),
        counts,
        values: vec![Some(0.1), Some(0.2)],
        contributions: Vec::new(),
    }
}

fn table(rows: Vec<GroupRow>) -> SummaryTable {
    SummaryTable {
        spec: tier_spec(),
        rows,
    }
}

/// The published counts of row `r` (None = redacted).
fn shown(p: &ProtectedTable, r: usize) -> Vec<Option<u64>> {
    p.rows[r].counts.iter().map(|c| c.value).collect()
}

/// A single subset count `copd` in a practice of 100 with harmless tiers.
fn protect_copd(copd: u64, profile: &DisclosureProfile) -> Cell<u64> {
    let t = table(vec![row("A", 100, [20, 20, 20, 40], copd)]);
    match protect(&t, profile) {
        Ok(p) => p.rows[0].counts[5],
        Err(e) => panic!("protect failed: {e}"),
    }
}

#[test]
fn rounding_to_five_has_no_ties_for_whole_counts() {
    let r = Rounding::NearestHalfUp { base: 5 };
    // remainder 0,1,2 round down; 3,4 round up (x.5 cannot occur for counts)
    let cases = [
        (0, 0),
        (8, 10),
        (10, 10),
        (12, 10),
        (13, 15),
        (17, 15),
        (18, 20),
    ];
    for (x, want) in cases {
        assert_eq!(r.apply(x), want, "round({x}) to 5");
    }
}

#[test]
fn rounding_halves_round_up_with_an_even_base() {
    // A tie needs an even base: 15 is half-way between 10 and 20 -> 20 (half
    // up, not half to even, which would give 20 here but 20 for 25 too).
    let r = Rounding::NearestHalfUp { base: 10 };
    assert_eq!(r.apply(15), 20);
    assert_eq!(r.apply(25), 30);
    assert_eq!(r.apply(14), 10);
    assert_eq!(r.apply(5), 10);
    let r4 = Rounding::NearestHalfUp { base: 4 };
    assert_eq!(r4.apply(6), 8);
    assert_eq!(r4.apply(10), 12);
    assert_eq!(Rounding::NearestHalfUp { base: 1 }.apply(7), 7);
}

#[test]
fn midpoint6_matches_the_published_mapping() {
    // docs.opensafely.org/sdc/#midpoint-6-rounding: 0->0, 1-6->3, 7-12->9, 13-18->15
    let r = Rounding::Midpoint { width: 6 };
    assert_eq!(r.apply(0), 0);
    for x in 1..=6 {
        assert_eq!(r.apply(x), 3, "{x}");
    }
    for x in 7..=12 {
        assert_eq!(r.apply(x), 9, "{x}");
    }
    for x in 13..=18 {
        assert_eq!(r.apply(x), 15, "{x}");
    }
    // "for non-zero rounded values x, true values range between x-2 and x+3"
    for x in 1..200u64 {
        let m = r.apply(x);
        assert!(m - 2 <= x && x <= m + 3, "{x} -> {m}");
    }
}

#[test]
fn opensafely_boundaries_6_7_8() {
    assert_eq!(
        protect_copd(6, &OS).redacted,
        Some(RedactionReason::SmallCount)
    );
    assert_eq!(
        protect_copd(7, &OS).redacted,
        Some(RedactionReason::SmallCount)
    );
    let eight = protect_copd(8, &OS);
    assert_eq!((eight.value, eight.redacted), (Some(10), None));
    assert_eq!(protect_copd(0, &OS).value, Some(0), "0 stays 0");
}

#[test]
fn nhs_secondary_care_boundaries_6_7_8() {
    assert!(protect_copd(6, &NHS).is_redacted());
    assert!(protect_copd(7, &NHS).is_redacted());
    assert_eq!(protect_copd(8, &NHS).value, Some(10));
    let zero = protect_copd(0, &NHS);
    assert_eq!((zero.value, zero.redacted), (Some(0), None));
}

#[test]
fn custom_boundaries_either_side_of_the_threshold() {
    let p = DisclosureProfile::Custom {
        redact_at_or_below: 10,
        round_to: 10,
    };
    assert!(protect_copd(9, &p).is_redacted());
    assert!(protect_copd(10, &p).is_redacted());
    assert_eq!(protect_copd(11, &p).value, Some(10));
    assert_eq!(protect_copd(15, &p).value, Some(20), "half up");
    assert_eq!(protect_copd(0, &p).value, Some(0));
}

#[test]
fn midpoint6_boundaries_6_7_8_show_labels_and_redact_small_values() {
    let spec = tier_spec();
    let copd_value = spec.values.len() - 1;
    for (copd, label, value_redacted) in [(6, 3, true), (7, 9, true), (8, 9, false), (0, 0, false)]
    {
        let t = table(vec![row("A", 100, [20, 20, 20, 40], copd)]);
        let p = protect(&t, &MID6).unwrap_or_else(|e| panic!("{e}"));
        let cell = p.rows[0].counts[5];
        assert_eq!((cell.value, cell.redacted), (Some(label), None), "{copd}");
        assert_eq!(
            p.rows[0].values[copd_value].is_redacted(),
            value_redacted,
            "{copd}"
        );
    }
}

#[test]
fn custom_profile_that_would_print_a_silent_zero_is_rejected() {
    let bad = DisclosureProfile::Custom {
        redact_at_or_below: 0,
        round_to: 5,
    };
    assert!(matches!(
        bad.validate(),
        Err(DisclosureError::InvalidProfile { .. })
    ));
    let zero_base = DisclosureProfile::Custom {
        redact_at_or_below: 7,
        round_to: 0,
    };
    assert!(zero_base.validate().is_err());
    assert!(
        DisclosureProfile::Custom {
            redact_at_or_below: 2,
            round_to: 5
        }
        .validate()
        .is_ok()
    );
}

#[test]
fn profiles_parse_from_their_names() {
    assert_eq!("opensafely".parse::<DisclosureProfile>().ok(), Some(OS));
    assert_eq!(
        "opensafely-midpoint6".parse::<DisclosureProfile>().ok(),
        Some(MID6)
    );
    assert_eq!(
        "nhs-secondary-care".parse::<DisclosureProfile>().ok(),
        Some(NHS)
    );
    assert_eq!(
        "custom:10:10".parse::<DisclosureProfile>().ok(),
        Some(DisclosureProfile::Custom {
            redact_at_or_below: 10,
            round_to: 10
        })
    );
    assert!("custom:0:5".parse::<DisclosureProfile>().is_err());
    assert!("opensafe".parse::<DisclosureProfile>().is_err());
    assert_eq!(DisclosureProfile::default(), OS);
}

#[test]
fn one_small_tier_takes_the_next_smallest_tier_with_it() {
    // 100 = 3 + 10 + 27 + 60. very_high (3) is small; alone it would be
    // 100 - 10 - 27 - 60 = 3, so high (10, the smallest non-zero) goes too:
    // redacted mass 3 + 10 = 13 > 7.
    let p = protect(&table(vec![row("A", 100, [3, 10, 27, 60], 40)]), &OS)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        shown(&p, 0),
        vec![Some(100), None, None, Some(25), Some(60), Some(40)]
    );
    assert_eq!(
        p.rows[0].counts[1].redacted,
        Some(RedactionReason::SmallCount)
    );
    assert_eq!(
        p.rows[0].counts[2].redacted,
        Some(RedactionReason::Secondary)
    );
    assert_eq!(p.report.redacted_small, 1);
    assert_eq!(p.report.redacted_secondary, 1);
}

#[test]
fn two_small_tiers_whose_sum_is_small_take_a_third() {
    // 100 = 2 + 3 + 20 + 75: both small, but together 5 <= 7 would be
    // recoverable as a group of 5, so rising (20) is redacted too (mass 25).
    let p = protect(&table(vec![row("A", 100, [2, 3, 20, 75], 40)]), &OS)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        shown(&p, 0),
        vec![Some(100), None, None, None, Some(75), Some(40)]
    );
}

#[test]
fn zeros_are_never_chosen_while_a_non_zero_sibling_remains() {
    // 100 = 0 + 0 + 5 + 95: rising is small; the only non-zero sibling is low.
    let p = protect(&table(vec![row("A", 100, [0, 0, 5, 95], 40)]), &OS)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        shown(&p, 0),
        vec![Some(100), Some(0), Some(0), None, None, Some(40)]
    );
}

#[test]
fn a_small_group_is_suppressed_whole_including_zeros_and_values() {
    let p =
        protect(&table(vec![row("A", 5, [0, 0, 0, 5], 0)]), &OS).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        p.rows[0]
            .counts
            .iter()
            .all(|c| c.value.is_none() && c.redacted == Some(RedactionReason::SmallGroup))
    );
    assert!(p.rows[0].values.iter().all(Cell::is_redacted));
    assert_eq!(p.report.groups_suppressed, 1);
}

#[test]
fn an_empty_group_is_published_as_zeros() {
    let mut r = row("A", 0, [0, 0, 0, 0], 0);
    r.values = vec![None, None];
    let p = protect(&table(vec![r]), &OS).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        p.rows[0]
            .counts
            .iter()
            .all(|c| c.value == Some(0) && !c.is_redacted())
    );
    assert!(p.rows[0].values.iter().all(|c| !c.is_redacted()));
}

/// A summary with no groups at all (everyone in it opted out) publishes an
/// empty table; it used to panic computing the index of a total row it did
/// not have (found by the governance property test).
#[test]
fn a_table_with_no_groups_is_empty_not_a_panic() {
    for profile in [OS, MID6, NHS] {
        let p = protect(&table(Vec::new()), &profile).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.report.groups, 0);
        assert!(
            p.rows
                .iter()
                .all(|r| r.counts.iter().all(|c| c.value == Some(0))),
            "{profile:?}: only a total row of zeros may appear"
        );
    }
}

#[test]
fn a_subset_close_to_the_total_is_redacted_for_its_complement() {
    // 45 of 50 have COPD tells that 5 do not.
    let p = protect(&table(vec![row("A", 50, [10, 10, 10, 20], 45)]), &OS)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        p.rows[0].counts[5].redacted,
        Some(RedactionReason::SmallComplement)
    );
    // ... and the mean over the COPD group goes with it.
    assert_eq!(
        p.rows[0].values[1].redacted,
        Some(RedactionReason::CountRedacted)
    );
    // complement 8 is fine: 42 -> 40
    let p = protect(&table(vec![row("A", 50, [10, 10, 10, 20], 42)]), &OS)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.rows[0].counts[5].value, Some(40));
}

#[test]
fn sum_of_protected_total_row_adds_published_cells_only() {
    // OpenSAFELY's worked example style: totals are sums of the rounded counts.
    let spec = tier_spec().with_total_row("ALL", TotalRowMethod::ProfileDefault);
    let t = SummaryTable {
        spec,
        rows: vec![
            row("A", 100, [3, 10, 27, 60], 12),
            row("B", 23, [0, 8, 0, 15], 9),
        ],
    };
    let p = protect(&t, &OS).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.total_row_method, Some(TotalRowMethod::SumOfProtected));
    // A: 100, -, -, 25, 60, 10;  B: 25, 0, 10, 0, 15, 10
    assert_eq!(
        shown(&p, 1),
        vec![Some(25), Some(0), Some(10), Some(0), Some(15), Some(10)]
    );
    assert_eq!(
        shown(&p, 2),
        vec![Some(125), Some(0), Some(10), Some(25), Some(75), Some(20)]
    );
    assert!(p.rows[2].is_total && p.rows[2].label == "ALL");
    // mean weighted by the published populations: (0.1*100 + 0.1*25)/125
    assert_eq!(
        p.rows[2].values[0].value.map(|v| (v * 1e9).round()),
        Some(1e8)
    );
}

#[test]
fn independent_total_row_suppresses_down_columns_until_stable() {
    // Column tier_very_high: A = 3 (small), B = 20, C = 30, ALL = 53.
    // Row A: 3 alone in its partition -> its smallest non-zero sibling, high
    //        (10), goes too.
    // Column very_high: A alone redacted with ALL published -> smallest
    //        non-zero published, B (20), goes; mass 23 > 7.
    // Column high: A (10) redacted alone -> smallest non-zero, C (10, then
    //        B's 30 ...) -> C's high is 10 and B's is 30, so C.
    // Row B: very_high redacted alone -> smallest non-zero sibling: rising 15.
    // Row C: high redacted alone -> smallest non-zero sibling: very_high 30? no,
    //        rising 10 < 30 -> rising.
    // Column rising: B (15) and C (10) redacted, ALL published, mass 25 > 7: safe.
    let spec = tier_spec().with_total_row("ALL", TotalRowMethod::RoundedIndependently);
    let t = SummaryTable {
        spec,
        rows: vec![
            row("A", 100, [3, 10, 27, 60], 50),
            row("B", 100, [20, 30, 15, 35], 50),
            row("C", 100, [30, 10, 10, 50], 50),
        ],
    };
    let p = protect(&t, &NHS).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        shown(&p, 0),
        vec![Some(100), None, None, Some(25), Some(60), Some(50)]
    );
    assert_eq!(
        shown(&p, 1),
        vec![Some(100), None, Some(30), None, Some(35), Some(50)]
    );
    assert_eq!(
        shown(&p, 2),
        vec![Some(100), Some(30), None, None, Some(50), Some(50)]
    );
    // ALL = 300, 53, 50, 52, 145, 150 rounded independently
    assert_eq!(
        shown(&p, 3),
        vec![
            Some(300),
            Some(55),
            Some(50),
            Some(50),
            Some(145),
            Some(150)
        ]
    );
    assert!(p.report.secondary_passes >= 2);
}

#[test]
fn independent_total_row_protects_values_too() {
    // A's values are withheld (its group is small); the total row's sum
    // would give them back by subtraction, so a second group's go too (B,
    // withheld with its count), never the total.
    let spec = TableSpec::new("g", "population")
        .value("cost", "population", ValueKind::Sum)
        .with_total_row("ALL", TotalRowMethod::RoundedIndependently);
    let mk = |label: &str, n: u64, cost: f64| GroupRow {
        label: label.into(),
        counts: vec![n],
        values: vec![Some(cost)],
        contributions: Vec::new(),
    };
    let t = SummaryTable {
        spec,
        rows: vec![mk("A", 5, 100.0), mk("B", 50, 900.0), mk("C", 60, 800.0)],
    };
    let p = protect(&t, &NHS).unwrap_or_else(|e| panic!("{e}"));
    // population column: A small -> smallest other (B) redacted too.
    assert_eq!(shown(&p, 0), vec![None]);
    assert_eq!(shown(&p, 1), vec![None]);
    assert_eq!(shown(&p, 2), vec![Some(60)]);
    assert_eq!(shown(&p, 3), vec![Some(115)]);
    assert!(p.rows[0].values[0].is_redacted() && p.rows[1].values[0].is_redacted());
    assert_eq!(p.rows[3].values[0].value, Some(1800.0));
}

#[test]
fn a_cell_larger_than_its_total_names_column_and_row_but_no_count() {
    let t = table(vec![
        row("A", 100, [20, 20, 20, 40], 10),
        row("B", 10, [0, 0, 0, 10], 11),
    ]);
    let err = protect(&t, &OS).err();
    let msg = err.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(matches!(
        err,
        Some(DisclosureError::CellExceedsTotal { row: 2, ref column, .. }) if column == "ltc_copd"
    ));
    assert!(msg.contains("row 2") && msg.contains("`ltc_copd`") && msg.contains("`B`"));
    assert!(!msg.contains("11"), "never quote a count: {msg}");
}

#[test]
fn a_partition_that_does_not_add_up_is_an_error() {
    let t = table(vec![row("A", 100, [20, 20, 20, 30], 10)]);
    assert!(matches!(
        protect(&t, &OS),
        Err(DisclosureError::PartitionMismatch { row: 1, ref partition, .. }) if partition == "tier"
    ));
}

#[test]
fn bad_rows_and_specs_are_errors_not_panics() {
    let mut r = row("A", 100, [20, 20, 20, 40], 10);
    r.values[0] = Some(f64::NAN);
    assert!(matches!(
        protect(&table(vec![r]), &OS),
        Err(DisclosureError::NonFiniteValue { .. })
    ));
    let dup = table(vec![
        row("A", 100, [20, 20, 20, 40], 10),
        row("A", 100, [20, 20, 20, 40], 10),
    ]);
    assert!(matches!(
        protect(&dup, &OS),
        Err(DisclosureError::DuplicateGroup { row: 2, .. })
    ));
    let mut short = row("A", 100, [20, 20, 20, 40], 10);
    short.counts.pop();
    assert!(matches!(
        protect(&table(vec![short]), &OS),
        Err(DisclosureError::RowShape { .. })
    ));
    let bad_spec = SummaryTable {
        spec: TableSpec::new("g", "population").value("m", "nope", ValueKind::Mean),
        rows: vec![],
    };
    assert!(matches!(
        protect(&bad_spec, &OS),
        Err(DisclosureError::InvalidSpec { .. })
    ));
}

fn summary_frame() -> DataFrame {
    let cols = vec![
        Column::new("practice_code".into(), ["P1", "P2", "P3"]),
        Column::new("population".into(), [100i32, 5, 60]),
        Column::new("tier_very_high".into(), [3i32, 0, 10]),
        Column::new("tier_high".into(), [10i32, 0, 20]),
        Column::new("tier_rising".into(), [27i32, 1, 10]),
        Column::new("tier_low".into(), [60i32, 4, 20]),
        Column::new("segment_healthy".into(), [70i32, 5, 30]),
        Column::new("segment_frailty".into(), [30i32, 0, 30]),
        Column::new("ltc_copd".into(), [12i32, 1, 55]),
        Column::new("mean_risk".into(), [0.05f64, 0.2, 0.1]),
        Column::new("expected_admissions".into(), [5.0f64, 1.0, 6.0]),
        Column::new("expected_admissions_upper".into(), [7.0f64, 2.0, 8.0]),
        Column::new("cost_12m".into(), [Some(1e5f64), Some(1e3), None]),
    ];
    match DataFrame::new(3, cols) {
        Ok(df) => df,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn conventions_classify_every_column() {
    let df = summary_frame();
    let spec = TableSpec::by_convention(&df, "practice_code").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.partitions.len(), 2);
    assert_eq!(spec.partitions[0].cells.len(), 4);
    assert_eq!(spec.subsets, vec!["ltc_copd".to_string()]);
    let kinds: Vec<ValueKind> = spec.values.iter().map(|v| v.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ValueKind::Mean,
            ValueKind::Sum,
            ValueKind::Other,
            ValueKind::Sum
        ]
    );
}

#[test]
fn dataframe_round_trip_flags_every_redaction() {
    let df = summary_frame();
    let spec = TableSpec::by_convention(&df, "practice_code")
        .unwrap_or_else(|e| panic!("{e}"))
        .with_total_row("ALL", TotalRowMethod::ProfileDefault);
    let (out, report) = protect_dataframe(&df, &spec, &OS).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.height(), 4);
    assert_eq!(report.groups_suppressed, 1);
    let i32_at = |name: &str, r: usize| {
        out.column(name)
            .ok()
            .and_then(|c| c.i32().ok().and_then(|ca| ca.get(r)))
    };
    let flag_at = |name: &str, r: usize| {
        out.column(name)
            .ok()
            .and_then(|c| c.bool().ok().and_then(|ca| ca.get(r)))
    };
    // P1: very_high 3 redacted with high 10
    assert_eq!(i32_at("tier_very_high", 0), None);
    assert_eq!(flag_at("tier_very_high_redacted", 0), Some(true));
    assert_eq!(i32_at("tier_rising", 0), Some(25));
    assert_eq!(flag_at("tier_rising_redacted", 0), Some(false));
    // P2 suppressed whole
    assert_eq!(i32_at("population", 1), None);
    assert_eq!(flag_at("mean_risk_redacted", 1), Some(true));
    // P3: copd 55 of 60 -> complement 5 -> redacted
    assert_eq!(flag_at("ltc_copd_redacted", 2), Some(true));
    // total row = sum of published populations 100 + 60
    assert_eq!(i32_at("population", 3), Some(160));
    // P3's cost was missing, not redacted
    assert_eq!(flag_at("cost_12m_redacted", 2), Some(false));
    // no count column carries an unflagged null or a value in 1..=7
    for name in ["population", "tier_very_high", "tier_low", "ltc_copd"] {
        for r in 0..4 {
            match i32_at(name, r) {
                Some(v) => assert!(v == 0 || v > 7, "{name}[{r}]"),
                None => assert_eq!(flag_at(&format!("{name}_redacted"), r), Some(true)),
            }
        }
    }
}

#[test]
fn midpoint6_columns_are_renamed() {
    let df = summary_frame();
    let spec = TableSpec::by_convention(&df, "practice_code").unwrap_or_else(|e| panic!("{e}"));
    let (out, _) = protect_dataframe(&df, &spec, &MID6).unwrap_or_else(|e| panic!("{e}"));
    assert!(out.column("population_midpoint6").is_ok());
    assert!(out.column("population_midpoint6_redacted").is_ok());
    assert!(out.column("mean_risk").is_ok());
}

#[test]
fn an_unclassified_column_is_refused() {
    let mut df = summary_frame();
    let extra = Column::new("pcn_name".into(), ["x", "y", "z"]);
    if let Err(e) = df.with_column(extra) {
        panic!("{e}");
    }
    assert!(matches!(
        TableSpec::by_convention(&df, "practice_code"),
        Err(DisclosureError::UnclassifiedColumn { .. })
    ));
    let spec = tier_spec();
    assert!(matches!(
        from_dataframe(&df, &spec),
        Err(DisclosureError::UnclassifiedColumn { .. })
    ));
}

/// cost over people: groups of 10, the total row rounded independently.
fn cost_table(groups: &[(&str, u64, f64, [f64; 2])]) -> SummaryTable {
    SummaryTable {
        spec: TableSpec::new("g", "population")
            .value("cost", "population", ValueKind::Sum)
            .rounded_to(100.0)
            .with_total_row("ALL", TotalRowMethod::RoundedIndependently),
        rows: groups
            .iter()
            .map(|&(label, people, cost, largest)| GroupRow {
                label: label.into(),
                counts: vec![10],
                values: vec![Some(cost)],
                contributions: vec![Contributions { people, largest }],
            })
            .collect(),
    }
}

#[test]
fn a_sum_dominated_by_two_people_is_withheld_and_covered() {
    // A: £10,000 over 10 people, two of them £8,500 + £600 = 91% > 90%.
    // B: £4,000, two largest £900 + £800. C: £6,000, £700 + £650.
    let t = cost_table(&[
        ("A", 10, 10_000.0, [8_500.0, 600.0]),
        ("B", 10, 4_000.0, [900.0, 800.0]),
        ("C", 10, 6_000.0, [700.0, 650.0]),
    ]);
    let p = protect_release(&[t], &[], &OS, &Dominance::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0);
    let cost = |r: usize| p.rows[r].values[0];
    assert_eq!(cost(0).redacted, Some(RedactionReason::Dominance));
    // ALL = A + B + C: B, the smallest published, is withheld so A cannot be
    // recovered; A + B together (£14,000, largest £8,500 + £900 = 67%)
    // pass the rule.
    assert_eq!(cost(1).redacted, Some(RedactionReason::Secondary));
    assert_eq!(cost(2).value, Some(6_000.0));
    assert_eq!(cost(3).value, Some(20_000.0));
    assert_eq!(p.report.values_dominated, 1);
    // counts are untouched, the rows say they are incomplete
    assert!(
        p.rows
            .iter()
            .all(|r| r.counts[0].value == Some(10) || r.is_total)
    );
    assert_eq!(
        p.rows.iter().map(|r| r.complete).collect::<Vec<_>>(),
        [false, false, true, false]
    );
    // With 89% it passes.
    let t = cost_table(&[
        ("A", 10, 10_000.0, [8_300.0, 600.0]),
        ("B", 10, 4_000.0, [900.0, 800.0]),
    ]);
    let p = protect(&t, &OS).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.rows[0].values[0].value, Some(10_000.0));
    assert!(p.rows.iter().all(|r| r.complete));
}

#[test]
fn a_sum_over_few_known_values_is_withheld_and_sums_are_rounded() {
    // A has 10 people but only 5 known costs; B's £4,049.99 is published
    // as £4,000 and C's £6,050 as £6,100 (half away from zero).
    let t = cost_table(&[
        ("A", 5, 1_000.0, [300.0, 250.0]),
        ("B", 10, 4_049.99, [900.0, 800.0]),
        ("C", 10, 6_050.0, [700.0, 650.0]),
    ]);
    let p = protect(&t, &OS).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        p.rows[0].values[0].redacted,
        Some(RedactionReason::SmallDescribedCount)
    );
    assert!(p.rows[1].values[0].is_redacted());
    assert_eq!(p.rows[2].values[0].value, Some(6_100.0));
    // the total is the rounded true total: 11,099.99 -> 11,100
    assert_eq!(p.rows[3].values[0].value, Some(11_100.0));
}
