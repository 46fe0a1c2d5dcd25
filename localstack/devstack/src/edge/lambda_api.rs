//! The Lambda API's control plane for the stack's functions: what `aws lambda ...` and
//! `cargo lambda deploy --endpoint-url <edge>` call. Listing and describing functions,
//! creating one, updating its code and configuration, publishing versions, aliases and tags.
//! New code is live for the next invocation of its version or alias, while calls in flight
//! finish on the code they started with ([`crate::lambda::versions`]).
//!
//! Lambda answers a code or configuration update with `LastUpdateStatus: InProgress` and
//! finishes it within seconds; devstack finishes it before it answers, so it says
//! `Successful` at once.

// Handlers answer `Result<Response, Response>`, axum's idiom for early refusals; boxing the
// error side would only add an allocation to every refusal.
#![allow(clippy::result_large_err)]

use std::{collections::BTreeMap, io::Read, path::Path as FilePath, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, put},
};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Edge, access_denied, authorization};
use crate::lambda::{
    FunctionPool, FunctionSpec, split_reference,
    versions::{Alias, Code, ConfigurationUpdate, LambdaApiError, Revision, Versions},
};

/// Lambda's quota for a deployment package uploaded in the request: 50 MB zipped (the
/// request carries it base64-encoded, a third larger).
const MAX_ZIPPED: usize = 50 * 1024 * 1024;
/// Lambda's quota for a package unzipped: 250 MB.
const MAX_UNZIPPED: u64 = 250 * 1024 * 1024;

pub fn routes() -> Router<Edge> {
    Router::new()
        .route(
            "/2015-03-31/functions",
            get(list_functions).post(create_function),
        )
        .route("/2015-03-31/functions/", get(list_functions))
        .route("/2015-03-31/functions/{name}", get(get_function))
        .route(
            "/2015-03-31/functions/{name}/configuration",
            get(get_configuration).put(update_configuration),
        )
        .route("/2015-03-31/functions/{name}/code", put(update_code))
        .route(
            "/2015-03-31/functions/{name}/versions",
            get(list_versions).post(publish_version),
        )
        .route(
            "/2015-03-31/functions/{name}/aliases",
            get(list_aliases).post(create_alias),
        )
        .route(
            "/2015-03-31/functions/{name}/aliases/{alias}",
            get(get_alias).put(update_alias),
        )
        .route(
            "/2017-03-31/tags/{arn}",
            get(list_tags).post(tag_resource).delete(untag_resource),
        )
        .layer(DefaultBodyLimit::max(MAX_ZIPPED * 4 / 3 + 64 * 1024))
}

type Answer = Result<Response, Response>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QualifierQuery {
    qualifier: Option<String>,
}

/// The function a path names, after the caller's role may make `action` on it.
fn function(
    edge: &Edge,
    headers: &HeaderMap,
    name: &str,
    action: &str,
) -> Result<Arc<FunctionPool>, Response> {
    let pool = edge.lambda.function(name).ok_or_else(|| {
        refusal(&LambdaApiError::NotFound(format!(
            "Function not found: {}",
            function_arn(split_reference(name).0)
        )))
    })?;
    authorize(edge, headers, action, &pool.spec().arn)?;
    Ok(pool)
}

fn authorize(
    edge: &Edge,
    headers: &HeaderMap,
    action: &str,
    resource: &str,
) -> Result<(), Response> {
    match edge.roles.signer(authorization(headers)) {
        Some(role) => edge
            .roles
            .check_lambda(role, &format!("lambda:{action}"), resource)
            .map_err(|denied| access_denied(edge, &denied)),
        None => Ok(()),
    }
}

/// The qualifier in the name (`name:3`) or in `?Qualifier=`.
fn qualifier<'a>(name: &'a str, query: &'a QualifierQuery) -> Option<&'a str> {
    split_reference(name).1.or(query.qualifier.as_deref())
}

