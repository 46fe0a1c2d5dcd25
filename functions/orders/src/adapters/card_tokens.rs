//! The KMS key that seals card tokens for payments. Orders encrypts a customer's token under
//! it as the order is placed and never stores, publishes or logs the token itself; only
//! payments' saga tasks may decrypt (the template grants orders `kms:Encrypt` alone).
//!
//! The encryption context `{"order_id": <the order's id>}` binds each ciphertext to its order:
//! KMS refuses to decrypt it under any other context, so a ciphertext copied into another
//! order's saga opens nothing. The context key is part of the contract with payments, which
//! opens the token with the same one (see docs/security.md).

use aws_sdk_kms::{Client, primitives::Blob};
use base64::{Engine, engine::general_purpose::STANDARD};

/// The encryption context's one key; its value is the order's id.
pub const CONTEXT_KEY: &str = "order_id";

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// KMS's error (code, message, request id) stays the source.
    #[error("KMS request failed")]
    Kms(#[source] Box<aws_sdk_kms::Error>),
    #[error("KMS answered Encrypt without a ciphertext")]
    NoCiphertext,
}

impl<E, R> From<aws_sdk_kms::error::SdkError<E, R>> for SealError
where
    aws_sdk_kms::Error: From<aws_sdk_kms::error::SdkError<E, R>>,
{
    fn from(error: aws_sdk_kms::error::SdkError<E, R>) -> Self {
        Self::Kms(Box::new(error.into()))
    }
}

#[derive(Debug, Clone)]
pub struct CardTokenSealer {
    client: Client,
    key_arn: String,
}

impl CardTokenSealer {
    pub fn new(client: Client, key_arn: String) -> Self {
        Self { client, key_arn }
    }

    /// Checks that the key exists, which also opens the connection to KMS during init and
    /// stops a function pointed at a wrong key before it takes an order.
    pub async fn connect(&self) -> Result<(), SealError> {
        self.client
            .describe_key()
            .key_id(&self.key_arn)
            .send()
            .await?;
        Ok(())
    }

    /// The card token encrypted for `order_id`'s payment, as base64 text: what the event store,
    /// the bus and the saga carry instead of the token.
    pub async fn seal(&self, order_id: &str, card_token: &str) -> Result<String, SealError> {
        let output = self
            .client
            .encrypt()
            .key_id(&self.key_arn)
            .plaintext(Blob::new(card_token.as_bytes()))
            .encryption_context(CONTEXT_KEY, order_id)
            .send()
            .await?;
        let ciphertext = output.ciphertext_blob.ok_or(SealError::NoCiphertext)?;
        Ok(STANDARD.encode(ciphertext.as_ref()))
    }
}
