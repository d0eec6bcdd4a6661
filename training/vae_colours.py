"""Does a trained toy VAE keep object colours? A 24x24 square of each colour on the dark background of the held-out
scenes, 8 identical 64x64 frames (a clip, as the pipeline decodes), encoded (mean) and decoded; prints the square's
mean colour in and out and the full-frame PSNR. The check behind training/README.md's "colours" paragraph.

    tests/oracle/.venv/bin/python training/vae_colours.py models/toy/vae      # or training/logs/vae-stage1
"""
import sys

import numpy as np
import torch
from diffusers import AutoencoderKLTemporalDecoder

torch.set_num_threads(1)
vae = AutoencoderKLTemporalDecoder.from_pretrained(sys.argv[1]).float().eval()
COLOURS = {
    "red": (200, 40, 40), "brown": (127, 86, 62), "orange": (230, 140, 40), "yellow": (220, 220, 50),
    "green": (50, 200, 60), "cyan": (40, 200, 200), "blue": (40, 60, 220), "magenta": (200, 50, 200),
    "grey": (128, 128, 128), "white": (240, 240, 240),
}
BACKGROUND = np.array([53, 50, 48], np.float32)
errors = []
for name, colour in COLOURS.items():
    img = np.tile(BACKGROUND, (64, 64, 1))
    img[20:44, 20:44] = colour
    x = (torch.from_numpy(img).permute(2, 0, 1)[None] / 127.5 - 1).repeat(8, 1, 1, 1)
    with torch.no_grad():
        rec = vae.decode(vae.encode(x).latent_dist.mean, num_frames=8).sample.clamp(-1, 1)
    out = (rec[0].permute(1, 2, 0).numpy() + 1) * 127.5
    square = out[24:40, 24:40].reshape(-1, 3).mean(0)
    psnr = 10 * np.log10(255**2 / ((out - img) ** 2).mean())
    errors.append(np.abs(square - colour).max())
    print(f"{name:8s} in {colour} out {tuple(int(v) for v in square.round())}  frame psnr {psnr:.1f} dB")
print(f"largest channel error of a square: {max(errors):.0f} / 255")
