//! A function's code and configuration over time, as Lambda keeps them: `$LATEST`, which
//! `UpdateFunctionCode` and `UpdateFunctionConfiguration` change; numbered versions published
//! from it, frozen for good; and aliases, each pointing at one version. An invocation runs one
//! revision from its start to its end, so a deploy never changes a call in flight.

use std::{
    collections::BTreeMap,
    io::Read,
    path::PathBuf,
    sync::{Arc, OnceLock},
    time::Duration,
};

use base64::Engine;
use sha2::{Digest, Sha256};

pub const LATEST: &str = "$LATEST";

/// A refusal of the Lambda API, with the error type and status Lambda answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LambdaApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
}

impl LambdaApiError {
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "ResourceNotFoundException",
            Self::InvalidParameter(_) => "InvalidParameterValueException",
            Self::Conflict(_) => "ResourceConflictException",
            Self::TooLarge(_) => "RequestEntityTooLargeException",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            Self::InvalidParameter(_) => 400,
            Self::Conflict(_) => 409,
            Self::TooLarge(_) => 413,
        }
    }
}

/// A deployment package's executable and its digest.
#[derive(Debug)]
pub struct Code {
    pub binary: PathBuf,
    /// `CodeSha256` (base64) and `CodeSize`: of the zip for uploaded code; for the binary
    /// devstack built, of the binary itself, computed when first asked (hashing two dozen
    /// debug binaries would slow every start).
    digest: OnceLock<(String, u64)>,
    /// The folder an uploaded package was unpacked into, removed with the code.
    folder: Option<PathBuf>,
}

