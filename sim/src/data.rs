//! The IDX loader for a folder in the MNIST layout:
//! `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
//! `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each either raw or
//! gzip-compressed (with or without a `.gz` suffix; the gzip magic decides).
//! [`Dataset::hold_out`] draws a validation set out of a training set.

use crate::rng::Rng;
use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Labels must be class numbers below this.
pub const MAX_CLASSES: usize = 10;

/// Images and labels of one part of a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub rows: usize,
    pub cols: usize,
    /// Largest pixel value of the TRAIN set (the scale of [`Dataset::x`]).
    pub max_pixel: u8,
    /// `len() * rows * cols` pixels, image after image, row-major.
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    pub fn image(&self, i: usize) -> &[u8] {
        let p = self.pixels();
        &self.images[i * p..(i + 1) * p]
    }

    /// Image `i` scaled to [0, 1] by `max_pixel`.
    pub fn x(&self, i: usize) -> Vec<f32> {
        let scale = if self.max_pixel == 0 {
            0.0
        } else {
            1.0 / self.max_pixel as f32
        };
        self.image(i).iter().map(|&v| v as f32 * scale).collect()
    }

    /// The samples `idx`, in that order (same geometry and scale).
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let mut images = Vec::with_capacity(idx.len() * self.pixels());
        for &i in idx {
            images.extend_from_slice(self.image(i));
        }
        Dataset {
            rows: self.rows,
            cols: self.cols,
            max_pixel: self.max_pixel,
            images,
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// Splits the first `n` samples in two: returns the others and `held`
    /// of them drawn at random from `seed` (uniformly, without
    /// replacement). Both parts keep the samples' order; the same arguments
    /// give the same split.
    pub fn hold_out(&self, n: usize, held: usize, seed: u64) -> (Dataset, Dataset) {
        let n = n.min(self.len());
        let held = held.min(n);
        let mut order: Vec<usize> = (0..n).collect();
        Rng::stream(seed, n as u64).shuffle(&mut order);
        let (mut out, mut rest) = (order[..held].to_vec(), order[held..].to_vec());
        out.sort_unstable();
        rest.sort_unstable();
        (self.subset(&rest), self.subset(&out))
    }
}

/// The training and test parts of a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
}

/// Reads a file, finding `name` or `name.gz`, decompressing gzip content.
/// Returns the path that was read and its (decompressed) bytes.
fn read_any(dir: &Path, name: &str) -> Result<(PathBuf, Vec<u8>)> {
    let candidates = [dir.join(name), dir.join(format!("{name}.gz"))];
    let path = match candidates.iter().find(|p| p.is_file()) {
        Some(p) => p.clone(),
        None => bail!(
            "data file missing in {}: tried {} and {}",
            dir.display(),
            candidates[0].display(),
            candidates[1].display()
        ),
    };
    let raw = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if raw.len() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .with_context(|| format!("{}: damaged gzip data", path.display()))?;
        Ok((path, out))
    } else {
        Ok((path, raw))
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses an IDX file with the given magic and number of dimensions; returns
/// the dimensions and the data bytes (exactly as many as the header says).
fn parse_idx<'a>(
    path: &Path,
    bytes: &'a [u8],
    magic: u32,
    dims: usize,
) -> Result<(Vec<usize>, &'a [u8])> {
    let header = 4 + 4 * dims;
    if bytes.len() < 4 {
        bail!(
            "{}: file too short ({} bytes) for an IDX header; expected magic number 0x{magic:08X}",
            path.display(),
            bytes.len()
        );
    }
    let got = be32(bytes, 0);
    if got != magic {
        bail!(
            "{}: wrong magic number: expected 0x{magic:08X}, got 0x{got:08X}",
            path.display()
        );
    }
    if bytes.len() < header {
        bail!(
            "{}: truncated header: {} dimensions need {header} bytes, file has {}",
            path.display(),
            dims,
            bytes.len()
        );
    }
    let d: Vec<usize> = (0..dims).map(|k| be32(bytes, 4 + 4 * k) as usize).collect();
    let want = d
        .iter()
        .try_fold(1usize, |a, &x| a.checked_mul(x))
        .with_context(|| format!("{}: dimensions {d:?} overflow", path.display()))?;
    let have = bytes.len() - header;
    if have < want {
        let what = if dims == 3 {
            format!("{} items of {}x{}", d[0], d[1], d[2])
        } else {
            format!("{} items", d[0])
        };
        bail!(
            "{}: truncated data: header says {what} ({want} data bytes after the {header}-byte header), file has {have} data bytes ({} bytes in all)",
            path.display(),
            bytes.len()
        );
    }
    Ok((d, &bytes[header..header + want]))
}

