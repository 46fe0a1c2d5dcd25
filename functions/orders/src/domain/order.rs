use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Rejected,
    Shipped,
    Cancelled,
}

impl OrderStatus {
    /// The status as the API and the events spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Confirmed => "CONFIRMED",
            Self::Rejected => "REJECTED",
            Self::Shipped => "SHIPPED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub unit_price_cents: i64,
    pub quantity: u32,
}

impl OrderLine {
    pub fn total_cents(&self) -> i64 {
        self.unit_price_cents * i64::from(self.quantity)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub name: String,
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// What happened to an order. The serialised names are the event types.
// Events live briefly, one at a time; boxing the large variant would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum OrderEvent {
    OrderPlaced {
        customer_id: String,
        lines: Vec<OrderLine>,
        currency: String,
        total_cents: i64,
        shipping_address: Address,
        /// The card token as orders sealed it for payments (a KMS ciphertext, base64, bound
        /// to this order); orders itself cannot read it, and the token is stored nowhere in
        /// clear. Absent only from OrderPlaced events stored before tokens were sealed, which
        /// carried the token itself as `card_token`: those still fold (nothing here reads
        /// either field) and no longer start a saga (see docs/services/orders.md).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        card_token_ciphertext: Option<String>,
    },
    OrderConfirmed {},
    OrderRejected {
        reason: String,
    },
    OrderShipped {
        shipment_id: String,
    },
    OrderCancelled {
        reason: String,
    },
    /// A service undid its part of a cancelled order (released stock, refunded, cancelled
    /// the shipment).
    CancellationAcknowledged {
        by: String,
    },
    /// Every participant has undone its part.
    OrderCancellationCompleted {},
}

/// The services that must undo their part of a cancelled order.
pub const CANCELLATION_PARTICIPANTS: [&str; 3] = ["inventory", "payments", "shipping"];

impl OrderEvent {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::OrderPlaced { .. } => "OrderPlaced",
            Self::OrderConfirmed {} => "OrderConfirmed",
            Self::OrderRejected { .. } => "OrderRejected",
            Self::OrderShipped { .. } => "OrderShipped",
            Self::OrderCancelled { .. } => "OrderCancelled",
            Self::CancellationAcknowledged { .. } => "CancellationAcknowledged",
            Self::OrderCancellationCompleted {} => "OrderCancellationCompleted",
        }
    }
}

/// An event as the store keeps it: numbered within its order and timestamped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub sequence: u64,
    pub occurred_at: OffsetDateTime,
    pub event: OrderEvent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: String,
    pub customer_id: String,
    pub lines: Vec<OrderLine>,
    pub currency: String,
    pub total_cents: i64,
    pub shipping_address: Address,
    pub status: OrderStatus,
    pub reason: Option<String>,
    pub shipment_id: Option<String>,
    /// Participants that have undone their part of a cancellation, in order of answer.
    pub cancellation_acknowledged_by: Vec<String>,
    pub cancellation_complete: bool,
    /// The sequence of the last event folded in.
    pub version: u64,
    pub placed_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl OrderStatus {
    /// Whether an order in this status was confirmed: its stock and payment are its own, and
    /// only a cancellation, never the placing saga's compensation, gives them back.
    pub fn was_confirmed(self) -> bool {
        matches!(self, Self::Confirmed | Self::Shipped | Self::Cancelled)
    }
}

// Commands live briefly, one at a time; boxing the large variant would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCommand {
    Place {
        customer_id: String,
        lines: Vec<OrderLine>,
        currency: String,
        shipping_address: Address,
        /// The card token sealed for payments; see [`OrderEvent::OrderPlaced`].
        card_token_ciphertext: String,
    },
    Confirm,
    Reject {
        reason: String,
    },
    Ship {
        shipment_id: String,
    },
    Cancel {
        reason: String,
    },
    /// A participant reports it has undone its part of the cancellation.
    AcknowledgeCancellation {
        by: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("the order already exists")]
    AlreadyPlaced,
    #[error("no such order")]
    NotFound,
    #[error("an order that is {status:?} cannot be {action}")]
    InvalidTransition {
        status: OrderStatus,
        action: &'static str,
    },
}

