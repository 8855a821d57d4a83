#!/usr/bin/python3
"""Train the demonstration deep-feature encoder of sacrum: a small convolutional auto-encoder on STIR + T1
slices of synthetic SIJ MRI; only the encoder is exported. Its 16 feature maps (stride 4) are pooled by sacrum
inside each joint region (masked global average) into deep_encoder_<k> features, and a linear model's weights
over them give a class-activation heat map.

    go run ./cmd/sacrum synth --out /tmp/seg-train --patients 60 --seed 11
    go run ./models/tools/export-slices --cohort /tmp/seg-train --out /tmp/seg-train-slices
    /usr/bin/python3 models/deep-encoder/train.py --data /tmp/seg-train-slices

Writes model.onnx (opset 17), model.yaml, metrics.json and reference/ next to this script. CPU, minutes.
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
K = 16


class Encoder(nn.Module):
    def __init__(self, cin=2, k=K):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(cin, 16, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(32, k, 3, padding=1), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    def __init__(self, cout=2, k=K):
        super().__init__()
        self.net = nn.Sequential(
            nn.Upsample(scale_factor=2), nn.Conv2d(k, 32, 3, padding=1), nn.ReLU(inplace=True),
            nn.Upsample(scale_factor=2), nn.Conv2d(32, 16, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(16, cout, 3, padding=1))

    def forward(self, z):
        return self.net(z)


def main():
    args = parse_args(HERE, epochs=6)

    x, _, meta = load(args.data)
    tr, va = patient_split(meta)
    enc, dec = Encoder(cin=meta["c"]), Decoder(cout=meta["c"])
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=2e-3)
    xt = torch.from_numpy(x)
    t0 = time.time()
    for epoch in range(args.epochs):
        enc.train(), dec.train()
        perm = np.random.permutation(tr)
        total = 0.0
        for s in range(0, len(perm), 16):
            xb = xt[torch.from_numpy(perm[s:s + 16])]
            loss = F.mse_loss(dec(enc(xb)), xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(xb)
        enc.eval(), dec.eval()
        with torch.no_grad():
            val = float(np.mean([float(F.mse_loss(dec(enc(xt[torch.from_numpy(va[s:s + 32])])), xt[torch.from_numpy(va[s:s + 32])]))
                                 for s in range(0, len(va), 32)]))
        print(f"epoch {epoch + 1}/{args.epochs} train mse {total / len(tr):.4f} val mse {val:.4f} ({time.time() - t0:.0f} s)", flush=True)

    onnx_path = os.path.join(args.out, "model.onnx")
    sample = xt[torch.from_numpy(va[:2])]
    torch.onnx.export(enc, sample, onnx_path, opset_version=17, input_names=["image"], output_names=["features"],
                      dynamic_axes={"image": {0: "slices"}, "features": {0: "slices"}})
    with torch.no_grad():
        write_reference(args.out, sample.numpy(), enc(sample).numpy())
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"val_reconstruction_mse": val, "epochs": args.epochs, "train_slices": int(len(tr)),
                   "val_slices": int(len(va)), "patients": len(meta["patients"]),
                   "train_seconds": round(time.time() - t0), "seed": args.seed}, f, indent=2)
        f.write("\n")
    write_manifest(args.out, "deep-encoder/train.py", "encoder", VERSION, "features", onnx_path, meta["input"],
                   f"  name: features\n  kind: feature_maps\n  channels: {K}\n  stride: 4\n")
    print("wrote", onnx_path, os.path.getsize(onnx_path), "bytes")


if __name__ == "__main__":
    main()
