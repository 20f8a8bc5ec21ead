//! Handwritten digits: 8 × 8 grey images of the digits 0–9 (UCI; the copy scikit-learn ships).
//!
//! ```text
//! pixel  x = v/8 − 1 ∈ [−1, 1]        (v ∈ 0..16, the grey level of the file)
//! image  x ∈ ℝ⁶⁴, row-major: x[8r + c] is row r (top first), column c (left first)
//! split  within each digit, in file order: 4 images to train, the 5th to test, and so on
//! draw   x ~ uniform over the images of the split (with replacement), label = its digit
//! ```
//!
//! The data (1 797 images, CC BY 4.0, attribution in `data/digits/README.md`) is compiled
//! into the library from `data/digits/digits.csv.gz`, so a notebook needs no file. The split
//! is fixed and takes no random numbers: 1 442 training and 355 test images, every digit in
//! both in the same proportion. [`Digits`] is a [`Dataset`] of dimension 64 with 10 classes,
//! so the CFM objective and the trainer draw from it like from any two-dimensional toy.

use super::{check_fill, Dataset};
use crate::error::{Error, Result};
use crate::points::Points;
use rand::{Rng, RngCore};
use std::sync::{Arc, OnceLock};

/// The side of a digit image in pixels.
pub const DIGIT_SIDE: usize = 8;
/// The number of pixels of a digit image (its dimension as a data point).
pub const DIGIT_PIXELS: usize = DIGIT_SIDE * DIGIT_SIDE;
/// The number of classes (the digits 0–9).
pub const DIGIT_CLASSES: usize = 10;

/// The grey levels of the file run from 0 to this.
const MAX_LEVEL: u8 = 16;

/// The compressed file, as shipped.
static DIGITS_GZ: &[u8] = include_bytes!("../../data/digits/digits.csv.gz");

/// Which images a [`Digits`] dataset holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    /// The training images (four of every five of each digit).
    Train,
    /// The test images (the fifth of every five of each digit).
    Test,
    /// All 1 797 images.
    All,
}

/// The images of one split and their labels.
struct Table {
    images: Points,
    labels: Vec<usize>,
}

/// The 8 × 8 handwritten digits of one split, as a [`Dataset`] (dimension 64, 10 classes).
///
/// ```
/// use flowmatch::data::{Dataset, Digits};
/// let train = Digits::train().unwrap();
/// assert_eq!((train.dim(), train.num_classes()), (64, 10));
/// let (x, labels) = train.sample_labeled(16, 0).unwrap();
/// assert!(x.as_slice().iter().all(|v| (-1.0..=1.0).contains(v)));
/// assert!(labels.iter().all(|&y| y < 10));
/// ```
#[derive(Clone)]
pub struct Digits {
    split: Split,
    table: Arc<Table>,
}

impl std::fmt::Debug for Digits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Digits({:?}, {} images)", self.split, self.len())
    }
}

impl Digits {
    /// The training split (1 442 images).
    pub fn train() -> Result<Digits> {
        Digits::split(Split::Train)
    }

    /// The test split (355 images).
    pub fn test() -> Result<Digits> {
        Digits::split(Split::Test)
    }

    /// The images of `split`.
    ///
    /// Errors: [`Error::InvalidParameter`] if the compiled-in file cannot be read (a damaged
    /// checkout; restore `data/digits/digits.csv.gz`).
    pub fn split(split: Split) -> Result<Digits> {
        let (levels, digits) = raw()?;
        let mut seen = [0usize; DIGIT_CLASSES];
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for (row, &y) in levels.chunks_exact(DIGIT_PIXELS).zip(digits) {
            let in_test = seen[y] % 5 == 4;
            seen[y] += 1;
            let keep = match split {
                Split::Train => !in_test,
                Split::Test => in_test,
                Split::All => true,
            };
            if keep {
                images.extend(row.iter().map(|&v| level_to_pixel(v)));
                labels.push(y);
            }
        }
        let n = labels.len();
        Ok(Digits { split, table: Arc::new(Table { images: Points::new(n, DIGIT_PIXELS, images)?, labels }) })
    }

    /// Which split this is.
    pub fn which(&self) -> Split {
        self.split
    }

    /// The number of images.
    pub fn len(&self) -> usize {
        self.table.labels.len()
    }

    /// True when the split holds no image (never for the shipped data).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every image of the split, one per row (pixels in [−1, 1]), in file order.
    pub fn images(&self) -> &Points {
        &self.table.images
    }

    /// The digit of every image, in the same order.
    pub fn labels(&self) -> &[usize] {
        &self.table.labels
    }

    /// The images of digit `class` only, in file order.
    ///
    /// Errors: [`Error::InvalidParameter`] for a class outside 0..10.
    pub fn of_class(&self, class: usize) -> Result<Points> {
        if class >= DIGIT_CLASSES {
            return Err(Error::invalid(
                format!("digit {class}"),
                format!("the digits are 0..{DIGIT_CLASSES}; pass a digit from 0 to 9"),
            ));
        }
        let rows: Vec<usize> = (0..self.len()).filter(|&i| self.table.labels[i] == class).collect();
        Ok(self.table.images.select(&rows))
    }

