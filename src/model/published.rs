//! Disclosure control of an evaluation: the figures a model file, model
//! card, evaluation JSON and evaluation report may publish.
//!
//! Those files are shared beyond the analytics team (model governance,
//! commissioners, suppliers), so they follow the same small-number rules as
//! the planning summaries (`governance::disclosure`, docs/disclosure-control.md,
//! section "Model files, model card, evaluation and report"):
//!
//! - **Counts** of people or events (n, events, decile n and events, people
//!   flagged at the top of the list and those of them with the outcome) go
//!   through [`protect`]: a count of 1–t is withheld (null), the others are
//!   rounded; a count of events whose complement (people without the outcome)
//!   is 1–t is withheld too. Decile and subgroup tables are protected as
//!   tables with the overall figures as their total row, so secondary
//!   suppression stops a withheld cell being recovered by subtraction.
//! - **Rates** (prevalence, observed rate and its Wilson interval, PPV,
//!   sensitivity, observed / expected) are computed from the *published*
//!   counts, so they reveal nothing the rounded counts do not (an exact rate
//!   with a rounded denominator gives the exact count back).
//! - **Figures that describe 1–t people** are withheld whatever the profile
//!   (under midpoint-6 too, where counts are labels): every figure that
//!   depends on the outcome (AUC, average precision, Brier score,
//!   calibration, observed / expected, the oracle AUCs, the curves) when the
//!   people with the outcome or those without it number 1–t; a mean risk
//!   over 1–t people; the risk cut-off of a top share flagging 1–t people.
//! - **Curves** are drawn from rounded cumulative counts, and a point where
//!   either cumulative count is 1–t is left out, so the first points of a
//!   ROC curve cannot tell the outcome of the few highest-risk people.
//! - **Fairness flags** are raised on the exact figures in memory (by
//!   [`super::evaluate`]); a flag keeps its kind and limit, and its value
//!   only when that figure is published.
//!
//! A withheld figure is `null` in JSON, never 0, and every record that lost
//! a figure says which and why in its `withheld` note.

use crate::governance::disclosure::{
    Cell, DisclosureProfile, GroupRow, Rounding, SummaryTable, TableSpec, TotalRowMethod, protect,
};

use super::calibration::DecileRow;
use super::metrics::{Ranked, Z_95, wilson_interval};
use super::schema::{DisclosureApplied, Evaluation, Metrics, Subgroup, TopShare};

/// The small-number rule of one profile, applied to counts one at a time
/// and to tables of (people, events) with a total row.
#[derive(Debug, Clone, Copy)]
pub struct Control {
    profile: DisclosureProfile,
}

impl Control {
    pub fn new(profile: DisclosureProfile) -> Control {
        Control { profile }
    }

    /// Counts of 1 to this many people are withheld.
    pub fn threshold(&self) -> u64 {
        self.profile.redact_at_or_below()
    }

    /// Whether `x` people is a small number (1–t): a figure describing them is withheld.
    pub fn is_small(&self, x: u64) -> bool {
        (1..=self.threshold()).contains(&x)
    }

    /// One count: `None` when 1–t (a midpoint profile shows its label
    /// instead), otherwise rounded.
    pub fn count(&self, x: u64) -> Option<u64> {
        if self.is_small(x) && !self.profile.is_midpoint() {
            None
        } else {
            Some(self.profile.rounding().apply(x))
        }
    }

    /// A count of people with a property among `of` people: withheld when
    /// it, or the people without the property, number 1–t ("45 of 50"
    /// tells that 5 do not).
    pub fn subset(&self, x: u64, of: u64) -> Option<u64> {
        if !self.profile.is_midpoint() && self.is_small(of.saturating_sub(x)) {
            None
        } else {
            self.count(x)
        }
    }

    /// What is recorded in the evaluation.
    pub fn applied(&self) -> DisclosureApplied {
        DisclosureApplied {
            profile: self.profile.to_string(),
            redact_at_or_below: self.threshold(),
            rounding: match self.profile.rounding() {
                Rounding::NearestHalfUp { base } if base <= 1 => "none".into(),
                Rounding::NearestHalfUp { base } => format!("nearest {base}"),
                Rounding::Midpoint { width } => format!("midpoint {width}"),
            },
        }
    }

