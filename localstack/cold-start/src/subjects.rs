//! The functions measured, the event each is handed, what the emulator must hold for that
//! event to take the function's real path, and the environment each process starts with.

use std::path::Path;

use devstack::plan::FunctionPlan;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// A function to cold-start.
#[derive(Debug, Clone, Copy)]
pub struct Subject {
    /// The binary, as cargo-lambda names its folder (`<dir>/<binary>/bootstrap`).
    pub binary: &'static str,
    /// What the event makes it do, for the table.
    pub work: &'static str,
    /// The event, from `events/samples/`.
    pub sample: &'static str,
}

/// The floor: no configuration, no logging, no AWS client.
pub const FLOOR: Subject = Subject {
    binary: "echo-floor",
    work: "floor: lambda_runtime echo, no AWS calls",
    sample: "catalog-http.get-product.json",
};

/// Measured in this order within a round (the start rotates each round).
pub const SUBJECTS: &[Subject] = &[
    FLOOR,
    Subject {
        binary: "catalog-http",
        work: "HTTP GET /products/{id}: one GetItem",
        sample: "catalog-http.get-product.json",
    },
    Subject {
        binary: "orders-http",
        work: "HTTP POST /orders: price from the product copies, seal the card token, append the first event",
        sample: "orders-http.place-order.json",
    },
    Subject {
        binary: "catalog-publisher",
        work: "DynamoDB stream batch of one INSERT: PutEvents",
        sample: "catalog-publisher.product-stream.json",
    },
];

/// The id of the product every sample names (`events/samples/`), which [`seed`] creates.
pub const SAMPLE_PRODUCT: &str = "0b6f3c1e-7a52-4c1e-9a55-2f8e1d3c9b10";

/// Who the process is, as Lambda tells it through reserved variables.
#[derive(Debug, Clone)]
pub struct Identity {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub log_group: String,
    pub memory_mb: u32,
    /// The template's variables for the function (none for the floor).
    pub environment: Vec<(String, String)>,
}

impl Identity {
    pub fn of(function: &FunctionPlan) -> Self {
        Self {
            logical_id: function.logical_id.clone(),
            name: function.name.clone(),
            arn: function.arn.clone(),
            log_group: function.log_group.clone(),
            memory_mb: function.memory_mb,
            environment: function.environment.clone(),
        }
    }

    /// The floor is in no template: named like a function of the stack, with the template's
    /// default memory.
    pub fn floor() -> Self {
        let name = "shop-local-EchoFloor".to_owned();
        Self {
            logical_id: "EchoFloor".to_owned(),
            arn: format!(
                "arn:aws:lambda:{}:{}:function:{name}",
                devstack::REGION,
                devstack::ACCOUNT
            ),
            log_group: format!("/aws/lambda/{name}"),
            name,
            memory_mb: 256,
            environment: Vec::new(),
        }
    }

