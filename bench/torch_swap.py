#!/usr/bin/env python3
"""Stage-swap check for the MNIST generator stage (issue 10): train the
generators in PyTorch on liesweep's own stored latents and oracle ψ, with
the same losses (eqs. 10, 11, 14), initialisation, optimiser and epochs as
models.TrainGenerators, and measure them with the same metrics as
models.Analyze. Optionally swap ψ too (--psi torch trains a fresh ψ on the
stored latents) or only re-measure liesweep's own generators (--eval FILE).

Reads the safetensors files liesweep stores (header JSON + raw
little-endian tensors; weights are (in, out), biases (1, out)).

usage:
  torch_swap.py --latents L.safetensors --oracle O.safetensors --ng 1 \
      [--epochs 2000] [--points 2000] [--eval-points 2000] [--seed 1] \
      [--psi liesweep|torch] [--psi-epochs 20] [--eval G.safetensors] \
      [--dtype float64|float32] [--threads 1]
Prints one JSON object per measured generator set.
"""
import argparse
import json
import math
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DT = {"F64": np.float64, "F32": np.float32, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(raw[base + a:base + b], dtype=DT[t["dtype"]]).reshape(t["shape"])
    return out, meta


class Dense(nn.Module):
    """A stack of (in, out) layers: act(x W + b), no activation on the last."""

    def __init__(self, weights, act):
        super().__init__()
        self.W = nn.ParameterList([nn.Parameter(w) for w, _ in weights])
        self.b = nn.ParameterList([nn.Parameter(b) for _, b in weights])
        self.act = act

    def forward(self, x):
        for i, (w, b) in enumerate(zip(self.W, self.b)):
            x = x @ w + b
            if i + 1 < len(self.W):
                x = self.act(x)
        return x


class Preserved(nn.Module):
    """ψ's probabilities (sigmoid of one logit, softmax of several)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        l = self.net(x)
        return torch.sigmoid(l) if l.shape[1] == 1 else torch.softmax(l, 1)


def layers(ts, prefix, dtype):
    out, i = [], 0
    while f"{prefix}.{i}.weight" in ts:
        w = torch.tensor(np.array(ts[f"{prefix}.{i}.weight"]), dtype=dtype)
        b = torch.tensor(np.array(ts[f"{prefix}.{i}.bias"]), dtype=dtype).reshape(1, -1)
        out.append((w, b))
        i += 1
    return out


def torch_init(sizes, dtype, gen):
    """nn.Linear's default: U(±1/√fan_in) for weight and bias, stored (in, out)."""
    out = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        bound = 1 / math.sqrt(a)
        w = (torch.rand(a, b, generator=gen, dtype=torch.float64) * 2 - 1) * bound
        bb = (torch.rand(1, b, generator=gen, dtype=torch.float64) * 2 - 1) * bound
        out.append((w.to(dtype), bb.to(dtype)))
    return out


def losses(psi, gens, z, eps):
    fields = [g(z) for g in gens]
    p0 = psi(z)
    inv = sum(((psi(z + eps * f) - p0) ** 2).sum() for f in fields) / (z.shape[0] * eps * eps)
    norm = 0
    for f in fields:
        n = torch.sqrt((f * f).sum(1) + 1e-12)
        norm = norm + ((n - 1) ** 2).mean() + ((n - n.mean()) ** 2).mean()
    ortho = torch.zeros((), dtype=z.dtype)
    for a in range(len(fields)):
        for c in range(a + 1, len(fields)):
            ortho = ortho + ((fields[a] * fields[c]).sum(1) ** 2).mean()
    return inv, norm, ortho


def metrics(psi, gens, z, eps, seed):
    """models.Analyze's inv_ratio (worst generator, unit directions against
    random unit directions), pointwise ortho_cos2 and norm_dev."""
    with torch.no_grad():
        z = z.double()
        psi = psi.double()
        fields = [g.double()(z) for g in gens]
        p0 = psi(z)
        gen = torch.Generator().manual_seed(seed)
        u = torch.randn(z.shape, generator=gen, dtype=torch.float64)
        unit = lambda v: v / v.norm(dim=1, keepdim=True).clamp_min(1e-300)
        rnd = ((psi(z + eps * unit(u)) - p0) ** 2).sum()
        inv = max(float(((psi(z + eps * unit(f)) - p0) ** 2).sum() / rnd) for f in fields)
        cos = []
        for a in range(len(fields)):
            for c in range(a + 1, len(fields)):
                fa, fc = fields[a], fields[c]
                cos.append(float(((fa * fc).sum(1) ** 2 / ((fa * fa).sum(1) * (fc * fc).sum(1))).mean()))
        nd = 0.0
        for f in fields:
            n = f.norm(dim=1)
            nd += float(((n - 1) ** 2 + (n - n.mean()) ** 2).mean())
        # the mean squared cosine with ∇ψ (first output), as the report's tangency
        zz = z.clone().requires_grad_(True)
    with torch.enable_grad():
        gpsi = torch.autograd.grad(psi(zz)[:, 0].sum(), zz)[0]
    tang = []
    for f in fields:
        f = f.detach()
        c2 = (f * gpsi).sum(1) ** 2 / ((f * f).sum(1) * (gpsi * gpsi).sum(1)).clamp_min(1e-300)
        tang.append(float(c2.mean()))
    return {"inv_ratio": inv, "ortho_cos2": (sum(cos) / len(cos)) if cos else None, "norm_dev": nd, "tangency_cos2": tang}


def train_psi(z, y, classes, epochs, seed, dtype):
    gen = torch.Generator().manual_seed(seed)
    out = 1 if classes == 2 else classes
    net = Dense(torch_init([z.shape[1], 128, 128, 32, out], torch.float32, gen), F.relu)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    zf = z.float()
    for _ in range(epochs):
        perm = torch.randperm(z.shape[0], generator=gen)
        for i in range(0, z.shape[0], 128):
            idx = perm[i:i + 128]
            logits = net(zf[idx])
            if out == 1:
                loss = F.binary_cross_entropy_with_logits(logits[:, 0], (y[idx] == y.max()).float())
            else:
                loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad(); loss.backward(); opt.step()
    return net.to(dtype)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--latents", required=True)
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--ng", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=2000)
    ap.add_argument("--points", type=int, default=2000)
    ap.add_argument("--eval-points", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eps", type=float, default=1e-3)
    ap.add_argument("--h-norm", type=float, default=1.0)
    ap.add_argument("--h-ortho", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--hidden", default="32,32")
    ap.add_argument("--psi", default="liesweep", choices=["liesweep", "torch"])
    ap.add_argument("--psi-epochs", type=int, default=20)
    ap.add_argument("--preserve", default="logits", choices=["logits", "probabilities"],
                    help="what the generators preserve (oracle_net.preserve)")
    ap.add_argument("--eval", help="only measure this stored liesweep generator set")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)

    lt, _ = read_safetensors(a.latents)
    ztr = torch.tensor(np.array(lt["train_z"]), dtype=torch.float64)
    zva = torch.tensor(np.array(lt["val_z"][:a.eval_points]), dtype=torch.float64)
    ytr = torch.tensor(np.array(lt["train_y"]), dtype=torch.int64).reshape(-1)
    yva = torch.tensor(np.array(lt["val_y"][:a.eval_points]), dtype=torch.int64).reshape(-1)
    classes = int(torch.unique(ytr).numel())

    if a.psi == "torch":
        t0 = time.time()
        psi = train_psi(ztr, ytr, classes, a.psi_epochs, a.seed, torch.float64)
        psi_time = time.time() - t0
    else:
        ot, _ = read_safetensors(a.oracle)
        psi = Dense(layers(ot, "oracle", torch.float64), F.relu)
        psi_time = 0.0
    for p in psi.parameters():
        p.requires_grad_(False)
    net = psi
    with torch.no_grad():
        logits = net(zva)
        pred = (logits[:, 0] > 0).long() if logits.shape[1] == 1 else logits.argmax(1)
        truth = (yva == ytr.max()).long() if logits.shape[1] == 1 else yva
        acc = float((pred == truth).double().mean())
        sharp = float(logits.abs().mean())
    if a.preserve == "probabilities":
        psi = Preserved(net)

    report = {"psi": a.psi, "preserve": a.preserve, "psi_val_accuracy": acc, "psi_mean_abs_logit": sharp, "psi_train_s": round(psi_time, 1),
              "ng": a.ng, "latent": ztr.shape[1], "points": min(a.points, ztr.shape[0])}
    if a.eval:
        gt, _ = read_safetensors(a.eval)
        gens = [Dense(layers(gt, f"gen.{i}", torch.float64), torch.tanh) for i in range(a.ng)]
        report.update({"generators": "liesweep (" + a.eval + ")"})
        report.update(metrics(psi, gens, zva, a.eps, a.seed))
        print(json.dumps(report))
        return

    psi = psi.to(dtype)
    hidden = [int(h) for h in a.hidden.split(",") if h]
    gen = torch.Generator().manual_seed(a.seed)
    ell = ztr.shape[1]
    gens = nn.ModuleList([Dense(torch_init([ell] + hidden + [ell], dtype, gen), torch.tanh) for _ in range(a.ng)])
    opt = torch.optim.Adam(gens.parameters(), lr=a.lr)
    z = ztr[:a.points].to(dtype)
    t0 = time.time()
    hist = []
    for ep in range(a.epochs):
        inv, norm, ortho = losses(psi, gens, z, a.eps)
        total = inv + a.h_norm * norm + a.h_ortho * ortho
        opt.zero_grad(); total.backward(); opt.step()
        if ep % 250 == 0 or ep == a.epochs - 1:
            hist.append({"epoch": ep, "total": float(total), "inv": float(inv), "norm": float(norm), "ortho": float(ortho)})
    report.update({"generators": "torch", "dtype": a.dtype, "epochs": a.epochs, "train_s": round(time.time() - t0, 1),
                   "final": hist[-1], "history": hist})
    report.update(metrics(psi, [g.double() for g in gens], zva, a.eps, a.seed))
    print(json.dumps(report))


if __name__ == "__main__":
    sys.exit(main())
