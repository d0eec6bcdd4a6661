"""Oracle for src/models/flops.ts: torch's FlopCounterMode on diffusers' and transformers' classes, tiny and real
configs, built under FakeTensorMode (shapes only: no weights, no arithmetic). Attention runs through the eager
matmul processors, so FlopCounterMode sees QK^T and AV as the bmm/baddbmm they are.

Writes argv[1]/flops.json: a list of {network, config, size, flops}.
"""
import json
import sys
from pathlib import Path

import torch
from diffusers import AutoencoderKLTemporalDecoder, UNetSpatioTemporalConditionModel
from diffusers.models.attention_processor import AttnProcessor
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils.flop_counter import FlopCounterMode
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

out = Path(sys.argv[1])
repo = Path(__file__).resolve().parents[2]
real = repo / "configs" / "stable-video-diffusion-img2vid"
load = lambda p: {k: v for k, v in json.loads(p.read_text()).items() if not k.startswith("_")}


def count(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        with torch.no_grad():
            fn()
    return int(counter.get_total_flops())


CA, D = "CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"
UA, U = "CrossAttnUpBlockSpatioTemporal", "UpBlockSpatioTemporal"
unets = {
    "tiny": (dict(
        block_out_channels=(32, 32, 32), down_block_types=(CA, CA, D), up_block_types=(U, UA, UA), layers_per_block=2,
        num_attention_heads=2, transformer_layers_per_block=(1, 2, 1), cross_attention_dim=16,
        addition_time_embed_dim=5, projection_class_embeddings_input_dim=15, num_frames=4, in_channels=6, out_channels=3,
    ), [dict(batch=2, frames=4, height=12, width=10), dict(batch=1, frames=3, height=5, width=7)]),
    "svd": (load(real / "unet" / "config.json"), [dict(batch=1, frames=14, height=72, width=128)]),
}
vaes = {
    "tiny": (dict(
        in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 3, block_out_channels=(32, 32, 64),
        layers_per_block=2, latent_channels=4,
    ), [dict(frames=3, height=24, width=40)]),
    "tiny1": (dict(
        in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 2, block_out_channels=(32, 64),
        layers_per_block=1, latent_channels=4,
    ), [dict(frames=2, height=16, width=24)]),
    "svd": (load(real / "vae" / "config.json"), [dict(frames=14, height=576, width=1024), dict(frames=1, height=576, width=1024)]),
}
clips = {
    "tiny": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, patch_size=4,
                 image_size=24, projection_dim=16),
    "svd": load(real / "image_encoder" / "config.json"),
}

results = []
with FakeTensorMode(allow_non_fake_inputs=True):
    for name, (config, sizes) in unets.items():
        model = UNetSpatioTemporalConditionModel(**config).eval()
        model.set_attn_processor(AttnProcessor())
        for s in sizes:
            sample = torch.empty(s["batch"], s["frames"], model.config.in_channels, s["height"], s["width"])
            ehs = torch.empty(s["batch"], 1, model.config.cross_attention_dim)
            ids = torch.empty(s["batch"], len(model.config.projection_class_embeddings_input_dim * [0]) // model.config.addition_time_embed_dim)
            flops = count(lambda: model(sample, torch.tensor(1.0), ehs, ids))
            results.append(dict(network="unet", name=name, config=config, size=s, flops=flops))
    for name, (config, sizes) in vaes.items():
        model = AutoencoderKLTemporalDecoder(**config).eval()
        model.set_attn_processor(AttnProcessor())
        f = 2 ** (len(model.config.block_out_channels) - 1)
        for s in sizes:
            frames = torch.empty(s["frames"], 3, s["height"], s["width"])
            latents = torch.empty(s["frames"], model.config.latent_channels, s["height"] // f, s["width"] // f)
            enc = count(lambda: model.encode(frames))
            dec = count(lambda: model.decode(latents, num_frames=s["frames"]))
            results.append(dict(network="vae_encode", name=name, config=config, size=s, flops=enc))
            results.append(dict(network="vae_decode", name=name, config=config,
                                size=dict(frames=s["frames"], height=s["height"] // f, width=s["width"] // f), flops=dec))
    for name, config in clips.items():
        model = CLIPVisionModelWithProjection(CLIPVisionConfig(**config, attn_implementation="eager")).eval()
        size = model.config.image_size
        flops = count(lambda: model(pixel_values=torch.empty(1, 3, size, size)))
        results.append(dict(network="clip", name=name, config=config, size=dict(images=1), flops=flops))

(out / "flops.json").write_text(json.dumps(results, indent=1))
for r in results:
    print(r["network"], r["name"], r["size"], f"{r['flops'] / 1e12:.3f} TFLOP")
