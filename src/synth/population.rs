//! The population: age/sex structure, ethnicity, geography, practices and
//! PCNs, long-term conditions, frailty deficits, registration and death.
//!
//! Everything about a person is drawn from that person's own random stream,
//! so a person's record does not depend on how people are chunked or on the
//! number of threads.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::catalogue::{CONDITIONS, Condition, DEFICITS};
use super::reference::Area;
use super::{derive_rng, logistic};

/// England population by single year of age 0..89 and 90+, in thousands
/// (ONS mid-2020 estimates summed over English local authorities; 18.5% aged
/// 65+, 2.5% aged 85+).
pub const ENGLAND_2020_THOUSANDS: [f64; 91] = [
    601., 625., 650., 671., 690., 689., 694., 709., 730., 715., 703., 692., 698., 676., 664., 637.,
    628., 613., 606., 630., 653., 679., 694., 720., 725., 725., 745., 747., 768., 784., 771., 764.,
    773., 753., 760., 758., 741., 745., 743., 748., 749., 720., 672., 661., 672., 685., 696., 724.,
    754., 777., 758., 775., 774., 784., 782., 784., 775., 756., 736., 709., 677., 660., 644., 618.,
    594., 571., 569., 559., 541., 542., 550., 560., 587., 632., 482., 461., 453., 413., 362., 318.,
    323., 313., 294., 271., 246., 223., 195., 173., 156., 136., 521.,
];

/// Oldest single year of age generated (the 90+ group is spread over 90..=MAX_AGE).
pub const MAX_AGE: usize = 104;

/// Target share of the population in each single year of age 0..=MAX_AGE.
pub fn target_age_shares() -> Vec<f64> {
    let mut w: Vec<f64> = ENGLAND_2020_THOUSANDS[..90].to_vec();
    // Spread 90+ geometrically: each year keeps 72% of the one before,
    // giving a mean of about 92.5 years, close to ONS single-year figures.
    let tail: Vec<f64> = (0..=MAX_AGE - 90).map(|k| 0.72f64.powi(k as i32)).collect();
    let tail_sum: f64 = tail.iter().sum();
    w.extend(
        tail.iter()
            .map(|t| ENGLAND_2020_THOUSANDS[90] * t / tail_sum),
    );
    let total: f64 = w.iter().sum();
    w.iter().map(|x| x / total).collect()
}

/// Ethnic category (NHS codes) weights: a Dorset-like mix after Census 2021
/// (ONS TS021, Dorset and BCP; White British about 90%). `Z` (not stated)
/// and missing values are added on top, as in GP records.
pub const ETHNICITY_WEIGHTS: &[(&str, f64)] = &[
    ("A", 0.890),
    ("B", 0.004),
    ("C", 0.045),
    ("D", 0.003),
    ("E", 0.002),
    ("F", 0.005),
    ("G", 0.004),
    ("H", 0.004),
    ("J", 0.001),
    ("K", 0.001),
    ("L", 0.006),
    ("M", 0.001),
    ("N", 0.003),
    ("P", 0.001),
    ("R", 0.003),
    ("S", 0.005),
];
/// Share of records with ethnicity `Z` (not stated).
pub const ETHNICITY_NOT_STATED: f64 = 0.06;
/// Share of records with no ethnicity at all.
pub const ETHNICITY_MISSING: f64 = 0.02;

/// Sex as recorded. Shares: ONS mid-year estimates (50.55% female), plus a
/// few records with indeterminate or unknown sex as seen in GP data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Female,
    Male,
    Indeterminate,
    Unknown,
}

impl Sex {
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "F",
            Sex::Male => "M",
            Sex::Indeterminate => "I",
            Sex::Unknown => "U",
        }
    }

    /// +1/2 for male, −1/2 for female, 0 otherwise: centred so calibrated
    /// intercepts do not depend on the sex effect.
    pub fn male_centred(self) -> f64 {
        match self {
            Sex::Male => 0.5,
            Sex::Female => -0.5,
            _ => 0.0,
        }
    }
}

/// National data opt-out share (NHS England, about 5.4% in 2024).
pub const OPT_OUT_NATIONAL: f64 = 0.054;
/// Type 1 (GP) opt-out share.
pub const OPT_OUT_TYPE1: f64 = 0.027;

/// A GP practice: its code, its PCN, the first person index it holds and the
/// LSOA at the centre of its catchment.
#[derive(Debug, Clone)]
pub struct Practice {
    pub code: String,
    pub pcn: String,
    pub first: u64,
    pub size: u64,
    pub centre: usize,
}

