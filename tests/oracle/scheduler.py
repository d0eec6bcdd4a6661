"""Oracle for src/schedulers/euler.ts: diffusers' EulerDiscreteScheduler on SVD's scheduler config and on
variants that exercise the other code paths (spacings, interpolations, prediction types, beta schedules).

Writes to argv[1]:
  svd_scheduler_config.json  the real SVD config, copied byte for byte (the TS test parses this same file)
  scheduler.json             per case: the config dict, alphas_cumprod, per step count sigmas/timesteps/
                             init_noise_sigma, per step index scale_model_input/step outputs, img2img starts
All floats are float32 values written as exact decimal doubles.
"""
import json
import shutil
import sys
from pathlib import Path

import torch
from diffusers import EulerDiscreteScheduler

out = Path(sys.argv[1])
repo = Path(__file__).resolve().parents[2]
svd_config_path = repo / "configs" / "stable-video-diffusion-img2vid" / "scheduler" / "scheduler_config.json"
shutil.copyfile(svd_config_path, out / "svd_scheduler_config.json")
svd = json.loads(svd_config_path.read_text())

NON_KARRAS = {"use_karras_sigmas": False}
CASES = {
    # name: (config overrides on top of SVD's, step counts)
    "svd": ({}, [1, 2, 10, 14, 25, 50]),
    "leading_epsilon": (
        {**NON_KARRAS, "timestep_type": "discrete", "prediction_type": "epsilon", "timestep_spacing": "leading"},
        [1, 2, 3, 10, 14, 25, 50],
    ),
    "linspace_v": (
        {**NON_KARRAS, "timestep_type": "discrete", "prediction_type": "v_prediction", "timestep_spacing": "linspace",
         "interpolation_type": "linear"},
        [1, 2, 3, 7, 10, 14, 25, 50],
    ),
    # trailing keeps SVD's continuous v-prediction timesteps (0.25·ln σ) on a non-Karras schedule.
    # 16 and 80 steps put trailing timesteps on .5 boundaries (numpy rounds half to even).
    "trailing": ({**NON_KARRAS, "timestep_spacing": "trailing"}, [1, 2, 3, 10, 14, 16, 25, 50, 80]),
    # Karras with discrete timesteps: the only path through _sigma_to_t.
    "karras_discrete_sample": (
        {"timestep_type": "discrete", "prediction_type": "sample", "sigma_min": None, "sigma_max": None},
        [1, 2, 10, 14, 25, 50],
    ),
    "loglinear_sigma_min": (
        {**NON_KARRAS, "timestep_type": "discrete", "prediction_type": "epsilon", "timestep_spacing": "linspace",
         "interpolation_type": "log_linear", "final_sigmas_type": "sigma_min"},
        [1, 2, 10, 14, 25, 50],
    ),
    "linear_betas": (
        {**NON_KARRAS, "beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02, "timestep_type": "discrete",
         "prediction_type": "epsilon", "timestep_spacing": "leading"},
        [10, 25],
    ),
    "cosine_betas": (
        {**NON_KARRAS, "beta_schedule": "squaredcos_cap_v2", "timestep_type": "discrete", "prediction_type": "epsilon",
         "timestep_spacing": "linspace"},
        [10, 25],
    ),
}
STEP_COUNT = 25
STEP_INDICES = [0, 12, 24]
SHAPE = [1, 3, 4, 5, 6]
STRENGTHS = [0.55, 1.0, 0.3]


def floats(t):
    return [float(x) for x in torch.as_tensor(t).reshape(-1).tolist()]


def make(config):
    return EulerDiscreteScheduler.from_config(config)


torch.manual_seed(0)
sample_unit = torch.randn(SHAPE, dtype=torch.float32)
model_output = torch.randn(SHAPE, dtype=torch.float32)

result = {"shape": SHAPE, "sample_unit": floats(sample_unit), "model_output": floats(model_output), "cases": {}}
for name, (overrides, step_counts) in CASES.items():
    config = {**svd, **overrides}
    base = make(config)
    case = {
        "config": config,
        "alphas_cumprod": floats(base.alphas_cumprod),
        "schedules": {},
        "steps": [],
        "img2img": [],
    }
    for n in step_counts:
        s = make(config)
        s.set_timesteps(n)
        case["schedules"][str(n)] = {
            "sigmas": floats(s.sigmas),
            "timesteps": floats(s.timesteps),
            "init_noise_sigma": float(s.init_noise_sigma),
        }
    for index in STEP_INDICES:
        s = make(config)
        s.set_timesteps(STEP_COUNT)
        s.set_begin_index(index)
        sigma = s.sigmas[index]
        # A realistically scaled sample for that noise level: x ~ N(0, σ² + 1).
        sample = (sample_unit * (sigma**2 + 1) ** 0.5).to(torch.float32)
        t = s.timesteps[index]
        scaled = s.scale_model_input(sample, t)
        stepped = s.step(model_output, t, sample)
        case["steps"].append({
            "index": index,
            "sample": floats(sample),
            "scaled": floats(scaled),
            "prev_sample": floats(stepped.prev_sample),
            "pred_original_sample": floats(stepped.pred_original_sample),
        })
    for strength in STRENGTHS:
        s = make(config)
        s.set_timesteps(STEP_COUNT)
        # diffusers' img2img pipelines (get_timesteps).
        init_timestep = min(int(STEP_COUNT * strength), STEP_COUNT)
        t_start = max(STEP_COUNT - init_timestep, 0)
        used = s.timesteps[t_start * s.order:]
        case["img2img"].append({
            "strength": strength,
            "t_start": t_start,
            "steps_run": len(used),
            "first_timestep": float(used[0]),
            "first_sigma": float(s.sigmas[t_start]),
        })
    result["cases"][name] = case

(out / "scheduler.json").write_text(json.dumps(result))
print(f"scheduler oracle: {len(CASES)} cases written to {out}")
