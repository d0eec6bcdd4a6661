"""Oracle for src/eval/: SSIM, PSNR, cosine-similarity metrics and the trajectory diagnostic, in float64.

scikit-image is not installed, so SSIM is re-derived here from its published definition, the way
skimage.metrics.structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
data_range=R, channel_axis=0) computes it on float64 images: scipy's Gaussian (truncate 3.5 → radius 5, normalized),
mode 'reflect' (= numpy 'symmetric' padding), population moments, C1 = (0.01 R)², C2 = (0.03 R)², the SSIM map cropped
by 5 pixels on every side, averaged, then averaged over channels. This script pads and filters the full image with
torch conv2d (unlike the TypeScript, which only evaluates valid windows) and checks the 1-window case against explicit
weighted sums.

Writes to argv[1]:
  <case>_x.bin, <case>_y.bin   float32 little-endian images [C,H,W]
  metrics.json                 per case: shape, data_range, ssim, ssim per channel, psnr; cosine and trajectory cases
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

out = Path(sys.argv[1])
torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

SIGMA = 1.5
K1, K2 = 0.01, 0.03


def gaussian_1d(sigma, truncate=3.5):
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    w = np.exp(-0.5 * x * x / (sigma * sigma))
    return w / w.sum()


def filt(img, w):
    """scipy.ndimage.gaussian_filter(img, mode='reflect') on a 2-D float64 array, via symmetric padding + conv2d."""
    r = (len(w) - 1) // 2
    padded = torch.from_numpy(np.pad(img, r, mode="symmetric"))[None, None]
    k = torch.from_numpy(w)
    padded = F.conv2d(padded, k.view(1, 1, 1, -1))
    padded = F.conv2d(padded, k.view(1, 1, -1, 1))
    return padded[0, 0].numpy()


def ssim_channel(x, y, data_range):
    w = gaussian_1d(SIGMA)
    ux, uy = filt(x, w), filt(y, w)
    uxx, uyy, uxy = filt(x * x, w), filt(y * y, w), filt(x * y, w)
    vx, vy, vxy = uxx - ux * ux, uyy - uy * uy, uxy - ux * uy
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux ** 2 + uy ** 2 + c1) * (vx + vy + c2))
    pad = (len(w) - 1) // 2
    return float(s[pad:-pad, pad:-pad].mean(dtype=np.float64))


def ssim_one_window(x, y, data_range):
    """An 11×11 channel has exactly one valid window: its moments are plain weighted sums."""
    w1 = gaussian_1d(SIGMA)
    w = np.outer(w1, w1)
    assert x.shape == w.shape
    mx, my = (w * x).sum(), (w * y).sum()
    vx, vy = (w * (x - mx) ** 2).sum(), (w * (y - my) ** 2).sum()
    vxy = (w * (x - mx) * (y - my)).sum()
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    return float(((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2)))


def psnr(x, y, data_range):
    mse = float(((x - y) ** 2).mean())
    return None if mse == 0 else 10 * math.log10(data_range ** 2 / mse)


def smooth_noise(shape, blur):
    """Uniform noise blurred a little (so images have structure at several scales), in about [-1, 1]."""
    n = torch.rand(shape) * 2 - 1
    if blur:
        k = torch.from_numpy(gaussian_1d(blur))
        c, h, wd = shape
        r = (len(k) - 1) // 2
        n = F.conv2d(F.pad(n[:, None], (r, r, r, r), mode="reflect"), k.view(1, 1, 1, -1))
        n = F.conv2d(n, k.view(1, 1, -1, 1))[:, 0]
        n = n / n.abs().max()
    return n


shape = (3, 37, 53)
base = smooth_noise(shape, 1.0)
cases = {
    "noisy": (base, (base + 0.15 * torch.randn(shape)).clamp(-1, 1), 2.0),
    "blurred": (base, torch.from_numpy(np.stack([filt(c.numpy(), gaussian_1d(1.2)) for c in base])), 2.0),
    # Perfect structure, halved contrast, shifted mean: local means near 0 make the luminance term small.
    "contrast": (base, 0.5 * base + 0.2, 2.0),
    "independent": (base, smooth_noise(shape, 2.0), 2.0),
    "unit_range": ((base + 1) / 2, ((base + 1) / 2 + 0.05 * torch.randn(shape)).clamp(0, 1), 1.0),
    "one_window": (torch.rand(3, 11, 11) * 2 - 1, torch.rand(3, 11, 11) * 2 - 1, 2.0),
    "identical": (base, base.clone(), 2.0),
}

result = {"cases": {}}
for name, (x, y, data_range) in cases.items():
    x32 = x.to(torch.float32).contiguous()
    y32 = y.to(torch.float32).contiguous()
    (out / f"{name}_x.bin").write_bytes(x32.numpy().astype("<f4").tobytes())
    (out / f"{name}_y.bin").write_bytes(y32.numpy().astype("<f4").tobytes())
    xs, ys = x32.double().numpy(), y32.double().numpy()
    per_channel = [ssim_channel(xs[c], ys[c], data_range) for c in range(xs.shape[0])]
    entry = {
        "shape": list(x32.shape),
        "data_range": data_range,
        "ssim": float(np.mean(per_channel)),
        "ssim_channels": per_channel,
        "psnr": psnr(xs, ys, data_range),
    }
    if name == "one_window":
        hand = [ssim_one_window(xs[c], ys[c], data_range) for c in range(3)]
        assert max(abs(a - b) for a, b in zip(hand, per_channel)) < 1e-12, (hand, per_channel)
        entry["ssim_hand"] = float(np.mean(hand))
    result["cases"][name] = entry

# CLIP-style cosine metrics on random embeddings: torch's cosine_similarity is the reference.
n_frames, dim = 5, 64
edited = torch.randn(n_frames, dim)
source = edited + 0.7 * torch.randn(n_frames, dim)
target = edited[0] + 0.3 * torch.randn(dim)
cos = F.cosine_similarity
result["clip"] = {
    "edited": edited.tolist(),
    "source": source.tolist(),
    "target": target.tolist(),
    "clip_tgt": float(cos(edited, target[None], dim=1).mean()),
    "clip_src": float(cos(edited, source, dim=1).mean()),
    "clip_tc": float(cos(edited[:-1], edited[1:], dim=1).mean()),
}

# Trajectory diagnostic: latents bending away from a straight line toward x_0.
steps, size = 7, 40
x0 = torch.randn(size)
direction = torch.randn(size)
latents = [x0 + (1 + t) * direction + 0.4 * t * t * torch.randn(size) / steps for t in range(steps)]
d = torch.stack([x - x0 for x in latents])
m = cos(d[:, None, :], d[None, :, :], dim=2)
iu = torch.triu_indices(steps, steps, 1)
adjacent = torch.stack([m[t, t + 1] for t in range(steps - 1)])
result["trajectory"] = {
    "x0": [float(v) for v in x0.to(torch.float32)],
    "latents": [[float(v) for v in x.to(torch.float32)] for x in latents],
    # Computed from the float32-rounded latents the test reads back.
}
x0f = x0.to(torch.float32).double()
df = torch.stack([x.to(torch.float32).double() - x0f for x in latents])
mf = cos(df[:, None, :], df[None, :, :], dim=2)
adj = torch.stack([mf[t, t + 1] for t in range(steps - 1)])
result["trajectory"].update({
    "matrix": mf.tolist(),
    "mean_all_pairs": float(mf[iu[0], iu[1]].mean()),
    "mean_adjacent": float(adj.mean()),
    "min_adjacent": float(adj.min()),
})

(out / "metrics.json").write_text(json.dumps(result, indent=1))
print("metrics oracle:", {k: round(v["ssim"], 6) for k, v in result["cases"].items()})
