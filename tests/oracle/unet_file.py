"""Oracle for `--unet <file>` (src/models/unet-file.ts): diffusers' UNetSpatioTemporalConditionModel built from the
toy model's unet/config.json, then `load_state_dict(strict=True)` of one standalone .safetensors file, run on fixed
inputs. Two files: the toy's own UNet file, and a UNet-only fine-tune of it (every weight perturbed) saved by
safetensors' save_file in diffusers keys, as fine-tunes and AnimateLCM-SVD-xt's file are.

Writes to argv[1]:
  finetune.safetensors   the fine-tune (float32, diffusers keys, nothing else in it)
  io.safetensors         sample, timestep ([1]), ehs, ids, and the outputs toy.out and finetune.out
"""
import json
import math
import sys
from pathlib import Path

import torch
from _common import perturb
from diffusers import UNetSpatioTemporalConditionModel
from safetensors.torch import load_file, save_file

out = Path(sys.argv[1])
repo = Path(__file__).resolve().parents[2]
toy = repo / "models" / "toy" / "unet"
config = {k: v for k, v in json.loads((toy / "config.json").read_text()).items() if not k.startswith("_")}


def unet_from(file: Path) -> UNetSpatioTemporalConditionModel:
    model = UNetSpatioTemporalConditionModel(**config).eval()
    model.load_state_dict(load_file(str(file)), strict=True)
    return model


gen = torch.Generator().manual_seed(21)
fine = unet_from(toy / "diffusion_pytorch_model.safetensors")
perturb(fine, gen)
save_file({k: v.contiguous() for k, v in fine.state_dict().items()}, str(out / "finetune.safetensors"))

frames, (h, w) = config["num_frames"], (8, 12)
io = {
    "sample": torch.randn(2, frames, config["in_channels"], h, w, generator=gen),
    "timestep": torch.tensor([0.25 * math.log(20.0)]),
    "ehs": torch.randn(2, 1, config["cross_attention_dim"], generator=gen),
    "ids": torch.tensor([[6.0, 127.0, 0.02], [6.0, 90.0, 0.1]]),
}
with torch.no_grad():
    for name, file in (("toy", toy / "diffusion_pytorch_model.safetensors"), ("finetune", out / "finetune.safetensors")):
        io[f"{name}.out"] = unet_from(file)(io["sample"], io["timestep"][0].item(), io["ehs"], io["ids"]).sample
save_file({k: v.contiguous().float() for k, v in io.items()}, str(out / "io.safetensors"))
