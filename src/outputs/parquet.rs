//! Parquet writing with settings dashboards read fast: zstd, full column
//! statistics (so readers skip row groups by practice or tier), and row
//! groups of a size that keeps one practice in few groups.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use crate::error::OutputError;

/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Writes `frame` to `path`, returning the number of rows written.
pub fn write_parquet(frame: &mut DataFrame, path: &Path) -> Result<u64, OutputError> {
    let file = File::create(path).map_err(|source| OutputError::Io {
        path: path.to_path_buf(),
        action: "creating the file",
        source,
    })?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::full())
        .with_row_group_size(Some(ROW_GROUP_ROWS))
        .finish(frame)
        .map_err(|source| OutputError::Parquet {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(frame.height() as u64)
}

/// Writes `frame` as a Hive-partitioned folder `dir/KEY=value/part-0.parquet`,
/// one folder per value of `key` (which stays in the files too, so readers
/// that ignore Hive paths still see it). Returns (relative path, rows) per file.
pub fn write_partitioned(
    frame: &DataFrame,
    dir: &Path,
    key: &str,
) -> Result<Vec<(String, u64)>, OutputError> {
    let parquet_error = |source| OutputError::Parquet {
        path: dir.to_path_buf(),
        source,
    };
    let sorted = frame
        .sort(
            [key],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .map_err(parquet_error)?;
    let keys = sorted
        .column(key)
        .and_then(|c| c.cast(&DataType::String))
        .map_err(parquet_error)?;
    let keys = keys.str().map_err(parquet_error)?;
    let mut parts: Vec<(String, usize, usize)> = Vec::new();
    let mut start = 0usize;
    let n = sorted.height();
    while start < n {
        let value = keys.get(start);
        let mut end = start + 1;
        while end < n && keys.get(end) == value {
            end += 1;
        }
        parts.push((format!("{key}={}", partition_value(value)), start, end));
        start = end;
    }
    // Partitions are independent files: written in parallel (a practice's
    // file is small, so one file alone keeps only one core busy).
    parts
        .into_par_iter()
        .map(|(folder, start, end)| {
            let target = dir.join(&folder);
            std::fs::create_dir_all(&target).map_err(|source| OutputError::Io {
                path: target.clone(),
                action: "creating a partition folder",
                source,
            })?;
            let mut part = sorted.slice(start as i64, end - start);
            let rows = write_parquet(&mut part, &target.join("part-0.parquet"))?;
            Ok((format!("{folder}/part-0.parquet"), rows))
        })
        .collect()
}

/// A partition value safe in a path: letters, digits, `-` and `_` kept, the
/// rest percent-encoded (as Hive does); a null becomes `__HIVE_DEFAULT_PARTITION__`.
pub fn partition_value(value: Option<&str>) -> String {
    let Some(value) = value else {
        return "__HIVE_DEFAULT_PARTITION__".to_string();
    };
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_are_path_safe() {
        assert_eq!(partition_value(Some("A81001")), "A81001");
        assert_eq!(partition_value(Some("a/b c")), "a%2Fb%20c");
        assert_eq!(partition_value(None), "__HIVE_DEFAULT_PARTITION__");
    }

    #[test]
    fn each_key_gets_its_own_folder_with_only_its_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let frame = DataFrame::new(
            3,
            vec![
                Column::new("practice_code".into(), ["B", "A", "B"]),
                Column::new("x".into(), [1i32, 2, 3]),
            ],
        )
        .expect("frame");
        let written = write_partitioned(&frame, dir.path(), "practice_code").expect("write");
        assert_eq!(
            written,
            vec![
                ("practice_code=A/part-0.parquet".to_string(), 1),
                ("practice_code=B/part-0.parquet".to_string(), 2)
            ]
        );
    }
}
