//! The clinical catalogue the generator draws codes from: long-term
//! conditions with their prevalence model, frailty deficits, acute reasons
//! for admission, prescriptions and observations.
//!
//! Every code here is real and was checked against its source:
//! - ICD-10: WHO ICD-10 2011 (the 4-character, no-dot form used by HES, with
//!   an `X` filler for 3-character codes such as `I10X`);
//! - SNOMED CT concept ids: the eFI deficit list (Clegg et al. 2016, via
//!   gm-sde), the Aurum Charlson/Elixhauser lists (Metcalfe et al. 2019) and
//!   well-known observable entities (BMI 60621009, blood pressure 72313002);
//! - BNF presentation codes: NHSBSA BNF code information, 1 November 2024
//!   (Open Government Licence v3.0). The chemical substance is the first 9
//!   characters of each code.
//!
//! Prevalence targets are England QOF 2023-24 register prevalences (NHS
//! England, "Quality and Outcomes Framework, 2023-24"), expressed here over
//! the all-ages list for simplicity; see docs/synthetic-data.md.

/// A prescription that a condition (or variant) may lead to.
#[derive(Debug, Clone, Copy)]
pub struct Drug {
    /// 15-character BNF presentation code.
    pub bnf: &'static str,
    /// Probability that a person with the condition takes it.
    pub p: f64,
}

const fn d(bnf: &'static str, p: f64) -> Drug {
    Drug { bnf, p }
}

/// A form of a condition with its codes (e.g. type 1 vs type 2 diabetes).
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    pub icd10: &'static str,
    pub snomed: &'static str,
    pub weight: f64,
    /// Restricts the variant to one sex (`'F'`/`'M'`).
    pub sex: Option<char>,
    /// Drugs specific to the variant, on top of the condition's.
    pub drugs: &'static [Drug],
}

const fn v(icd10: &'static str, snomed: &'static str, weight: f64) -> Variant {
    Variant {
        icd10,
        snomed,
        weight,
        sex: None,
        drugs: &[],
    }
}

/// A long-term condition and the parameters of its prevalence model:
/// `logit p = a + age_slope·z + age_quad·z² + male·[M] + deprivation·dep + latent·u`
/// where `z = (age − 50)/10`, `dep` runs from −1 (least deprived decile) to
/// +1 (most deprived) and `u ~ N(0,1)` is the person's latent morbidity,
/// shared by all conditions so that they cluster. `a` is solved at start so
/// that the expected all-ages prevalence over the area equals `target`.
#[derive(Debug, Clone, Copy)]
pub struct Condition {
    pub key: &'static str,
    pub target: f64,
    pub min_age: f64,
    pub age_slope: f64,
    pub age_quad: f64,
    pub male: f64,
    pub deprivation: f64,
    pub latent: f64,
    /// Longest plausible time since diagnosis, in years.
    pub max_duration: f64,
    pub variants: &'static [Variant],
    pub drugs: &'static [Drug],
    /// Log-hazard ratio on emergency admission while the condition is present.
    pub admission: f64,
    /// ICD-10 primary diagnosis of an admission caused by the condition.
    pub exacerbation: &'static str,
    /// Counts as an eFI deficit.
    pub efi: bool,
    /// Multiplies the target during calibration, because people with the
    /// condition die more often in the window and prevalence is measured
    /// among the living at the as-of date.
    pub survivor_boost: f64,
}

pub const HYPERTENSION: usize = 0;
pub const DIABETES: usize = 1;
// 2 is asthma, which no rule refers to by index.
pub const DEPRESSION: usize = 3;
pub const COPD: usize = 4;
pub const AF: usize = 5;
pub const CHD: usize = 6;
pub const HEART_FAILURE: usize = 7;
pub const CKD: usize = 8;
pub const CANCER: usize = 9;
pub const DEMENTIA: usize = 10;
pub const STROKE: usize = 11;

const RAMIPRIL_5: &str = "0205051R0AAACAC";
const BISOPROLOL_2_5: &str = "0204000H0AAAJAJ";
const ATORVASTATIN_20: &str = "0212000B0AAABAB";
const ATORVASTATIN_80: &str = "0212000B0AAADAD";
const SALBUTAMOL: &str = "0301011R0AAAPAP";
const FOSTAIR: &str = "0302000C0BQAABX";
const CLOPIDOGREL: &str = "0209000C0AAAAAA";
const APIXABAN_5: &str = "0208020Z0AAABAB";
const DAPAGLIFLOZIN: &str = "0601023AGAAABAB";

