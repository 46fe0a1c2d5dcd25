//! Function logs: every line printed with the function's name in front, and kept per function
//! in `<dir>/<function>.log` (tests read these files).

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

#[derive(Debug, Clone)]
pub struct LogSink {
    dir: Arc<PathBuf>,
    echo: bool,
}

impl LogSink {
    /// Logs into `dir` (created, and emptied of old logs), echoing to stdout when `echo`.
    pub fn new(dir: &Path, echo: bool) -> std::io::Result<Self> {
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
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn write(&self, function: &str, line: &str) {
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
