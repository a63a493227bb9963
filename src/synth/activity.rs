//! Activity other than emergency admissions, by year of the window: GP
//! contacts with coded problems and reviews, outpatient and A&E attendances,
//! elective admissions, community and mental-health contacts, observations.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::catalogue::{self as cat, CONDITIONS, pick_weighted};
use super::events::{
    COMMUNITY, ED, GP, INPATIENT, MENTAL_HEALTH, OUTPATIENT, SNOMED, SimContext, Writer, cost,
    day_in, hospital_diagnoses, poisson,
};
use super::population::{DAYS_PER_YEAR, Person, Sex};

/// Yearly rates by age for activity other than emergency admissions.
struct Rates {
    gp: f64,
    outpatient: f64,
    ae_not_admitted: f64,
    elective: f64,
    community: f64,
    mental_health: f64,
}

fn rates(p: &Person, day: i32) -> Rates {
    let age = p.age_at(day);
    let female = p.sex == Sex::Female;
    let n = p.n_conditions(day) as f64;
    let efi = p.efi(day);
    let gp_base = match age {
        a if a < 5.0 => 4.0,
        a if a < 15.0 => 1.5,
        a if a < 45.0 => {
            if female {
                3.2
            } else {
                1.6
            }
        }
        a if a < 65.0 => 2.8,
        a if a < 75.0 => 3.8,
        _ => 5.0,
    };
    let op_base = match age {
        a if a < 15.0 => 0.9,
        a if a < 45.0 => {
            if female {
                1.6
            } else {
                0.9
            }
        }
        a if a < 65.0 => 1.8,
        a if a < 75.0 => 2.8,
        _ => 3.0,
    };
    let ae_base = match age {
        a if a < 5.0 => 0.55,
        a if a < 15.0 => 0.3,
        a if a < 30.0 => 0.42,
        a if a < 65.0 => 0.28,
        a if a < 80.0 => 0.3,
        _ => 0.5,
    };
    let el_base = match age {
        a if a < 15.0 => 0.04,
        a if a < 45.0 => 0.08,
        a if a < 65.0 => 0.14,
        a if a < 75.0 => 0.25,
        _ => 0.28,
    };
    let depressed = p.has(cat::DEPRESSION, day);
    let demented = p.has(cat::DEMENTIA, day);
    let u_noise = (0.3 * p.noise).exp();
    Rates {
        gp: 1.35 * gp_base * (1.0 + 0.2 * n) + 6.0 * efi,
        outpatient: 1.05 * op_base * (1.0 + 0.3 * n) * u_noise,
        ae_not_admitted: ae_base * (1.0 + 0.1 * n + 0.25 * p.dep) * u_noise,
        elective: el_base * (1.0 + 0.2 * n),
        community: if age < 5.0 { 1.3 } else { 0.5 }
            + 0.04 * (age - 65.0).max(0.0)
            + 30.0 * efi * efi
            + if p.has_deficit(cat::HOUSEBOUND, day) {
                6.0
            } else {
                0.0
            },
        mental_health: 0.06 + if depressed { 1.8 } else { 0.0 } + if demented { 2.0 } else { 0.0 },
    }
}

