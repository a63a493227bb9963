//! Releases built to leak, one per attack, each worked out by hand; and the
//! release engine's output, which must leak nothing.

use polars::prelude::*;
use proptest::prelude::*;

use super::*;
use crate::governance::disclosure::{
    Contributions, Dominance, GroupRow, Link, SummaryTable, TableSpec, TotalRowMethod, ValueKind,
    protect, protect_release, to_dataframe,
};

const TIERS: [&str; 4] = ["tier_very_high", "tier_high", "tier_rising", "tier_low"];

fn rules(profile: &str) -> AuditRules {
    AuditRules {
        profile: profile.parse().expect("profile"),
        total_label: "ALL".into(),
        sums: vec![("cost".into(), 100.0)],
        ratios: vec![Ratio {
            name: "mean_risk".into(),
            numerator: "expected".into(),
            denominator: "population".into(),
            decimals: 4,
        }],
    }
}

/// A published table: per row the label, population and four tiers
/// (`None` = withheld), and whether the row says it is complete.
fn published(group: &str, rows: &[(&str, [Option<i32>; 5], bool)]) -> DataFrame {
    let mut columns = vec![Column::new(
        group.into(),
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
    )];
    for (k, name) in std::iter::once("population").chain(TIERS).enumerate() {
        columns.push(Column::new(
            name.into(),
            rows.iter().map(|r| r.1[k]).collect::<Vec<_>>(),
        ));
        columns.push(Column::new(
            format!("{name}_redacted").into(),
            rows.iter().map(|r| r.1[k].is_none()).collect::<Vec<_>>(),
        ));
    }
    columns.push(Column::new(
        "complete".into(),
        rows.iter().map(|r| r.2).collect::<Vec<_>>(),
    ));
    DataFrame::new_infer_height(columns).expect("frame")
}

/// Adds a float column and its withheld flag.
fn with_value(mut frame: DataFrame, name: &str, values: &[Option<f64>]) -> DataFrame {
    frame
        .with_column(Column::new(name.into(), values.to_vec()))
        .expect("value");
    frame
        .with_column(Column::new(
            format!("{name}_redacted").into(),
            values.iter().map(Option::is_none).collect::<Vec<_>>(),
        ))
        .expect("flag");
    frame
}

fn attacks(findings: &[Finding]) -> Vec<Attack> {
    let mut a: Vec<Attack> = findings.iter().map(|f| f.attack).collect();
    a.dedup();
    a
}

fn run(tables: &[(&str, &DataFrame)], links: &[Hierarchy], profile: &str) -> Vec<Finding> {
    audit(tables, links, &rules(profile)).expect("audit")
}

#[test]
fn a_safe_release_passes() {
    // ALL 40 = A 20 + B 20; within each row the tiers add up within rounding.
    let t = published(
        "sex",
        &[
            ("F", [Some(20), Some(0), Some(0), Some(10), Some(10)], true),
            ("M", [Some(20), Some(0), Some(0), Some(10), Some(10)], true),
            (
                "ALL",
                [Some(40), Some(0), Some(0), Some(20), Some(20)],
                true,
            ),
        ],
    );
    assert_eq!(run(&[("sex", &t)], &[], "opensafely"), []);
}

#[test]
fn small_and_unrounded_counts_are_found() {
    let t = published(
        "sex",
        &[
            ("F", [Some(20), Some(5), Some(0), Some(5), Some(10)], true),
            ("M", [Some(22), Some(0), Some(0), Some(12), Some(10)], true),
            (
                "ALL",
                [Some(40), Some(5), Some(0), Some(15), Some(20)],
                true,
            ),
        ],
    );
    let findings = run(&[("sex", &t)], &[], "opensafely");
    let small = findings
        .iter()
        .filter(|f| f.attack == Attack::SmallCountPublished)
        .count();
    let unrounded = findings
        .iter()
        .filter(|f| f.attack == Attack::NotRounded)
        .count();
    // 5 published three times (F very high, F rising, ALL very high); 22 and 12 not multiples of 5.
    assert_eq!((small, unrounded), (3, 2), "{findings:#?}");
}

