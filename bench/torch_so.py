#!/usr/bin/env python3
"""The PyTorch twin of liesweep's so(n) ladder (docs/performance.md): all
n(n-1)/2 linear generators of so(n) on R^n against the norm oracle, the same
loss as models.linearTermsOp (invariance, Frobenius normalisation, global
orthogonality, joint closure over every pair), vectorised over generators
and pairs, full batch of 300 Gaussian points, Adam. Trains EPOCHS epochs and
prints one JSON object with the wall time and the final loss terms.

usage: torch_so.py N EPOCHS LR THREADS
"""
import json
import sys
import time

import torch


def main(n, epochs, lr):
    g = torch.Generator().manual_seed(1)
    N, m, eps = n * (n - 1) // 2, 300, 1e-3
    x = torch.randn(m, n, generator=g, dtype=torch.float64)
    G = torch.nn.Parameter((torch.rand(N, n, n, generator=g, dtype=torch.float64) * 2 - 1) / n ** 0.5)
    iu = torch.triu_indices(N, N, 1)
    A = torch.nn.Parameter(torch.zeros(iu.shape[1], N, dtype=torch.float64))
    opt = torch.optim.Adam([G, A], lr=lr)
    psi = lambda v: (v ** 2).sum(-1, keepdim=True)
    S = x.T @ x / m
    start = time.perf_counter()
    for _ in range(epochs):
        moved = x[None] + eps * torch.einsum("aij,mj->ami", G, x)
        inv = ((psi(moved) - psi(x)[None]) ** 2).sum() / (m * eps * eps)
        norm = (((G ** 2).sum((1, 2)) - 2) ** 2).sum()
        P = G.reshape(N, -1)
        ortho = (torch.triu(P @ P.T, 1) ** 2).sum()
        C = G[iu[0]] @ G[iu[1]] - G[iu[1]] @ G[iu[0]]
        R = -C - torch.einsum("pg,gij->pij", A, G)
        closure = torch.einsum("pij,jk,pik->", R, S, R)
        loss = inv + norm + ortho + closure
        opt.zero_grad()
        loss.backward()
        opt.step()
    dt = time.perf_counter() - start
    return {"n": n, "ng": N, "epochs": epochs, "seconds": dt, "inv": inv.item(), "norm": norm.item(), "ortho": ortho.item(), "closure": closure.item()}


if __name__ == "__main__":
    torch.set_num_threads(int(sys.argv[4]))
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))))
