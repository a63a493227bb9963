//! Activity over the history window for one person, and the ground truth
//! for the 12 months after the as-of date.
//!
//! The emergency-admission process follows one hazard model throughout (see
//! `emergency_log_rate` and docs/synthetic-data.md), so the signal a model
//! learns at any index date inside the history is the one that generates
//! the truth after the as-of date. Other activity (GP, outpatients, A&E,
//! elective care, community, mental health, prescriptions, observations,
//! social care) follows age-, condition- and frailty-dependent rates.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::catalogue::{self as cat, CONDITIONS, DEFICITS, pick_weighted};
use super::frames::ChunkBufs;
use super::ids::{self, NhsNumbers};
use super::population::{DAYS_PER_YEAR, Person, Practice, Sex};
use super::reference::Area;
use super::report::{ChunkStats, band_of};
use crate::contract::{CODE_SYSTEMS, SERVICE_TYPES, SETTINGS};

const GP: usize = 0;
const INPATIENT: usize = 1;
const ED: usize = 2;
const OUTPATIENT: usize = 3;
const COMMUNITY: usize = 4;
const MENTAL_HEALTH: usize = 5;
const ICD10: &str = CODE_SYSTEMS[0];
const SNOMED: &str = CODE_SYSTEMS[1];

/// Parameters of the emergency-admission hazard (per year, log scale).
pub mod hazard {
    /// Baseline log-rate, tuned so the all-ages rate is near 110 per 1,000.
    pub const B0: f64 = -0.35;
    /// Log-rate per unit of eFI (0–1).
    pub const FRAILTY: f64 = 2.5;
    /// Log-rate per unit of deprivation (−1 least, +1 most deprived).
    pub const DEPRIVATION: f64 = 0.3;
    pub const MALE: f64 = 0.1;
    /// Standard deviation of the unobserved person effect.
    pub const SIGMA: f64 = 0.6;
    /// Log-rate per emergency admission in the previous 365 days (max 3 count).
    pub const PRIOR: f64 = 0.35;
    /// Log-rate added in the last 90 days of life (history only).
    pub const END_OF_LIFE: f64 = 1.4;
    /// Age knots (years) and log-rate multipliers, linearly interpolated.
    pub const AGE_KNOTS: [(f64, f64); 10] = [
        (0.0, -1.0),
        (2.0, -1.85),
        (8.0, -3.1),
        (18.0, -2.5),
        (35.0, -2.58),
        (55.0, -2.47),
        (70.0, -2.45),
        (80.0, -2.42),
        (90.0, -2.17),
        (105.0, -1.9),
    ];
}

fn age_term(age: f64) -> f64 {
    let k = &hazard::AGE_KNOTS;
    if age <= k[0].0 {
        return k[0].1;
    }
    for w in k.windows(2) {
        let ((a0, v0), (a1, v1)) = (w[0], w[1]);
        if age <= a1 {
            return v0 + (v1 - v0) * (age - a0) / (a1 - a0);
        }
    }
    k[k.len() - 1].1
}

/// Log of the emergency-admission rate per year at `day`, given the number
/// of emergency admissions in the 365 days before. The generative model:
/// `log λ = B0 + age(t) + Σ β_c·[condition c diagnosed by t] + FRAILTY·eFI(t)
///  + DEPRIVATION·dep + MALE·[male] + SIGMA·ε − SIGMA²/2 + PRIOR·min(prior, 3)`.
pub fn emergency_log_rate(p: &Person, day: i32, prior: usize) -> f64 {
    let mut lp = hazard::B0 + age_term(p.age_at(day));
    for c in &p.conditions {
        if c.onset <= day {
            lp += CONDITIONS[c.condition].admission;
        }
    }
    lp += hazard::FRAILTY * p.efi(day);
    lp += hazard::DEPRIVATION * p.dep;
    if p.sex == Sex::Male {
        lp += hazard::MALE;
    }
    lp += hazard::SIGMA * p.noise - hazard::SIGMA * hazard::SIGMA / 2.0;
    lp += hazard::PRIOR * prior.min(3) as f64;
    lp
}