/// Draws practice list sizes (log-normal, median 7,500, clipped to
/// 1,500–30,000, giving a mean near 8,500 as in NHS Digital "Patients
/// registered at a GP practice") until they cover `n` people, then groups
/// consecutive practices into PCNs of 30,000–50,000.
pub fn build_practices(n: u64, n_lsoa: usize, seed: u64) -> Vec<Practice> {
    let mut rng = derive_rng(seed, b"practices", 0);
    let mut practices = Vec::new();
    let mut first = 0u64;
    while first < n {
        let z: f64 = rng.sample(StandardNormal);
        let size = (7_500.0 * (0.55 * z).exp()).clamp(1_500.0, 30_000.0) as u64;
        let size = size.min(n - first);
        let mid = first as f64 + size as f64 / 2.0;
        let centre = ((mid / n as f64) * n_lsoa as f64) as usize;
        practices.push(Practice {
            code: format!("SYN{:05}", practices.len() + 1),
            pcn: String::new(),
            first,
            size,
            centre: centre.min(n_lsoa.saturating_sub(1)),
        });
        first += size;
    }
    let mut pcn_no = 1;
    let mut pcn_target = rng.random_range(30_000..=50_000u64);
    let mut pcn_size = 0u64;
    for p in &mut practices {
        if pcn_size >= pcn_target {
            pcn_no += 1;
            pcn_size = 0;
            pcn_target = rng.random_range(30_000..=50_000u64);
        }
        p.pcn = format!("SYNPCN{pcn_no:04}");
        pcn_size += p.size;
    }
    practices
}

/// One long-term condition of a person.
#[derive(Debug, Clone, Copy)]
pub struct HasCondition {
    pub condition: usize,
    pub variant: usize,
    /// Day of diagnosis (days since 1970-01-01).
    pub onset: i32,
}

/// One frailty deficit of a person.
#[derive(Debug, Clone, Copy)]
pub struct HasDeficit {
    pub deficit: usize,
    pub onset: i32,
}

/// A synthetic person before activity is simulated.
#[derive(Debug, Clone)]
pub struct Person {
    pub index: u64,
    pub sex: Sex,
    pub dob: i32,
    /// Age in years at the as-of date (what it would be, for the dead).
    pub age: f64,
    pub ethnicity: Option<&'static str>,
    pub lsoa: usize,
    /// Deprivation from −1 (IMD decile 10) to +1 (decile 1).
    pub dep: f64,
    pub practice: usize,
    pub registered_from: i32,
    pub death: Option<i32>,
    /// Unobserved propensity to be admitted (not in any table).
    pub noise: f64,
    pub conditions: Vec<HasCondition>,
    pub deficits: Vec<HasDeficit>,
    pub opt_out_national: bool,
    pub opt_out_type1: bool,
}

impl Person {
    pub fn has(&self, condition: usize, day: i32) -> bool {
        self.conditions
            .iter()
            .any(|c| c.condition == condition && c.onset <= day)
    }

    pub fn has_deficit(&self, deficit: usize, day: i32) -> bool {
        self.deficits
            .iter()
            .any(|d| d.deficit == deficit && d.onset <= day)
    }

    /// Number of conditions diagnosed by `day`.
    pub fn n_conditions(&self, day: i32) -> usize {
        self.conditions.iter().filter(|c| c.onset <= day).count()
    }

    /// Electronic Frailty Index from coded deficits at `day` (out of 36).
    pub fn efi(&self, day: i32) -> f64 {
        let conds = self
            .conditions
            .iter()
            .filter(|c| c.onset <= day && CONDITIONS[c.condition].efi)
            .count();
        let defs = self.deficits.iter().filter(|d| d.onset <= day).count();
        (conds + defs) as f64 / 36.0
    }

    /// Age in years at `day`.
    pub fn age_at(&self, day: i32) -> f64 {
        f64::from(day - self.dob) / DAYS_PER_YEAR
    }

    /// Last day the person can have events: death or the as-of date.
    pub fn last_day(&self, as_of: i32) -> i32 {
        self.death.map_or(as_of, |d| d.min(as_of))
    }
}

pub const DAYS_PER_YEAR: f64 = 365.25;

