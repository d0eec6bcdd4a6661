"""Oracle for src/models/unet/: diffusers' UNetSpatioTemporalConditionModel on tiny configs with perturbed weights.

Writes to argv[1]:
  svd_unet_config.json        the real SVD UNet config, copied byte for byte
  svd_unet_shapes.json        {name: shape} of the real config's state dict (built on the meta device: no weights)
  cases.json                  per tiny case: constructor kwargs and, per run, which tensors of io.safetensors it uses
  <case>/model/               save_pretrained: diffusion_pytorch_model.safetensors (fp32) and .fp16.safetensors
  <case>/io.safetensors       per run <r>: <r>.sample, <r>.timestep ([1]), <r>.ehs, <r>.ids and the fp32 output <r>.out;
                              "fp16.out" is run "r0" computed in fp32 from the fp16 weights up-cast to fp32.
Runs differ in timestep, added_time_ids, frame count, latent size (one not divisible by 2^(blocks-1), which
diffusers handles by upsampling to the skip connection's size) and encoder sequence length (SVD uses 1, where
cross-attention's softmax is trivially 1; a longer one exercises to_q/to_k of attn2).
"""
import json
import math
import shutil
import sys
from pathlib import Path

import torch
from _common import perturb
from diffusers import UNetSpatioTemporalConditionModel
from safetensors.torch import save_file

out = Path(sys.argv[1])
repo = Path(__file__).resolve().parents[2]
svd_config_path = repo / "configs" / "stable-video-diffusion-img2vid" / "unet" / "config.json"
shutil.copyfile(svd_config_path, out / "svd_unet_config.json")

svd_config = {k: v for k, v in json.loads(svd_config_path.read_text()).items() if not k.startswith("_")}
with torch.device("meta"):
    svd_model = UNetSpatioTemporalConditionModel(**svd_config)
(out / "svd_unet_shapes.json").write_text(
    json.dumps({k: list(v.shape) for k, v in svd_model.state_dict().items()}, indent=0, sort_keys=True)
)
del svd_model

CA, D = "CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"
UA, U = "CrossAttnUpBlockSpatioTemporal", "UpBlockSpatioTemporal"
CASES = {
    # Channel change between blocks (conv_shortcut), per-block head list, one resnet per block.
    "a": dict(
        block_out_channels=(32, 64), down_block_types=(CA, D), up_block_types=(U, UA), layers_per_block=1,
        num_attention_heads=(2, 4), cross_attention_dim=32, addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=24, num_frames=3, in_channels=8, out_channels=4,
    ),
    # SVD's layers_per_block 2 (up blocks hold 3 resnets), int heads, a per-block transformer depth list, and an odd
    # addition_time_embed_dim (Timesteps pads each id's sinusoid with a zero column).
    "b": dict(
        block_out_channels=(32, 32, 32), down_block_types=(CA, CA, D), up_block_types=(U, UA, UA), layers_per_block=2,
        num_attention_heads=2, transformer_layers_per_block=(1, 2, 1), cross_attention_dim=16,
        addition_time_embed_dim=5, projection_class_embeddings_input_dim=15, num_frames=4, in_channels=6,
        out_channels=3,
    ),
    # SVD's block types (3 cross-attention + 1 plain down, 1 plain + 3 cross-attention up), head dims 32/16/16/8.
    "c": dict(
        block_out_channels=(32, 32, 32, 32), down_block_types=(CA, CA, CA, D), up_block_types=(U, UA, UA, UA),
        layers_per_block=1, num_attention_heads=(1, 2, 2, 4), cross_attention_dim=24, addition_time_embed_dim=4,
        projection_class_embeddings_input_dim=12, num_frames=5, in_channels=8, out_channels=4,
    ),
}

# run name: (frames offset from num_frames, (h, w), timestep, added_time_ids, encoder sequence length, zero uncond ehs)
RUNS = {
    "r0": (0, None, 0.25 * math.log(15.59), [[6, 127, 0.2], [6, 127, 0.2]], 1, False),
    "r1": (-1, None, 0.25 * math.log(700.0), [[5, 30, 0.02], [7, 200, 0.1]], 1, True),
    "r2": (1, "odd", 0.25 * math.log(0.5), [[6, 127, 0.0], [3, 60, 1.0]], 3, False),
}


# Non-square latent sizes divisible by 2^(blocks-1), per case.
# (c): 24×16 leaves 3×2 positions at the bottom; at 2×1 each GroupNorm group holds 2 values and even torch's
# float32 result drifts ~1e-3 from float64 (the "fp64_gap" in cases.json measures that conditioning per run).
SIZES = {"a": (8, 12), "b": (8, 12), "c": (24, 16)}


def latent_size(name: str, n_blocks: int, kind) -> tuple[int, int]:
    if kind == "odd":  # not divisible by 2^(blocks-1): diffusers forwards the skip size to the upsamplers
        f = 2 ** (n_blocks - 1)
        return (2 * f + 1, f + 3)
    return SIZES[name]


def run_case(name: str, kwargs: dict, seed: int) -> dict:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = UNetSpatioTemporalConditionModel(**kwargs).eval()
    perturb(model, gen)
    case_dir = out / name
    model.save_pretrained(case_dir / "model", safe_serialization=True)
    model16 = UNetSpatioTemporalConditionModel(**kwargs).eval()
    model16.load_state_dict(model.state_dict())
    model16.half().save_pretrained(case_dir / "model", safe_serialization=True, variant="fp16")
    model16.float()  # fp16-rounded weights, computed in fp32
    model64 = UNetSpatioTemporalConditionModel(**kwargs).eval()
    model64.load_state_dict(model.state_dict())
    model64.double()

    n_blocks = len(kwargs["block_out_channels"])
    io: dict[str, torch.Tensor] = {}
    runs = {}
    with torch.no_grad():
        for run, (df, size, t, ids, seq, zero_uncond) in RUNS.items():
            frames = kwargs["num_frames"] + df
            h, w = latent_size(name, n_blocks, size)
            sample = torch.randn(2, frames, kwargs["in_channels"], h, w, generator=gen)
            ehs = torch.randn(2, seq, kwargs["cross_attention_dim"], generator=gen)
            if zero_uncond:
                ehs[0] = 0
            added = torch.tensor(ids, dtype=torch.float32)
            io[f"{run}.sample"] = sample
            io[f"{run}.timestep"] = torch.tensor([t], dtype=torch.float32)
            io[f"{run}.ehs"] = ehs
            io[f"{run}.ids"] = added
            io[f"{run}.out"] = model(sample, t, ehs, added).sample
            exact = model64(sample.double(), t, ehs.double(), added.double()).sample
            gap = float((io[f"{run}.out"].double() - exact).abs().max())
            runs[run] = {"frames": frames, "height": h, "width": w, "timestep": t, "seq": seq, "fp64_gap": gap}
        r0 = RUNS["r0"]
        io["fp16.out"] = model16(io["r0.sample"], r0[2], io["r0.ehs"], io["r0.ids"]).sample

    save_file({k: v.contiguous().float() for k, v in io.items()}, str(case_dir / "io.safetensors"))
    return {
        "config": kwargs,
        "runs": runs,
        "max_abs": {k: float(v.abs().max()) for k, v in io.items() if k.endswith("out")},
        "fp16_vs_fp32": float((io["fp16.out"] - io["r0.out"]).abs().max()),
    }


cases = {name: run_case(name, kwargs, seed) for seed, (name, kwargs) in enumerate(CASES.items())}
(out / "cases.json").write_text(json.dumps(cases, indent=1))
