//! Resources created on the emulator from `infra/template.yaml`, read with devstack's template
//! model and created by its provisioner, so tests use the key schema that deploys.

use aws_sdk_dynamodb::Client;
use devstack::template::{Properties, Template};

/// Creates the table the template declares as `logical_id`, named `table_name`, and returns
/// its stream ARN when it has a stream.
pub async fn create_table(client: &Client, logical_id: &str, table_name: &str) -> Option<String> {
    let template = Template::load(&[crate::workspace_root().join("infra/template.yaml")])
        .expect("infra/template.yaml loads");
    let resource = template
        .resource(logical_id)
        .unwrap_or_else(|| panic!("no resource {logical_id} in infra/template.yaml"));
    let Properties::Table(table) = &resource.properties else {
        panic!("{logical_id} is not a table");
    };
    devstack::provision::dynamodb::create_table(client, table, table_name)
        .await
        .expect("create table")
}