/// Loads one part (`train` or `t10k`).
fn load_part(dir: &Path, prefix: &str) -> Result<Dataset> {
    let img_name = format!("{prefix}-images-idx3-ubyte");
    let lab_name = format!("{prefix}-labels-idx1-ubyte");
    let (ipath, ibytes) = read_any(dir, &img_name)?;
    let (idims, idata) = parse_idx(&ipath, &ibytes, IMAGES_MAGIC, 3)?;
    let (lpath, lbytes) = read_any(dir, &lab_name)?;
    let (ldims, ldata) = parse_idx(&lpath, &lbytes, LABELS_MAGIC, 1)?;
    if idims[0] != ldims[0] {
        bail!(
            "image/label count mismatch: {} has {} images but {} has {} labels",
            ipath.display(),
            idims[0],
            lpath.display(),
            ldims[0]
        );
    }
    if idims[1] == 0 || idims[2] == 0 {
        bail!(
            "{}: images of {}x{} pixels are empty",
            ipath.display(),
            idims[1],
            idims[2]
        );
    }
    if let Some(p) = ldata.iter().position(|&l| l as usize >= MAX_CLASSES) {
        bail!(
            "{}: label {} at index {p} is > {}; labels must be classes 0..={}",
            lpath.display(),
            ldata[p],
            MAX_CLASSES - 1,
            MAX_CLASSES - 1
        );
    }
    Ok(Dataset {
        rows: idims[1],
        cols: idims[2],
        max_pixel: idata.iter().copied().max().unwrap_or(0),
        images: idata.to_vec(),
        labels: ldata.to_vec(),
    })
}

