//! Achieved-versus-target figures for the generation report: age pyramid,
//! prevalences, activity rates, deaths and the oracle AUC of the truth.
//!
//! Each chunk counts into its own `ChunkStats`; the chunks are merged in
//! order, so the report is the same whatever the number of threads.

use serde::Serialize;

use super::catalogue::CONDITIONS;
use super::population::{DAYS_PER_YEAR, Person, target_age_shares};

/// Report age bands: lower bounds in years.
pub const AGE_BANDS: [(u32, &str); 8] = [
    (0, "0-4"),
    (5, "5-14"),
    (15, "15-24"),
    (25, "25-44"),
    (45, "45-64"),
    (65, "65-74"),
    (75, "75-84"),
    (85, "85+"),
];

/// Emergency admissions per 1,000 people per year by the bands above:
/// approximate England figures (NHS Digital Hospital Episode Statistics,
/// admitted patient care 2022-23, emergency admissions by age over ONS
/// mid-year population).
pub const EMERGENCY_PER_1000_BY_BAND: [f64; 8] =
    [130.0, 40.0, 60.0, 65.0, 90.0, 160.0, 280.0, 600.0];

/// Targets per 1,000 people per year by setting (England): emergency
/// admissions (HES APC), A&E attendances (HES A&E / ECDS), outpatient
/// attendances (HES OP), deaths (ONS).
pub const TARGET_EMERGENCY_PER_1000: f64 = 110.0;
pub const TARGET_AE_PER_1000: f64 = 440.0;
pub const TARGET_OUTPATIENT_PER_1000: f64 = 2_200.0;
pub const TARGET_DEATHS_PER_1000: f64 = 9.0;
/// Event rows per person over 3 years (issue 3's reference workload).
pub const TARGET_ROWS_PER_PERSON_3Y: f64 = 100.0;

/// Band index of an age in years.
pub fn band_of(age: f64) -> usize {
    AGE_BANDS
        .iter()
        .rposition(|(lo, _)| age >= f64::from(*lo))
        .unwrap_or(0)
}

const AUC_BINS: usize = 4096;

/// Counts from one chunk of people.
#[derive(Debug, Clone)]
pub struct ChunkStats {
    pub people: u64,
    pub alive_at_as_of: u64,
    pub alive_by_band: [u64; 8],
    pub alive_female: u64,
    pub condition_alive: Vec<u64>,
    pub efi_65_plus: [u64; 4],
    pub deaths: u64,
    pub person_days: f64,
    pub person_days_by_band: [f64; 8],
    pub emergency_by_band: [u64; 8],
    /// Encounters by setting index of `contract::SETTINGS`.
    pub encounters_by_setting: [u64; 6],
    pub elective_admissions: u64,
    pub social_care_people: u64,
    pub rows: [u64; 7],
    pub truth_n: u64,
    pub truth_risk_sum: f64,
    pub truth_events: u64,
    pub risk_hist_pos: Vec<u64>,
    pub risk_hist_neg: Vec<u64>,
}

impl Default for ChunkStats {
    fn default() -> Self {
        ChunkStats {
            people: 0,
            alive_at_as_of: 0,
            alive_by_band: [0; 8],
            alive_female: 0,
            condition_alive: vec![0; CONDITIONS.len()],
            efi_65_plus: [0; 4],
            deaths: 0,
            person_days: 0.0,
            person_days_by_band: [0.0; 8],
            emergency_by_band: [0; 8],
            encounters_by_setting: [0; 6],
            elective_admissions: 0,
            social_care_people: 0,
            rows: [0; 7],
            truth_n: 0,
            truth_risk_sum: 0.0,
            truth_events: 0,
            risk_hist_pos: vec![0; AUC_BINS],
            risk_hist_neg: vec![0; AUC_BINS],
        }
    }
}

impl ChunkStats {
    /// Counts a person's state at the as-of date and their time at risk.
    pub fn add_person(&mut self, p: &Person, h0: i32, as_of: i32) {
        self.people += 1;
        let start = h0.max(p.dob);
        let end = p.last_day(as_of);
        // Split the days lived in the window across age bands.
        for (b, (lo, _)) in AGE_BANDS.iter().enumerate() {
            let band_start = p.dob + (f64::from(*lo) * DAYS_PER_YEAR) as i32;
            let band_end = AGE_BANDS.get(b + 1).map_or(i32::MAX, |(hi, _)| {
                p.dob + (f64::from(*hi) * DAYS_PER_YEAR) as i32
            });
            let s = start.max(band_start);
            let e = (end + 1).min(band_end);
            if e > s {
                self.person_days_by_band[b] += f64::from(e - s);
                self.person_days += f64::from(e - s);
            }
        }
        if p.death.is_some() {
            self.deaths += 1;
            return;
        }
        self.alive_at_as_of += 1;
        self.alive_by_band[band_of(p.age)] += 1;
        if p.sex == super::population::Sex::Female {
            self.alive_female += 1;
        }
        for c in &p.conditions {
            self.condition_alive[c.condition] += 1;
        }
        if p.age >= 65.0 {
            let efi = p.efi(as_of);
            let cat = if efi <= 0.12 {
                0
            } else if efi <= 0.24 {
                1
            } else if efi <= 0.36 {
                2
            } else {
                3
            };
            self.efi_65_plus[cat] += 1;
        }
    }

