//! Function logs: every line printed with the function's name in front, kept per function
//! in `<dir>/<function>.log` (tests read these files), and read for EMF metrics as CloudWatch
//! Logs reads them.

use crate::monitoring::Monitoring;

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

#[derive(Debug, Clone)]
pub struct LogSink {
    dir: Arc<PathBuf>,
    echo: bool,
    monitoring: Monitoring,
}

impl LogSink {
    /// Logs into `dir` (created, and emptied of old logs), echoing to stdout when `echo`.
    pub fn new(dir: &Path, echo: bool, monitoring: Monitoring) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "log") {
                std::fs::remove_file(path)?;
            }
        }
        Ok(Self {
            dir: Arc::new(dir.to_path_buf()),
            echo,
            monitoring,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn write(&self, function: &str, line: &str) {
        self.monitoring.observe_log_line(line);
        if self.echo {
            println!("{function:>24} | {line}");
        }
        let path = self.dir.join(format!("{function}.log"));
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(file, "{line}");
        }
    }
}
