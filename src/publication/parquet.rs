//! Parquet writing with settings dashboards read fast: zstd, full column
//! statistics (so readers skip row groups by practice or tier), and row
//! groups of a size that keeps one practice in few groups.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use polars::prelude::*;

use super::OutputError;

/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Writes `frame` to `path`, returning the number of rows written.
pub fn write_parquet(frame: &mut DataFrame, path: &Path) -> Result<u64, OutputError> {
    write_parquet_with_metadata(frame, path, &[])
}

/// [`write_parquet`] with key–value pairs in the file's footer, where any
/// Parquet reader shows them (e.g. what a file is and who may read it).
pub fn write_parquet_with_metadata(
    frame: &mut DataFrame,
    path: &Path,
    metadata: &[(&str, &str)],
) -> Result<u64, OutputError> {
    let file = File::create(path).map_err(|source| OutputError::Io {
        path: path.to_path_buf(),
        action: "creating the file",
        source,
    })?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::full())
        .with_row_group_size(Some(ROW_GROUP_ROWS))
        .with_key_value_metadata((!metadata.is_empty()).then(|| {
            KeyValueMetadata::from_static(
                metadata
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        }))
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
    let keys_of = |frame: &DataFrame| {
        frame
            .column(key)
            .and_then(|c| c.cast(&DataType::String))
            .map_err(parquet_error)
    };
    // Callers usually hand over frames already in key order (patient_risk is
    // sorted by practice, then risk): sorting again copied every column of
    // the whole population for nothing.
    let keys = keys_of(frame)?;
    let in_order = {
        let keys = keys.str().map_err(parquet_error)?;
        keys.iter().zip(keys.iter().skip(1)).all(|(a, b)| a <= b)
    };
    let (sorted, keys) = if in_order {
        (frame.clone(), keys)
    } else {
        let sorted = frame
            .sort(
                [key],
                SortMultipleOptions::default().with_maintain_order(true),
            )
            .map_err(parquet_error)?;
        let keys = keys_of(&sorted)?;
        (sorted, keys)
    };
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
    write_in_parallel(&parts, |(folder, start, end)| {
        let target = dir.join(folder);
        std::fs::create_dir_all(&target).map_err(|source| OutputError::Io {
            path: target.clone(),
            action: "creating a partition folder",
            source,
        })?;
        let mut part = sorted.slice(*start as i64, end - start);
        let rows = write_parquet(&mut part, &target.join("part-0.parquet"))?;
        Ok((format!("{folder}/part-0.parquet"), rows))
    })
}

/// `write` applied to every item on one plain thread per core, results in
/// item order. A practice's file is small, so writing one at a time kept one
/// core busy. Not on rayon's pool: Polars' writer blocks on its own pool, and
/// a blocked rayon worker steals the next item, nesting one write inside
/// another until the stack overflows (measured: 1,200 practices at 10M people).
fn write_in_parallel<T: Sync, R: Send>(
    items: &[T],
    write: impl Fn(&T) -> Result<R, OutputError> + Sync,
) -> Result<Vec<R>, OutputError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, items.len().max(1));
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, Result<R, OutputError>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            return mine;
                        };
                        let result = write(item);
                        let failed = result.is_err();
                        mine.push((i, result));
                        if failed {
                            return mine;
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
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

    /// Thousands of partitions (a national run has ~6,000 practices) must not
    /// nest: writing them from rayon workers while Polars' writer blocks on
    /// its own pool let each blocked worker steal the next partition, one
    /// stack frame chain per partition, and a 10M-person run (1,200
    /// practices) died of a stack overflow.
    #[test]
    fn thousands_of_partitions_are_written_without_nesting() {
        let dir = tempfile::tempdir().expect("tempdir");
        let parts = 3000;
        let keys: Vec<String> = (0..2 * parts).map(|i| format!("P{:05}", i / 2)).collect();
        let values: Vec<i32> = (0..2 * parts as i32).collect();
        let frame = DataFrame::new(
            2 * parts,
            vec![
                Column::new("practice_code".into(), keys),
                Column::new("x".into(), values),
            ],
        )
        .expect("frame");
        let written = write_partitioned(&frame, dir.path(), "practice_code").expect("write");
        assert_eq!(written.len(), parts);
        assert!(written.iter().all(|(_, rows)| *rows == 2));
        assert_eq!(written[1234].0, "practice_code=P01234/part-0.parquet");
        let back = ParquetReader::new(File::open(dir.path().join(&written[1234].0)).expect("open"))
            .finish()
            .expect("read");
        let x: Vec<i32> = back
            .column("x")
            .expect("x")
            .i32()
            .expect("i32")
            .into_no_null_iter()
            .collect();
        assert_eq!(x, [2468, 2469]);
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
