//! Parquet writing with settings dashboards read fast: zstd, full column
//! statistics (so readers skip row groups by practice or tier), and row
//! groups of a size that keeps one practice in few groups.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

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
