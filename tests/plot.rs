//! Tests for `flowmatch::plot`: every figure is checked by counting the SVG
//! elements it must contain, by colours that follow from closed forms
//! (density = count / (n · Δx · Δy), viridis end points) and by the errors
//! promised for bad input.

use std::path::PathBuf;

use flowmatch::plot::{self, Figure, Heatmap, Lines, LossCurve, Quiver, Rgb, Scatter, TimeStrip, Trajectories};
use flowmatch::{batched, pointwise, Error, Points};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

fn gaussian(n: usize, dim: usize, seed: u64) -> Points {
    let mut rng = StdRng::seed_from_u64(seed);
    Points::from_fn(n, dim, |_, _| StandardNormal.sample(&mut rng))
}

fn count(svg: &str, tag: &str) -> usize {
    svg.matches(&format!("<{tag} ")).count()
}

fn count_fill(svg: &str, hex: &str) -> usize {
    svg.matches(&format!("fill=\"{hex}\"")).count()
}

/// A fresh, unique folder under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("flowmatch-plot-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `points` attribute of every element `<tag ...>`, as pixel pairs.
fn point_lists(svg: &str, tag: &str) -> Vec<Vec<(f64, f64)>> {
    svg.split(&format!("<{tag} "))
        .skip(1)
        .map(|el| {
            let start = el.find("points=\"").expect("points attribute") + 8;
            let body = &el[start..start + el[start..].find('"').unwrap()];
            body.split_whitespace()
                .map(|pair| {
                    let (x, y) = pair.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

fn assert_svg(fig: &Figure) {
    let svg = fig.svg();
    assert!(svg.starts_with("<svg"), "SVG must start with <svg, got {:?}", &svg[..svg.len().min(40)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(&format!("width=\"{}\"", fig.width())));
    assert!(svg.contains(&format!("height=\"{}\"", fig.height())));
}

// ---------------------------------------------------------------- Figure

#[test]
fn save_writes_exactly_the_svg_and_leaves_no_temp_file() {
    let x = gaussian(20, 2, 1);
    let fig = plot::scatter(&[("data", &x)]).unwrap();
    let dir = temp_dir("save");
    let path = dir.join("scatter.svg");
    fig.save(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), fig.svg());
    // Saving again replaces the file; only the target is left in the folder.
    fig.save(&path).unwrap();
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("scatter.svg")]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn save_into_missing_folder_is_an_io_error_naming_the_path() {
    let x = gaussian(5, 2, 2);
    let fig = plot::scatter(&[("data", &x)]).unwrap();
    let dir = temp_dir("missing");
    let path = dir.join("no-such-folder").join("fig.svg");
    match fig.save(&path) {
        Err(Error::Io { path: p, .. }) => assert_eq!(p, path.display().to_string()),
        other => panic!("expected Error::Io, got {other:?}"),
    }
    assert!(!path.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn evcxr_block_wraps_the_svg_with_the_mime_header() {
    let x = gaussian(5, 2, 3);
    let fig = plot::scatter(&[("data", &x)]).unwrap();
    let block = fig.to_evcxr();
    // One output, two representations: the responsive inline SVG as HTML, and the SVG document.
    let (html, svg) = block.split_once("\nEVCXR_END_CONTENT\n").unwrap();
    assert_eq!(html, format!("EVCXR_BEGIN_CONTENT text/html\n{}", fig.responsive_svg().trim_end()));
    assert_eq!(svg, format!("EVCXR_BEGIN_CONTENT image/svg+xml\n{}\nEVCXR_END_CONTENT", fig.svg().trim_end()));
}

#[test]
fn the_notebook_svg_shrinks_to_the_page_and_keeps_its_aspect() {
    let x = gaussian(5, 2, 3);
    let fig = Scatter::new().layer("data", &x).size(1340, 270).build().unwrap();
    let svg = fig.responsive_svg();
    let open = &svg[..svg.find('>').unwrap()];
    // Never wider than the page nor than its own size; the viewBox keeps the drawing's aspect.
    assert!(open.contains("width:100%") && open.contains("max-width:1340px") && open.contains("height:auto"), "{open}");
    assert!(open.contains("viewBox=\"0 0 1340 270\""), "{open}");
    // The saved file keeps the fixed size.
    assert!(!fig.svg()[..fig.svg().find('>').unwrap()].contains("max-width"));
}

#[test]
fn panels_compose_figures_into_one_svg_with_a_title() {
    let x = gaussian(30, 2, 7);
    let a = Scatter::new().layer("a", &x).size(300, 200).build().unwrap();
    let b = Scatter::new().layer("b", &x).size(200, 260).build().unwrap();
    let c = Scatter::new().layer("c", &x).size(250, 150).build().unwrap();
    let one_row = plot::row([a.clone(), b.clone(), c.clone()]).unwrap();
    assert_svg(&one_row);
    assert_eq!((one_row.width(), one_row.height()), (750, 260));
    // Each panel is nested whole: its dots are all there.
    assert_eq!(
        count(one_row.svg(), "circle"),
        count(a.svg(), "circle") + count(b.svg(), "circle") + count(c.svg(), "circle")
    );
    assert_eq!(one_row.svg().matches("<svg x=").count(), 3);
    let two_cols = plot::Panels::new([a, b, c]).columns(2).title("three & more").build().unwrap();
    // Columns as wide as their widest panel, rows as tall as their tallest, plus the title band.
    assert_eq!((two_cols.width(), two_cols.height()), (300 + 200, 36 + 260 + 150));
    assert!(two_cols.svg().contains(">three &amp; more</text>"));
    // The third panel starts the second row, centred in the first column.
    assert!(
        two_cols.svg().contains("<svg x=\"25\" y=\"296\" width=\"250\" height=\"150\""),
        "{}",
        &two_cols.svg()[..400]
    );
    assert!(matches!(plot::row(Vec::<Figure>::new()), Err(Error::Plot { .. })));
    // Figures by reference compose the same (a notebook cell keeps its variables that way).
    let figs = vec![Scatter::new().layer("a", &x).size(300, 200).build().unwrap(); 2];
    assert_eq!(plot::grid(&figs, 1).unwrap(), plot::grid(figs.clone(), 1).unwrap());
    assert_eq!(plot::row(figs.iter()).unwrap().width(), 600);
    assert!(matches!(plot::grid([two_cols.clone()], 0), Err(Error::ZeroCount { .. })));
}

#[test]
fn every_figure_shown_is_logged_when_asked() {
    let log = temp_dir("figure-log").join("figures.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let x = gaussian(5, 2, 3);
    let fig = plot::scatter(&[("data", &x)]).unwrap();
    // The environment is process-wide: this test is the only one that sets the variable.
    std::env::set_var(plot::FIGURE_LOG_ENV, &log);
    fig.evcxr_display();
    plot::row([fig.clone(), fig]).unwrap().evcxr_display();
    std::env::remove_var(plot::FIGURE_LOG_ENV);
    let lines: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(lines, vec!["figure 480x480".to_string(), "figure 960x480".to_string()]);
    std::fs::remove_dir_all(log.parent().unwrap()).unwrap();
}

#[test]
fn size_title_and_escaping() {
    let x = gaussian(10, 2, 4);
    let fig = Scatter::new().layer("data", &x).title("p_0 < p_1 & more").size(300, 200).build().unwrap();
    assert_svg(&fig);
    assert_eq!((fig.width(), fig.height()), (300, 200));
    assert!(fig.svg().contains("p_0 &lt; p_1 &amp; more"));
    assert!(matches!(Scatter::new().layer("d", &x).size(50, 300).build(), Err(Error::InvalidParameter { .. })));
    assert!(matches!(Scatter::new().layer("d", &x).size(300, 5000).build(), Err(Error::SizeLimit { .. })));
    assert!(matches!(Scatter::new().layer("d", &x).x_range(1.0, 1.0).build(), Err(Error::InvalidParameter { .. })));
    assert!(matches!(
        Scatter::new().layer("d", &x).y_range(f64::NAN, 1.0).build(),
        Err(Error::InvalidParameter { .. })
    ));
}

// ---------------------------------------------------------------- scatter

#[test]
fn scatter_draws_one_dot_per_point_plus_legend() {
    let data = gaussian(50, 2, 5);
    let gen = gaussian(30, 2, 6);
    let fig = plot::scatter(&[("data", &data), ("samples", &gen)]).unwrap();
    assert_svg(&fig);
    let svg = fig.svg();
    // 80 dots and one legend dot per layer.
    assert_eq!(count(svg, "circle"), 50 + 30 + 2);
    assert!(svg.contains("data") && svg.contains("samples"));
    // The two layers use the first two palette colours.
    assert_eq!(count_fill(svg, "#1F77B4"), 51);
    assert_eq!(count_fill(svg, "#FF7F0E"), 31);
}

#[test]
fn scatter_skips_non_finite_points_and_clips_to_the_range() {
    let mut x = Points::from_fn(10, 2, |i, d| if d == 0 { i as f64 } else { 0.0 });
    x.row_mut(2)[0] = f64::NAN;
    x.row_mut(5)[1] = f64::INFINITY;
    let fig = plot::scatter(&[("x", &x)]).unwrap();
    assert_eq!(count(fig.svg(), "circle"), 8 + 1);
    // x in {0, 1, 3, 4} lie in [-0.5, 4.5]; 6..9 are clipped away.
    let fig = Scatter::new().layer("x", &x).x_range(-0.5, 4.5).y_range(-1.0, 1.0).build().unwrap();
    assert_eq!(count(fig.svg(), "circle"), 4 + 1);
}

#[test]
fn scatter_rejects_bad_input() {
    let three_d = gaussian(10, 3, 7);
    assert!(matches!(plot::scatter(&[("x", &three_d)]), Err(Error::ShapeMismatch { .. })));
    let empty = Points::zeros(0, 2);
    assert!(matches!(plot::scatter(&[("x", &empty)]), Err(Error::Plot { .. })));
    let nan = Points::from_fn(4, 2, |_, _| f64::NAN);
    assert!(matches!(plot::scatter(&[("x", &nan)]), Err(Error::NonFinite { .. })));
    assert!(matches!(plot::scatter(&[]), Err(Error::Plot { .. })));
    let x = gaussian(4, 2, 8);
    assert!(matches!(Scatter::new().layer("x", &x).opacity(1.5).build(), Err(Error::InvalidParameter { .. })));
}

// ---------------------------------------------------------------- heatmaps

#[test]
fn histogram_colours_follow_the_density_formula() {
    // Unit square, 2 × 2 cells of area 1/4: 3 samples in the lower-left cell
    // and 1 in the upper-right give densities 3 / (4 · 1/4) = 3 and 1.
    let x = Points::from_rows(&[[0.2, 0.2], [0.3, 0.1], [0.1, 0.4], [0.8, 0.9]]).unwrap();
    let fig = Heatmap::histogram(&x).bins(2).x_range(0.0, 1.0).y_range(0.0, 1.0).color_range(0.0, 6.0).build().unwrap();
    assert_svg(&fig);
    // Density 3 is the middle of [0, 6]: viridis(0.5) = #21918C, one cell.
    assert_eq!(count_fill(fig.svg(), "#21918C"), 1);
    // The two empty cells get viridis(0) = #440154.
    assert_eq!(count_fill(fig.svg(), "#440154"), 2);
    // Default colour range: the largest density maps to viridis(1) = #FDE725.
    let fig = Heatmap::histogram(&x).bins(2).x_range(0.0, 1.0).y_range(0.0, 1.0).build().unwrap();
    assert_eq!(count_fill(fig.svg(), "#FDE725"), 1);
}

#[test]
fn histogram_draws_one_cell_per_bin() {
    let x = gaussian(500, 2, 9);
    let rects = |bins| count(plot::histogram2d(&x, bins).unwrap().svg(), "rect");
    assert_eq!(rects(12) - rects(8), 12 * 12 - 8 * 8);
    assert!(matches!(plot::histogram2d(&x, 0), Err(Error::ZeroCount { .. })));
    assert!(matches!(plot::histogram2d(&x, 10_000), Err(Error::SizeLimit { .. })));
    assert!(matches!(plot::histogram2d(&gaussian(5, 1, 1), 10), Err(Error::ShapeMismatch { .. })));
}

#[test]
fn function_heatmap_maps_min_and_max_to_the_colour_map_ends() {
    // f(x, y) = x on [0, 1]²: the left column is the minimum, the right column the maximum.
    let fig = plot::heatmap(|x, _| x, (0.0, 1.0), 10).unwrap();
    assert_svg(&fig);
    assert_eq!(count_fill(fig.svg(), "#440154"), 10);
    assert_eq!(count_fill(fig.svg(), "#FDE725"), 10);
    // Non-finite values (e.g. log 0) leave their cells blank.
    let all = count(fig.svg(), "rect");
    let half = plot::heatmap(|x, _| if x < 0.5 { f64::NEG_INFINITY } else { x }, (0.0, 1.0), 10).unwrap();
    assert_eq!(all - count(half.svg(), "rect"), 50);
    assert!(matches!(plot::heatmap(|_, _| f64::NAN, (0.0, 1.0), 4), Err(Error::NonFinite { .. })));
    assert!(matches!(plot::heatmap(|x, _| x, (1.0, 0.0), 4), Err(Error::InvalidParameter { .. })));
}

#[test]
fn values_heatmap_matches_the_function_it_was_computed_from() {
    let f = |x: f64, y: f64| x * x - y;
    let cells = Heatmap::cell_centres((-1.0, 2.0), (0.0, 1.0), 12);
    assert_eq!(cells.len(), 144);
    assert_eq!(cells.row(13), &[-1.0 + 1.5 * 0.25, 1.5 / 12.0][..], "column 1 of row 1, from the bottom left");
    let values: Vec<f64> = cells.rows().map(|c| f(c[0], c[1])).collect();
    let a = Heatmap::values(&values, 12).x_range(-1.0, 2.0).y_range(0.0, 1.0).build().unwrap();
    let b = Heatmap::function(f).bins(12).x_range(-1.0, 2.0).y_range(0.0, 1.0).build().unwrap();
    assert_eq!(a.svg(), b.svg());
    let err = Heatmap::values(&values, 11).build().unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
}

/// Standard base64 back to bytes (for reading a raster heatmap's image).
fn unbase64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let mut out = Vec::new();
    for q in s.as_bytes().chunks(4) {
        let n = q
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | (if c == b'=' { 0 } else { val(c) as u32 }) << (18 - 6 * i));
        let pad = q.iter().filter(|&&c| c == b'=').count();
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    out
}

#[test]
fn fine_heatmaps_are_one_embedded_image_with_the_same_colours() {
    let n = plot::VECTOR_BINS + 1;
    // f = y on [0, 1]²: the top row of the image is the maximum, the bottom row the minimum.
    let fig = Heatmap::function(|_, y| y).bins(n).x_range(0.0, 1.0).y_range(0.0, 1.0).build().unwrap();
    assert_svg(&fig);
    assert_eq!(count(fig.svg(), "image"), 1);
    assert!(count(fig.svg(), "rect") < 100, "no rectangle per cell");
    let coarse = Heatmap::function(|_, y| y).bins(plot::VECTOR_BINS).build().unwrap();
    assert_eq!(count(coarse.svg(), "image"), 0);
    assert!(fig.svg().len() < coarse.svg().len() / 4, "{} vs {} bytes", fig.svg().len(), coarse.svg().len());
    let uri = fig.svg().split("base64,").nth(1).unwrap().split('"').next().unwrap();
    let png = unbase64(uri);
    assert_eq!(&png[1..4], b"PNG");
    assert_eq!(
        (u32::from_be_bytes(png[16..20].try_into().unwrap()), u32::from_be_bytes(png[20..24].try_into().unwrap())),
        (n as u32, n as u32)
    );
    // Stored deflate: signature, IHDR, IDAT's length and type, zlib header, block header, then rows
    // of a filter byte and 3 bytes per pixel.
    let row = |r: usize| 8 + 25 + 8 + 2 + 5 + r * (1 + 3 * n) + 1;
    assert_eq!(&png[row(0)..row(0) + 3], &[0xFD, 0xE7, 0x25], "viridis(1) at the top");
    assert_eq!(&png[row(n - 1)..row(n - 1) + 3], &[0x44, 0x01, 0x54], "viridis(0) at the bottom");
    // The diverging map is white at 0 and symmetric: f = x on [−1, 1]².
    let div = Heatmap::function(|x, _| x).bins(n).x_range(-1.0, 1.0).y_range(-1.0, 1.0).diverging().build().unwrap();
    let png = unbase64(div.svg().split("base64,").nth(1).unwrap().split('"').next().unwrap());
    let (left, mid, right) = (row(0), row(0) + 3 * (n / 2), row(0) + 3 * (n - 1));
    assert_eq!(&png[mid..mid + 3], &[255, 255, 255]);
    assert!(png[left + 2] > png[left] && png[right] > png[right + 2], "blue for negative, red for positive");
}

// ---------------------------------------------------------------- quiver

#[test]
fn quiver_draws_one_arrow_per_grid_cell() {
    let field = pointwise(|x: &[f64], _t| vec![1.0 + x[0] * x[0], x[1]]);
    let fig = plot::quiver(&field, 0.5, (-2.0, 2.0), 10).unwrap();
    assert_svg(&fig);
    assert_eq!(count(fig.svg(), "polygon"), 100, "one arrow head per cell");
}

#[test]
fn quiver_arrows_point_along_the_field() {
    // u = (1, 0): every head's tip lies right of its two base corners.
    let right = pointwise(|_x: &[f64], _t| vec![1.0, 0.0]);
    let heads = point_lists(plot::quiver(&right, 0.0, (-1.0, 1.0), 4).unwrap().svg(), "polygon");
    assert_eq!(heads.len(), 16);
    for h in &heads {
        assert!(h[0].0 > h[1].0 && h[0].0 > h[2].0 && h[1].0 == h[2].0, "{h:?}");
    }
    // u = (0, 2t) at t = 1: upwards, i.e. smaller pixel y (SVG y grows downwards).
    let up = pointwise(|_x: &[f64], t| vec![0.0, 2.0 * t]);
    let heads = point_lists(plot::quiver(&up, 1.0, (-1.0, 1.0), 4).unwrap().svg(), "polygon");
    assert_eq!(heads.len(), 16);
    for h in &heads {
        assert!(h[0].1 < h[1].1 && h[0].1 < h[2].1, "{h:?}");
    }
}

#[test]
fn quiver_zero_field_draws_dots_and_magnitude_colouring_adds_a_colour_bar() {
    let zero = pointwise(|_x: &[f64], _t| vec![0.0, 0.0]);
    let fig = plot::quiver(&zero, 0.0, (-1.0, 1.0), 5).unwrap();
    assert_eq!(count(fig.svg(), "polygon"), 0);
    assert_eq!(count(fig.svg(), "circle"), 25);
    let rot = pointwise(|x: &[f64], _t| vec![-x[1], x[0]]);
    let plain = Quiver::new(&rot, 0.0).grid(6).build().unwrap();
    let coloured = Quiver::new(&rot, 0.0).grid(6).color_by_magnitude(true).build().unwrap();
    assert_eq!(count(coloured.svg(), "polygon"), 36);
    assert!(count(coloured.svg(), "rect") > count(plain.svg(), "rect") + 32, "colour bar rectangles");
}

#[test]
fn quiver_rejects_bad_fields() {
    let three = batched(|x: &Points, _t| Points::zeros(x.len(), 3));
    assert!(matches!(plot::quiver(&three, 0.0, (-1.0, 1.0), 3), Err(Error::ShapeMismatch { .. })));
    let singular = pointwise(|x: &[f64], t| vec![x[0] / (1.0 - t), 0.0]);
    assert!(matches!(plot::quiver(&singular, 1.0, (-1.0, 1.0), 3), Err(Error::NonFinite { .. })));
    let ok = pointwise(|_x: &[f64], _t| vec![1.0, 0.0]);
    assert!(matches!(plot::quiver(&ok, 0.0, (-1.0, 1.0), 0), Err(Error::ZeroCount { .. })));
    assert!(matches!(plot::quiver(&ok, f64::NAN, (-1.0, 1.0), 3), Err(Error::NonFinite { .. })));
}

// ---------------------------------------------------------------- trajectories

/// States of the straight paths x_t = (1 − t) x_0 + t x_1 at `k` equally spaced times.
fn straight_paths(n: usize, k: usize) -> Vec<Points> {
    let x0 = gaussian(n, 2, 10);
    let x1 = gaussian(n, 2, 11);
    (0..k)
        .map(|s| {
            let t = s as f64 / (k - 1) as f64;
            x0.plus_scaled(t, &x1.plus_scaled(-1.0, &x0))
        })
        .collect()
}

#[test]
fn trajectories_draw_paths_with_marked_ends() {
    let states = straight_paths(20, 6);
    let fig = plot::trajectories(&states, 5).unwrap();
    assert_svg(&fig);
    let svg = fig.svg();
    // 5 starts + 5 ends + 2 legend dots.
    assert_eq!(count(svg, "circle"), 12);
    // Every path is one polyline through all 6 states.
    let paths: Vec<_> = point_lists(svg, "polyline").into_iter().filter(|p| p.len() == 6).collect();
    assert_eq!(paths.len(), 5);
    // States lie on straight lines, so each polyline is (nearly) collinear in pixels.
    for p in &paths {
        let (a, b) = (p[0], p[5]);
        for q in &p[1..5] {
            let cross = (b.0 - a.0) * (q.1 - a.1) - (b.1 - a.1) * (q.0 - a.0);
            let len = (b.0 - a.0).hypot(b.1 - a.1).max(1.0);
            assert!(cross.abs() / len <= 1.5, "vertex {q:?} is {} px off the line", cross.abs() / len);
        }
    }
    // max_paths above n draws all n paths.
    assert_eq!(count(plot::trajectories(&states, 100).unwrap().svg(), "circle"), 42);
}

#[test]
fn trajectories_reject_bad_input() {
    let states = straight_paths(10, 3);
    assert!(matches!(plot::trajectories(&states[..1], 5), Err(Error::Plot { .. })));
    assert!(matches!(plot::trajectories(&states, 0), Err(Error::ZeroCount { .. })));
    let mixed = vec![states[0].clone(), gaussian(9, 2, 1)];
    assert!(matches!(plot::trajectories(&mixed, 5), Err(Error::ShapeMismatch { .. })));
    let three = vec![gaussian(4, 3, 1), gaussian(4, 3, 2)];
    assert!(matches!(plot::trajectories(&three, 5), Err(Error::ShapeMismatch { .. })));
    // A diverged path is cut at the non-finite state but still drawn.
    let mut blown = straight_paths(1, 4);
    blown[2].row_mut(0)[0] = f64::NAN;
    let fig = Trajectories::new(&blown).build().unwrap();
    let pieces = point_lists(fig.svg(), "polyline");
    assert!(pieces.iter().any(|p| p.len() == 2), "segment 0→1 survives");
}

// ---------------------------------------------------------------- time strip

#[test]
fn time_strip_has_one_titled_panel_per_time() {
    let states = straight_paths(40, 5);
    let times = [0.0, 0.25, 0.5, 0.75, 1.0];
    let fig = plot::time_strip(&states, &times).unwrap();
    assert_svg(&fig);
    let svg = fig.svg();
    for t in ["t = 0\n", "t = 0.25\n", "t = 0.5\n", "t = 0.75\n", "t = 1\n"] {
        assert!(svg.contains(t), "missing panel title {t:?}");
    }
    assert_eq!(count(svg, "circle"), 5 * 40);
    let titled = TimeStrip::new(&states, &times).title("p_t along the path").build().unwrap();
    assert!(titled.svg().contains("p_t along the path"));
    assert!(matches!(plot::time_strip(&states, &times[..4]), Err(Error::ShapeMismatch { .. })));
    assert!(matches!(plot::time_strip(&[], &[]), Err(Error::Plot { .. })));
}

// ---------------------------------------------------------------- loss curve

#[test]
fn loss_curve_draws_raw_and_smoothed_curves() {
    let losses: Vec<f64> = (0..100).map(|k| 1.0 / (1.0 + k as f64)).collect();
    let fig = plot::loss_curve(&losses).unwrap();
    assert_svg(&fig);
    let curves: Vec<_> = point_lists(fig.svg(), "polyline").into_iter().filter(|p| p.len() > 2).collect();
    assert_eq!(curves.len(), 1);
    assert_eq!(curves[0].len(), 100);
    // A decreasing loss gives a curve going down: pixel y increases.
    assert!(curves[0].windows(2).all(|w| w[1].1 >= w[0].1));
    assert!(fig.svg().contains(">\nstep\n<") && fig.svg().contains(">\nloss\n<"));
}

#[test]
fn loss_curve_legend_swatches_look_like_their_curves() {
    let losses: Vec<f64> = (0..200).map(|k| 1.0 / (1.0 + k as f64) + 0.1 * ((k % 7) as f64)).collect();
    let fig = LossCurve::new(&losses).smooth(20).build().unwrap();
    // Legend swatches are the two-point polylines; the raw one is faint and thin, the average bold.
    let swatches: Vec<&str> = fig
        .svg()
        .split("<polyline")
        .skip(1)
        .map(|p| &p[..p.find("/>").unwrap()])
        .filter(|p| p.matches(',').count() == 2 && p.contains("#1F77B4"))
        .collect();
    assert_eq!(swatches.len(), 2, "{swatches:?}");
    let attrs = |s: &str| (s.contains("opacity=\"0.3\""), s.contains("stroke-width=\"2\""));
    assert_eq!(attrs(swatches[0]), (true, false), "raw swatch: {}", swatches[0]);
    assert_eq!(attrs(swatches[1]), (false, true), "average swatch: {}", swatches[1]);
}

#[test]
fn moving_average_of_an_alternating_loss_is_flat() {
    // ℓ_k = 2 + (−1)^k: windows of 2 average to exactly 2 from k = 1 on.
    let losses: Vec<f64> = (0..60).map(|k| if k % 2 == 0 { 3.0 } else { 1.0 }).collect();
    let fig = LossCurve::new(&losses).smooth(2).build().unwrap();
    let curves: Vec<_> = point_lists(fig.svg(), "polyline").into_iter().filter(|p| p.len() == 60).collect();
    assert_eq!(curves.len(), 2, "raw and smoothed");
    let smooth = &curves[1];
    assert!(smooth[1..].iter().all(|p| p.1 == smooth[1].1), "flat after the first step");
    assert!(smooth[0].1 < smooth[1].1, "first value is 3 > 2 (higher on screen)");
    assert!(fig.svg().contains("moving average (2 steps)"));
}

#[test]
fn loss_curve_handles_bad_values() {
    let mut losses = vec![0.5; 30];
    losses[7] = f64::NAN;
    let fig = plot::loss_curve(&losses).unwrap();
    assert!(point_lists(fig.svg(), "polyline").iter().any(|p| p.len() == 29));
    assert!(matches!(plot::loss_curve(&[]), Err(Error::Plot { .. })));
    assert!(matches!(plot::loss_curve(&[f64::NAN; 3]), Err(Error::NonFinite { .. })));
    assert!(matches!(LossCurve::new(&[1.0, -0.1]).log_y(true).build(), Err(Error::InvalidParameter { .. })));
    assert_svg(&LossCurve::new(&[1.0, 0.1, 0.01]).log_y(true).build().unwrap());
}

// ---------------------------------------------------------------- lines

#[test]
fn a_legend_too_wide_for_one_row_wraps_onto_more() {
    let xy: Vec<(f64, f64)> = vec![(1.0, 1.0), (2.0, 0.5)];
    let labels: Vec<String> = (0..8).map(|k| format!("a rather long series label number {k}")).collect();
    let fig = labels.iter().fold(Lines::new(), |l, label| l.series(label.as_str(), &xy)).build().unwrap();
    assert_svg(&fig);
    let svg = fig.svg();
    // (x, y) of each label's text element.
    let place = |label: &str| -> (f64, f64) {
        let end = svg.find(&format!(">\n{label}\n<")).unwrap_or_else(|| panic!("missing legend text {label}"));
        let start = svg[..end].rfind("<text").unwrap();
        let attr = |name: &str| -> f64 {
            let tag = &svg[start..end];
            let k = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            tag[k..].split('"').next().unwrap().parse().unwrap()
        };
        (attr("x"), attr("y"))
    };
    let places: Vec<(f64, f64)> = labels.iter().map(|l| place(l)).collect();
    assert!(places.iter().all(|&(x, _)| x > 0.0 && x < fig.width() as f64), "{places:?}");
    let mut rows: Vec<i64> = places.iter().map(|p| p.1.round() as i64).collect();
    rows.dedup();
    assert!(rows.len() >= 2, "eight long labels cannot share one row of 600 px: {places:?}");
}

#[test]
fn lines_chart_has_series_markers_labels_and_log_axis() {
    let euler: Vec<(f64, f64)> = [4.0, 8.0, 16.0, 32.0].iter().map(|&n| (n, 1.0 / n)).collect();
    let rk4: Vec<(f64, f64)> = [4.0, 8.0, 16.0, 32.0].iter().map(|&n| (n, 1.0 / (n * n))).collect();
    let fig = plot::lines(&[("Euler", &euler), ("RK4", &rk4)], "NFE", "W2", true).unwrap();
    assert_svg(&fig);
    let svg = fig.svg();
    assert_eq!(count(svg, "circle"), 8 + 2, "a dot per point plus the legend");
    for text in ["Euler", "RK4", "NFE", "W2"] {
        assert!(svg.contains(&format!(">\n{text}\n<")), "missing text {text}");
    }
    // On a log x axis, NFE = 4, 8, 16, 32 are equally spaced in pixels.
    let euler_line = point_lists(svg, "polyline").into_iter().find(|p| p.len() == 4).unwrap();
    let gaps: Vec<f64> = euler_line.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(gaps.iter().all(|g| (g - gaps[0]).abs() <= 1.0), "{gaps:?}");
    // On a log-log chart, y = 1/n² is a straight line.
    let fig = Lines::new().series("RK4", &rk4).log_x(true).log_y(true).build().unwrap();
    let p = point_lists(fig.svg(), "polyline").into_iter().find(|p| p.len() == 4).unwrap();
    let slopes: Vec<f64> = p.windows(2).map(|w| (w[1].1 - w[0].1) / (w[1].0 - w[0].0)).collect();
    assert!(slopes.iter().all(|s| (s - slopes[0]).abs() < 0.05), "{slopes:?}");
}

#[test]
fn lines_reject_bad_input() {
    let bad = [(0.0, 1.0), (1.0, 2.0)];
    assert!(matches!(plot::lines(&[("a", &bad)], "x", "y", true), Err(Error::InvalidParameter { .. })));
    assert!(matches!(plot::lines(&[("a", &[])], "x", "y", false), Err(Error::Plot { .. })));
    assert!(matches!(plot::lines(&[], "x", "y", false), Err(Error::Plot { .. })));
    let nan = [(f64::NAN, 1.0)];
    assert!(matches!(plot::lines(&[("a", &nan)], "x", "y", false), Err(Error::NonFinite { .. })));
    let ok = [(1.0, 1.0), (2.0, f64::INFINITY), (3.0, 2.0)];
    let fig = Lines::new().series_colored("a", &ok, Rgb::RED).build().unwrap();
    assert_eq!(count(fig.svg(), "circle"), 2, "the infinite point is skipped");
}

#[test]
fn a_band_is_a_shaded_polygon_with_a_line_through_its_middle() {
    let euler = [(1.0, 4.0), (10.0, 0.3)];
    let plain = Lines::new().series("Euler", &euler).log_y(true).build().unwrap();
    let banded = Lines::new()
        .series("Euler", &euler)
        .band("floor", vec![(1.0, 0.5, 0.7), (10.0, 0.5, 0.7)])
        .log_y(true)
        .build()
        .unwrap();
    assert_svg(&banded);
    assert_eq!(count(banded.svg(), "polygon"), count(plain.svg(), "polygon") + 1, "one shaded band");
    assert!(banded.svg().contains(">\nfloor\n<"), "the band is in the legend");
    assert!(matches!(Lines::new().band("b", vec![(1.0, f64::NAN, 1.0)]).build(), Err(Error::Plot { .. })));
}

// ---------------------------------------------------------------- gallery

/// Renders every figure into `$TMPDIR/flowmatch-plot-gallery` for a visual check:
/// `cargo test --test plot -- --ignored gallery`.
#[test]
#[ignore]
fn gallery() {
    let dir = std::env::temp_dir().join("flowmatch-plot-gallery");
    std::fs::create_dir_all(&dir).unwrap();
    let data = {
        let g = gaussian(400, 2, 20);
        Points::from_fn(400, 2, |i, d| g.row(i)[d] * 0.3 + if (i % 4 < 2) == (d == 0) { 2.0 } else { -2.0 })
    };
    let gen = gaussian(400, 2, 21);
    Scatter::new()
        .layer("data", &data)
        .layer("samples", &gen)
        .title("Data against samples")
        .build()
        .unwrap()
        .save(dir.join("scatter.svg"))
        .unwrap();
    plot::histogram2d(&gaussian(5000, 2, 22), 40).unwrap().save(dir.join("hist.svg")).unwrap();
    Heatmap::function(|x, y| -0.5 * (x * x + 4.0 * y * y))
        .title("log p(x)")
        .build()
        .unwrap()
        .save(dir.join("heatmap.svg"))
        .unwrap();
    let field = pointwise(|x: &[f64], t| vec![-x[1] + 0.3 * t, x[0] - 0.2 * x[1]]);
    Quiver::new(&field, 0.5).title("u_t at t = 0.5").build().unwrap().save(dir.join("quiver.svg")).unwrap();
    Quiver::new(&field, 0.5).color_by_magnitude(true).build().unwrap().save(dir.join("quiver_mag.svg")).unwrap();
    let states = straight_paths(200, 20);
    Trajectories::new(&states)
        .title("Straight paths")
        .x_label("x₁")
        .y_label("x₂")
        .build()
        .unwrap()
        .save(dir.join("traj.svg"))
        .unwrap();
    let picks: Vec<Points> = [0, 5, 10, 15, 19].iter().map(|&k| states[k].clone()).collect();
    TimeStrip::new(&picks, &[0.0, 0.25, 0.5, 0.75, 1.0])
        .title("p_t")
        .build()
        .unwrap()
        .save(dir.join("strip.svg"))
        .unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    let losses: Vec<f64> = (0..3000)
        .map(|k| {
            let z: f64 = StandardNormal.sample(&mut rng);
            (2.0 + 3.0 * (-(k as f64) / 400.0).exp()) * (1.0 + 0.15 * z).abs()
        })
        .collect();
    LossCurve::new(&losses).smooth(100).title("Training loss").build().unwrap().save(dir.join("loss.svg")).unwrap();
    LossCurve::new(&losses).smooth(100).log_y(true).build().unwrap().save(dir.join("loss_log.svg")).unwrap();
    let nfe = [2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
    let euler: Vec<(f64, f64)> = nfe.iter().map(|&n| (n, 0.8 / n)).collect();
    let mid: Vec<(f64, f64)> = nfe.iter().map(|&n| (n, 2.0 / (n * n))).collect();
    let rk4: Vec<(f64, f64)> = nfe.iter().map(|&n| (n, (4.0 / (n * n * n * n)).max(1e-4))).collect();
    plot::lines(&[("Euler", &euler), ("Midpoint", &mid), ("RK4", &rk4)], "NFE", "W2", true)
        .unwrap()
        .save(dir.join("lines.svg"))
        .unwrap();
    Lines::new()
        .series("Euler", &euler)
        .series("Midpoint", &mid)
        .series("RK4", &rk4)
        .log_x(true)
        .log_y(true)
        .x_label("NFE")
        .y_label("W2")
        .title("W2 against NFE")
        .build()
        .unwrap()
        .save(dir.join("lines_loglog.svg"))
        .unwrap();
}

#[test]
fn warped_grids_histogram_steps_and_batch_heatmaps() {
    // The identity map draws the grid itself; a map that returns the wrong shape is an error.
    let fig = plot::WarpedGrid::new(|p: &Points| Ok(p.clone())).title("identity").lines(5).build().unwrap();
    assert!(fig.svg().contains("identity"));
    assert!(plot::warped_grid(|p: &Points| Ok(Points::zeros(p.len(), 3))).is_err());
    assert!(plot::WarpedGrid::new(|p: &Points| Ok(p.clone())).lines(1).build().is_err());
    // A density histogram integrates to the share of values inside its range.
    let v: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
    let h = plot::histogram_steps(&v, 10, 0.0, 2.0).unwrap();
    let area: f64 = h[1..h.len() - 1].chunks(2).map(|c| (c[1].0 - c[0].0) * c[0].1).sum();
    assert!((area - 1.0).abs() < 1e-12, "{area}");
    assert!(plot::histogram_steps(&v, 0, 0.0, 1.0).is_err());
    // A batch heatmap gets every cell centre at once, and must return one value per cell.
    let fig = plot::Heatmap::density(|p: &Points| Ok(p.rows().map(|r| -0.5 * (r[0] * r[0] + r[1] * r[1])).collect()))
        .bins(20)
        .build()
        .unwrap();
    assert!(fig.svg().contains("<rect"));
    assert!(plot::Heatmap::batch(|_p: &Points| Ok(vec![0.0; 3])).bins(20).build().is_err());
}

mod animation {
    use flowmatch::data::{Dataset, EightGaussians};
    use flowmatch::marginal::Marginal;
    use flowmatch::path::CondOT;
    use flowmatch::plot::{density_strip, Animation};
    use flowmatch::Points;

    fn frames() -> (Vec<Points>, Vec<f64>) {
        let x0 = Points::randn(200, 2, 1);
        let x1 = EightGaussians::torchcfm().sample(200, 2).unwrap();
        let times: Vec<f64> = (0..12).map(|k| k as f64 / 11.0).collect();
        (times.iter().map(|&t| x0.plus_scaled(t, &(x1.clone() - x0.clone()))).collect(), times)
    }

    #[test]
    fn an_animation_is_a_looping_gif_with_one_frame_per_state() {
        let (states, times) = frames();
        let m = Marginal::from_mixture(EightGaussians::torchcfm().as_mixture(), CondOT).unwrap();
        let gif = Animation::new(&states, &times).density(&m).title("flow").size(300, 280).build().unwrap();
        let bytes = gif.bytes();
        assert_eq!(&bytes[..6], b"GIF89a");
        let mut opts = gif::DecodeOptions::new();
        opts.set_color_output(gif::ColorOutput::Indexed);
        let mut dec = opts.read_info(bytes).unwrap();
        assert_eq!((dec.width(), dec.height()), (300, 280));
        let mut count = 0;
        let mut delays = Vec::new();
        while let Some(f) = dec.read_next_frame().unwrap() {
            count += 1;
            delays.push(f.delay);
        }
        assert_eq!(count, 12);
        assert_eq!(gif.frames(), 12);
        assert!(delays[..11].iter().all(|&d| d == 8) && delays[11] > 100, "{delays:?}");
        // Inline in evcxr: base64 of exactly these bytes under image/gif.
        let shown = gif.to_evcxr();
        assert!(shown.starts_with("EVCXR_BEGIN_CONTENT image/gif\nR0lGODlh") && shown.ends_with("EVCXR_END_CONTENT"));
        let dir = std::env::temp_dir().join(format!("fm-gif-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        gif.save(dir.join("a.gif")).unwrap();
        assert_eq!(std::fs::read(dir.join("a.gif")).unwrap(), bytes);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn animation_inputs_are_checked() {
        let (states, times) = frames();
        assert!(Animation::new(&states, &times[..3]).build().is_err());
        assert!(Animation::new(&states[..0], &times[..0]).build().is_err());
        assert!(Animation::new(&states, &times).frame_duration(5).build().is_err());
        let labels = vec![0usize; 3];
        assert!(Animation::new(&states, &times).colors(&labels).build().is_err());
        let mut bad = states.clone();
        bad[3] = Points::randn(10, 2, 0);
        assert!(Animation::new(&bad, &times).build().is_err());
    }

    #[test]
    fn a_density_strip_has_one_panel_per_time() {
        let m = Marginal::from_mixture(EightGaussians::torchcfm().as_mixture(), CondOT).unwrap();
        let fig = density_strip(&m, &[0.0, 0.5, 1.0]).unwrap();
        assert_eq!(fig.svg().matches("p_t at t = ").count(), 3);
        assert!(density_strip(&m, &[]).is_err());
    }
}

// ---------------------------------------------------------------- ImageGrid

/// The fill of the pixel rectangle at (x, y), if there is one.
fn fill_at(svg: &str, x: u32, y: u32) -> Option<String> {
    let key = format!("<rect x=\"{x}\" y=\"{y}\" width=");
    let at = svg.find(&key)?;
    let rest = &svg[at..];
    let start = rest.find("fill=\"")? + 6;
    Some(rest[start..start + 7].to_string())
}

#[test]
fn image_grid_puts_each_pixel_in_its_cell_with_its_grey() {
    // Three 2 × 2 images, two per grid row; every pixel a different value in [−1, 1].
    let x = Points::from_rows(&[[-1.0, 1.0, 0.0, 0.5], [1.0, -1.0, -1.0, -1.0], [0.0, 0.0, 0.0, 1.0]]).unwrap();
    let fig = plot::ImageGrid::new(&x, 2).columns(2).pixel_size(10).build().unwrap();
    assert_svg(&fig);
    let svg = fig.svg();
    // No labels, no title: the grid starts at the margin (8 px); images are 20 px apart plus a 6 px gap.
    let origin = |k: u32| (8 + (k % 2) * 26, 8 + (k / 2) * 26);
    for (k, image) in x.rows().enumerate() {
        let (x0, y0) = origin(k as u32);
        for (p, &v) in image.iter().enumerate() {
            let (r, c) = (p as u32 / 2, p as u32 % 2);
            // grey = 255·(1 − (v + 1)/2): −1 is white, 1 is black.
            let level = (255.0 * (1.0 - (v + 1.0) / 2.0)).round() as u8;
            let want = Rgb(level, level, level).hex();
            assert_eq!(fill_at(svg, x0 + 10 * c, y0 + 10 * r), Some(want), "image {k}, pixel ({r}, {c})");
        }
    }
    assert_eq!((fig.width(), fig.height()), (8 + 20 + 6 + 20 + 8, 8 + 20 + 6 + 20 + 8));
    assert_eq!(plot::pixel_colour(-1.0, -1.0, 1.0), Rgb(255, 255, 255));
    assert_eq!(plot::pixel_colour(3.0, -1.0, 1.0), Rgb(0, 0, 0), "values beyond the range are clamped");
    assert_eq!(plot::pixel_colour(f64::NAN, -1.0, 1.0), plot::NON_FINITE_PIXEL);
}

#[test]
fn image_grid_writes_its_labels_and_title() {
    let x = Points::zeros(4, 9);
    let fig = plot::ImageGrid::new(&x, 3)
        .columns(2)
        .row_labels(["digit 0", "digit 1"])
        .column_labels(["w = 0", "w = 2"])
        .title("a & b")
        .build()
        .unwrap();
    assert_svg(&fig);
    for t in ["digit 0", "digit 1", "w = 0", "w = 2", "a &amp; b"] {
        assert!(fig.svg().contains(&format!(">{t}</text>")), "{t}");
    }
    assert_eq!(count_fill(fig.svg(), "#808080"), 4 * 9, "value 0 is mid grey");
}

#[test]
fn image_grid_rejects_bad_shapes_and_labels() {
    let x = Points::zeros(3, 64);
    let err = plot::ImageGrid::new(&x, 7).build().unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    assert!(err.to_string().contains("49 pixels"), "{err}");
    let err = plot::ImageGrid::new(&x, 8).columns(2).row_labels(["only one"]).build().unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }) && err.to_string().contains("one per grid row (2)"), "{err}");
    let err = plot::ImageGrid::new(&x, 8).columns(3).column_labels(["a", "b"]).build().unwrap_err();
    assert!(err.to_string().contains("one per grid column (3)"), "{err}");
    assert!(matches!(plot::image_grid(&x, 8, 0).unwrap_err(), Error::ZeroCount { .. }));
    assert!(matches!(plot::image_grid(&Points::zeros(0, 64), 8, 2).unwrap_err(), Error::Plot { .. }));
    assert!(matches!(plot::ImageGrid::new(&x, 8).range(1.0, 1.0).build().unwrap_err(), Error::InvalidParameter { .. }));
    let many = Points::zeros(4000, 64);
    assert!(matches!(plot::image_grid(&many, 8, 50).unwrap_err(), Error::SizeLimit { .. }));
}
