//! Colours: the default palette ([`Rgb::palette`]), the viridis colour map and a diverging one.

use plotters::prelude::*;

/// A colour given by its red, green and blue components (0–255).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Blue, the first colour of the default palette.
    pub const BLUE: Rgb = Rgb(31, 119, 180);
    /// Orange.
    pub const ORANGE: Rgb = Rgb(255, 127, 14);
    /// Green.
    pub const GREEN: Rgb = Rgb(44, 160, 44);
    /// Red.
    pub const RED: Rgb = Rgb(214, 39, 40);
    /// Purple.
    pub const PURPLE: Rgb = Rgb(148, 103, 189);
    /// Grey.
    pub const GRAY: Rgb = Rgb(127, 127, 127);
    /// Black.
    pub const BLACK: Rgb = Rgb(0, 0, 0);

    /// The `i`-th colour of the default palette (ten colours, repeating).
    pub fn palette(i: usize) -> Rgb {
        const PALETTE: [Rgb; 10] = [
            Rgb::BLUE,
            Rgb::ORANGE,
            Rgb::GREEN,
            Rgb::RED,
            Rgb::PURPLE,
            Rgb(140, 86, 75),
            Rgb(227, 119, 194),
            Rgb::GRAY,
            Rgb(188, 189, 34),
            Rgb(23, 190, 207),
        ];
        PALETTE[i % PALETTE.len()]
    }

    /// The colour as SVG writes it, `#RRGGBB` in upper-case hex (as plotters does).
    pub fn hex(self) -> String {
        format!("#{:02X}{:02X}{:02X}", self.0, self.1, self.2)
    }

    pub(super) fn rgb(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }

    pub(super) fn alpha(self, a: f64) -> RGBAColor {
        self.rgb().mix(a)
    }
}

/// The viridis colour map at `s ∈ [0, 1]` (dark purple → teal → yellow),
/// linearly interpolated between eleven reference colours.
pub(super) fn viridis(s: f64) -> Rgb {
    const STOPS: [(u8, u8, u8); 11] = [
        (0x44, 0x01, 0x54),
        (0x48, 0x24, 0x75),
        (0x41, 0x44, 0x87),
        (0x35, 0x5f, 0x8d),
        (0x2a, 0x78, 0x8e),
        (0x21, 0x91, 0x8c),
        (0x22, 0xa8, 0x84),
        (0x44, 0xbf, 0x70),
        (0x7a, 0xd1, 0x51),
        (0xbd, 0xdf, 0x26),
        (0xfd, 0xe7, 0x25),
    ];
    let s = if s.is_finite() { s.clamp(0.0, 1.0) } else { 0.0 };
    let x = s * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + f * (q as f64 - p as f64)).round() as u8;
    Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A diverging colour map at `s ∈ [0, 1]`: blue at 0, white at ½, red at 1 (for signed
/// values mapped symmetrically about 0).
pub(super) fn diverging(s: f64) -> Rgb {
    let s = if s.is_finite() { s.clamp(0.0, 1.0) } else { 0.5 };
    let (far, f) =
        if s < 0.5 { ((0x21u8, 0x66u8, 0xacu8), 1.0 - 2.0 * s) } else { ((0xb2, 0x18, 0x2b), 2.0 * s - 1.0) };
    let mix = |p: u8| (255.0 + f * (p as f64 - 255.0)).round() as u8;
    Rgb(mix(far.0), mix(far.1), mix(far.2))
}
