//! The one chart toolkit of aesim: every run chart (`report::charts`), sweep chart
//! (`sweep::chart`) and comparison chart (`compare`) is a [`Figure`] of [`Plot`]s drawn
//! here, with one palette, one way of labelling axes ([`units`]) and one SVG writer.
//!
//! Why its own SVG writer: charts must be byte-for-byte deterministic, need true
//! numeric and log axes with round ticks in human units, a legend beside the plot
//! (never over the data), and SVG that common converters draw right. The SVG uses only
//! plain shapes with opaque colours: no `opacity` attribute (ImageMagick 6's converter
//! fills a `<polyline>` carrying one as a black shape), no ids, no CSS, no clip paths.
//! [`png`] renders the same SVG in-process with a font shipped in the repository.
//!
//! Conventions the tests rely on: a data line is a `<polyline>` of stroke width
//! [`SERIES_STROKE_WIDTH`] in its series colour ([`series_color_hex`]); grid lines and
//! axes are thinner; bars and heat cells are `<rect>`s; every label is a `<text>`.
//! This module draws and returns text; it writes nothing and reads no file.

pub mod png;
pub mod units;

pub use units::{Unit, human};

use std::fmt::Write as _;

/// Stroke width of every data line (thicker than grid lines and axes).
pub const SERIES_STROKE_WIDTH: u32 = 2;

/// Font families written into every `<text>`; the first is the font [`png`] embeds.
pub const FONT_FAMILY: &str = "DejaVu Sans, Verdana, Arial, sans-serif";

/// An opaque colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#RRGGBB`, as the SVG writes it.
    pub fn hex(self) -> String {
        format!("#{:02X}{:02X}{:02X}", self.0, self.1, self.2)
    }

    /// This colour blended with white: `amount` 0 is white, 1 the colour itself. Used
    /// instead of transparency, which some SVG converters draw wrong.
    pub fn lighten(self, amount: f64) -> Rgb {
        let blend = |c: u8| (255.0 - amount * (255.0 - f64::from(c))).round() as u8;
        Rgb(blend(self.0), blend(self.1), blend(self.2))
    }
}

/// Series colours, in order (a colour-blind-safe ten-colour cycle).
const PALETTE: [Rgb; 10] = [
    Rgb(31, 119, 180),
    Rgb(255, 127, 14),
    Rgb(44, 160, 44),
    Rgb(214, 39, 40),
    Rgb(148, 103, 189),
    Rgb(140, 86, 75),
    Rgb(227, 119, 194),
    Rgb(188, 189, 34),
    Rgb(23, 190, 207),
    Rgb(64, 64, 64),
];

/// Colour of series `index`.
pub fn series_color(index: usize) -> Rgb {
    PALETTE[index % PALETTE.len()]
}

/// Colour of series `index` as SVG writes it (`#RRGGBB`).
pub fn series_color_hex(index: usize) -> String {
    series_color(index).hex()
}

const GRID: Rgb = Rgb(228, 228, 228);
const AXIS: Rgb = Rgb(80, 80, 80);
const TEXT: Rgb = Rgb(20, 20, 20);
const MUTED: Rgb = Rgb(100, 100, 100);

/// Dash patterns by series, so that lines lying on top of each other stay distinguishable.
const DASHES: [&str; 4] = ["", "9 4", "3 3", "12 3 3 3"];

/// How values map onto an axis.
#[derive(Clone, Debug, PartialEq)]
pub enum Scale {
    Linear {
        lo: f64,
        hi: f64,
    },
    /// Base-10 logarithmic; both ends positive.
    Log {
        lo: f64,
        hi: f64,
    },
    /// Named slots at 0, 1, 2, ... (the first at the top of a vertical axis).
    Category(Vec<String>),
}

impl Scale {
    /// A linear scale from zero (or the smallest value, if negative) to a little above the
    /// largest value; `0..1` when there is nothing to show.
    pub fn linear_from_zero(values: impl IntoIterator<Item = f64>) -> Scale {
        let (lo, hi) = values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if hi > lo {
            Scale::Linear {
                lo,
                hi: hi + (hi - lo) * 0.04,
            }
        } else {
            Scale::Linear { lo: 0.0, hi: 1.0 }
        }
    }

