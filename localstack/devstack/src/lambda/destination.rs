//! Lambda's on-failure destinations: where a failed asynchronous event or a given-up stream
//! batch is recorded. Lambda writes the record; without a destination nothing is kept.

use serde_json::Value;

/// Sends Lambda's failure `record` to the destination queue. `Err` says why nothing was kept
/// (no destination, or the queue refused it): the caller reports the loss.
pub async fn send_failure_record(
    sqs: &aws_sdk_sqs::Client,
    destination: Option<&str>,
    record: &Value,
) -> Result<(), String> {
    let Some(queue_url) = destination else {
        return Err("no on-failure destination".to_owned());
    };
    sqs.send_message()
        .queue_url(queue_url)
        .message_body(record.to_string())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
}
