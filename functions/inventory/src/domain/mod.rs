//! Stock levels, reservations and the rules for them. No I/O here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Most units of one SKU the shop may hold: a typo guard.
pub const MAX_ON_HAND: i64 = 1_000_000;
/// Most units of one SKU in one order.
pub const MAX_QUANTITY: i64 = 1_000;

/// One SKU's stock. `available = on_hand - reserved` is stored too, because DynamoDB
/// conditions compare attributes with values but cannot compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Level {
    pub on_hand: i64,
    pub reserved: i64,
}

impl Level {
    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }
}

/// One line of a reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

/// Checks a SKU as the catalog writes them.
pub fn check_sku(sku: &str) -> Result<(), Invalid> {
    let valid = (3..=32).contains(&sku.len())
        && sku
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(Invalid {
            field: "sku".into(),
            message: "must be 3 to 32 characters of A-Z, 0-9 and '-'".into(),
        })
    }
}

pub fn check_on_hand(on_hand: i64) -> Result<(), Invalid> {
    if (0..=MAX_ON_HAND).contains(&on_hand) {
        Ok(())
    } else {
        Err(Invalid {
            field: "on_hand".into(),
            message: format!("must be 0 to {MAX_ON_HAND}"),
        })
    }
}

/// The lines of a reservation, one per SKU (repeated SKUs are added up), sorted so that
/// transactions on the same SKUs always list them in the same order.
pub fn normalise(lines: &[Line]) -> Result<Vec<Line>, Invalid> {
    if lines.is_empty() || lines.len() > 100 {
        return Err(Invalid {
            field: "lines".into(),
            message: "must have 1 to 100 lines".into(),
        });
    }
    let mut merged: BTreeMap<&str, i64> = BTreeMap::new();
    for (index, line) in lines.iter().enumerate() {
        check_sku(&line.sku).map_err(|e| Invalid {
            field: format!("lines[{index}].sku"),
            ..e
        })?;
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(Invalid {
                field: format!("lines[{index}].quantity"),
                message: format!("must be 1 to {MAX_QUANTITY}"),
            });
        }
        *merged.entry(&line.sku).or_default() += line.quantity;
    }
    Ok(merged
        .into_iter()
        .map(|(sku, quantity)| Line {
            sku: sku.to_owned(),
            quantity,
        })
        .collect())
}

/// Where an order's reservation stands. It is written once and released at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatus {
    Reserved,
    Released,
}

/// An order's hold on stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub order_id: String,
    pub status: ReservationStatus,
    pub lines: Vec<Line>,
}

/// How a reservation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    Now,
    /// The order had reserved already (a retried task).
    Already,
}

/// How a release ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// These lines went back to stock.
    Now(Vec<Line>),
    /// Nothing to give back: released before, or never reserved.
    Nothing,
}

/// Reserving for an order that has a reservation already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the order's reservation was released; it cannot reserve again")]
pub struct AlreadyReleased;

impl Reservation {
    /// A release recorded for an order that never reserved: it keeps a late reservation for
    /// the order (a saga task retried after its compensation) from taking stock afterwards.
    pub fn tombstone(order_id: &str) -> Self {
        Self {
            order_id: order_id.to_owned(),
            status: ReservationStatus::Released,
            lines: Vec::new(),
        }
    }

    /// The answer to reserving again: a retried task finds its own reservation and takes
    /// nothing more; a released order stays released.
    pub fn reserve_again(&self) -> Result<Reserved, AlreadyReleased> {
        match self.status {
            ReservationStatus::Reserved => Ok(Reserved::Already),
            ReservationStatus::Released => Err(AlreadyReleased),
        }
    }

    /// The lines a release gives back: all of them once, none after that.
    pub fn to_give_back(&self) -> Option<&[Line]> {
        (self.status == ReservationStatus::Reserved).then_some(self.lines.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, quantity: i64) -> Line {
        Line {
            sku: sku.into(),
            quantity,
        }
    }

    #[test]
    fn repeated_skus_are_added_up_and_lines_sorted() {
        let lines = normalise(&[line("MUG-1", 1), line("KETTLE-1", 2), line("MUG-1", 3)]).unwrap();
        assert_eq!(lines, [line("KETTLE-1", 2), line("MUG-1", 4)]);
    }

    #[test]
    fn bad_lines_name_the_field() {
        assert_eq!(normalise(&[]).unwrap_err().field, "lines");
        assert_eq!(
            normalise(&[line("ok-sku", 1)]).unwrap_err().field,
            "lines[0].sku"
        );
        assert_eq!(
            normalise(&[line("OK-1", 1), line("OK-2", 0)])
                .unwrap_err()
                .field,
            "lines[1].quantity"
        );
    }

    #[test]
    fn stock_levels_are_bounded() {
        assert!(check_on_hand(0).is_ok());
        assert!(check_on_hand(-1).is_err());
        assert!(check_on_hand(MAX_ON_HAND + 1).is_err());
    }

    #[test]
    fn a_reservation_is_taken_once_and_given_back_once() {
        let reserved = Reservation {
            order_id: "o-1".into(),
            status: ReservationStatus::Reserved,
            lines: vec![line("MUG-1", 2)],
        };
        assert_eq!(reserved.reserve_again(), Ok(Reserved::Already));
        assert_eq!(reserved.to_give_back(), Some(&[line("MUG-1", 2)][..]));

        let released = Reservation {
            status: ReservationStatus::Released,
            ..reserved
        };
        assert_eq!(released.reserve_again(), Err(AlreadyReleased));
        assert_eq!(released.to_give_back(), None);
    }

    #[test]
    fn a_release_before_any_reservation_blocks_one_later() {
        let tombstone = Reservation::tombstone("o-late");
        assert_eq!(tombstone.reserve_again(), Err(AlreadyReleased));
        assert_eq!(tombstone.to_give_back(), None);
    }

    #[test]
    fn available_is_on_hand_minus_reserved() {
        assert_eq!(
            Level {
                on_hand: 10,
                reserved: 4
            }
            .available(),
            6
        );
    }
}