    /// A log scale over every positive value, widened to whole decades at the ends (or
    /// to 1-2-5 steps when the values span less than a decade); `None` if none is positive.
    pub fn log_covering(values: impl IntoIterator<Item = f64>) -> Option<Scale> {
        let (lo, hi) = values
            .into_iter()
            .filter(|v| v.is_finite() && *v > 0.0)
            .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if hi <= 0.0 {
            return None;
        }
        let lo = 10f64.powf(lo.log10().floor());
        let hi = 10f64.powf(hi.log10().ceil()).max(lo * 10.0);
        Some(Scale::Log { lo, hi })
    }

    /// Position of `v` along the axis, 0 at the start and 1 at the end (values outside
    /// the range are clamped, so a mark never leaves its plot).
    fn frac(&self, v: f64) -> f64 {
        let f = match self {
            Scale::Linear { lo, hi } => (v - lo) / (hi - lo),
            Scale::Log { lo, hi } => {
                if v <= 0.0 {
                    0.0
                } else {
                    (v.log10() - lo.log10()) / (hi.log10() - lo.log10())
                }
            }
            Scale::Category(names) => (v + 0.5) / names.len().max(1) as f64,
        };
        if f.is_finite() { f.clamp(0.0, 1.0) } else { 0.0 }
    }

    /// The lower end of the scale (where bars start).
    pub fn start(&self) -> f64 {
        match self {
            Scale::Linear { lo, .. } | Scale::Log { lo, .. } => *lo,
            Scale::Category(_) => -0.5,
        }
    }

    /// Tick positions and labels.
    fn ticks(&self, unit: Unit, target: usize) -> Vec<(f64, String)> {
        match self {
            Scale::Linear { lo, hi } => units::linear_ticks(*lo, *hi, unit, target),
            Scale::Log { lo, hi } => log_ticks(*lo, *hi, unit),
            Scale::Category(names) => names.iter().enumerate().map(|(i, n)| (i as f64, n.clone())).collect(),
        }
    }
}

/// Ticks of a log axis from `lo` to `hi`: round values in the unit (1-2-5 steps; for
/// seconds also 30 s, 1 min, 10 min, 1 h, ...), only the major ones when the axis spans
/// many decades.
fn log_ticks(lo: f64, hi: f64, unit: Unit) -> Vec<(f64, String)> {
    let mut candidates: Vec<(f64, bool)> = Vec::new();
    for k in -12..=15 {
        let decade = 10f64.powi(k);
        if unit == Unit::Seconds && decade >= 10.0 {
            continue;
        }
        candidates.extend([(decade, true), (2.0 * decade, false), (5.0 * decade, false)]);
    }
    if unit == Unit::Seconds {
        for (v, major) in [
            (10.0, true),
            (20.0, false),
            (30.0, false),
            (60.0, true),
            (120.0, false),
            (300.0, false),
            (600.0, true),
            (1200.0, false),
            (1800.0, false),
            (3600.0, true),
            (7200.0, false),
            (18000.0, false),
            (36000.0, true),
            (72000.0, false),
            (180000.0, false),
            (360000.0, true),
        ] {
            candidates.push((v, major));
        }
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let inside: Vec<(f64, bool)> = candidates
        .into_iter()
        .filter(|(v, _)| *v >= lo * 0.9999 && *v <= hi * 1.0001)
        .collect();
    let keep_minor = inside.len() <= 12;
    let mut ticks: Vec<(f64, String)> = inside
        .into_iter()
        .filter(|(_, major)| keep_minor || *major)
        .map(|(v, _)| (v, human(v, unit)))
        .collect();
    // Over very many decades, every other major tick.
    while ticks.len() > 12 {
        ticks = ticks.into_iter().step_by(2).collect();
    }
    ticks
}

/// One axis: scale, unit of its values and title.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub scale: Scale,
    pub unit: Unit,
    pub title: String,
}

impl Axis {
    pub fn new(scale: Scale, unit: Unit, title: impl Into<String>) -> Axis {
        Axis {
            scale,
            unit,
            title: title.into(),
        }
    }
}

/// Point marker shapes, by series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
}

impl Marker {
    /// The marker of series `index`.
    pub fn of(index: usize) -> Marker {
        [Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond][index % 4]
    }
}

