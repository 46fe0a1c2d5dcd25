//! Where shipping keeps its data.

pub mod shipments;

pub use shipments::Shipments;
pub use shop_aws::dynamo::StoreError;