/// The events a command produces on `state`. Repeating a command that already took effect
/// produces nothing (saga tasks and bus messages arrive more than once).
pub fn decide(state: Option<&Order>, command: OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
    use OrderStatus::{Cancelled, Confirmed, Pending, Rejected, Shipped};
    let Some(order) = state else {
        return match command {
            OrderCommand::Place {
                customer_id,
                lines,
                currency,
                shipping_address,
                card_token_ciphertext,
            } => Ok(vec![OrderEvent::OrderPlaced {
                total_cents: lines.iter().map(OrderLine::total_cents).sum(),
                customer_id,
                lines,
                currency,
                shipping_address,
                card_token_ciphertext: Some(card_token_ciphertext),
            }]),
            _ => Err(OrderError::NotFound),
        };
    };
    match (command, order.status) {
        (OrderCommand::Place { .. }, _) => Err(OrderError::AlreadyPlaced),
        (OrderCommand::Confirm, Pending) => Ok(vec![OrderEvent::OrderConfirmed {}]),
        (OrderCommand::Reject { reason }, Pending) => {
            Ok(vec![OrderEvent::OrderRejected { reason }])
        }
        (OrderCommand::Ship { shipment_id }, Confirmed) => {
            Ok(vec![OrderEvent::OrderShipped { shipment_id }])
        }
        (OrderCommand::Cancel { reason }, Confirmed) => {
            Ok(vec![OrderEvent::OrderCancelled { reason }])
        }
        (OrderCommand::AcknowledgeCancellation { by }, Cancelled) => {
            if order.cancellation_acknowledged_by.contains(&by) {
                return Ok(vec![]);
            }
            let complete = CANCELLATION_PARTICIPANTS
                .iter()
                .all(|p| *p == by || order.cancellation_acknowledged_by.iter().any(|a| a == p));
            let mut events = vec![OrderEvent::CancellationAcknowledged { by }];
            if complete {
                events.push(OrderEvent::OrderCancellationCompleted {});
            }
            Ok(events)
        }
        // A repeated command that already took effect changes nothing.
        (OrderCommand::Confirm, Confirmed | Shipped)
        | (OrderCommand::Reject { .. }, Rejected)
        | (OrderCommand::Ship { .. }, Shipped)
        | (OrderCommand::Cancel { .. }, Cancelled) => Ok(vec![]),
        (command, status) => Err(OrderError::InvalidTransition {
            status,
            action: command.action(),
        }),
    }
}

impl OrderCommand {
    /// The command as a past participle, for refusals: "cannot be confirmed".
    fn action(&self) -> &'static str {
        match self {
            Self::Place { .. } => "placed",
            Self::Confirm => "confirmed",
            Self::Reject { .. } => "rejected",
            Self::Ship { .. } => "shipped",
            Self::Cancel { .. } => "cancelled",
            Self::AcknowledgeCancellation { .. } => "acknowledged as cancelled",
        }
    }
}

/// The state after one more event. `OrderPlaced` starts an order; any other event on no order
/// is ignored (the store never holds one, and a fold must not panic on data).
pub fn evolve(state: Option<Order>, order_id: &str, recorded: &Recorded) -> Option<Order> {
    let at = recorded.occurred_at;
    let mut order = match (&recorded.event, state) {
        (
            OrderEvent::OrderPlaced {
                customer_id,
                lines,
                currency,
                total_cents,
                shipping_address,
                ..
            },
            _,
        ) => Order {
            id: order_id.to_owned(),
            customer_id: customer_id.clone(),
            lines: lines.clone(),
            currency: currency.clone(),
            total_cents: *total_cents,
            shipping_address: shipping_address.clone(),
            status: OrderStatus::Pending,
            reason: None,
            shipment_id: None,
            cancellation_acknowledged_by: Vec::new(),
            cancellation_complete: false,
            version: 0,
            placed_at: at,
            updated_at: at,
        },
        (_, None) => return None,
        (OrderEvent::OrderConfirmed {}, Some(order)) => Order {
            status: OrderStatus::Confirmed,
            ..order
        },
        (OrderEvent::OrderRejected { reason }, Some(order)) => Order {
            status: OrderStatus::Rejected,
            reason: Some(reason.clone()),
            ..order
        },
        (OrderEvent::OrderShipped { shipment_id }, Some(order)) => Order {
            status: OrderStatus::Shipped,
            shipment_id: Some(shipment_id.clone()),
            ..order
        },
        (OrderEvent::OrderCancelled { reason }, Some(order)) => Order {
            status: OrderStatus::Cancelled,
            reason: Some(reason.clone()),
            ..order
        },
        (OrderEvent::CancellationAcknowledged { by }, Some(mut order)) => {
            order.cancellation_acknowledged_by.push(by.clone());
            order
        }
        (OrderEvent::OrderCancellationCompleted {}, Some(order)) => Order {
            cancellation_complete: true,
            ..order
        },
    };
    order.version = recorded.sequence;
    order.updated_at = at;
    Some(order)
}

