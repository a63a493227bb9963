//! Charts drawn with `plotters` into SVG strings, to be inlined in a page.
//!
//! Each function takes figures that are already safe to publish (protected
//! counts, shares, metrics) and returns the SVG markup; it never sees
//! person-level data. Text is escaped by plotters' SVG backend.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use plotters::chart::SeriesLabelPosition;

/// Why a chart could not be drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartError {
    pub chart: &'static str,
    pub reason: String,
}

type Drawn = Result<String, ChartError>;

const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(29, 39, 51);
const MUTED: RGBColor = RGBColor(110, 120, 132);
const GRID: RGBColor = RGBColor(225, 229, 234);
const ACCENT: RGBColor = RGBColor(31, 95, 153);
const ORACLE: RGBColor = RGBColor(27, 122, 61);
const REDACTED: RGBColor = RGBColor(190, 196, 204);

/// Tier colours, highest risk first.
pub const TIER_COLOURS: [RGBColor; 4] = [
    RGBColor(165, 15, 21),
    RGBColor(222, 45, 38),
    RGBColor(251, 106, 74),
    RGBColor(252, 187, 161),
];

fn fail(chart: &'static str) -> impl Fn(String) -> ChartError {
    move |reason| ChartError { chart, reason }
}

/// Draws into a `width × height` SVG and tidies the root element: fixed
/// width/height become a responsive viewBox with an accessible label.
fn svg(
    chart: &'static str,
    size: (u32, u32),
    label: &str,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), String>,
) -> Drawn {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(chart)(e.to_string()))?;
        draw(&root).map_err(fail(chart))?;
        root.present().map_err(|e| fail(chart)(e.to_string()))?;
    }
    let from = format!("<svg width=\"{}\" height=\"{}\" ", size.0, size.1);
    let to = format!(
        "<svg role=\"img\" aria-label=\"{}\" preserveAspectRatio=\"xMidYMid meet\" ",
        super::html::escape(label)
    );
    if !out.starts_with(&from) {
        return Err(fail(chart)("unexpected SVG header from plotters".into()));
    }
    Ok(out.replacen(&from, &to, 1))
}

fn text_style(size: i32, colour: &'static RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font())
        .color(colour)
        .pos(Pos::new(h, v))
}

fn e<T: std::fmt::Display>(err: T) -> String {
    err.to_string()
}

/// One band of the risk pyramid.
pub struct PyramidBand {
    /// e.g. "Very high".
    pub name: String,
    /// e.g. "top 0.5% of risk".
    pub definition: String,
    /// e.g. "25 people" or "≤7 people" (already protected).
    pub people: String,
}

