//! Reference geography: the LSOA 2021 codes of an ICB and their IMD 2025
//! deciles, embedded from `reference/` so the binary works from any folder.
//!
//! Sources (Open Government Licence v3.0, see reference/README.md): ONS/NHS
//! LSOA → sub-ICB → ICB lookup (2024) and MHCLG English Indices of
//! Deprivation 2025.

use super::SynthError;

const LSOA_ICB: &str = include_str!("../../reference/lsoa21_icb24.csv");
const IMD: &str = include_str!("../../reference/imd2025_lsoa21.csv");

/// One LSOA of the area with its IMD decile (1 = most deprived).
#[derive(Debug, Clone)]
pub struct Lsoa {
    pub code: String,
    pub imd_decile: i32,
}

/// The LSOAs of one ICB, sorted by code (codes run roughly by local
/// authority, so neighbouring indices are near each other).
#[derive(Debug, Clone)]
pub struct Area {
    pub icb: String,
    pub lsoas: Vec<Lsoa>,
}

impl Area {
    /// Loads the LSOAs of `icb` (NHS ICB code such as `QVV`).
    pub fn load(icb: &str) -> Result<Area, SynthError> {
        let wanted = icb.trim().to_ascii_uppercase();
        let mut codes: Vec<&str> = Vec::new();
        let mut known: Vec<&str> = Vec::new();
        for (line_no, line) in LSOA_ICB.lines().enumerate().skip(1) {
            let (lsoa, icb_code) = line.split_once(',').ok_or_else(|| SynthError::Reference {
                file: "reference/lsoa21_icb24.csv",
                line: line_no + 1,
                expected: "lsoa21_code,icb24_code_nhs",
            })?;
            if icb_code == wanted {
                codes.push(lsoa);
            }
            if !known.contains(&icb_code) {
                known.push(icb_code);
            }
        }
        if codes.is_empty() {
            known.sort_unstable();
            return Err(SynthError::UnknownIcb {
                icb: wanted,
                known: known.join(", "),
            });
        }
        codes.sort_unstable();
        let deciles = imd_deciles()?;
        let lsoas = codes
            .into_iter()
            .map(|code| {
                deciles
                    .binary_search_by(|(c, _)| (*c).cmp(code))
                    .map(|i| Lsoa {
                        code: code.to_string(),
                        imd_decile: deciles[i].1,
                    })
                    .map_err(|_| SynthError::MissingImd {
                        lsoa: code.to_string(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Area { icb: wanted, lsoas })
    }

    /// Share of the area's LSOAs in each IMD decile (index 0 = decile 1).
    pub fn decile_shares(&self) -> [f64; 10] {
        let mut shares = [0.0; 10];
        for l in &self.lsoas {
            shares[(l.imd_decile - 1) as usize] += 1.0;
        }
        let n = self.lsoas.len() as f64;
        shares.map(|s| s / n)
    }
}

/// IMD 2025 deciles by LSOA code, sorted by code.
fn imd_deciles() -> Result<Vec<(&'static str, i32)>, SynthError> {
    let mut out = Vec::with_capacity(34_000);
    for (line_no, line) in IMD.lines().enumerate().skip(1) {
        let bad = || SynthError::Reference {
            file: "reference/imd2025_lsoa21.csv",
            line: line_no + 1,
            expected: "lsoa21_code,imd_rank,imd_decile,imd_score with a decile from 1 to 10",
        };
        let mut fields = line.split(',');
        let code = fields.next().ok_or_else(bad)?;
        let decile: i32 = fields
            .nth(1)
            .and_then(|d| d.trim().parse().ok())
            .ok_or_else(bad)?;
        if !(1..=10).contains(&decile) {
            return Err(bad());
        }
        out.push((code, decile));
    }
    out.sort_unstable();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dorset_has_its_lsoas_with_deciles() {
        let area = Area::load("qvv").expect("Dorset is in the lookup");
        assert_eq!(area.icb, "QVV");
        assert!(area.lsoas.len() > 400, "{}", area.lsoas.len());
        assert!(area.lsoas.iter().all(|l| l.code.starts_with("E01")));
        let total: f64 = area.decile_shares().iter().sum();
        assert!((total - 1.0).abs() < 1e-9);
    }

    #[test]
    fn unknown_icb_lists_the_known_codes() {
        let err = Area::load("NOPE").expect_err("not an ICB");
        assert!(err.to_string().contains("QVV"), "{err}");
    }
}
