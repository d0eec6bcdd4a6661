"""PyTorch side of `npm run bench` (bench/pipeline.ts): times diffusers/transformers on the SAME weights and inputs as
our ONNX graphs, one network call at a time, and saves the outputs so the bench can check both computed the same thing.

argv[1] is a work folder that bench/pipeline.ts fills with
  request.json          {"model": <diffusers SVD folder>, "threads": n, "warmups": n, "repeats": n, "serve": bool,
                         "device": "cpu" | "cuda", "dtypes": {"unet" | "vae" | "clip": "float32" | "float16"},
                         "calls": {name: spec}}
  inputs.safetensors    the inputs named in the specs
and this script writes there
  outputs.safetensors   each call's output (from its first run), named like the call
  results.json          torch version, threads, peak RSS, per network the load time, per call every timed run in ms
A spec is {"network": "unet" | "vae_encode" | "vae_decode" | "clip", "inputs": {arg: tensor name}, "num_frames"?: n}.
Calls run in torch.inference_mode with torch.set_num_threads(threads); one network is loaded at a time (the previous
one freed), so the full-size ones fit beside the machine's other work.
- Batch mode: each call runs `warmups` times untimed (the first one's time is reported as first_ms), then is timed
  `repeats` times (fast calls: as often as fits in 1 s, at most 50).
- Serve mode ("serve": true): the bench sends one JSON command per stdin line and alternates our calls with these,
  so both sides are timed under the same load of a shared machine (see Runner and the loop at the end).

Run by tests/oracle/run.sh (every oracle script is), the folder holds no request: it writes a note and exits at once.
"""
import gc
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

work = Path(sys.argv[1])
request_file = work / "request.json"
if not request_file.exists():
    note = "bench_calls.py runs from `npm run bench` (bench/pipeline.ts), not as a parity oracle.\n"
    (work / "README.txt").write_text(note)
    sys.exit(0)

# Quiet loaders: stderr carries the bench's progress lines.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

import torch  # noqa: E402 (after the early exit: run.sh calls every oracle script, and importing torch takes seconds)
from safetensors.torch import load_file, save_file  # noqa: E402

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
    from transformers.utils import logging

    logging.disable_progress_bar()
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


class Runner:
    """Holds one network at a time (loaded on demand, the previous one freed) and times calls of it."""

    def __init__(self) -> None:
        self.weights: str | None = None
        self.model = None
        self.load_ms: dict[str, float] = {}
        self.calls: dict[str, dict] = {}
        self.outputs: dict[str, torch.Tensor] = {}

    def ensure(self, weights: str) -> None:
        if self.weights == weights:
            return
        self.model = None
        gc.collect()
        t = time.perf_counter()
        model = load(weights)
        if device.type != "cpu" or weights in dtypes and dtypes[weights] != torch.float32:
            model = model.to(device, dtypes.get(weights, torch.float32))
        self.load_ms[weights] = self.load_ms.get(weights, 0.0) + (time.perf_counter() - t) * 1e3
        self.model, self.weights = model, weights

    def run(self, name: str, times: int, record: bool = True) -> list[float]:
        """Runs call `name` `times` times and returns their ms, kept in the results when `record`; the first run
        ever of a call is kept apart as first_ms, with its output."""
        spec = calls[name]
        self.ensure(weights_of(spec["network"]))
        ms = []
        with torch.inference_mode():
            for _ in range(times):
                t = time.perf_counter()
                out = call(self.model, spec)
                sync()
                ms.append((time.perf_counter() - t) * 1e3)
                if name not in self.outputs:
                    self.outputs[name] = out.float().cpu().contiguous()
                    self.calls[name] = {"first_ms": ms.pop(), "ms": []}
        if record:
            self.calls[name]["ms"] += ms
        return ms

    def finish(self) -> None:
        for c in self.calls.values():
            c["median_ms"] = statistics.median(c["ms"]) if c["ms"] else None
        results = {
            "torch": torch.__version__, "threads": torch.get_num_threads(), "load_ms": self.load_ms,
            "calls": self.calls, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
        save_file(self.outputs, str(work / "outputs.safetensors"))
        (work / "results.json").write_text(json.dumps(results, indent=1))


calls = request["calls"]
runner = Runner()
if request.get("serve"):
    # Interleaved mode: the bench alternates our calls with these, one JSON command per stdin line, so both sides
    # see the same load on a shared machine. {"call": name, "times": n, "record": bool} → {"ms": [...]};
    # {"finish": true} → the files, then {"done": true}.
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("finish"):
            runner.finish()
            print(json.dumps({"done": True}), flush=True)
            break
        ms = runner.run(command["call"], int(command["times"]), bool(command.get("record", True)))
        print(json.dumps({"ms": ms}), flush=True)
else:
    # Batch mode: every call in turn, `warmups` untimed runs, then at least `repeats` timed ones (fast calls: as
    # many as fit in BUDGET_S, at most MAX_RUNS).
    for name in sorted(calls, key=lambda n: weights_of(calls[n]["network"])):
        runner.run(name, warmups, record=False)
        start = time.perf_counter()
        while len(runner.calls[name]["ms"]) < repeats or (
            time.perf_counter() - start < BUDGET_S and len(runner.calls[name]["ms"]) < MAX_RUNS
        ):
            runner.run(name, 1)
        median = statistics.median(runner.calls[name]["ms"])
        print(f"bench_calls: {name} median {median:.1f} ms", file=sys.stderr, flush=True)
    runner.finish()
