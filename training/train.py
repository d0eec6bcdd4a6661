"""Trains the toy Stable Video Diffusion (videoshop `--model toy`) on synthetic clips from scripts/write-scenes.ts.

Stage 1, VAE: diffusers' AutoencoderKLTemporalDecoder, reconstruction (MSE + L1) plus a small KL term, on random
  crops of short sub-clips (fully convolutional apart from the mid-block attention, so crops train the same weights
  at a quarter of the cost). Its scaling_factor is set to 1/std of the encoded training latents.
Stage 2, UNet + image encoder, the SVD way (Blattmann et al. 2023, EDM of Karras et al. 2022):
  - latents x0 = VAE mean · scaling_factor; σ ~ LogNormal(P_mean, P_std); x = x0 + σ·ε;
  - EDM preconditioning for v-prediction with σ_data = 1: c_in = 1/√(σ²+1), c_skip = 1/(σ²+1),
    c_out = −σ/√(σ²+1), c_noise = 0.25·ln σ (the timestep diffusers' EulerDiscreteScheduler passes for SVD);
    the loss is ‖F(c_in·x) − (x0 − c_skip·x)/c_out‖², i.e. EDM's λ(σ)-weighted denoising loss;
  - conditioning: first frame + noise_aug·n → VAE mode (unscaled, as diffusers' SVD pipeline) concatenated to every
    frame's input; CLIP image embedding of the clean first frame as the single cross-attention token; added time ids
    [fps − 1, motion bucket, noise_aug] (motion bucket from the clip's measured motion);
  - conditioning dropout: both the embedding and the concatenated latents zeroed together with p = 0.1
    (the unconditional branch of classifier-free guidance is exactly that).
  The image encoder (CLIPVisionModelWithProjection, small random init) is trained jointly through the UNet's
  cross-attention: there is no real CLIP offline.
Writes a diffusers-layout folder (model_index.json, unet/, vae/, image_encoder/, scheduler/, feature_extractor/)
and loss curves as CSV. Every random draw is seeded.
"""
import argparse
import copy
import csv
import json
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKLTemporalDecoder, UNetSpatioTemporalConditionModel
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

REPO = Path(__file__).resolve().parents[1]
CLIP_MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
CLIP_STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)

p = argparse.ArgumentParser()
p.add_argument("--data", required=True, help="clips.npy, uint8 [N, F, H, W, 3]")
p.add_argument("--out", required=True, help="output model folder (diffusers layout)")
p.add_argument("--logs", required=True, help="folder for loss CSVs")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--vae-steps", type=int, default=1500)
p.add_argument("--vae-minutes", type=float, default=15, help="stop stage 1 early after this many minutes")
p.add_argument("--unet-steps", type=int, default=6000)
p.add_argument("--unet-minutes", type=float, default=45, help="stop stage 2 early after this many minutes")
p.add_argument("--batch", type=int, default=4)
p.add_argument("--vae-channels", default="96,64,64", help="VAE block_out_channels; the first must give GroupNorm(32) >= 3 channels a group (see README)")
p.add_argument("--vae-batch", type=int, default=4, help="clips per VAE step (4 frames, one 32x32 crop each)")
p.add_argument("--unet-clips", type=int, default=1200, help="clips encoded for stage 2 (the first N)")
p.add_argument("--unet-channels", default="64,128")
p.add_argument("--lr", type=float, default=3e-4)
p.add_argument("--p-mean", type=float, default=0.7)
p.add_argument("--p-std", type=float, default=1.6)
p.add_argument("--vae-from", help="skip stage 1: load the VAE saved by an earlier run (its vae/ folder)")
p.add_argument("--vae-continue", action="store_true", help="with --vae-from: train that VAE further (stage 1 again)")
p.add_argument("--bf16", action="store_true", help="bfloat16 autocast for the training forward passes (about 1.3x on AVX-512 BF16 CPUs); weights stay float32")
p.add_argument("--time-steps", type=int, default=0, help="only time N steps of each stage and exit (sizing)")
args = p.parse_args()

torch.set_num_threads(args.threads)
if args.bf16 and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
    # Without native bfloat16 (AVX-512 BF16 / AMX) autocast is emulated and slower than float32.
    print("--bf16: this CPU has no native bfloat16; training in float32", flush=True)
    args.bf16 = False
torch.manual_seed(args.seed)
gen = np.random.default_rng(args.seed)
out = Path(args.out)
logs = Path(args.logs)
logs.mkdir(parents=True, exist_ok=True)


