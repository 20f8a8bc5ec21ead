//! [`Figure`]: a finished SVG document, saved atomically or shown inline in evcxr;
//! [`Panels`]: several figures composed into one.
//!
//! A notebook cell hands Jupyter one result, so a cell shows one figure: the
//! value it ends with. To show several, compose them: `plot::row([a, b, c])`,
//! `plot::grid(&figs, 2)` or [`Panels`] with a shared title. There is no
//! `show()` that could be called twice in one cell and lose all but the last.
//!
//! **evcxr and moved values.** evcxr shows a cell's last expression with
//! `evcxr_display` only when that expression compiles as it stands in the cell;
//! when it moves a variable the cell defined (`plot::grid(panels, 2)` after
//! `let mut panels = …`), evcxr falls back to printing the value's `Debug` text,
//! `Figure(960×960 px, …)`, instead of the figure. So the composition functions
//! also take figures by reference: end such a cell with `plot::grid(&panels, 2)`,
//! or bind the figure first (`let fig = …; fig`). `course execute` fails a cell
//! whose figure came out as text.

use std::borrow::Borrow;
use std::fmt;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// The environment variable naming a file to which every figure handed to
/// Jupyter appends a line (`course execute` uses it to check that every figure a
/// cell drew is shown).
pub const FIGURE_LOG_ENV: &str = "FLOWMATCH_FIGURE_LOG";

/// A finished figure: an SVG document and its size in pixels.
#[derive(Clone, PartialEq)]
pub struct Figure {
    svg: String,
    width: u32,
    height: u32,
}

impl fmt::Debug for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Figure({}×{} px, {} bytes of SVG)", self.width, self.height, self.svg.len())
    }
}

impl Figure {
    /// Wraps a finished SVG document of `width × height` pixels.
    pub(crate) fn from_svg(svg: String, width: u32, height: u32) -> Figure {
        Figure { svg, width, height }
    }

    /// The SVG document, starting with `<svg`.
    pub fn svg(&self) -> &str {
        &self.svg
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Writes the SVG document to `path` (conventionally ending in `.svg`).
    ///
    /// The text goes to a temporary file in the same folder first and is then
    /// renamed over `path`, so a reader never sees a half-written file.
    /// Returns [`Error::Io`] naming `path` if the folder does not exist or is
    /// not writable.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), self.svg.as_bytes())
    }

    /// The SVG as a notebook shows it: the same drawing, but it shrinks to the
    /// width of the output area (never wider than its own `width`), keeping its
    /// aspect ratio, so a wide time strip is not cut off on a narrow page.
    ///
    /// It is handed to Jupyter as HTML (an inline `<svg>`): JupyterLab shows an
    /// `image/svg+xml` output as an `<img>` at its full pixel width, with no way
    /// for the drawing to ask to be shrunk (measured in JupyterLab 4 in Chromium:
    /// a 1 440 px figure overflowed a 968 px output area; inline, it fits).
    pub fn responsive_svg(&self) -> String {
        let style = format!(" style=\"width:100%;max-width:{}px;height:auto\"", self.width);
        match self.svg.find("<svg") {
            Some(i) => {
                let j = i + "<svg".len();
                format!("{}{}{}", &self.svg[..j], style, &self.svg[j..])
            }
            None => self.svg.clone(),
        }
    }

    /// What [`Figure::evcxr_display`] prints: two representations of one output,
    /// `text/html` (the responsive inline SVG, which JupyterLab prefers) and
    /// `image/svg+xml` (the fixed-size document, for other front ends and for
    /// saving the figure from an executed notebook), each between
    /// `EVCXR_BEGIN_CONTENT <mime>` and `EVCXR_END_CONTENT`.
    pub fn to_evcxr(&self) -> String {
        format!(
            "EVCXR_BEGIN_CONTENT text/html\n{}\nEVCXR_END_CONTENT\nEVCXR_BEGIN_CONTENT image/svg+xml\n{}\nEVCXR_END_CONTENT",
            self.responsive_svg().trim_end(),
            self.svg.trim_end()
        )
    }

    /// Inline display hook for evcxr notebooks: a cell that ends in an
    /// expression of type `Figure` calls this and shows the plot.
    ///
    /// When `$FLOWMATCH_FIGURE_LOG` names a file, a line is appended to it for
    /// every figure shown, so a test can compare what the library handed to
    /// Jupyter with what the executed notebook holds.
    pub fn evcxr_display(&self) {
        if let Some(log) = std::env::var_os(FIGURE_LOG_ENV) {
            if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
                let _ = writeln!(f, "figure {}x{}", self.width, self.height);
            }
        }
        println!("{}", self.to_evcxr());
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed over `path`,
/// so a reader never sees a half-written file. [`Error::Io`] names `path` on failure.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| Error::io(path, "the path does not end in a file name; pass e.g. \"figure.svg\""))?;
    let tmp_name =
        format!(".{}.tmp-{}-{}", name.to_string_lossy(), std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let tmp = path.with_file_name(tmp_name);
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        // Best effort: the temporary file may not even exist.
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, format!("{e}; check that the folder exists and is writable"))
    })
}