/// The population-health pyramid: bands of equal height (a schematic, not to
/// scale: the top tier is a tiny share), highest risk at the top, each
/// labelled with its definition and (protected) number of people.
pub fn pyramid(bands: &[PyramidBand]) -> Drawn {
    let size = (600, 360);
    svg(
        "risk-pyramid",
        size,
        "Risk pyramid: people per risk tier",
        |root| {
            let n = bands.len().max(1) as i32;
            let (top, bottom) = (10, 350);
            let (cx, half_base) = (150, 145);
            let band_h = (bottom - top) / n;
            let half_width = |y: i32| (half_base * (y - top)) / (bottom - top);
            for (k, band) in bands.iter().enumerate() {
                let k = k as i32;
                let (y0, y1) = (top + k * band_h, top + (k + 1) * band_h - 3);
                let (w0, w1) = (half_width(y0), half_width(y1));
                let colour = TIER_COLOURS[(k as usize).min(TIER_COLOURS.len() - 1)];
                root.draw(&Polygon::new(
                    vec![(cx - w0, y0), (cx + w0, y0), (cx + w1, y1), (cx - w1, y1)],
                    colour.filled(),
                ))
                .map_err(e)?;
                let mid = (y0 + y1) / 2;
                // Leader line from the band's right edge to its label.
                let edge = cx + half_width(mid) + 6;
                root.draw(&PathElement::new(vec![(edge, mid), (318, mid)], MUTED))
                    .map_err(e)?;
                root.draw(&Circle::new((318, mid), 4, colour.filled()))
                    .map_err(e)?;
                root.draw(&Text::new(
                    format!("{} — {}", band.name, band.people),
                    (328, mid - 11),
                    TextStyle::from((FONT, 24, FontStyle::Bold).into_font())
                        .color(&INK)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(e)?;
                root.draw(&Text::new(
                    band.definition.clone(),
                    (328, mid + 14),
                    text_style(19, &MUTED, HPos::Left, VPos::Center),
                ))
                .map_err(e)?;
            }
            Ok(())
        },
    )
}

/// A horizontal bar: label, value (None = withheld), optional interval and a
/// text shown at the end of the bar.
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub interval: Option<(f64, f64)>,
    pub text: String,
}

/// Horizontal bars, one per row, top to bottom in the given order; withheld
/// values are drawn as a short grey stub labelled with their text.
pub fn horizontal_bars(
    chart_id: &'static str,
    aria: &str,
    bars: &[Bar],
    x_desc: &str,
    colour: RGBColor,
    width: u32,
) -> Drawn {
    let rows = bars.len().max(1);
    let height = (70 + 34 * rows) as u32;
    let size = (width, height);
    let max = bars
        .iter()
        .map(|b| b.interval.map_or(b.value.unwrap_or(0.0), |i| i.1))
        .fold(0.0f64, f64::max);
    let x_max = if max > 0.0 { max * 1.18 } else { 1.0 };
    let n = bars.len() as i32;
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    svg(chart_id, size, aria, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .margin_right(20)
            .x_label_area_size(48)
            .y_label_area_size(230)
            .build_cartesian_2d(0f64..x_max, (0..n.max(1)).into_segmented())
            .map_err(e)?;
        let label_of = |v: &SegmentValue<i32>| match v {
            // Row 0 at the top: the axis grows upwards, so flip.
            SegmentValue::CenterOf(i) if *i >= 0 && (*i as usize) < labels.len() => {
                labels[labels.len() - 1 - *i as usize].clone()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .y_labels(rows)
            .y_label_formatter(&label_of)
            .x_labels(6)
            .x_label_formatter(&|v| super::format_number(*v))
            .x_desc(x_desc)
            .label_style((FONT, 18).into_font().color(&INK))
            .axis_desc_style((FONT, 17).into_font().color(&MUTED))
            .draw()
            .map_err(e)?;
        for (k, bar) in bars.iter().enumerate() {
            let row = n - 1 - k as i32;
            let (lo, hi) = (SegmentValue::Exact(row), SegmentValue::Exact(row + 1));
            let centre = SegmentValue::CenterOf(row);
            let (end, style) = match bar.value {
                Some(v) => (v, colour.filled()),
                None => (x_max * 0.01, REDACTED.filled()),
            };
            // Leave a gap between bars by drawing a slimmer rectangle.
            let mut rect = Rectangle::new([(0.0, lo), (end, hi)], style);
            rect.set_margin(5, 5, 0, 0);
            chart.draw_series(std::iter::once(rect)).map_err(e)?;
            let mut text_at = end;
            if let Some((l, u)) = bar.interval {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(l, centre.clone()), (u, centre.clone())],
                        INK.stroke_width(2),
                    )))
                    .map_err(e)?;
                text_at = text_at.max(u);
            }
            chart
                .draw_series(std::iter::once(Text::new(
                    format!(" {}", bar.text),
                    (text_at, centre),
                    text_style(17, &INK, HPos::Left, VPos::Center),
                )))
                .map_err(e)?;
        }
        Ok(())
    })
}

/// A column of the score histogram: share of people (None = withheld) and
/// the label under it (may be empty).
pub struct Column {
    pub label: String,
    pub share: Option<f64>,
}

/// Vertical bars of shares of people (e.g. per risk bin); withheld columns
/// are drawn as a grey stub.
pub fn columns(
    chart_id: &'static str,
    aria: &str,
    columns: &[Column],
    x_desc: &str,
    y_desc: &str,
) -> Drawn {
    let size = (900, 380);
    let n = columns.len() as i32;
    let max = columns
        .iter()
        .filter_map(|c| c.share)
        .fold(0.0f64, f64::max);
    let y_max = if max > 0.0 { max * 1.12 } else { 1.0 };
    let labels: Vec<String> = columns.iter().map(|c| c.label.clone()).collect();
    svg(chart_id, size, aria, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .x_label_area_size(48)
            .y_label_area_size(60)
            .build_cartesian_2d((0..n.max(1)).into_segmented(), 0f64..y_max)
            .map_err(e)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_labels(columns.len().max(1))
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) if *i >= 0 && (*i as usize) < labels.len() => {
                    labels[*i as usize].clone()
                }
                _ => String::new(),
            })
            .y_labels(6)
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style((FONT, 17).into_font().color(&INK))
            .axis_desc_style((FONT, 17).into_font().color(&MUTED))
            .draw()
            .map_err(e)?;
        for (i, c) in columns.iter().enumerate() {
            let i = i as i32;
            let (top, style) = match c.share {
                Some(s) => (s, ACCENT.filled()),
                None => (y_max * 0.015, REDACTED.filled()),
            };
            let mut rect = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), top),
                ],
                style,
            );
            rect.set_margin(0, 0, 3, 3);
            chart.draw_series(std::iter::once(rect)).map_err(e)?;
        }
        Ok(())
    })
}