    pub fn setting(&self, name: &str) -> Option<&str> {
        self.environment
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Where the process runs and whom it calls.
#[derive(Debug, Clone, Copy)]
pub struct Surroundings<'a> {
    /// The recording proxy in front of the emulator.
    pub endpoint: &'a str,
    /// The folder of the bootstrap (Lambda's task root).
    pub task_root: &'a Path,
}

/// The whole environment of the process. The reserved variables are devstack's
/// (`stack.rs` `function_pools`, `lambda/pool.rs` `start_instance`) with the endpoint moved to
/// the recording proxy; the process inherits nothing else from the host, as on Lambda, apart
/// from the few variables every Lambda runtime has (`PATH`, `LANG`, `TZ`, the task root).
pub fn environment(identity: &Identity, around: Surroundings<'_>) -> Vec<(String, String)> {
    let task_root = around.task_root.display().to_string();
    let access_key = devstack::iam::roles::access_key_id(&identity.logical_id);
    let memory = identity.memory_mb.to_string();
    let fixed = [
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("LAMBDA_TASK_ROOT", &task_root),
        ("_HANDLER", "bootstrap"),
        ("AWS_ENDPOINT_URL", around.endpoint),
        ("AWS_REGION", devstack::REGION),
        ("AWS_DEFAULT_REGION", devstack::REGION),
        ("AWS_ACCESS_KEY_ID", &access_key),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_LAMBDA_FUNCTION_NAME", &identity.name),
        ("AWS_LAMBDA_LOG_GROUP_NAME", &identity.log_group),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", &memory),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "cold-start"),
    ];
    fixed
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .chain(identity.environment.iter().cloned())
        .collect()
}

/// The event of one run. A request with an `Idempotency-Key` gets a fresh key, so every run
/// takes the first-time path rather than the replay of a stored answer.
pub fn event_for_run(sample: &Value) -> Value {
    let mut event = sample.clone();
    if let Some(key) = event
        .get_mut("headers")
        .and_then(|h| h.get_mut("idempotency-key"))
    {
        *key = Value::String(format!("cold-start-{}", Uuid::new_v4()));
    }
    event
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{0} has no {1} in its environment")]
    Setting(String, &'static str),
    #[error("seeding the catalog's product failed")]
    Catalog(#[from] catalog::adapters::StoreError),
    #[error("seeding orders' copy of the product failed")]
    Orders(#[from] orders::adapters::StoreError),
}

fn required<'a>(identity: &'a Identity, name: &'static str) -> Result<&'a str, SeedError> {
    identity
        .setting(name)
        .ok_or_else(|| SeedError::Setting(identity.logical_id.clone(), name))
}

/// Stores what the samples' requests read, through each service's own adapter: the product in
/// the catalog's tables (for `catalog-http`) and in orders' copy of the catalog (for
/// `orders-http`).
pub async fn seed(
    dynamodb: &aws_sdk_dynamodb::Client,
    catalog_http: &Identity,
    orders_http: &Identity,
) -> Result<(), SeedError> {
    let id = Uuid::parse_str(SAMPLE_PRODUCT).expect("the sample's product id is a UUID");
    let details = catalog::domain::ProductDetails {
        name: "Kettle, 1 litre".to_owned(),
        description: "Boils a litre in two minutes.".to_owned(),
        price_cents: 2_999,
        currency: "EUR".to_owned(),
    };
    let product = catalog::domain::Product::create(
        id,
        "KETTLE-1L".to_owned(),
        details,
        OffsetDateTime::now_utc(),
    );
    catalog::adapters::ProductTable::new(
        dynamodb.clone(),
        required(catalog_http, "PRODUCTS_TABLE")?.to_owned(),
        required(catalog_http, "SKUS_TABLE")?.to_owned(),
    )
    .insert(&product, "cold-start-seed")
    .await?;
    let copy = orders::domain::Product {
        id: SAMPLE_PRODUCT.to_owned(),
        sku: product.sku.clone(),
        name: product.details.name.clone(),
        price_cents: product.details.price_cents,
        currency: product.details.currency.clone(),
        active: true,
    };
    orders::adapters::ProductCopies::new(
        dynamodb.clone(),
        required(orders_http, "PRODUCTS_TABLE")?.to_owned(),
    )
    .apply(&copy, 1)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn catalog_http() -> Identity {
        Identity {
            environment: vec![
                ("RUST_LOG".to_owned(), "info".to_owned()),
                ("PRODUCTS_TABLE".to_owned(), "products".to_owned()),
            ],
            ..Identity::floor()
        }
    }

    fn around() -> Surroundings<'static> {
        Surroundings {
            endpoint: "http://127.0.0.1:9",
            task_root: Path::new("/var/task"),
        }
    }

    fn value<'a>(environment: &'a [(String, String)], name: &str) -> Vec<&'a str> {
        environment
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    #[test]
    fn the_process_gets_the_reserved_variables_and_the_templates() {
        let environment = environment(&catalog_http(), around());
        assert_eq!(
            value(&environment, "AWS_ENDPOINT_URL"),
            ["http://127.0.0.1:9"]
        );
        assert_eq!(
            value(&environment, "AWS_ACCESS_KEY_ID"),
            ["LOCALROLEEchoFloor"]
        );
        assert_eq!(value(&environment, "PRODUCTS_TABLE"), ["products"]);
        assert_eq!(value(&environment, "RUST_LOG"), ["info"]);
        assert_eq!(
            value(&environment, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
            ["256"]
        );
    }

    #[test]
    fn each_run_has_an_idempotency_key_of_its_own() {
        let sample = json!({"headers": {"idempotency-key": "checkout-7f3a"}, "body": "{}"});
        let (first, second) = (event_for_run(&sample), event_for_run(&sample));
        assert_ne!(first["headers"]["idempotency-key"], "checkout-7f3a");
        assert_ne!(
            first["headers"]["idempotency-key"],
            second["headers"]["idempotency-key"]
        );
        let without = json!({"Records": []});
        assert_eq!(event_for_run(&without), without);
    }
}