/// The true probability of at least one emergency admission in the 12
/// months after the as-of date: the hazard is held at its as-of value
/// (conditions, frailty, age, prior admissions), so the count is Poisson and
/// `P = 1 − exp(−λ)`. Death after the as-of date is not simulated.
pub fn true_risk(p: &Person, as_of: i32, prior: usize) -> f64 {
    1.0 - (-emergency_log_rate(p, as_of, prior).exp()).exp()
}

/// Poisson draw (Knuth's method for small means, normal approximation above 30).
pub fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        let z: f64 = rng.sample(StandardNormal);
        return (mean + mean.sqrt() * z).round().max(0.0) as u32;
    }
    let l = (-mean).exp();
    let mut k = 0;
    let mut prod: f64 = rng.random();
    while prod > l {
        k += 1;
        prod *= rng.random::<f64>();
    }
    k
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Log-normal cost with the given median and spread, rounded to pence.
fn cost(rng: &mut ChaCha8Rng, median: f64, sd: f64) -> f64 {
    let z: f64 = rng.sample(StandardNormal);
    round2(median * (sd * z).exp())
}

/// Everything the simulation of one person needs.
pub struct SimContext<'a> {
    pub as_of: i32,
    pub h0: i32,
    pub area: &'a Area,
    pub practices: &'a [Practice],
    pub nhs: &'a NhsNumbers,
    pub person_key: u64,
    pub encounter_key: u64,
}

/// Writes one person's rows into the chunk buffers.
struct Writer<'b> {
    pid: [u8; 11],
    index: u64,
    key: u64,
    seq: u64,
    b: &'b mut ChunkBufs,
    stats: &'b mut ChunkStats,
}

impl Writer<'_> {
    /// Adds an encounter and returns its id (None once the per-person
    /// numbering is exhausted, which no realistic history reaches).
    fn encounter(
        &mut self,
        setting: usize,
        start: i32,
        end: Option<i32>,
        emergency: bool,
        cost_gbp: Option<f64>,
    ) -> Option<[u8; 11]> {
        if self.seq >= ids::MAX_ENCOUNTERS_PER_PERSON {
            return None;
        }
        let eid = ids::encounter_id(self.index, self.seq, self.key);
        self.seq += 1;
        let e = &mut self.b.encounters;
        e.person_id.append_value(ids::as_str(&self.pid));
        e.encounter_id.append_value(ids::as_str(&eid));
        e.setting.append_value(SETTINGS[setting]);
        e.start_date.push(Some(start));
        e.end_date.push(end);
        e.emergency.push(emergency);
        e.cost_gbp.push(cost_gbp);
        self.stats.encounters_by_setting[setting] += 1;
        self.stats.rows[1] += 1;
        Some(eid)
    }

    fn diagnosis(&mut self, date: i32, system: &str, code: &str, encounter: Option<&[u8; 11]>) {
        let d = &mut self.b.diagnoses;
        d.person_id.append_value(ids::as_str(&self.pid));
        d.date.push(Some(date));
        d.code_system.append_value(system);
        d.code.append_value(code);
        d.encounter_id
            .append_option(encounter.map(|e| ids::as_str(e)));
        self.stats.rows[2] += 1;
    }

    fn medication(&mut self, date: i32, bnf: &str) {
        let m = &mut self.b.medications;
        m.person_id.append_value(ids::as_str(&self.pid));
        m.date.push(Some(date));
        m.bnf_code.append_value(bnf);
        self.stats.rows[3] += 1;
    }

    fn observation(&mut self, date: i32, code: &str, value: Option<f64>, unit: Option<&str>) {
        let o = &mut self.b.observations;
        o.person_id.append_value(ids::as_str(&self.pid));
        o.date.push(Some(date));
        o.code_system.append_value(SNOMED);
        o.code.append_value(code);
        o.value.push(value.map(|v| (v * 10.0).round() / 10.0));
        o.unit.append_option(unit);
        self.stats.rows[4] += 1;
    }

    fn social_care(&mut self, start: i32, end: Option<i32>, service: usize, weekly: Option<f64>) {
        let s = &mut self.b.social_care;
        s.person_id.append_value(ids::as_str(&self.pid));
        s.start_date.push(Some(start));
        s.end_date.push(end);
        s.service_type.append_value(SERVICE_TYPES[service]);
        s.weekly_cost_gbp.push(weekly);
        self.stats.rows[5] += 1;
    }
}