    /// The reason written beside a withheld figure.
    fn why(&self) -> String {
        format!("1–{} people, profile {}", self.threshold(), self.profile)
    }

    /// Protects rows of (people, events) with the exact `total` as a total
    /// row rounded independently: small counts, small complements and
    /// secondary suppression as in the planning summaries. Returns the
    /// published (people, events) of each row, then of the total.
    fn table(
        &self,
        rows: &[(String, u64, u64)],
        total: (u64, u64),
    ) -> Vec<(Option<u64>, Option<u64>)> {
        let spec = TableSpec::new("group", "people")
            .subset("events")
            .with_total_row(TOTAL_LABEL, TotalRowMethod::RoundedIndependently);
        let table = SummaryTable {
            spec,
            rows: rows
                .iter()
                .map(|(label, n, events)| GroupRow {
                    label: label.clone(),
                    counts: vec![*n, (*events).min(*n)],
                    values: vec![],
                })
                .collect(),
        };
        let cell = |c: &Cell<u64>| if c.is_redacted() { None } else { c.value };
        match protect(&table, &self.profile) {
            Ok(t) => t
                .rows
                .iter()
                .map(|r| (cell(&r.counts[0]), cell(&r.counts[1])))
                .collect(),
            // Only a caller bug reaches here (a label clash, events above
            // people); publish nothing rather than something unprotected.
            Err(_) => {
                let mut out = vec![(None, None); rows.len()];
                out.push((self.count(total.0), self.subset(total.1, total.0)));
                out
            }
        }
    }
}

/// (x, y) points of a curve.
type Points = Vec<(f64, f64)>;

/// The total row's label in the tables protected here (never a group label:
/// deciles are numbers and subgroup labels are checked against it).
const TOTAL_LABEL: &str = "\u{1}overall";

/// `a / b` of published counts; `None` when either is withheld or `b` is 0.
fn ratio(a: Option<u64>, b: Option<u64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0 => Some(a as f64 / b as f64),
        _ => None,
    }
}

/// The evaluation with only disclosure-controlled figures. `exact` comes
/// from [`super::evaluate::evaluate_exact`] on the same rows as `ranked`
/// (needed for the overall curves).
pub fn control(exact: &Evaluation, ranked: &Ranked, profile: &DisclosureProfile) -> Evaluation {
    let c = Control::new(*profile);
    let overall = metrics(&c, &exact.overall, Some(ranked));
    let outcome_small = outcome_is_small(&c, &exact.overall);
    let subgroups = subgroups(&c, exact);
    Evaluation {
        context: exact.context.clone(),
        oracle_auc: exact.oracle_auc.filter(|_| !outcome_small),
        record_oracle_auc: exact.record_oracle_auc.filter(|_| !outcome_small),
        overall,
        subgroups,
        options: exact.options.clone(),
        disclosure: Some(c.applied()),
    }
}

/// Whether the people with the outcome, or those without it, number 1–t
/// (or the people themselves): then every figure that depends on the
/// outcome describes them.
fn outcome_is_small(c: &Control, m: &Metrics) -> bool {
    let n = m.n.unwrap_or(0);
    let events = m.events.unwrap_or(0);
    c.is_small(n) || c.is_small(events) || c.is_small(n.saturating_sub(events))
}

