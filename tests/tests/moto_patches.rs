//! What devstack's stream pollers and the auth service rely on from moto, as patched by
//! `localstack/moto/launcher.py`: without the patches a stream consumer stalls after the first
//! cancelled transaction, the admin login flow signs in users who never confirmed, the bus's
//! event log group cannot be read with the SDK, concurrent conditional writes to one item
//! both pass their condition (a counter used as a gate lets too many through), and shard
//! iterators are kept forever. The patches that only make moto cheaper (a cancelled
//! transaction undone from a journal, the service of a request remembered) must answer as moto
//! did.

#![allow(clippy::unwrap_used)]

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, Put,
    ScalarAttributeType, StreamSpecification, StreamViewType, TransactWriteItem,
};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use shop_testkit::moto::Moto;

/// A table with a stream, and the stream's ARN and shard.
async fn table_with_stream(
    dynamodb: &aws_sdk_dynamodb::Client,
    streams: &aws_sdk_dynamodbstreams::Client,
) -> (String, String, String) {
    let name = shop_testkit::unique_name("patched");
    let created = dynamodb
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let stream = created
        .table_description()
        .unwrap()
        .latest_stream_arn()
        .unwrap()
        .to_owned();
    let described = streams
        .describe_stream()
        .stream_arn(&stream)
        .send()
        .await
        .unwrap();
    let shard = described.stream_description().unwrap().shards()[0]
        .shard_id()
        .unwrap()
        .to_owned();
    (name, stream, shard)
}

async fn iterator(
    streams: &aws_sdk_dynamodbstreams::Client,
    stream: &str,
    shard: &str,
    kind: ShardIteratorType,
    after: Option<&str>,
) -> String {
    streams
        .get_shard_iterator()
        .stream_arn(stream)
        .shard_id(shard)
        .shard_iterator_type(kind)
        .set_sequence_number(after.map(str::to_owned))
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap()
}

async fn put(dynamodb: &aws_sdk_dynamodb::Client, table: &str, id: &str) {
    dynamodb
        .put_item()
        .table_name(table)
        .item("id", AttributeValue::S(id.into()))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_cancelled_transaction_does_not_strand_the_streams_open_iterators() {
    let config = Moto::shared().sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let streams = aws_sdk_dynamodbstreams::Client::new(&config);
    let (table, stream, shard) = table_with_stream(&dynamodb, &streams).await;
    put(&dynamodb, &table, "first").await;
    let first = streams
        .get_records()
        .shard_iterator(
            iterator(
                &streams,
                &stream,
                &shard,
                ShardIteratorType::TrimHorizon,
                None,
            )
            .await,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(first.records().len(), 1);

    // A transaction whose condition fails: moto rolls the table back.
    let cancelled = dynamodb
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&table)
                        .item("id", AttributeValue::S("first".into()))
                        .condition_expression("attribute_not_exists(id)")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await;
    assert!(cancelled.is_err(), "the transaction's condition fails");
    put(&dynamodb, &table, "second").await;

    let next = streams
        .get_records()
        .shard_iterator(first.next_shard_iterator().unwrap())
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = next
        .records()
        .iter()
        .filter_map(|r| r.dynamodb()?.keys()?.get("id")?.as_s().ok().cloned())
        .collect();
    assert_eq!(
        ids,
        ["second"],
        "the open iterator sees the write after the rollback"
    );
}

/// The poller resumes after the last delivered record when a read fails.
#[tokio::test]
async fn an_iterator_can_start_after_a_sequence_number() {
    let config = Moto::shared().sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let streams = aws_sdk_dynamodbstreams::Client::new(&config);
    let (table, stream, shard) = table_with_stream(&dynamodb, &streams).await;
    put(&dynamodb, &table, "a").await;
    put(&dynamodb, &table, "b").await;
    let all = streams
        .get_records()
        .shard_iterator(
            iterator(
                &streams,
                &stream,
                &shard,
                ShardIteratorType::TrimHorizon,
                None,
            )
            .await,
        )
        .send()
        .await
        .unwrap();
    let first = all.records()[0]
        .dynamodb()
        .unwrap()
        .sequence_number()
        .unwrap();
    let after = iterator(
        &streams,
        &stream,
        &shard,
        ShardIteratorType::AfterSequenceNumber,
        Some(first),
    )
    .await;
    let rest = streams
        .get_records()
        .shard_iterator(after)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.records().len(), 1);
    assert_eq!(
        rest.records()[0].dynamodb().unwrap().keys().unwrap()["id"]
            .as_s()
            .unwrap(),
        "b"
    );
}