pub(super) fn refusal(error: &LambdaApiError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (
        status,
        Json(json!({ "Type": "User", "message": error.to_string() })),
    )
        .into_response();
    response.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_static(error.error_type()),
    );
    response
}

fn function_arn(name: &str) -> String {
    format!(
        "arn:aws:lambda:{}:{}:function:{name}",
        crate::REGION,
        crate::ACCOUNT
    )
}

/// `FunctionConfiguration`, as Lambda describes one version.
fn configuration(pool: &FunctionPool, revision: &Revision) -> Value {
    let spec = pool.spec();
    let arn = if revision.version == crate::lambda::versions::LATEST {
        spec.arn.clone()
    } else {
        format!("{}:{}", spec.arn, revision.version)
    };
    json!({
        "FunctionName": spec.name,
        "FunctionArn": arn,
        "Runtime": "provided.al2023",
        "Role": spec.role,
        "Handler": "bootstrap",
        "CodeSize": revision.code.size(),
        "CodeSha256": revision.code.sha256(),
        "Description": revision.description,
        "Timeout": revision.timeout.as_secs(),
        "MemorySize": revision.memory_mb,
        "LastModified": revision.last_modified,
        "Version": revision.version,
        "Environment": { "Variables": revision.environment },
        "TracingConfig": { "Mode": if spec.traced { "Active" } else { "PassThrough" } },
        "RevisionId": revision.revision_id,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        // What runs here: the host's architecture, whatever the template deploys to AWS.
        "Architectures": [local_architecture()],
    })
}

fn local_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    }
}

fn alias_configuration(pool: &FunctionPool, alias: &Alias) -> Value {
    json!({
        "AliasArn": format!("{}:{}", pool.spec().arn, alias.name),
        "Name": alias.name,
        "FunctionVersion": alias.version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    })
}

