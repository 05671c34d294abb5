//! Report charts drawn by the server as SVG: no chart library, nothing fetched, and no inline
//! style (colours come from the console's stylesheet through each series' class), so the
//! console's Content-Security-Policy holds. Each chart has a text alternative and each bar a
//! `<title>` with its figure.

use maud::{html, Markup};

/// One series of a bar chart: its label (in the legend) and the CSS class of its bars.
pub struct Series {
    pub label: &'static str,
    pub class: &'static str,
}

/// One group of bars (e.g. a week): its label and one value per series.
pub struct Group {
    pub label: String,
    pub values: Vec<u32>,
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 300.0;
/// Room for the value axis on the left, the group labels below and the legend above.
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 28.0;

/// A grouped bar chart of `groups`, one bar per series in each group, on a value axis from
/// zero with about five round ticks. `described`: the chart's text alternative.
pub fn bar_chart(described: &str, series: &[Series], groups: &[Group]) -> Markup {
    let max = groups
        .iter()
        .flat_map(|g| g.values.iter().copied())
        .max()
        .unwrap_or(0);
    let step = tick_step(max);
    let top = (max.div_ceil(step).max(1)) * step;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let plot_w = WIDTH - LEFT - RIGHT;
    let y = |v: u32| TOP + plot_h - f64::from(v) / f64::from(top) * plot_h;
    let group_w = plot_w / groups.len().max(1) as f64;
    let bar_w = (group_w * 0.8 / series.len().max(1) as f64).min(28.0);
    let ticks: Vec<u32> = (0..=top / step).map(|i| i * step).collect();
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(described) xmlns="http://www.w3.org/2000/svg" {
                title { (described) }
                @for t in &ticks {
                    line.chart-grid x1=(fmt(LEFT)) y1=(fmt(y(*t))) x2=(fmt(WIDTH - RIGHT)) y2=(fmt(y(*t))) {}
                    text.chart-tick x=(fmt(LEFT - 6.0)) y=(fmt(y(*t) + 4.0)) text-anchor="end" { (t) }
                }
                @for (s, x) in series.iter().zip(legend_positions(series)) {
                    rect class=(format!("legend-key {}", s.class)) x=(fmt(x)) y="8" width="12" height="12" {}
                    text.chart-legend x=(fmt(x + 17.0)) y="18" { (s.label) }
                }
                @for (g, group) in groups.iter().enumerate() {
                    @let gx = LEFT + g as f64 * group_w;
                    @let first = gx + (group_w - bar_w * series.len() as f64) / 2.0;
                    @for (i, (s, v)) in series.iter().zip(&group.values).enumerate() {
                        @let bx = first + i as f64 * bar_w;
                        rect class=(format!("bar {}", s.class)) x=(fmt(bx)) y=(fmt(y(*v))) width=(fmt(bar_w - 2.0)) height=(fmt(y(0) - y(*v))) {
                            title { (group.label) " · " (s.label) ": " (v) }
                        }
                    }
                    text.chart-group x=(fmt(gx + group_w / 2.0)) y=(fmt(HEIGHT - 8.0)) text-anchor="middle" { (group.label) }
                }
                line.chart-axis x1=(fmt(LEFT)) y1=(fmt(y(0))) x2=(fmt(WIDTH - RIGHT)) y2=(fmt(y(0))) {}
            }
        }
    }
}

/// A round step (1, 2 or 5 times a power of ten) giving at most about five ticks up to `max`.
fn tick_step(max: u32) -> u32 {
    let mut magnitude = 1;
    loop {
        for m in [1, 2, 5] {
            let step = m * magnitude;
            if max <= step * 5 {
                return step;
            }
        }
        magnitude *= 10;
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// Where each series' legend entry starts: after the previous entry's key and label, whose
/// width is estimated from its characters (a CJK character is about twice a Latin one), so
/// bilingual labels never run into the next key.
fn legend_positions(series: &[Series]) -> Vec<f64> {
    let mut x = LEFT;
    series
        .iter()
        .map(|s| {
            let at = x;
            let label: f64 = s
                .label
                .chars()
                .map(|c| if c.is_ascii() { 7.0 } else { 13.0 })
                .sum();
            x += 17.0 + label + 20.0;
            at
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_few() {
        assert_eq!(tick_step(0), 1);
        assert_eq!(tick_step(4), 1);
        assert_eq!(tick_step(9), 2);
        assert_eq!(tick_step(38), 10);
        assert_eq!(tick_step(240), 50);
    }

    #[test]
    fn one_bar_per_series_and_group_with_its_figure() {
        let series = [
            Series {
                label: "Done",
                class: "done",
            },
            Series {
                label: "Due",
                class: "due",
            },
        ];
        let groups = [
            Group {
                label: "W45".into(),
                values: vec![3, 5],
            },
            Group {
                label: "W46".into(),
                values: vec![0, 4],
            },
        ];
        let svg = bar_chart("Visits per week", &series, &groups).into_string();
        assert_eq!(svg.matches("<rect class=\"bar ").count(), 4);
        assert!(svg.contains("<title>W45 · Due: 5</title>"), "{svg}");
        assert!(!svg.contains("style="), "no inline style under the CSP");
    }
}