/// Something drawn in a plot's data coordinates.
#[derive(Clone, Debug, PartialEq)]
pub enum Mark {
    /// A data line of series `series` (its colour, dash and marker); `markers` puts its
    /// marker on up to that many of its points (spread out, staggered by series).
    Line {
        series: usize,
        points: Vec<(f64, f64)>,
        markers: usize,
    },
    /// Markers only, at every point (`filled` or hollow).
    Points {
        series: usize,
        points: Vec<(f64, f64)>,
        filled: bool,
        size: f64,
    },
    /// Vertical error bars (x, low, high) in the series colour.
    ErrorBars { series: usize, bars: Vec<(f64, f64, f64)> },
    /// A filled rectangle between two data corners.
    Rect {
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
        fill: Rgb,
    },
    /// A dashed vertical line across the plot at `x`, labelled at its top.
    VLine { x: f64, label: String },
    /// A small text label anchored at a data point (left of it when `left`, else right).
    Label { x: f64, y: f64, text: String, left: bool },
}

/// One entry of a plot's legend.
#[derive(Clone, Debug, PartialEq)]
pub struct LegendEntry {
    pub label: String,
    pub series: usize,
    /// Drawn as a line with its marker (true) or a filled swatch (false).
    pub line: bool,
}

/// One plot: a title, two axes, marks and a legend (drawn to the right of the plot).
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub marks: Vec<Mark>,
    pub legend: Vec<LegendEntry>,
    /// Draw no grid (heatmaps).
    pub no_grid: bool,
    /// A one-line note drawn under the title.
    pub note: Option<String>,
}

impl Plot {
    pub fn new(title: impl Into<String>, x: Axis, y: Axis) -> Plot {
        Plot {
            title: title.into(),
            x,
            y,
            marks: Vec::new(),
            legend: Vec::new(),
            no_grid: false,
            note: None,
        }
    }

    /// Adds a line for series `series` with its legend entry.
    pub fn line(&mut self, series: usize, label: impl Into<String>, points: Vec<(f64, f64)>) {
        self.marks.push(Mark::Line {
            series,
            points,
            markers: 12,
        });
        self.legend.push(LegendEntry {
            label: label.into(),
            series,
            line: true,
        });
    }
}

/// A chart: a title and plots stacked vertically, each with its own height.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub width_px: u32,
    pub title: Option<String>,
    pub panels: Vec<(Plot, u32)>,
}

/// Width in pixels of `text` at `size` px: a fixed per-character estimate (DejaVu Sans
/// averages about 0.6 em), deterministic and slightly generous.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.6
}

/// Escapes text for SVG content and attributes.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A coordinate with one decimal: enough for pixels, and the same bytes everywhere.
fn px(v: f64) -> String {
    let text = format!("{v:.1}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_string)
}

struct Svg {
    out: String,
}

impl Svg {
    #[allow(clippy::too_many_arguments)]
    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, color: Rgb, width: f64, dash: &str) {
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        let _ = writeln!(
            self.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{dash}/>",
            px(x1),
            px(y1),
            px(x2),
            px(y2),
            color.hex(),
            px(width)
        );
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb, stroke: Option<Rgb>) {
        // An explicit "none": ImageMagick 6 outlines a rect that names no stroke.
        let stroke = stroke.map_or(" stroke=\"none\"".to_string(), |s| {
            format!(" stroke=\"{}\" stroke-width=\"1\"", s.hex())
        });
        let _ = writeln!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{stroke}/>",
            px(x),
            px(y),
            px(w.max(0.0)),
            px(h.max(0.0)),
            fill.hex()
        );
    }

    /// Text; `anchor` is start, middle or end; `rotate` turns it -90 degrees about (x, y).
    #[allow(clippy::too_many_arguments)]
    fn text(&mut self, x: f64, y: f64, text: &str, size: f64, anchor: &str, color: Rgb, rotate: bool, bold: bool) {
        // Rotated text is placed by translate-then-rotate at (0, 0): ImageMagick 6 ignores
        // the `rotate(angle cx cy)` form and draws nothing.
        let (x, y, transform) = if rotate {
            (
                0.0,
                0.0,
                format!(" transform=\"translate({} {}) rotate(-90)\"", px(x), px(y)),
            )
        } else {
            (x, y, String::new())
        };
        let weight = if bold { " font-weight=\"bold\"" } else { "" };
        let _ = writeln!(
            self.out,
            "<text x=\"{}\" y=\"{}\" font-family=\"{FONT_FAMILY}\" font-size=\"{}\" text-anchor=\"{anchor}\" fill=\"{}\"{weight}{transform}>{}</text>",
            px(x),
            px(y),
            px(size),
            color.hex(),
            escape(text)
        );
    }

    fn marker(&mut self, marker: Marker, x: f64, y: f64, r: f64, color: Rgb, filled: bool) {
        let fill = if filled { color.hex() } else { "#FFFFFF".into() };
        let style = format!("fill=\"{fill}\" stroke=\"{}\" stroke-width=\"1.5\"", color.hex());
        let _ = match marker {
            Marker::Circle => writeln!(
                self.out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" {style}/>",
                px(x),
                px(y),
                px(r)
            ),
            Marker::Square => writeln!(
                self.out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {style}/>",
                px(x - r),
                px(y - r),
                px(2.0 * r),
                px(2.0 * r)
            ),
            Marker::Triangle => writeln!(
                self.out,
                "<polygon points=\"{},{} {},{} {},{}\" {style}/>",
                px(x),
                px(y - r * 1.2),
                px(x - r * 1.1),
                px(y + r * 0.8),
                px(x + r * 1.1),
                px(y + r * 0.8)
            ),
            Marker::Diamond => writeln!(
                self.out,
                "<polygon points=\"{},{} {},{} {},{} {},{}\" {style}/>",
                px(x),
                px(y - r * 1.3),
                px(x + r * 1.1),
                px(y),
                px(x),
                px(y + r * 1.3),
                px(x - r * 1.1),
                px(y)
            ),
        };
    }
}

