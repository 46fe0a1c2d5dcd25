//! The inventory use cases: the domain's rules applied to the stock and reservation tables.
//! Reserving and releasing are idempotent per order, and a write that lost a race to another
//! is decided again on fresh state.

use shop_observability::{Metrics, metric_names::STOCK_OUTS};

use crate::{
    adapters::{Stock, StoreError, Taken},
    domain::{
        AlreadyReleased, Invalid, Level, Line, Released, Reservation, Reserved, check_on_hand,
        check_sku, normalise,
    },
};

/// How often a reservation or release is tried again after losing a race to another
/// transaction on the same items, before it answers [`InventoryError::Contended`].
pub const MAX_ATTEMPTS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// These SKUs have fewer units available than the order asks for (or are unknown).
    #[error("not enough stock of {}", .0.join(", "))]
    OutOfStock(Vec<String>),
    #[error(transparent)]
    AlreadyReleased(#[from] AlreadyReleased),
    #[error("{reserved} units are reserved, more than the {on_hand} asked for")]
    BelowReserved { on_hand: i64, reserved: i64 },
    #[error("other orders kept changing the same stock; retry")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct Inventory {
    pub stock: Stock,
}

impl Inventory {
    /// A SKU's stock; a SKU never stocked has none.
    pub async fn level(&self, sku: &str) -> Result<Level, InventoryError> {
        check_sku(sku)?;
        Ok(self.stock.level(sku).await?.unwrap_or(Level {
            on_hand: 0,
            reserved: 0,
        }))
    }

    /// Sets how many units are on hand; refused below what is reserved.
    pub async fn set_on_hand(&self, sku: &str, on_hand: i64) -> Result<Level, InventoryError> {
        check_sku(sku)?;
        check_on_hand(on_hand)?;
        if let Some(level) = self.stock.set_on_hand(sku, on_hand).await? {
            return Ok(level);
        }
        let reserved = self
            .stock
            .level(sku)
            .await?
            .map_or(0, |level| level.reserved);
        Err(InventoryError::BelowReserved { on_hand, reserved })
    }

    /// Reserves every line for the order, or none.
    pub async fn reserve(
        &self,
        order_id: &str,
        lines: &[Line],
    ) -> Result<Reserved, InventoryError> {
        let lines = normalise(lines)?;
        for _ in 0..MAX_ATTEMPTS {
            match self.stock.take(order_id, &lines).await? {
                Taken::Now => return Ok(Reserved::Now),
                Taken::Short(skus) => {
                    // A refusal stores nothing, so a repeated task refused again counts again;
                    // the saga does not retry OutOfStock, it rejects the order.
                    Metrics::new(crate::SERVICE)
                        .property("order_id", order_id)
                        .property("skus", skus.clone())
                        .count(STOCK_OUTS.name, 1)
                        .emit();
                    return Err(InventoryError::OutOfStock(skus));
                }
                Taken::OrderHasReservation => {
                    let reservation = self.stock.reservation(order_id).await?.ok_or_else(|| {
                        StoreError::Corrupt(format!("the reservation of {order_id} vanished"))
                    })?;
                    return Ok(reservation.reserve_again()?);
                }
                Taken::Contended => {
                    tracing::info!(order_id, "reservation lost a race; trying again");
                }
            }
        }
        Err(InventoryError::Contended)
    }

    /// Gives back what the order reserved, once. Releasing an order that reserved nothing
    /// records that, so a late reservation for it cannot take stock afterwards.
    pub async fn release(&self, order_id: &str) -> Result<Released, InventoryError> {
        for _ in 0..MAX_ATTEMPTS {
            match self.stock.reservation(order_id).await? {
                None => {
                    if self
                        .stock
                        .put_new(&Reservation::tombstone(order_id))
                        .await?
                    {
                        return Ok(Released::Nothing);
                    }
                    // A reservation arrived meanwhile: release that.
                }
                Some(reservation) => {
                    let Some(lines) = reservation.to_give_back() else {
                        return Ok(Released::Nothing);
                    };
                    if self.stock.give_back(order_id, lines).await? {
                        return Ok(Released::Now(lines.to_vec()));
                    }
                    // Another release won, or ran at the same moment: look again.
                }
            }
            tracing::info!(order_id, "release lost a race; trying again");
        }
        Err(InventoryError::Contended)
    }
}