/// ICD-10 as hospital data writes it: mostly 4 characters without a dot
/// (`J189`, `I10X`), one in ten dotted (`J18.9`, `I10`).
fn render_icd10(code: &str, rng: &mut ChaCha8Rng) -> ([u8; 5], usize) {
    let bytes = code.as_bytes();
    let mut out = [0u8; 5];
    if bytes.len() == 4 && rng.random::<f64>() < 0.1 {
        out[..3].copy_from_slice(&bytes[..3]);
        if bytes[3] == b'X' {
            return (out, 3);
        }
        out[3] = b'.';
        out[4] = bytes[3];
        (out, 5)
    } else {
        let n = bytes.len().min(5);
        out[..n].copy_from_slice(&bytes[..n]);
        (out, n)
    }
}

/// Uniform day in `[lo, hi]`.
fn day_in(rng: &mut ChaCha8Rng, lo: i32, hi: i32) -> i32 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

/// Simulates one person: patients row, events, truth, and statistics.
pub fn simulate_person(
    ctx: &SimContext<'_>,
    p: &Person,
    rng: &mut ChaCha8Rng,
    b: &mut ChunkBufs,
    stats: &mut ChunkStats,
) {
    let pid = ids::person_id(p.index, ctx.person_key);
    write_patient(ctx, p, &pid, b);
    stats.rows[0] += 1;
    stats.add_person(p, ctx.h0, ctx.as_of);
    let mut w = Writer {
        pid,
        index: p.index,
        key: ctx.encounter_key,
        seq: 0,
        b,
        stats,
    };

    let a0 = ctx.h0.max(p.dob);
    let a1 = p.last_day(ctx.as_of);
    let gp0 = a0.max(p.registered_from);

    record_onsets(&mut w, p);
    let admissions = emergency_admissions(ctx, p, rng, &mut w, a0, a1);

    if p.death.is_none() {
        let prior = admissions.iter().filter(|d| **d > ctx.as_of - 365).count();
        let risk = true_risk(p, ctx.as_of, prior);
        let outcome = rng.random::<f64>() < risk;
        let t = &mut w.b.truth;
        t.person_id.append_value(ids::as_str(&w.pid));
        t.true_risk_12m.push(risk);
        t.emergency_admission_12m.push(outcome);
        w.stats.rows[6] += 1;
        w.stats.add_truth(risk, outcome);
    }

    // Other activity in yearly segments, with rates from the state at each
    // segment's midpoint.
    let mut seg = a0;
    while seg <= a1 {
        let seg_end = (seg + 364).min(a1);
        yearly_activity(ctx, p, rng, &mut w, seg, seg_end, gp0);
        seg = seg_end + 1;
    }
    repeat_prescriptions(p, rng, &mut w, gp0, a1);
    social_care(ctx, p, rng, &mut w, &admissions, a1);
}

fn write_patient(ctx: &SimContext<'_>, p: &Person, pid: &[u8; 11], b: &mut ChunkBufs) {
    let t = &mut b.patients;
    t.person_id.append_value(ids::as_str(pid));
    let nhs = ctx.nhs.number(p.index, ctx.person_key);
    t.nhs_number.append_value(ids::as_str(&nhs));
    t.date_of_birth.push(Some(p.dob));
    t.sex.append_value(p.sex.code());
    t.ethnicity.append_option(p.ethnicity);
    t.lsoa.append_value(&ctx.area.lsoas[p.lsoa].code);
    t.practice_code
        .append_value(&ctx.practices[p.practice].code);
    t.pcn_code.append_value(&ctx.practices[p.practice].pcn);
    t.registered_from.push(Some(p.registered_from));
    t.date_of_death.push(p.death);
    t.opt_out_national.push(p.opt_out_national);
    t.opt_out_type1.push(p.opt_out_type1);
}