impl Drop for Code {
    fn drop(&mut self) {
        if let Some(folder) = &self.folder {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}

impl Code {
    /// The binary cargo built for the template's function.
    pub fn built(binary: PathBuf) -> Self {
        Self {
            binary,
            digest: OnceLock::new(),
            folder: None,
        }
    }

    /// Code from a deployment package whose digest is known.
    pub fn uploaded(binary: PathBuf, package: &[u8]) -> Self {
        let digest = OnceLock::new();
        let _ = digest.set((sha256(package), u64::try_from(package.len()).unwrap_or(0)));
        Self {
            binary,
            digest,
            folder: None,
        }
    }

    /// Removes `folder` when no revision uses this code any more.
    #[must_use]
    pub fn owning(mut self, folder: PathBuf) -> Self {
        self.folder = Some(folder);
        self
    }

    pub fn sha256(&self) -> &str {
        &self.digest().0
    }

    pub fn size(&self) -> u64 {
        self.digest().1
    }

    fn digest(&self) -> &(String, u64) {
        self.digest.get_or_init(|| {
            let mut hasher = Sha256::new();
            let mut size = 0_u64;
            if let Ok(mut file) = std::fs::File::open(&self.binary) {
                let mut buffer = vec![0; 1 << 20];
                while let Ok(read) = file.read(&mut buffer) {
                    if read == 0 {
                        break;
                    }
                    hasher.update(&buffer[..read]);
                    size += u64::try_from(read).unwrap_or(0);
                }
            }
            (
                base64::engine::general_purpose::STANDARD.encode(hasher.finalize()),
                size,
            )
        })
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// The code and configuration one version (or `$LATEST` at one moment) runs with.
#[derive(Debug)]
pub struct Revision {
    /// Unique within the function; each process runs one revision.
    pub id: u64,
    /// `$LATEST` or the version number.
    pub version: String,
    pub code: Arc<Code>,
    /// The function's own variables (Lambda adds its reserved ones at start).
    pub environment: BTreeMap<String, String>,
    pub timeout: Duration,
    pub memory_mb: u32,
    pub description: String,
    pub last_modified: String,
    /// Changes with every update, as Lambda's `RevisionId`.
    pub revision_id: String,
}

impl Revision {
    pub fn new(
        code: Arc<Code>,
        environment: BTreeMap<String, String>,
        timeout: Duration,
        memory_mb: u32,
    ) -> Self {
        Self {
            id: 0,
            version: LATEST.to_owned(),
            code,
            environment,
            timeout,
            memory_mb,
            description: String::new(),
            last_modified: now(),
            revision_id: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// The same revision changed, as `$LATEST` after an update.
    fn next(&self, id: u64) -> Self {
        Self {
            id,
            version: LATEST.to_owned(),
            code: self.code.clone(),
            environment: self.environment.clone(),
            timeout: self.timeout,
            memory_mb: self.memory_mb,
            description: self.description.clone(),
            last_modified: now(),
            revision_id: uuid::Uuid::new_v4().to_string(),
        }
    }

    fn same_deployment(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.code, &other.code)
            && self.environment == other.environment
            && self.timeout == other.timeout
            && self.memory_mb == other.memory_mb
    }
}

/// What `UpdateFunctionConfiguration` may change locally.
#[derive(Debug, Default)]
pub struct ConfigurationUpdate {
    pub environment: Option<BTreeMap<String, String>>,
    pub timeout: Option<Duration>,
    pub memory_mb: Option<u32>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub name: String,
    pub version: String,
    pub description: String,
    pub revision_id: String,
}

/// `$LATEST`, the published versions and the aliases of one function.
#[derive(Debug)]
pub struct Versions {
    latest: Arc<Revision>,
    /// Version `n` at index `n - 1`.
    published: Vec<Arc<Revision>>,
    aliases: BTreeMap<String, Alias>,
    tags: BTreeMap<String, String>,
    next_id: u64,
}

impl Versions {
    pub fn new(initial: Revision) -> Self {
        Self {
            latest: Arc::new(Revision { id: 1, ..initial }),
            published: Vec::new(),
            aliases: BTreeMap::new(),
            tags: BTreeMap::new(),
            next_id: 2,
        }
    }

    pub fn latest(&self) -> &Arc<Revision> {
        &self.latest
    }

    pub fn published(&self) -> &[Arc<Revision>] {
        &self.published
    }

    /// The revision a qualifier names: none or `$LATEST`, a version number, or an alias.
    pub fn resolve(&self, qualifier: Option<&str>) -> Result<Arc<Revision>, LambdaApiError> {
        match qualifier {
            None | Some(LATEST) => Ok(self.latest.clone()),
            Some(qualifier) => {
                let version = self
                    .aliases
                    .get(qualifier)
                    .map_or(qualifier, |alias| alias.version.as_str());
                self.version(version).ok_or_else(|| {
                    LambdaApiError::NotFound(format!(
                        "Function not found: qualifier {qualifier} does not exist"
                    ))
                })
            }
        }
    }

    fn version(&self, version: &str) -> Option<Arc<Revision>> {
        if version == LATEST {
            return Some(self.latest.clone());
        }
        let index = version.parse::<usize>().ok()?.checked_sub(1)?;
        self.published.get(index).cloned()
    }

    /// Whether a qualifier can still reach this revision: a replaced `$LATEST` that was never
    /// published cannot, and its idle processes can go.
    pub fn reachable(&self, id: u64) -> bool {
        self.latest.id == id || self.published.iter().any(|r| r.id == id)
    }

    pub fn update_code(&mut self, code: Arc<Code>) -> Arc<Revision> {
        let id = self.take_id();
        self.latest = Arc::new(Revision {
            code,
            ..self.latest.next(id)
        });
        self.latest.clone()
    }

    pub fn update_configuration(&mut self, update: ConfigurationUpdate) -> Arc<Revision> {
        let id = self.take_id();
        let current = self.latest.next(id);
        self.latest = Arc::new(Revision {
            environment: update.environment.unwrap_or(current.environment.clone()),
            timeout: update.timeout.unwrap_or(current.timeout),
            memory_mb: update.memory_mb.unwrap_or(current.memory_mb),
            description: update.description.unwrap_or(current.description.clone()),
            ..current
        });
        self.latest.clone()
    }

    /// Publishes `$LATEST` as the next version. As Lambda does, publishing an unchanged
    /// `$LATEST` again returns the version already published from it; `expected_sha256`
    /// (`CodeSha256`) refuses when `$LATEST` has other code than the caller thinks.
    pub fn publish(
        &mut self,
        description: Option<String>,
        expected_sha256: Option<&str>,
    ) -> Result<Arc<Revision>, LambdaApiError> {
        if let Some(expected) = expected_sha256
            && expected != self.latest.code.sha256()
        {
            return Err(LambdaApiError::InvalidParameter(format!(
                "CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST ({}). Please try again with the CodeSHA256 in $LATEST.",
                self.latest.code.sha256()
            )));
        }
        if let Some(last) = self.published.last()
            && last.same_deployment(&self.latest)
        {
            return Ok(last.clone());
        }
        let id = self.take_id();
        let version = Arc::new(Revision {
            id,
            version: (self.published.len() + 1).to_string(),
            code: self.latest.code.clone(),
            environment: self.latest.environment.clone(),
            timeout: self.latest.timeout,
            memory_mb: self.latest.memory_mb,
            description: description.unwrap_or_default(),
            last_modified: now(),
            revision_id: uuid::Uuid::new_v4().to_string(),
        });
        self.published.push(version.clone());
        Ok(version)
    }

    pub fn alias(&self, name: &str) -> Result<&Alias, LambdaApiError> {
        self.aliases
            .get(name)
            .ok_or_else(|| LambdaApiError::NotFound(format!("Alias not found: {name}")))
    }

    pub fn aliases(&self) -> impl Iterator<Item = &Alias> {
        self.aliases.values()
    }

    pub fn create_alias(
        &mut self,
        name: &str,
        version: &str,
        description: Option<String>,
    ) -> Result<Alias, LambdaApiError> {
        if self.aliases.contains_key(name) {
            return Err(LambdaApiError::Conflict(format!(
                "Alias already exists: {name}"
            )));
        }
        self.point(name, version, description.unwrap_or_default())
    }

    /// Moves an alias. Without CodeDeploy the new version takes all its traffic at once.
    pub fn update_alias(
        &mut self,
        name: &str,
        version: Option<&str>,
        description: Option<String>,
    ) -> Result<Alias, LambdaApiError> {
        let current = self.alias(name)?.clone();
        self.point(
            name,
            version.unwrap_or(&current.version),
            description.unwrap_or(current.description),
        )
    }

    fn point(
        &mut self,
        name: &str,
        version: &str,
        description: String,
    ) -> Result<Alias, LambdaApiError> {
        if name == LATEST || name.parse::<u64>().is_ok() {
            return Err(LambdaApiError::InvalidParameter(format!(
                "An alias name cannot be a version: {name}"
            )));
        }
        if self.version(version).is_none() {
            return Err(LambdaApiError::NotFound(format!(
                "Function not found: version {version} does not exist"
            )));
        }
        let alias = Alias {
            name: name.to_owned(),
            version: version.to_owned(),
            description,
            revision_id: uuid::Uuid::new_v4().to_string(),
        };
        self.aliases.insert(name.to_owned(), alias.clone());
        Ok(alias)
    }

    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }

    pub fn tag(&mut self, tags: BTreeMap<String, String>) {
        self.tags.extend(tags);
    }

    pub fn untag(&mut self, keys: &[String]) {
        for key in keys {
            self.tags.remove(key);
        }
    }

    fn take_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id - 1
    }
}

/// Lambda's `LastModified` format: `2024-05-01T12:00:00.000+0000`.
fn now() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions() -> Versions {
        Versions::new(Revision::new(
            Arc::new(Code::uploaded("/old".into(), b"old")),
            BTreeMap::new(),
            Duration::from_secs(3),
            128,
        ))
    }

    #[test]
    fn an_alias_keeps_its_version_while_latest_changes() {
        let mut versions = versions();
        let one = versions.publish(None, None).unwrap();
        versions.create_alias("live", "1", None).unwrap();
        versions.update_code(Arc::new(Code::uploaded("/new".into(), b"new")));

        assert_eq!(versions.resolve(Some("live")).unwrap().id, one.id);
        assert_eq!(
            versions.resolve(None).unwrap().code.sha256(),
            sha256(b"new")
        );
    }

    #[test]
    fn moving_the_alias_to_a_new_version_routes_it_to_the_new_code() {
        let mut versions = versions();
        versions.publish(None, None).unwrap();
        versions.create_alias("live", "1", None).unwrap();
        versions.update_code(Arc::new(Code::uploaded("/new".into(), b"new")));
        let two = versions.publish(None, None).unwrap();
        versions.update_alias("live", Some("2"), None).unwrap();

        assert_eq!(two.version, "2");
        assert_eq!(
            versions.resolve(Some("live")).unwrap().code.sha256(),
            sha256(b"new")
        );
    }

    #[test]
    fn publishing_an_unchanged_latest_returns_the_version_already_published() {
        let mut versions = versions();
        let first = versions.publish(None, None).unwrap();
        let again = versions.publish(Some("again".into()), None).unwrap();

        assert_eq!(again.version, first.version);
        assert_eq!(versions.published().len(), 1);
    }

    #[test]
    fn publishing_with_a_stale_code_sha256_is_refused() {
        let mut versions = versions();
        let refused = versions.publish(None, Some("not-the-sha")).unwrap_err();

        assert_eq!(refused.error_type(), "InvalidParameterValueException");
    }

    #[test]
    fn a_replaced_unpublished_latest_is_unreachable_but_published_versions_stay() {
        let mut versions = versions();
        let first_latest = versions.latest().id;
        let one = versions.publish(None, None).unwrap();
        versions.update_code(Arc::new(Code::uploaded("/new".into(), b"new")));
        let second_latest = versions.latest().id;
        versions.update_code(Arc::new(Code::uploaded("/newer".into(), b"newer")));

        assert!(!versions.reachable(first_latest));
        assert!(!versions.reachable(second_latest));
        assert!(versions.reachable(one.id));
    }

    #[test]
    fn unknown_qualifiers_and_aliases_of_missing_versions_are_not_found() {
        let mut versions = versions();

        assert_eq!(
            versions.resolve(Some("7")).unwrap_err().error_type(),
            "ResourceNotFoundException"
        );
        assert_eq!(
            versions
                .create_alias("live", "3", None)
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(
            versions
                .create_alias("2", "$LATEST", None)
                .unwrap_err()
                .status(),
            400
        );
    }
}