/// The long-term conditions, indexed by the constants above.
pub const CONDITIONS: &[Condition] = &[
    Condition {
        key: "hypertension",
        target: 0.148,
        min_age: 18.0,
        age_slope: 0.95,
        age_quad: -0.08,
        male: 0.15,
        deprivation: 0.15,
        latent: 0.6,
        max_duration: 25.0,
        variants: &[v("I10X", "38341003", 0.5), v("I10X", "59621000", 0.5)],
        drugs: &[
            d("0206020A0AAAAAA", 0.55),
            d(RAMIPRIL_5, 0.4),
            d("0202010P0AAAAAA", 0.15),
            d("0205052N0AAABAB", 0.15),
            d("0205040D0AAACAC", 0.05),
        ],
        admission: 0.05,
        exacerbation: "I10X",
        efi: true,
        survivor_boost: 1.03,
    },
    Condition {
        key: "diabetes",
        target: 0.077,
        min_age: 10.0,
        age_slope: 0.6,
        age_quad: -0.08,
        male: 0.3,
        deprivation: 0.45,
        latent: 0.7,
        max_duration: 25.0,
        variants: &[v("E119", "44054006", 0.9), v("E109", "46635009", 0.1)],
        drugs: &[
            d("0601022B0AAABAB", 0.8),
            d("0601021M0AAAAAA", 0.25),
            d("0601023X0AAAAAA", 0.15),
            d("0601023ANAAAAAA", 0.2),
            d(DAPAGLIFLOZIN, 0.1),
            d("0601012V0BDACAD", 0.12),
            d(ATORVASTATIN_20, 0.6),
        ],
        admission: 0.3,
        exacerbation: "E162",
        efi: true,
        survivor_boost: 1.0,
    },
    Condition {
        key: "asthma",
        target: 0.065,
        min_age: 3.0,
        age_slope: -0.05,
        age_quad: 0.0,
        male: -0.1,
        deprivation: 0.2,
        latent: 0.35,
        max_duration: 40.0,
        variants: &[v("J459", "195967001", 1.0)],
        drugs: &[
            d(SALBUTAMOL, 0.9),
            d("0302000C0BPABBF", 0.5),
            d(FOSTAIR, 0.25),
        ],
        admission: 0.25,
        exacerbation: "J46X",
        efi: true,
        survivor_boost: 1.0,
    },
    Condition {
        key: "depression",
        target: 0.132,
        min_age: 16.0,
        age_slope: 0.05,
        age_quad: -0.1,
        male: -0.55,
        deprivation: 0.35,
        latent: 0.5,
        max_duration: 20.0,
        variants: &[v("F329", "35489007", 0.8), v("F339", "370143000", 0.2)],
        drugs: &[
            d("0403030Q0AAAAAA", 0.35),
            d("0403030D0AAAAAA", 0.2),
            d("0403030E0AAAAAA", 0.15),
            d("0403040X0AAANAN", 0.12),
            d("0403010B0AAAGAG", 0.1),
        ],
        admission: 0.25,
        exacerbation: "F329",
        efi: false,
        survivor_boost: 1.0,
    },
    Condition {
        key: "copd",
        target: 0.019,
        min_age: 35.0,
        age_slope: 0.75,
        age_quad: -0.08,
        male: 0.2,
        deprivation: 0.8,
        latent: 0.7,
        max_duration: 20.0,
        variants: &[v("J449", "13645005", 1.0)],
        drugs: &[
            d(SALBUTAMOL, 0.9),
            d("0301020Q0AAABAB", 0.4),
            d("0301011ABBBAAA0", 0.3),
            d(FOSTAIR, 0.2),
        ],
        admission: 0.75,
        exacerbation: "J441",
        efi: true,
        survivor_boost: 1.05,
    },
    Condition {
        key: "atrial_fibrillation",
        target: 0.022,
        min_age: 30.0,
        age_slope: 1.1,
        age_quad: -0.05,
        male: 0.4,
        deprivation: 0.0,
        latent: 0.5,
        max_duration: 15.0,
        variants: &[v("I48X", "49436004", 1.0)],
        drugs: &[
            d(APIXABAN_5, 0.45),
            d("0208020AAAAACAC", 0.15),
            d("0208020Y0AAACAC", 0.1),
            d("0208020V0AAAAAA", 0.07),
            d(BISOPROLOL_2_5, 0.5),
            d("0201010F0AAAEAE", 0.1),
        ],
        admission: 0.35,
        exacerbation: "I48X",
        efi: true,
        survivor_boost: 1.15,
    },
    Condition {
        key: "coronary_heart_disease",
        target: 0.030,
        min_age: 30.0,
        age_slope: 0.95,
        age_quad: -0.08,
        male: 0.7,
        deprivation: 0.4,
        latent: 0.7,
        max_duration: 20.0,
        variants: &[v("I251", "53741008", 0.7), v("I252", "22298006", 0.3)],
        drugs: &[
            d(ATORVASTATIN_80, 0.7),
            d("0209000A0AAABAB", 0.6),
            d(CLOPIDOGREL, 0.25),
            d("0204000H0AAAAAA", 0.45),
            d("0206010F0AACICI", 0.3),
            d("0205051R0AAADAD", 0.4),
        ],
        admission: 0.35,
        exacerbation: "I214",
        efi: true,
        survivor_boost: 1.0,
    },
    Condition {
        key: "heart_failure",
        target: 0.011,
        min_age: 30.0,
        age_slope: 1.1,
        age_quad: -0.04,
        male: 0.4,
        deprivation: 0.4,
        latent: 0.8,
        max_duration: 10.0,
        variants: &[v("I509", "84114007", 0.8), v("I500", "84114007", 0.2)],
        drugs: &[
            d("0202020L0AABDBD", 0.7),
            d(BISOPROLOL_2_5, 0.6),
            d(RAMIPRIL_5, 0.45),
            d("0202030S0AAATAT", 0.3),
            d("0205052AEAAACAC", 0.12),
            d(DAPAGLIFLOZIN, 0.3),
        ],
        admission: 0.8,
        exacerbation: "I500",
        efi: true,
        survivor_boost: 1.12,
    },
    Condition {
        key: "ckd_3_5",
        target: 0.040,
        min_age: 18.0,
        age_slope: 1.15,
        age_quad: -0.05,
        male: -0.2,
        deprivation: 0.3,
        latent: 0.7,
        max_duration: 15.0,
        variants: &[
            v("N183", "433144002", 0.85),
            v("N184", "431857002", 0.1),
            v("N185", "433146000", 0.05),
        ],
        drugs: &[
            d("0902013S0AAACAC", 0.08),
            d("0905022C0AAAAAA", 0.03),
            d(RAMIPRIL_5, 0.3),
            d(ATORVASTATIN_20, 0.4),
        ],
        admission: 0.4,
        exacerbation: "N179",
        efi: true,
        survivor_boost: 1.08,
    },
    Condition {
        key: "cancer",
        target: 0.036,
        min_age: 18.0,
        age_slope: 0.85,
        age_quad: -0.06,
        male: 0.0,
        deprivation: 0.05,
        latent: 0.4,
        max_duration: 15.0,
        variants: &[
            Variant {
                icd10: "C509",
                snomed: "254837009",
                weight: 0.45,
                sex: Some('F'),
                drugs: &[
                    d("0803041L0AAAAAA", 0.35),
                    d("0803041B0AAAAAA", 0.2),
                    d("0803041S0AAABAB", 0.15),
                ],
            },
            Variant {
                icd10: "C61X",
                snomed: "399068003",
                weight: 0.45,
                sex: Some('M'),
                drugs: &[d("0803042A0AAAAAA", 0.3)],
            },
            v("C189", "363406005", 0.3),
            v("C349", "93880001", 0.15),
        ],
        drugs: &[d("0407020Q0AACNCN", 0.08)],
        admission: 0.5,
        exacerbation: "C349",
        efi: false,
        survivor_boost: 1.07,
    },
    Condition {
        key: "dementia",
        target: 0.0075,
        min_age: 50.0,
        age_slope: 1.9,
        age_quad: -0.1,
        male: -0.1,
        deprivation: 0.2,
        latent: 0.5,
        max_duration: 10.0,
        variants: &[v("F03X", "52448006", 0.6), v("G309", "26929004", 0.4)],
        drugs: &[
            d("0411000D0AAABAB", 0.5),
            d("0411000G0AAADAD", 0.2),
            d("0402010ABAAABAB", 0.05),
        ],
        admission: 0.5,
        exacerbation: "F051",
        efi: true,
        survivor_boost: 1.3,
    },
    Condition {
        key: "stroke_tia",
        target: 0.019,
        min_age: 30.0,
        age_slope: 1.0,
        age_quad: -0.05,
        male: 0.2,
        deprivation: 0.3,
        latent: 0.6,
        max_duration: 20.0,
        variants: &[v("I64X", "230690007", 0.75), v("G459", "266257000", 0.25)],
        drugs: &[
            d(CLOPIDOGREL, 0.7),
            d(ATORVASTATIN_80, 0.75),
            d(RAMIPRIL_5, 0.3),
            d(APIXABAN_5, 0.1),
        ],
        admission: 0.4,
        exacerbation: "I639",
        efi: true,
        survivor_boost: 1.04,
    },
];

