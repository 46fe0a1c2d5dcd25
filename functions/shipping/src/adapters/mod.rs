//! Where shipping keeps its data.

pub mod shipments;

pub use shipments::{Shipment, ShipmentStatus, Shipments, ShipmentsError};
