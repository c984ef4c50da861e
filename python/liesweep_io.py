"""Read liesweep's outputs in Python: results, verdicts, the CSV, loss
histories, latents, and the trained networks as torch modules.

Standard library, numpy and torch only (no ``safetensors`` package: the
format is parsed here). Every network is rebuilt exactly as liesweep runs it
(models/*.go): the same layers, activations, padding, upsampling and dtypes,
so its outputs agree with liesweep's to rounding (the Go test
cmd/liesweep/python_test.go checks ψ and the generators to 1e-6 and the
autoencoder to float32 rounding).

Storage conventions (README, "Weights"): dense weights are stored (in, out)
and biases (1, out), so ``nn.Linear.weight`` is the transpose; conv weights
are (out, in, kh, kw) and conv biases (1, out, 1, 1); linear generators
``gen.<a>.matrix`` act on column vectors, g_a(z) = G_a z.

    import liesweep_io as lio
    t = lio.load_trial("out/so4-ng6")        # a `liesweep train --out` folder
    g = t.generators(torch.randn(5, 4, dtype=torch.float64))   # (N_g, 5, 4)
"""

import csv
import json
import math
import os
import struct
import types

import numpy as np
import torch
from torch import nn

__all__ = [
    "read_safetensors", "load_result", "load_verdict", "verdict_trials", "load_trials_csv",
    "load_history", "load_latents", "load_oracle", "load_generators", "load_autoencoder",
    "load_classifier", "load_trial", "MLP", "Oracle", "Generators", "Autoencoder", "PixelClassifier",
]

# ---------------------------------------------------------------- safetensors

_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}


def read_safetensors(path):
    """Read a safetensors file (a path, or the file's bytes).

    Returns ``(tensors, metadata)``: a dict of name -> torch.Tensor (dtype and
    shape as stored) and the string metadata of ``__metadata__`` ({} if none).
    The format: an 8-byte little-endian header length n, n bytes of JSON
    naming each tensor's dtype, shape and data_offsets (relative to the data
    that follows the header), then the raw little-endian data. Raises
    ValueError on a malformed file.
    """
    if isinstance(path, (bytes, bytearray, memoryview)):
        raw = bytes(path)
    else:
        with open(path, "rb") as f:
            raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{len(raw)} bytes: too short for a safetensors header")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise ValueError(f"header length {n} exceeds the file's {len(raw)} bytes")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    body = memoryview(raw)[8 + n:]
    meta = dict(header.pop("__metadata__", None) or {})
    tensors = {}
    for name, e in header.items():
        dt, shape = e["dtype"], tuple(int(s) for s in e["shape"])
        lo, hi = (int(x) for x in e["data_offsets"])
        if not 0 <= lo <= hi <= len(body):
            raise ValueError(f"tensor {name}: byte range [{lo}, {hi}) outside {len(body)} bytes of data")
        count = math.prod(shape)
        if dt == "BF16":
            if hi - lo != 2 * count:
                raise ValueError(f"tensor {name}: {hi - lo} bytes for {count} BF16 values")
            bits = np.frombuffer(body[lo:hi], dtype="<u2").astype(np.uint32) << 16
            tensors[name] = torch.from_numpy(bits.view(np.float32).copy()).to(torch.bfloat16).reshape(shape)
            continue
        if dt not in _DTYPES:
            raise ValueError(f"tensor {name}: unsupported dtype {dt}")
        npdt = _DTYPES[dt]
        if hi - lo != npdt.itemsize * count:
            raise ValueError(f"tensor {name}: {hi - lo} bytes for {count} {dt} values of shape {list(shape)}")
        arr = np.frombuffer(body[lo:hi], dtype=npdt).astype(npdt.newbyteorder("="), copy=True)
        tensors[name] = torch.from_numpy(arr.reshape(shape))
    return tensors, meta


def _tensors(path_or_pair):
    """Accept a path, bytes, or an already read (tensors, metadata) pair."""
    if isinstance(path_or_pair, tuple):
        return path_or_pair
    return read_safetensors(path_or_pair)


# ---------------------------------------------------------------- documents