pub(super) fn yearly_activity(
    ctx: &SimContext<'_>,
    p: &Person,
    rng: &mut ChaCha8Rng,
    w: &mut Writer<'_>,
    s: i32,
    e: i32,
    gp0: i32,
) {
    let mid = s + (e - s) / 2;
    let frac = f64::from(e - s + 1) / DAYS_PER_YEAR;
    let r = rates(p, mid);
    let age = p.age_at(mid);

    // GP: one review per active condition, plus other consultations, some
    // with an acute problem coded.
    let gs = s.max(gp0);
    if gs <= e {
        let gfrac = f64::from(e - gs + 1) / DAYS_PER_YEAR;
        for c in &p.conditions {
            if c.onset <= e && rng.random::<f64>() < gfrac {
                let day = day_in(rng, gs.max(c.onset), e);
                let c_gbp = Some(42.0);
                if let Some(eid) = w.encounter(GP, day, Some(day), false, c_gbp) {
                    let v = &CONDITIONS[c.condition].variants[c.variant];
                    w.diagnosis(day, SNOMED, v.snomed, Some(&eid));
                }
                review_observations(p, rng, w, c.condition, day);
            }
        }
        for _ in 0..poisson(rng, r.gp * gfrac) {
            let day = day_in(rng, gs, e);
            let phone = rng.random::<f64>() < 0.35;
            let c_gbp = Some(if phone { 25.0 } else { 42.0 });
            if let Some(eid) = w.encounter(GP, day, Some(day), false, c_gbp)
                && rng.random::<f64>() < 0.3
            {
                let code = pick_weighted(cat::ACUTE_SNOMED, rng.random());
                w.diagnosis(day, SNOMED, code, Some(&eid));
            }
        }
        general_observations(p, rng, w, gs, e, age, gfrac);
        for _ in 0..poisson(rng, (1.0 + 0.3 * p.n_conditions(mid) as f64) * gfrac) {
            let day = day_in(rng, gs, e);
            let bnf = pick_weighted(cat::ACUTE_DRUGS, rng.random());
            w.medication(day, bnf);
        }
    }

    for _ in 0..poisson(rng, r.outpatient * frac) {
        let day = day_in(rng, s, e);
        let c = cost(rng, 160.0, 0.25);
        w.encounter(OUTPATIENT, day, Some(day), false, Some(c));
    }
    for _ in 0..poisson(rng, r.ae_not_admitted * frac) {
        let day = day_in(rng, s, e);
        let end = if rng.random::<f64>() < 0.08 {
            (day + 1).min(e)
        } else {
            day
        };
        let c = cost(rng, 230.0, 0.35);
        w.encounter(ED, day, Some(end), true, Some(c));
    }
    for _ in 0..poisson(rng, r.elective * frac) {
        let day = day_in(rng, s, e);
        elective_admission(ctx, p, rng, w, day, false);
    }
    // Chemotherapy day cases in the first year after a cancer diagnosis.
    if let Some(c) = p.conditions.iter().find(|c| c.condition == cat::CANCER) {
        let from = s.max(c.onset);
        let to = e.min(c.onset + 365);
        if from <= to {
            for _ in 0..poisson(rng, 6.0 * f64::from(to - from + 1) / DAYS_PER_YEAR) {
                let day = day_in(rng, from, to);
                elective_admission(ctx, p, rng, w, day, true);
            }
        }
    }
    for _ in 0..poisson(rng, r.community * frac) {
        let day = day_in(rng, s, e);
        let c = cost(rng, 75.0, 0.2);
        w.encounter(COMMUNITY, day, Some(day), false, Some(c));
    }
    for _ in 0..poisson(rng, r.mental_health * frac) {
        let day = day_in(rng, s, e);
        let c = (rng.random::<f64>() < 0.7).then(|| cost(rng, 210.0, 0.3));
        w.encounter(MENTAL_HEALTH, day, Some(day), false, c);
    }
}

fn elective_admission(
    ctx: &SimContext<'_>,
    p: &Person,
    rng: &mut ChaCha8Rng,
    w: &mut Writer<'_>,
    day: i32,
    chemo: bool,
) {
    w.stats.elective_admissions += 1;
    let los = if chemo || rng.random::<f64>() < 0.75 {
        0
    } else {
        rng.random_range(1..=5)
    };
    let end = (day + los).min(p.death.unwrap_or(i32::MAX));
    let end = (end <= ctx.as_of).then_some(end);
    let c = cost(
        rng,
        if chemo {
            450.0
        } else {
            1_400.0 + 500.0 * f64::from(los)
        },
        0.35,
    );
    let Some(eid) = w.encounter(INPATIENT, day, end, false, Some(c)) else {
        return;
    };
    let primary = if chemo {
        cat::CHEMOTHERAPY
    } else {
        pick_weighted(cat::ELECTIVE, rng.random())
    };
    hospital_diagnoses(p, rng, w, day, &eid, primary, 0.6);
}

/// Observations recorded at a condition review (QOF-style).
fn review_observations(
    p: &Person,
    rng: &mut ChaCha8Rng,
    w: &mut Writer<'_>,
    condition: usize,
    day: i32,
) {
    match condition {
        cat::HYPERTENSION | cat::CHD | cat::STROKE | cat::HEART_FAILURE | cat::AF => {
            blood_pressure(p, rng, w, day)
        }
        cat::DIABETES => {
            blood_pressure(p, rng, w, day);
            let z: f64 = rng.sample(StandardNormal);
            w.observation(
                day,
                cat::OBS_HBA1C.0,
                Some((58.0 + 12.0 * z).max(30.0)),
                Some(cat::OBS_HBA1C.1),
            );
            bmi(p, rng, w, day);
            egfr(p, rng, w, day);
        }
        cat::CKD => {
            blood_pressure(p, rng, w, day);
            egfr(p, rng, w, day);
        }
        _ => {}
    }
}

