//! The template's CloudWatch dashboards, drawn from devstack's metrics as a web page: the same
//! bodies (widgets, metrics, metric math, alarms, text), with charts drawn server-side as SVG,
//! no script and no CDN. Periods are divided by the time scale, as alarms' are, so a
//! five-minute period is a few seconds of local traffic.

use std::fmt::Write as _;

use serde_json::Value;

use super::{
    MetricKey, MetricStore, Stat, Window,
    alarms::{State, States},
    math::{self, Inputs, Series},
    store::float,
};

/// How many periods a chart shows.
const PERIODS: usize = 45;
const COLORS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// A dashboard of the template, its body resolved (or why it could not be).
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub name: String,
    pub body: Result<Value, String>,
}

/// What a page is drawn from.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub store: &'a MetricStore,
    pub alarms: &'a States,
    /// Alarm ARN to name, for alarm widgets.
    pub alarm_names: &'a [(String, String)],
    pub time_scale: u32,
    pub now_ms: i64,
}

/// One line of a metric widget, read from its `metrics` array.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    id: String,
    label: String,
    visible: bool,
    source: LineSource,
}

#[derive(Debug, Clone, PartialEq)]
enum LineSource {
    Metric {
        key: MetricKey,
        stat: String,
        period: u64,
    },
    Expression(String),
}

/// The lines of a metric widget: CloudWatch's rows `[namespace, name, dim, value, ..., {options}]`
/// (`"."` repeats the row above) and `[{"expression": ...}]`.
fn lines(properties: &Value) -> Vec<Line> {
    let default_stat = properties["stat"].as_str().unwrap_or("Average");
    let default_period = properties["period"].as_u64().unwrap_or(300);
    let mut previous: Vec<Value> = Vec::new();
    let mut lines = Vec::new();
    for (index, row) in properties["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(row) = row.as_array() else { continue };
        let (fields, options) = match row.last() {
            Some(Value::Object(options)) => (&row[..row.len() - 1], Some(options)),
            _ => (&row[..], None),
        };
        let option = |name: &str| options.and_then(|o| o.get(name));
        let id = option("id")
            .and_then(Value::as_str)
            .map_or_else(|| format!("m{}", index + 1), str::to_owned);
        let visible = option("visible").and_then(Value::as_bool).unwrap_or(true);
        if let Some(expression) = option("expression").and_then(Value::as_str) {
            lines.push(Line {
                label: option("label")
                    .and_then(Value::as_str)
                    .unwrap_or(&id)
                    .to_owned(),
                id,
                visible,
                source: LineSource::Expression(expression.to_owned()),
            });
            continue;
        }
        let fields: Vec<Value> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| match f.as_str() {
                Some(".") => previous.get(i).cloned().unwrap_or(Value::Null),
                _ => f.clone(),
            })
            .collect();
        previous.clone_from(&fields);
        let text = |i: usize| {
            fields
                .get(i)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let key = MetricKey {
            namespace: text(0),
            name: text(1),
            dimensions: (2..fields.len())
                .step_by(2)
                .map(|i| (text(i), text(i + 1)))
                .collect(),
        };
        let dims: Vec<&str> = key.dimensions.values().map(String::as_str).collect();
        lines.push(Line {
            label: option("label")
                .and_then(Value::as_str)
                .map_or_else(|| format!("{} {}", key.name, dims.join(" ")), str::to_owned),
            id,
            visible,
            source: LineSource::Metric {
                key,
                stat: option("stat")
                    .and_then(Value::as_str)
                    .unwrap_or(default_stat)
                    .to_owned(),
                period: option("period")
                    .and_then(Value::as_u64)
                    .unwrap_or(default_period),
            },
        });
    }
    lines
}