def load_result(path):
    """Load a trial's result.json (a file, or a folder holding result.json)
    as a dict: the fields of the README's result.json table."""
    if os.path.isdir(path):
        path = os.path.join(path, "result.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_verdict(path):
    """Load a sweep's verdict.json (a file, or a folder holding it) as a dict:
    ``{schema_version, sweep, spec, groups, notes}``; each group has
    ``levels``, each level ``trials`` (result.json dicts). Raises ValueError
    for a schema_version this module does not know (newer than 1)."""
    if os.path.isdir(path):
        path = os.path.join(path, "verdict.json")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    v = doc.get("schema_version", 1)
    if v > 1:
        raise ValueError(f"{path}: verdict schema_version {v}; this liesweep_io reads 1")
    return doc


def verdict_trials(verdict):
    """Every trial of a verdict (a dict from load_verdict, or a path), in the
    order of groups, levels and trials."""
    if not isinstance(verdict, dict):
        verdict = load_verdict(verdict)
    return [t for g in verdict.get("groups") or [] for lv in g.get("levels") or [] for t in lv.get("trials") or []]


_CSV_INT = {"latent_dim", "ng", "seed", "algebra_dim", "derived_dim", "killing_pos", "killing_neg", "killing_zero",
            "epochs", "epochs_run"}
_CSV_BOOL = {"passed", "flows_passed", "abelian", "stopped_early"}
_CSV_STR = {"sweep", "dataset", "failed_on", "worker", "algebra_name"}
_CSV_JSON = {"structure_constants"}


def load_trials_csv(path):
    """Load trials.csv (``liesweep sweep report --format csv``) as a list of
    dicts with typed values: ints, bools, floats (None where empty),
    ``failed_on`` split on "+" into a list, ``structure_constants`` parsed
    from its JSON (a nested list a[α][β][γ]). Columns this version does not
    know are read as floats when they parse, else kept as strings.
    (pandas users: ``pd.read_csv(path)`` reads the same file.)"""
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            row = {}
            for k, v in rec.items():
                if k == "failed_on":
                    row[k] = [x for x in v.split("+") if x]
                elif k in _CSV_STR:
                    row[k] = v
                elif v == "":
                    row[k] = None
                elif k in _CSV_INT:
                    row[k] = int(v)
                elif k in _CSV_BOOL:
                    row[k] = v == "true"
                elif k in _CSV_JSON:
                    row[k] = json.loads(v)
                else:
                    try:
                        row[k] = float(v)
                    except ValueError:
                        row[k] = v
            rows.append(row)
    return rows


def load_history(path):
    """The per-epoch losses of a training: a list of {term: value}, one per
    epoch. ``path`` is a stage's weights or checkpoint (.safetensors, the
    metadata ``history``: a JSON array) or a losses.jsonl written by
    ``liesweep train`` (one {"epoch": e, term: value, …} per line; the
    "epoch" key is dropped, the list is in epoch order). [] when the
    artifact predates stored histories."""
    if str(path).endswith(".jsonl"):
        out = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    rec = json.loads(line)
                    rec.pop("epoch", None)
                    out.append({k: (math.nan if v is None else float(v)) for k, v in rec.items()})
        return out
    _, meta = _tensors(path)
    h = meta.get("history", "")
    if not h:
        return []
    if not h.startswith("["):  # the "k=v,…;…" form of early checkpoints
        return [{k: float(v) for k, v in (kv.split("=", 1) for kv in ep.split(",") if kv)} for ep in h.split(";") if ep]
    return json.loads(h)


def load_latents(path):
    """The latents stage (latents.safetensors): a dict with ``train_z``,
    ``val_z`` (float64, standardised latents, one row per image),
    ``train_y``, ``val_y`` (int64 labels: the digits) and ``metadata``."""
    ts, meta = _tensors(path)
    return {"train_z": ts["train_z"], "val_z": ts["val_z"],
            "train_y": ts["train_y"].round().to(torch.int64), "val_y": ts["val_y"].round().to(torch.int64),
            "metadata": meta}


# ---------------------------------------------------------------- networks

def _linear(w, b):
    """nn.Linear from a stored (in, out) weight and (1, out) bias."""
    lin = nn.Linear(w.shape[0], w.shape[1], dtype=w.dtype)
    with torch.no_grad():
        lin.weight.copy_(w.t())
        lin.bias.copy_(b.reshape(-1))
    return lin


def _conv(w, b, stride):
    """nn.Conv2d 3×3, padding 1, from a stored (out, in, 3, 3) weight and (1, out, 1, 1) bias."""
    conv = nn.Conv2d(w.shape[1], w.shape[0], kernel_size=tuple(w.shape[2:]), stride=stride, padding=1, dtype=w.dtype)
    with torch.no_grad():
        conv.weight.copy_(w)
        conv.bias.copy_(b.reshape(-1))
    return conv


class MLP(nn.Module):
    """liesweep's models.MLP: dense layers with an activation ("relu" or
    "tanh") between them and none after the last."""

    def __init__(self, layers, activation):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.activation = activation
        self.sizes = [layers[0].in_features] + [l.out_features for l in layers]

    @classmethod
    def from_tensors(cls, tensors, prefix, activation):
        """Build from ``<prefix>.<i>.weight`` (in, out) and ``<prefix>.<i>.bias`` (1, out), i = 0, 1, …"""
        layers, i = [], 0
        while f"{prefix}.{i}.weight" in tensors:
            layers.append(_linear(tensors[f"{prefix}.{i}.weight"], tensors[f"{prefix}.{i}.bias"]))
            i += 1
        if not layers:
            raise KeyError(f"no tensors {prefix}.0.weight …")
        return cls(layers, activation)

    def forward(self, x):
        act = {"relu": torch.relu, "tanh": torch.tanh}[self.activation]
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = act(x)
        return x


def _sigmoid_pair_or_softmax(logits):
    """Class probabilities from logits as liesweep reports them: (1 − p, p)
    with p = sigmoid(l) for one logit, the softmax otherwise."""
    if logits.shape[-1] == 1:
        p = torch.sigmoid(logits)
        return torch.cat([1 - p, p], dim=-1)
    return torch.softmax(logits, dim=-1)


class Oracle(nn.Module):
    """ψ (models.MLPOracle), float64: ℓ → 128 → 128 → 32 → k with ReLU, k = 1
    logit for two classes, one per class otherwise. Its input is the
    standardised latents.

    ``forward(z)`` is ψ as the generators were trained to preserve it
    (models.EvalOracle): the logits (``preserve == "logits"``, eq. 6) or the
    probabilities (sigmoid of the one logit, or the softmax).
    ``logits(z)``; ``probabilities(z)`` is (M, classes) as in the reports.
    """

    def __init__(self, net, preserve="logits", classes=None):
        super().__init__()
        self.net, self.preserve = net, preserve
        self.classes = classes if classes is not None else max(2, net.sizes[-1])

    def logits(self, z):
        return self.net(z)

    def probabilities(self, z):
        return _sigmoid_pair_or_softmax(self.net(z))

    def forward(self, z):
        l = self.net(z)
        if self.preserve != "probabilities":
            return l
        return torch.sigmoid(l) if l.shape[-1] == 1 else torch.softmax(l, dim=-1)


class Generators(nn.Module):
    """The N_g symmetry generators (models.GeneratorSet), float64.

    linear: g_a(z) = G_a z (``gen.<a>.matrix``, column vectors), so a batch
    of row points maps to z @ G_aᵀ; mlp: dim → hidden… → dim with tanh
    between layers (``gen.<a>.<l>.weight|bias``).

    ``forward(z)`` stacks every field: (N_g, M, dim) for z of shape (M, dim);
    ``field(a, z)`` is one; ``matrix(a, z0=None)`` is G_a (linear) or the
    Jacobian of g_a at z0 (mlp); ``streamline(a, z0, eps, steps)`` integrates
    dz/dt = g_a(z) with RK4 as the reports do. ``closure_coeffs`` holds the
    jointly trained a_[αβ]γ (pairs α<β in order × N_g) when closure: joint.
    """

    def __init__(self, kind, dim, fields, closure_coeffs=None):
        super().__init__()
        self.kind, self.dim, self.n = kind, dim, len(fields)
        if kind == "linear":
            self.matrices = nn.ParameterList([nn.Parameter(m) for m in fields])
        else:
            self.mlps = nn.ModuleList(fields)
        self.closure_coeffs = closure_coeffs

    def field(self, a, z):
        if self.kind == "linear":
            return z @ self.matrices[a].t()
        return self.mlps[a](z)

    def forward(self, z):
        return torch.stack([self.field(a, z) for a in range(self.n)])

    def matrix(self, a, z0=None):
        if self.kind == "linear":
            return self.matrices[a].detach().clone()
        if z0 is None:
            raise ValueError("MLP generators: give the point z0 to linearise at")
        z0 = torch.as_tensor(z0, dtype=torch.float64)
        return torch.autograd.functional.jacobian(lambda z: self.mlps[a](z), z0)

    @torch.no_grad()
    def streamline(self, a, z0, eps=1e-3, steps=6000, every=1):
        """z0 and every every-th point of `steps` RK4 steps of size eps along g_a
        (the last point always included): models.GeneratorSet.Streamline."""
        f = lambda z: self.field(a, z.unsqueeze(0)).squeeze(0)
        z = torch.as_tensor(z0, dtype=torch.float64).clone()
        out, every = [z.clone()], max(every, 1)
        for k in range(1, steps + 1):
            k1 = f(z)
            k2 = f(z + eps / 2 * k1)
            k3 = f(z + eps / 2 * k2)
            k4 = f(z + eps * k3)
            z = z + eps / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            if k % every == 0 or k == steps:
                out.append(z.clone())
        return torch.stack(out)


class Autoencoder(nn.Module):
    """The conv autoencoder (models.Autoencoder), float32 like liesweep:

        E: 1×28×28 → conv3×3/2 16 → ReLU → conv3×3/2 32 → ReLU → flatten 1568 → map → ℓ
        D: ℓ → map → ReLU → 32×7×7 → upsample×2 (nearest) → conv3×3 16 → ReLU
           → upsample×2 → conv3×3 1 → sigmoid

    (map: one dense layer for ℓ ≤ 3, 1568→128→64→ℓ with ReLU above, and
    back.) Convolutions have padding 1. Latents are standardised:
    z = (E(x) − shift) / scale, shift and scale float64 from the metadata.

    ``encode(x)`` takes images (B, 784) or (B, 1, 28, 28) in [0, 1] and
    returns standardised float64 latents (models.Autoencoder.Encode);
    ``encode_raw(x)`` before standardisation; ``decode(z)`` takes
    standardised latents and returns (B, 1, 28, 28) float32 images in (0, 1)
    (models.Autoencoder.Decode); ``decode_logits(z)`` before the sigmoid;
    ``forward(x) = decode(encode(x))``.
    """

    def __init__(self, tensors, meta):
        super().__init__()
        t = tensors
        self.enc_conv1 = _conv(t["enc.conv1.weight"], t["enc.conv1.bias"], 2)
        self.enc_conv2 = _conv(t["enc.conv2.weight"], t["enc.conv2.bias"], 2)
        self.enc_map = MLP.from_tensors(t, "enc.map", "relu")
        self.dec_map = MLP.from_tensors(t, "dec.map", "relu")
        self.dec_conv1 = _conv(t["dec.conv1.weight"], t["dec.conv1.bias"], 1)
        self.dec_conv2 = _conv(t["dec.conv2.weight"], t["dec.conv2.bias"], 1)
        self.latent = self.enc_map.sizes[-1]
        self.register_buffer("shift", torch.tensor(json.loads(meta["shift"]), dtype=torch.float64))
        self.register_buffer("scale", torch.tensor(json.loads(meta["scale"]), dtype=torch.float64))

    @staticmethod
    def _images(x):
        x = torch.as_tensor(x).to(torch.float32)
        return x.reshape(-1, 1, 28, 28)

    def encode_raw(self, x):
        h = torch.relu(self.enc_conv1(self._images(x)))
        h = torch.relu(self.enc_conv2(h))
        return self.enc_map(h.reshape(h.shape[0], -1)).to(torch.float64)

    def encode(self, x):
        return (self.encode_raw(x) - self.shift) / self.scale

    def decode_logits(self, z):
        raw = (torch.as_tensor(z, dtype=torch.float64) * self.scale + self.shift).to(torch.float32)
        h = torch.relu(self.dec_map(raw)).reshape(raw.shape[0], 32, 7, 7)
        h = torch.relu(self.dec_conv1(nn.functional.interpolate(h, scale_factor=2, mode="nearest")))
        return self.dec_conv2(nn.functional.interpolate(h, scale_factor=2, mode="nearest"))

    def decode(self, z):
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x):
        return self.decode(self.encode(x))