#[test]
fn a_withheld_cell_pinned_by_a_published_zero_total_is_found() {
    // Group A: population 10, very high and high withheld, low 10. ALL high
    // is published as 0, so A's high is 0; ALL very high 20 less B's 15
    // leaves A's very high in 1..=4 — four possible values, fewer than the
    // rounding base: by hand, ALL [18,22] − B [13,17] = [1,9], and A's row
    // 10 [8,12] − low 10 [8,12] − high 0 = [0,4]; together [1,4].
    let t = published(
        "sex",
        &[
            ("A", [Some(10), None, None, Some(0), Some(10)], false),
            ("B", [Some(15), Some(15), Some(0), Some(0), Some(0)], true),
            (
                "ALL",
                [Some(25), Some(20), Some(0), Some(0), Some(10)],
                false,
            ),
        ],
    );
    let findings = run(&[("sex", &t)], &[], "opensafely");
    let narrowed: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f.attack == Attack::IntervalNarrowing)
        .map(|f| (f.group.as_str(), f.column.as_str()))
        .collect();
    assert!(narrowed.contains(&("A", "tier_high")), "{findings:#?}");
    assert!(narrowed.contains(&("A", "tier_very_high")), "{findings:#?}");
    let exact = findings
        .iter()
        .find(|f| f.column == "tier_high" && f.group == "A");
    assert_eq!(exact.map(|f| f.detail.as_str()), Some("recovered exactly"));
    let four = findings
        .iter()
        .find(|f| f.column == "tier_very_high" && f.group == "A");
    assert_eq!(
        four.map(|f| f.detail.as_str()),
        Some("narrowed to 4 possible values")
    );
}

#[test]
fn withheld_cells_whose_sum_is_small_are_found() {
    // ALL 100 [98,102] less A 100 [98,102]: B + C hold 0..=4 people.
    let t = published(
        "sex",
        &[
            ("A", [Some(100), Some(0), Some(0), Some(0), Some(100)], true),
            ("B", [None, None, None, None, None], false),
            ("C", [None, None, None, None, None], false),
            (
                "ALL",
                [Some(100), Some(0), Some(0), Some(0), Some(100)],
                false,
            ),
        ],
    );
    let findings = run(&[("sex", &t)], &[], "opensafely");
    assert!(
        attacks(&findings).contains(&Attack::SmallWithheldSum),
        "{findings:#?}"
    );
}

#[test]
fn a_total_that_its_parts_cannot_reach_is_inconsistent() {
    // The old "sum of protected cells" totals: ALL 100 but the groups add
    // up to 66..=74.
    let t = published(
        "sex",
        &[
            ("A", [Some(50), Some(0), Some(0), Some(0), Some(50)], true),
            ("B", [Some(20), Some(0), Some(0), Some(0), Some(20)], true),
            (
                "ALL",
                [Some(100), Some(0), Some(0), Some(0), Some(100)],
                true,
            ),
        ],
    );
    let findings = run(&[("sex", &t)], &[], "opensafely");
    assert_eq!(attacks(&findings), [Attack::Inconsistent], "{findings:#?}");
}

