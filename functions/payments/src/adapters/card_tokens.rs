//! Opening the card tokens orders sealed for payments. Orders encrypts each order's token with
//! the stack's card token KMS key under the encryption context `{"order_id": <the order's
//! id>}`, and the saga carries only that ciphertext (base64) to `AuthorizePayment`; this task
//! function is the only one whose role may decrypt under the key. KMS refuses a ciphertext
//! under any other context, so a token sealed for one order opens for no other.

use aws_sdk_kms::{Client, error::SdkError, operation::decrypt::DecryptError, primitives::Blob};
use base64::{Engine, engine::general_purpose::STANDARD};

/// The encryption context's one key, as orders seals with it; its value is the order's id.
pub const CONTEXT_KEY: &str = "order_id";

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Not a token sealed for this order under this key: not base64, sealed under another
    /// context or key, or altered. Final; asking again cannot change KMS's answer.
    #[error("the card token is not one sealed for this order: {0}")]
    Unreadable(&'static str),
    /// KMS did not answer (throttled, unavailable, the key disabled): worth retrying.
    #[error("KMS request failed")]
    Kms(#[source] Box<aws_sdk_kms::Error>),
}

#[derive(Debug, Clone)]
pub struct CardTokenOpener {
    client: Client,
    key_arn: String,
}

impl CardTokenOpener {
    pub fn new(client: Client, key_arn: String) -> Self {
        Self { client, key_arn }
    }

    /// Checks that the key exists, which also opens the connection to KMS during init and
    /// stops a function pointed at a wrong key before it takes a task.
    pub async fn connect(&self) -> Result<(), OpenError> {
        self.client
            .describe_key()
            .key_id(&self.key_arn)
            .send()
            .await
            .map_err(|error| OpenError::Kms(Box::new(error.into())))?;
        Ok(())
    }

    /// The card token sealed for `order_id` as `ciphertext` (base64).
    pub async fn open(&self, order_id: &str, ciphertext: &str) -> Result<String, OpenError> {
        let blob = STANDARD
            .decode(ciphertext)
            .map_err(|_| OpenError::Unreadable("not base64"))?;
        // Naming the key makes KMS refuse a ciphertext of any other key, not only of another
        // context (KMS API Reference, Decrypt, `KeyId`).
        let output = self
            .client
            .decrypt()
            .key_id(&self.key_arn)
            .ciphertext_blob(Blob::new(blob))
            .encryption_context(CONTEXT_KEY, order_id)
            .send()
            .await
            .map_err(classify)?;
        let plaintext = output
            .plaintext
            .ok_or(OpenError::Unreadable("KMS answered no plaintext"))?;
        String::from_utf8(plaintext.into_inner()).map_err(|_| OpenError::Unreadable("not text"))
    }
}

fn classify(error: SdkError<DecryptError>) -> OpenError {
    match error.as_service_error() {
        Some(DecryptError::InvalidCiphertextException(_)) => {
            OpenError::Unreadable("KMS refused the ciphertext under this order's context")
        }
        Some(DecryptError::IncorrectKeyException(_)) => {
            OpenError::Unreadable("sealed under another key")
        }
        _ => OpenError::Kms(Box::new(error.into())),
    }
}