class PixelClassifier(nn.Module):
    """φ, the pixel-space CNN judging decoded frames (models.PixelClassifier),
    float32: 1×28×28 → conv3×3/2 16 → ReLU → conv3×3/2 32 → ReLU → 1568 → 64 →
    ReLU → k (k = 1 logit for two classes). ``logits(x)``,
    ``probabilities(x)`` ((B, classes), (1 − p, p) for one logit);
    ``forward`` = probabilities."""

    def __init__(self, tensors, classes=None):
        super().__init__()
        t = tensors
        self.conv1 = _conv(t["phi.conv1.weight"], t["phi.conv1.bias"], 2)
        self.conv2 = _conv(t["phi.conv2.weight"], t["phi.conv2.bias"], 2)
        self.head = MLP.from_tensors(t, "phi.head", "relu")
        self.classes = classes if classes is not None else max(2, self.head.sizes[-1])

    def logits(self, x):
        h = torch.relu(self.conv1(Autoencoder._images(x)))
        h = torch.relu(self.conv2(h))
        return self.head(h.reshape(h.shape[0], -1))

    def probabilities(self, x):
        return _sigmoid_pair_or_softmax(self.logits(x).to(torch.float64))

    def forward(self, x):
        return self.probabilities(x)


def load_oracle(path):
    """ψ from the oracle stage's weights (``oracle.safetensors`` or
    ``artifacts/oracle/<key>/weights.safetensors``): an Oracle module."""
    ts, meta = _tensors(path)
    classes = int(meta["classes"]) if meta.get("classes") else None
    # MNIST's ψ is the paper's ReLU network; a table's records its activation
    act = meta.get("activation") or "relu"
    return Oracle(MLP.from_tensors(ts, "oracle", act), meta.get("preserve") or "logits", classes).eval()


