"""Reference for src/video/resize.ts: torch's antialiased bilinear resize (what torchvision's
Resize(BILINEAR, antialias=True) runs on tensors, as the reference does on the edited frame).
Writes input.bin and out_<h>x<w>.bin (float32, [3,H,W]) plus cases.json."""
import json
import sys

import torch
import torch.nn.functional as F

out = sys.argv[1]
torch.manual_seed(0)
x = torch.rand(3, 37, 53) * 2 - 1
x.numpy().tofile(f"{out}/input.bin")
cases = [(16, 24), (37, 53), (20, 53), (64, 100), (50, 31), (5, 7), (120, 40)]
for h, w in cases:
    y = F.interpolate(x[None], size=(h, w), mode="bilinear", antialias=True, align_corners=False)[0]
    y.contiguous().numpy().tofile(f"{out}/out_{h}x{w}.bin")
json.dump({"input": [3, 37, 53], "cases": cases}, open(f"{out}/cases.json", "w"))
