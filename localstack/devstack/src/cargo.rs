//! Building the functions' binaries and finding them: cargo is how devstack gets the code the
//! template's `Metadata.BuildProperties.Binary` names.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot run cargo")]
    Spawn(#[source] std::io::Error),
    #[error("cargo build exited with {0}")]
    Failed(std::process::ExitStatus),
    #[error("cargo metadata names no target directory")]
    NoTargetDir,
}

/// The folder the binaries of a build profile are in.
pub fn binaries_dir(workspace: &Path, release: bool) -> Result<PathBuf, BuildError> {
    Ok(target_dir(workspace)?.join(if release { "release" } else { "debug" }))
}

/// Builds every binary of the workspace; returns the folder they are in.
///
/// A debug build selects what `cargo test --workspace` (`make test`) builds, tests included:
/// cargo resolves features per selection, and any other selection (`--bin X`, `-p devstack`)
/// would rebuild shared dependencies with other features each time one follows the other.
/// `make build` runs the same command.
pub fn build(workspace: &Path, release: bool) -> Result<PathBuf, BuildError> {
    let mut command = Command::new(cargo());
    command
        .args(["build", "--workspace", "--bins"])
        .current_dir(workspace);
    if release {
        command.arg("--release");
    } else {
        command.arg("--tests");
    }
    let status = command.status().map_err(BuildError::Spawn)?;
    if !status.success() {
        return Err(BuildError::Failed(status));
    }
    binaries_dir(workspace, release)
}

fn target_dir(workspace: &Path) -> Result<PathBuf, BuildError> {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return Ok(if dir.is_absolute() {
            dir
        } else {
            workspace.join(dir)
        });
    }
    let output = Command::new(cargo())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(workspace)
        .stderr(Stdio::inherit())
        .output()
        .map_err(BuildError::Spawn)?;
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|_| BuildError::NoTargetDir)?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or(BuildError::NoTargetDir)
}

/// The cargo that runs us, when it does (so `cargo run` and `cargo test` use themselves).
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}