/// GP record of each condition and deficit at diagnosis (may predate the
/// window: GP records carry the full problem list).
fn record_onsets(w: &mut Writer<'_>, p: &Person) {
    for c in &p.conditions {
        let v = &CONDITIONS[c.condition].variants[c.variant];
        w.diagnosis(c.onset, SNOMED, v.snomed, None);
    }
    for d in &p.deficits {
        w.diagnosis(d.onset, SNOMED, DEFICITS[d.deficit].snomed, None);
    }
}

/// Emergency admissions in monthly steps over `[a0, a1]`; returns their
/// start days.
fn emergency_admissions(
    ctx: &SimContext<'_>,
    p: &Person,
    rng: &mut ChaCha8Rng,
    w: &mut Writer<'_>,
    a0: i32,
    a1: i32,
) -> Vec<i32> {
    let mut starts: Vec<i32> = Vec::new();
    let mut t = a0;
    while t <= a1 {
        let t_end = (t + 29).min(a1);
        let prior = starts.iter().filter(|d| **d > t - 365).count();
        let mut lp = emergency_log_rate(p, t, prior);
        if p.death.is_some_and(|d| d - t <= 90) {
            lp += hazard::END_OF_LIFE;
        }
        let mean = lp.exp() * f64::from(t_end - t + 1) / DAYS_PER_YEAR;
        for _ in 0..poisson(rng, mean) {
            let day = day_in(rng, t, t_end);
            starts.push(day);
            emergency_admission(ctx, p, rng, w, day);
        }
        t = t_end + 1;
    }
    starts
}

fn emergency_admission(
    ctx: &SimContext<'_>,
    p: &Person,
    rng: &mut ChaCha8Rng,
    w: &mut Writer<'_>,
    day: i32,
) {
    let age = p.age_at(day);
    let efi = p.efi(day);
    w.stats.emergency_by_band[band_of(age)] += 1;
    if rng.random::<f64>() < 0.8 {
        let c = cost(rng, 290.0, 0.35);
        w.encounter(ED, day, Some(day), true, Some(c));
    }
    let same_day = rng.random::<f64>() < if age < 65.0 { 0.3 } else { 0.15 };
    let los = if same_day {
        0
    } else {
        let mean = 2.0 + 0.08 * (age - 50.0).max(0.0) + 10.0 * efi;
        1 + poisson(rng, mean - 1.0) as i32
    };
    let last = p.death.unwrap_or(i32::MAX);
    let end = (day + los).min(last);
    let end = (end <= ctx.as_of).then_some(end);
    let c = cost(rng, 1_300.0 + 420.0 * f64::from(los), 0.3);
    let Some(eid) = w.encounter(INPATIENT, day, end, true, Some(c)) else {
        return;
    };
    // Primary diagnosis: a condition's exacerbation (weighted by its effect
    // on admissions), a fall-related fracture, or an acute cause by age.
    let mut options: Vec<(&str, f64)> = Vec::with_capacity(16);
    for c in &p.conditions {
        if c.onset <= day {
            let cond = &CONDITIONS[c.condition];
            options.push((cond.exacerbation, cond.admission * 1.5));
        }
    }
    if p.has_deficit(cat::FALLS, day) {
        options.push(("S720", 0.4));
    }
    let acute = if age < 16.0 {
        cat::ACUTE_CHILD
    } else if age < 65.0 {
        cat::ACUTE_ADULT
    } else {
        cat::ACUTE_OLDER
    };
    let acute_code = pick_weighted(acute, rng.random());
    options.push((acute_code, 1.0));
    let primary = pick_weighted(&options, rng.random());
    hospital_diagnoses(p, rng, w, day, &eid, primary, 0.85);
    if p.has_deficit(cat::FALLS, day) && rng.random::<f64>() < 0.3 {
        w.diagnosis(day, ICD10, "W19X", Some(&eid));
    }
}

