"""Oracle for src/models/vae/: diffusers' AutoencoderKLTemporalDecoder on tiny configs with perturbed weights.

Writes to argv[1]:
  svd_vae_config.json            the real SVD VAE config, copied byte for byte
  svd_vae_shapes.json            {name: shape} of the real config's state dict (built on the meta device: no weights)
  cases.json                     per tiny case: its constructor kwargs and which inputs/outputs io.safetensors holds
  <case>/model/                  save_pretrained: diffusion_pytorch_model.safetensors (fp32) and .fp16.safetensors
  <case>/io.safetensors          inputs and fp32 reference outputs; "fp16.*" outputs are computed in fp32 from the
                                 fp16 weights up-cast to fp32 (the reference for fp16 weights with fp32 compute)
Encoder outputs: the latent distribution's mean (= mode) and its clamped log-variance.
Decoder outputs: decode(latents, num_frames) for several frame counts, plus the 5-frame latents decoded one frame
at a time (to show the decoder really mixes frames).
  blocks/weights.safetensors     the shared blocks (src/models/blocks/) in the configurations the UNet uses and the
  blocks/io.safetensors          VAE does not: time embeddings, output_scale_factor, learned_with_images with a mixed
                                 image_only_indicator, token-layout AlphaBlender, Downsample2D padding 1, Upsample2D
"""
import json
import shutil
import sys
from pathlib import Path

import torch
from _common import perturb
from diffusers import AutoencoderKLTemporalDecoder
from diffusers.models.downsampling import Downsample2D
from diffusers.models.resnet import AlphaBlender, ResnetBlock2D, SpatioTemporalResBlock
from diffusers.models.upsampling import Upsample2D
from safetensors.torch import save_file

out = Path(sys.argv[1])
repo = Path(__file__).resolve().parents[2]
svd_config_path = repo / "configs" / "stable-video-diffusion-img2vid" / "vae" / "config.json"
shutil.copyfile(svd_config_path, out / "svd_vae_config.json")

svd_config = {k: v for k, v in json.loads(svd_config_path.read_text()).items() if not k.startswith("_")}
with torch.device("meta"):
    svd_model = AutoencoderKLTemporalDecoder(**svd_config)
(out / "svd_vae_shapes.json").write_text(
    json.dumps({k: list(v.shape) for k, v in svd_model.state_dict().items()}, indent=0, sort_keys=True)
)
del svd_model

CASES = {
    # Channel changes in both directions (conv_shortcut); layers 1 leaves the decoder mid block's attention unused.
    "a": dict(block_out_channels=(32, 64), layers_per_block=1),
    # SVD's layers_per_block: the decoder mid block runs resnet, attention, resnet.
    "b": dict(block_out_channels=(32, 32, 32), layers_per_block=2),
    # Downscale 8 like SVD, with three asymmetric-padding downsamplers.
    "c": dict(block_out_channels=(32, 32, 32, 32), layers_per_block=1),
    # layers 3: diffusers' mid block zips resnets[1:] with one attention, so resnets[2] exists but never runs.
    "d": dict(block_out_channels=(32, 32), layers_per_block=3, latent_channels=3),
}