/// Legend rows of at most this many characters; longer labels are cut with an ellipsis.
const LEGEND_CHARS: usize = 44;

fn legend_label(label: &str) -> String {
    if label.chars().count() <= LEGEND_CHARS {
        label.to_string()
    } else {
        let cut: String = label.chars().take(LEGEND_CHARS - 1).collect();
        format!("{cut}…")
    }
}

impl Figure {
    /// A figure of one plot.
    pub fn single(width_px: u32, height_px: u32, plot: Plot) -> Figure {
        Figure {
            width_px,
            title: None,
            panels: vec![(plot, height_px)],
        }
    }

    /// The figure as SVG text.
    pub fn to_svg(&self) -> String {
        let title_px = if self.title.is_some() { 36.0 } else { 0.0 };
        let height: f64 = title_px + self.panels.iter().map(|(_, h)| f64::from(*h)).sum::<f64>();
        let width = f64::from(self.width_px);
        let mut svg = Svg { out: String::new() };
        let _ = writeln!(
            svg.out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\">",
            px(width),
            px(height),
            px(width),
            px(height)
        );
        svg.rect(0.0, 0.0, width, height, Rgb(255, 255, 255), None);
        if let Some(title) = &self.title {
            svg.text(16.0, 25.0, title, 18.0, "start", TEXT, false, false);
        }
        // One legend width for every panel, so that their plots line up.
        let legend_w = self
            .panels
            .iter()
            .flat_map(|(p, _)| &p.legend)
            .map(|e| text_width(&legend_label(&e.label), 12.0) + 44.0)
            .fold(0.0_f64, f64::max)
            .min(width * 0.4);
        let left = self
            .panels
            .iter()
            .map(|(p, _)| {
                let ticks = p.y.scale.ticks(p.y.unit, 5);
                ticks.iter().map(|(_, l)| text_width(l, 12.0)).fold(0.0_f64, f64::max) + 40.0
            })
            .fold(60.0_f64, f64::max);
        let mut top = title_px;
        for (plot, h) in &self.panels {
            draw_plot(
                &mut svg,
                plot,
                left,
                top,
                width - legend_w - 40.0,
                top + f64::from(*h),
                legend_w,
            );
            top += f64::from(*h);
        }
        svg.out.push_str("</svg>\n");
        svg.out
    }
}

/// Draws `plot` with its plot area spanning x `left..right` and its panel `top..bottom`;
/// the legend goes in the `legend_w` pixels right of `right`.
fn draw_plot(svg: &mut Svg, plot: &Plot, left: f64, top: f64, right: f64, bottom: f64, legend_w: f64) {
    let note_px = if plot.note.is_some() { 16.0 } else { 0.0 };
    let (area_top, area_bottom) = (top + 36.0 + note_px, bottom - 46.0);
    let (w, h) = (right - left, area_bottom - area_top);
    let sx = |v: f64| left + plot.x.scale.frac(v) * w;
    let sy = |v: f64| match plot.y.scale {
        Scale::Category(_) => area_top + plot.y.scale.frac(v) * h,
        _ => area_bottom - plot.y.scale.frac(v) * h,
    };
    svg.text(left, top + 22.0, &plot.title, 15.0, "start", TEXT, false, false);
    if let Some(note) = &plot.note {
        svg.text(left, top + 38.0, note, 11.0, "start", MUTED, false, false);
    }
    let frame = Frame {
        left,
        right,
        area_top,
        area_bottom,
    };
    draw_axes(svg, plot, &frame, &sx, &sy);
    for mark in &plot.marks {
        draw_mark(svg, mark, &frame, &sx, &sy);
    }
    let _ = legend_w;
    draw_legend(svg, plot, right + 16.0, area_top);
}

