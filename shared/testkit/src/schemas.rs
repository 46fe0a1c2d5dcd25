//! The event contracts in `events/schemas/`, as validators.

use jsonschema::{Resource, Validator};
use serde_json::Value;

const BASE_URI: &str = "https://schemas.shop.example/events/";

fn load(file: &str) -> Value {
    let path = crate::workspace_root().join("events/schemas").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{file} is not JSON: {error}"))
}

/// A validator for the `detail` (envelope) of the event named `event_type`, with the shared
/// schemas it refers to loaded from the same folder.
pub fn validator(event_type: &str) -> Validator {
    let mut options = jsonschema::options().should_validate_formats(true);
    for entry in
        std::fs::read_dir(crate::workspace_root().join("events/schemas")).expect("events/schemas")
    {
        let file = entry
            .expect("schema file")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if std::path::Path::new(&file)
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
        {
            let resource = Resource::from_contents(load(&file)).expect("a schema resource");
            options = options.with_resource(format!("{BASE_URI}{file}"), resource);
        }
    }
    options
        .build(&load(&format!("{event_type}.json")))
        .unwrap_or_else(|error| panic!("schema of {event_type} does not compile: {error}"))
}

/// Panics with every violation when `detail` does not satisfy its event's schema.
pub fn assert_valid(detail: &Value) {
    let event_type = detail["type"]
        .as_str()
        .expect("the envelope names its type");
    let validator = validator(event_type);
    let errors: Vec<String> = validator
        .iter_errors(detail)
        .map(|error| format!("{} at {}", error, error.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{event_type} violates its schema: {errors:#?}\n{detail:#}"
    );
}
