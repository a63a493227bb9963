//! Long-term care a person receives: repeat prescriptions (polypharmacy
//! rising with age and conditions) and adult social-care packages.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::catalogue::{self as cat, CONDITIONS, DEFICITS, pick_weighted};
use super::events::{SimContext, Writer, cost, day_in, poisson};
use super::population::Person;

/// Repeat prescriptions: each drug a person takes is issued every 28 days
/// (56 days for 15% of drugs) from diagnosis to death or the as-of date.
pub(super) fn repeat_prescriptions(
    p: &Person,
    rng: &mut ChaCha8Rng,
    w: &mut Writer<'_>,
    gp0: i32,
    a1: i32,
) {
    let mut drugs: Vec<(&'static str, i32)> = Vec::with_capacity(12);
    let add = |bnf: &'static str, start: i32, drugs: &mut Vec<(&'static str, i32)>| {
        if let Some(d) = drugs.iter_mut().find(|(b, _)| *b == bnf) {
            d.1 = d.1.min(start);
        } else {
            drugs.push((bnf, start));
        }
    };
    for c in &p.conditions {
        let cond = &CONDITIONS[c.condition];
        let v = &cond.variants[c.variant];
        for d in cond.drugs.iter().chain(v.drugs) {
            if rng.random::<f64>() < d.p {
                add(d.bnf, c.onset + rng.random_range(0..60), &mut drugs);
            }
        }
    }
    let age = p.age;
    let start_any = |rng: &mut ChaCha8Rng| gp0 - rng.random_range(0..2_000);
    let has_cvd = p
        .conditions
        .iter()
        .any(|c| matches!(c.condition, cat::CHD | cat::STROKE | cat::DIABETES));
    if age >= 50.0 && !has_cvd && rng.random::<f64>() < 0.35 {
        let s = start_any(rng);
        add(cat::STATIN_PRIMARY, s, &mut drugs);
    }
    let ppi_p =
        (0.04 + if age >= 60.0 { 0.2 } else { 0.0 } + 0.06 * p.conditions.len() as f64).min(0.6);
    if age >= 18.0 && rng.random::<f64>() < ppi_p {
        let s = start_any(rng);
        let ppi = if rng.random::<f64>() < 0.6 {
            cat::OMEPRAZOLE
        } else {
            cat::LANSOPRAZOLE
        };
        add(ppi, s, &mut drugs);
    }
    // Other repeat medicines, more with age (polypharmacy).
    if age >= 18.0 {
        for _ in 0..poisson(rng, 0.012 * age) {
            let s = start_any(rng);
            add(
                pick_weighted(cat::OTHER_REPEATS, rng.random()),
                s,
                &mut drugs,
            );
        }
    }
    for d in &p.deficits {
        let (bnf, prob) = match DEFICITS[d.deficit].key {
            "thyroid_disorder" => (cat::LEVOTHYROXINE, 0.9),
            "osteoporosis" => (cat::ALENDRONIC_ACID, 0.6),
            "arthritis" => (
                if rng.random::<f64>() < 0.6 {
                    cat::PARACETAMOL
                } else {
                    cat::CO_CODAMOL
                },
                0.4,
            ),
            "urinary_system_disease" => (cat::TAMSULOSIN, 0.5),
            "housebound" | "mobility_problems" => (cat::MACROGOL, 0.25),
            "falls" => (cat::CALCIUM_D3, 0.3),
            _ => continue,
        };
        if rng.random::<f64>() < prob {
            add(bnf, d.onset + rng.random_range(0..60), &mut drugs);
        }
    }
    for (bnf, start) in drugs {
        let interval = if rng.random::<f64>() < 0.15 { 56 } else { 28 };
        // First issue inside the registered window, on the drug's cycle.
        let mut day = start.max(gp0);
        if start < gp0 {
            day = gp0 + rng.random_range(0..interval);
        }
        while day <= a1 {
            w.medication(day, bnf);
            day += interval + rng.random_range(-3..=3);
        }
    }
}

/// Adult social care: long-term packages concentrated among the frail old
/// (NHS England "Adult Social Care Activity and Finance", about 1.5% of the
/// population receive long-term support), and reablement after emergency
/// admissions of people aged 65+ (5% of them).
pub(super) fn social_care(
    ctx: &SimContext<'_>,
    p: &Person,
    rng: &mut ChaCha8Rng,
    w: &mut Writer<'_>,
    admissions: &[i32],
    a1: i32,
) {
    let age = p.age_at(a1);
    let efi = p.efi(a1);
    let dementia = p.has(cat::DEMENTIA, a1);
    let housebound = p.has_deficit(cat::HOUSEBOUND, a1);
    let lp = if age >= 65.0 {
        -5.2 + 0.07 * (age - 65.0)
            + 5.0 * efi
            + if dementia { 1.3 } else { 0.0 }
            + if housebound { 1.0 } else { 0.0 }
    } else if age >= 18.0 {
        -5.8 + 4.0 * efi + 0.3 * p.dep
    } else {
        f64::NEG_INFINITY
    };
    let mut any = false;
    if rng.random::<f64>() < super::logistic(lp) {
        any = true;
        let x: f64 = rng.random();
        let (service, median) = if age >= 65.0 && efi > 0.3 && (dementia || x < 0.2) {
            if rng.random::<f64>() < 0.45 {
                (1, 1_250.0)
            } else {
                (0, 950.0)
            }
        } else if x < 0.75 {
            (2, 330.0)
        } else if x < 0.83 {
            (3, 160.0)
        } else if x < 0.95 {
            (4, 300.0)
        } else {
            (6, 200.0)
        };
        let start = day_in(rng, (ctx.h0 - 3 * 365).max(p.dob + 18 * 365).min(a1), a1);
        let end = if p.death.is_some() {
            p.death
        } else if rng.random::<f64>() < 0.25 {
            let e = start + rng.random_range(30..700);
            (e <= a1).then_some(e)
        } else {
            None
        };
        let weekly = (rng.random::<f64>() < 0.95).then(|| cost(rng, median, 0.25));
        w.social_care(start, end, service, weekly);
    }
    for &day in admissions {
        if p.age_at(day) >= 65.0 && rng.random::<f64>() < 0.05 {
            any = true;
            let start = (day + rng.random_range(1..10)).min(a1);
            let end = (start + 42).min(p.death.unwrap_or(i32::MAX));
            let end = (end <= ctx.as_of).then_some(end);
            let weekly = Some(cost(rng, 280.0, 0.2));
            w.social_care(start, end, 5, weekly);
        }
    }
    if any {
        w.stats.social_care_people += 1;
    }
}