fn blood_pressure(p: &Person, rng: &mut ChaCha8Rng, w: &mut Writer<'_>, day: i32) {
    let age = p.age_at(day);
    let htn = if p.has(cat::HYPERTENSION, day) {
        8.0
    } else {
        0.0
    };
    let z1: f64 = rng.sample(StandardNormal);
    let z2: f64 = rng.sample(StandardNormal);
    let sbp = (122.0 + 0.35 * (age - 40.0).max(0.0) + htn + 14.0 * z1).clamp(80.0, 230.0);
    let dbp = (76.0 + 0.5 * htn + 0.5 * 9.0 * z1 + 7.0 * z2).clamp(40.0, 130.0);
    w.observation(
        day,
        cat::OBS_SYSTOLIC.0,
        Some(sbp.round()),
        Some(cat::OBS_SYSTOLIC.1),
    );
    w.observation(
        day,
        cat::OBS_DIASTOLIC.0,
        Some(dbp.round()),
        Some(cat::OBS_DIASTOLIC.1),
    );
}

fn bmi(p: &Person, rng: &mut ChaCha8Rng, w: &mut Writer<'_>, day: i32) {
    let z: f64 = rng.sample(StandardNormal);
    let diab = if p.has(cat::DIABETES, day) { 3.5 } else { 0.0 };
    let v = (27.0 + diab + 0.8 * p.dep + 5.0 * z).clamp(14.0, 70.0);
    w.observation(day, cat::OBS_BMI.0, Some(v), Some(cat::OBS_BMI.1));
}

fn egfr(p: &Person, rng: &mut ChaCha8Rng, w: &mut Writer<'_>, day: i32) {
    let v = match p
        .conditions
        .iter()
        .find(|c| c.condition == cat::CKD && c.onset <= day)
    {
        Some(c) => match c.variant {
            0 => rng.random_range(30.0..60.0),
            1 => rng.random_range(15.0..30.0),
            _ => rng.random_range(5.0..15.0),
        },
        None => {
            let z: f64 = rng.sample(StandardNormal);
            (95.0 - 0.5 * (p.age_at(day) - 40.0).max(0.0) + 10.0 * z).clamp(60.0, 130.0)
        }
    };
    w.observation(day, cat::OBS_EGFR.0, Some(v), Some(cat::OBS_EGFR.1));
}

/// Opportunistic observations in a GP-registered segment: blood pressure,
/// BMI, smoking status, HbA1c screening.
fn general_observations(
    p: &Person,
    rng: &mut ChaCha8Rng,
    w: &mut Writer<'_>,
    s: i32,
    e: i32,
    age: f64,
    frac: f64,
) {
    if age < 16.0 {
        return;
    }
    if rng.random::<f64>() < (if age >= 40.0 { 0.45 } else { 0.2 }) * frac {
        let day = day_in(rng, s, e);
        blood_pressure(p, rng, w, day);
    }
    if rng.random::<f64>() < 0.25 * frac {
        let day = day_in(rng, s, e);
        bmi(p, rng, w, day);
    }
    if rng.random::<f64>() < 0.3 * frac {
        let day = day_in(rng, s, e);
        // ONS APS 2023: about 12% smoke; ex-smokers rise with age.
        let current = 0.12 + 0.06 * p.dep;
        let ex = (0.1 + 0.005 * (age - 16.0)).min(0.45);
        let x: f64 = rng.random();
        let code = if x < current {
            cat::SMOKING[0]
        } else if x < current + ex {
            cat::SMOKING[1]
        } else {
            cat::SMOKING[2]
        };
        w.observation(day, code, None, None);
    }
    if age >= 40.0 && !p.has(cat::DIABETES, e) && rng.random::<f64>() < 0.15 * frac {
        let day = day_in(rng, s, e);
        let z: f64 = rng.sample(StandardNormal);
        w.observation(
            day,
            cat::OBS_HBA1C.0,
            Some((38.0 + 4.0 * z).max(25.0)),
            Some(cat::OBS_HBA1C.1),
        );
    }
}