/// Controlled metrics of one set of people; `ranked` (the same rows) gives
/// the curves, which are left empty without it.
fn metrics(c: &Control, exact: &Metrics, ranked: Option<&Ranked>) -> Metrics {
    let n = exact.n.unwrap_or(0);
    let events = exact.events.unwrap_or(0);
    let small_outcome = outcome_is_small(c, exact);
    let decile_rows: Vec<(String, u64, u64)> = exact
        .deciles
        .iter()
        .map(|d| {
            (
                d.decile.to_string(),
                d.n.unwrap_or(0),
                d.events.unwrap_or(0),
            )
        })
        .collect();
    let table = c.table(&decile_rows, (n, events));
    let (pub_n, pub_events) = table
        .last()
        .copied()
        .unwrap_or((c.count(n), c.subset(events, n)));
    let deciles: Vec<DecileRow> = exact
        .deciles
        .iter()
        .zip(&table)
        .map(|(d, &(dn, de))| decile(c, d, dn, de))
        .collect();
    let top: Vec<TopShare> = exact
        .top
        .iter()
        .map(|t| top_share(c, t, pub_events, small_outcome))
        .collect();
    let keep = |v: Option<f64>| v.filter(|_| !small_outcome);
    let prevalence = ratio(pub_events, pub_n).filter(|_| !small_outcome);
    let mean_risk = exact.mean_risk.filter(|_| !c.is_small(n));
    let (roc, pr) = match ranked {
        Some(r) if !small_outcome => curves(c, r),
        _ => (Vec::new(), Vec::new()),
    };
    let mut withheld = Vec::new();
    if small_outcome && n > 0 {
        withheld.push(format!(
            "every figure that depends on the outcome (AUC, calibration, rates, curves): the people with or without it are few ({})",
            c.why()
        ));
    }
    if deciles_lost(&exact.deciles, &deciles) {
        withheld.push(format!(
            "some decile counts and rates: small counts ({}) and counts that would reveal them by subtraction",
            c.why()
        ));
    }
    Metrics {
        n: pub_n,
        events: pub_events,
        prevalence,
        mean_risk,
        auc: exact.auc.filter(|_| !small_outcome),
        auprc: keep(exact.auprc),
        brier: keep(exact.brier),
        calibration: if small_outcome {
            super::schema::Recalibration {
                intercept: None,
                slope: None,
                slope_fit_intercept: None,
            }
        } else {
            exact.calibration
        },
        // Σ events / Σ risk = prevalence / mean risk, of the published figures.
        observed_expected: match (prevalence, mean_risk) {
            (Some(p), Some(m)) if m > 0.0 => Some(p / m),
            _ => None,
        },
        deciles,
        top,
        roc,
        pr,
        withheld: (!withheld.is_empty()).then(|| withheld.join("; ")),
    }
}

fn deciles_lost(exact: &[DecileRow], published: &[DecileRow]) -> bool {
    exact.iter().zip(published).any(|(e, p)| {
        (e.n.is_some() && p.n.is_none()) || (e.events.is_some() && p.events.is_none())
    })
}

/// One decile with its published counts `n` and `events` (from the table).
fn decile(c: &Control, d: &DecileRow, n: Option<u64>, events: Option<u64>) -> DecileRow {
    let exact_n = d.n.unwrap_or(0);
    let exact_events = d.events.unwrap_or(0);
    // Under midpoint-6 a small count is a label, but a rate over it still
    // describes 1–t people.
    let rate_allowed =
        !c.is_small(exact_events) && !c.is_small(exact_n.saturating_sub(exact_events));
    let observed = ratio(events, n).filter(|_| rate_allowed);
    let interval = match (events, n) {
        (Some(e), Some(m)) if rate_allowed => wilson_interval(e, m, Z_95),
        _ => None,
    };
    DecileRow {
        decile: d.decile,
        n,
        events,
        mean_risk: d.mean_risk.filter(|_| n.is_some() && !c.is_small(exact_n)),
        observed,
        observed_lower: interval.map(|i| i.0),
        observed_upper: interval.map(|i| i.1),
    }
}

/// One top share: counts rounded, rates from them, the cut-off withheld
/// with a small number of people flagged.
fn top_share(
    c: &Control,
    t: &TopShare,
    published_events: Option<u64>,
    small_outcome: bool,
) -> TopShare {
    let flagged_exact = t.flagged.unwrap_or(0);
    let tp_exact = t.true_positives.unwrap_or(0);
    let flagged = c.count(flagged_exact);
    let true_positives = c
        .subset(tp_exact, flagged_exact)
        .filter(|_| !small_outcome && !c.is_small(tp_exact));
    let flagged_small = c.is_small(flagged_exact);
    TopShare {
        share: t.share,
        target: t.target.and_then(|x| c.count(x)),
        flagged,
        threshold: t.threshold.filter(|_| !flagged_small),
        true_positives,
        ppv: ratio(true_positives, flagged),
        sensitivity: ratio(true_positives, published_events),
    }
}