/// A frailty deficit of the electronic Frailty Index that is not one of the
/// conditions above, with the SNOMED CT code from the eFI list and an ICD-10
/// code a hospital would record for it.
#[derive(Debug, Clone, Copy)]
pub struct Deficit {
    pub key: &'static str,
    pub snomed: &'static str,
    pub icd10: &'static str,
    /// Log-odds at age 75 for an average person.
    pub a: f64,
    /// Log-odds per decade of age.
    pub age_slope: f64,
}

const fn def(key: &'static str, snomed: &'static str, icd10: &'static str, a: f64) -> Deficit {
    Deficit {
        key,
        snomed,
        icd10,
        a,
        age_slope: 0.75,
    }
}

/// eFI deficits (Clegg et al. 2016) that are modelled as independent given
/// age and latent morbidity. Polypharmacy, the 36th deficit, follows from
/// the prescriptions.
pub const DEFICITS: &[Deficit] = &[
    def("falls", "161898004", "R296", -1.25),
    def("mobility_problems", "8510008", "R268", -1.45),
    def("hearing_loss", "15188001", "H919", -0.85),
    def("urinary_incontinence", "165232002", "R32X", -1.45),
    def("dizziness", "404640003", "R42X", -1.45),
    def("arthritis", "239862000", "M199", -0.55),
    def("osteoporosis", "64859006", "M819", -1.55),
    def("thyroid_disorder", "40930008", "E039", -1.55),
    def("social_vulnerability", "105529008", "Z602", -1.05),
    def("sleep_disturbance", "193462001", "G470", -1.85),
    def("dyspnoea", "267036007", "R060", -1.65),
    def("weight_loss", "267024001", "R634", -2.45),
    def("hypotension", "28651003", "I951", -2.25),
    def("anaemia", "87522002", "D509", -1.85),
    def("housebound", "160689007", "Z741", -2.45),
    def("skin_ulcer", "267816005", "L97X", -2.65),
    def("peripheral_vascular_disease", "400047006", "I739", -2.25),
    def("urinary_system_disease", "266569009", "N40X", -1.45),
    def("vision_problems", "193570009", "H269", -0.65),
    def("parkinsons", "49049000", "G20X", -3.25),
];