#[test]
fn a_mean_that_is_not_derived_from_published_figures_is_inverted() {
    // Population published 10 (true 12), expected 3: a mean of 3/12 = 0.25
    // reveals the 12; 3/10 = 0.3 reveals nothing.
    let base = published(
        "sex",
        &[
            ("F", [Some(10), Some(0), Some(0), Some(0), Some(10)], true),
            ("M", [Some(10), Some(0), Some(0), Some(0), Some(10)], true),
            ("ALL", [Some(20), Some(0), Some(0), Some(0), Some(20)], true),
        ],
    );
    let base = with_value(base, "expected", &[Some(3.0), Some(3.0), Some(6.0)]);
    let leaky = with_value(
        base.clone(),
        "mean_risk",
        &[Some(0.25), Some(0.3), Some(0.3)],
    );
    let findings = run(&[("sex", &leaky)], &[], "opensafely");
    assert_eq!(
        attacks(&findings),
        [Attack::RatioInversion],
        "{findings:#?}"
    );
    assert_eq!(findings[0].group, "F");
    // 3 / n = 0.25 for n = 12 only, among the 8..=12 that round to 10.
    assert!(
        findings[0].detail.contains("to 1 of"),
        "{}",
        findings[0].detail
    );
    let safe = with_value(base, "mean_risk", &[Some(0.3), Some(0.3), Some(0.3)]);
    assert_eq!(run(&[("sex", &safe)], &[], "opensafely"), []);
}

/// A PCN of three practices, P3 suppressed (its population is small).
/// With `exact` counts (no rounding) the totals are the true sums.
fn practices(cost_p2: Option<f64>, exact: bool) -> (DataFrame, DataFrame, Vec<Hierarchy>) {
    let total = if exact {
        [Some(105), Some(22), Some(21), Some(21), Some(41)]
    } else {
        [Some(105), Some(20), Some(20), Some(20), Some(40)]
    };
    let p = published(
        "practice_code",
        &[
            (
                "P1",
                [Some(50), Some(10), Some(10), Some(10), Some(20)],
                true,
            ),
            (
                "P2",
                [Some(50), Some(10), Some(10), Some(10), Some(20)],
                cost_p2.is_some(),
            ),
            ("P3", [None, None, None, None, None], false),
            // P3 (5 people) has 2, 1, 1 and 1 in the tiers.
            ("ALL", total, false),
        ],
    );
    let p = with_value(p, "cost", &[Some(5000.0), cost_p2, None, Some(11_000.0)]);
    let n = published("pcn_code", &[("N1", total, true), ("ALL", total, true)]);
    let n = with_value(n, "cost", &[Some(11_000.0), Some(11_000.0)]);
    let links = vec![Hierarchy {
        parent_dimension: "pcn_code".into(),
        parent: "N1".into(),
        child_dimension: "practice_code".into(),
        children: vec!["P1".into(), "P2".into(), "P3".into()],
        columns: Vec::new(),
    }];
    (p, n, links)
}

#[test]
fn the_only_withheld_sum_of_a_hierarchy_is_recovered() {
    let (p, n, links) = practices(Some(5000.0), true);
    let findings = run(
        &[("practice_code", &p), ("pcn_code", &n)],
        &links,
        "custom:7:1",
    );
    let sums: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f.attack == Attack::SumDifferencing)
        .map(|f| (f.group.as_str(), f.column.as_str()))
        .collect();
    // P3's cost = N1's − P1's − P2's, and = ALL's − P1's − P2's.
    assert_eq!(sums, [("P3", "cost"), ("P3", "cost")], "{findings:#?}");
    // Its counts too, with exact counts (no rounding).
    assert!(attacks(&findings).contains(&Attack::IntervalNarrowing));
    // Without the hierarchy only the ALL row gives it away.
    let alone = run(&[("practice_code", &p)], &[], "custom:7:1");
    assert!(attacks(&alone).contains(&Attack::SumDifferencing));
}

#[test]
fn two_withheld_sums_over_few_people_are_recovered_together() {
    // P2's cost is withheld too, but P2 + P3 hold 50 people: safe.
    let (p, n, links) = practices(None, false);
    let findings = run(
        &[("practice_code", &p), ("pcn_code", &n)],
        &links,
        "opensafely",
    );
    assert!(
        !attacks(&findings).contains(&Attack::SumDifferencing),
        "{findings:#?}"
    );
    // If P2 were withheld whole and small, P2 + P3 would be a small group.
    let small = published(
        "practice_code",
        &[
            (
                "P1",
                [Some(100), Some(0), Some(0), Some(0), Some(100)],
                true,
            ),
            ("P2", [None, None, None, None, None], false),
            ("P3", [None, None, None, None, None], false),
            ("ALL", [Some(100), None, None, None, Some(100)], false),
        ],
    );
    let small = with_value(small, "cost", &[Some(5000.0), None, None, Some(6000.0)]);
    let findings = run(&[("practice_code", &small)], &[], "opensafely");
    assert!(
        attacks(&findings).contains(&Attack::SumDifferencing),
        "{findings:#?}"
    );
}

