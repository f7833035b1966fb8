//! PNG rendering of a chart's SVG, in-process with resvg, for slides.
//!
//! Text is drawn with DejaVu Sans, shipped in the repository (`assets/fonts/`, compiled
//! into the binary) and the only font resvg is given: no system font is looked up, so
//! a chart's PNG is the same on every machine with the same aesim.

use resvg::{tiny_skia, usvg};

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/DejaVuSans-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

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
}