def autocast():
    """The training forward passes' precision: bfloat16 autocast with --bf16, else float32 (a no-op context)."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16)


clips = np.load(args.data, mmap_mode="r")
N, FR, H, W, _ = clips.shape
print(f"data: {N} clips of {FR} frames at {W}x{H}", flush=True)


def batch_clips(idx):
    """uint8 [B, F, H, W, 3] → float [B, F, 3, H, W] in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(clips[np.sort(idx)])).float()
    return x.permute(0, 1, 4, 2, 3) / 127.5 - 1


# ---------------------------------------------------------------- stage 1: VAE
VAE_CONFIG = dict(
    in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 3, block_out_channels=[int(c) for c in args.vae_channels.split(",")],
    layers_per_block=1, latent_channels=4, sample_size=H, scaling_factor=1.0, force_upcast=True,
)
vae = AutoencoderKLTemporalDecoder.from_pretrained(args.vae_from).float() if args.vae_from else AutoencoderKLTemporalDecoder(**VAE_CONFIG)
print(f"vae: {sum(p.numel() for p in vae.parameters()) / 1e6:.2f} M parameters", flush=True)
opt = torch.optim.AdamW(vae.parameters(), lr=1e-3, weight_decay=0.0)
VAE_FRAMES, CROP, VAE_BATCH = 4, 32, args.vae_batch
t0 = time.time()
with open(logs / "vae_loss.csv", "w", newline="") as fh:
    log = csv.writer(fh)
    log.writerow(["step", "seconds", "loss", "mse", "kl", "psnr"])
    steps = 0 if args.vae_from and not args.vae_continue else (args.time_steps or args.vae_steps)
    for step in range(1, steps + 1):
        done = min(1, max(step / steps, (time.time() - t0) / (args.vae_minutes * 60)))
        lr = 1e-3 * min(1, step / 50) * (0.5 * (1 + math.cos(math.pi * done)) * 0.9 + 0.1)
        for g in opt.param_groups:
            g["lr"] = lr
        idx = gen.choice(N, VAE_BATCH, replace=False)
        f0 = int(gen.integers(0, FR - VAE_FRAMES + 1))
        y0, x0 = (int(gen.integers(0, H - CROP + 1)), int(gen.integers(0, W - CROP + 1))) if CROP < H else (0, 0)
        x = batch_clips(idx)[:, f0:f0 + VAE_FRAMES, :, y0:y0 + CROP, x0:x0 + CROP].reshape(-1, 3, CROP, CROP)
        with autocast():
            post = vae.encode(x).latent_dist
            z = post.sample()
            rec = vae.decode(z, num_frames=VAE_FRAMES).sample.float()
        mse = F.mse_loss(rec, x)
        l1 = (rec - x).abs().mean()
        kl = post.kl().mean() / z[0].numel()
        loss = mse + 0.5 * l1 + 1e-4 * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        opt.step()
        psnr = 10 * math.log10(4 / max(mse.item(), 1e-10))
        log.writerow([step, f"{time.time() - t0:.1f}", f"{loss.item():.5f}", f"{mse.item():.5f}", f"{kl.item():.4f}", f"{psnr:.2f}"])
        if step % 50 == 0 or step == steps:
            fh.flush()
            print(f"vae step {step} {time.time() - t0:.0f}s loss {loss.item():.4f} psnr {psnr:.2f} kl {kl.item():.3f}", flush=True)
        if time.time() - t0 > args.vae_minutes * 60:
            print(f"vae: stopped at step {step} by the {args.vae_minutes} min budget", flush=True)
            break
if args.time_steps:
    print(f"vae: {(time.time() - t0) / args.time_steps:.3f} s/step", flush=True)
if (args.vae_continue or not args.vae_from) and not args.time_steps:
    vae.save_pretrained(logs / "vae-stage1", safe_serialization=True)  # float32, to restart stage 2 with --vae-from
vae.eval()
for q in vae.parameters():
    q.requires_grad_(False)

