//! The run manifest: what was read, what was written, with which model and
//! settings, and how long each stage took. It holds no identifiers.

use std::io::Read;
use std::path::Path;

use super::OutputError;
use crate::ingest::ValidationReport;

/// One input file, identified by size and content hash.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct InputFile {
    pub path: String,
    pub bytes: u64,
    pub blake3: String,
}

/// One output file and its row count.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OutputFile {
    pub path: String,
    pub rows: u64,
}

/// Rows read and rejected in one table.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TableCounts {
    pub table: String,
    pub rows_read: u64,
    pub rows_rejected: u64,
}

/// The model used.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ModelRef {
    pub model_id: String,
    pub path: String,
    pub blake3: String,
}

/// Wall-clock seconds of one stage.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StageTime {
    pub stage: String,
    pub seconds: f64,
}

/// `manifest.json` of a published run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub run_id: String,
    pub as_of: chrono::NaiveDate,
    pub software_version: String,
    pub started_at: String,
    pub model: ModelRef,
    pub inputs: Vec<InputFile>,
    pub tables: Vec<TableCounts>,
    /// Validation findings per table: issues by column and reason with their first rows.
    #[serde(default)]
    pub validation: Vec<crate::ingest::TableReport>,
    /// Patients whose LSOA was not found in the IMD table, and which table was used.
    pub imd_source: String,
    pub imd_unmatched_lsoa: u64,
    /// People scored (alive and registered on the as-of date).
    pub people_scored: u64,
    /// People per tier, in tier order.
    pub tier_counts: Vec<(String, u64)>,
    /// People per segment, in segment order.
    pub segment_counts: Vec<(String, u64)>,
    /// Score distribution, tier shares and missingness, for the next run's drift check.
    pub distribution: Distribution,
    /// Comparison with the previous published run, if there was one.
    pub drift: Option<Drift>,
    pub outputs: Vec<OutputFile>,
    pub stages: Vec<StageTime>,
    /// The settings the run used.
    pub settings: serde_json::Value,
    /// Rows and people behind each feature family, and warnings when a
    /// family has no source or touches far fewer people than expected.
    #[serde(default)]
    pub coverage: crate::features::Coverage,
    /// Model terms whose feature's family has no source at all: the run is
    /// degraded, not healthy, while this is not empty.
    #[serde(default)]
    pub degraded_terms: Vec<String>,
    /// `healthy` or `degraded` (a model term's source is absent).
    #[serde(default = "healthy")]
    pub health: String,
    /// Every code list the scores used (built in or a file), with its blake3 checksum.
    #[serde(default)]
    pub codelists: Vec<crate::codelists::ListUse>,
}

fn healthy() -> String {
    "healthy".into()
}

/// What a run's scores and inputs looked like, for the next run to compare with.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Distribution {
    pub people: u64,
    pub mean_risk: f64,
    /// Shares of people in each log-odds bin (see `products::drift::risk_bins`), summing to 1.
    pub risk_bin_shares: Vec<f64>,
    /// (tier, share of people).
    pub tier_shares: Vec<(String, f64)>,
    /// (feature, share of people with no value).
    pub missingness: Vec<(String, f64)>,
    /// People of the planning population (no National Data Opt-out, no
    /// Type 1 objection) in each log-odds bin, exact. The manifest sits
    /// beside person-level outputs (analysts, direct care); the run report,
    /// which commissioners see, protects these counts before drawing them
    /// (docs/information-governance.md). Empty in runs before it was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub planning_risk_bins: Vec<u64>,
}

/// How this run compares with the previous one.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Drift {
    pub previous_run_id: String,
    pub psi_risk: f64,
    pub psi_tiers: f64,
    pub warnings: Vec<String>,
}

impl Manifest {
    /// Per-table counts from a validation report.
    pub fn table_counts(report: &ValidationReport) -> Vec<TableCounts> {
        report
            .tables
            .iter()
            .map(|t| TableCounts {
                table: t.table.clone(),
                rows_read: t.rows_read,
                rows_rejected: t.rows_rejected,
            })
            .collect()
    }

    /// Reads a published manifest.
    pub fn read(path: &Path) -> Result<Manifest, OutputError> {
        let io = |source| OutputError::Io {
            path: path.to_path_buf(),
            action: "reading the manifest",
            source,
        };
        let text = std::fs::read_to_string(path).map_err(io)?;
        serde_json::from_str(&text).map_err(|e| io(std::io::Error::other(e)))
    }

    /// Writes the manifest as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<(), OutputError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| OutputError::Io {
            path: path.to_path_buf(),
            action: "serialising the manifest",
            source: std::io::Error::other(e),
        })?;
        std::fs::write(path, text + "\n").map_err(|source| OutputError::Io {
            path: path.to_path_buf(),
            action: "writing",
            source,
        })
    }
}

/// Size and blake3 hash of a file, read in one streaming pass.
pub fn describe_file(path: &Path) -> Result<InputFile, OutputError> {
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        action: "hashing",
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok(InputFile {
        path: path.display().to_string(),
        bytes,
        blake3: hasher.finalize().to_hex().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_file_gives_size_and_blake3_of_the_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Empty: the published BLAKE3 test vector for the empty input.
        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, b"").expect("write");
        let d = describe_file(&empty).expect("hash");
        assert_eq!(d.bytes, 0);
        assert_eq!(
            d.blake3,
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        // 3 MiB + 5 bytes: several read buffers, the last one short.
        let bytes: Vec<u8> = (0..(3 << 20) + 5).map(|i: u32| (i % 251) as u8).collect();
        let large = dir.path().join("large.csv");
        std::fs::write(&large, &bytes).expect("write");
        let d = describe_file(&large).expect("hash");
        assert_eq!(d.bytes, bytes.len() as u64);
        assert_eq!(d.blake3, blake3::hash(&bytes).to_hex().to_string());
        let missing = describe_file(&dir.path().join("missing.csv")).expect_err("no file");
        assert!(missing.to_string().contains("missing.csv"), "{missing}");
    }
}