#[test]
fn an_all_row_that_hides_withheld_parts_is_found() {
    // B and C together hold 13..=24 people and 1..=9 of each tier.
    let rows = [
        (
            "A",
            [Some(50), Some(10), Some(10), Some(10), Some(20)],
            true,
        ),
        ("B", [None, None, None, None, None], false),
        ("C", [None, None, None, None, None], false),
        (
            "ALL",
            [Some(70), Some(15), Some(15), Some(15), Some(25)],
            true,
        ),
    ];
    let t = published("sex", &rows);
    let findings = run(&[("sex", &t)], &[], "opensafely");
    assert_eq!(
        attacks(&findings),
        [Attack::PartialTotalUnflagged],
        "{findings:#?}"
    );
    let mut flagged = rows;
    flagged[3].2 = false;
    assert_eq!(
        run(&[("sex", &published("sex", &flagged))], &[], "opensafely"),
        []
    );
}

/// Two linked tables of random people: practices inside PCNs.
fn population() -> impl Strategy<Value = Vec<(u8, u8, f64)>> {
    // (practice 0..6, tier 0..4, cost); now and then one very costly
    // person, so that the dominance rule withholds sums on its own.
    let cost = prop_oneof![9 => 0.0..300.0f64, 1 => 20_000.0..90_000.0f64];
    prop::collection::vec((0u8..6, 0u8..4, cost), 0..400)
}

fn tables(people: &[(u8, u8, f64)]) -> (SummaryTable, SummaryTable, Vec<Link>, Vec<Hierarchy>) {
    let pcn_of = |p: u8| if p < 3 { "N1" } else { "N2" };
    let build = |group: &str, label_of: &dyn Fn(u8) -> String, labels: Vec<String>| {
        let rows = labels
            .iter()
            .map(|label| {
                let members: Vec<&(u8, u8, f64)> = people
                    .iter()
                    .filter(|(p, _, _)| label_of(*p) == *label)
                    .collect();
                let mut counts = vec![members.len() as u64, 0, 0, 0, 0];
                let mut costs: Vec<f64> = Vec::new();
                for (_, tier, cost) in &members {
                    counts[1 + usize::from(*tier)] += 1;
                    costs.push(*cost);
                }
                costs.sort_by(|a, b| b.total_cmp(a));
                GroupRow {
                    label: label.clone(),
                    counts,
                    values: vec![Some(costs.iter().sum())],
                    contributions: vec![Contributions {
                        people: costs.len() as u64,
                        largest: [
                            costs.first().copied().unwrap_or(0.0),
                            costs.get(1).copied().unwrap_or(0.0),
                        ],
                    }],
                }
            })
            .collect();
        SummaryTable {
            spec: TableSpec::new(group, "population")
                .partition("tier", TIERS)
                .value("cost", "population", ValueKind::Sum)
                .rounded_to(100.0)
                .with_total_row("ALL", TotalRowMethod::RoundedIndependently),
            rows,
        }
    };
    let practices: Vec<String> = (0..6).map(|p| format!("P{p}")).collect();
    let p = build("practice_code", &|p| format!("P{p}"), practices);
    let n = build(
        "pcn_code",
        &|p| pcn_of(p).to_string(),
        vec!["N1".into(), "N2".into()],
    );
    let links: Vec<Link> = ["N1", "N2"]
        .iter()
        .enumerate()
        .map(|(i, pcn)| Link {
            parent_table: 1,
            parent: pcn.to_string(),
            child_table: 0,
            children: (0..3).map(|k| format!("P{}", 3 * i + k)).collect(),
            columns: Vec::new(),
        })
        .collect();
    let hierarchy = links
        .iter()
        .map(|l| Hierarchy {
            parent_dimension: "pcn_code".into(),
            parent: l.parent.clone(),
            child_dimension: "practice_code".into(),
            children: l.children.clone(),
            columns: Vec::new(),
        })
        .collect();
    (p, n, links, hierarchy)
}

