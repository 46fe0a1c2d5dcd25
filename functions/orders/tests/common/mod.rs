//! Shared setup of the orders integration tests: the template on moto, orders' adapters over
//! it, and products in orders' copy of the catalog.

#![allow(dead_code, clippy::unwrap_used)]

use aws_config::SdkConfig;
use devstack::template::Attribute;
use devstack::template::Resolver;
use orders::{
    adapters::{CardTokenSealer, EventStore, ProductCopies, ReadModel},
    domain::{Address, LineRequest, Product},
    entrypoints::projector::Projector,
    service::{Orders, PlaceOrder},
};
use shop_events::ParkingQueue;
use shop_testkit::{Moto, stack};

/// Orders' copies of three catalog products (ids are the catalog's UUIDs).
pub const KETTLE: &str = "6f1c0a7e-0000-4000-8000-000000000001";
pub const MUG: &str = "6f1c0a7e-0000-4000-8000-000000000002";
pub const DISCONTINUED: &str = "6f1c0a7e-0000-4000-8000-000000000003";
/// A well-formed id no product has.
pub const UNKNOWN: &str = "6f1c0a7e-0000-4000-8000-0000000000ff";

pub struct Setup {
    pub orders: Orders,
    /// The template's card token key, as `orders-http` gets it.
    pub card_tokens: CardTokenSealer,
    pub card_token_key_arn: String,
    pub projector: Projector,
    pub resolver: Resolver,
    pub config: SdkConfig,
}

pub async fn setup() -> Setup {
    let config = Moto::shared().sdk_config().await;
    let resolver = stack::provision(&config, &[]).await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let name = |logical_id: &str| stack::name(&resolver, logical_id);
    let store = EventStore::new(
        dynamodb.clone(),
        name("OrderEventsTable"),
        name("OrderIdempotencyTable"),
    );
    let views = ReadModel::new(
        dynamodb.clone(),
        name("OrderViewsTable"),
        name("CustomerTotalsTable"),
    );
    let products = ProductCopies::new(dynamodb, name("OrderProductsTable"));
    let parking = ParkingQueue::new(
        aws_sdk_sqs::Client::new(&config),
        name("OrdersProjectorDLQ"),
        "OrdersProjectorFunction",
        orders::SERVICE,
    );
    for (id, sku, price_cents, active) in [
        (KETTLE, "KETTLE", 2999, true),
        (MUG, "MUG", 899, true),
        (DISCONTINUED, "OLD", 100, false),
    ] {
        let product = Product {
            id: id.to_owned(),
            sku: sku.to_owned(),
            name: sku.to_lowercase(),
            price_cents,
            currency: "EUR".to_owned(),
            active,
        };
        products.apply(&product, 1).await.unwrap();
    }
    let card_token_key_arn = resolver
        .get("CardTokenKey", Attribute::Arn)
        .unwrap()
        .to_owned();
    Setup {
        card_tokens: CardTokenSealer::new(
            aws_sdk_kms::Client::new(&config),
            card_token_key_arn.clone(),
        ),
        card_token_key_arn,
        projector: Projector {
            store: store.clone(),
            views: views.clone(),
            parking,
        },
        orders: Orders {
            store,
            views,
            products,
        },
        resolver,
        config,
    }
}

/// The name of a provisioned resource of the setup's stack.
pub fn name(setup: &Setup, logical_id: &str) -> String {
    stack::name(&setup.resolver, logical_id)
}

pub fn address() -> Address {
    Address {
        name: "Ada Lovelace".into(),
        line1: "1 Analytical Way".into(),
        line2: None,
        postal_code: "10115".into(),
        city: "Berlin".into(),
        country: "DE".into(),
    }
}

/// Two kettles and a mug: 2 × 2999 + 899 = 6897 cents.
pub fn kettles_and_a_mug() -> PlaceOrder {
    PlaceOrder {
        lines: vec![
            LineRequest {
                product_id: KETTLE.into(),
                quantity: 2,
            },
            LineRequest {
                product_id: MUG.into(),
                quantity: 1,
            },
        ],
        shipping_address: address(),
        card_token: "tok_visa".into(),
        idempotency: None,
    }
}

impl Setup {
    /// The HTTP API over the setup's stores and key.
    pub fn router(&self) -> axum::Router {
        orders::entrypoints::http::router(self.orders.clone(), self.card_tokens.clone())
    }

    /// Every record the projector parked, as the messages in its DLQ.
    pub async fn parked(&self) -> Vec<serde_json::Value> {
        let received = aws_sdk_sqs::Client::new(&self.config)
            .receive_message()
            .queue_url(stack::name(&self.resolver, "OrdersProjectorDLQ"))
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        received
            .messages()
            .iter()
            .map(|message| serde_json::from_str(message.body().unwrap()).unwrap())
            .collect()
    }

    /// Places an order for `customer` and returns its id.
    pub async fn place(&self, customer: &str) -> String {
        self.orders
            .place(&self.card_tokens, customer, kettles_and_a_mug(), "test")
            .await
            .unwrap()
            .order_id
    }

    /// Projects every stored event of `order_id`, in order, as the stream would.
    pub async fn project(&self, order_id: &str) {
        for event in self.orders.store.load(order_id, None).await.unwrap() {
            self.projector.project(&event).await.unwrap();
        }
    }
}