/// Every metric a dashboard body's widgets draw (expressions aside).
pub fn metric_keys(body: &Value) -> Vec<MetricKey> {
    body["widgets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|widget| widget["type"] == "metric")
        .flat_map(|widget| lines(&widget["properties"]))
        .filter_map(|line| match line.source {
            LineSource::Metric { key, .. } => Some(key),
            LineSource::Expression(_) => None,
        })
        .collect()
}

/// The series of a widget's visible lines over its window, with their labels.
fn series(properties: &Value, sources: &Sources<'_>) -> Result<Vec<(String, Series)>, String> {
    let lines = lines(properties);
    let period = lines
        .iter()
        .find_map(|l| match &l.source {
            LineSource::Metric { period, .. } => Some(*period),
            LineSource::Expression(_) => None,
        })
        .unwrap_or(300);
    let local_ms = super::local_period_ms(period, sources.time_scale);
    let mut window = Window::last(PERIODS, local_ms, sources.now_ms);
    if properties["setPeriodToTimeRange"] == true || properties["view"] == "singleValue" {
        window = Window {
            start_ms: window.start_ms,
            end_ms: window.end_ms,
            period_ms: window.end_ms - window.start_ms,
        };
    }
    let mut inputs = Inputs {
        periods: window.periods(),
        ..Inputs::default()
    };
    for line in &lines {
        if let LineSource::Metric { key, stat, .. } = &line.source {
            let stat = Stat::parse(stat).ok_or(format!("statistic {stat}"))?;
            inputs.insert(&line.id, sources.store.read(key, stat, window));
        }
    }
    let mut shown = Vec::new();
    for line in &lines {
        let values = match &line.source {
            LineSource::Metric { .. } => inputs.by_id[&line.id].clone(),
            LineSource::Expression(expression) => {
                let values = math::evaluate(expression, &inputs)?;
                inputs.by_id.insert(line.id.clone(), values.clone());
                values
            }
        };
        if line.visible {
            shown.push((line.label.clone(), values));
        }
    }
    Ok(shown)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The markdown CloudWatch text widgets use most: headings, bold, italics, links' text, lists.
fn markdown(text: &str) -> String {
    let mut html = String::new();
    for line in text.lines() {
        let escaped = escape(line);
        let inline = emphasis(&emphasis(&escaped, "**", "b"), "*", "i");
        if let Some(heading) = inline.strip_prefix("# ") {
            let _ = write!(html, "<h2>{heading}</h2>");
        } else if let Some(heading) = inline.strip_prefix("## ") {
            let _ = write!(html, "<h3>{heading}</h3>");
        } else if let Some(item) = inline
            .strip_prefix("- ")
            .or_else(|| inline.strip_prefix("* "))
        {
            let _ = write!(html, "<li>{item}</li>");
        } else if !inline.trim().is_empty() {
            let _ = write!(html, "<p>{inline}</p>");
        }
    }
    html
}

fn emphasis(text: &str, marker: &str, tag: &str) -> String {
    let parts: Vec<&str> = text.split(marker).collect();
    if parts.len() < 3 {
        return text.to_owned();
    }
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            let _ = write!(
                out,
                "{}",
                if i % 2 == 1 {
                    format!("<{tag}>")
                } else {
                    format!("</{tag}>")
                }
            );
        }
        out.push_str(part);
    }
    if parts.len().is_multiple_of(2) {
        let _ = write!(out, "</{tag}>");
    }
    out
}