    /// The first `k` images of every digit, in class order: rows `c·k .. (c + 1)·k` are digit `c`
    /// (what a grid with one row per digit shows).
    ///
    /// Errors: [`Error::InvalidParameter`] when k = 0 or some digit has fewer than `k` images in
    /// this split.
    pub fn per_class(&self, k: usize) -> Result<Points> {
        if k == 0 {
            return Err(Error::invalid("0 images per digit", "pass a k of at least 1"));
        }
        let mut rows = Vec::with_capacity(k * DIGIT_CLASSES);
        for class in 0..DIGIT_CLASSES {
            let of: Vec<usize> = (0..self.len()).filter(|&i| self.table.labels[i] == class).take(k).collect();
            if of.len() < k {
                return Err(Error::invalid(
                    format!("{k} images per digit"),
                    format!("digit {class} has {} in this split; pass a k from 1 to that", of.len()),
                ));
            }
            rows.extend(of);
        }
        Ok(self.table.images.select(&rows))
    }
}

/// Grey level v ∈ 0..16 → pixel v/8 − 1 ∈ [−1, 1].
pub fn level_to_pixel(v: u8) -> f64 {
    v as f64 * (2.0 / MAX_LEVEL as f64) - 1.0
}

/// Pixel x → grey level (x + 1)·8, rounded and clipped to 0..16 (what an image shows).
pub fn pixel_to_level(x: f64) -> u8 {
    ((x + 1.0) * (MAX_LEVEL as f64 / 2.0)).round().clamp(0.0, MAX_LEVEL as f64) as u8
}

impl Dataset for Digits {
    fn dim(&self) -> usize {
        DIGIT_PIXELS
    }

    fn num_classes(&self) -> usize {
        DIGIT_CLASSES
    }

    fn name(&self) -> String {
        match self.split {
            Split::Train => "digits (train)".into(),
            Split::Test => "digits (test)".into(),
            Split::All => "digits".into(),
        }
    }

    /// Each row: one image of the split drawn uniformly (with replacement), and its digit.
    fn fill(&self, out: &mut Points, mut labels: Option<&mut [usize]>, rng: &mut dyn RngCore) -> Result<()> {
        check_fill(DIGIT_PIXELS, out, &labels)?;
        let n = self.len();
        for i in 0..out.len() {
            let j = rng.gen_range(0..n);
            out.row_mut(i).copy_from_slice(self.table.images.row(j));
            if let Some(l) = labels.as_deref_mut() {
                l[i] = self.table.labels[j];
            }
        }
        Ok(())
    }

    /// The mean image of the split (exact for the uniform draw over its images).
    fn mean(&self) -> Option<Vec<f64>> {
        Some(self.table.images.mean())
    }
}

/// The grey levels (1 797 × 64) and the digits of a file.
type Levels = (Vec<u8>, Vec<usize>);

/// The grey levels and digits of the whole file, decoded once per process.
fn raw() -> Result<&'static Levels> {
    static RAW: OnceLock<std::result::Result<Levels, String>> = OnceLock::new();
    RAW.get_or_init(|| parse_csv(&gunzip(DIGITS_GZ)?)).as_ref().map_err(|e| {
        Error::invalid("the compiled-in digits file", format!("{e}; restore data/digits/digits.csv.gz from git"))
    })
}

/// The bytes of a one-member gzip file (RFC 1952), checked against its CRC-32 and length.
fn gunzip(gz: &[u8]) -> std::result::Result<Vec<u8>, String> {
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    const FHCRC: u8 = 2;
    if gz.len() < 18 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8 {
        return Err("not a gzip file".into());
    }
    let flags = gz[3];
    let mut at = 10;
    if flags & FEXTRA != 0 {
        at += 2 + u16::from_le_bytes([gz[at], gz[at + 1]]) as usize;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            at += gz[at..].iter().position(|&b| b == 0).ok_or("unterminated gzip header")? + 1;
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    let body = gz.get(at..gz.len() - 8).ok_or("truncated gzip file")?;
    let data = miniz_oxide::inflate::decompress_to_vec(body).map_err(|e| format!("corrupt gzip data ({e:?})"))?;
    let tail = &gz[gz.len() - 8..];
    let crc = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let len = u32::from_le_bytes([tail[4], tail[5], tail[6], tail[7]]);
    if data.len() as u32 != len || crc32(&data) != crc {
        return Err("the gzip checksum does not match".into());
    }
    Ok(data)
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// Lines of 64 grey levels and a digit, comma-separated.
fn parse_csv(text: &[u8]) -> std::result::Result<Levels, String> {
    let text = std::str::from_utf8(text).map_err(|_| "the digits file is not text")?;
    let mut levels = Vec::new();
    let mut digits = Vec::new();
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != DIGIT_PIXELS + 1 {
            return Err(format!("line {} has {} fields, not {}", i + 1, fields.len(), DIGIT_PIXELS + 1));
        }
        for f in &fields[..DIGIT_PIXELS] {
            match f.trim().parse::<u8>() {
                Ok(v) if v <= MAX_LEVEL => levels.push(v),
                _ => return Err(format!("line {}: '{f}' is not a grey level 0..16", i + 1)),
            }
        }
        match fields[DIGIT_PIXELS].trim().parse::<usize>() {
            Ok(y) if y < DIGIT_CLASSES => digits.push(y),
            _ => return Err(format!("line {}: '{}' is not a digit", i + 1, fields[DIGIT_PIXELS])),
        }
    }
    Ok((levels, digits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_a_known_string() {
        // The check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_damaged_file_is_an_error() {
        let mut gz = DIGITS_GZ.to_vec();
        let mid = gz.len() / 2;
        gz[mid] ^= 0x55;
        assert!(gunzip(&gz).is_err());
        assert!(gunzip(&gz[..100]).is_err());
        assert!(gunzip(b"not gzip at all, clearly").is_err());
        assert!(parse_csv(b"1,2,3\n").unwrap_err().contains("fields"));
    }
}
