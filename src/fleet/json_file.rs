//! The `--json` file: opened before the run, written after it.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::FleetError;
use super::summary::FleetSummary;

/// The `--json` file, created (or truncated) for writing before anything is spawned, so a path
/// that cannot be written (a directory, a missing folder, no permission) is a usage error at once
/// instead of a failure after the whole run. Folders are never created.
#[derive(Debug)]
pub struct JsonFile {
    path: PathBuf,
    file: File,
}

impl JsonFile {
    /// Creates or truncates `path` for writing.
    ///
    /// # Errors
    /// [`FleetError::WriteJson`] if it cannot be opened for writing.
    pub fn create(path: &Path) -> Result<Self, FleetError> {
        let file = File::create(path).map_err(|source| FleetError::WriteJson {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self {
            path: path.to_owned(),
            file,
        })
    }

    /// Writes `summary` as pretty JSON (with a final newline) and flushes it to the file.
    ///
    /// # Errors
    /// [`FleetError::WriteJson`] if the write fails.
    pub fn write(mut self, summary: &FleetSummary) -> Result<(), FleetError> {
        let io_error = |source| FleetError::WriteJson {
            path: self.path.clone(),
            source,
        };
        let mut text = serde_json::to_string_pretty(summary)
            .map_err(std::io::Error::from)
            .map_err(io_error)?;
        text.push('\n');
        self.file.write_all(text.as_bytes()).map_err(io_error)?;
        self.file.sync_all().map_err(io_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_or_a_missing_folder_is_refused_and_no_folder_is_created() {
        let dir = std::env::temp_dir();
        assert!(matches!(
            JsonFile::create(&dir),
            Err(FleetError::WriteJson { .. })
        ));
        let missing = dir.join(format!("lifecycle-ecs-missing-{}", std::process::id()));
        assert!(JsonFile::create(&missing.join("out.json")).is_err());
        assert!(!missing.exists(), "no folder was created");
    }
}
