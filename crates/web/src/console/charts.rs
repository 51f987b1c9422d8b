//! Charts drawn on the server as SVG (no script, no outside library): stacked columns by
//! day, a forecast line with its interval, horizontal bars, and a tile map of districts.
//! Each chart carries a title and a text alternative, and the numbers stay in tables beside
//! them for export.

use maud::{Markup, PreEscaped, html};

/// The series colours, in order (readable on white and on the wall screen's dark ground).
pub const PALETTE: &[&str] = &[
    "#2f6fdf", "#e8833a", "#3aa56b", "#c04b6c", "#8a63d2", "#d4b106", "#1f9fb4", "#7d7d7d",
];

fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// A round upper bound for an axis, and its step.
fn nice_max(max: f64) -> (f64, f64) {
    if max <= 0.0 {
        return (1.0, 1.0);
    }
    let raw = max / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| s * 4.0 >= max)
        .unwrap_or(10.0 * mag);
    (step * 4.0, step)
}

fn fmt(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// One named series of values.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<f64>,
}

const W: f64 = 720.0;
const H: f64 = 260.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

fn y_axis(max: f64, step: f64) -> Markup {
    let plot_h = H - TOP - BOTTOM;
    let mut lines = String::new();
    let mut v = 0.0;
    while v <= max + 1e-9 {
        let y = TOP + plot_h - v / max * plot_h;
        lines.push_str(&format!(
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            fmt(v)
        ));
        v += step;
    }
    PreEscaped(lines)
}

fn legend(names: &[&str], y: f64) -> Markup {
    let mut x = LEFT;
    let placed: Vec<(f64, &str)> = names
        .iter()
        .map(|n| {
            let at = x;
            x += 24.0 + n.chars().count() as f64 * 13.0;
            (at, *n)
        })
        .collect();
    html! {
        @for (i, (x, n)) in placed.iter().enumerate() {
            rect x=(format!("{x:.0}")) y=(format!("{:.0}", y - 9.0)) width="10" height="10" fill=(colour(i)) {}
            text.legend x=(format!("{:.0}", x + 14.0)) y=(format!("{y:.0}")) { (n) }
        }
    }
}

/// The non-empty parts of column `i`: (series, name, value, sum of the parts below).
fn segments<'a>(series: &'a [Series], i: usize) -> Vec<(usize, &'a str, f64, f64)> {
    let mut below = 0.0;
    let mut out = Vec::new();
    for (k, s) in series.iter().enumerate() {
        let v = s.values.get(i).copied().unwrap_or(0.0);
        if v > 0.0 {
            out.push((k, s.name, v, below));
            below += v;
        }
    }
    out
}