/// Where a plot's area is, in pixels.
struct Frame {
    left: f64,
    right: f64,
    area_top: f64,
    area_bottom: f64,
}

/// The grid, the ticks and their labels, the axes and their titles.
fn draw_axes(svg: &mut Svg, plot: &Plot, frame: &Frame, sx: &dyn Fn(f64) -> f64, sy: &dyn Fn(f64) -> f64) {
    let Frame {
        left,
        right,
        area_top,
        area_bottom,
    } = *frame;
    let (w, h) = (right - left, area_bottom - area_top);
    let x_ticks = plot.x.scale.ticks(plot.x.unit, ((w / 110.0) as usize).max(2));
    // Thin out x labels that would overlap their neighbours.
    let widest = x_ticks.iter().map(|(_, l)| text_width(l, 12.0)).fold(0.0_f64, f64::max) + 8.0;
    let every = if x_ticks.len() > 1 {
        let spacing = w / x_ticks.len() as f64;
        (widest / spacing).ceil().max(1.0) as usize
    } else {
        1
    };
    for (i, (v, label)) in x_ticks.iter().enumerate() {
        let x = sx(*v);
        if !plot.no_grid {
            svg.line(x, area_top, x, area_bottom, GRID, 1.0, "");
        }
        svg.line(x, area_bottom, x, area_bottom + 4.0, AXIS, 1.0, "");
        if i % every == 0 {
            svg.text(x, area_bottom + 17.0, label, 12.0, "middle", TEXT, false, false);
        }
    }
    for (v, label) in plot.y.scale.ticks(plot.y.unit, ((h / 60.0) as usize).max(2)) {
        let y = sy(v);
        if !plot.no_grid && !matches!(plot.y.scale, Scale::Category(_)) {
            svg.line(left, y, right, y, GRID, 1.0, "");
        }
        svg.line(left - 4.0, y, left, y, AXIS, 1.0, "");
        svg.text(left - 7.0, y + 4.0, &label, 12.0, "end", TEXT, false, false);
    }
    svg.line(left, area_bottom, right, area_bottom, AXIS, 1.0, "");
    svg.line(left, area_top, left, area_bottom, AXIS, 1.0, "");
    svg.text(
        (left + right) / 2.0,
        area_bottom + 36.0,
        &plot.x.title,
        13.0,
        "middle",
        TEXT,
        false,
        false,
    );
    let y_title_x = 16.0;
    svg.text(
        y_title_x,
        (area_top + area_bottom) / 2.0,
        &plot.y.title,
        13.0,
        "middle",
        TEXT,
        true,
        false,
    );
}