/// Annual mortality hazard by age (Gompertz above 15, ONS-like below) and
/// the person's morbidity. Tuned so the crude rate is near 9 per 1,000.
pub fn mortality_hazard(age: f64, u: f64, conditions: &[usize]) -> f64 {
    let base = if age < 1.0 {
        0.0035
    } else if age < 15.0 {
        0.0001
    } else {
        (-10.45 + 0.0875 * age).exp()
    };
    let mut lp = 0.3 * u;
    for c in conditions {
        lp += match *c {
            super::catalogue::HEART_FAILURE => 0.6,
            super::catalogue::CANCER => 0.7,
            super::catalogue::DEMENTIA => 0.7,
            super::catalogue::COPD => 0.4,
            super::catalogue::CKD => 0.3,
            _ => 0.0,
        };
    }
    base * lp.exp()
}

/// The fixed parts of the population model, set up once per run.
#[derive(Debug, Clone)]
pub struct PopulationModel {
    /// Cumulative sampling weights by single year of age, inflated by the
    /// chance of dying in the window so the living match the target pyramid.
    pub age_cdf: Vec<f64>,
    /// Calibrated intercepts per condition.
    pub intercepts: Vec<f64>,
    pub years: f64,
}

/// Points and weights of a discretised standard normal used in calibration.
fn normal_grid() -> Vec<(f64, f64)> {
    let pts: Vec<f64> = (-12..=12).map(|k| f64::from(k) * 0.35).collect();
    let w: Vec<f64> = pts.iter().map(|x| (-x * x / 2.0).exp()).collect();
    let s: f64 = w.iter().sum();
    pts.into_iter().zip(w.into_iter().map(|x| x / s)).collect()
}

/// Linear predictor of a condition without its intercept.
pub fn condition_lp(c: &Condition, age: f64, sex: Sex, dep: f64, u: f64) -> f64 {
    let z = (age - 50.0) / 10.0;
    c.age_slope * z
        + c.age_quad * z * z
        + c.male * sex.male_centred()
        + c.deprivation * dep
        + c.latent * u
}

impl PopulationModel {
    pub fn new(area: &Area, years: f64) -> PopulationModel {
        let shares = target_age_shares();
        let grid = normal_grid();
        let deciles = area.decile_shares();
        let intercepts = CONDITIONS
            .iter()
            .map(|c| calibrate(c, &shares, &deciles, &grid))
            .collect();
        // Average mortality multiplier over u (E[exp(0.3u)]) and conditions
        // (about 1.15 among the old), used only to re-weight the sampling.
        let mut cum = 0.0;
        let age_cdf = shares
            .iter()
            .enumerate()
            .map(|(a, s)| {
                let h = mortality_hazard(a as f64 + 0.5, 0.0, &[]) * 1.05 * 1.15;
                let survive = (-h * years).exp();
                cum += s / survive;
                cum
            })
            .collect();
        PopulationModel {
            age_cdf,
            intercepts,
            years,
        }
    }

    /// Expected prevalence of `condition` given the intercept (for tests).
    #[cfg(test)]
    pub fn expected_prevalence(&self, area: &Area, condition: usize) -> f64 {
        let c = &CONDITIONS[condition];
        let lps = predictor_mass(
            c,
            &target_age_shares(),
            &area.decile_shares(),
            &normal_grid(),
        );
        lps.iter()
            .map(|(lp, w)| w * logistic(lp + self.intercepts[condition]))
            .sum()
    }
}

/// The distribution of the linear predictor (without intercept) over the
/// target population: (value, probability mass); ages under `min_age` carry
/// mass but no chance of the condition, so they appear as −∞.
fn predictor_mass(
    c: &Condition,
    shares: &[f64],
    deciles: &[f64; 10],
    grid: &[(f64, f64)],
) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(shares.len() * 2 * 10 * grid.len());
    for (a, s) in shares.iter().enumerate() {
        let age = a as f64 + 0.5;
        if age < c.min_age {
            out.push((f64::NEG_INFINITY, *s));
            continue;
        }
        for sex in [Sex::Female, Sex::Male] {
            for (d, ds) in deciles.iter().enumerate() {
                if *ds == 0.0 {
                    continue;
                }
                let dep = (5.5 - (d as f64 + 1.0)) / 4.5;
                for (u, uw) in grid {
                    out.push((condition_lp(c, age, sex, dep, *u), s * 0.5 * ds * uw));
                }
            }
        }
    }
    out
}