/// Several figures composed into one SVG: a row, a column or a grid, with an
/// optional title above them. Build with [`Panels::new`] or use [`row`], [`grid`].
///
/// Panels are laid out left to right, `columns` per row; each column is as wide
/// as its widest figure and each row as tall as its tallest, and a figure sits
/// centred in its cell. Every panel keeps its own axes and legend.
#[derive(Clone, Debug)]
pub struct Panels {
    figures: Vec<Figure>,
    columns: Option<usize>,
    title: Option<String>,
}

/// Height of the title band of a [`Panels`] figure, in pixels.
const PANELS_TITLE: u32 = 36;

impl Panels {
    /// The figures, all in one row unless [`Panels::columns`] says otherwise. Takes
    /// figures or references to them (`[a, b]`, `&figs`, `figs.iter()`).
    pub fn new<F: Borrow<Figure>>(figures: impl IntoIterator<Item = F>) -> Self {
        Panels { figures: figures.into_iter().map(|f| f.borrow().clone()).collect(), columns: None, title: None }
    }

    /// How many panels per row (default: all in one row).
    pub fn columns(mut self, columns: usize) -> Self {
        self.columns = Some(columns);
        self
    }

    /// A title centred above all the panels.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Composes the panels into one figure.
    pub fn build(&self) -> Result<Figure> {
        let n = self.figures.len();
        if n == 0 {
            return Err(Error::Plot { reason: "there are no figures to compose; pass at least one".into() });
        }
        let cols = self.columns.unwrap_or(n);
        if cols == 0 {
            return Err(Error::ZeroCount { what: "the number of columns".into() });
        }
        let rows = n.div_ceil(cols);
        let mut col_w = vec![0u32; cols];
        let mut row_h = vec![0u32; rows];
        for (k, f) in self.figures.iter().enumerate() {
            col_w[k % cols] = col_w[k % cols].max(f.width);
            row_h[k / cols] = row_h[k / cols].max(f.height);
        }
        let title = self.title.as_deref().filter(|t| !t.is_empty());
        let top = if title.is_some() { PANELS_TITLE } else { 0 };
        let width: u32 = col_w.iter().sum();
        let height: u32 = top + row_h.iter().sum::<u32>();
        if width > 4 * super::axes::MAX_SIDE || height > 4 * super::axes::MAX_SIDE {
            return Err(Error::SizeLimit {
                what: "composed figure side in pixels".into(),
                size: width.max(height) as usize,
                limit: 4 * super::axes::MAX_SIDE as usize,
                hint: "Compose fewer or smaller figures (.size(w, h) on each)".into(),
            });
        }
        let mut svg = format!(
            "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
             xmlns=\"http://www.w3.org/2000/svg\">\n<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" \
             fill=\"#FFFFFF\"/>\n"
        );
        if let Some(t) = title {
            svg += &format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-family=\"sans-serif\" \
                 font-size=\"19\" fill=\"#000000\">{}</text>\n",
                width / 2,
                PANELS_TITLE / 2,
                escape_xml(t)
            );
        }
        for (k, f) in self.figures.iter().enumerate() {
            let (c, r) = (k % cols, k / cols);
            let x = col_w[..c].iter().sum::<u32>() + (col_w[c] - f.width) / 2;
            let y = top + row_h[..r].iter().sum::<u32>() + (row_h[r] - f.height) / 2;
            svg += &nest(&f.svg, x, y, f.width, f.height);
            svg.push('\n');
        }
        svg += "</svg>\n";
        Ok(Figure { svg, width, height })
    }
}

/// The figures side by side in one row: `plot::row([before, after])` or `plot::row(&figs)`.
pub fn row<F: Borrow<Figure>>(figures: impl IntoIterator<Item = F>) -> Result<Figure> {
    Panels::new(figures).build()
}

/// The figures in a grid of `columns` per row, filled row by row: `plot::grid(&figs, 2)`.
pub fn grid<F: Borrow<Figure>>(figures: impl IntoIterator<Item = F>, columns: usize) -> Result<Figure> {
    Panels::new(figures).columns(columns).build()
}

/// Turns a whole `<svg …>…</svg>` document into an `<svg>` element placed at (x, y).
fn nest(svg: &str, x: u32, y: u32, w: u32, h: u32) -> String {
    let start = svg.find("<svg").unwrap_or(0);
    let body_start = svg[start..].find('>').map(|i| start + i + 1).unwrap_or(start);
    let body_end = svg.rfind("</svg>").unwrap_or(svg.len());
    format!(
        "<svg x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">{}</svg>",
        &svg[body_start..body_end.max(body_start)]
    )
}

/// Escapes the characters XML reserves in text.
pub(crate) fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