/// Columns by day, each stacked by series; `labels` under every few columns.
pub fn stacked_columns(title: &str, labels: &[String], series: &[Series]) -> Markup {
    let n = labels.len().max(1);
    let totals: Vec<f64> = (0..n)
        .map(|i| {
            series
                .iter()
                .map(|s| s.values.get(i).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let (max, step) = nice_max(totals.iter().copied().fold(0.0, f64::max));
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let slot = plot_w / n as f64;
    let bar = (slot * 0.75).max(1.0);
    let every = n.div_ceil(10).max(1);
    let names: Vec<&str> = series.iter().map(|s| s.name).collect();
    let alt = format!(
        "{title}：{}",
        labels
            .iter()
            .zip(&totals)
            .map(|(l, t)| format!("{l} {}", fmt(*t)))
            .collect::<Vec<_>>()
            .join("，")
    );
    html! {
        figure.chart {
            figcaption { (title) }
            svg viewBox=(format!("0 0 {W} {}", H + 18.0)) role="img" aria-label=(alt) {
                title { (alt) }
                (y_axis(max, step))
                @for i in 0..n {
                    @let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
                    @for (k, name, v, below) in segments(series, i) {
                        @let y0 = TOP + plot_h - (below + v) / max * plot_h;
                        @let h = v / max * plot_h;
                        rect x=(format!("{x:.1}")) y=(format!("{y0:.1}")) width=(format!("{bar:.1}")) height=(format!("{h:.1}")) fill=(colour(k)) {
                            title { (labels[i]) " " (name) " " (fmt(v)) }
                        }
                    }
                    @if i % every == 0 {
                        text.tick x=(format!("{:.1}", x + bar / 2.0)) y=(format!("{:.0}", H - BOTTOM + 14.0)) text-anchor="middle" { (labels[i]) }
                    }
                }
                (legend(&names, H + 10.0))
            }
        }
    }
}

/// A forecast: the actual days as columns, then the expected line with its interval band.
pub fn forecast_chart(
    title: &str,
    past: &[(String, f64)],
    ahead: &[(String, f64, f64, f64)],
) -> Markup {
    let n = (past.len() + ahead.len()).max(1);
    let top = past
        .iter()
        .map(|p| p.1)
        .chain(ahead.iter().map(|a| a.3))
        .fold(0.0, f64::max);
    let (max, step) = nice_max(top);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let slot = plot_w / n as f64;
    let y = |v: f64| TOP + plot_h - v.min(max) / max * plot_h;
    let cx = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let line: Vec<String> = ahead
        .iter()
        .enumerate()
        .map(|(k, a)| format!("{:.1},{:.1}", cx(past.len() + k), y(a.1)))
        .collect();
    let mut band: Vec<String> = ahead
        .iter()
        .enumerate()
        .map(|(k, a)| format!("{:.1},{:.1}", cx(past.len() + k), y(a.3)))
        .collect();
    band.extend(
        ahead
            .iter()
            .enumerate()
            .rev()
            .map(|(k, a)| format!("{:.1},{:.1}", cx(past.len() + k), y(a.2))),
    );
    let every = n.div_ceil(10).max(1);
    let labels: Vec<&str> = past
        .iter()
        .map(|p| p.0.as_str())
        .chain(ahead.iter().map(|a| a.0.as_str()))
        .collect();
    let alt = format!(
        "{title}：{}",
        ahead
            .iter()
            .map(|a| format!(
                "{} {}（{}–{}）",
                a.0,
                fmt(a.1.round()),
                fmt(a.2.round()),
                fmt(a.3.round())
            ))
            .collect::<Vec<_>>()
            .join("，")
    );
    html! {
        figure.chart {
            figcaption { (title) }
            svg viewBox=(format!("0 0 {W} {}", H + 18.0)) role="img" aria-label=(alt) {
                title { (alt) }
                (y_axis(max, step))
                @for (i, p) in past.iter().enumerate() {
                    @let h = p.1.min(max) / max * plot_h;
                    rect x=(format!("{:.1}", cx(i) - slot * 0.35)) y=(format!("{:.1}", y(p.1))) width=(format!("{:.1}", slot * 0.7)) height=(format!("{h:.1}")) fill=(colour(0)) {
                        title { (p.0) " " (fmt(p.1)) }
                    }
                }
                @if !ahead.is_empty() {
                    polygon.band points=(band.join(" ")) fill=(colour(1)) fill-opacity="0.25" {}
                    polyline points=(line.join(" ")) fill="none" stroke=(colour(1)) stroke-width="2" stroke-dasharray="5 3" {}
                }
                @for (i, l) in labels.iter().enumerate() {
                    @if i % every == 0 {
                        text.tick x=(format!("{:.1}", cx(i))) y=(format!("{:.0}", H - BOTTOM + 14.0)) text-anchor="middle" { (l) }
                    }
                }
                (legend(&["实际", "预测（区间）"], H + 10.0))
            }
        }
    }
}

/// Horizontal bars, largest first as given; each label may link somewhere.
pub fn bars(title: &str, rows: &[(String, f64, Option<String>)]) -> Markup {
    let row_h = 22.0;
    let label_w = 170.0;
    let h = TOP + row_h * rows.len().max(1) as f64 + 8.0;
    let top = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1.0);
    let plot_w = W - label_w - 70.0;
    let alt = format!(
        "{title}：{}",
        rows.iter()
            .map(|r| format!("{} {}", r.0, fmt(r.1)))
            .collect::<Vec<_>>()
            .join("，")
    );
    html! {
        figure.chart {
            figcaption { (title) }
            svg viewBox=(format!("0 0 {W} {h:.0}")) role="img" aria-label=(alt) {
                title { (alt) }
                @for (i, r) in rows.iter().enumerate() {
                    @let y = TOP + row_h * i as f64;
                    @let w = r.1 / top * plot_w;
                    @let label: String = r.0.chars().take(12).collect();
                    @if let Some(href) = &r.2 {
                        a href=(href) { text.label x=(format!("{:.0}", label_w - 6.0)) y=(format!("{:.1}", y + 14.0)) text-anchor="end" { (label) } }
                    } @else {
                        text.label x=(format!("{:.0}", label_w - 6.0)) y=(format!("{:.1}", y + 14.0)) text-anchor="end" { (label) }
                    }
                    rect x=(format!("{label_w:.0}")) y=(format!("{:.1}", y + 3.0)) width=(format!("{w:.1}")) height=(format!("{:.0}", row_h - 6.0)) fill=(colour(i)) {}
                    text.value x=(format!("{:.1}", label_w + w + 6.0)) y=(format!("{:.1}", y + 14.0)) { (fmt(r.1)) }
                }
            }
        }
    }
}

/// A tile map: one square per place, its shade by value (darker is more), in a grid.
pub fn tiles(title: &str, cells: &[(String, f64, String, Option<String>)]) -> Markup {
    let cols = 4usize;
    let (cw, ch) = (170.0, 74.0);
    let rows = cells.len().div_ceil(cols).max(1);
    let top = cells.iter().map(|c| c.1).fold(0.0, f64::max).max(1e-9);
    let alt = format!(
        "{title}：{}",
        cells
            .iter()
            .map(|c| format!("{} {}", c.0, c.2))
            .collect::<Vec<_>>()
            .join("，")
    );
    html! {
        figure.chart {
            figcaption { (title) }
            svg viewBox=(format!("0 0 {:.0} {:.0}", cw * cols as f64 + 8.0, ch * rows as f64 + 8.0)) role="img" aria-label=(alt) {
                title { (alt) }
                @for (i, c) in cells.iter().enumerate() {
                    @let x = 4.0 + cw * (i % cols) as f64;
                    @let y = 4.0 + ch * (i / cols) as f64;
                    @let share = c.1 / top;
                    @let fill = format!("rgba(47,111,223,{:.2})", 0.12 + 0.78 * share);
                    @let ink = if share > 0.55 { "#fff" } else { "#123" };
                    g {
                        rect x=(format!("{x:.0}")) y=(format!("{y:.0}")) width=(format!("{:.0}", cw - 6.0)) height=(format!("{:.0}", ch - 6.0)) rx="6" fill=(fill) {
                            title { (c.0) " " (c.2) }
                        }
                        @if let Some(href) = &c.3 {
                            a href=(href) { text.tile x=(format!("{:.0}", x + 10.0)) y=(format!("{:.0}", y + 26.0)) fill=(ink) { (c.0) } }
                        } @else {
                            text.tile x=(format!("{:.0}", x + 10.0)) y=(format!("{:.0}", y + 26.0)) fill=(ink) { (c.0) }
                        }
                        text.tilevalue x=(format!("{:.0}", x + 10.0)) y=(format!("{:.0}", y + 52.0)) fill=(ink) { (c.2) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_round() {
        assert_eq!(nice_max(0.0), (1.0, 1.0));
        assert_eq!(nice_max(37.0), (40.0, 10.0));
        assert_eq!(nice_max(7.0), (8.0, 2.0));
        assert_eq!(nice_max(950.0), (1000.0, 250.0));
    }

    #[test]
    fn charts_carry_their_numbers_as_text() {
        let labels = vec!["11-01".to_string(), "11-02".to_string()];
        let svg = stacked_columns(
            "来电量",
            &labels,
            &[
                Series {
                    name: "电话",
                    values: vec![3.0, 4.0],
                },
                Series {
                    name: "微信",
                    values: vec![1.0, 0.0],
                },
            ],
        )
        .into_string();
        assert!(svg.contains("来电量：11-01 4，11-02 4"), "{svg}");
        assert!(svg.contains("<svg"));
        let b = bars(
            "类别",
            &[("市政".into(), 5.0, Some("/tickets?category=01".into()))],
        )
        .into_string();
        assert!(b.contains("href=\"/tickets?category=01\""));
        let t = tiles("区县", &[("城东区".into(), 3.0, "3件".into(), None)]).into_string();
        assert!(t.contains("城东区 3件"));
        let f = forecast_chart(
            "预测",
            &[("11-01".into(), 5.0)],
            &[("11-02".into(), 6.0, 4.0, 8.0)],
        )
        .into_string();
        assert!(f.contains("11-02 6（4–8）"));
        assert!(f.contains("<polygon"));
    }
}
