//! The orders use cases. Commands load the order's events, fold them, decide, and append
//! with optimistic concurrency (retrying from fresh state a few times); queries read the read
//! model, except the audit trail and `as_of`, which read the event store.

use std::collections::HashMap;

use shop_http::Caller;
use shop_observability::{
    Metrics,
    metric_names::{
        COMPENSATIONS, CURRENCY, ORDERS_CANCELLED, ORDERS_CONFIRMED, ORDERS_PLACED,
        ORDERS_REJECTED, REASON, REVENUE, STEP,
    },
};
use time::OffsetDateTime;

use crate::{
    adapters::{
        AppendError, CardTokenSealer, EventStore, IdempotencyClaim, OrderView, ProductCopies,
        ReadModel, SealError, StoreError, StoredEvent,
    },
    domain::{
        Address, LineRequest, Order, OrderCommand, OrderError, OrderEvent, decide, fold,
        price_lines, shape_problems,
    },
};

/// How often a command is decided again after losing a race, before it answers 409.
pub const MAX_ATTEMPTS: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    #[error("invalid order")]
    Invalid(Vec<(String, String)>),
    /// Unknown, or not the caller's: the two look the same from outside.
    #[error("no such order")]
    NotFound,
    #[error(transparent)]
    Refused(OrderError),
    #[error("the order kept changing; retry")]
    Conflict,
    #[error("this Idempotency-Key was used for a different request")]
    KeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot seal the card token")]
    Sealing(#[source] SealError),
}

/// A new order as the customer asked for it.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    pub lines: Vec<LineRequest>,
    pub shipping_address: Address,
    /// The card token in clear, as the customer sent it: it is sealed for payments before
    /// the order is stored, and exists in clear only in this request's memory.
    pub card_token: String,
    /// The `Idempotency-Key` and the hash of the request body.
    pub idempotency: Option<(String, String)>,
}

/// The answer to a placement: the order, and whether this request placed it or replayed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub order_id: String,
    pub replayed: bool,
}

#[derive(Debug, Clone)]
pub struct Orders {
    pub store: EventStore,
    pub views: ReadModel,
    pub products: ProductCopies,
}

impl Orders {
    /// Places an order. Its card token is sealed with `card_tokens` under the new order's id,
    /// and only the sealed token is stored.
    pub async fn place(
        &self,
        card_tokens: &CardTokenSealer,
        customer_id: &str,
        request: PlaceOrder,
        causation_id: &str,
    ) -> Result<Placed, OrdersError> {
        let now = OffsetDateTime::now_utc();
        let claim = request
            .idempotency
            .as_ref()
            .map(|(key, hash)| IdempotencyClaim {
                key: format!("{customer_id}#{key}"),
                request_hash: hash.clone(),
            });
        // Everything the request shows by itself is checked before any I/O: a request that
        // cannot be placed costs no lookups.
        let mut invalid = address_problems(&request.shipping_address);
        invalid.extend(card_token_problems(&request.card_token));
        let shape = shape_problems(&request.lines);
        if !shape.is_empty() {
            invalid.extend(shape);
            return Err(OrdersError::Invalid(invalid));
        }
        if let Some(claim) = &claim
            && let Some(placed) = self.replay(claim, now).await?
        {
            return Ok(placed);
        }

        let ids: Vec<String> = request.lines.iter().map(|l| l.product_id.clone()).collect();
        let products = self.products.get_many(&ids).await?;
        let priced = price_lines(&request.lines, &products).map_err(|e| {
            invalid.extend(e.0.clone());
        });
        let (Ok((lines, currency)), true) = (priced, invalid.is_empty()) else {
            return Err(OrdersError::Invalid(invalid));
        };

        let order_id = uuid::Uuid::new_v4().to_string();
        let card_token_ciphertext = card_tokens
            .seal(&order_id, &request.card_token)
            .await
            .map_err(OrdersError::Sealing)?;
        let command = OrderCommand::Place {
            customer_id: customer_id.to_owned(),
            lines,
            currency,
            shipping_address: request.shipping_address,
            card_token_ciphertext,
        };
        let events = decide(None, command).map_err(OrdersError::Refused)?;
        let stored = stored_events(&order_id, customer_id, 0, &events, causation_id, now);
        match self.store.append(&stored, claim.as_ref()).await {
            Ok(()) => {
                // Here only: a replayed key returned above, and a lost claim below, placed
                // nothing.
                Metrics::new(crate::SERVICE)
                    .property("order_id", order_id.as_str())
                    .count(ORDERS_PLACED.name, 1)
                    .emit();
                Ok(Placed {
                    order_id,
                    replayed: false,
                })
            }
            // A new order's id is fresh, so the race was over the key: a concurrent request
            // with the same key won the claim (or is writing it); answer as it did, or 409
            // while it is still in flight.
            Err(AppendError::KeyClaimed | AppendError::Conflict) => match claim {
                Some(claim) => self.replay(&claim, now).await?.ok_or(OrdersError::Conflict),
                None => Err(OrdersError::Conflict),
            },
            Err(AppendError::Store(error)) => Err(error.into()),
        }
    }

