//! Turning the lines a customer asked for into priced order lines, from orders' own copy of
//! the catalog (kept current by the catalog's events).

use std::{
    collections::{HashMap, HashSet},
    hash::BuildHasher,
};

use super::OrderLine;

pub const MAX_LINES: usize = 50;
pub const MAX_QUANTITY: i64 = 100;

/// One line as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRequest {
    pub product_id: String,
    pub quantity: i64,
}

/// A product as orders knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub price_cents: i64,
    pub currency: String,
    pub active: bool,
}

/// Every problem with the requested lines, as (field, message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the order's lines are invalid")]
pub struct PlacementError(pub Vec<(String, String)>);

/// Problems the request shows by itself: too many or too few lines, or a product id that is
/// not a catalog id (a UUID). Checked before any product is looked up, so a request costs at
/// most `MAX_LINES` lookups whatever its size.
pub fn shape_problems(requests: &[LineRequest]) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if requests.is_empty() || requests.len() > MAX_LINES {
        problems.push((
            "items".to_owned(),
            format!("must have 1 to {MAX_LINES} lines"),
        ));
        return problems;
    }
    for (index, request) in requests.iter().enumerate() {
        if uuid::Uuid::try_parse(&request.product_id).is_err() {
            problems.push((
                format!("items[{index}].product_id"),
                "is not a product id".to_owned(),
            ));
        }
    }
    problems
}

/// The priced lines and their currency, or every problem found.
pub fn price_lines<S: BuildHasher>(
    requests: &[LineRequest],
    products: &HashMap<String, Product, S>,
) -> Result<(Vec<OrderLine>, String), PlacementError> {
    let mut problems = Vec::new();
    if requests.is_empty() || requests.len() > MAX_LINES {
        problems.push((
            "items".to_owned(),
            format!("must have 1 to {MAX_LINES} lines"),
        ));
    }
    let mut seen = HashSet::new();
    let mut lines = Vec::new();
    let mut currencies = HashSet::new();
    for (index, request) in requests.iter().enumerate() {
        let field = |name: &str| format!("items[{index}].{name}");
        if !(1..=MAX_QUANTITY).contains(&request.quantity) {
            problems.push((field("quantity"), format!("must be 1 to {MAX_QUANTITY}")));
        }
        if !seen.insert(request.product_id.as_str()) {
            problems.push((
                field("product_id"),
                "appears on another line; raise that line's quantity".to_owned(),
            ));
            continue;
        }
        match products.get(&request.product_id) {
            None => problems.push((
                field("product_id"),
                "is not a product of the catalog".to_owned(),
            )),
            Some(product) if !product.active => {
                problems.push((field("product_id"), "is discontinued".to_owned()));
            }
            Some(product) => {
                currencies.insert(product.currency.clone());
                lines.push(OrderLine {
                    product_id: product.id.clone(),
                    sku: product.sku.clone(),
                    name: product.name.clone(),
                    unit_price_cents: product.price_cents,
                    quantity: u32::try_from(request.quantity.clamp(1, MAX_QUANTITY)).unwrap_or(1),
                });
            }
        }
    }
    if currencies.len() > 1 {
        problems.push((
            "items".to_owned(),
            "all products of one order must have the same currency".to_owned(),
        ));
    }
    match currencies.into_iter().next() {
        Some(currency) if problems.is_empty() => Ok((lines, currency)),
        _ => Err(PlacementError(problems)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> HashMap<String, Product> {
        [
            ("p-1", 1000, "EUR", true),
            ("p-2", 250, "EUR", true),
            ("p-old", 5, "EUR", false),
            ("p-usd", 7, "USD", true),
        ]
        .into_iter()
        .map(|(id, price_cents, currency, active)| {
            (
                id.to_owned(),
                Product {
                    id: id.to_owned(),
                    sku: id.to_uppercase(),
                    name: id.to_owned(),
                    price_cents,
                    currency: currency.to_owned(),
                    active,
                },
            )
        })
        .collect()
    }

    fn line(product_id: &str, quantity: i64) -> LineRequest {
        LineRequest {
            product_id: product_id.to_owned(),
            quantity,
        }
    }

    fn fields(error: PlacementError) -> Vec<String> {
        error.0.into_iter().map(|(field, _)| field).collect()
    }

    #[test]
    fn lines_are_priced_from_the_catalog() {
        let (lines, currency) = price_lines(&[line("p-1", 2), line("p-2", 1)], &catalog()).unwrap();
        assert_eq!(currency, "EUR");
        assert_eq!(lines.iter().map(OrderLine::total_cents).sum::<i64>(), 2250);
        assert_eq!(lines[0].sku, "P-1");
    }

    #[test]
    fn quantities_must_be_one_to_a_hundred() {
        let error = price_lines(&[line("p-1", 0), line("p-2", 101)], &catalog()).unwrap_err();
        assert_eq!(fields(error), ["items[0].quantity", "items[1].quantity"]);
    }

    #[test]
    fn unknown_discontinued_and_repeated_products_are_refused() {
        let error = price_lines(
            &[
                line("nope", 1),
                line("p-old", 1),
                line("p-1", 1),
                line("p-1", 1),
            ],
            &catalog(),
        )
        .unwrap_err();
        assert_eq!(
            fields(error),
            [
                "items[0].product_id",
                "items[1].product_id",
                "items[3].product_id"
            ]
        );
    }

    #[test]
    fn a_request_with_too_many_lines_is_refused_without_naming_each_line() {
        let many: Vec<LineRequest> = (0..=MAX_LINES).map(|_| line("not-an-id", 1)).collect();
        assert_eq!(
            shape_problems(&many),
            [("items".to_owned(), "must have 1 to 50 lines".to_owned())]
        );
        assert_eq!(shape_problems(&[]).len(), 1);
    }

    #[test]
    fn product_ids_must_be_uuids() {
        let id = "0b5e1f4c-3c4a-4f6e-9d0a-2b7c1e8f9a10";
        let problems = shape_problems(&[line(id, 1), line("p-1", 1), line(&"x".repeat(5000), 1)]);
        let fields: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(fields, ["items[1].product_id", "items[2].product_id"]);
    }

    #[test]
    fn an_order_has_one_to_fifty_lines_in_one_currency() {
        assert_eq!(fields(price_lines(&[], &catalog()).unwrap_err()), ["items"]);
        let many: Vec<LineRequest> = (0..51).map(|_| line("p-1", 1)).collect();
        assert!(fields(price_lines(&many, &catalog()).unwrap_err()).contains(&"items".to_owned()));
        let mixed = price_lines(&[line("p-1", 1), line("p-usd", 1)], &catalog()).unwrap_err();
        assert_eq!(fields(mixed), ["items"]);
    }
}