/// Solves for the intercept that gives the target prevalence (Newton's
/// method on a monotone function, started from the logit of the target).
fn calibrate(c: &Condition, shares: &[f64], deciles: &[f64; 10], grid: &[(f64, f64)]) -> f64 {
    let mass = predictor_mass(c, shares, deciles, grid);
    let target = c.target * c.survivor_boost;
    let mut a = (target / (1.0 - target)).ln() - 2.0;
    for _ in 0..60 {
        let (mut f, mut df) = (0.0, 0.0);
        for (lp, w) in &mass {
            let p = logistic(lp + a);
            f += w * p;
            df += w * p * (1.0 - p);
        }
        let step = (f - target) / df.max(1e-12);
        a -= step.clamp(-2.0, 2.0);
        if step.abs() < 1e-10 {
            break;
        }
    }
    a
}

/// Everything the per-person sampler needs.
pub struct PersonContext<'a> {
    pub model: &'a PopulationModel,
    pub area: &'a Area,
    pub practices: &'a [Practice],
    pub as_of: i32,
    pub h0: i32,
}

/// Draws a person's demographics, conditions, deficits, registration and death.
pub fn sample_person(ctx: &PersonContext<'_>, index: u64, rng: &mut ChaCha8Rng) -> Person {
    let sex = {
        let x: f64 = rng.random();
        if x < 0.5055 {
            Sex::Female
        } else if x < 0.999 {
            Sex::Male
        } else if x < 0.9998 {
            Sex::Unknown
        } else {
            Sex::Indeterminate
        }
    };
    let age_year = {
        let total = ctx.model.age_cdf[ctx.model.age_cdf.len() - 1];
        let x = rng.random::<f64>() * total;
        ctx.model.age_cdf.partition_point(|c| *c <= x).min(MAX_AGE)
    };
    let age = age_year as f64 + rng.random::<f64>();
    let dob = ctx.as_of - (age * DAYS_PER_YEAR) as i32;
    let age = f64::from(ctx.as_of - dob) / DAYS_PER_YEAR;

    let ethnicity = {
        let x: f64 = rng.random();
        if x < ETHNICITY_MISSING {
            None
        } else if x < ETHNICITY_MISSING + ETHNICITY_NOT_STATED {
            Some("Z")
        } else {
            Some(super::catalogue::pick_weighted(
                ETHNICITY_WEIGHTS,
                rng.random(),
            ))
        }
    };

    let practice = ctx
        .practices
        .partition_point(|p| p.first <= index)
        .saturating_sub(1);
    let n_lsoa = ctx.area.lsoas.len();
    let lsoa = if rng.random::<f64>() < 0.85 {
        // Catchment: the 17 LSOAs around the practice's centre.
        let centre = ctx.practices[practice].centre as i64;
        let off = rng.random_range(-8..=8i64);
        (centre + off).clamp(0, n_lsoa as i64 - 1) as usize
    } else {
        rng.random_range(0..n_lsoa)
    };
    let dep = (5.5 - f64::from(ctx.area.lsoas[lsoa].imd_decile)) / 4.5;
    let u: f64 = rng.sample(StandardNormal);
    let noise: f64 = rng.sample(StandardNormal);

    let mut conditions = Vec::new();
    for (ci, c) in CONDITIONS.iter().enumerate() {
        if age < c.min_age {
            // Still draw, to keep the stream aligned across ages.
            let _: f64 = rng.random();
            continue;
        }
        let p = logistic(ctx.model.intercepts[ci] + condition_lp(c, age, sex, dep, u));
        if rng.random::<f64>() < p {
            let span = (age - c.min_age).min(c.max_duration);
            let dur = span * rng.random::<f64>();
            let onset = ctx.as_of - (dur * DAYS_PER_YEAR) as i32;
            let variant = pick_variant(c, sex, rng.random());
            conditions.push(HasCondition {
                condition: ci,
                variant,
                onset: onset.max(dob),
            });
        }
    }

    let mut deficits = Vec::new();
    if age >= 30.0 {
        for (di, d) in DEFICITS.iter().enumerate() {
            let x: f64 = rng.random();
            if d.key == "urinary_system_disease" && sex != Sex::Male {
                continue;
            }
            let p = logistic(d.a + d.age_slope * (age - 75.0) / 10.0 + 0.6 * u);
            if x < p {
                let dur = (age - 30.0).min(10.0) * rng.random::<f64>();
                let onset = ctx.as_of - (dur * DAYS_PER_YEAR) as i32;
                deficits.push(HasDeficit {
                    deficit: di,
                    onset: onset.max(dob),
                });
            }
        }
    }

    let start = ctx.h0.max(dob);
    let cond_ids: Vec<usize> = conditions.iter().map(|c| c.condition).collect();
    let hazard = mortality_hazard(age - ctx.model.years / 2.0, u, &cond_ids);
    let e: f64 = rng.random::<f64>().max(1e-300);
    let t_days = (-e.ln() / hazard * DAYS_PER_YEAR).min(1e7) as i32;
    let death = (start + t_days <= ctx.as_of).then_some(start + t_days);
    if let Some(dd) = death {
        conditions.retain(|c| c.onset <= dd);
        deficits.retain(|d| d.onset <= dd);
    }

    let registered_from = {
        let last = death.unwrap_or(ctx.as_of);
        if dob >= ctx.h0 - 365 {
            // Babies register within weeks of birth.
            (dob + rng.random_range(7..60)).min(last)
        } else if rng.random::<f64>() < 0.1 {
            // Movers who joined the practice during the window.
            rng.random_range(ctx.h0..=last.max(ctx.h0))
        } else {
            let back = (rng.random::<f64>() * 20.0 * DAYS_PER_YEAR) as i32;
            (ctx.h0 - back).max(dob)
        }
    };

    let opt_out_national = rng.random::<f64>() < OPT_OUT_NATIONAL;
    // Type 1 objectors often also opt out nationally; the mix gives OPT_OUT_TYPE1 overall.
    let p_type1 = if opt_out_national {
        0.2
    } else {
        (OPT_OUT_TYPE1 - 0.2 * OPT_OUT_NATIONAL) / (1.0 - OPT_OUT_NATIONAL)
    };
    let opt_out_type1 = rng.random::<f64>() < p_type1;

    Person {
        index,
        sex,
        dob,
        age,
        ethnicity,
        lsoa,
        dep,
        practice,
        registered_from,
        death,
        noise,
        conditions,
        deficits,
        opt_out_national,
        opt_out_type1,
    }
}

