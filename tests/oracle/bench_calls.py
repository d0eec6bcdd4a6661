"""PyTorch side of `npm run bench` (bench/pipeline.ts): times diffusers/transformers on the SAME weights and inputs as
our ONNX graphs, one network call at a time, and saves the outputs so the bench can check both computed the same thing.

argv[1] is a work folder that bench/pipeline.ts fills with
  request.json          {"model": <diffusers SVD folder>, "threads": n, "warmups": n, "repeats": n, "device": "cpu" | "cuda",
                         "dtypes": {"unet" | "vae" | "clip": "float32" | "float16"}, "calls": {name: spec}}
  inputs.safetensors    the inputs named in the specs
and this script writes there
  outputs.safetensors   each call's output, named like the call
  results.json          torch version, threads, peak RSS, per network the load time, per call every timed run in ms
A spec is {"network": "unet" | "vae_encode" | "vae_decode" | "clip", "inputs": {arg: tensor name}, "num_frames"?: n}.
Each call runs `warmups` times untimed (the first one's time is reported as first_ms), then is timed `repeats` times (fast calls: as often as fits in 1 s, at most 50),
in torch.inference_mode with torch.set_num_threads(threads).
Networks load one at a time (and are freed before the next) so the full-size ones fit beside the machine's other work.

Run by tests/oracle/run.sh (every oracle script is), the folder holds no request: it writes a note and exits at once.
"""
import gc
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

work = Path(sys.argv[1])
request_file = work / "request.json"
if not request_file.exists():
    (work / "README.txt").write_text("bench_calls.py runs from `npm run bench` (bench/pipeline.ts), not as a parity oracle.\n")
    sys.exit(0)

request = json.loads(request_file.read_text())
threads = int(request["threads"])
repeats = int(request["repeats"])
warmups = int(request.get("warmups", 1))
torch.set_num_threads(threads)
torch.manual_seed(0)
model_dir = Path(request["model"])
device = torch.device(request.get("device", "cpu"))
DTYPES = {"float32": torch.float32, "float16": torch.float16}
dtypes = {k: DTYPES[v] for k, v in request.get("dtypes", {}).items()}
inputs = {k: v.to(device) for k, v in load_file(str(work / "inputs.safetensors")).items()}


def sync() -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def load_diffusers(cls, folder: Path):
    """Builds on the meta device and assigns the file's tensors: no random init, no second copy (diffusers'
    from_pretrained does both without `accelerate`, which the oracle venv does not have)."""
    with torch.device("meta"):
        model = cls.from_config(cls.load_config(folder))
    model.load_state_dict(load_file(str(folder / "diffusion_pytorch_model.safetensors")), strict=True, assign=True)
    if any(t.is_meta for t in [*model.parameters(), *model.buffers()]):
        return cls.from_pretrained(folder, torch_dtype=torch.float32)
    return model


def load(network: str):
    if network == "unet":
        from diffusers import UNetSpatioTemporalConditionModel

        return load_diffusers(UNetSpatioTemporalConditionModel, model_dir / "unet").eval()
    if network == "vae":
        from diffusers import AutoencoderKLTemporalDecoder

        return load_diffusers(AutoencoderKLTemporalDecoder, model_dir / "vae").eval()
    from transformers import CLIPVisionModelWithProjection

    return CLIPVisionModelWithProjection.from_pretrained(model_dir / "image_encoder", dtype=torch.float32).eval()


def call(model, spec: dict) -> torch.Tensor:
    dtype = dtypes.get(weights_of(spec["network"]), torch.float32)
    x = {k: inputs[v] if k == "timestep" else inputs[v].to(dtype) for k, v in spec["inputs"].items()}
    network = spec["network"]
    if network == "unet":
        return model(x["sample"], x["timestep"], x["encoder_hidden_states"], x["added_time_ids"]).sample
    if network == "vae_encode":
        return model.encode(x["frames"]).latent_dist.mode()
    if network == "vae_decode":
        return model.decode(x["latents"], num_frames=int(spec["num_frames"])).sample
    return model(pixel_values=x["pixel_values"]).image_embeds


def weights_of(network: str) -> str:
    return "vae" if network.startswith("vae") else network


BUDGET_S = 1.0
MAX_RUNS = 50
results: dict = {"torch": torch.__version__, "threads": torch.get_num_threads(), "warmups": warmups, "repeats": repeats, "load_ms": {}, "calls": {}}
outputs: dict[str, torch.Tensor] = {}
calls = request["calls"]
for weights in dict.fromkeys(weights_of(s["network"]) for s in calls.values()):
    t = time.perf_counter()
    model = load(weights)
    if device.type != "cpu" or weights in dtypes and dtypes[weights] != torch.float32:
        model = model.to(device, dtypes.get(weights, torch.float32))
    results["load_ms"][weights] = (time.perf_counter() - t) * 1e3
    with torch.inference_mode():
        for name, spec in calls.items():
            if weights_of(spec["network"]) != weights:
                continue
            t = time.perf_counter()
            out = call(model, spec)
            sync()
            first = (time.perf_counter() - t) * 1e3
            for _ in range(warmups - 1):
                call(model, spec)
            runs = []
            start = time.perf_counter()
            # At least `repeats` runs; fast calls repeat for up to BUDGET_S (noisy shared machine).
            while len(runs) < repeats or (time.perf_counter() - start < BUDGET_S and len(runs) < MAX_RUNS):
                t = time.perf_counter()
                call(model, spec)
                sync()
                runs.append((time.perf_counter() - t) * 1e3)
            outputs[name] = out.float().cpu().contiguous()
            results["calls"][name] = {"first_ms": first, "ms": runs, "median_ms": statistics.median(runs)}
            print(f"bench_calls: {name} median {statistics.median(runs):.1f} ms", file=sys.stderr, flush=True)
    del model
    gc.collect()

results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
save_file(outputs, str(work / "outputs.safetensors"))
(work / "results.json").write_text(json.dumps(results, indent=1))
