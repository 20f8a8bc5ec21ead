//! Checkpoints: a model's weights and configuration in one safetensors file.
//!
//! The weights are the file's tensors (f32, named by layer, e.g. `hidden1.weight`);
//! the configuration is serde JSON stored in the file's metadata under the key
//! `flowmatch`, so one file always holds a matching pair.
//!
//! Writes are atomic: the file is written under a temporary name in the same
//! folder, flushed to disk, then renamed over the old one. A crash mid-write
//! leaves the previous checkpoint intact.

use crate::error::{Error, Result};
use dfdx::nn::tensor_collection::{
    RecursiveWalker, ScalarOptions, TensorCollection, TensorOptions, TensorVisitor, ViewTensorName, ViewTensorRef,
};
use dfdx::nn::LoadFromSafetensors;
use dfdx::prelude::{Gradients, Shape, Tensor};
use dfdx::tensor_ops::Device;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The version of the checkpoint layout written by this crate.
pub const FORMAT_VERSION: u32 = 1;

/// What a checkpoint says about itself (stored as JSON in the safetensors metadata).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// [`FORMAT_VERSION`] when written.
    pub format: u32,
    /// The model type, e.g. `"Mlp"`.
    pub model: String,
    /// The model's const shape parameters, e.g. `{"D": 2, "H": 64, "TF": 1}`.
    pub shape: HashMap<String, usize>,
    /// The model's own configuration (JSON).
    pub model_config: serde_json::Value,
    /// The training configuration, when the checkpoint was written by a trainer (JSON).
    pub training: Option<serde_json::Value>,
    /// How many optimisation steps the weights have seen.
    pub steps: usize,
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "checkpoint".into());
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    path.with_file_name(format!(".{name}.tmp-{}-{nanos}", std::process::id()))
}

/// Writes `bytes` to `path` atomically: temporary file, fsync, rename.
pub fn write_bytes_atomically(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    write_atomically(path, |f| f.write_all(bytes))
}

/// Writes a file atomically: `write` fills a temporary file in the same folder,
/// which is flushed to disk and then renamed over `path`. If `write` fails, or
/// the process dies before the rename, `path` keeps its old content.
pub fn write_atomically(
    path: impl AsRef<Path>,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let path = path.as_ref();
    if path.file_name().is_none() {
        return Err(Error::io(path, "the path names no file"));
    }
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(path, e))?;
        write(&mut f).map_err(|e| Error::io(path, e))?;
        f.sync_all().map_err(|e| Error::io(path, e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Persist the rename itself; not every platform can open a folder, so ignore failure.
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// One named tensor of a module: (name, shape, f32 values in row-major order).
pub type NamedTensor = (String, Vec<usize>, Vec<f32>);

/// Collects a module's tensors, or their gradients in `grads`.
struct Collect<'g, D: Device<f32>> {
    out: Vec<NamedTensor>,
    grads: Option<&'g Gradients<f32, D>>,
}

impl<D: Device<f32>> TensorVisitor<f32, D> for Collect<'_, D> {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = Error;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        _: TensorOptions<S, f32, D>,
        (t, name): (&Tensor<S, f32, D>, String),
    ) -> Result<Option<Tensor<S, f32, D>>> {
        use dfdx::prelude::HasShape;
        let shape: Vec<usize> = t.shape().concrete().into_iter().collect();
        let values = match self.grads {
            Some(grads) => grads.get(t).as_vec(),
            None => t.as_vec(),
        };
        self.out.push((name, shape, values));
        Ok(None)
    }

    fn visit_scalar<N: num_traits::NumCast>(&mut self, opts: ScalarOptions<N>, _: (&N, String)) -> Result<Option<N>> {
        Ok(Some(opts.default))
    }
}

/// The named tensors of a dfdx module, in visiting order.
pub fn module_tensors<M: TensorCollection<f32, D>, D: Device<f32>>(module: &M) -> Result<Vec<NamedTensor>> {
    let mut c = Collect { out: Vec::new(), grads: None };
    M::iter_tensors(&mut RecursiveWalker { m: (module, String::new()), f: &mut c })?;
    Ok(c.out)
}

/// The gradient of every tensor of a dfdx module in `grads` (which must hold one for each), named
/// and ordered as [`module_tensors`] names and orders the tensors.
pub(crate) fn module_gradients<M: TensorCollection<f32, D>, D: Device<f32>>(
    module: &M,
    grads: &Gradients<f32, D>,
) -> Result<Vec<NamedTensor>> {
    let mut c = Collect { out: Vec::new(), grads: Some(grads) };
    M::iter_tensors(&mut RecursiveWalker { m: (module, String::new()), f: &mut c })?;
    Ok(c.out)
}

/// Saves a dfdx module's weights and `meta` to `path` as one safetensors file, atomically.
pub fn save_module<M: TensorCollection<f32, D>, D: Device<f32>>(
    module: &M,
    meta: &CheckpointMeta,
    path: impl AsRef<Path>,
) -> Result<()> {
    save_module_with(module, &[], meta, path)
}

