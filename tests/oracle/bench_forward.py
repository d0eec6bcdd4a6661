"""diffusers'/transformers' side of bench/models.ts: loads one SVD network with from_pretrained and times forwards.

Not an oracle: tests/oracle/run.sh calls every script here with an output folder, and this one then does nothing.
bench/models.ts runs it as

    bench_forward.py --request request.json

request.json: {network: unet|vae|clip, folder, variant (e.g. "fp16" or null), device (cpu|cuda), dtype (float32|float16),
threads, warmup, repeats, flushDenormal, jobs: [{graph, inputs, output, numFrames?, outputs}]}. Each job reads its inputs from a
safetensors file (the same tensors our sessions get), runs warmup + repeats forwards under torch.inference_mode, and
writes the last output as float32 safetensors; with flushDenormal (CPU), it times the forwards again under
torch.set_flush_denormal(True). Prints one line: BENCH_RESULT {json} (times in ms, RSS in bytes).
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path


def rss() -> dict:
    keys = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file", "VmHWM": "peak"}
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in keys:
            out[keys[key]] = int(value.split()[0]) * 1024
    return out


def main() -> None:
    if len(sys.argv) == 2 and not sys.argv[1].startswith("-"):
        print("bench_forward: a helper of bench/models.ts (npm run bench:models), not an oracle; nothing to do")
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--request", required=True)
    req = json.loads(Path(parser.parse_args().request).read_text())

    import torch
    from safetensors.torch import load_file, save_file

    torch.manual_seed(0)
    torch.set_num_threads(int(req["threads"]))
    device = torch.device(req["device"])
    dtype = torch.float16 if req["dtype"] == "float16" else torch.float32
    network = req["network"]
    variant = req.get("variant")

    t = time.perf_counter()
    if network == "unet":
        from diffusers import UNetSpatioTemporalConditionModel

        model = UNetSpatioTemporalConditionModel.from_pretrained(req["folder"], variant=variant, torch_dtype=dtype)
    elif network == "vae":
        from diffusers import AutoencoderKLTemporalDecoder

        config = json.loads((Path(req["folder"]) / "config.json").read_text())
        # As diffusers' SVD pipeline (and our loadVae): force_upcast keeps this VAE in float32.
        vae_dtype = torch.float32 if config.get("force_upcast", True) else dtype
        model = AutoencoderKLTemporalDecoder.from_pretrained(req["folder"], variant=variant, torch_dtype=vae_dtype)
        dtype = vae_dtype
    elif network == "clip":
        from transformers import CLIPVisionModelWithProjection

        model = CLIPVisionModelWithProjection.from_pretrained(req["folder"], variant=variant, dtype=dtype)
    else:
        raise SystemExit(f"unknown network {network}")
    model = model.to(device).eval()
    load_ms = (time.perf_counter() - t) * 1000
    after_load = rss()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    forwards = {}
    for job in req["jobs"]:
        x = {k: v.to(device=device, dtype=dtype) for k, v in load_file(job["inputs"]).items()}
        graph = job["graph"]

        def run() -> dict:
            if graph == "unet":
                out = model(x["sample"], x["timestep"], encoder_hidden_states=x["encoder_hidden_states"],
                            added_time_ids=x["added_time_ids"], return_dict=False)[0]
                return {"model_output": out}
            if graph == "vae_encoder":
                dist = model.encode(x["frames"]).latent_dist
                return {"mean": dist.mean, "logvar": dist.logvar}
            if graph == "vae_decoder":
                return {"frames": model.decode(x["latents"], num_frames=int(job["numFrames"])).sample}
            if graph == "clip":
                return {"image_embeds": model(pixel_values=x["pixel_values"]).image_embeds}
            raise SystemExit(f"unknown graph {graph}")

        def timed() -> tuple[dict, dict]:
            times = []
            with torch.inference_mode():
                for _ in range(int(req["warmup"]) + int(req["repeats"])):
                    sync()
                    t = time.perf_counter()
                    out = run()
                    sync()
                    times.append(round((time.perf_counter() - t) * 1000, 1))
            warm = int(req["warmup"])
            return out, {"warmupMs": times[:warm], "runsMs": times[warm:], "medianMs": round(statistics.median(times[warm:]), 2)}

        out, forwards[graph] = timed()
        save_file({k: v.float().cpu().contiguous() for k, v in out.items()}, job["output"])
        if req.get("flushDenormal") and device.type == "cpu":
            # Random weights drive some activations (softmax/sigmoid tails) into float32 subnormals, which x86 CPUs
            # compute slowly; torch leaves them on by default. A second timing with them flushed shows how much.
            torch.set_flush_denormal(True)
            _, forwards[graph]["flushDenormal"] = timed()
            torch.set_flush_denormal(False)

    import diffusers
    import transformers

    result = {
        "versions": {"torch": torch.__version__, "diffusers": diffusers.__version__, "transformers": transformers.__version__},
        "loadMs": round(load_ms, 1), "rss": {"afterLoad": after_load, "end": rss()}, "forwards": forwards,
    }
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
