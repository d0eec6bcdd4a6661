"""Oracle for src/schedulers/animatelcm.ts, written from the published formulas, not from any scheduler's code:

- the Karras grid (Karras et al. 2022, Eq. 5) σ(r) = (σ_max^{1/ρ} + r(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, r = k/(T−1),
  an N-step run on the training levels k·⌊T/N⌋ from the top (Song et al. 2023's multistep sampling), then 0;
  AnimateLCM-SVD's settings T = 40, σ_min 0.002, σ_max 700, ρ 7, σ_data 1 (its model card and app);
- c_noise = 0.25·ln σ, c_in = 1/√(σ² + σ_d²), c_skip = σ_d²/(σ² + σ_d²), c_out = −σσ_d/√(σ² + σ_d²) (EDM, v-param.);
- the stochastic step D + σ_next·z, the deterministic step D + (σ_next/σ)(x − D) and its inverse (solved here
  numerically with numpy's linear solve per element, not with the closed form the TypeScript uses).

All in float64 with numpy. As an independent second reading of the grid, diffusers' CMStochasticIterativeScheduler
(the consistency-model scheduler AnimateLCM's is derived from) on the same settings gives the σ of each run.
Writes argv[1]/animatelcm.json.
"""
import json
import sys
from pathlib import Path

import numpy as np
from diffusers import CMStochasticIterativeScheduler

out = Path(sys.argv[1])
T, S_MIN, S_MAX, RHO, S_DATA = 40, 0.002, 700.0, 7.0, 1.0
STEP_COUNTS = [1, 2, 3, 4, 6, 8, 10, 25, 40]


def karras(r):
    hi, lo = S_MAX ** (1 / RHO), S_MIN ** (1 / RHO)
    return (hi + r * (lo - hi)) ** RHO


def grid(n):
    ks = np.arange(n) * (T // n)
    return np.append(karras(ks / (T - 1)), 0.0)


def scalings(s):
    v = s * s + S_DATA * S_DATA
    return S_DATA**2 / v, -s * S_DATA / np.sqrt(v), 1 / np.sqrt(v)


rng = np.random.default_rng(0)
x = rng.standard_normal(60)
f = rng.standard_normal(60)
z = rng.standard_normal(60)

schedules = {}
for n in STEP_COUNTS:
    s = grid(n)
    cm = CMStochasticIterativeScheduler(num_train_timesteps=T, sigma_min=S_MIN, sigma_max=S_MAX, sigma_data=S_DATA, rho=RHO)
    cm.set_timesteps(n)
    schedules[str(n)] = {
        "sigmas": s.tolist(),
        "c_noise": (0.25 * np.log(s[:-1])).tolist(),
        "diffusers_cm_sigmas": [float(v) for v in cm.sigmas.tolist()],
    }

steps = []
for sigma, sigma_next in [(700.0, 128.0), (13.6, 0.5), (0.5, 0.0), (3.0, 1.0)]:
    c_skip, c_out, c_in = scalings(sigma)
    xs = x * np.sqrt(sigma**2 + 1)  # a sample of realistic size at σ
    d = c_skip * xs + c_out * f
    det = d + (sigma_next / sigma) * (xs - d)
    # Inverse: the x_hi whose deterministic step (with this same F) lands on det, solved as a 1×1 system per element.
    a = (1 - sigma_next / sigma) * c_skip + sigma_next / sigma
    b = det - (1 - sigma_next / sigma) * c_out * f
    inv = np.array([np.linalg.solve([[a]], [bi])[0] for bi in b])
    steps.append({
        "sigma": sigma, "sigma_next": sigma_next, "sample": xs.tolist(), "scaled": (c_in * xs).tolist(),
        "denoised": d.tolist(), "stochastic": (d + sigma_next * z).tolist(), "deterministic": det.tolist(), "inverse": inv.tolist(),
    })

result = {"config": {"T": T, "sigma_min": S_MIN, "sigma_max": S_MAX, "rho": RHO, "sigma_data": S_DATA},
          "model_output": f.tolist(), "noise": z.tolist(), "schedules": schedules, "steps": steps}
(out / "animatelcm.json").write_text(json.dumps(result))
print(f"animatelcm oracle: {len(STEP_COUNTS)} schedules, {len(steps)} steps written to {out}")
