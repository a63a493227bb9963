//! Finding an export's NDJSON files and the resource type each holds: the
//! `$export` manifest's `output` list when the folder has one, else every
//! `*.ndjson` / `*.ndjson.gz` file by name.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::FhirError;

/// One NDJSON file of an export (Bulk Data: one resource type per file).
#[derive(Debug, Clone)]
pub struct ExportFile {
    pub path: PathBuf,
    /// From the manifest or the file name (`Patient.ndjson`,
    /// `Patient.001.ndjson.gz`, `Patient-2.ndjson`); else from the first line.
    pub resource_type: Option<String>,
}

#[derive(serde::Deserialize)]
struct Manifest {
    output: Vec<ManifestEntry>,
}

#[derive(serde::Deserialize)]
struct ManifestEntry {
    #[serde(rename = "type")]
    resource_type: String,
    url: String,
}

fn is_ndjson(name: &str) -> bool {
    name.ends_with(".ndjson") || name.ends_with(".ndjson.gz")
}

/// A manifest is a `*.json` file (under 16 MB) that parses as an object
/// with an `output` array of `{type, url}`.
fn read_manifest(path: &Path) -> Option<Manifest> {
    let small = std::fs::metadata(path).ok()?.len() < 16 << 20;
    let is_json = path.extension().is_some_and(|e| e == "json");
    if !small || !is_json {
        return None;
    }
    serde_json::from_reader(BufReader::new(File::open(path).ok()?)).ok()
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>, FhirError> {
    let unreadable = |e: std::io::Error| FhirError::Unreadable {
        path: dir.to_path_buf(),
        reason: e.kind().to_string(),
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        if entry.file_type().map_err(unreadable)?.is_file() {
            paths.push(entry.path());
        }
    }
    paths.sort();
    Ok(paths)
}

/// True when `dir` is a folder holding NDJSON files or an `$export` manifest.
pub fn is_export(dir: &Path) -> bool {
    dir.is_dir()
        && entries(dir).is_ok_and(|paths| {
            paths.iter().any(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(is_ndjson)
                    || read_manifest(p).is_some()
            })
        })
}

/// The resource type a file name starts with, if it looks like one.
fn type_from_name(name: &str) -> Option<String> {
    let stem = name.split(['.', '-', '_']).next()?;
    let looks_like_type = stem.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && stem.chars().all(|c| c.is_ascii_alphabetic());
    looks_like_type.then(|| stem.to_string())
}

/// The export's files, in manifest order or by name.
pub fn locate(dir: &Path) -> Result<Vec<ExportFile>, FhirError> {
    if !dir.is_dir() {
        return Err(FhirError::NoExport {
            dir: dir.to_path_buf(),
        });
    }
    let paths = entries(dir)?;
    if let Some((manifest_path, manifest)) = paths
        .iter()
        .find_map(|p| read_manifest(p).map(|m| (p.clone(), m)))
    {
        let mut files = Vec::new();
        for e in manifest.output {
            // The file is the last path segment of the URL, without a query.
            let name = e.url.split(['?', '#']).next().unwrap_or("");
            let name = name.rsplit('/').next().unwrap_or("");
            let path = dir.join(name);
            if name.is_empty() || !path.is_file() {
                return Err(FhirError::ManifestFileMissing {
                    manifest: manifest_path,
                    file: name.to_string(),
                    resource_type: e.resource_type,
                });
            }
            files.push(ExportFile {
                path,
                resource_type: Some(e.resource_type),
            });
        }
        return Ok(files);
    }
    let files: Vec<ExportFile> = paths
        .into_iter()
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_string();
            is_ndjson(&name).then(|| ExportFile {
                resource_type: type_from_name(&name),
                path,
            })
        })
        .collect();
    if files.is_empty() {
        return Err(FhirError::NoExport {
            dir: dir.to_path_buf(),
        });
    }
    Ok(files)
}

/// Opens an NDJSON file, gunzipping `*.gz` on the fly (multi-member gzip).
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>, FhirError> {
    let file = File::open(path).map_err(|e| FhirError::Unreadable {
        path: path.to_path_buf(),
        reason: e.kind().to_string(),
    })?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    let inner: Box<dyn Read + Send> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            1 << 16,
            file,
        )))
    } else {
        Box::new(file)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, inner)))
}

/// The `resourceType` of a file's first non-empty line (for files whose name
/// does not say).
pub fn first_resource_type(path: &Path) -> Result<Option<String>, FhirError> {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "resourceType")]
        resource_type: Option<String>,
    }
    let mut reader = open(path)?;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| FhirError::Unreadable {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        if n == 0 {
            return Ok(None);
        }
        if !line.trim_ascii().is_empty() {
            return Ok(serde_json::from_slice::<Head>(&line)
                .ok()
                .and_then(|h| h.resource_type));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_type_is_read_from_common_bulk_file_names() {
        assert_eq!(type_from_name("Patient.ndjson").as_deref(), Some("Patient"));
        assert_eq!(
            type_from_name("Observation.002.ndjson.gz").as_deref(),
            Some("Observation")
        );
        assert_eq!(
            type_from_name("Encounter-1.ndjson").as_deref(),
            Some("Encounter")
        );
        assert_eq!(type_from_name("export1.ndjson"), None);
        assert_eq!(type_from_name("1_Patient.ndjson"), None);
    }
}