# Encode every clip once (posterior mean): the UNet's x0. scaling_factor = 1/std, so x0 has unit variance as in SVD.
t1 = time.time()
enc_n = min(N, args.unet_clips) if not args.time_steps else 16
means = []
with torch.no_grad():
    for i in range(0, enc_n, 32):
        x = batch_clips(np.arange(i, min(enc_n, i + 32)))
        b = x.shape[0]
        means.append(vae.encode(x.reshape(-1, 3, H, W)).latent_dist.mean.reshape(b, FR, 4, H // 4, W // 4))
latents = torch.cat(means)
scaling = float(1 / latents.std())
latents *= scaling
print(f"encoded {enc_n} clips in {time.time() - t1:.0f}s; latent std {1 / scaling:.3f} -> scaling_factor {scaling:.4f}", flush=True)
with torch.no_grad():
    x = batch_clips(np.arange(enc_n - 8, enc_n))  # the clips of latents[-8:]
    rec = vae.decode(latents[-8:].reshape(-1, 4, H // 4, W // 4) / scaling, num_frames=FR).sample.clamp(-1, 1)
    vae_psnr = 10 * math.log10(4 / F.mse_loss(rec, x.reshape(-1, 3, H, W)).item())
print(f"vae full-frame reconstruction psnr {vae_psnr:.2f} dB", flush=True)
vae.register_to_config(scaling_factor=scaling)

# ---------------------------------------------------------------- stage 2: UNet + CLIP
ch = [int(c) for c in args.unet_channels.split(",")]
EMBED = 64
CLIP_CONFIG = CLIPVisionConfig(
    hidden_size=64, image_size=32, intermediate_size=128, num_attention_heads=4, num_hidden_layers=2, patch_size=8,
    projection_dim=EMBED, num_channels=3, hidden_act="gelu", layer_norm_eps=1e-5,
)
clip = CLIPVisionModelWithProjection(CLIP_CONFIG)
TIME_DIM = 16
UNET_CONFIG = dict(
    sample_size=H // 4, in_channels=8, out_channels=4,
    down_block_types=["CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"],
    up_block_types=["UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"],
    block_out_channels=ch, addition_time_embed_dim=TIME_DIM, projection_class_embeddings_input_dim=3 * TIME_DIM,
    layers_per_block=1, cross_attention_dim=EMBED, transformer_layers_per_block=1,
    num_attention_heads=[c // 32 for c in ch], num_frames=FR,
)
unet = UNetSpatioTemporalConditionModel(**UNET_CONFIG)
print(f"unet: {sum(p.numel() for p in unet.parameters()) / 1e6:.2f} M parameters; clip {sum(p.numel() for p in clip.parameters()) / 1e6:.2f} M", flush=True)
params = list(unet.parameters()) + list(clip.parameters())
opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
ema_unet, ema_clip = copy.deepcopy(unet).eval(), copy.deepcopy(clip).eval()
for q in list(ema_unet.parameters()) + list(ema_clip.parameters()):
    q.requires_grad_(False)

# Motion bucket from the clip's mean latent frame-to-frame change, scaled so the median clip sits at 127 (the
# pipeline's default), clipped to [0, 255].
motion = (latents[:, 1:] - latents[:, :-1]).abs().mean(dim=(1, 2, 3, 4))
motion_bucket = (motion / motion.median() * 127).clamp(0, 255).round()


def clip_pixels(frame):
    """SVD's CLIP preprocessing (see src/models/clip/preprocess.ts): [0,1] pixels, bilinear antialias, normalize."""
    x = F.interpolate((frame + 1) / 2, size=(CLIP_CONFIG.image_size,) * 2, mode="bilinear", antialias=True, align_corners=False)
    return (x - CLIP_MEAN) / CLIP_STD


# ---------------------------------------------------------------- save (diffusers layout)
def save(step):
    """Writes the EMA weights as a diffusers folder (fp16 files), atomically: a temp folder renamed over `out` (its MODEL_CARD.md kept)."""
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    copy.deepcopy(ema_unet).half().save_pretrained(tmp / "unet", safe_serialization=True)
    copy.deepcopy(vae).half().save_pretrained(tmp / "vae", safe_serialization=True)
    copy.deepcopy(ema_clip).half().save_pretrained(tmp / "image_encoder", safe_serialization=True)
    src = REPO / "configs" / "stable-video-diffusion-img2vid"
    (tmp / "scheduler").mkdir()
    shutil.copyfile(src / "scheduler" / "scheduler_config.json", tmp / "scheduler" / "scheduler_config.json")
    shutil.copyfile(src / "model_index.json", tmp / "model_index.json")
    (tmp / "feature_extractor").mkdir()
    fe = {
        "crop_size": {"height": CLIP_CONFIG.image_size, "width": CLIP_CONFIG.image_size}, "do_center_crop": True,
        "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True,
        "image_mean": CLIP_MEAN.flatten().tolist(), "image_processor_type": "CLIPImageProcessor",
        "image_std": CLIP_STD.flatten().tolist(), "resample": 3, "rescale_factor": 1 / 255,
        "size": {"shortest_edge": CLIP_CONFIG.image_size},
    }
    (tmp / "feature_extractor" / "preprocessor_config.json").write_text(json.dumps(fe, indent=2) + "\n")
    (tmp / "training.json").write_text(json.dumps({
        "data": {"clips": N, "frames": FR, "size": [W, H]}, "vae_full_frame_psnr": round(vae_psnr, 2),
        "scaling_factor": scaling, "unet_steps": step, "args": vars(args),
    }, indent=2) + "\n")
    if (out / "MODEL_CARD.md").exists():  # the card is written by hand: a retrain keeps it
        shutil.copyfile(out / "MODEL_CARD.md", tmp / "MODEL_CARD.md")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    print(f"saved {out}", flush=True)


t0 = time.time()
steps = args.time_steps or args.unet_steps
last_save = time.time()
B = args.batch
with open(logs / "unet_loss.csv", "w", newline="") as fh:
    log = csv.writer(fh)
    log.writerow(["step", "seconds", "loss", "loss_ema", "lr"])
    ema_loss = None
    for step in range(1, steps + 1):
        # Cosine decay over whichever budget (steps or minutes) runs out first.
        done = min(1, max(step / steps, (time.time() - t0) / (args.unet_minutes * 60)))
        lr = args.lr * min(1, step / 100) * (0.5 * (1 + math.cos(math.pi * done)) * 0.9 + 0.1)
        for g in opt.param_groups:
            g["lr"] = lr
        idx = gen.choice(enc_n, B, replace=False)
        x0 = latents[idx]
        frames0 = batch_clips(idx)[:, 0]
        sigma = torch.exp(args.p_mean + args.p_std * torch.randn(B)).view(B, 1, 1, 1, 1)
        noisy = x0 + sigma * torch.randn_like(x0)
        c_in, c_skip, c_out = 1 / (sigma**2 + 1).sqrt(), 1 / (sigma**2 + 1), -sigma / (sigma**2 + 1).sqrt()
        # Noise augmentation of the conditioning frame: mostly around the pipeline's 0.2, sometimes none.
        aug = torch.exp(-3.0 + 1.0 * torch.randn(B)).clamp(max=1.0)
        aug[torch.rand(B) < 0.1] = 0.0
        with torch.no_grad():
            cond = vae.encode(frames0 + aug.view(B, 1, 1, 1) * torch.randn_like(frames0)).latent_dist.mode()
        with autocast():
            emb = clip(pixel_values=clip_pixels(frames0)).image_embeds.unsqueeze(1).float()
        keep = (torch.rand(B) >= 0.1).float()
        emb = emb * keep.view(B, 1, 1)
        cond = cond * keep.view(B, 1, 1, 1)
        ids = torch.stack([torch.full((B,), 6.0), motion_bucket[idx], aug], dim=1)
        inp = torch.cat([c_in * noisy, cond.unsqueeze(1).expand(-1, FR, -1, -1, -1)], dim=2)
        with autocast():
            pred = unet(inp, (0.25 * sigma.log()).view(B), encoder_hidden_states=emb, added_time_ids=ids).sample.float()
        target = (x0 - c_skip * noisy) / c_out
        loss = F.mse_loss(pred, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for m, e in ((unet, ema_unet), (clip, ema_clip)):
                for pe, pm in zip(e.parameters(), m.parameters()):
                    pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
        ema_loss = loss.item() if ema_loss is None else 0.98 * ema_loss + 0.02 * loss.item()
        log.writerow([step, f"{time.time() - t0:.1f}", f"{loss.item():.5f}", f"{ema_loss:.5f}", f"{lr:.2e}"])
        if step % 50 == 0 or step == steps:
            fh.flush()
            print(f"unet step {step} {time.time() - t0:.0f}s loss {loss.item():.4f} (smoothed {ema_loss:.4f})", flush=True)
        if not args.time_steps and time.time() - last_save > 600:
            save(step)
            last_save = time.time()
        if time.time() - t0 > args.unet_minutes * 60:
            print(f"unet: stopped at step {step} by the {args.unet_minutes} min budget", flush=True)
            break
if args.time_steps:
    print(f"unet: {(time.time() - t0) / args.time_steps:.3f} s/step", flush=True)
    raise SystemExit(0)

save(step)