def load_generators(path):
    """The generators from the generators stage's weights: a Generators module."""
    ts, meta = _tensors(path)
    kind = meta.get("kind") or ("linear" if "gen.0.matrix" in ts else "mlp")
    n = int(meta["ng"]) if meta.get("ng") else len({k.split(".")[1] for k in ts if k.startswith("gen.")})
    if kind == "linear":
        fields = [ts[f"gen.{a}.matrix"] for a in range(n)]
        dim = fields[0].shape[0]
    else:
        fields = [MLP.from_tensors(ts, f"gen.{a}", "tanh") for a in range(n)]
        dim = fields[0].sizes[0]
    return Generators(kind, dim, fields, ts.get("closure.coeffs")).eval()


def load_autoencoder(path):
    """The autoencoder from its stage's weights: an Autoencoder module."""
    return Autoencoder(*_tensors(path)).eval()


def load_classifier(path):
    """φ from the classifier stage's weights: a PixelClassifier module."""
    ts, meta = _tensors(path)
    return PixelClassifier(ts, int(meta["classes"]) if meta.get("classes") else None).eval()


# ---------------------------------------------------------------- one trial

_LOADERS = {"generators": load_generators, "oracle": load_oracle, "autoencoder": load_autoencoder,
            "classifier": load_classifier, "latents": load_latents}