/// One mark of the plot: a rectangle, a line, points, error bars, a vertical line or a
/// label.
fn draw_mark(svg: &mut Svg, mark: &Mark, frame: &Frame, sx: &dyn Fn(f64) -> f64, sy: &dyn Fn(f64) -> f64) {
    let Frame {
        area_top, area_bottom, ..
    } = *frame;
    match mark {
        Mark::Rect { x0, y0, x1, y1, fill } => {
            let (a, b) = (sx(*x0), sx(*x1));
            let (c, d) = (sy(*y0), sy(*y1));
            svg.rect(a.min(b), c.min(d), (b - a).abs(), (d - c).abs(), *fill, None);
        }
        Mark::Line {
            series,
            points,
            markers,
        } => {
            let color = series_color(*series);
            let coords: Vec<String> = points
                .iter()
                .map(|&(x, y)| format!("{},{}", px(sx(x)), px(sy(y))))
                .collect();
            let dash = DASHES[*series % DASHES.len()];
            let dash = if dash.is_empty() {
                String::new()
            } else {
                format!(" stroke-dasharray=\"{dash}\"")
            };
            let _ = writeln!(
                svg.out,
                "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"{SERIES_STROKE_WIDTH}\" stroke-linejoin=\"round\"{dash} points=\"{}\"/>",
                color.hex(),
                coords.join(" ")
            );
            if *markers > 0 && !points.is_empty() {
                // Staggered by series so that coinciding lines show every marker.
                let stride = points.len().div_ceil(*markers).max(1);
                let offset = (series * stride / 4) % stride;
                for &(x, y) in points.iter().skip(offset).step_by(stride) {
                    svg.marker(Marker::of(*series), sx(x), sy(y), 3.5, color, true);
                }
            }
        }
        Mark::Points {
            series,
            points,
            filled,
            size,
        } => {
            for &(x, y) in points {
                svg.marker(Marker::of(*series), sx(x), sy(y), *size, series_color(*series), *filled);
            }
        }
        Mark::ErrorBars { series, bars } => {
            let color = series_color(*series);
            for &(x, lo, hi) in bars {
                let (x, a, b) = (sx(x), sy(lo), sy(hi));
                svg.line(x, a, x, b, color, 1.2, "");
                svg.line(x - 4.0, a, x + 4.0, a, color, 1.2, "");
                svg.line(x - 4.0, b, x + 4.0, b, color, 1.2, "");
            }
        }
        Mark::VLine { x, label } => {
            let x = sx(*x);
            svg.line(x, area_top, x, area_bottom, MUTED, 1.2, "5 4");
            svg.text(x - 4.0, area_top + 12.0, label, 11.0, "end", MUTED, false, false);
        }
        Mark::Label { x, y, text, left } => {
            let (x, y) = (sx(*x), sy(*y));
            if *left {
                svg.text(x - 5.0, y + 4.0, text, 11.0, "end", TEXT, false, false);
            } else {
                svg.text(x + 5.0, y + 4.0, text, 11.0, "start", TEXT, false, false);
            }
        }
    }
}

/// The legend: beside the plot, top-aligned, one row per entry.
fn draw_legend(svg: &mut Svg, plot: &Plot, lx: f64, area_top: f64) {
    for (i, entry) in plot.legend.iter().enumerate() {
        let y = area_top + 8.0 + i as f64 * 20.0;
        let color = series_color(entry.series);
        if entry.line {
            let dash = DASHES[entry.series % DASHES.len()];
            svg.line(lx, y, lx + 26.0, y, color, f64::from(SERIES_STROKE_WIDTH), dash);
            svg.marker(Marker::of(entry.series), lx + 13.0, y, 3.5, color, true);
        } else {
            svg.rect(lx + 4.0, y - 6.0, 18.0, 12.0, color, None);
        }
        svg.text(
            lx + 34.0,
            y + 4.0,
            &legend_label(&entry.label),
            12.0,
            "start",
            TEXT,
            false,
            false,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_lightened_without_transparency() {
        assert_eq!(Rgb(0, 0, 0).lighten(0.0), Rgb(255, 255, 255));
        assert_eq!(Rgb(31, 119, 180).lighten(1.0), Rgb(31, 119, 180));
        assert_eq!(series_color_hex(0), "#1F77B4");
    }

    #[test]
    fn log_scales_cover_whole_decades() {
        assert_eq!(
            Scale::log_covering([0.0, 35.0, 4_000.0]),
            Some(Scale::Log { lo: 10.0, hi: 10_000.0 })
        );
        assert_eq!(Scale::log_covering([0.0]), None);
        let ticks = Scale::Log { lo: 1.0, hi: 1000.0 }.ticks(Unit::Seconds, 5);
        let labels: Vec<&str> = ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "1 s", "2 s", "5 s", "10 s", "20 s", "30 s", "1 min", "2 min", "5 min", "10 min"
            ]
        );
        let ticks = Scale::Log { lo: 1e3, hi: 1e5 }.ticks(Unit::Bytes, 5);
        let labels: Vec<&str> = ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["1 kB", "2 kB", "5 kB", "10 kB", "20 kB", "50 kB", "100 kB"]);
    }

    #[test]
    fn a_figure_is_well_formed_and_has_no_opacity() {
        let mut plot = Plot::new(
            "t <&>",
            Axis::new(Scale::linear_from_zero([10.0]), Unit::Seconds, "time"),
            Axis::new(Scale::linear_from_zero([5.0]), Unit::Count, "keys"),
        );
        plot.line(0, "a", vec![(0.0, 1.0), (10.0, 5.0)]);
        plot.marks.push(Mark::VLine {
            x: 8.0,
            label: "writes stop".into(),
        });
        let svg = Figure::single(600, 300, plot).to_svg();
        assert!(!svg.contains("opacity"));
        assert!(svg.contains("t &lt;&amp;&gt;"));
        assert!(svg.contains("writes stop"));
    }
}