fn cases() -> u32 {
    std::env::var("STRATA_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(96)
}

fn sum_rules(profile: DisclosureProfile) -> AuditRules {
    AuditRules {
        profile,
        total_label: "ALL".into(),
        sums: vec![("cost".into(), 100.0)],
        ratios: Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Whatever the population, the release engine's output survives the
    /// attack; protecting each table on its own does not always.
    #[test]
    fn the_release_engine_leaks_nothing_the_audit_can_find(people in population()) {
        let (p, n, links, hierarchy) = tables(&people);
        let profile = DisclosureProfile::default();
        let released = protect_release(&[p, n], &links, &profile, &Dominance::default())
            .expect("protect");
        let frames: Vec<DataFrame> = released.iter().map(|t| to_dataframe(t).expect("frame")).collect();
        let findings = audit(
            &[("practice_code", &frames[0]), ("pcn_code", &frames[1])],
            &hierarchy,
            &sum_rules(profile),
        ).expect("audit");
        prop_assert!(findings.is_empty(), "{findings:#?}");
    }
}

#[test]
fn protecting_tables_one_by_one_leaks_through_the_hierarchy() {
    // N1 = P0 + P1 + P2 with P2 small (5 people): alone, each table is
    // safe, but N1's cost less P0's and P1's is P2's.
    let mut people = Vec::new();
    // P3 is the smallest practice after P2 and the cheapest, so protecting
    // the practices alone withholds P3 (in N2) to cover P2 (in N1).
    for (practice, n) in [(0u8, 40), (1, 40), (2, 5), (3, 30), (4, 40), (5, 40)] {
        for i in 0..n {
            let cost = if practice == 3 { 10.0 } else { 100.0 } + f64::from(i);
            people.push((practice, (i % 4) as u8, cost));
        }
    }
    let (p, n, links, hierarchy) = tables(&people);
    let profile = DisclosureProfile::default();
    let one_by_one = [
        to_dataframe(&protect(&p, &profile).expect("p")).expect("frame"),
        to_dataframe(&protect(&n, &profile).expect("n")).expect("frame"),
    ];
    let tables = [
        ("practice_code", &one_by_one[0]),
        ("pcn_code", &one_by_one[1]),
    ];
    let findings = audit(&tables, &hierarchy, &sum_rules(profile)).expect("audit");
    assert!(
        findings
            .iter()
            .any(|f| f.attack == Attack::SumDifferencing && f.group == "P2"),
        "{findings:#?}"
    );
    let released =
        protect_release(&[p, n], &links, &profile, &Dominance::default()).expect("release");
    let frames: Vec<DataFrame> = released
        .iter()
        .map(|t| to_dataframe(t).expect("frame"))
        .collect();
    let tables = [("practice_code", &frames[0]), ("pcn_code", &frames[1])];
    assert_eq!(
        audit(&tables, &hierarchy, &sum_rules(profile)).expect("audit"),
        []
    );
}

#[test]
fn the_hierarchy_table_round_trips() {
    let (_, _, _, mut hierarchy) = tables(&[]);
    hierarchy.push(Hierarchy {
        parent_dimension: "core20plus5.copd".into(),
        parent: "yes".into(),
        child_dimension: "pcn_code".into(),
        children: vec!["ALL".into()],
        columns: vec![("population".into(), "ltc_copd".into())],
    });
    let back = read_hierarchy(&hierarchy_frame(&hierarchy).expect("frame")).expect("read");
    assert_eq!(back, hierarchy);
}