def load_trial(path, root=None):
    """Everything a finished trial left, as a namespace.

    ``path``: a ``liesweep train --out`` folder, or a result.json (of
    ``liesweep train``, or ``DIR/results/<trial>.json`` of ``liesweep run``).
    ``root`` is the store's root, where the result's ``artifacts`` keys
    point (default: the train folder, or DIR for DIR/results/…).

    Fields: ``result`` (dict), ``generators``, ``history`` (the generators'
    per-epoch losses) and, for MNIST, ``oracle``, ``autoencoder``,
    ``latents`` and ``classifier`` (None where not stored, e.g. φ, which
    only ``liesweep run`` and sweeps train), ``paths`` (stage → file).
    Analytic trials have no stored ψ: their oracle is the spec's expression.
    """
    if os.path.isdir(path):
        path = os.path.join(path, "result.json")
    res = load_result(path)
    here = os.path.dirname(os.path.abspath(path))
    if root is None:
        root = os.path.dirname(here) if os.path.basename(here) == "results" else here
    out = types.SimpleNamespace(result=res, paths={}, history=[], **{s: None for s in _LOADERS})
    for stage, load in _LOADERS.items():
        key = (res.get("artifacts") or {}).get(stage)
        candidates = [os.path.join(root, key)] if key else []
        candidates.append(os.path.join(here, stage + ".safetensors"))  # the copies `liesweep train` writes
        for p in candidates:
            if os.path.isfile(p):
                out.paths[stage] = p
                setattr(out, stage, load(p))
                break
    if "generators" in out.paths:
        out.history = load_history(out.paths["generators"])
    return out
