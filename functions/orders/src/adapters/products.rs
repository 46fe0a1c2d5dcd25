//! Orders' copy of the catalog: the products it may sell, as the catalog's events describe
//! them. A copy lets orders price and check lines without calling the catalog (which may be
//! down) and without sharing its table.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, KeysAndAttributes},
};

use shop_aws::dynamo::{self, DynamoError};

use super::StoreError;
use crate::domain::Product;

#[derive(Debug, Clone)]
pub struct ProductCopies {
    client: Client,
    table: String,
}

impl ProductCopies {
    pub fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    pub async fn connect(&self) -> Result<(), DynamoError> {
        dynamo::connect(&self.client, &self.table).await
    }

    /// Stores what version `version` of a product says, unless a later version is stored
    /// (events may arrive twice or out of order). `false` when it was not newer.
    pub async fn apply(&self, product: &Product, version: u64) -> Result<bool, StoreError> {
        let item = HashMap::from([
            ("id".to_owned(), AttributeValue::S(product.id.clone())),
            ("sku".to_owned(), AttributeValue::S(product.sku.clone())),
            ("name".to_owned(), AttributeValue::S(product.name.clone())),
            (
                "price_cents".to_owned(),
                AttributeValue::N(product.price_cents.to_string()),
            ),
            (
                "currency".to_owned(),
                AttributeValue::S(product.currency.clone()),
            ),
            ("active".to_owned(), AttributeValue::Bool(product.active)),
            ("version".to_owned(), AttributeValue::N(version.to_string())),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(id) OR version < :version")
            .expression_attribute_values(":version", AttributeValue::N(version.to_string()))
            .send()
            .await;
        Ok(shop_aws::condition_held(result)?)
    }

    pub async fn get(&self, id: &str) -> Result<Option<Product>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_owned()))
            .send()
            .await?;
        output.item.map(|item| product(&item)).transpose()
    }

    /// The known products among `ids`.
    pub async fn get_many(&self, ids: &[String]) -> Result<HashMap<String, Product>, StoreError> {
        let mut products = HashMap::new();
        let mut unique: Vec<&String> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        for chunk in unique.chunks(100) {
            let keys = chunk
                .iter()
                .map(|id| HashMap::from([("id".to_owned(), AttributeValue::S((*id).clone()))]))
                .collect();
            let mut request = Some(HashMap::from([(
                self.table.clone(),
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .build()
                    .expect("keys are set"),
            )]));
            while let Some(items) = request.take().filter(|r| !r.is_empty()) {
                let output = self
                    .client
                    .batch_get_item()
                    .set_request_items(Some(items))
                    .send()
                    .await?;
                for item in output
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    let product = product(&item)?;
                    products.insert(product.id.clone(), product);
                }
                request = output.unprocessed_keys;
            }
        }
        Ok(products)
    }
}

fn product(item: &HashMap<String, AttributeValue>) -> Result<Product, StoreError> {
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| StoreError::Corrupt(format!("product copy without {name}")))
    };
    Ok(Product {
        id: text("id")?,
        sku: text("sku")?,
        name: text("name")?,
        price_cents: text_number(item, "price_cents")?,
        currency: text("currency")?,
        active: item
            .get("active")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
    })
}

fn text_number(item: &HashMap<String, AttributeValue>, name: &str) -> Result<i64, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("product copy without {name}")))
}