/// Like [`save_module`], with `extra` tensors (weights kept outside the dfdx module, such as
/// a conditional model's label vectors) stored next to the module's.
pub fn save_module_with<M: TensorCollection<f32, D>, D: Device<f32>>(
    module: &M,
    extra: &[NamedTensor],
    meta: &CheckpointMeta,
    path: impl AsRef<Path>,
) -> Result<()> {
    let mut tensors = module_tensors(module)?;
    tensors.extend(extra.iter().cloned());
    save_tensors(tensors, meta, path)
}

/// Saves named f32 tensors and `meta` to `path` as one safetensors file, atomically.
pub fn save_tensors(tensors: Vec<NamedTensor>, meta: &CheckpointMeta, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> =
        tensors.into_iter().map(|(n, s, v)| (n, s, v.iter().flat_map(|x| x.to_le_bytes()).collect())).collect();
    let views = bytes
        .iter()
        .map(|(n, s, b)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(|e| Error::Checkpoint { path: path.display().to_string(), reason: format!("{e:?}") })
        })
        .collect::<Result<Vec<_>>>()?;
    let json = serde_json::to_string(meta)
        .map_err(|e| Error::Checkpoint { path: path.display().to_string(), reason: e.to_string() })?;
    let metadata = Some(HashMap::from([("flowmatch".to_string(), json)]));
    let data = safetensors::tensor::serialize(views, &metadata)
        .map_err(|e| Error::Checkpoint { path: path.display().to_string(), reason: format!("{e:?}") })?;
    write_bytes_atomically(path, &data)
}

/// Tensors by name: (shape, f32 values).
pub type TensorMap = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// Reads every tensor of a checkpoint written by [`save_tensors`] or [`save_module`] (f32 only),
/// with its metadata.
pub fn load_tensors(path: impl AsRef<Path>) -> Result<(CheckpointMeta, TensorMap)> {
    let path = path.as_ref();
    let meta = read_meta(path)?;
    let bytes = read_file(path)?;
    let bad = |reason: String| Error::Checkpoint { path: path.display().to_string(), reason };
    let st = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(format!("not a readable safetensors file ({e:?}); it may be truncated or corrupt")))?;
    let mut out = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(bad(format!("tensor {name} is {:?}, not f32", view.dtype())));
        }
        let values = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        out.insert(name, (view.shape().to_vec(), values));
    }
    Ok((meta, out))
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::io(path, "no such file; check the path, or save a checkpoint there first")
        } else {
            Error::io(path, e)
        }
    })
}

/// Reads the metadata of the checkpoint at `path` without loading its weights.
pub fn read_meta(path: impl AsRef<Path>) -> Result<CheckpointMeta> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let bad = |reason: String| Error::Checkpoint { path: path.display().to_string(), reason };
    let (_, md) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| bad(format!("not a readable safetensors file ({e:?}); it may be truncated or corrupt")))?;
    let json = md
        .metadata()
        .as_ref()
        .and_then(|m| m.get("flowmatch"))
        .ok_or_else(|| bad("it has no flowmatch metadata, so it was not written by flowmatch".into()))?;
    let meta: CheckpointMeta =
        serde_json::from_str(json).map_err(|e| bad(format!("its flowmatch metadata is not valid ({e})")))?;
    if meta.format != FORMAT_VERSION {
        return Err(bad(format!("format version {} is not the supported {FORMAT_VERSION}", meta.format)));
    }
    Ok(meta)
}

/// Reads the tensor `name` (f32) of the checkpoint at `path`: its shape and values.
///
/// Errors: [`Error::Checkpoint`] when the file has no such tensor or it is not f32.
pub fn read_tensor(path: impl AsRef<Path>, name: &str) -> Result<(Vec<usize>, Vec<f32>)> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let bad = |reason: String| Error::Checkpoint { path: path.display().to_string(), reason };
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(format!("not a readable safetensors file ({e:?}); it may be truncated or corrupt")))?;
    let view = file.tensor(name).map_err(|_| {
        bad(format!("it holds no tensor '{name}', which this model needs; it was saved from another kind of model"))
    })?;
    if view.dtype() != safetensors::Dtype::F32 {
        return Err(bad(format!("its tensor '{name}' is {:?}, not f32", view.dtype())));
    }
    let values = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Ok((view.shape().to_vec(), values))
}

/// Loads the weights in `path` into `module`. On any error `module` is left unchanged.
pub fn load_module<M: TensorCollection<f32, D> + Clone, D: Device<f32>>(
    module: &mut M,
    path: impl AsRef<Path>,
) -> Result<()> {
    let path = path.as_ref();
    read_meta(path)?;
    let mut fresh = module.clone();
    fresh.load_safetensors(path).map_err(|e| Error::Checkpoint {
        path: path.display().to_string(),
        reason: match e {
            dfdx::tensor::safetensors::Error::MismatchedDimension((found, expected)) => format!(
                "a tensor has shape {found:?} but the model expects {expected:?}: the checkpoint was saved from a model of another shape"
            ),
            other => format!("{other:?}"),
        },
    })?;
    *module = fresh;
    Ok(())
}

