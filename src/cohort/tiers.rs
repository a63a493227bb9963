//! Risk tiers: the population-health pyramid.
//!
//! By default the top 0.5% of risk is "very high", the next 4.5% "high", the
//! next 15% "rising" and the rest "low". A tier's cut-off is the risk of the
//! last person inside its share; everyone with at least that risk is in the
//! tier, so people with equal risk always share a tier (a tie at a boundary
//! can make a tier slightly larger than its share, never smaller).

/// A risk tier.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    VeryHigh,
    High,
    Rising,
    Low,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::VeryHigh, Tier::High, Tier::Rising, Tier::Low];

    /// The label written to outputs.
    pub fn label(self) -> &'static str {
        match self {
            Tier::VeryHigh => "very_high",
            Tier::High => "high",
            Tier::Rising => "rising",
            Tier::Low => "low",
        }
    }
}

/// How tiers are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierMethod {
    /// By shares of the population, from the top of the risk ranking (the pyramid).
    #[default]
    Shares,
    /// By absolute risk: everyone at or above a probability is in the tier,
    /// whatever the population's size or spread.
    Thresholds,
}

/// Tier settings: shares of the population in each tier above "low"
/// (fractions, not percent), or absolute risk thresholds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TierConfig {
    pub method: TierMethod,
    pub very_high: f64,
    pub high: f64,
    pub rising: f64,
    /// With `method = "thresholds"`: the lowest risk in each tier.
    pub very_high_risk: f64,
    pub high_risk: f64,
    pub rising_risk: f64,
}

impl Default for TierConfig {
    fn default() -> Self {
        TierConfig {
            method: TierMethod::Shares,
            very_high: 0.005,
            high: 0.045,
            rising: 0.15,
            very_high_risk: 0.5,
            high_risk: 0.2,
            rising_risk: 0.1,
        }
    }
}

impl TierConfig {
    /// Checks the shares are in [0, 1] and add up to at most 1.
    pub fn validate(&self) -> Result<(), String> {
        let shares = [
            ("very_high", self.very_high),
            ("high", self.high),
            ("rising", self.rising),
        ];
        if let Some((name, v)) = shares.iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
            return Err(format!(
                "tiers.{name} = {v}: expected a fraction between 0 and 1 (0.005 = 0.5%)"
            ));
        }
        let thresholds = [self.very_high_risk, self.high_risk, self.rising_risk];
        if thresholds.iter().any(|t| !(*t > 0.0 && *t <= 1.0))
            || !(thresholds[0] >= thresholds[1] && thresholds[1] >= thresholds[2])
        {
            return Err(format!(
                "tiers: very_high_risk = {}, high_risk = {}, rising_risk = {}: expected probabilities in (0, 1], from highest to lowest",
                thresholds[0], thresholds[1], thresholds[2]
            ));
        }
        let total = self.very_high + self.high + self.rising;
        if total > 1.0 {
            return Err(format!(
                "tiers: very_high + high + rising = {total}, which is more than the whole population (1.0)"
            ));
        }
        Ok(())
    }
}

/// The tier of every risk in `risks`, with the cut-offs set over all of them.
pub fn assign_tiers(risks: &[f64], config: &TierConfig) -> Vec<Tier> {
    assign_tiers_over(risks, config, |_| true)
}

/// The tier of every risk in `risks`, with the population-share cut-offs
/// set over the risks of the people `counted` (by position) and applied to
/// everyone. The run counts the planning population (people without a
/// national opt-out or Type 1 objection), so that tiers, and the planning
/// summaries made from them, are the same with or without the opted-out
/// people in the extract; they still get a tier for direct care.
pub fn assign_tiers_over(
    risks: &[f64],
    config: &TierConfig,
    counted: impl Fn(usize) -> bool,
) -> Vec<Tier> {
    if config.method == TierMethod::Thresholds {
        return risks.iter().map(|&r| by_threshold(r, config)).collect();
    }
    let over: Vec<f64> = risks
        .iter()
        .enumerate()
        .filter(|&(i, _)| counted(i))
        .map(|(_, &r)| r)
        .collect();
    let cut_offs = share_cut_offs(over, config);
    risks
        .iter()
        .map(|&r| {
            let above = |i: usize| cut_offs[i].is_some_and(|c| r >= c);
            if above(0) {
                Tier::VeryHigh
            } else if above(1) {
                Tier::High
            } else if above(2) {
                Tier::Rising
            } else {
                Tier::Low
            }
        })
        .collect()
}