/// Index of the falls deficit (raises admissions for injury).
pub const FALLS: usize = 0;
/// Index of the housebound deficit (drives social care and community care).
pub const HOUSEBOUND: usize = 14;

/// Weighted ICD-10 primary diagnoses for emergency admissions not caused by
/// a recorded condition, by age group (child < 16, adult < 65, older).
pub const ACUTE_CHILD: &[(&str, f64)] = &[
    ("J069", 3.0),
    ("A099", 2.5),
    ("R509", 2.0),
    ("J189", 1.0),
    ("R104", 1.0),
    ("S060", 1.0),
    ("K358", 0.8),
    ("N390", 0.5),
];
pub const ACUTE_ADULT: &[(&str, f64)] = &[
    ("R104", 3.0),
    ("R074", 3.0),
    ("J189", 1.5),
    ("N390", 1.0),
    ("L039", 1.0),
    ("K358", 0.8),
    ("R55X", 1.0),
    ("A419", 0.5),
    ("J22X", 1.0),
    ("K297", 0.5),
];
pub const ACUTE_OLDER: &[(&str, f64)] = &[
    ("J189", 3.0),
    ("N390", 2.0),
    ("R074", 1.5),
    ("J22X", 1.5),
    ("A419", 1.2),
    ("R55X", 1.2),
    ("S720", 1.0),
    ("E86X", 0.8),
    ("F050", 0.6),
    ("L039", 0.8),
    ("R104", 1.0),
    ("K590", 0.5),
];