    pub fn add_truth(&mut self, risk: f64, outcome: bool) {
        self.truth_n += 1;
        self.truth_risk_sum += risk;
        let bin = ((risk.clamp(0.0, 1.0).sqrt()) * (AUC_BINS as f64 - 1.0)).round() as usize;
        if outcome {
            self.truth_events += 1;
            self.risk_hist_pos[bin] += 1;
        } else {
            self.risk_hist_neg[bin] += 1;
        }
    }

    pub fn merge(&mut self, o: &ChunkStats) {
        self.people += o.people;
        self.alive_at_as_of += o.alive_at_as_of;
        self.alive_female += o.alive_female;
        self.deaths += o.deaths;
        self.person_days += o.person_days;
        self.elective_admissions += o.elective_admissions;
        self.social_care_people += o.social_care_people;
        self.truth_n += o.truth_n;
        self.truth_risk_sum += o.truth_risk_sum;
        self.truth_events += o.truth_events;
        for i in 0..8 {
            self.alive_by_band[i] += o.alive_by_band[i];
            self.person_days_by_band[i] += o.person_days_by_band[i];
            self.emergency_by_band[i] += o.emergency_by_band[i];
        }
        for i in 0..6 {
            self.encounters_by_setting[i] += o.encounters_by_setting[i];
        }
        for i in 0..7 {
            self.rows[i] += o.rows[i];
        }
        for i in 0..4 {
            self.efi_65_plus[i] += o.efi_65_plus[i];
        }
        for (a, b) in self.condition_alive.iter_mut().zip(&o.condition_alive) {
            *a += b;
        }
        for (a, b) in self.risk_hist_pos.iter_mut().zip(&o.risk_hist_pos) {
            *a += b;
        }
        for (a, b) in self.risk_hist_neg.iter_mut().zip(&o.risk_hist_neg) {
            *a += b;
        }
    }

    /// AUC of the true risk for the drawn outcome (ties within a bin count
    /// half), i.e. the best AUC any model could expect.
    pub fn oracle_auc(&self) -> Option<f64> {
        let pos: u64 = self.risk_hist_pos.iter().sum();
        let neg: u64 = self.risk_hist_neg.iter().sum();
        if pos == 0 || neg == 0 {
            return None;
        }
        let mut neg_below = 0.0;
        let mut total = 0.0;
        for (p, n) in self.risk_hist_pos.iter().zip(&self.risk_hist_neg) {
            total += *p as f64 * (neg_below + 0.5 * *n as f64);
            neg_below += *n as f64;
        }
        Some(total / (pos as f64 * neg as f64))
    }
}

/// One achieved-versus-target figure.
#[derive(Debug, Clone, Serialize)]
pub struct Compare {
    pub name: String,
    pub achieved: f64,
    pub target: f64,
}