    async fn replay(
        &self,
        claim: &IdempotencyClaim,
        now: OffsetDateTime,
    ) -> Result<Option<Placed>, OrdersError> {
        match self.store.claimed(&claim.key, now).await? {
            Some((order_id, hash)) if hash == claim.request_hash => Ok(Some(Placed {
                order_id,
                replayed: true,
            })),
            Some(_) => Err(OrdersError::KeyReused),
            None => Ok(None),
        }
    }

    /// Runs a command on an order: decide on the current state, append; on losing a race,
    /// decide again on the new state, up to [`MAX_ATTEMPTS`] times.
    pub async fn execute(
        &self,
        order_id: &str,
        command: &OrderCommand,
        causation_id: &str,
    ) -> Result<Order, OrdersError> {
        for _ in 0..MAX_ATTEMPTS {
            let history = self.store.load(order_id, None).await?;
            let recorded = history
                .iter()
                .map(StoredEvent::recorded)
                .collect::<Result<Vec<_>, _>>()?;
            let state = fold(order_id, &recorded);
            let events = decide(state.as_ref(), command.clone()).map_err(|error| match error {
                OrderError::NotFound => OrdersError::NotFound,
                other => OrdersError::Refused(other),
            })?;
            let Some(order) = state else {
                return Err(OrdersError::NotFound);
            };
            if events.is_empty() {
                return Ok(order);
            }
            let stored = stored_events(
                order_id,
                &order.customer_id,
                order.version,
                &events,
                causation_id,
                OffsetDateTime::now_utc(),
            );
            match self.store.append(&stored, None).await {
                Ok(()) => {
                    let all: Vec<_> = recorded
                        .into_iter()
                        .chain(
                            stored
                                .iter()
                                .map(StoredEvent::recorded)
                                .collect::<Result<Vec<_>, _>>()?,
                        )
                        .collect();
                    let order = fold(order_id, &all).ok_or(OrdersError::NotFound)?;
                    count_stored(&order, &events);
                    return Ok(order);
                }
                Err(AppendError::Conflict) => {
                    tracing::info!(order_id, "lost a race to another command; deciding again");
                }
                Err(AppendError::KeyClaimed) => return Err(OrdersError::Conflict),
                Err(AppendError::Store(error)) => return Err(error.into()),
            }
        }
        Err(OrdersError::Conflict)
    }

    /// The order as its events fold now (the event store, not the eventually consistent view).
    pub async fn current(&self, order_id: &str) -> Result<Order, OrdersError> {
        let recorded = self
            .store
            .load(order_id, None)
            .await?
            .iter()
            .map(StoredEvent::recorded)
            .collect::<Result<Vec<_>, _>>()?;
        fold(order_id, &recorded).ok_or(OrdersError::NotFound)
    }

    /// Cancels the caller's order (or any, for an admin).
    pub async fn cancel(
        &self,
        caller: &Caller,
        order_id: &str,
        causation_id: &str,
    ) -> Result<Order, OrdersError> {
        self.owned_history(caller, order_id, None).await?;
        let reason = if caller.is_admin() {
            "cancelled by an admin"
        } else {
            "cancelled by the customer"
        };
        self.execute(
            order_id,
            &OrderCommand::Cancel {
                reason: reason.to_owned(),
            },
            causation_id,
        )
        .await
    }