/// Secondary ICD-10 codes in no built-in code list (GORD, pure
/// hypercholesterolaemia, low back pain, penicillin allergy, long-term
/// anticoagulant use, cataract): real codes a feature must ignore.
pub const UNLISTED_ICD10: &[&str] = &["K219", "E780", "M545", "Z880", "Z921", "H259"];

/// Primary diagnoses of elective admissions, with weights.
pub const ELECTIVE: &[(&str, f64)] = &[
    ("H259", 2.0),
    ("M179", 1.0),
    ("M169", 0.8),
    ("K635", 1.2),
    ("K219", 0.8),
    ("N40X", 0.4),
    ("M545", 0.6),
    ("E780", 0.2),
];

/// ICD-10 primary diagnosis of a chemotherapy day case ("Z51.1").
pub const CHEMOTHERAPY: &str = "Z511";

/// GP-recorded acute problems as SNOMED CT concepts: acute viral
/// pharyngitis, low back pain, headache, hyperlipidaemia, acute bronchitis,
/// urinary tract infection, pain.
pub const ACUTE_SNOMED: &[(&str, f64)] = &[
    ("195662009", 3.0),
    ("279039007", 2.0),
    ("25064002", 1.5),
    ("55822004", 1.0),
    ("10509002", 1.5),
    ("68566005", 1.5),
    ("22253000", 1.0),
];

/// Acute prescriptions (antibiotics, analgesics, steroids, antihistamine).
pub const ACUTE_DRUGS: &[(&str, f64)] = &[
    ("0501013B0AAABAB", 3.0),
    ("0501130R0AAAGAG", 1.2),
    ("0501030I0AAABAB", 1.0),
    ("0501012G0AAABAB", 0.8),
    ("0603020T0AAACAC", 0.6),
    ("1001010J0AAAEAE", 1.2),
    ("1001010P0AAAEAE", 0.6),
    ("0304010I0AAAAAA", 0.8),
];

/// Other long-term medicines (antihistamine, PPI, analgesics, laxative,
/// antispasmodic, emollient-free list) drawn to build polypharmacy with age.
pub const OTHER_REPEATS: &[(&str, f64)] = &[
    ("0304010I0AAAAAA", 1.0),
    ("0103050P0AAAAAA", 1.5),
    ("0407010H0AAAMAM", 1.0),
    ("0407010F0AAAHAH", 0.8),
    ("0106040M0AAAAAA", 0.6),
    ("0102000P0AAABAB", 0.5),
    ("0602010V0AABZBZ", 0.5),
    ("0403010B0AAAGAG", 0.6),
    ("0106020M0AAACAC", 0.5),
    ("0906040G0AAANAN", 0.8),
];

/// Repeat medicines for common problems outside the condition list.
pub const OMEPRAZOLE: &str = "0103050P0AAAAAA";
pub const LANSOPRAZOLE: &str = "0103050L0AAAAAA";
pub const STATIN_PRIMARY: &str = ATORVASTATIN_20;
pub const PARACETAMOL: &str = "0407010H0AAAMAM";
pub const CO_CODAMOL: &str = "0407010F0AAAHAH";
pub const LEVOTHYROXINE: &str = "0602010V0AABXBX";
pub const ALENDRONIC_ACID: &str = "0606020A0AAACAC";
pub const CALCIUM_D3: &str = "0906040G0BKAABS";
pub const MACROGOL: &str = "0106040M0AAAAAA";
pub const TAMSULOSIN: &str = "0704010U0AAAAAA";