fn ok(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

async fn list_functions(State(edge): State<Edge>, headers: HeaderMap) -> Answer {
    authorize(&edge, &headers, "ListFunctions", "*")?;
    let functions: Vec<Value> = edge
        .lambda
        .functions()
        .iter()
        .map(|pool| {
            let latest = pool.versions(|v| v.latest().clone());
            configuration(pool, &latest)
        })
        .collect();
    Ok(ok(StatusCode::OK, json!({ "Functions": functions })))
}

async fn get_function(
    State(edge): State<Edge>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
    headers: HeaderMap,
) -> Answer {
    let pool = function(&edge, &headers, &name, "GetFunction")?;
    let (revision, tags) = pool
        .versions(|v| Ok((v.resolve(qualifier(&name, &query))?, v.tags().clone())))
        .map_err(|e| refusal(&e))?;
    Ok(ok(
        StatusCode::OK,
        json!({
            "Configuration": configuration(&pool, &revision),
            // There is no package to download locally; the binary runs from this path.
            "Code": { "RepositoryType": "Local", "Location": revision.code.binary.display().to_string() },
            "Tags": tags,
        }),
    ))
}

async fn get_configuration(
    State(edge): State<Edge>,
    Path(name): Path<String>,
    Query(query): Query<QualifierQuery>,
    headers: HeaderMap,
) -> Answer {
    let pool = function(&edge, &headers, &name, "GetFunctionConfiguration")?;
    let revision = pool
        .versions(|v| v.resolve(qualifier(&name, &query)))
        .map_err(|e| refusal(&e))?;
    Ok(ok(StatusCode::OK, configuration(&pool, &revision)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EnvironmentBody {
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

/// The settings of `UpdateFunctionConfiguration` devstack applies. Anything else (layers,
/// VPC, a new role or runtime, ...) is refused by name rather than ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigurationBody {
    environment: Option<EnvironmentBody>,
    timeout: Option<u64>,
    memory_size: Option<u32>,
    description: Option<String>,
    revision_id: Option<String>,
    #[serde(flatten)]
    other: BTreeMap<String, Value>,
}

/// Settings that, left as they are, change nothing here: the same runtime and handler, or
/// tracing (devstack passes trace headers whatever the mode).
const HARMLESS_SETTINGS: [&str; 3] = ["Runtime", "Handler", "TracingConfig"];

async fn update_configuration(
    State(edge): State<Edge>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Json(body): Json<ConfigurationBody>,
) -> Answer {
    let pool = function(&edge, &headers, &name, "UpdateFunctionConfiguration")?;
    if let Some(setting) = body
        .other
        .keys()
        .find(|k| !HARMLESS_SETTINGS.contains(&k.as_str()))
    {
        return Err(refusal(&LambdaApiError::InvalidParameter(format!(
            "devstack does not emulate changing {setting} of a function; redeploy the template to change it"
        ))));
    }
    if let Some(timeout) = body.timeout
        && !(1..=900).contains(&timeout)
    {
        return Err(refusal(&LambdaApiError::InvalidParameter(format!(
            "1 validation error detected: Value '{timeout}' at 'timeout' failed to satisfy constraint: Member must have value between 1 and 900"
        ))));
    }
    if let Some(memory) = body.memory_size
        && !(128..=10_240).contains(&memory)
    {
        return Err(refusal(&LambdaApiError::InvalidParameter(format!(
            "1 validation error detected: Value '{memory}' at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 10240"
        ))));
    }
    let revision = pool
        .versions(|versions| {
            check_revision(versions, body.revision_id.as_deref())?;
            Ok(versions.update_configuration(ConfigurationUpdate {
                environment: body.environment.map(|e| e.variables),
                timeout: body.timeout.map(Duration::from_secs),
                memory_mb: body.memory_size,
                description: body.description,
            }))
        })
        .map_err(|e| refusal(&e))?;
    pool.log(&format!(
        "configuration updated (RevisionId {}); new instances use it",
        revision.revision_id
    ));
    Ok(ok(StatusCode::OK, configuration(&pool, &revision)))
}

/// Lambda's optimistic lock: a `RevisionId` that is not the current one is a conflict.
fn check_revision(versions: &Versions, expected: Option<&str>) -> Result<(), LambdaApiError> {
    match expected {
        Some(expected) if expected != versions.latest().revision_id => {
            Err(LambdaApiError::InvalidParameter(
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".to_owned(),
            ))
        }
        _ => Ok(()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CodeBody {
    zip_file: Option<String>,
    s3_bucket: Option<String>,
    image_uri: Option<String>,
    #[serde(default)]
    publish: bool,
    #[serde(default)]
    dry_run: bool,
    revision_id: Option<String>,
}

async fn update_code(
    State(edge): State<Edge>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Json(body): Json<CodeBody>,
) -> Answer {
    let pool = function(&edge, &headers, &name, "UpdateFunctionCode")?;
    if body.s3_bucket.is_some() || body.image_uri.is_some() {
        return Err(refusal(&LambdaApiError::InvalidParameter(
            "devstack takes code only as ZipFile in the request (cargo lambda deploy without --s3-bucket)".to_owned(),
        )));
    }
    let Some(zip_file) = body.zip_file else {
        return Err(refusal(&LambdaApiError::InvalidParameter(
            "Please provide a source for function code.".to_owned(),
        )));
    };
    let code = unpack(&edge.code_dir, &pool.spec().name, &zip_file).map_err(|e| refusal(&e))?;
    if body.dry_run {
        return Ok(ok(
            StatusCode::OK,
            configuration(&pool, &pool.versions(|v| v.latest().clone())),
        ));
    }
    let revision = pool
        .versions(|versions| {
            check_revision(versions, body.revision_id.as_deref())?;
            let latest = versions.update_code(Arc::new(code));
            if body.publish {
                versions.publish(None, None)
            } else {
                Ok(latest)
            }
        })
        .map_err(|e| refusal(&e))?;
    pool.log(&format!(
        "code updated (CodeSha256 {}, version {}): new instances run it; calls in flight finish on the code they started with",
        revision.code.sha256(),
        revision.version
    ));
    Ok(ok(StatusCode::OK, configuration(&pool, &revision)))
}

/// Unzips a deployment package into a folder of its own and finds its `bootstrap`.
fn unpack(code_dir: &FilePath, function: &str, zip_base64: &str) -> Result<Code, LambdaApiError> {
    let package = base64::engine::general_purpose::STANDARD
        .decode(zip_base64)
        .map_err(|e| LambdaApiError::InvalidParameter(format!("ZipFile is not base64: {e}")))?;
    if package.len() > MAX_ZIPPED {
        return Err(LambdaApiError::TooLarge(format!(
            "Request must be smaller than {MAX_ZIPPED} bytes for the UpdateFunctionCode operation"
        )));
    }
    let invalid = |e: &dyn std::fmt::Display| {
        LambdaApiError::InvalidParameter(format!(
            "Could not unzip uploaded file. Please check your file, then try to upload again. ({e})"
        ))
    };
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(&package)).map_err(|e| invalid(&e))?;
    let unzipped: u64 = (0..archive.len())
        .filter_map(|i| archive.by_index(i).ok().map(|f| f.size()))
        .sum();
    if unzipped > MAX_UNZIPPED {
        return Err(LambdaApiError::InvalidParameter(format!(
            "Unzipped size must be smaller than {MAX_UNZIPPED} bytes"
        )));
    }
    let folder = code_dir.join(format!("{function}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&folder).map_err(|e| invalid(&e))?;
    let binary = folder.join("bootstrap");
    let mut entry = archive.by_name("bootstrap").map_err(|_| {
        LambdaApiError::InvalidParameter(
            "the package has no `bootstrap` at its root, which provided.al2023 runs".to_owned(),
        )
    })?;
    let mut contents = Vec::new();
    entry.read_to_end(&mut contents).map_err(|e| invalid(&e))?;
    write_executable(&binary, &contents).map_err(|e| invalid(&e))?;
    Ok(Code::uploaded(binary, &package).owning(folder))
}

fn write_executable(path: &FilePath, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, contents)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishBody {
    description: Option<String>,
    code_sha256: Option<String>,
    revision_id: Option<String>,
}

async fn publish_version(
    State(edge): State<Edge>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let pool = function(&edge, &headers, &name, "PublishVersion")?;
    let body: PublishBody = parse(&body)?;
    let revision = pool
        .versions(|versions| {
            check_revision(versions, body.revision_id.as_deref())?;
            versions.publish(body.description, body.code_sha256.as_deref())
        })
        .map_err(|e| refusal(&e))?;
    Ok(ok(StatusCode::CREATED, configuration(&pool, &revision)))
}

/// A JSON body that may be empty (the SDK sends none when no member is set).
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    let body = if body.is_empty() {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        refusal(&LambdaApiError::InvalidParameter(format!(
            "the request body is not what the operation takes: {e}"
        )))
    })
}

async fn list_versions(
    State(edge): State<Edge>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let pool = function(&edge, &headers, &name, "ListVersionsByFunction")?;
    let revisions: Vec<Arc<Revision>> = pool.versions(|v| {
        std::iter::once(v.latest().clone())
            .chain(v.published().iter().cloned())
            .collect()
    });
    let versions: Vec<Value> = revisions
        .iter()
        .map(|revision| configuration(&pool, revision))
        .collect();
    Ok(ok(StatusCode::OK, json!({ "Versions": versions })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasBody {
    name: Option<String>,
    function_version: Option<String>,
    description: Option<String>,
    /// Weighted routing between two versions: not emulated, so refused.
    routing_config: Option<Value>,
}

fn no_weighted_routing(body: &AliasBody) -> Result<(), Response> {
    match &body.routing_config {
        Some(routing) if routing["AdditionalVersionWeights"].as_object().is_some_and(|w| !w.is_empty()) => {
            Err(refusal(&LambdaApiError::InvalidParameter(
                "devstack does not emulate weighted aliases (RoutingConfig); an alias points at one version".to_owned(),
            )))
        }
        _ => Ok(()),
    }
}

async fn create_alias(
    State(edge): State<Edge>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Json(body): Json<AliasBody>,
) -> Answer {
    let pool = function(&edge, &headers, &name, "CreateAlias")?;
    no_weighted_routing(&body)?;
    let (Some(alias), Some(version)) = (&body.name, &body.function_version) else {
        return Err(refusal(&LambdaApiError::InvalidParameter(
            "Name and FunctionVersion are required".to_owned(),
        )));
    };
    let created = pool
        .versions(|v| v.create_alias(alias, version, body.description.clone()))
        .map_err(|e| refusal(&e))?;
    pool.log(&format!("alias {alias} created at version {version}"));
    Ok(ok(
        StatusCode::CREATED,
        alias_configuration(&pool, &created),
    ))
}

async fn get_alias(
    State(edge): State<Edge>,
    Path((name, alias)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let pool = function(&edge, &headers, &name, "GetAlias")?;
    let found = pool
        .versions(|v| v.alias(&alias).cloned())
        .map_err(|e| refusal(&e))?;
    Ok(ok(StatusCode::OK, alias_configuration(&pool, &found)))
}

async fn update_alias(
    State(edge): State<Edge>,
    Path((name, alias)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<AliasBody>,
) -> Answer {
    let pool = function(&edge, &headers, &name, "UpdateAlias")?;
    no_weighted_routing(&body)?;
    let updated = pool
        .versions(|v| {
            v.update_alias(
                &alias,
                body.function_version.as_deref(),
                body.description.clone(),
            )
        })
        .map_err(|e| refusal(&e))?;
    pool.log(&format!(
        "alias {alias} moved to version {} at once (no CodeDeploy traffic shifting locally)",
        updated.version
    ));
    Ok(ok(StatusCode::OK, alias_configuration(&pool, &updated)))
}

async fn list_aliases(
    State(edge): State<Edge>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let pool = function(&edge, &headers, &name, "ListAliases")?;
    let aliases: Vec<Value> = pool.versions(|v| {
        v.aliases()
            .map(|alias| alias_configuration(&pool, alias))
            .collect()
    });
    Ok(ok(StatusCode::OK, json!({ "Aliases": aliases })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagsBody {
    tags: BTreeMap<String, String>,
}

async fn list_tags(
    State(edge): State<Edge>,
    Path(arn): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let pool = function(&edge, &headers, &arn, "ListTags")?;
    let tags = pool.versions(|v| v.tags().clone());
    Ok(ok(StatusCode::OK, json!({ "Tags": tags })))
}

async fn tag_resource(
    State(edge): State<Edge>,
    Path(arn): Path<String>,
    headers: HeaderMap,
    Json(body): Json<TagsBody>,
) -> Answer {
    let pool = function(&edge, &headers, &arn, "TagResource")?;
    pool.versions(|v| v.tag(body.tags));
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn untag_resource(
    State(edge): State<Edge>,
    Path(arn): Path<String>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Answer {
    let pool = function(&edge, &headers, &arn, "UntagResource")?;
    // `tagKeys` repeats (`?tagKeys=a&tagKeys=b`), which a map extractor would collapse.
    let keys: Vec<String> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.strip_prefix("tagKeys="))
        .map(percent_decode)
        .collect();
    pool.versions(|v| v.untag(&keys));
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn percent_decode(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        let escaped = (byte == b'%')
            .then(|| tail.get(..2))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        if let Some(decoded) = escaped {
            out.push(decoded);
            rest = &tail[2..];
        } else {
            out.push(byte);
            rest = tail;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateBody {
    function_name: String,
    role: String,
    code: CodeBody,
    environment: Option<EnvironmentBody>,
    timeout: Option<u64>,
    memory_size: Option<u32>,
    description: Option<String>,
    #[serde(default)]
    publish: bool,
    tags: Option<BTreeMap<String, String>>,
    tracing_config: Option<Value>,
}

/// A new function outside the template. It runs under the role it names, which must be one
/// of the stack's functions' roles: devstack has no IAM to create others in, and Lambda
/// refuses a role it cannot assume.
async fn create_function(
    State(edge): State<Edge>,
    headers: HeaderMap,
    Json(body): Json<CreateBody>,
) -> Answer {
    authorize(
        &edge,
        &headers,
        "CreateFunction",
        &function_arn(&body.function_name),
    )?;
    if edge.lambda.function(&body.function_name).is_some() {
        return Err(refusal(&LambdaApiError::Conflict(format!(
            "Function already exist: {}",
            body.function_name
        ))));
    }
    let Some(role_owner) = edge.roles.function_of_role(&body.role) else {
        return Err(refusal(&LambdaApiError::InvalidParameter(
            "The role defined for the function cannot be assumed by Lambda.".to_owned(),
        )));
    };
    let Some(template) = edge.lambda.function(&role_owner) else {
        return Err(refusal(&LambdaApiError::InvalidParameter(
            "The role defined for the function cannot be assumed by Lambda.".to_owned(),
        )));
    };
    let Some(zip_file) = &body.code.zip_file else {
        return Err(refusal(&LambdaApiError::InvalidParameter(
            "devstack takes code only as Code.ZipFile".to_owned(),
        )));
    };
    let code = unpack(&edge.code_dir, &body.function_name, zip_file).map_err(|e| refusal(&e))?;
    let name = body.function_name.clone();
    let log_group = format!("/aws/lambda/{name}");
    let reserved = template
        .spec()
        .reserved_environment
        .iter()
        .map(|(key, value)| match key.as_str() {
            "AWS_LAMBDA_FUNCTION_NAME" => (key.clone(), name.clone()),
            "AWS_LAMBDA_LOG_GROUP_NAME" => (key.clone(), log_group.clone()),
            _ => (key.clone(), value.clone()),
        })
        .collect();
    let spec = FunctionSpec {
        role: body.role.clone(),
        logical_id: name.clone(),
        arn: function_arn(&name),
        name: name.clone(),
        binary: code.binary.clone(),
        environment: body.environment.map(|e| e.variables).unwrap_or_default(),
        reserved_environment: reserved,
        // Lambda's defaults: 3 seconds, 128 MB.
        timeout: Duration::from_secs(body.timeout.unwrap_or(3)),
        memory_mb: body.memory_size.unwrap_or(128),
        max_instances: template.spec().max_instances,
        async_invoke: crate::lambda::AsyncInvokeSpec {
            max_retries: 2,
            max_event_age: Duration::from_hours(6),
            on_failure: None,
        },
        traced: body.tracing_config.is_some_and(|t| t["Mode"] == "Active"),
        alias: None,
    };
    let pool = edge.lambda.create(spec, code);
    let revision = pool.versions(|v| {
        if let Some(tags) = body.tags {
            v.tag(tags);
        }
        if let Some(description) = body.description {
            v.update_configuration(ConfigurationUpdate {
                description: Some(description),
                ..ConfigurationUpdate::default()
            });
        }
        if body.publish {
            v.publish(None, None)
        } else {
            Ok(v.latest().clone())
        }
    });
    let revision = revision.map_err(|e| refusal(&e))?;
    pool.log(&format!(
        "created through the Lambda API, running as the role of {role_owner}"
    ));
    Ok(ok(StatusCode::CREATED, configuration(&pool, &revision)))
}
