//! PNG rendering of a chart's SVG, in-process with resvg, for slides.
//!
//! Text is drawn with DejaVu Sans, shipped in the repository (`assets/fonts/`, compiled
//! into the binary) and the only font resvg is given: no system font is looked up, so
//! a chart's PNG is the same on every machine with the same aesim.

use resvg::{tiny_skia, usvg};

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/DejaVuSans-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The widest or tallest PNG rendered, in pixels: aesim's largest chart, a sweep's
/// figure at twice its size, is under 2,000 pixels a side.
pub const MAX_SIDE_PX: u32 = 8192;
/// The most pixels a PNG may have: 64 MiB of pixmap.
pub const MAX_PIXELS: u64 = 16 << 20;

/// Renders `svg` to PNG bytes at `scale` (2.0 doubles the SVG's pixel size).
pub fn render(svg: &str, scale: f32) -> Result<Vec<u8>, String> {
    if !(scale.is_finite() && scale > 0.0 && scale <= 8.0) {
        return Err(format!("scale {scale} is not in (0, 8]"));
    }
    let mut options = usvg::Options {
        font_family: "DejaVu Sans".into(),
        ..usvg::Options::default()
    };
    options.fontdb_mut().load_font_data(FONT.to_vec());
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("cannot parse the SVG: {e}"))?;
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    // The declared size decides the pixmap's allocation (4 bytes a pixel): an SVG that
    // declares 20,000 x 20,000 would take 1.6 GB before a single mark is drawn.
    if w > MAX_SIDE_PX || h > MAX_SIDE_PX || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!(
            "the SVG declares {} x {} (rendered {w} x {h} pixels), larger than a chart aesim draws \
             (at most {MAX_SIDE_PX} pixels a side and {MAX_PIXELS} in all)",
            size.width(),
            size.height()
        ));
    }
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or_else(|| format!("cannot make a {w}x{h} image"))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| format!("cannot encode the PNG: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_chart_renders_to_a_png_with_text() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"80\" height=\"20\">\
                   <rect width=\"80\" height=\"20\" fill=\"#FFFFFF\"/>\
                   <text x=\"2\" y=\"15\" font-family=\"DejaVu Sans\" font-size=\"12\">Hello</text></svg>";
        let png = super::render(svg, 1.0).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert!(super::render("not svg", 1.0).is_err());
        assert!(super::render(svg, 0.0).is_err());
    }

    #[test]
    fn a_declared_size_beyond_any_chart_is_refused_before_allocating() {
        // Issue 27, defect 10: 100 bytes declaring 20,000 x 20,000 took 6.4 GB.
        let huge = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"20000\" height=\"20000\"/>";
        let error = super::render(huge, 2.0).unwrap_err();
        assert!(error.contains("declares 20000 x 20000"), "{error}");
        let tall = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"9000\"/>";
        assert!(super::render(tall, 1.0).is_err());
        let wide_and_tall = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"5000\" height=\"5000\"/>";
        assert!(super::render(wide_and_tall, 1.0).is_err());
    }
}
