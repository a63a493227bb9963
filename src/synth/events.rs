//! Activity over the history window for one person, and the ground truth
//! for the 12 months after the as-of date.
//!
//! This module owns the per-person row writer, the patients row, GP problem
//! lists and emergency admissions (whose rate is `hazard`'s model throughout
//! the window and for the truth). Other activity is in `activity` (contacts,
//! elective care, observations) and `care` (prescriptions, social care).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::catalogue::{self as cat, CONDITIONS, DEFICITS, pick_weighted};
use super::frames::ChunkBufs;
use super::hazard::{self, emergency_log_rate, record_risk, true_risk};
use super::ids::{self, NhsNumbers};
use super::population::{DAYS_PER_YEAR, Person, Practice};
use super::reference::Area;
use super::report::{ChunkStats, band_of};
use super::{activity, care};
use crate::contract::{CODE_SYSTEMS, SERVICE_TYPES, SETTINGS};

pub(super) const GP: usize = 0;
pub(super) const INPATIENT: usize = 1;
pub(super) const ED: usize = 2;
pub(super) const OUTPATIENT: usize = 3;
pub(super) const COMMUNITY: usize = 4;
pub(super) const MENTAL_HEALTH: usize = 5;
pub(super) const ICD10: &str = CODE_SYSTEMS[0];
pub(super) const SNOMED: &str = CODE_SYSTEMS[1];

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

pub(super) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Log-normal cost with the given median and spread, rounded to pence.
pub(super) fn cost(rng: &mut ChaCha8Rng, median: f64, sd: f64) -> f64 {
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
    pub seed: u64,
    /// The intervention's day (epoch days) and settings, if any.
    pub intervention: Option<(i32, &'a super::Intervention)>,
}

/// Writes one person's rows into the chunk buffers.
pub(super) struct Writer<'b> {
    pid: [u8; 11],
    index: u64,
    key: u64,
    seq: u64,
    b: &'b mut ChunkBufs,
    pub(super) stats: &'b mut ChunkStats,
    /// While set, rows are drawn but not written (a prevented admission:
    /// `super::Intervention`). Encounter ids are still numbered, so later
    /// ids match the generation without the effect.
    muted: bool,
}

impl Writer<'_> {
    /// Adds an encounter and returns its id (None once the per-person
    /// numbering is exhausted, which no realistic history reaches).
    pub(super) fn encounter(
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
        if self.muted {
            return Some(eid);
        }
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

    pub(super) fn diagnosis(
        &mut self,
        date: i32,
        system: &str,
        code: &str,
        encounter: Option<&[u8; 11]>,
    ) {
        if self.muted {
            return;
        }
        let d = &mut self.b.diagnoses;
        d.person_id.append_value(ids::as_str(&self.pid));
        d.date.push(Some(date));
        d.code_system.append_value(system);
        d.code.append_value(code);
        d.encounter_id
            .append_option(encounter.map(|e| ids::as_str(e)));
        self.stats.rows[2] += 1;
    }

    pub(super) fn medication(&mut self, date: i32, bnf: &str) {
        let m = &mut self.b.medications;
        m.person_id.append_value(ids::as_str(&self.pid));
        m.date.push(Some(date));
        m.bnf_code.append_value(bnf);
        self.stats.rows[3] += 1;
    }

    pub(super) fn observation(
        &mut self,
        date: i32,
        code: &str,
        value: Option<f64>,
        unit: Option<&str>,
    ) {
        let o = &mut self.b.observations;
        o.person_id.append_value(ids::as_str(&self.pid));
        o.date.push(Some(date));
        o.code_system.append_value(SNOMED);
        o.code.append_value(code);
        o.value.push(value.map(|v| (v * 10.0).round() / 10.0));
        o.unit.append_option(unit);
        self.stats.rows[4] += 1;
    }

    pub(super) fn social_care(
        &mut self,
        start: i32,
        end: Option<i32>,
        service: usize,
        weekly: Option<f64>,
    ) {
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
pub(super) fn day_in(rng: &mut ChaCha8Rng, lo: i32, hi: i32) -> i32 {
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
        muted: false,
    };
    // The intervention's day, effect and own random stream, when this
    // person was flagged: a separate stream, so preventing an admission
    // draws nothing from the person's main stream.
    let mut prevention = ctx.intervention.and_then(|(day, iv)| {
        iv.flagged.contains(ids::as_str(&pid)).then(|| {
            (
                day,
                iv.effect,
                super::derive_rng(ctx.seed, b"intervention", p.index),
            )
        })
    });

    let a0 = ctx.h0.max(p.dob);
    let a1 = p.last_day(ctx.as_of);
    let gp0 = a0.max(p.registered_from);

    record_onsets(&mut w, p);
    let admissions = emergency_admissions(ctx, p, rng, &mut w, a0, a1, prevention.as_mut());

    if p.death.is_none() {
        let prior = admissions.iter().filter(|d| **d > ctx.as_of - 365).count();
        let mut risk = true_risk(p, ctx.as_of, prior);
        if let Some((_, effect, _)) = prevention.as_ref().filter(|(day, _, _)| ctx.as_of > *day) {
            // P = 1 − exp(−λ·(1 − effect)) = 1 − (1 − P₀)^(1 − effect).
            risk = 1.0 - (1.0 - risk).powf(1.0 - effect);
        }
        let outcome = rng.random::<f64>() < risk;
        let t = &mut w.b.truth;
        t.person_id.append_value(ids::as_str(&w.pid));
        t.true_risk_12m.push(risk);
        t.record_risk_12m.push(record_risk(p, ctx.as_of, prior));
        t.emergency_admission_12m.push(outcome);
        w.stats.rows[6] += 1;
        w.stats.add_truth(risk, outcome);
    }

    // Other activity in yearly segments, with rates from the state at each
    // segment's midpoint.
    let mut seg = a0;
    while seg <= a1 {
        let seg_end = (seg + 364).min(a1);
        activity::yearly_activity(ctx, p, rng, &mut w, seg, seg_end, gp0);
        seg = seg_end + 1;
    }
    care::repeat_prescriptions(p, rng, &mut w, gp0, a1);
    care::social_care(ctx, p, rng, &mut w, &admissions, a1);
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
/// start days, prevented ones included (see `super::Intervention`).
/// `prevention` is (intervention day, effect, the person's own stream) for a
/// flagged person: each admission after that day is prevented with
/// probability `effect`.
fn emergency_admissions(
    ctx: &SimContext<'_>,
    p: &Person,
    rng: &mut ChaCha8Rng,
    w: &mut Writer<'_>,
    a0: i32,
    a1: i32,
    mut prevention: Option<&mut (i32, f64, ChaCha8Rng)>,
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
            w.muted = prevention
                .as_mut()
                .is_some_and(|(from, effect, own)| day > *from && own.random::<f64>() < *effect);
            emergency_admission(ctx, p, rng, w, day);
            w.muted = false;
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
    if !w.muted {
        w.stats.emergency_by_band[band_of(age)] += 1;
    }
    if rng.random::<f64>() < 0.8 {
        let c = cost(rng, 290.0, 0.35);
        w.encounter(ED, day, Some(day), true, Some(c));
    }
    let same_day = rng.random::<f64>() < if age < 65.0 { 0.3 } else { 0.15 };
    let los = if same_day {
        0
    } else {
        let mean = 2.5 + 0.1 * (age - 50.0).max(0.0) + 12.0 * efi;
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
pub(super) fn hospital_diagnoses(
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
}
