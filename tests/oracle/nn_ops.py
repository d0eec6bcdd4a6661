"""Reference outputs for src/onnx/nn.ts: one small random case per layer helper, computed with torch.

Writes <out>/weights.safetensors (the layer parameters, named like diffusers weights; a few stored as fp16 to exercise
the Cast path) and <out>/io.safetensors (<case>.x / <case>.y, plus q/k/v for attention).
"""
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

out = sys.argv[1]
torch.manual_seed(0)
weights = {}
io = {}


def rand(*shape, scale=1.0):
    return torch.randn(*shape) * scale


def param(name, tensor, fp16=False):
    """Stores a parameter; fp16 ones are rounded first so the reference sees exactly the stored values."""
    if fp16:
        tensor = tensor.half()
        weights[name] = tensor
        return tensor.float()
    weights[name] = tensor
    return tensor


# Linear on a 3-D input, with and without bias, and with fp16-stored weights (computed in float32).
x = rand(2, 3, 16)
io["linear.x"] = x
io["linear.y"] = F.linear(x, param("linear.weight", rand(24, 16, scale=0.25)), param("linear.bias", rand(24)))
io["linear_nobias.y"] = F.linear(x, param("linear_nobias.weight", rand(8, 16, scale=0.25)))
io["linear16.y"] = F.linear(x, param("linear16.weight", rand(24, 16, scale=0.25), fp16=True),
                            param("linear16.bias", rand(24), fp16=True))
x2 = rand(5, 16)  # 2-D input too
io["linear2d.x"] = x2
io["linear2d.y"] = F.linear(x2, weights["linear.weight"], weights["linear.bias"])

# Conv2d 3×3, stride 1 and 2, padding 1; and a 1×1 conv without padding.
x = rand(2, 8, 10, 12)
io["conv.x"] = x
io["conv.y"] = F.conv2d(x, param("conv.weight", rand(6, 8, 3, 3, scale=0.2)), param("conv.bias", rand(6)), padding=1)
io["conv_s2.y"] = F.conv2d(x, param("conv_s2.weight", rand(8, 8, 3, 3, scale=0.2)), param("conv_s2.bias", rand(8)),
                           stride=2, padding=1)
io["conv1x1.y"] = F.conv2d(x, param("conv1x1.weight", rand(4, 8, 1, 1, scale=0.3)), param("conv1x1.bias", rand(4)))

# Conv3d with kernel (3, 1, 1), padding (1, 0, 0): the temporal convolution of SVD's VAE decoder.
x = rand(1, 8, 5, 6, 7)
io["conv3d.x"] = x
io["conv3d.y"] = F.conv3d(x, param("conv3d.weight", rand(8, 8, 3, 1, 1, scale=0.3)), param("conv3d.bias", rand(8)),
                          padding=(1, 0, 0))

# GroupNorm: 32 groups / eps 1e-6 on 4-D and 5-D inputs, 2 groups / eps 1e-5 on a 3-D input.
for name, shape, groups, eps in [("gn32", (2, 64, 5, 6), 32, 1e-6), ("gn32_5d", (1, 64, 3, 4, 5), 32, 1e-6),
                                 ("gn2", (2, 6, 7), 2, 1e-5)]:
    x = rand(*shape) * 3 + 1
    c = shape[1]
    io[f"{name}.x"] = x
    io[f"{name}.y"] = F.group_norm(x, groups, param(f"{name}.weight", 1 + rand(c, scale=0.1)),
                                   param(f"{name}.bias", rand(c, scale=0.1)), eps)

# LayerNorm over the last axis, affine and not.
x = rand(2, 5, 32) * 2 + 0.5
io["ln.x"] = x
io["ln.y"] = F.layer_norm(x, (32,), param("ln.weight", 1 + rand(32, scale=0.1)), param("ln.bias", rand(32, scale=0.1)),
                          1e-5)
io["ln_plain.y"] = F.layer_norm(x, (32,), None, None, 1e-6)

# Activations over a wide range.
x = torch.linspace(-8, 8, 161).reshape(7, 23)
io["act.x"] = x
io["silu.y"] = F.silu(x)
io["gelu.y"] = F.gelu(x)
io["gelu_tanh.y"] = F.gelu(x, approximate="tanh")
io["quick_gelu.y"] = x * torch.sigmoid(1.702 * x)

# Multi-head attention: q [B, Lq, H·dh], k/v [B, Lk, H·dh], heads split like diffusers' Attention.
B, Lq, Lk, H, dh = 2, 7, 9, 4, 8
q, k, v = rand(B, Lq, H * dh), rand(B, Lk, H * dh), rand(B, Lk, H * dh)
split = lambda t: t.reshape(B, -1, H, dh).transpose(1, 2)  # noqa: E731
o = F.scaled_dot_product_attention(split(q), split(k), split(v))
io["attn.q"], io["attn.k"], io["attn.v"] = q, k, v
io["attn.y"] = o.transpose(1, 2).reshape(B, Lq, H * dh)

save_file({k: t.contiguous() for k, t in weights.items()}, f"{out}/weights.safetensors")
save_file({k: t.contiguous().float() for k, t in io.items()}, f"{out}/io.safetensors")
