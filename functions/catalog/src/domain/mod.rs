//! Products and the rules for creating and changing them. No I/O here.

mod product;
mod validation;

pub use product::{Product, ProductDetails, ProductStatus, RevisionError};
pub use validation::{ProductInput, Violation};