/// Primary plus secondary ICD-10 diagnoses of a hospital spell: the
/// person's conditions (each with probability `p_cond`), some deficits and
/// unlisted codes.
fn hospital_diagnoses(
    p: &Person,
    rng: &mut ChaCha8Rng,
    w: &mut Writer<'_>,
    day: i32,
    eid: &[u8; 11],
    primary: &str,
    p_cond: f64,
) {
    let (buf, n) = render_icd10(primary, rng);
    w.diagnosis(day, ICD10, ids::as_str(&buf[..n]), Some(eid));
    for c in &p.conditions {
        let code = CONDITIONS[c.condition].variants[c.variant].icd10;
        if c.onset <= day && code != primary && rng.random::<f64>() < p_cond {
            let (buf, n) = render_icd10(code, rng);
            w.diagnosis(day, ICD10, ids::as_str(&buf[..n]), Some(eid));
        }
    }
    for d in &p.deficits {
        if d.onset <= day && rng.random::<f64>() < 0.35 {
            let (buf, n) = render_icd10(DEFICITS[d.deficit].icd10, rng);
            w.diagnosis(day, ICD10, ids::as_str(&buf[..n]), Some(eid));
        }
    }
    for _ in 0..2 {
        if rng.random::<f64>() < 0.4 {
            let code = cat::UNLISTED_ICD10[rng.random_range(0..cat::UNLISTED_ICD10.len())];
            if code != primary {
                let (buf, n) = render_icd10(code, rng);
                w.diagnosis(day, ICD10, ids::as_str(&buf[..n]), Some(eid));
            }
        }
    }
}

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
        gp: 1.25 * gp_base * (1.0 + 0.2 * n) + 6.0 * efi,
        outpatient: op_base * (1.0 + 0.3 * n) * u_noise,
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

fn yearly_activity(
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
            if let Some(eid) = w.encounter(GP, day, Some(day), false, c_gbp) {
                if rng.random::<f64>() < 0.3 {
                    let code = pick_weighted(cat::ACUTE_SNOMED, rng.random());
                    w.diagnosis(day, SNOMED, code, Some(&eid));
                }
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

/// Repeat prescriptions: each drug a person takes is issued every 28 days
/// (56 days for 15% of drugs) from diagnosis to death or the as-of date.
fn repeat_prescriptions(p: &Person, rng: &mut ChaCha8Rng, w: &mut Writer<'_>, gp0: i32, a1: i32) {
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
/// admissions of people aged 65+.
fn social_care(
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
        -5.6 + 0.07 * (age - 65.0)
            + 5.0 * efi
            + if dementia { 1.3 } else { 0.0 }
            + if housebound { 1.0 } else { 0.0 }
    } else if age >= 18.0 {
        -6.2 + 4.0 * efi + 0.3 * p.dep
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
        if p.age_at(day) >= 65.0 && rng.random::<f64>() < 0.08 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn poisson_mean_is_close() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for mean in [0.05, 1.0, 7.5, 40.0] {
            let n = 20_000;
            let total: u64 = (0..n).map(|_| u64::from(poisson(&mut rng, mean))).sum();
            let m = total as f64 / f64::from(n);
            assert!((m - mean).abs() < 0.05 * mean.max(1.0), "{mean}: {m}");
        }
    }

    #[test]
    fn icd10_renders_dotted_or_plain() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut seen_dot = false;
        for _ in 0..200 {
            let (b, n) = render_icd10("J189", &mut rng);
            let s = ids::as_str(&b[..n]).to_string();
            assert!(s == "J189" || s == "J18.9", "{s}");
            seen_dot |= s == "J18.9";
            let (b, n) = render_icd10("I10X", &mut rng);
            let s = ids::as_str(&b[..n]).to_string();
            assert!(s == "I10X" || s == "I10", "{s}");
        }
        assert!(seen_dot);
    }

    #[test]
    fn age_term_interpolates_between_knots() {
        assert!((age_term(0.0) - hazard::AGE_KNOTS[0].1).abs() < 1e-12);
        let (a0, v0) = hazard::AGE_KNOTS[5];
        let (a1, v1) = hazard::AGE_KNOTS[6];
        let mid = (a0 + a1) / 2.0;
        assert!((age_term(mid) - (v0 + v1) / 2.0).abs() < 1e-12);
        assert!((age_term(200.0) - hazard::AGE_KNOTS[9].1).abs() < 1e-12);
    }
}