fn chart(shown: &[(String, Series)]) -> String {
    let values: Vec<f64> = shown
        .iter()
        .flat_map(|(_, s)| s.iter().flatten().copied())
        .collect();
    let (low, high) = values
        .iter()
        .fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let high = if high <= low { low + 1.0 } else { high };
    let (width, height) = (600.0, 160.0);
    let mut svg = format!(
        r##"<svg viewBox="-40 -5 {} {}" preserveAspectRatio="none"><text x="-4" y="8" text-anchor="end">{}</text><text x="-4" y="{height}" text-anchor="end">{}</text><line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="#999"/>"##,
        width + 45.0,
        height + 10.0,
        short(high),
        short(low)
    );
    for (n, (_, points)) in shown.iter().enumerate() {
        let step = width / float(points.len().max(2) - 1);
        let mut path = String::new();
        let mut pen_down = false;
        for (i, point) in points.iter().enumerate() {
            match point {
                Some(v) => {
                    let (x, y) = (float(i) * step, height - (v - low) / (high - low) * height);
                    let _ = write!(path, "{}{x:.1},{y:.1} ", if pen_down { "L" } else { "M" });
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let color = COLORS[n % COLORS.len()];
        let _ = write!(
            svg,
            r#"<path d="{path}" fill="none" stroke="{color}" stroke-width="2"/>"#
        );
        // A lone point has no line: draw it.
        for (i, point) in points.iter().enumerate() {
            if let Some(v) = point {
                let (x, y) = (float(i) * step, height - (v - low) / (high - low) * height);
                let _ = write!(
                    svg,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="2" fill="{color}"/>"#
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

fn short(value: f64) -> String {
    if value.abs() >= 1000.0 {
        format!("{:.1}k", value / 1000.0)
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

/// The last value of a series, as a chart labels it (`–` for none).
fn latest(values: &Series) -> String {
    values
        .iter()
        .rev()
        .flatten()
        .next()
        .map_or("–".to_owned(), |v| short(*v))
}

fn legend(shown: &[(String, Series)]) -> String {
    let mut html = String::from("<ul class=legend>");
    for (n, (label, points)) in shown.iter().enumerate() {
        let last = latest(points);
        let _ = write!(
            html,
            r#"<li><span style="background:{}"></span>{} <b>{last}</b></li>"#,
            COLORS[n % COLORS.len()],
            escape(label)
        );
    }
    html.push_str("</ul>");
    html
}

fn metric_widget(properties: &Value, sources: &Sources<'_>) -> (String, usize) {
    let shown = match series(properties, sources) {
        Ok(shown) => shown,
        Err(why) => {
            return (
                format!("<p class=note>not drawn locally: {}</p>", escape(&why)),
                0,
            );
        }
    };
    let points = shown.iter().map(|(_, s)| s.iter().flatten().count()).sum();
    let body = match properties["view"].as_str() {
        Some("singleValue") => {
            let mut html = String::from("<div class=single>");
            for (label, values) in &shown {
                let value = latest(values);
                let _ = write!(
                    html,
                    "<div><b>{value}</b><span>{}</span></div>",
                    escape(label)
                );
            }
            html + "</div>"
        }
        Some("table") => {
            let mut html = String::from("<table><tr><th>line</th><th>latest</th><th>sum</th></tr>");
            for (label, values) in &shown {
                let last = latest(values);
                let sum: f64 = values.iter().flatten().sum();
                let _ = write!(
                    html,
                    "<tr><td>{}</td><td>{last}</td><td>{}</td></tr>",
                    escape(label),
                    short(sum)
                );
            }
            html + "</table>"
        }
        _ => chart(&shown) + &legend(&shown),
    };
    (body, points)
}

fn alarm_widget(properties: &Value, sources: &Sources<'_>) -> String {
    let mut html = String::from("<ul class=alarms>");
    for arn in properties["alarms"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let name = sources
            .alarm_names
            .iter()
            .find(|(a, _)| a == arn)
            .map_or(arn, |(_, name)| name.as_str());
        let (state, reason) = sources
            .alarms
            .get(name)
            .map_or((State::InsufficientData, ""), |(s, r)| (*s, r.as_str()));
        let _ = write!(
            html,
            r#"<li class="{}" title="{}">{} <b>{}</b></li>"#,
            state.name(),
            escape(reason),
            escape(name),
            state.name()
        );
    }
    html + "</ul>"
}

/// The page of one dashboard.
pub fn page(dashboard: &Dashboard, sources: &Sources<'_>) -> String {
    let mut widgets = String::new();
    match &dashboard.body {
        Err(why) => {
            let _ = write!(
                widgets,
                "<p class=note>cannot draw this dashboard: {}</p>",
                escape(why)
            );
        }
        Ok(body) => {
            for widget in body["widgets"].as_array().into_iter().flatten() {
                let properties = &widget["properties"];
                let kind = widget["type"].as_str().unwrap_or_default();
                let (content, points) = match kind {
                    "metric" => metric_widget(properties, sources),
                    "text" => (markdown(properties["markdown"].as_str().unwrap_or_default()), 0),
                    "alarm" => (alarm_widget(properties, sources), 0),
                    _ => ("<p class=note>Logs Insights widgets are not drawn locally: the function logs are files in the log folder.</p>".to_owned(), 0),
                };
                let cell = |name: &str, default: u64| widget[name].as_u64().unwrap_or(default);
                let title = properties["title"].as_str().map(escape).unwrap_or_default();
                let _ = write!(
                    widgets,
                    r#"<section class="widget {kind}" data-points="{points}" style="grid-column:{} / span {};grid-row:{} / span {}"><h4>{title}</h4>{content}</section>"#,
                    cell("x", 0) + 1,
                    cell("width", 6),
                    cell("y", 0) + 1,
                    cell("height", 6),
                );
            }
        }
    }
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="10"><title>{name}</title><style>{STYLE}</style></head><body><header><a href="/_devstack/dashboards">dashboards</a> / <b>{name}</b> <span>drawn by devstack from local metrics; AWS's periods divided by {scale} (10 s at least), the last {PERIODS} shown; refreshes every 10 s</span></header><main>{widgets}</main></body></html>"#,
        name = escape(&dashboard.name),
        scale = sources.time_scale,
    )
}

/// The list of dashboards.
pub fn index(dashboards: &[Dashboard]) -> String {
    let mut items = String::new();
    for dashboard in dashboards {
        let name = escape(&dashboard.name);
        let _ = write!(
            items,
            r#"<li><a href="/_devstack/dashboards/{name}">{name}</a></li>"#
        );
    }
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>dashboards</title><style>{STYLE}</style></head><body><header><b>dashboards</b> <span>the template's CloudWatch dashboards, drawn from devstack's metrics</span></header><ul class=index>{items}</ul></body></html>"#
    )
}

const STYLE: &str = "body{font:13px system-ui,sans-serif;margin:0;background:#f2f3f3}header{padding:10px 16px;background:#232f3e;color:#fff}header a{color:#9cf}header span{color:#bbb;margin-left:12px}main{display:grid;grid-template-columns:repeat(24,1fr);grid-auto-rows:38px;gap:8px;padding:12px}.widget{background:#fff;border:1px solid #ddd;padding:6px 10px;overflow:hidden}.widget h4{margin:0 0 4px;font-size:13px}.widget svg{width:100%;height:60%}.widget svg text{font-size:11px;fill:#555}.legend{list-style:none;padding:0;margin:2px 0;font-size:11px}.legend li{display:inline-block;margin-right:10px}.legend span{display:inline-block;width:10px;height:10px;margin-right:4px}.single{display:flex;gap:20px}.single b{font-size:30px;display:block}.alarms{list-style:none;padding:0;columns:3}.alarms li{padding:2px 4px}.alarms .ALARM b{color:#d13212}.alarms .OK b{color:#1d8102}.alarms .INSUFFICIENT_DATA b{color:#777}.note{color:#777}table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}.index{padding:16px 40px;font-size:15px}";

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;
    use crate::monitoring::Datum;

    #[test]
    fn rows_repeat_the_row_above_with_dots_and_take_their_options() {
        let properties = json!({"stat": "Sum", "period": 60, "metrics": [
            ["AWS/Lambda", "Errors", "FunctionName", "a", {"id": "e0", "visible": false}],
            [".", ".", ".", "b", {"stat": "Maximum", "label": "b errors"}],
            [{"expression": "SUM([e0, m2])", "label": "all", "id": "all"}]
        ]});
        let lines = lines(&properties);
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[1].source,
            LineSource::Metric {
                key: MetricKey::new("AWS/Lambda", "Errors", &[("FunctionName", "b")]),
                stat: "Maximum".to_owned(),
                period: 60
            }
        );
        assert_eq!(
            (lines[1].id.as_str(), lines[1].label.as_str()),
            ("m2", "b errors")
        );
        assert!(!lines[0].visible);
        assert_eq!(
            lines[2].source,
            LineSource::Expression("SUM([e0, m2])".to_owned())
        );
    }

    #[test]
    fn a_widget_is_drawn_from_the_store_with_its_data_points_counted() {
        let store = MetricStore::default();
        let now = 1_000_000;
        for at in [now - 25_000, now - 2_000] {
            store.record(Datum {
                key: MetricKey::new("Shop", "Requests", &[("service", "orders")]),
                at_ms: at,
                value: 2.0,
                unit: None,
            });
        }
        let body = json!({"widgets": [
            {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {"title": "Requests <per period>", "stat": "Sum", "period": 60, "metrics": [["Shop", "Requests", "service", "orders"]]}},
            {"type": "text", "x": 12, "y": 0, "width": 12, "height": 2, "properties": {"markdown": "# Orders\n**Look first** at errors"}}
        ]});
        let dashboard = Dashboard {
            name: "shop-local-orders".to_owned(),
            body: Ok(body),
        };
        let states = HashMap::new();
        let html = page(
            &dashboard,
            &Sources {
                store: &store,
                alarms: &states,
                alarm_names: &[],
                time_scale: 60,
                now_ms: now,
            },
        );
        assert!(html.contains(r#"data-points="2""#), "{html}");
        assert!(html.contains("Requests &lt;per period&gt;"));
        assert!(
            html.contains("<h2>Orders</h2><p><b>Look first</b> at errors</p>"),
            "{html}"
        );
        assert!(html.contains("<path d=\"M"));
    }
}
