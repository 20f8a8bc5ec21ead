#!/usr/bin/env python3
"""The yardstick of the digits U-Net: the same network in PyTorch, timing training steps.

    /tmp/peer/bin/python benches/unet_torch.py [--channels C] [--batch B] [--threads T] [--steps N]

The network is `src/nn/unet.rs` layer for layer (C = 16 by default: 8x8xC and 4x4x2C, embedding 64,
16 time features, 10 classes and the null label), trained as `UNet` is by the one trainer: a batch
of B digits (pixels v/8 - 1, scikit-learn's copy of the UCI digits), noise x0 ~ N(0, I), t ~ U(0, 1),
x_t = t x1 + (1 - t) x0, target x1 - x0, label dropout 0.2, mean squared error, Adam lr 1e-3.
T threads (torch.set_num_threads; default 2). Two warm-up steps, then N timed steps (default 50),
data draws included. Last line: `train_steps_per_s: R`. Compare with

    FLOWMATCH_THREADS=T cargo run --release --example digits -- --bench-train N --channels C --batch B

run one after the other (interleaved), with `uptime` beside each.
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

p = argparse.ArgumentParser()
p.add_argument("--channels", type=int, default=16)
p.add_argument("--batch", type=int, default=128)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--steps", type=int, default=50)
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)

EMBED, TIME_FEATURES, CLASSES, SIDE = 64, 16, 10, 8


class Res(nn.Module):
    """R(h) = conv2(SiLU(conv1(SiLU h) + A e)) + skip(h)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.embed = nn.Linear(EMBED, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, h, e):
        z = self.conv1(F.silu(h)) + self.embed(e)[:, :, None, None]
        return self.conv2(F.silu(z)) + self.skip(h)


class UNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        m = TIME_FEATURES // 2
        self.register_buffer("freqs", torch.tensor([64.0 ** (j / (m - 1)) for j in range(m)]))
        self.time1 = nn.Linear(TIME_FEATURES, EMBED)
        self.time2 = nn.Linear(EMBED, EMBED)
        self.labels = nn.Embedding(CLASSES + 1, EMBED)
        self.conv_in = nn.Conv2d(1, c, 3, padding=1)
        self.down1 = Res(c, c)
        self.down = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.down2 = Res(2 * c, 2 * c)
        self.mid = Res(2 * c, 2 * c)
        self.up2 = Res(4 * c, 2 * c)
        self.up1 = Res(3 * c, c)
        self.conv_out = nn.Conv2d(c, 1, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x, t, y):
        a = 2 * math.pi * t[:, None] * self.freqs[None, :]
        tau = torch.cat([torch.cos(a), torch.sin(a)], dim=1)
        e = F.silu(self.time2(F.silu(self.time1(tau))) + self.labels(y))
        x = x.view(-1, 1, SIDE, SIDE)
        s1 = self.down1(self.conv_in(x), e)
        s2 = self.down2(self.down(s1), e)
        m = self.mid(s2, e)
        u2 = self.up2(torch.cat([m, s2], dim=1), e)
        up = F.interpolate(u2, scale_factor=2, mode="nearest")
        u1 = self.up1(torch.cat([up, s1], dim=1), e)
        return self.conv_out(F.silu(u1)).view(-1, SIDE * SIDE)


digits = load_digits()
images = torch.tensor(digits.data, dtype=torch.float32) / 8.0 - 1.0
labels = torch.tensor(digits.target, dtype=torch.long)
net = UNet(a.channels)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
print(f"UNet C={a.channels}: {sum(p.numel() for p in net.parameters())} parameters; batch {a.batch}, "
      f"{a.threads} threads, torch {torch.__version__}")


def step():
    idx = torch.randint(0, images.shape[0], (a.batch,))
    x1, y = images[idx], labels[idx].clone()
    y[torch.rand(a.batch) < 0.2] = CLASSES
    x0 = torch.randn_like(x1)
    t = torch.rand(a.batch)
    xt = t[:, None] * x1 + (1 - t[:, None]) * x0
    loss = F.mse_loss(net(xt, t, y), x1 - x0)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


for _ in range(2):
    step()
t0 = time.perf_counter()
for _ in range(a.steps):
    last = step()
dt = time.perf_counter() - t0
print(f"{a.steps} steps in {dt:.2f}s, last loss {last:.4f}")
print(f"train_seconds: {dt:.3f}")
print(f"train_steps_per_s: {a.steps / dt:.2f}")
