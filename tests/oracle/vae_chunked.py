"""Oracle for src/pipeline/decode.ts: diffusers' StableVideoDiffusionPipeline.decode_latents with decode_chunk_size.

Each chunk of decode_chunk_size frames is decoded as a clip of its own (num_frames = the chunk's length), so the
temporal decoder mixes frames only within a chunk. One tiny AutoencoderKLTemporalDecoder (SVD's layers_per_block 2,
so the mid block's attention runs), perturbed weights, 5 frames: chunks 1, 2, 3 (a short last chunk) and 5 (= one call).

Writes to argv[1]:
  model/              save_pretrained (fp32)
  io.safetensors      latents [1, 5, C, h, w] (scaled, as the pipeline holds them) and frames.<chunk> [5, 3, H, W]
  cases.json          the chunks and the scaling factor
"""
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import torch
from _common import perturb
from diffusers import AutoencoderKLTemporalDecoder, StableVideoDiffusionPipeline
from safetensors.torch import save_file

out = Path(sys.argv[1])
torch.manual_seed(7)
gen = torch.Generator().manual_seed(7)
config = dict(
    in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 2, block_out_channels=(32, 32),
    layers_per_block=2, latent_channels=4, scaling_factor=0.18215,
)
vae = AutoencoderKLTemporalDecoder(**config).eval()
perturb(vae, gen)
vae.save_pretrained(out / "model", safe_serialization=True)

frames = 5
chunks = [1, 2, 3, 5]
latents = torch.randn(1, frames, 4, 3, 5, generator=gen) * 0.5
io = {"latents": latents}
# decode_latents only reads self.vae: call it unbound on a stand-in pipeline.
pipe = SimpleNamespace(vae=vae)
with torch.no_grad():
    for chunk in chunks:
        decoded = StableVideoDiffusionPipeline.decode_latents(pipe, latents, frames, decode_chunk_size=chunk)
        io[f"frames.{chunk}"] = decoded[0].permute(1, 0, 2, 3)  # [B, C, F, H, W] -> [F, C, H, W]
save_file({k: v.contiguous().float() for k, v in io.items()}, str(out / "io.safetensors"))
(out / "cases.json").write_text(json.dumps({"frames": frames, "chunks": chunks, "scaling_factor": config["scaling_factor"]}))
