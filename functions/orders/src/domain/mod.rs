//! The order aggregate, as pure functions: `decide` turns a command and the current state into
//! events (or a refusal); `evolve` folds one event into the state. State is never stored, only
//! events; any state is the fold of the events so far.

mod order;
mod placement;

pub use order::{
    Address, CANCELLATION_PARTICIPANTS, Order, OrderCommand, OrderError, OrderEvent, OrderLine,
    OrderStatus, Recorded, decide, evolve, fold,
};
pub use placement::{LineRequest, PlacementError, Product, price_lines, shape_problems};