/// Errors unless the checkpoint's model type and shape are the ones expected.
pub fn check_shape(path: &Path, meta: &CheckpointMeta, model: &str, shape: &[(&str, usize)]) -> Result<()> {
    let want: HashMap<String, usize> = shape.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    if meta.model != model || meta.shape != want {
        let mut found: Vec<_> = meta.shape.iter().map(|(k, v)| format!("{k}={v}")).collect();
        found.sort();
        let mut expected: Vec<_> = want.iter().map(|(k, v)| format!("{k}={v}")).collect();
        expected.sort();
        return Err(Error::Checkpoint {
            path: path.display().to_string(),
            reason: format!(
                "it holds a {}<{}> but a {model}<{}> was asked for; build the model with the checkpoint's shape",
                meta.model,
                found.join(", "),
                expected.join(", ")
            ),
        });
    }
    Ok(())
}

/// The configuration of a checkpoint written for `model` (its metadata's `model_config`).
///
/// Errors: [`Error::Checkpoint`] when the file holds another model or its configuration does not parse.
fn model_config<C: serde::de::DeserializeOwned>(path: &Path, meta: &CheckpointMeta, model: &str) -> Result<C> {
    let bad = |reason: String| Error::Checkpoint { path: path.display().to_string(), reason };
    if meta.model != model {
        return Err(bad(format!("it holds a {}, not a {model}; load it with the type that saved it", meta.model)));
    }
    serde_json::from_value(meta.model_config.clone())
        .map_err(|e| bad(format!("its {model} configuration is not valid ({e})")))
}

/// A run-time-shaped CPU parameter.
pub(crate) type Param = Tensor<(usize, usize), f32, dfdx::prelude::Cpu>;

/// A model whose parameters are run-time-shaped CPU tensors saved under names ([`save_named`]).
pub(crate) trait NamedParams {
    /// The names of the parameters, and the parameters, in the same order.
    fn named_params(&mut self) -> (&[String], &mut [Param]);
}

/// Loads a model saved by [`save_named`]: checks that the file holds a `model`, rebuilds it from
/// the configuration the file records (`build`), then copies in its tensors. `what` names the
/// model in messages. Returns the model and the file's metadata.
///
/// Errors: [`Error::Io`] for a missing file; [`Error::Checkpoint`] for another model or format
/// version, a configuration that `build` refuses, or tensors that do not match it.
pub(crate) fn load_named<C: serde::de::DeserializeOwned, M: NamedParams>(
    path: &Path,
    model: &str,
    what: &str,
    build: impl FnOnce(C) -> Result<M>,
) -> Result<(M, CheckpointMeta)> {
    let (meta, tensors) = load_tensors(path)?;
    let config: C = model_config(path, &meta, model)?;
    let mut loaded = build(config).map_err(|e| Error::Checkpoint {
        path: path.display().to_string(),
        reason: format!("its configuration makes no {what}: {e}"),
    })?;
    let (names, params) = loaded.named_params();
    fill_named(path, what, names, params, tensors)?;
    Ok((loaded, meta))
}

/// Saves run-time-shaped parameters `params` under `names`, with `meta`, to `path` (atomically).
pub(crate) fn save_named(
    names: &[String],
    params: &[Tensor<(usize, usize), f32, dfdx::prelude::Cpu>],
    meta: &CheckpointMeta,
    path: impl AsRef<Path>,
) -> Result<()> {
    let tensors: Vec<NamedTensor> = names
        .iter()
        .zip(params)
        .map(|(n, p)| {
            let (rows, cols) = dfdx::shapes::HasShape::shape(p).to_owned();
            (n.clone(), vec![rows, cols], p.as_vec())
        })
        .collect();
    save_tensors(tensors, meta, path)
}

/// Copies the tensors of a checkpoint into the run-time-shaped parameters `params` (named `names`),
/// each of the same shape; every tensor must be used.
///
/// Errors: [`Error::Checkpoint`] for a missing tensor, one of another shape, or one left over.
fn fill_named(
    path: &Path,
    model: &str,
    names: &[String],
    params: &mut [Tensor<(usize, usize), f32, dfdx::prelude::Cpu>],
    mut tensors: TensorMap,
) -> Result<()> {
    let bad = |reason: String| Error::Checkpoint { path: path.display().to_string(), reason };
    for (name, p) in names.iter().zip(params.iter_mut()) {
        let want = vec![dfdx::shapes::HasShape::shape(p).0, dfdx::shapes::HasShape::shape(p).1];
        let (shape, values) =
            tensors.remove(name).ok_or_else(|| bad(format!("it has no tensor '{name}', which this {model} needs")))?;
        if shape != want {
            return Err(bad(format!(
                "its tensor '{name}' has shape {shape:?}, but the {model} its configuration describes needs {want:?}"
            )));
        }
        p.copy_from(&values);
    }
    if let Some(extra) = tensors.keys().next() {
        return Err(bad(format!(
            "it has a tensor '{extra}' that this {model} does not have; it was saved from another model"
        )));
    }
    Ok(())
}