    /// The read model's view of an order the caller may see.
    pub async fn view(&self, caller: &Caller, order_id: &str) -> Result<OrderView, OrdersError> {
        if !is_order_id(order_id) {
            return Err(OrdersError::NotFound);
        }
        match self.views.get(order_id).await? {
            Some(view) if caller.is_admin() || view.customer_id == caller.user_id => Ok(view),
            _ => Err(OrdersError::NotFound),
        }
    }

    /// A page of the caller's orders. A cursor is the index position DynamoDB returned; one
    /// naming another customer's orders or keys the index does not have is refused here, as
    /// DynamoDB would only fail on it.
    pub async fn list(
        &self,
        caller: &Caller,
        limit: u32,
        after: Option<HashMap<String, String>>,
    ) -> Result<(Vec<OrderView>, Option<HashMap<String, String>>), OrdersError> {
        if let Some(after) = &after {
            let mut keys: Vec<&str> = after.keys().map(String::as_str).collect();
            keys.sort_unstable();
            let in_callers_list = keys == ["customer_id", "order_id", "placed_key"]
                && after["customer_id"] == caller.user_id
                && is_order_id(&after["order_id"]);
            if !in_callers_list {
                return Err(OrdersError::Invalid(vec![(
                    "cursor".to_owned(),
                    "is not a cursor of this list".to_owned(),
                )]));
            }
        }
        Ok(self.views.list(&caller.user_id, limit, after).await?)
    }

    /// The order's events (the first `up_to` of them when given), if the caller may see it.
    pub async fn owned_history(
        &self,
        caller: &Caller,
        order_id: &str,
        up_to: Option<u64>,
    ) -> Result<Vec<StoredEvent>, OrdersError> {
        if !is_order_id(order_id) {
            return Err(OrdersError::NotFound);
        }
        let events = self.store.load(order_id, up_to).await?;
        match events.first() {
            Some(first) if caller.is_admin() || first.customer_id == caller.user_id => Ok(events),
            _ => Err(OrdersError::NotFound),
        }
    }

    /// The order as it was after its first `n` events.
    pub async fn as_of(
        &self,
        caller: &Caller,
        order_id: &str,
        n: u64,
    ) -> Result<Order, OrdersError> {
        if n == 0 {
            return Err(OrdersError::Invalid(vec![(
                "as_of".to_owned(),
                "must be 1 or more".to_owned(),
            )]));
        }
        let events = self.owned_history(caller, order_id, Some(n)).await?;
        let recorded = events
            .iter()
            .map(StoredEvent::recorded)
            .collect::<Result<Vec<_>, _>>()?;
        fold(order_id, &recorded).ok_or(OrdersError::NotFound)
    }
}

/// Counts what `events`, just stored for `order` (as it is after them), made true. A command
/// that had taken effect already stores no events, so a retried saga task or a redelivered
/// message counts nothing; a crash between the write and this leaves a fact uncounted rather
/// than counted twice.
fn count_stored(order: &Order, events: &[OrderEvent]) {
    for event in events {
        let metrics = Metrics::new(crate::SERVICE).property("order_id", order.id.as_str());
        match event {
            OrderEvent::OrderConfirmed {} => {
                metrics.clone().count(ORDERS_CONFIRMED.name, 1).emit();
                // A document of its own: its currency would otherwise be a dimension of the
                // confirmation count too.
                metrics
                    .dimension(CURRENCY, &order.currency)
                    .amount(REVENUE.name, order.total_cents)
                    .emit();
            }
            OrderEvent::OrderRejected { reason } => {
                metrics
                    .clone()
                    .dimension(REASON, reason_dimension(reason))
                    .count(ORDERS_REJECTED.name, 1)
                    .emit();
                // Only the saga's RejectOrder step rejects an order, always as a compensation.
                metrics
                    .dimension(STEP, "RejectOrder")
                    .count(COMPENSATIONS.name, 1)
                    .emit();
            }
            OrderEvent::OrderCancelled { .. } => {
                metrics.count(ORDERS_CANCELLED.name, 1).emit();
            }
            // Placing is counted by `place`; shipments by shipping, which schedules them; the
            // cancellation's answers are no business figure.
            OrderEvent::OrderPlaced { .. }
            | OrderEvent::OrderShipped { .. }
            | OrderEvent::CancellationAcknowledged { .. }
            | OrderEvent::OrderCancellationCompleted {} => {}
        }
    }
}