fn cmp(name: &str, achieved: f64, target: f64) -> Compare {
    Compare {
        name: name.to_string(),
        achieved: round4(achieved),
        target: round4(target),
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Realism section of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Realism {
    /// Share of people alive at the as-of date in each age band.
    pub age_pyramid: Vec<Compare>,
    pub female_share: Compare,
    /// Prevalence among people alive at the as-of date.
    pub prevalence: Vec<Compare>,
    /// Per 1,000 person-years in the history window.
    pub per_1000_per_year: Vec<Compare>,
    pub emergency_admissions_per_1000_by_age: Vec<Compare>,
    /// eFI categories among people aged 65+: fit, mild, moderate, severe.
    pub efi_categories_65_plus: Vec<Compare>,
    pub event_rows_per_person_3y: Compare,
    /// Share of people with any adult social-care package in the window.
    pub social_care_share: Compare,
}

/// Truth section of the report.
#[derive(Debug, Clone, Serialize)]
pub struct TruthSummary {
    pub people: u64,
    pub mean_true_risk_12m: f64,
    pub emergency_admission_12m_rate: f64,
    pub oracle_auc: Option<f64>,
}

pub fn realism(s: &ChunkStats, years: f64) -> Realism {
    let alive = s.alive_at_as_of.max(1) as f64;
    let shares = target_age_shares();
    let age_pyramid = AGE_BANDS
        .iter()
        .enumerate()
        .map(|(b, (lo, name))| {
            let hi = AGE_BANDS
                .get(b + 1)
                .map_or(shares.len(), |(h, _)| *h as usize);
            let target: f64 = shares[*lo as usize..hi].iter().sum();
            cmp(name, s.alive_by_band[b] as f64 / alive, target)
        })
        .collect();
    let prevalence = CONDITIONS
        .iter()
        .enumerate()
        .map(|(i, c)| cmp(c.key, s.condition_alive[i] as f64 / alive, c.target))
        .collect();
    let py = (s.person_days / DAYS_PER_YEAR).max(1e-9);
    let per = |n: u64| n as f64 / py * 1000.0;
    let e = &s.encounters_by_setting;
    let per_1000_per_year = vec![
        cmp(
            "emergency_admissions",
            per(s.emergency_by_band.iter().sum()),
            TARGET_EMERGENCY_PER_1000,
        ),
        cmp("ae_attendances", per(e[2]), TARGET_AE_PER_1000),
        cmp(
            "outpatient_attendances",
            per(e[3]),
            TARGET_OUTPATIENT_PER_1000,
        ),
        cmp("deaths", per(s.deaths), TARGET_DEATHS_PER_1000),
        cmp("elective_admissions", per(s.elective_admissions), 150.0),
        cmp("gp_contacts", per(e[0]), 5_000.0),
        cmp("community_contacts", per(e[4]), 1_000.0),
        cmp("mental_health_contacts", per(e[5]), 300.0),
        cmp("prescription_items", per(s.rows[3]), 19_000.0),
    ];
    let emergency_admissions_per_1000_by_age = AGE_BANDS
        .iter()
        .enumerate()
        .map(|(b, (_, name))| {
            let pyb = (s.person_days_by_band[b] / DAYS_PER_YEAR).max(1e-9);
            cmp(
                name,
                s.emergency_by_band[b] as f64 / pyb * 1000.0,
                EMERGENCY_PER_1000_BY_BAND[b],
            )
        })
        .collect();
    let n65: u64 = s.efi_65_plus.iter().sum();
    let efi_targets = [0.50, 0.31, 0.14, 0.05];
    let efi_categories_65_plus = ["fit", "mild", "moderate", "severe"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            cmp(
                n,
                s.efi_65_plus[i] as f64 / n65.max(1) as f64,
                efi_targets[i],
            )
        })
        .collect();
    let event_rows: u64 = s.rows[1..6].iter().sum();
    let event_rows_per_person_3y = cmp(
        "event_rows_per_person_3y",
        event_rows as f64 / s.people.max(1) as f64 * 3.0 / years.max(1e-9),
        TARGET_ROWS_PER_PERSON_3Y,
    );
    Realism {
        age_pyramid,
        female_share: cmp("female", s.alive_female as f64 / alive, 0.5055),
        prevalence,
        per_1000_per_year,
        emergency_admissions_per_1000_by_age,
        efi_categories_65_plus,
        event_rows_per_person_3y,
        social_care_share: cmp(
            "social_care_share",
            s.social_care_people as f64 / s.people.max(1) as f64,
            0.015,
        ),
    }
}

pub fn truth_summary(s: &ChunkStats) -> TruthSummary {
    let n = s.truth_n.max(1) as f64;
    TruthSummary {
        people: s.truth_n,
        mean_true_risk_12m: round4(s.truth_risk_sum / n),
        emergency_admission_12m_rate: round4(s.truth_events as f64 / n),
        oracle_auc: s.oracle_auc().map(round4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_start_at_their_lower_bounds() {
        assert_eq!(band_of(0.0), 0);
        assert_eq!(band_of(4.99), 0);
        assert_eq!(band_of(5.0), 1);
        assert_eq!(band_of(84.9), 6);
        assert_eq!(band_of(103.0), 7);
    }

    #[test]
    fn auc_of_a_perfect_separator_is_one_and_of_ties_one_half() {
        let mut s = ChunkStats::default();
        s.add_truth(0.9, true);
        s.add_truth(0.1, false);
        assert_eq!(s.oracle_auc(), Some(1.0));
        let mut t = ChunkStats::default();
        t.add_truth(0.3, true);
        t.add_truth(0.3, false);
        assert_eq!(t.oracle_auc(), Some(0.5));
    }
}