/// Loads the train and test parts of a data folder. Both parts are scaled by
/// the train set's largest pixel value.
pub fn load_dir(dir: &Path) -> Result<Split> {
    if !dir.is_dir() {
        bail!("data folder {} does not exist", dir.display());
    }
    let train = load_part(dir, "train")?;
    let mut test = load_part(dir, "t10k")?;
    if train.is_empty() {
        bail!("{}: the training set has no images", dir.display());
    }
    if (train.rows, train.cols) != (test.rows, test.cols) {
        bail!(
            "{}: train/test image size mismatch: train images are {}x{}, test images are {}x{}",
            dir.display(),
            train.rows,
            train.cols,
            test.rows,
            test.cols
        );
    }
    if train.max_pixel == 0 {
        bail!(
            "{}: every training pixel is 0; the images cannot be scaled",
            dir.display()
        );
    }
    test.max_pixel = train.max_pixel;
    Ok(Split { train, test })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static COUNTER: AtomicUsize = AtomicUsize::new(0);

    struct TempDir(PathBuf);
    impl TempDir {
        fn new() -> TempDir {
            let n = COUNTER.fetch_add(1, Ordering::SeqCst);
            let d = std::env::temp_dir().join(format!("pg-data-{}-{n}", std::process::id()));
            std::fs::remove_dir_all(&d).ok();
            std::fs::create_dir_all(&d).unwrap();
            TempDir(d)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            std::fs::remove_dir_all(&self.0).ok();
        }
    }

    fn idx_images(n: u32, r: u32, c: u32, pixels: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [IMAGES_MAGIC, n, r, c] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v.extend_from_slice(pixels);
        v
    }

    fn idx_labels(labels: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
        v.extend_from_slice(&(labels.len() as u32).to_be_bytes());
        v.extend_from_slice(labels);
        v
    }

    fn gz(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    /// A valid 2x3 data set: 3 train images, 2 test images, raw train files
    /// and gzipped test files.
    fn good(d: &Path) {
        let tr: Vec<u8> = (0..18).map(|i| (i * 7 % 13) as u8).collect();
        std::fs::write(d.join("train-images-idx3-ubyte"), idx_images(3, 2, 3, &tr)).unwrap();
        std::fs::write(d.join("train-labels-idx1-ubyte"), idx_labels(&[0, 9, 4])).unwrap();
        let te: Vec<u8> = (0..12).map(|i| (i * 5 % 20) as u8).collect();
        std::fs::write(
            d.join("t10k-images-idx3-ubyte.gz"),
            gz(&idx_images(2, 2, 3, &te)),
        )
        .unwrap();
        std::fs::write(
            d.join("t10k-labels-idx1-ubyte.gz"),
            gz(&idx_labels(&[1, 2])),
        )
        .unwrap();
    }

    fn err(d: &Path) -> String {
        format!("{:#}", load_dir(d).unwrap_err())
    }

    #[test]
    fn small_valid_set_raw_and_gzip() {
        let t = TempDir::new();
        good(&t.0);
        let s = load_dir(&t.0).unwrap();
        assert_eq!(s.train.len(), 3);
        assert_eq!(s.test.len(), 2);
        assert_eq!((s.train.rows, s.train.cols, s.train.pixels()), (2, 3, 6));
        assert_eq!(s.train.max_pixel, 12);
        // the test set's own maximum (19) is ignored: train's scale is used
        assert_eq!(s.test.max_pixel, 12);
        assert_eq!(s.train.labels, vec![0, 9, 4]);
        assert_eq!(s.train.image(1), &[3, 10, 4, 11, 5, 12]);
        let x = s.train.x(1);
        assert!((x[5] - 1.0).abs() < 1e-6 && (x[0] - 0.25).abs() < 1e-6);
        // a gzipped file without the .gz suffix is accepted too
        std::fs::rename(
            t.0.join("t10k-labels-idx1-ubyte.gz"),
            t.0.join("t10k-labels-idx1-ubyte"),
        )
        .unwrap();
        assert_eq!(load_dir(&t.0).unwrap().test.labels, vec![1, 2]);
    }

    #[test]
    fn missing_file_names_tried_paths() {
        let t = TempDir::new();
        good(&t.0);
        std::fs::remove_file(t.0.join("train-labels-idx1-ubyte")).unwrap();
        let e = err(&t.0);
        assert!(e.contains("missing"), "{e}");
        assert!(e.contains("train-labels-idx1-ubyte.gz"), "{e}");
        let e = err(&t.0.join("nope"));
        assert!(e.contains("does not exist"), "{e}");
    }

    #[test]
    fn wrong_magic() {
        let t = TempDir::new();
        good(&t.0);
        // labels file where the images should be
        std::fs::write(t.0.join("train-images-idx3-ubyte"), idx_labels(&[1, 2, 3])).unwrap();
        let e = err(&t.0);
        assert!(e.contains("train-images-idx3-ubyte"), "{e}");
        assert!(
            e.contains("expected 0x00000803") && e.contains("got 0x00000801"),
            "{e}"
        );
        good(&t.0);
        std::fs::write(
            t.0.join("t10k-labels-idx1-ubyte.gz"),
            gz(&idx_images(2, 1, 1, &[0, 0])),
        )
        .unwrap();
        let e = err(&t.0);
        assert!(
            e.contains("expected 0x00000801") && e.contains("got 0x00000803"),
            "{e}"
        );
        std::fs::write(t.0.join("t10k-labels-idx1-ubyte.gz"), [0u8, 0]).unwrap();
        let e = err(&t.0);
        assert!(e.contains("too short"), "{e}");
    }

    #[test]
    fn truncated_data() {
        let t = TempDir::new();
        good(&t.0);
        let mut b = idx_images(3, 2, 3, &[1; 18]);
        b.truncate(b.len() - 5);
        std::fs::write(t.0.join("train-images-idx3-ubyte"), &b).unwrap();
        let e = err(&t.0);
        assert!(e.contains("train-images-idx3-ubyte"), "{e}");
        assert!(
            e.contains("truncated") && e.contains("3 items of 2x3") && e.contains("13 data bytes"),
            "{e}"
        );
        good(&t.0);
        let b = idx_labels(&[0, 1, 2]);
        std::fs::write(t.0.join("train-labels-idx1-ubyte"), &b[..10]).unwrap();
        let e = err(&t.0);
        assert!(e.contains("truncated") && e.contains("3 items"), "{e}");
        std::fs::write(t.0.join("train-labels-idx1-ubyte"), &b[..6]).unwrap();
        let e = err(&t.0);
        assert!(e.contains("truncated header"), "{e}");
        // damaged gzip stream
        good(&t.0);
        let g = gz(&idx_labels(&[1, 2]));
        std::fs::write(t.0.join("t10k-labels-idx1-ubyte.gz"), &g[..g.len() / 2]).unwrap();
        let e = err(&t.0);
        assert!(e.contains("gzip"), "{e}");
    }

    #[test]
    fn count_mismatch() {
        let t = TempDir::new();
        good(&t.0);
        std::fs::write(t.0.join("train-labels-idx1-ubyte"), idx_labels(&[0, 1])).unwrap();
        let e = err(&t.0);
        assert!(
            e.contains("count mismatch") && e.contains("3 images") && e.contains("2 labels"),
            "{e}"
        );
    }

    #[test]
    fn label_out_of_range() {
        let t = TempDir::new();
        good(&t.0);
        std::fs::write(t.0.join("train-labels-idx1-ubyte"), idx_labels(&[0, 10, 1])).unwrap();
        let e = err(&t.0);
        assert!(
            e.contains("label 10 at index 1") && e.contains("> 9"),
            "{e}"
        );
    }

    #[test]
    fn image_size_mismatch() {
        let t = TempDir::new();
        good(&t.0);
        std::fs::write(
            t.0.join("t10k-images-idx3-ubyte.gz"),
            gz(&idx_images(2, 3, 2, &[0; 12])),
        )
        .unwrap();
        let e = err(&t.0);
        assert!(
            e.contains("size mismatch") && e.contains("2x3") && e.contains("3x2"),
            "{e}"
        );
    }

    /// The held-out part and the rest are disjoint, cover the first `n`
    /// samples, are the same for a seed and differ for another.
    #[test]
    fn hold_out_is_disjoint_and_seeded() {
        let d = Dataset {
            rows: 1,
            cols: 1,
            max_pixel: 255,
            images: (0..200).map(|i| i as u8).collect(),
            labels: (0..200).map(|i| (i % 10) as u8).collect(),
        };
        let (rest, held) = d.hold_out(150, 30, 7);
        assert_eq!((rest.len(), held.len()), (120, 30));
        let mut all: Vec<u8> = rest.images.iter().chain(&held.images).copied().collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..150).collect::<Vec<u8>>(),
            "not a partition of the first 150"
        );
        // the labels travel with their images, and the order is kept
        for part in [&rest, &held] {
            assert!(part.images.windows(2).all(|w| w[0] < w[1]));
            assert!((0..part.len()).all(|i| part.labels[i] == part.images[i] % 10));
        }
        assert_eq!(d.hold_out(150, 30, 7), (rest.clone(), held.clone()));
        assert_ne!(d.hold_out(150, 30, 8).1, held);
        // not simply the first or last samples
        assert!(held.images.iter().any(|&v| v < 120) && held.images.iter().any(|&v| v >= 30));
    }

    #[test]
    fn loads_digits_8x8() {
        let d = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/digits-8x8"));
        let s = load_dir(d).unwrap();
        assert_eq!(s.train.len(), 1437);
        assert_eq!(s.test.len(), 360);
        assert_eq!((s.train.rows, s.train.cols), (8, 8));
        assert_eq!((s.test.rows, s.test.cols), (8, 8));
        assert_eq!(s.train.max_pixel, 16);
        assert_eq!(s.test.max_pixel, 16);
        assert!(s.train.labels.iter().all(|&l| l < 10));
        let x = s.train.x(0);
        assert_eq!(x.len(), 64);
        assert!(x.iter().all(|&v| (0.0..=1.0).contains(&v)));
        assert!(x.contains(&1.0));
    }

    #[test]
    fn loads_mnist_10k() {
        let d = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/mnist-10k"));
        let s = load_dir(d).unwrap();
        assert_eq!((s.train.len(), s.test.len()), (8000, 2000));
        assert_eq!(
            (s.train.rows, s.train.cols, s.train.pixels()),
            (28, 28, 784)
        );
        assert_eq!(s.train.max_pixel, 255);
        assert_eq!(s.test.max_pixel, 255);
    }
}