/// A rejection's reason as a metric dimension. The saga rejects with the error type it caught
/// (`OutOfStock`, `PaymentDeclined`, `States.Timeout`): names from a small set. Any other text
/// is `Other`, since every distinct value would be a metric of its own, billed as one.
fn reason_dimension(reason: &str) -> &str {
    let is_error_type = (1..=64).contains(&reason.len())
        && reason
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
    if is_error_type { reason } else { "Other" }
}

/// The store items of `events`, numbered after `version`, as they happened `now`.
fn stored_events(
    order_id: &str,
    customer_id: &str,
    version: u64,
    events: &[crate::domain::OrderEvent],
    causation_id: &str,
    now: OffsetDateTime,
) -> Vec<StoredEvent> {
    events
        .iter()
        .zip(version + 1..)
        .map(|(event, sequence)| {
            let json = serde_json::to_value(event).expect("events serialise");
            StoredEvent {
                order_id: order_id.to_owned(),
                sequence,
                event_type: event.type_name().to_owned(),
                data: json["data"].to_string(),
                occurred_at: now,
                customer_id: customer_id.to_owned(),
                correlation_id: order_id.to_owned(),
                causation_id: causation_id.to_owned(),
            }
        })
        .collect()
}

/// Order ids are UUIDs: anything else names no order and is answered without a lookup.
fn is_order_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok()
}

/// Card tokens are the provider's opaque ids, short and printable.
pub const MAX_CARD_TOKEN_LEN: usize = 128;

fn card_token_problems(token: &str) -> Option<(String, String)> {
    let message = if token.trim().is_empty() {
        "is required".to_owned()
    } else if token.len() > MAX_CARD_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
        format!("must be at most {MAX_CARD_TOKEN_LEN} printable ASCII characters")
    } else {
        return None;
    };
    Some(("payment.card_token".to_owned(), message))
}

fn address_problems(address: &Address) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (field, value, max) in [
        ("name", &address.name, 100),
        ("line1", &address.line1, 200),
        ("postal_code", &address.postal_code, 20),
        ("city", &address.city, 100),
    ] {
        let length = value.trim().chars().count();
        if length == 0 || length > max {
            problems.push((
                format!("shipping_address.{field}"),
                format!("must be 1 to {max} characters"),
            ));
        }
    }
    // A label printer or a log viewer must not be steered by what a customer typed.
    for (field, value) in [
        ("name", Some(&address.name)),
        ("line1", Some(&address.line1)),
        ("line2", address.line2.as_ref()),
        ("postal_code", Some(&address.postal_code)),
        ("city", Some(&address.city)),
    ] {
        if value.is_some_and(|v| v.chars().any(char::is_control)) {
            problems.push((
                format!("shipping_address.{field}"),
                "must not contain control characters".to_owned(),
            ));
        }
    }
    if address
        .line2
        .as_ref()
        .is_some_and(|l| l.chars().count() > 200)
    {
        problems.push((
            "shipping_address.line2".to_owned(),
            "must be at most 200 characters".to_owned(),
        ));
    }
    if !(address.country.len() == 2 && address.country.bytes().all(|b| b.is_ascii_uppercase())) {
        problems.push((
            "shipping_address.country".to_owned(),
            "must be an ISO 3166-1 alpha-2 code like DE".to_owned(),
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejection_is_counted_under_its_error_type_and_any_other_text_as_other() {
        for error_type in [
            "OutOfStock",
            "PaymentDeclined",
            "States.Timeout",
            "Runtime.ExitError",
        ] {
            assert_eq!(reason_dimension(error_type), error_type);
        }
        for text in [
            "",
            "payment declined by the bank",
            "Out-Of-Stock",
            &"X".repeat(65),
        ] {
            assert_eq!(reason_dimension(text), "Other", "{text:?}");
        }
    }
}
