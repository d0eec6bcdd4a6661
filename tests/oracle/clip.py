"""Oracle for src/models/clip/: transformers' CLIPVisionModelWithProjection and SVD's CLIP preprocessing.

Writes to argv[1]:
  <case>/                 a tiny model folder: config.json, model.safetensors (fp32), model.fp16.safetensors (variant)
  <case>/io.safetensors   pixel_values [2, C, S, S]; image_embeds (fp32 weights) and image_embeds_fp16w (the fp16
                          weights up-cast to fp32, computed in fp32)
  resize.safetensors      per resize case `<case>.in` (U8 [3, H, W], the pixels as uint8 so big frames stay small) and
                          `<case>.out` (F32 [3, h, w]) = interpolate(in / 255, bilinear, antialias=True, align_corners=False)
  embed.safetensors       end-to-end ImageEmbedder reference on case `gelu`: `image` (U8 [3, 120, 200]),
                          `pixel_values` (SVD's preprocessing of image / 255) and `image_embeds`
  cases.json              the case names and their resize shapes
"""
import copy
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

out = Path(sys.argv[1])
torch.manual_seed(0)

CLIP_MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073])
CLIP_STD = torch.tensor([0.26862954, 0.26130258, 0.27577711])

MODEL_CASES = {
    "gelu": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, patch_size=4,
                 image_size=32, projection_dim=16, hidden_act="gelu", layer_norm_eps=1e-5),
    "quick_gelu": dict(hidden_size=48, intermediate_size=96, num_hidden_layers=3, num_attention_heads=6, patch_size=8,
                       image_size=40, projection_dim=24, hidden_act="quick_gelu", layer_norm_eps=1e-6),
    # transformers' default hidden_act (quick_gelu) and an image size that is not a multiple of the patch size.
    "default_act": dict(hidden_size=64, intermediate_size=80, num_hidden_layers=1, num_attention_heads=2, patch_size=14,
                        image_size=30, projection_dim=32, layer_norm_eps=1e-5),
    "gelu_tanh": dict(hidden_size=40, intermediate_size=72, num_hidden_layers=2, num_attention_heads=5, patch_size=6,
                      image_size=24, projection_dim=8, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-5),
}


def perturb(model: torch.nn.Module) -> None:
    """No parameter may keep its init value (LayerNorm 1/0 would hide a swapped weight/bias)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith(".weight"):
                p.copy_(1.0 + 0.3 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn_like(p))
            elif p.dim() >= 2 and "position_embedding" not in name:
                fan_in = p[0].numel()
                p.copy_(torch.randn_like(p) / fan_in**0.5)
            else:  # class_embedding, position_embedding
                p.copy_(0.5 * torch.randn_like(p))


def fp16_weights_as_fp32(model: torch.nn.Module) -> torch.nn.Module:
    ref = CLIPVisionModelWithProjection(model.config).eval()
    ref.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
    return ref


def preprocess(pixels01: torch.Tensor, size: int) -> torch.Tensor:
    """SVD's image1 transform: Resize((size, size), BILINEAR, antialias=True) then Normalize(CLIP mean, std)."""
    x = F.interpolate(pixels01[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0]
    return (x - CLIP_MEAN[:, None, None]) / CLIP_STD[:, None, None]


models = {}
for case, kwargs in MODEL_CASES.items():
    config = CLIPVisionConfig(**kwargs)
    model = CLIPVisionModelWithProjection(config).eval()
    perturb(model)
    folder = out / case
    model.save_pretrained(folder, safe_serialization=True)
    fp16_ref = fp16_weights_as_fp32(model)
    copy.deepcopy(model).half().save_pretrained(folder, variant="fp16")
    models[case] = model
    s = config.image_size
    pixel_values = torch.randn(2, config.num_channels, s, s)
    with torch.no_grad():
        embeds = model(pixel_values=pixel_values).image_embeds
        embeds16 = fp16_ref(pixel_values=pixel_values).image_embeds
    save_file({"pixel_values": pixel_values.contiguous(), "image_embeds": embeds.contiguous(),
               "image_embeds_fp16w": embeds16.contiguous()}, str(folder / "io.safetensors"))

RESIZE_CASES = {
    # name: (in H, in W, out h, out w)
    "down_120x200": (120, 200, 224, 224),  # up along H, down along W
    "down_576x1024": (576, 1024, 224, 224),
    "up_100x50": (100, 50, 224, 224),
    "odd_37x53_to_20x31": (37, 53, 20, 31),
    "same_16x16": (16, 16, 16, 16),
}
resize = {}
for name, (h, w, oh, ow) in RESIZE_CASES.items():
    img = torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
    resized = F.interpolate((img.float() / 255.0)[None], size=(oh, ow), mode="bilinear", antialias=True,
                            align_corners=False)[0]
    resize[f"{name}.in"] = img.contiguous()
    resize[f"{name}.out"] = resized.contiguous()
save_file(resize, str(out / "resize.safetensors"))

image = torch.randint(0, 256, (3, 120, 200), dtype=torch.uint8)
model = models["gelu"]
pixel_values = preprocess(image.float() / 255.0, model.config.image_size)
with torch.no_grad():
    embeds = model(pixel_values=pixel_values[None]).image_embeds[0]
save_file({"image": image.contiguous(), "pixel_values": pixel_values.contiguous(), "image_embeds": embeds.contiguous()},
          str(out / "embed.safetensors"))

(out / "cases.json").write_text(json.dumps({"models": list(MODEL_CASES), "resize": RESIZE_CASES,
                                            "embed_case": "gelu"}, indent=1))