/// Cognito's AdminInitiateAuth refuses a user whose sign-up is unconfirmed once the password
/// matched; moto signed them in.
#[tokio::test]
async fn the_admin_password_flow_refuses_an_unconfirmed_user_as_cognito_does() {
    use aws_sdk_cognitoidentityprovider::{
        operation::admin_initiate_auth::AdminInitiateAuthError,
        types::{AuthFlowType, ExplicitAuthFlowsType},
    };
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&Moto::shared().sdk_config().await);
    let pool = cognito
        .create_user_pool()
        .pool_name(shop_testkit::unique_name("patched"))
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("patched")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    let password = "Patched-Passw0rd-1";
    cognito
        .sign_up()
        .client_id(&client)
        .username("unconfirmed")
        .password(password)
        .send()
        .await
        .unwrap();
    let login = |password: &'static str| {
        cognito
            .admin_initiate_auth()
            .user_pool_id(&pool)
            .client_id(&client)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "unconfirmed")
            .auth_parameters("PASSWORD", password)
            .send()
    };

    let refused = login(password).await.unwrap_err();
    assert!(
        matches!(
            refused.as_service_error(),
            Some(AdminInitiateAuthError::UserNotConfirmedException(_))
        ),
        "{refused:?}"
    );
    let wrong = login("Wrong-Passw0rd-1").await.unwrap_err();
    assert!(
        matches!(
            wrong.as_service_error(),
            Some(AdminInitiateAuthError::NotAuthorizedException(_))
        ),
        "a wrong password says nothing about confirmation: {wrong:?}"
    );

    cognito
        .admin_confirm_sign_up()
        .user_pool_id(&pool)
        .username("unconfirmed")
        .send()
        .await
        .unwrap();
    let signed_in = login(password).await.unwrap();
    assert!(signed_in.authentication_result.is_some());
}

#[tokio::test]
async fn the_event_log_groups_entries_can_be_read_with_the_sdk() {
    let config = Moto::shared().sdk_config().await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let name = shop_testkit::unique_name("event-log");
    let group = format!("/aws/events/{name}");
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    events.create_event_bus().name(&name).send().await.unwrap();
    events
        .put_rule()
        .name(&name)
        .event_bus_name(&name)
        .event_pattern(r#"{"source": [{"prefix": "shop."}]}"#)
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule(&name)
        .event_bus_name(&name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("log")
                .arn(format!(
                    "arn:aws:logs:{}:{}:log-group:{group}",
                    shop_testkit::moto::REGION,
                    devstack::ACCOUNT
                ))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    events
        .put_events()
        .entries(
            aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name(&name)
                .source("shop.test")
                .detail_type("Logged")
                .detail(r#"{"n": 1}"#)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let read = logs
        .filter_log_events()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    let entry = &read.events()[0];
    assert!(entry.message().unwrap().contains("Logged"));
    assert!(entry.timestamp().unwrap() > 0);
}

/// DynamoDB serializes writes to one item, so a conditional counter is a gate: of many
/// concurrent `ADD n :one` if `n < :limit`, exactly `limit` pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_conditional_updates_of_one_item_pass_exactly_as_often_as_the_condition_allows()
{
    let config = Moto::shared().sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let streams = aws_sdk_dynamodbstreams::Client::new(&config);
    let (table, _, _) = table_with_stream(&dynamodb, &streams).await;
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let dynamodb = dynamodb.clone();
        let table = table.clone();
        attempts.spawn(async move {
            dynamodb
                .update_item()
                .table_name(table)
                .key("id", AttributeValue::S("gate".into()))
                .update_expression("ADD n :one")
                .condition_expression("attribute_not_exists(n) OR n < :limit")
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":limit", AttributeValue::N("5".into()))
                .send()
                .await
                .is_ok()
        });
    }
    let passed = attempts
        .join_all()
        .await
        .into_iter()
        .filter(|ok| *ok)
        .count();
    assert_eq!(passed, 5);
}

/// A cancelled transaction writes nothing: not its puts, not its updates of existing items, and
/// no stream records. The launcher undoes it from a journal where moto restored whole copies.
#[tokio::test]
async fn a_cancelled_transaction_writes_nothing_and_puts_nothing_on_the_stream() {
    use aws_sdk_dynamodb::types::Update;
    let config = Moto::shared().sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let streams = aws_sdk_dynamodbstreams::Client::new(&config);
    let (table, stream, shard) = table_with_stream(&dynamodb, &streams).await;
    put(&dynamodb, &table, "counter").await;
    let mut open = iterator(&streams, &stream, &shard, ShardIteratorType::Latest, None).await;
    let transaction = |gate: &'static str| {
        dynamodb
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&table)
                            .item("id", AttributeValue::S("new".into()))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&table)
                            .key("id", AttributeValue::S("counter".into()))
                            .update_expression("ADD n :one")
                            .expression_attribute_values(":one", AttributeValue::N("1".into()))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&table)
                            .item("id", AttributeValue::S(gate.into()))
                            .condition_expression("attribute_not_exists(id)")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
    };
    let counter = async || {
        dynamodb
            .get_item()
            .table_name(&table)
            .key("id", AttributeValue::S("counter".into()))
            .send()
            .await
            .unwrap()
            .item
            .unwrap()
            .get("n")
            .map(|n| n.as_n().unwrap().clone())
    };

    assert!(
        transaction("counter").await.is_err(),
        "the third write's condition fails"
    );
    let new = dynamodb
        .get_item()
        .table_name(&table)
        .key("id", AttributeValue::S("new".into()))
        .send()
        .await
        .unwrap();
    assert!(new.item.is_none(), "the put before the failure is undone");
    assert_eq!(
        counter().await,
        None,
        "the update before the failure is undone"
    );
    let after_cancel = streams
        .get_records()
        .shard_iterator(&open)
        .send()
        .await
        .unwrap();
    assert!(after_cancel.records().is_empty());
    open = after_cancel.next_shard_iterator.unwrap();

    transaction("gate").await.unwrap();
    assert_eq!(counter().await.as_deref(), Some("1"));
    let after_commit = streams
        .get_records()
        .shard_iterator(&open)
        .send()
        .await
        .unwrap();
    assert_eq!(after_commit.records().len(), 3, "one record per write");
}