/// The state after all of `events`, in order.
pub fn fold<'a>(order_id: &str, events: impl IntoIterator<Item = &'a Recorded>) -> Option<Order> {
    events
        .into_iter()
        .fold(None, |state, recorded| evolve(state, order_id, recorded))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_status_is_spelt_as_it_is_serialised() {
        use OrderStatus::{Cancelled, Confirmed, Pending, Rejected, Shipped};
        for status in [Pending, Confirmed, Rejected, Shipped, Cancelled] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }

    fn line(quantity: u32, unit_price_cents: i64) -> OrderLine {
        OrderLine {
            product_id: "p-1".into(),
            sku: "KETTLE-1L".into(),
            name: "Kettle".into(),
            unit_price_cents,
            quantity,
        }
    }

    fn address() -> Address {
        Address {
            name: "Ada".into(),
            line1: "1 Main St".into(),
            line2: None,
            postal_code: "10115".into(),
            city: "Berlin".into(),
            country: "DE".into(),
        }
    }

    fn place() -> OrderCommand {
        OrderCommand::Place {
            customer_id: "c-1".into(),
            lines: vec![line(2, 1000), line(1, 250)],
            currency: "EUR".into(),
            shipping_address: address(),
            card_token_ciphertext: "c2VhbGVk".into(),
        }
    }

    /// The order after applying `commands` one by one, each decided on the state so far.
    fn run(commands: Vec<OrderCommand>) -> Option<Order> {
        let mut events = Vec::new();
        for command in commands {
            let state = fold("o-1", &events);
            for event in decide(state.as_ref(), command).unwrap() {
                events.push(Recorded {
                    sequence: u64::try_from(events.len()).unwrap() + 1,
                    occurred_at: datetime!(2026-11-27 10:00 UTC)
                        + time::Duration::minutes(i64::try_from(events.len()).unwrap()),
                    event,
                });
            }
        }
        fold("o-1", &events)
    }

    fn in_status(status: OrderStatus) -> Order {
        let commands = match status {
            OrderStatus::Pending => vec![place()],
            OrderStatus::Confirmed => vec![place(), OrderCommand::Confirm],
            OrderStatus::Rejected => vec![
                place(),
                OrderCommand::Reject {
                    reason: "OutOfStock".into(),
                },
            ],
            OrderStatus::Shipped => vec![
                place(),
                OrderCommand::Confirm,
                OrderCommand::Ship {
                    shipment_id: "s-1".into(),
                },
            ],
            OrderStatus::Cancelled => vec![
                place(),
                OrderCommand::Confirm,
                OrderCommand::Cancel {
                    reason: "customer".into(),
                },
            ],
        };
        run(commands).unwrap()
    }

    #[test]
    fn an_order_was_confirmed_once_it_is_confirmed_shipped_or_cancelled() {
        use OrderStatus::{Cancelled, Confirmed, Pending, Rejected, Shipped};
        for (status, confirmed) in [
            (Pending, false),
            (Confirmed, true),
            (Rejected, false),
            (Shipped, true),
            (Cancelled, true),
        ] {
            assert_eq!(
                in_status(status).status.was_confirmed(),
                confirmed,
                "{status:?}"
            );
        }
    }

    #[test]
    fn placing_computes_the_total_and_starts_pending_at_version_one() {
        let order = run(vec![place()]).unwrap();
        assert_eq!(order.status, OrderStatus::Pending);
        assert_eq!(order.total_cents, 2250);
        assert_eq!(order.version, 1);
        assert_eq!(order.placed_at, order.updated_at);
    }

    #[test]
    fn every_state_is_reachable_with_its_details() {
        assert_eq!(in_status(OrderStatus::Confirmed).version, 2);
        let rejected = in_status(OrderStatus::Rejected);
        assert_eq!(rejected.reason.as_deref(), Some("OutOfStock"));
        let shipped = in_status(OrderStatus::Shipped);
        assert_eq!(
            (shipped.shipment_id.as_deref(), shipped.version),
            (Some("s-1"), 3)
        );
        let cancelled = in_status(OrderStatus::Cancelled);
        assert_eq!(cancelled.reason.as_deref(), Some("customer"));
        assert!(cancelled.updated_at > cancelled.placed_at);
    }

    #[test]
    fn a_second_placement_is_refused() {
        for status in [
            OrderStatus::Pending,
            OrderStatus::Confirmed,
            OrderStatus::Shipped,
        ] {
            assert_eq!(
                decide(Some(&in_status(status)), place()),
                Err(OrderError::AlreadyPlaced)
            );
        }
    }

    #[test]
    fn commands_on_no_order_are_not_found() {
        for command in [
            OrderCommand::Confirm,
            OrderCommand::Reject { reason: "x".into() },
            OrderCommand::Ship {
                shipment_id: "s".into(),
            },
            OrderCommand::Cancel { reason: "x".into() },
        ] {
            assert_eq!(decide(None, command), Err(OrderError::NotFound));
        }
    }

    /// What a command does to an order in some state.
    enum Expect {
        Event(&'static str),
        NoOp,
        Refused,
    }

    /// For every state and every non-placing command: the event it yields, a no-op, or a refusal.
    #[test]
    fn the_transition_table() {
        use OrderStatus::{Cancelled, Confirmed, Pending, Rejected, Shipped};
        let commands = || {
            [
                ("confirm", OrderCommand::Confirm),
                ("reject", OrderCommand::Reject { reason: "r".into() }),
                (
                    "ship",
                    OrderCommand::Ship {
                        shipment_id: "s-2".into(),
                    },
                ),
                ("cancel", OrderCommand::Cancel { reason: "c".into() }),
                (
                    "acknowledge",
                    OrderCommand::AcknowledgeCancellation {
                        by: "shipping".into(),
                    },
                ),
            ]
        };
        let expected: &[(OrderStatus, &str, Expect)] = &[
            (Pending, "confirm", Expect::Event("OrderConfirmed")),
            (Pending, "reject", Expect::Event("OrderRejected")),
            (Pending, "ship", Expect::Refused),
            (Pending, "cancel", Expect::Refused),
            (Confirmed, "confirm", Expect::NoOp),
            (Confirmed, "reject", Expect::Refused),
            (Confirmed, "ship", Expect::Event("OrderShipped")),
            (Confirmed, "cancel", Expect::Event("OrderCancelled")),
            (Rejected, "confirm", Expect::Refused),
            (Rejected, "reject", Expect::NoOp),
            (Rejected, "ship", Expect::Refused),
            (Rejected, "cancel", Expect::Refused),
            (Shipped, "confirm", Expect::NoOp),
            (Shipped, "reject", Expect::Refused),
            (Shipped, "ship", Expect::NoOp),
            (Shipped, "cancel", Expect::Refused),
            (Cancelled, "confirm", Expect::Refused),
            (Cancelled, "reject", Expect::Refused),
            (Cancelled, "ship", Expect::Refused),
            (Cancelled, "cancel", Expect::NoOp),
            (Pending, "acknowledge", Expect::Refused),
            (Confirmed, "acknowledge", Expect::Refused),
            (Rejected, "acknowledge", Expect::Refused),
            (Shipped, "acknowledge", Expect::Refused),
            (
                Cancelled,
                "acknowledge",
                Expect::Event("CancellationAcknowledged"),
            ),
        ];
        for (status, name, outcome) in expected {
            let order = in_status(*status);
            let command = commands().into_iter().find(|(n, _)| n == name).unwrap().1;
            let decided = decide(Some(&order), command);
            match outcome {
                Expect::Event(event_type) => {
                    let events = decided.unwrap();
                    assert_eq!(events.len(), 1, "{status:?} {name}");
                    assert_eq!(events[0].type_name(), *event_type, "{status:?} {name}");
                }
                Expect::NoOp => assert_eq!(decided, Ok(vec![]), "{status:?} {name} is a no-op"),
                Expect::Refused => assert!(
                    matches!(decided, Err(OrderError::InvalidTransition { status: s, .. }) if s == *status),
                    "{status:?} {name} must be refused, got {decided:?}"
                ),
            }
        }
        assert_eq!(expected.len(), 5 * 5, "every state × command is listed");
    }

    #[test]
    fn a_cancellation_completes_when_every_participant_has_answered_once() {
        let acknowledge = |by: &str| OrderCommand::AcknowledgeCancellation { by: by.into() };
        let mut commands = vec![
            place(),
            OrderCommand::Confirm,
            OrderCommand::Cancel { reason: "c".into() },
        ];
        commands.extend([
            acknowledge("payments"),
            acknowledge("payments"),
            acknowledge("shipping"),
        ]);
        let partly = run(commands.clone()).unwrap();
        assert_eq!(
            partly.cancellation_acknowledged_by,
            ["payments", "shipping"]
        );
        assert!(!partly.cancellation_complete);
        commands.push(acknowledge("inventory"));
        let done = run(commands).unwrap();
        assert!(done.cancellation_complete);
        assert_eq!(
            (done.status, done.version),
            (OrderStatus::Cancelled, 7),
            "ack, ack, ack + completed"
        );
    }

    #[test]
    fn events_before_a_placement_fold_to_nothing() {
        let stray = Recorded {
            sequence: 1,
            occurred_at: datetime!(2026-11-27 10:00 UTC),
            event: OrderEvent::OrderConfirmed {},
        };
        assert_eq!(fold("o-1", [&stray]), None);
    }

    #[test]
    fn an_order_placed_before_tokens_were_sealed_still_folds_and_keeps_no_token() {
        let stored = serde_json::json!({"type": "OrderPlaced", "data": {
            "customer_id": "c-1", "lines": [serde_json::to_value(line(1, 500)).unwrap()],
            "currency": "EUR", "total_cents": 500,
            "shipping_address": serde_json::to_value(address()).unwrap(),
            "card_token": "tok_visa"
        }});
        let event: OrderEvent = serde_json::from_value(stored).unwrap();
        let OrderEvent::OrderPlaced {
            card_token_ciphertext,
            ..
        } = &event
        else {
            panic!("{event:?}");
        };
        assert_eq!(card_token_ciphertext, &None);
        let recorded = Recorded {
            sequence: 1,
            occurred_at: datetime!(2026-11-27 10:00 UTC),
            event: event.clone(),
        };
        assert_eq!(fold("o-1", [&recorded]).unwrap().total_cents, 500);
        let again = serde_json::to_string(&event).unwrap();
        assert!(!again.contains("card_token"), "{again}");
    }

    #[test]
    fn a_placement_records_the_sealed_token_it_was_given() {
        let events = decide(None, place()).unwrap();
        let json = serde_json::to_value(&events[0]).unwrap();
        assert_eq!(json["data"]["card_token_ciphertext"], "c2VhbGVk");
        assert!(json["data"].get("card_token").is_none());
    }

    #[test]
    fn events_serialise_with_their_type_name() {
        let json = serde_json::to_value(OrderEvent::OrderRejected {
            reason: "OutOfStock".into(),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "OrderRejected", "data": {"reason": "OutOfStock"}})
        );
        let json = serde_json::to_value(OrderEvent::OrderConfirmed {}).unwrap();
        assert_eq!(json["type"], "OrderConfirmed");
    }
}