def run_case(name: str, kwargs: dict, seed: int) -> dict:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    n_blocks = len(kwargs["block_out_channels"])
    config = {
        "in_channels": 3,
        "out_channels": 3,
        "down_block_types": ["DownEncoderBlock2D"] * n_blocks,
        "latent_channels": 4,
        "scaling_factor": 0.13025 + seed * 0.01,
        **kwargs,
    }
    model = AutoencoderKLTemporalDecoder(**config).eval()
    perturb(model, gen)
    case_dir = out / name
    model.save_pretrained(case_dir / "model", safe_serialization=True)
    model16 = AutoencoderKLTemporalDecoder(**config).eval()
    model16.load_state_dict(model.state_dict())
    model16.half().save_pretrained(case_dir / "model", safe_serialization=True, variant="fp16")
    model16.float()  # fp16-rounded weights, computed in fp32

    latent_channels = config["latent_channels"]
    io: dict[str, torch.Tensor] = {}
    io["frames"] = torch.rand(3, 3, 24, 40, generator=gen) * 2 - 1
    io["frames_odd"] = torch.rand(2, 3, 20, 28, generator=gen) * 2 - 1
    io["latents3"] = torch.randn(3, latent_channels, 3, 5, generator=gen)
    io["latents5"] = torch.randn(5, latent_channels, 3, 5, generator=gen)
    io["latents2x3"] = torch.randn(6, latent_channels, 3, 5, generator=gen)
    decodes = {"dec3": ("latents3", 3), "dec5": ("latents5", 5), "dec2x3": ("latents2x3", 3)}

    with torch.no_grad():
        for key in ("frames", "frames_odd"):
            dist = model.encode(io[key]).latent_dist
            io[f"{key}.mean"] = dist.mean
            io[f"{key}.logvar"] = dist.logvar
        for key, (src, nf) in decodes.items():
            io[key] = model.decode(io[src], num_frames=nf).sample
        io["dec5_single"] = torch.cat([model.decode(io["latents5"][i : i + 1], num_frames=1).sample for i in range(5)])
        dist16 = model16.encode(io["frames"]).latent_dist
        io["fp16.frames.mean"] = dist16.mean
        io["fp16.frames.logvar"] = dist16.logvar
        io["fp16.dec5"] = model16.decode(io["latents5"], num_frames=5).sample

    save_file({k: v.contiguous().float() for k, v in io.items()}, str(case_dir / "io.safetensors"))
    return {
        "config": config,
        "decodes": {k: {"latents": s, "num_frames": nf} for k, (s, nf) in decodes.items()},
        "max_abs": {k: float(v.abs().max()) for k, v in io.items()},
    }


cases = {name: run_case(name, kwargs, seed) for seed, (name, kwargs) in enumerate(CASES.items())}
(out / "cases.json").write_text(json.dumps(cases, indent=1))


def run_blocks(seed: int) -> None:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    modules = {
        "res": ResnetBlock2D(in_channels=32, out_channels=64, temb_channels=16, groups=8, eps=1e-5, output_scale_factor=2.0),
        "st": SpatioTemporalResBlock(in_channels=32, out_channels=64, temb_channels=16, eps=1e-5),
        "down1": Downsample2D(32, use_conv=True, out_channels=32, padding=1, name="op"),
        "down0": Downsample2D(32, use_conv=True, out_channels=32, padding=0, name="op"),
        "up": Upsample2D(32, use_conv=True, out_channels=32),
        "mix": AlphaBlender(alpha=0.5, merge_strategy="learned_with_images"),
    }
    weights = {}
    for prefix, module in modules.items():
        module.eval()
        perturb(module, gen)
        weights.update({f"{prefix}.{k}": v.detach().clone() for k, v in module.state_dict().items()})
    io = {
        "x": torch.randn(6, 32, 5, 7, generator=gen),  # 2 clips of 3 frames, odd sizes
        "temb": torch.randn(6, 16, generator=gen),
        "indicator": torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 1.0]]),
        "tokens_spatial": torch.randn(6, 10, 32, generator=gen),
        "tokens_temporal": torch.randn(6, 10, 32, generator=gen),
    }
    with torch.no_grad():
        io["res"] = modules["res"](io["x"], io["temb"])
        io["st"] = modules["st"](io["x"], io["temb"], image_only_indicator=io["indicator"])
        io["st_video"] = modules["st"](io["x"], io["temb"], image_only_indicator=torch.zeros(2, 3))
        io["down1"] = modules["down1"](io["x"])
        io["down0"] = modules["down0"](io["x"])
        io["up"] = modules["up"](io["x"])
        # The UNet's odd latent sizes: upsample 5×7 back to a 9×13 skip connection (diffusers' upsample_size).
        io["up_sized"] = modules["up"](io["x"], output_size=(9, 13))
        io["mix"] = modules["mix"](io["tokens_spatial"], io["tokens_temporal"], image_only_indicator=io["indicator"])
    (out / "blocks").mkdir()
    save_file({k: v.contiguous() for k, v in weights.items()}, str(out / "blocks" / "weights.safetensors"))
    save_file({k: v.contiguous().float() for k, v in io.items()}, str(out / "blocks" / "io.safetensors"))


run_blocks(100)