/// Observation codes (SNOMED CT) and units.
pub const OBS_BMI: (&str, &str) = ("60621009", "kg/m2");
pub const OBS_SYSTOLIC: (&str, &str) = ("72313002", "mm[Hg]");
pub const OBS_DIASTOLIC: (&str, &str) = ("271650006", "mm[Hg]");
pub const OBS_HBA1C: (&str, &str) = ("999791000000106", "mmol/mol");
pub const OBS_EGFR: (&str, &str) = ("1011481000000105", "mL/min/1.73m2");
/// Smoking status findings: current smoker, ex-smoker, never smoked.
pub const SMOKING: [&str; 3] = ["77176002", "8517006", "266919005"];

/// Picks from a weighted list; `u` is uniform in [0, 1).
pub fn pick_weighted<T: Copy>(items: &[(T, f64)], u: f64) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = u * total;
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bnf_codes_are_fifteen_characters() {
        let mut all: Vec<&str> = CONDITIONS
            .iter()
            .flat_map(|c| {
                c.drugs
                    .iter()
                    .chain(c.variants.iter().flat_map(|v| v.drugs.iter()))
            })
            .map(|d| d.bnf)
            .collect();
        all.extend(ACUTE_DRUGS.iter().chain(OTHER_REPEATS).map(|(b, _)| *b));
        all.extend([
            OMEPRAZOLE,
            LANSOPRAZOLE,
            PARACETAMOL,
            CO_CODAMOL,
            LEVOTHYROXINE,
            ALENDRONIC_ACID,
            CALCIUM_D3,
            MACROGOL,
            TAMSULOSIN,
        ]);
        for b in all {
            assert_eq!(b.len(), 15, "{b}");
        }
    }

    #[test]
    fn icd10_codes_are_four_characters_without_dots() {
        let mut all: Vec<&str> = CONDITIONS
            .iter()
            .flat_map(|c| c.variants.iter().map(|v| v.icd10).chain([c.exacerbation]))
            .collect();
        all.extend(DEFICITS.iter().map(|d| d.icd10));
        all.extend(
            ACUTE_CHILD
                .iter()
                .chain(ACUTE_ADULT)
                .chain(ACUTE_OLDER)
                .map(|(c, _)| *c),
        );
        all.extend(UNLISTED_ICD10);
        all.extend(ELECTIVE.iter().map(|(c, _)| *c));
        for c in all {
            assert_eq!(c.len(), 4, "{c}");
            assert!(
                c.chars().next().is_some_and(|ch| ch.is_ascii_uppercase()),
                "{c}"
            );
        }
    }

    /// Charlson (Quan 2005) ICD-10 prefixes from the repository's code list.
    fn charlson_prefixes() -> Vec<String> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/codelists/icd10/CHARLSON_QUAN.csv"
        );
        let text = std::fs::read_to_string(path)
            .expect("codelists/icd10/CHARLSON_QUAN.csv is in the repository");
        text.lines()
            .skip(2) // header and the "Age" pseudo-category
            .filter_map(|l| l.rsplit(',').next())
            .flat_map(|codes| codes.split('|').map(str::to_string).collect::<Vec<_>>())
            .filter(|p| !p.is_empty())
            .collect()
    }

    #[test]
    fn charlson_conditions_use_codes_charlson_recognises() {
        let prefixes = charlson_prefixes();
        let in_charlson = [
            DIABETES,
            COPD,
            HEART_FAILURE,
            CKD,
            CANCER,
            DEMENTIA,
            STROKE,
            2,
        ];
        for ci in in_charlson {
            let c = &CONDITIONS[ci];
            for v in c.variants {
                assert!(
                    prefixes.iter().any(|p| v.icd10.starts_with(p.as_str())),
                    "{}: {}",
                    c.key,
                    v.icd10
                );
            }
        }
        // Old myocardial infarction (I252) counts as MI; chronic IHD (I251) does not.
        assert!(prefixes.iter().any(|p| "I252".starts_with(p.as_str())));
        for code in UNLISTED_ICD10 {
            assert!(
                !prefixes.iter().any(|p| code.starts_with(p.as_str())),
                "{code}"
            );
        }
    }

    #[test]
    fn weighted_pick_covers_the_ends() {
        let items = [("a", 1.0), ("b", 3.0)];
        assert_eq!(pick_weighted(&items, 0.0), "a");
        assert_eq!(pick_weighted(&items, 0.2499), "a");
        assert_eq!(pick_weighted(&items, 0.25), "b");
        assert_eq!(pick_weighted(&items, 0.9999), "b");
    }
}