/// DynamoDB Streams refuses a shard iterator 15 minutes after handing it out; moto kept every
/// one forever. Here the launcher is told the lifetime is a second.
#[tokio::test]
async fn a_shard_iterator_expires_as_dynamodb_streams_expires_it() {
    use aws_sdk_dynamodbstreams::operation::get_records::GetRecordsError;
    let moto = Moto::start_with_env(&[("SHOP_MOTO_ITERATOR_LIFETIME_SECONDS", "1")]);
    let config = moto.sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let streams = aws_sdk_dynamodbstreams::Client::new(&config);
    let (table, stream, shard) = table_with_stream(&dynamodb, &streams).await;
    put(&dynamodb, &table, "a").await;
    let handed_out = iterator(
        &streams,
        &stream,
        &shard,
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let read = async || {
        streams
            .get_records()
            .shard_iterator(&handed_out)
            .send()
            .await
    };
    assert_eq!(read().await.unwrap().records().len(), 1);
    assert_eq!(
        read().await.unwrap().records().len(),
        1,
        "an iterator may be read again while it lives"
    );

    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let expired = read().await.unwrap_err();
    assert!(
        matches!(
            expired.as_service_error(),
            Some(GetRecordsError::ExpiredIteratorException(_))
        ),
        "{expired:?}"
    );
    let fresh = iterator(
        &streams,
        &stream,
        &shard,
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let again = streams
        .get_records()
        .shard_iterator(fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(again.records().len(), 1, "a fresh iterator reads the shard");
}

/// DynamoDB and DynamoDB Streams share the signing name `dynamodb`: the launcher remembers the
/// service per credential scope and X-Amz-Target prefix, so each still reaches its own.
#[tokio::test]
async fn services_that_share_a_signing_name_are_still_told_apart() {
    let config = Moto::shared().sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let streams = aws_sdk_dynamodbstreams::Client::new(&config);
    let (table, stream, _) = table_with_stream(&dynamodb, &streams).await;
    for _ in 0..2 {
        let listed = streams
            .list_streams()
            .table_name(&table)
            .send()
            .await
            .unwrap();
        assert_eq!(listed.streams()[0].stream_arn(), Some(stream.as_str()));
        let described = dynamodb
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .unwrap();
        assert_eq!(
            described.table().unwrap().latest_stream_arn(),
            Some(stream.as_str())
        );
    }
}

/// A query of a table's own key answers the partition's items in range-key order, forwards and
/// backwards, page by page, whatever else the table holds: the launcher hands moto the
/// partition only, where moto listed the whole table.
#[tokio::test]
async fn a_query_of_the_tables_key_pages_through_its_partition_in_order() {
    let config = Moto::shared().sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let table = shop_testkit::unique_name("partitioned");
    let attribute = |name: &str, kind: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    dynamodb
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("id", ScalarAttributeType::S))
        .attribute_definitions(attribute("seq", ScalarAttributeType::N))
        .key_schema(key("id", KeyType::Hash))
        .key_schema(key("seq", KeyType::Range))
        .send()
        .await
        .unwrap();
    for seq in [7, 3, 11, 1, 5] {
        for id in ["a", "b", "c"] {
            dynamodb
                .put_item()
                .table_name(&table)
                .item("id", AttributeValue::S(id.into()))
                .item("seq", AttributeValue::N(seq.to_string()))
                .send()
                .await
                .unwrap();
        }
    }
    let pages = async |forward: bool| {
        let mut seen = Vec::new();
        let mut start = None;
        loop {
            let page = dynamodb
                .query()
                .table_name(&table)
                .key_condition_expression("id = :id AND seq > :after")
                .expression_attribute_values(":id", AttributeValue::S("b".into()))
                .expression_attribute_values(":after", AttributeValue::N("1".into()))
                .scan_index_forward(forward)
                .limit(2)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            for item in page.items() {
                assert_eq!(item["id"].as_s().unwrap(), "b");
                seen.push(item["seq"].as_n().unwrap().parse::<u32>().unwrap());
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return seen;
            }
        }
    };

    assert_eq!(pages(true).await, [3, 5, 7, 11]);
    assert_eq!(pages(false).await, [11, 7, 5, 3]);
    let none = dynamodb
        .query()
        .table_name(&table)
        .key_condition_expression("id = :id")
        .expression_attribute_values(":id", AttributeValue::S("nobody".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(none.count(), 0);
}
