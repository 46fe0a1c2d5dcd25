//! CloudWatch metric math, the part the shop's dashboards and alarms use: numbers, metric ids,
//! `+ - * /`, comparisons, arrays, `METRICS()`, `SUM`, `MAX`, `MIN`, `AVG`, `FILL` and `IF`.
//! A series is one value per period, `None` where a period has no data; arithmetic on a
//! missing value is missing, as CloudWatch leaves such points out.

use std::collections::HashMap;

pub type Series = Vec<Option<f64>>;

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Number(f64),
    Id(String),
    Array(Vec<Expr>),
    Call(String, Vec<Expr>),
    Binary(char, Box<Expr>, Box<Expr>),
    Compare(&'static str, Box<Expr>, Box<Expr>),
}

/// What an expression evaluates to.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Scalar(f64),
    Series(Series),
    List(Vec<Series>),
}

/// The inputs of an expression: each metric's series by id, in order (for `METRICS()`).
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub periods: usize,
    pub by_id: HashMap<String, Series>,
    pub order: Vec<String>,
}

impl Inputs {
    pub fn insert(&mut self, id: &str, series: Series) {
        self.order.push(id.to_owned());
        self.by_id.insert(id.to_owned(), series);
    }
}

/// The series `expression` gives over `inputs`.
pub fn evaluate(expression: &str, inputs: &Inputs) -> Result<Series, String> {
    let mut parser = Parser {
        tokens: tokenize(expression)?,
        at: 0,
    };
    let expr = parser.comparison()?;
    if parser.at != parser.tokens.len() {
        return Err(format!(
            "unexpected {:?} in {expression}",
            parser.tokens[parser.at]
        ));
    }
    match eval(&expr, inputs)? {
        Value::Series(series) => Ok(series),
        Value::Scalar(value) => Ok(vec![Some(value); inputs.periods]),
        Value::List(_) => Err(format!("{expression} is a list of series, not one")),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Name(String),
    Symbol(&'static str),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let number: String = chars[start..i].iter().collect();
            tokens.push(Token::Number(
                number.parse().map_err(|_| format!("bad number {number}"))?,
            ));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Name(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let symbol = match two.as_str() {
                ">=" => ">=",
                "<=" => "<=",
                "==" => "==",
                "!=" => "!=",
                _ => match c {
                    '+' => "+",
                    '-' => "-",
                    '*' => "*",
                    '/' => "/",
                    '(' => "(",
                    ')' => ")",
                    '[' => "[",
                    ']' => "]",
                    ',' => ",",
                    '>' => ">",
                    '<' => "<",
                    other => return Err(format!("unexpected {other:?} in {text}")),
                },
            };
            i += symbol.len();
            tokens.push(Token::Symbol(symbol));
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_symbol(&self) -> Option<&'static str> {
        match self.tokens.get(self.at) {
            Some(Token::Symbol(symbol)) => Some(symbol),
            _ => None,
        }
    }

    fn expect(&mut self, symbol: &'static str) -> Result<(), String> {
        if self.peek_symbol() == Some(symbol) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected {symbol}"))
        }
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.sum()?;
        match self.peek_symbol() {
            Some(op @ (">=" | "<=" | "==" | "!=" | ">" | "<")) => {
                self.at += 1;
                let right = self.sum()?;
                Ok(Expr::Compare(op, Box::new(left), Box::new(right)))
            }
            _ => Ok(left),
        }
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut left = self.product()?;
        while let Some(op @ ("+" | "-")) = self.peek_symbol() {
            self.at += 1;
            let right = self.product()?;
            left = Expr::Binary(
                op.chars().next().unwrap_or('+'),
                Box::new(left),
                Box::new(right),
            );
        }
        Ok(left)
    }

    fn product(&mut self) -> Result<Expr, String> {
        let mut left = self.atom()?;
        while let Some(op @ ("*" | "/")) = self.peek_symbol() {
            self.at += 1;
            let right = self.atom()?;
            left = Expr::Binary(
                op.chars().next().unwrap_or('*'),
                Box::new(left),
                Box::new(right),
            );
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Expr, String> {
        let token = self.tokens.get(self.at).cloned().ok_or("unexpected end")?;
        self.at += 1;
        match token {
            Token::Number(n) => Ok(Expr::Number(n)),
            Token::Symbol("-") => Ok(Expr::Binary(
                '-',
                Box::new(Expr::Number(0.0)),
                Box::new(self.atom()?),
            )),
            Token::Symbol("(") => {
                let inner = self.comparison()?;
                self.expect(")")?;
                Ok(inner)
            }
            Token::Symbol("[") => Ok(Expr::Array(self.list("]")?)),
            Token::Name(name) if self.peek_symbol() == Some("(") => {
                self.at += 1;
                Ok(Expr::Call(name.to_ascii_uppercase(), self.list(")")?))
            }
            Token::Name(name) => Ok(Expr::Id(name)),
            Token::Symbol(other) => Err(format!("unexpected {other}")),
        }
    }

    /// Comma-separated expressions up to `close`.
    fn list(&mut self, close: &'static str) -> Result<Vec<Expr>, String> {
        let mut items = Vec::new();
        if self.peek_symbol() == Some(close) {
            self.at += 1;
            return Ok(items);
        }
        loop {
            items.push(self.comparison()?);
            if self.peek_symbol() == Some(",") {
                self.at += 1;
            } else {
                self.expect(close)?;
                return Ok(items);
            }
        }
    }
}

fn eval(expr: &Expr, inputs: &Inputs) -> Result<Value, String> {
    Ok(match expr {
        Expr::Number(n) => Value::Scalar(*n),
        Expr::Id(id) => Value::Series(
            inputs
                .by_id
                .get(id)
                .cloned()
                .ok_or_else(|| format!("no metric with id {id}"))?,
        ),
        Expr::Array(items) => {
            let mut list = Vec::new();
            for item in items {
                list.push(series_of(eval(item, inputs)?, inputs.periods)?);
            }
            Value::List(list)
        }
        Expr::Binary(op, left, right) => {
            let op = *op;
            combine(
                eval(left, inputs)?,
                eval(right, inputs)?,
                inputs.periods,
                |a, b| match op {
                    '+' => Some(a + b),
                    '-' => Some(a - b),
                    '*' => Some(a * b),
                    // CloudWatch leaves out a point divided by zero.
                    _ => (b != 0.0).then(|| a / b),
                },
            )?
        }
        Expr::Compare(op, left, right) => {
            let op = *op;
            combine(
                eval(left, inputs)?,
                eval(right, inputs)?,
                inputs.periods,
                |a, b| {
                    let holds = match op {
                        ">=" => a >= b,
                        "<=" => a <= b,
                        ">" => a > b,
                        "<" => a < b,
                        "==" => (a - b).abs() < f64::EPSILON,
                        _ => (a - b).abs() >= f64::EPSILON,
                    };
                    Some(f64::from(u8::from(holds)))
                },
            )?
        }
        Expr::Call(name, args) => call(name, args, inputs)?,
    })
}

fn series_of(value: Value, periods: usize) -> Result<Series, String> {
    match value {
        Value::Scalar(n) => Ok(vec![Some(n); periods]),
        Value::Series(series) => Ok(series),
        Value::List(_) => Err("a list where one series belongs".to_owned()),
    }
}

fn combine(
    left: Value,
    right: Value,
    periods: usize,
    op: impl Fn(f64, f64) -> Option<f64>,
) -> Result<Value, String> {
    if let (Value::Scalar(a), Value::Scalar(b)) = (&left, &right) {
        return Ok(op(*a, *b).map_or(Value::Series(vec![None; periods]), Value::Scalar));
    }
    let (left, right) = (series_of(left, periods)?, series_of(right, periods)?);
    Ok(Value::Series(
        left.iter()
            .zip(&right)
            .map(|(a, b)| op((*a)?, (*b)?))
            .collect(),
    ))
}

fn call(name: &str, args: &[Expr], inputs: &Inputs) -> Result<Value, String> {
    let arg = |i: usize| -> Result<Value, String> {
        eval(
            args.get(i)
                .ok_or_else(|| format!("{name} needs argument {}", i + 1))?,
            inputs,
        )
    };
    Ok(match name {
        "METRICS" => Value::List(
            inputs
                .order
                .iter()
                .map(|id| inputs.by_id[id].clone())
                .collect(),
        ),
        "FILL" => {
            let series = series_of(arg(0)?, inputs.periods)?;
            let fill = series_of(arg(1)?, inputs.periods)?;
            Value::Series(series.iter().zip(&fill).map(|(v, f)| v.or(*f)).collect())
        }
        "IF" => {
            let condition = series_of(arg(0)?, inputs.periods)?;
            let then = series_of(arg(1)?, inputs.periods)?;
            let otherwise = match args.get(2) {
                Some(_) => series_of(arg(2)?, inputs.periods)?,
                None => vec![None; inputs.periods],
            };
            Value::Series(
                condition
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if (*c)?.abs() > 0.0 {
                            then[i]
                        } else {
                            otherwise[i]
                        }
                    })
                    .collect(),
            )
        }
        "SUM" | "MAX" | "MIN" | "AVG" => {
            let list = match arg(0)? {
                Value::List(list) => list,
                Value::Series(series) => {
                    // Of one series: a single value over all its points.
                    return Ok(Value::Scalar(aggregate(
                        name,
                        series.iter().flatten().copied(),
                    )));
                }
                Value::Scalar(n) => return Ok(Value::Scalar(n)),
            };
            Value::Series(
                (0..inputs.periods)
                    .map(|i| {
                        let present: Vec<f64> = list
                            .iter()
                            .filter_map(|s| s.get(i).copied().flatten())
                            .collect();
                        (!present.is_empty()).then(|| aggregate(name, present.into_iter()))
                    })
                    .collect(),
            )
        }
        other => return Err(format!("devstack does not evaluate {other}()")),
    })
}

fn aggregate(name: &str, values: impl Iterator<Item = f64>) -> f64 {
    let values: Vec<f64> = values.collect();
    match name {
        "SUM" => values.iter().sum(),
        "MAX" => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        "MIN" => values.iter().copied().fold(f64::INFINITY, f64::min),
        _ if values.is_empty() => 0.0,
        _ => values.iter().sum::<f64>() / super::store::float(values.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        let mut inputs = Inputs {
            periods: 3,
            ..Inputs::default()
        };
        inputs.insert("requests", vec![Some(10.0), Some(40.0), None]);
        inputs.insert("errors", vec![None, Some(2.0), Some(1.0)]);
        inputs
    }

    #[test]
    fn arithmetic_on_a_missing_point_is_missing_and_fill_supplies_it() {
        assert_eq!(
            evaluate("100 * errors / requests", &inputs()).unwrap(),
            [None, Some(5.0), None]
        );
        assert_eq!(
            evaluate("100 - 100 * FILL(errors, 0) / requests", &inputs()).unwrap(),
            [Some(100.0), Some(95.0), None]
        );
    }

    #[test]
    fn sums_and_maxima_are_per_period_over_the_present_series() {
        assert_eq!(
            evaluate("SUM(METRICS())", &inputs()).unwrap(),
            [Some(10.0), Some(42.0), Some(1.0)]
        );
        assert_eq!(
            evaluate("MAX([requests, errors])", &inputs()).unwrap(),
            [Some(10.0), Some(40.0), Some(1.0)]
        );
        assert_eq!(
            evaluate("requests + errors", &inputs()).unwrap(),
            [None, Some(42.0), None]
        );
    }

    #[test]
    fn if_chooses_per_period() {
        assert_eq!(
            evaluate("IF(requests >= 20, 100 * errors / requests, 0)", &inputs()).unwrap(),
            [Some(0.0), Some(5.0), None]
        );
    }

    #[test]
    fn unknown_ids_and_functions_are_errors() {
        assert!(evaluate("nope + 1", &inputs()).is_err());
        assert!(evaluate("SEARCH('x', 'Sum', 300)", &inputs()).is_err());
        assert!(evaluate("requests +", &inputs()).is_err());
    }
}