/// Chooses a variant allowed for the person's sex, by weight.
fn pick_variant(c: &Condition, sex: Sex, x: f64) -> usize {
    let allowed = |v: &super::catalogue::Variant| match v.sex {
        Some('F') => sex == Sex::Female,
        Some('M') => sex == Sex::Male,
        _ => true,
    };
    let total: f64 = c
        .variants
        .iter()
        .filter(|v| allowed(v))
        .map(|v| v.weight)
        .sum();
    let mut y = x * total;
    let mut last = 0;
    for (i, v) in c.variants.iter().enumerate() {
        if !allowed(v) {
            continue;
        }
        last = i;
        if y < v.weight {
            return i;
        }
        y -= v.weight;
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_pyramid_matches_ons_shares() {
        let s = target_age_shares();
        let over65: f64 = s[65..].iter().sum();
        let over85: f64 = s[85..].iter().sum();
        assert!((over65 - 0.185).abs() < 0.002, "{over65}");
        assert!((over85 - 0.0249).abs() < 0.001, "{over85}");
    }

    #[test]
    fn calibration_hits_each_target_prevalence() {
        let area = Area::load("QVV").expect("Dorset");
        let model = PopulationModel::new(&area, 3.0);
        for (i, c) in CONDITIONS.iter().enumerate() {
            let p = model.expected_prevalence(&area, i);
            let target = c.target * c.survivor_boost;
            assert!((p - target).abs() < 1e-6, "{}: {p} vs {target}", c.key);
        }
    }

    #[test]
    fn practices_cover_everyone_and_pcns_are_30_to_50k() {
        let ps = build_practices(1_000_000, 463, 42);
        let total: u64 = ps.iter().map(|p| p.size).sum();
        assert_eq!(total, 1_000_000);
        let mean = total as f64 / ps.len() as f64;
        assert!(mean > 6_000.0 && mean < 11_000.0, "{mean}");
        let mut by_pcn = std::collections::BTreeMap::new();
        for p in &ps {
            *by_pcn.entry(p.pcn.clone()).or_insert(0u64) += p.size;
        }
        let sizes: Vec<u64> = by_pcn.values().copied().collect();
        // All but the last PCN reach their target; none is far above 50k + one practice.
        for s in &sizes[..sizes.len() - 1] {
            assert!(*s >= 30_000 && *s <= 80_000, "{s}");
        }
    }
}