/// A straight line from one point to another.
pub type Line = ((f64, f64), (f64, f64));

/// A curve on the unit square (ROC or precision–recall).
pub struct Curve {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Draw as a step function (precision–recall) rather than straight segments.
    pub steps: bool,
}

/// Curves on [0, 1]², with an optional reference line (`Some(((x0, y0), (x1, y1)), name)`).
pub fn unit_curves(
    chart_id: &'static str,
    aria: &str,
    curves: &[Curve],
    reference: Option<(Line, String)>,
    x_desc: &str,
    y_desc: &str,
    legend: SeriesLabelPosition,
) -> Drawn {
    let size = (560, 460);
    svg(chart_id, size, aria, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(54)
            .y_label_area_size(66)
            .build_cartesian_2d(0f64..1f64, 0f64..1.0001f64)
            .map_err(e)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style((FONT, 18).into_font().color(&INK))
            .axis_desc_style((FONT, 18).into_font().color(&MUTED))
            .draw()
            .map_err(e)?;
        if let Some(((a, b), name)) = &reference {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![*a, *b],
                    6,
                    4,
                    MUTED.stroke_width(1),
                ))
                .map_err(e)?
                .label(name.clone())
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], MUTED));
        }
        let colours = [ACCENT, ORACLE, TIER_COLOURS[1]];
        for (k, curve) in curves.iter().enumerate() {
            let colour = colours[k % colours.len()];
            let points: Vec<(f64, f64)> = if curve.steps {
                let mut out = Vec::with_capacity(curve.points.len() * 2);
                let mut last_x = 0.0;
                for &(x, y) in &curve.points {
                    out.push((last_x, y));
                    out.push((x, y));
                    last_x = x;
                }
                out
            } else {
                curve.points.clone()
            };
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(3)))
                .map_err(e)?
                .label(curve.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(legend)
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font((FONT, 18).into_font().color(&INK))
            .draw()
            .map_err(e)?;
        Ok(())
    })
}

/// One calibration point: mean predicted risk, observed rate and its 95% interval.
pub struct CalibrationPoint {
    pub predicted: f64,
    pub observed: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Observed against predicted risk per decile with 95% intervals and the
/// line of perfect calibration.
pub fn calibration(points: &[CalibrationPoint]) -> Drawn {
    let size = (560, 460);
    let max = points
        .iter()
        .flat_map(|p| [p.predicted, p.upper])
        .fold(0.0f64, f64::max);
    let top = if max > 0.0 { (max * 1.1).min(1.0) } else { 1.0 };
    svg(
        "chart-calibration",
        size,
        "Calibration: observed against predicted risk by decile",
        |root| {
            let mut chart = ChartBuilder::on(root)
                .margin(12)
                .x_label_area_size(54)
                .y_label_area_size(66)
                .build_cartesian_2d(0f64..top, 0f64..top)
                .map_err(e)?;
            chart
                .configure_mesh()
                .light_line_style(WHITE)
                .bold_line_style(GRID)
                .x_labels(6)
                .y_labels(6)
                .x_label_formatter(&|v| format!("{:.0}%", v * 100.0))
                .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
                .x_desc("Predicted risk (mean in decile)")
                .y_desc("Observed rate")
                .label_style((FONT, 18).into_font().color(&INK))
                .axis_desc_style((FONT, 18).into_font().color(&MUTED))
                .draw()
                .map_err(e)?;
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, 0.0), (top, top)],
                    6,
                    4,
                    MUTED.stroke_width(1),
                ))
                .map_err(e)?
                .label("perfect calibration")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], MUTED));
            chart
                .draw_series(points.iter().map(|p| {
                    PathElement::new(
                        vec![(p.predicted, p.lower), (p.predicted, p.upper)],
                        ACCENT.stroke_width(2),
                    )
                }))
                .map_err(e)?;
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|p| Circle::new((p.predicted, p.observed), 5, ACCENT.filled())),
                )
                .map_err(e)?
                .label("decile: observed (95% CI)")
                .legend(|(x, y)| Circle::new((x + 10, y), 5, ACCENT.filled()));
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.9))
                .border_style(GRID)
                .label_font((FONT, 18).into_font().color(&INK))
                .draw()
                .map_err(e)?;
            Ok(())
        },
    )
}
