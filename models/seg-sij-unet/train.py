#!/usr/bin/python3
"""Train the demonstration segmentation model of sacrum: a small 2D U-Net that finds the left and right
sacroiliac-joint regions of interest on oblique-coronal STIR + T1 slices.

Training data are synthetic (`sacrum synth`), exported with the same pre-processing as inference:

    go run ./cmd/sacrum synth --out /tmp/seg-train --patients 60 --seed 11
    go run ./models/tools/export-slices --cohort /tmp/seg-train --out /tmp/seg-train-slices
    /usr/bin/python3 models/seg-sij-unet/train.py --data /tmp/seg-train-slices

It writes model.onnx (opset 17), model.yaml (with the file's sha256), metrics.json and reference/ (input and
output tensors for the Go test) next to this script. CPU only; a few minutes on 2 cores.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from slices import load, parse_args, patient_split, write_manifest, write_reference  # noqa: E402

VERSION = "1.0.0"


def block(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, cin=2, ncls=3, b=8):
        super().__init__()
        self.e1, self.e2, self.e3, self.bott = block(cin, b), block(b, 2 * b), block(2 * b, 4 * b), block(4 * b, 8 * b)
        self.u3, self.d3 = nn.ConvTranspose2d(8 * b, 4 * b, 2, stride=2), block(8 * b, 4 * b)
        self.u2, self.d2 = nn.ConvTranspose2d(4 * b, 2 * b, 2, stride=2), block(4 * b, 2 * b)
        self.u1, self.d1 = nn.ConvTranspose2d(2 * b, b, 2, stride=2), block(2 * b, b)
        self.head = nn.Conv2d(b, ncls, 1)

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(F.max_pool2d(e1, 2))
        e3 = self.e3(F.max_pool2d(e2, 2))
        z = self.bott(F.max_pool2d(e3, 2))
        d3 = self.d3(torch.cat([self.u3(z), e3], 1))
        d2 = self.d2(torch.cat([self.u2(d3), e2], 1))
        d1 = self.d1(torch.cat([self.u1(d2), e1], 1))
        return self.head(d1)


def dice_loss(logits, y, ncls):
    p = F.softmax(logits, 1)
    oh = F.one_hot(y.long(), ncls).permute(0, 3, 1, 2).float()
    inter = (p * oh).sum((0, 2, 3))
    den = p.sum((0, 2, 3)) + oh.sum((0, 2, 3))
    return 1 - ((2 * inter + 1) / (den + 1))[1:].mean()


def dice_per_class(pred, y, ncls):
    out = []
    for c in range(1, ncls):
        a, b = pred == c, y == c
        den = a.sum() + b.sum()
        out.append(float(2 * (a & b).sum() / den) if den else 1.0)
    return out


def main():
    args = parse_args(HERE, epochs=12)

    x, y, meta = load(args.data)
    tr, va = patient_split(meta)
    ncls = 3
    model = UNet(cin=meta["c"], ncls=ncls)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = np.random.permutation(tr)
        total = 0.0
        for s in range(0, len(perm), 16):
            idx = torch.from_numpy(perm[s:s + 16])
            xb, yb = xt[idx], yt[idx]
            # Intensity augmentation only: flips would swap left and right.
            xb = xb * (1 + 0.1 * torch.randn(xb.shape[0], xb.shape[1], 1, 1)) + 0.1 * torch.randn(xb.shape[0], xb.shape[1], 1, 1)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb.long()) + dice_loss(logits, yb, ncls)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        sched.step()
        model.eval()
        with torch.no_grad():
            pred = torch.cat([model(xt[torch.from_numpy(va[s:s + 32])]).argmax(1) for s in range(0, len(va), 32)]).numpy()
        d = dice_per_class(pred, y[va], ncls)
        print(f"epoch {epoch + 1}/{args.epochs} loss {total / len(tr):.4f} val dice left {d[0]:.3f} right {d[1]:.3f} ({time.time() - t0:.0f} s)", flush=True)

    model.eval()
    onnx_path = os.path.join(args.out, "model.onnx")
    sample = xt[torch.from_numpy(va[:2])]
    torch.onnx.export(model, sample, onnx_path, opset_version=17, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "slices"}, "logits": {0: "slices"}})
    with torch.no_grad():
        write_reference(args.out, sample.numpy(), model(sample).numpy())
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"val_dice_patch_grid": {"left": d[0], "right": d[1]}, "epochs": args.epochs,
                   "train_slices": int(len(tr)), "val_slices": int(len(va)), "patients": len(meta["patients"]),
                   "train_seconds": round(time.time() - t0), "seed": args.seed}, f, indent=2)
        f.write("\n")
    write_manifest(args.out, "seg-sij-unet/train.py", "seg-sij-unet", VERSION, "segmentation", onnx_path, meta["input"],
                   "  name: logits\n  kind: logits\n  labels: [0, 1, 2]\n  stride: 1\n")
    print("wrote", onnx_path, os.path.getsize(onnx_path), "bytes")


if __name__ == "__main__":
    main()
