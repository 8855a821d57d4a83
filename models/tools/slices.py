"""Shared helpers of the training scripts under models/: read the arrays written by
`go run ./models/tools/export-slices`, split by patient, write reference tensors and the manifest.

Only Debian's /usr/bin/python3 with python3-torch and numpy is needed (no onnx package)."""
import argparse
import hashlib
import json
import os

import numpy as np


def parse_args(out_dir, epochs):
    """Command line shared by the training scripts; seeds numpy and torch and sets the thread count."""
    import torch
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="directory written by models/tools/export-slices")
    ap.add_argument("--out", default=out_dir)
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    return args


def load(path):
    """Returns x (N,C,H,W float32), y (N,H,W uint8) and the meta dict."""
    with open(os.path.join(path, "meta.json")) as f:
        meta = json.load(f)
    n, c, h, w = meta["n"], meta["c"], meta["h"], meta["w"]
    x = np.fromfile(os.path.join(path, "x.f32"), dtype="<f4").reshape(n, c, h, w)
    y = np.fromfile(os.path.join(path, "y.u8"), dtype=np.uint8).reshape(n, h, w)
    return x, y, meta


def patient_split(meta, val_fraction=0.2):
    """Slice indices of the training and validation patients (the last patients validate)."""
    starts, s = [], 0
    for p in meta["patients"]:
        starts.append((s, s + p["slices"]))
        s += p["slices"]
    n_val = max(1, int(round(len(starts) * val_fraction)))
    tr = [i for a, b in starts[:-n_val] for i in range(a, b)]
    va = [i for a, b in starts[-n_val:] for i in range(a, b)]
    return np.array(tr), np.array(va)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def write_reference(out_dir, x, y):
    """Reference tensors for the Go test (ONNX Runtime output == PyTorch output to 1e-4)."""
    ref = os.path.join(out_dir, "reference")
    os.makedirs(ref, exist_ok=True)
    np.ascontiguousarray(x, dtype="<f4").tofile(os.path.join(ref, "input.f32"))
    np.ascontiguousarray(y, dtype="<f4").tofile(os.path.join(ref, "output.f32"))
    with open(os.path.join(ref, "shapes.json"), "w") as f:
        json.dump({"input": list(x.shape), "output": list(y.shape)}, f)
        f.write("\n")


def write_manifest(out_dir, script, name, version, task, onnx_path, spec, output_yaml):
    """Writes model.yaml for the exported ONNX file (the pre-processing of export-slices, spec)."""
    with open(os.path.join(out_dir, "model.yaml"), "w") as f:
        f.write(f"""# Written by models/{script}; see MODEL_CARD.md.
name: {name}
version: {version}
task: {task}
onnx: {os.path.basename(onnx_path)}
sha256: {sha256(onnx_path)}
licence: Apache-2.0 (weights trained on synthetic data only)
intended_use: demonstration and interface reference; replace with a model trained on real scans
input:
  name: image
  layout: NCHW
  channels: [{", ".join(spec["Channels"])}]
  spacing_mm: [{spec["SpacingMM"][0]}, {spec["SpacingMM"][1]}]
  patch: [{spec["Patch"][0]}, {spec["Patch"][1]}]
  normalisation: zscore
output:
{output_yaml}""")