/// ROC and PR points from rounded cumulative counts, highest risk first:
/// a cut-off where the people flagged with, or without, the outcome number
/// 1–t is left out, and the rest divide rounded counts by rounded totals.
fn curves(c: &Control, ranked: &Ranked) -> (Points, Points) {
    let events = ranked.events();
    let non_events = ranked.len() as u64 - events;
    let (Some(p), Some(q)) = (c.count(events), c.count(non_events)) else {
        return (Vec::new(), Vec::new());
    };
    if p == 0 {
        return (Vec::new(), Vec::new());
    }
    let rounding = |x: u64| c.profile.rounding().apply(x);
    let mut roc = vec![(0.0, 0.0)];
    let mut pr = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    for block in ranked.blocks() {
        tp += block.events;
        fp += block.non_events();
        if c.is_small(tp) || c.is_small(fp) {
            continue;
        }
        let (rtp, rfp) = (rounding(tp).min(p), rounding(fp).min(q));
        if q > 0 {
            let point = (rfp as f64 / q as f64, rtp as f64 / p as f64);
            if roc.last() != Some(&point) {
                roc.push(point);
            }
        }
        if rtp + rfp > 0 {
            let point = (rtp as f64 / p as f64, rtp as f64 / (rtp + rfp) as f64);
            if pr.last() != Some(&point) {
                pr.push(point);
            }
        }
    }
    if q == 0 {
        roc.clear();
    }
    (
        super::curves::decimate(roc, super::evaluate::CURVE_POINTS),
        super::curves::decimate(pr, super::evaluate::CURVE_POINTS),
    )
}

/// Subgroups: each attribute's groups protected as one table of (people,
/// events) with the overall figures as its total row; each estimable
/// group's metrics controlled like the overall ones.
fn subgroups(c: &Control, exact: &Evaluation) -> Vec<Subgroup> {
    let total = (
        exact.overall.n.unwrap_or(0),
        exact.overall.events.unwrap_or(0),
    );
    let mut out = Vec::with_capacity(exact.subgroups.len());
    let mut start = 0;
    while start < exact.subgroups.len() {
        let attribute = &exact.subgroups[start].attribute;
        let end = start
            + exact.subgroups[start..]
                .iter()
                .take_while(|s| &s.attribute == attribute)
                .count();
        let groups = &exact.subgroups[start..end];
        let rows: Vec<(String, u64, u64)> = groups
            .iter()
            .map(|s| (s.group.clone(), s.n.unwrap_or(0), s.events.unwrap_or(0)))
            .collect();
        let table = c.table(&rows, total);
        for (s, &(n, events)) in groups.iter().zip(&table) {
            out.push(subgroup(c, s, n, events));
        }
        start = end;
    }
    out
}

fn subgroup(c: &Control, s: &Subgroup, n: Option<u64>, events: Option<u64>) -> Subgroup {
    let metrics = s.metrics.as_ref().map(|m| {
        let mut m = metrics(c, m, None);
        // The group's own counts are those of the attribute's table, which
        // may withhold more (secondary suppression).
        if n.is_none() {
            m.n = None;
            m.mean_risk = None;
        }
        if events.is_none() || n.is_none() {
            m.events = None;
            m.prevalence = None;
            m.observed_expected = None;
        }
        m
    });
    let small_outcome = s.metrics.as_ref().is_some_and(|m| outcome_is_small(c, m))
        || s.n.is_some_and(|n| c.is_small(n));
    let flags = s
        .flags
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if small_outcome {
                f.value = None;
            }
            f
        })
        .collect();
    let mut withheld = Vec::new();
    if n.is_none() || events.is_none() {
        withheld.push(format!(
            "{} withheld: a small count ({}) or one that would reveal it by subtraction",
            match (n.is_none(), events.is_none()) {
                (true, true) => "people and people with the outcome",
                (true, false) => "people",
                _ => "people with the outcome",
            },
            c.why()
        ));
    }
    if small_outcome && s.metrics.is_some() {
        withheld.push(format!(
            "metrics and flag values withheld: the people with or without the outcome are few ({})",
            c.why()
        ));
    }
    Subgroup {
        attribute: s.attribute.clone(),
        group: s.group.clone(),
        n,
        events,
        metrics,
        not_estimable: s.not_estimable.clone(),
        oracle_auc: s.oracle_auc.filter(|_| !small_outcome),
        flags,
        withheld: (!withheld.is_empty()).then(|| withheld.join("; ")),
    }
}
