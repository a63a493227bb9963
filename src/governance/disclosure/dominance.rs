//! Dominance rules for magnitude cells (sums over people such as cost or
//! expected admissions): a cell over enough people can still disclose one
//! person's value when one or two of them make up most of it.
//!
//! Sources: the ACRO tool of the SACRO project (Automatic Checking of
//! Research Outputs), whose default configuration uses the N-K rule with
//! n = 2, k = 0.9 and the p-ratio rule with p = 0.1
//! (<https://github.com/AI-SDC/ACRO>, `acro/default.yaml`); the rules
//! themselves as defined in the Eurostat *Handbook on Statistical Disclosure
//! Control* (Hundepool et al., 2010, section 4.2.2).

use std::fmt;
use std::str::FromStr;

use super::DisclosureError;

/// When a sum is dominated by its largest contributors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dominance {
    /// (n, k): the `n` largest contributions make up more than `k` of the
    /// total. `n` is 1 or 2 (the two largest contributions are all strata
    /// keeps per cell).
    NK { n: u8, k: f64 },
    /// p%: the total less the two largest contributions is below `p` of
    /// the largest, so the second-largest contributor could estimate the
    /// largest to within p%.
    P { p: f64 },
}

impl Default for Dominance {
    /// ACRO's default: n = 2, k = 0.9.
    fn default() -> Self {
        Dominance::NK { n: 2, k: 0.9 }
    }
}

impl Dominance {
    /// Whether a non-negative `total` with these two `largest`
    /// contributions (largest first) is dominated.
    pub fn dominated(&self, total: f64, largest: [f64; 2]) -> bool {
        if total <= 0.0 {
            return false;
        }
        match *self {
            Dominance::NK { n, k } => {
                let top: f64 = largest.iter().take(usize::from(n)).sum();
                top > k * total
            }
            Dominance::P { p } => total - largest[0] - largest[1] < p * largest[0],
        }
    }

    /// Refuses a rule that would never or always fire.
    pub fn validate(&self) -> Result<(), DisclosureError> {
        let ok = match *self {
            Dominance::NK { n, k } => (1..=2).contains(&n) && k > 0.0 && k < 1.0,
            Dominance::P { p } => p > 0.0 && p < 1.0,
        };
        if ok {
            Ok(())
        } else {
            Err(DisclosureError::InvalidProfile {
                reason: format!(
                    "dominance rule `{self}`: expected `nk:<n>:<k>` with n 1 or 2 and k between 0 and 1, or `p:<p>` with p between 0 and 1"
                ),
            })
        }
    }
}

impl fmt::Display for Dominance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dominance::NK { n, k } => write!(f, "nk:{n}:{k}"),
            Dominance::P { p } => write!(f, "p:{p}"),
        }
    }
}

impl FromStr for Dominance {
    type Err = DisclosureError;

    /// `nk:2:0.9` or `p:0.1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DisclosureError::InvalidProfile {
            reason: format!(
                "dominance rule `{s}`: expected `nk:<n>:<k>` (e.g. nk:2:0.9) or `p:<p>` (e.g. p:0.1)"
            ),
        };
        let parts: Vec<&str> = s.trim().split(':').collect();
        let rule = match parts.as_slice() {
            ["nk", n, k] => Dominance::NK {
                n: n.parse().map_err(|_| bad())?,
                k: k.parse().map_err(|_| bad())?,
            },
            ["p", p] => Dominance::P {
                p: p.parse().map_err(|_| bad())?,
            },
            _ => return Err(bad()),
        };
        rule.validate()?;
        Ok(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nk_rule_fires_above_k_of_the_total() {
        let rule = Dominance::default();
        // cost over 8 people: one of £9,000 and one of £200 in £10,000 -> 92% > 90%
        assert!(rule.dominated(10_000.0, [9_000.0, 200.0]));
        // two largest exactly 90%: not more than k, so not dominated
        assert!(!rule.dominated(10_000.0, [8_000.0, 1_000.0]));
        assert!(!rule.dominated(0.0, [0.0, 0.0]));
        let one = Dominance::NK { n: 1, k: 0.5 };
        assert!(one.dominated(100.0, [51.0, 40.0]));
        assert!(!one.dominated(100.0, [50.0, 40.0]));
    }

    #[test]
    fn p_rule_fires_when_the_rest_is_within_p_of_the_largest() {
        let rule = Dominance::P { p: 0.1 };
        // 1000 - 800 - 150 = 50 < 0.1 * 800 = 80
        assert!(rule.dominated(1000.0, [800.0, 150.0]));
        // 1000 - 500 - 100 = 400 >= 50
        assert!(!rule.dominated(1000.0, [500.0, 100.0]));
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!(
            "nk:2:0.9".parse::<Dominance>().ok(),
            Some(Dominance::default())
        );
        assert_eq!(
            "p:0.1".parse::<Dominance>().ok(),
            Some(Dominance::P { p: 0.1 })
        );
        for bad in ["nk:3:0.9", "nk:2:1.5", "p:0", "2:0.9", "nk:two:0.9", ""] {
            assert!(bad.parse::<Dominance>().is_err(), "{bad}");
        }
        assert_eq!(Dominance::default().to_string(), "nk:2:0.9");
    }
}
