//! Writers: one background thread per table, fed chunk data frames in
//! chunk order, so files are byte-identical whatever the thread count and
//! writing overlaps with generation.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use polars::prelude::*;

use super::{Format, SynthError};

/// Rows per Parquet row group (chunks are written as one or more groups).
const ROW_GROUP: usize = 256 * 1024;

/// A file being written by a background thread.
struct TableWriter {
    tx: Option<SyncSender<DataFrame>>,
    handle: Option<JoinHandle<Result<u64, SynthError>>>,
    path: PathBuf,
}

/// All table writers of a run.
pub struct Writers {
    tables: Vec<TableWriter>,
}

impl Writers {
    /// Opens one writer per name; `parquet_only` names are always Parquet
    /// (the truth table).
    pub fn create(
        dir: &Path,
        names: &[&str],
        format: Format,
        parquet_only: &[&str],
    ) -> Result<Writers, SynthError> {
        let mut tables = Vec::with_capacity(names.len());
        for name in names {
            let fmt = if parquet_only.contains(name) {
                Format::Parquet
            } else {
                format
            };
            let path = dir.join(format!("{name}.{}", extension(fmt)));
            let file = File::create(&path).map_err(|source| SynthError::Io {
                path: path.clone(),
                source,
            })?;
            let (tx, rx) = sync_channel::<DataFrame>(2);
            let thread_path = path.clone();
            let handle = std::thread::Builder::new()
                .name(format!("synth-write-{name}"))
                .spawn(move || write_loop(rx, file, fmt, &thread_path))
                .map_err(|source| SynthError::Io {
                    path: path.clone(),
                    source,
                })?;
            tables.push(TableWriter {
                tx: Some(tx),
                handle: Some(handle),
                path,
            });
        }
        Ok(Writers { tables })
    }

    /// Queues one data frame per table (same order as `create`'s names).
    pub fn send(&mut self, frames: Vec<DataFrame>) -> Result<(), SynthError> {
        let mut stopped = None;
        for (t, df) in self.tables.iter_mut().zip(frames) {
            if t.tx.as_ref().is_none_or(|tx| tx.send(df).is_err()) {
                stopped = Some(t.path.clone());
                break;
            }
        }
        match stopped {
            // The writer's own error, if it has one, is the better message.
            Some(path) => self.finish().and(Err(SynthError::WriterStopped { path })),
            None => Ok(()),
        }
    }

    /// Closes every file and returns the bytes written per table.
    pub fn finish(&mut self) -> Result<Vec<u64>, SynthError> {
        for t in &mut self.tables {
            t.tx.take();
        }
        let mut sizes = Vec::with_capacity(self.tables.len());
        let mut first_err = None;
        for t in &mut self.tables {
            if let Some(h) = t.handle.take() {
                match h.join() {
                    Ok(Ok(n)) => sizes.push(n),
                    Ok(Err(e)) => {
                        first_err.get_or_insert(e);
                    }
                    Err(_) => {
                        first_err.get_or_insert(SynthError::WriterStopped {
                            path: t.path.clone(),
                        });
                    }
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(sizes),
        }
    }
}

pub fn extension(f: Format) -> &'static str {
    match f {
        Format::Parquet => "parquet",
        Format::Csv => "csv",
    }
}

enum Batched {
    Parquet(Box<polars::io::parquet::write::BatchedWriter<BufWriter<File>>>),
    Csv(polars::io::csv::write::BatchedWriter<BufWriter<File>>),
}

fn write_loop(
    rx: Receiver<DataFrame>,
    file: File,
    fmt: Format,
    path: &Path,
) -> Result<u64, SynthError> {
    let polars_err = |source: PolarsError| SynthError::Polars {
        path: path.to_path_buf(),
        source,
    };
    let mut file = Some(file);
    let mut writer: Option<Batched> = None;
    let mut rows = 0u64;
    for df in rx {
        if writer.is_none() {
            let f = BufWriter::with_capacity(
                1 << 20,
                file.take().ok_or_else(|| SynthError::WriterStopped {
                    path: path.to_path_buf(),
                })?,
            );
            writer = Some(open(f, fmt, df.schema()).map_err(polars_err)?);
        }
        rows += df.height() as u64;
        match writer.as_mut() {
            Some(Batched::Parquet(w)) => w.write_batch(&df).map_err(polars_err)?,
            Some(Batched::Csv(w)) => w.write_batch(&df).map_err(polars_err)?,
            None => {}
        }
    }
    match writer {
        Some(Batched::Parquet(w)) => {
            w.finish().map_err(polars_err)?;
        }
        Some(Batched::Csv(mut w)) => w.finish().map_err(polars_err)?,
        None => {}
    }
    Ok(rows)
}

fn open(f: BufWriter<File>, fmt: Format, schema: &Schema) -> PolarsResult<Batched> {
    Ok(match fmt {
        Format::Parquet => Batched::Parquet(Box::new(
            ParquetWriter::new(f)
                .with_compression(ParquetCompression::Zstd(None))
                .with_row_group_size(Some(ROW_GROUP))
                .batched(schema)?,
        )),
        Format::Csv => Batched::Csv(CsvWriter::new(f).include_header(true).batched(schema)?),
    })
}

/// Writes one small data frame to `path` in `fmt`.
pub fn write_small(df: &mut DataFrame, path: &Path, fmt: Format) -> Result<(), SynthError> {
    let file = File::create(path).map_err(|source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let w = BufWriter::new(file);
    let res = match fmt {
        Format::Parquet => ParquetWriter::new(w)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map(|_| ()),
        Format::Csv => CsvWriter::new(w).include_header(true).finish(df),
    };
    res.map_err(|source| SynthError::Polars {
        path: path.to_path_buf(),
        source,
    })
}