/// The lowest risk of the very high, high and rising shares of `highest`
/// (none where a share holds nobody).
fn share_cut_offs(mut highest: Vec<f64>, config: &TierConfig) -> [Option<f64>; 3] {
    let n = highest.len();
    let cumulative = [
        config.very_high,
        config.very_high + config.high,
        config.very_high + config.high + config.rising,
    ];
    // The k-th highest risk of each cut, by selection (linear time), not a
    // sort of the whole population. Largest k first: each later selection
    // only looks at the k highest risks the one before left in front.
    let mut cut_offs: [Option<f64>; 3] = [None; 3];
    let mut front = n;
    for (i, share) in cumulative.iter().enumerate().rev() {
        let k = ((share * n as f64 - 1e-9).ceil() as usize).min(n);
        if k == 0 {
            continue;
        }
        let scope = if k <= front {
            &mut highest[..front]
        } else {
            &mut highest[..]
        };
        let (_, kth, _) = scope.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
        cut_offs[i] = Some(*kth);
        front = k;
    }
    cut_offs
}

/// The tier of one risk under absolute thresholds.
fn by_threshold(risk: f64, config: &TierConfig) -> Tier {
    if risk >= config.very_high_risk {
        Tier::VeryHigh
    } else if risk >= config.high_risk {
        Tier::High
    } else if risk >= config.rising_risk {
        Tier::Rising
    } else {
        Tier::Low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_offs_are_set_over_the_counted_people_and_applied_to_everyone() {
        // Five counted people (0.5, 0.4, 0.3, 0.2, 0.1) and an uncounted 0.9.
        // Shares of 20% each: k = ceil(0.2 × 5) = 1, ceil(0.4 × 5) = 2 and
        // ceil(0.6 × 5) = 3, so the cut-offs are the 1st, 2nd and 3rd highest
        // counted risks: 0.5, 0.4, 0.3. The uncounted 0.9 is above them all.
        let config = TierConfig {
            very_high: 0.2,
            high: 0.2,
            rising: 0.2,
            ..TierConfig::default()
        };
        let risks = [0.9, 0.5, 0.4, 0.3, 0.2, 0.1];
        let tiers = assign_tiers_over(&risks, &config, |i| i != 0);
        use Tier::*;
        assert_eq!(tiers, vec![VeryHigh, VeryHigh, High, Rising, Low, Low]);
        // Counted over all six: k = ceil(1.2) = 2, ceil(2.4) = 3, ceil(3.6) = 4,
        // cut-offs 0.5, 0.4, 0.3: the same tiers here by chance, so the next
        // case is one where the uncounted person moves a cut-off.
        let all = assign_tiers(&risks, &config);
        assert_eq!(all, vec![VeryHigh, VeryHigh, High, Rising, Low, Low]);
        let risks = [0.9, 0.8, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01];
        // Ten counted: k = 2, 4, 6 → cut-offs 0.8, 0.4, 0.2.
        let all = assign_tiers(&risks, &config);
        assert_eq!(all[2], High, "0.5 is below the very high cut-off 0.8");
        // Without the 0.9 person (nine counted): k = ceil(1.8) = 2,
        // ceil(3.6) = 4, ceil(5.4) = 6 → cut-offs 0.5, 0.3, 0.1.
        let planning = assign_tiers_over(&risks, &config, |i| i != 0);
        assert_eq!(planning[2], VeryHigh, "0.5 is now the very high cut-off");
        assert_eq!(
            planning[0], VeryHigh,
            "the uncounted person still has a tier"
        );
        assert_eq!(planning[6], Rising, "0.1 reaches the rising cut-off 0.1");
    }

    fn count(tiers: &[Tier], t: Tier) -> usize {
        tiers.iter().filter(|&&x| x == t).count()
    }

    #[test]
    fn default_pyramid_on_a_thousand_distinct_risks() {
        // Risks 0.000, 0.001, … 0.999: top 0.5% = 5 people, next 4.5% = 45, next 15% = 150.
        let risks: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        let tiers = assign_tiers(&risks, &TierConfig::default());
        assert_eq!(count(&tiers, Tier::VeryHigh), 5);
        assert_eq!(count(&tiers, Tier::High), 45);
        assert_eq!(count(&tiers, Tier::Rising), 150);
        assert_eq!(count(&tiers, Tier::Low), 800);
        assert_eq!(tiers[999], Tier::VeryHigh);
        assert_eq!(tiers[995], Tier::VeryHigh);
        assert_eq!(tiers[994], Tier::High);
        assert_eq!(tiers[799], Tier::Low);
        assert_eq!(tiers[800], Tier::Rising);
    }

    #[test]
    fn equal_risks_share_the_higher_tier() {
        // 10 people, top 10% = 1 person, but two share the top risk.
        let risks = [0.9, 0.9, 0.5, 0.4, 0.3, 0.2, 0.1, 0.1, 0.05, 0.01];
        let config = TierConfig {
            very_high: 0.1,
            high: 0.0,
            rising: 0.0,
            ..TierConfig::default()
        };
        let tiers = assign_tiers(&risks, &config);
        assert_eq!(count(&tiers, Tier::VeryHigh), 2);
    }

    #[test]
    fn shares_must_fit_in_the_population() {
        assert!(
            TierConfig {
                very_high: 0.5,
                high: 0.4,
                rising: 0.2,
                ..TierConfig::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            TierConfig {
                very_high: -0.1,
                high: 0.0,
                rising: 0.0,
                ..TierConfig::default()
            }
            .validate()
            .is_err()
        );
        assert!(TierConfig::default().validate().is_ok());
    }

    #[test]
    fn absolute_thresholds_include_their_lower_bound() {
        let config = TierConfig {
            method: TierMethod::Thresholds,
            ..TierConfig::default()
        };
        // Defaults: very high ≥ 0.5, high ≥ 0.2, rising ≥ 0.1.
        let tiers = assign_tiers(&[0.5, 0.4999, 0.2, 0.1999, 0.1, 0.0999], &config);
        assert_eq!(
            tiers,
            vec![
                Tier::VeryHigh,
                Tier::High,
                Tier::High,
                Tier::Rising,
                Tier::Rising,
                Tier::Low
            ]
        );
        let bad = TierConfig {
            high_risk: 0.6,
            ..config
        };
        assert!(
            bad.validate().is_err(),
            "thresholds must fall from very high to rising"
        );
    }

    proptest::proptest! {
        /// Each cut-off is the risk of the last person inside the tier's
        /// share when everyone is ranked: the definition, by a full sort.
        #[test]
        fn cut_offs_are_the_ranked_risks_at_each_share(
            risks in proptest::collection::vec(
                proptest::sample::select(vec![0.0f64, 0.1, 0.2, 0.3, 0.5, 0.9, 1.0]), 1..300),
            very_high in 0.0..0.2f64,
            high in 0.0..0.3f64,
            rising in 0.0..0.4f64,
        ) {
            let config = TierConfig { very_high, high, rising, ..TierConfig::default() };
            let mut ranked = risks.clone();
            ranked.sort_by(|a, b| b.total_cmp(a));
            let n = risks.len();
            let cut = |share: f64| {
                let k = (share * n as f64 - 1e-9).ceil() as usize;
                (k > 0).then(|| ranked[k.min(n) - 1])
            };
            let cuts = [cut(very_high), cut(very_high + high), cut(very_high + high + rising)];
            let expected: Vec<Tier> = risks
                .iter()
                .map(|&r| {
                    let tier = cuts.iter().position(|c| c.is_some_and(|c| r >= c));
                    tier.map_or(Tier::Low, |i| Tier::ALL[i])
                })
                .collect();
            proptest::prop_assert_eq!(assign_tiers(&risks, &config), expected);
        }
    }
}
