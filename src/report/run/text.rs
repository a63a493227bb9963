//! Words and numbers for the page: labels, sizes, durations and readings.

use crate::publication::manifest::Manifest;
use crate::report::format_percent;
use crate::report::html::Status;

/// Human label of a tier or segment key: `very_high` → "Very high".
pub(super) fn humanise(key: &str) -> String {
    let words = key.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

/// Tier definitions from the run's settings (shares from the top of the ranking).
pub(super) fn tier_definitions(manifest: &Manifest) -> Vec<(String, String)> {
    let share = |key: &str, default: f64| {
        manifest
            .settings
            .get("tiers")
            .and_then(|t| t.get(key))
            .and_then(|v| v.as_f64())
            .unwrap_or(default)
    };
    let (vh, h, r) = (
        share("very_high", 0.005),
        share("high", 0.045),
        share("rising", 0.15),
    );
    vec![
        (
            "very_high".into(),
            format!("top {} of risk", format_percent(vh)),
        ),
        ("high".into(), format!("next {}", format_percent(h))),
        ("rising".into(), format!("next {}", format_percent(r))),
        (
            "low".into(),
            format!("the remaining {}", format_percent(1.0 - vh - h - r)),
        ),
    ]
}

/// A file size in decimal units: "93.6 MB".
pub(super) fn bytes_text(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

/// A duration: "0.53 s" under a minute, "2m 05s" above.
pub(super) fn seconds_text(s: f64) -> String {
    if s < 0.01 {
        "<0.01 s".into()
    } else if s < 60.0 {
        format!("{s:.2} s")
    } else {
        format!("{}m {:02.0}s", (s / 60.0).floor(), s % 60.0)
    }
}

/// PSI in words (Siddiqi 2006).
pub(super) fn psi_reading(psi: f64) -> (&'static str, Status) {
    if psi < 0.1 {
        ("stable", Status::Good)
    } else if psi < 0.25 {
        ("some shift", Status::Warn)
    } else {
        ("major shift", Status::Bad)
    }
}

/// Risk at a log-odds edge.
pub(super) fn risk_at_logit(logit: f64) -> f64 {
    1.0 / (1.0 + (-logit).exp())
}

/// A percentage with fewer decimals as it grows: "0.09%", "2.5%", "27%".
pub(super) fn short_percent(p: f64) -> String {
    let v = p * 100.0;
    if v < 1.0 {
        format!("{v:.2}%")
    } else if v < 10.0 {
        format!("{v:.1}%")
    } else {
        format!("{v:.0}%")
    }
}
