#!/usr/bin/env python3
"""The training workloads of `make bench` in PyTorch (Debian's python3-torch,
CPU): the same architectures, batch sizes, optimizer (Adam, lr 1e-3), data
and step counts as liesweep's models.BenchWorkload. One warm-up epoch, then
`epochs` timed ones. Prints one JSON object.

usage: torch_bench.py WORKLOAD EPOCHS THREADS
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def images(n):
    x = torch.tensor([[((i * 7 + j * 13) % 17) / 17 for j in range(784)] for i in range(n)], dtype=torch.float32)
    return x.view(n, 1, 28, 28)


class AE(nn.Module):
    """models.Autoencoder at ℓ = 16 (three mapping layers)."""

    def __init__(self, latent=16):
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.enc = nn.Sequential(nn.Linear(1568, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, latent))
        self.dec = nn.Sequential(nn.Linear(latent, 64), nn.ReLU(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 1568))
        self.d1 = nn.Conv2d(32, 16, 3, padding=1)
        self.d2 = nn.Conv2d(16, 1, 3, padding=1)

    def forward(self, x):
        h = F.relu(self.c2(F.relu(self.c1(x))))
        z = self.enc(h.flatten(1))
        h = F.relu(self.dec(z)).view(-1, 32, 7, 7)
        h = F.relu(self.d1(F.interpolate(h, scale_factor=2, mode="nearest")))
        return self.d2(F.interpolate(h, scale_factor=2, mode="nearest"))


def oracle_net(dtype=torch.float32):
    return nn.Sequential(nn.Linear(16, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                         nn.Linear(128, 32), nn.ReLU(), nn.Linear(32, 10)).to(dtype)


def run(workload, epochs):
    g = torch.Generator().manual_seed(1)
    if workload == "autoencoder":
        x = images(512)
        model = AE()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        def step(idx):
            xb = x[idx]
            loss = F.binary_cross_entropy_with_logits(model(xb), xb)
            opt.zero_grad(); loss.backward(); opt.step()
            return loss.item()
        n, unit = 512, "img/s"
    elif workload == "oracle":
        z = torch.randn(8192, 16, generator=g)
        y = torch.arange(8192) % 10
        model = oracle_net()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        def step(idx):
            loss = F.cross_entropy(model(z[idx]), y[idx])
            opt.zero_grad(); loss.backward(); opt.step()
            return loss.item()
        n, unit = 8192, "pts/s"
    elif workload == "generators-linear-so10":
        # so(10): 45 linear generators on R^10, norm oracle, full batch of
        # 300 points, Frobenius normalisation, global orthogonality, joint
        # closure over all 990 pairs — vectorised, as models.linearTermsOp.
        N, d, m, eps = 45, 10, 300, 1e-3
        x = torch.randn(m, d, generator=g, dtype=torch.float64)
        G = nn.Parameter((torch.rand(N, d, d, generator=g, dtype=torch.float64) * 2 - 1) / d ** 0.5)
        iu = torch.triu_indices(N, N, 1)
        A = nn.Parameter(torch.zeros(iu.shape[1], N, dtype=torch.float64))
        opt = torch.optim.Adam([G, A], lr=1e-2)
        psi = lambda v: (v ** 2).sum(-1, keepdim=True)
        def step(idx):
            xb = x[idx]
            moved = xb[None] + eps * torch.einsum("aij,mj->ami", G, xb)
            inv = ((psi(moved) - psi(xb)[None]) ** 2).sum() / (m * eps * eps)
            norm = (((G ** 2).sum((1, 2)) - 2) ** 2).sum()
            P = G.reshape(N, -1)
            ortho = (torch.triu(P @ P.T, 1) ** 2).sum()
            C = G[iu[0]] @ G[iu[1]] - G[iu[1]] @ G[iu[0]]
            R = -C - torch.einsum("pg,gij->pij", A, G)
            S = xb.T @ xb / m
            closure = torch.einsum("pij,jk,pik->", R, S, R)
            loss = inv + norm + ortho + closure
            opt.zero_grad(); loss.backward(); opt.step()
            return loss.item()
        n, unit = m, "epochs/s"
    elif workload.startswith("generators-"):
        ng = int(workload.split("-")[1])
        z = torch.randn(1024, 16, generator=g, dtype=torch.float64)
        psi = oracle_net(torch.float64)
        for p in psi.parameters():
            p.requires_grad_(False)
        gens = nn.ModuleList([nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 16)).double() for _ in range(ng)])
        opt = torch.optim.Adam(gens.parameters(), lr=1e-3)
        eps = 1e-3
        def step(idx):
            zb = z[idx]
            m = zb.shape[0]
            f = [gen(zb) for gen in gens]
            psi0 = psi(zb)
            moved = torch.cat([zb + eps * fa for fa in f])
            inv = ((psi(moved) - psi0.repeat(ng, 1)) ** 2).sum() / (m * eps * eps)
            norm = 0
            for fa in f:
                nrm = torch.sqrt((fa ** 2).sum(1) + 1e-12)
                norm = norm + ((nrm - 1) ** 2).mean() + ((nrm - nrm.mean()) ** 2).mean()
            ortho = 0
            for a in range(ng):
                for b in range(a + 1, ng):
                    ortho = ortho + ((f[a] * f[b]).sum(1) ** 2).mean()
            loss = inv + norm + ortho
            opt.zero_grad(); loss.backward(); opt.step()
            return loss.item()
        n, unit = 1024, "pts/s"
    else:
        raise SystemExit(f"unknown workload {workload}")
    batch = n if workload == "generators-linear-so10" else 128
    last = 0.0
    start = None
    for epoch in range(1 + epochs):
        perm = torch.randperm(n, generator=g)
        losses = [step(perm[s:s + batch]) for s in range(0, n - batch + 1, batch)]
        last = sum(losses) / len(losses)
        if epoch == 0:
            start = time.perf_counter()
    dt = time.perf_counter() - start
    items = epochs if unit == "epochs/s" else epochs * n
    return {"workload": workload, "throughput": items / dt, "unit": unit, "final_loss": last, "steps": epochs}


if __name__ == "__main__":
    torch.set_num_threads(int(sys.argv[3]))
    print(json.dumps(run(sys.argv[1], int(sys.argv[2]))))
