"""Reference decodes for src/video/read.ts from an independent decoder: PyAV (its own bundled FFmpeg build) gives the
stored planes, and the YUV -> RGB conversion is done here in float64 with the textbook matrices (no swscale at all).
Sources are made with the system ffmpeg from a lossless RGB original (testsrc2), which is written too.

Writes into out/video_decode/: the sources, original_<W>x<H>.rgb (rgb24, FRAMES frames), oracle_<case>.f32
(float32 [F, H, W, 3] in [0, 1], display orientation), cases.json (per case: file, size, pixel format, matrix, range,
frame times in seconds from the first frame, rotation, sample aspect ratio), pyav_rgb24_<case>.u8 (the first frame
as PyAV's own rgb24 conversion gives it: how the reference, which reads video with imageio.v3 + PyAV, sees it)."""
import json
import subprocess
import sys

import av
import numpy as np

out = sys.argv[1]
FRAMES = 3
MATRIX = {"bt709": (0.2126, 0.0722), "bt601": (0.299, 0.114)}
SPACE_TAG = {"bt709": "bt709", "bt601": "smpte170m"}


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def original(w, h):
    path = f"{out}/original_{w}x{h}.rgb"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={w}x{h}:r=25", "-frames:v", str(FRAMES), "-pix_fmt", "rgb24", "-f", "rawvideo", path)
    return path


def from_original(name, w, h, vf, codec_args, tags=()):
    src = f"{out}/original_{w}x{h}.rgb"
    file = f"{out}/{name}"
    ffmpeg("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", "25", "-i", src, "-vf", vf, *codec_args, *tags, file)
    return file


def plane(frame, i, dtype):
    p = frame.planes[i]
    a = np.frombuffer(bytes(p), dtype).reshape(p.height, p.line_size // np.dtype(dtype).itemsize)
    return a[:, : p.width].astype(np.float64)


def yuv_to_rgb(frame, matrix, rng, bits):
    dtype = np.uint16 if bits > 8 else np.uint8
    y, u, v = (plane(frame, i, dtype) for i in range(3))
    # Chroma upsampled by repetition (sample-and-hold): simple and independent of swscale's filters.
    u = np.repeat(np.repeat(u, y.shape[0] // u.shape[0], 0), y.shape[1] // u.shape[1], 1)[: y.shape[0], : y.shape[1]]
    v = np.repeat(np.repeat(v, y.shape[0] // v.shape[0], 0), y.shape[1] // v.shape[1], 1)[: y.shape[0], : y.shape[1]]
    s = 2 ** (bits - 8)
    if rng == "tv":
        Y, Cb, Cr = (y - 16 * s) / (219 * s), (u - 128 * s) / (224 * s), (v - 128 * s) / (224 * s)
    else:
        full = 2**bits - 1
        Y, Cb, Cr = y / full, (u - 128 * s) / full, (v - 128 * s) / full
    kr, kb = MATRIX[matrix]
    r = Y + 2 * (1 - kr) * Cr
    b = Y + 2 * (1 - kb) * Cb
    g = (Y - kr * r - kb * b) / (1 - kr - kb)
    return np.clip(np.stack([r, g, b], -1), 0, 1)


def gbr_to_rgb(frame):
    if frame.format.name == "gbrp":
        g, b, r = (plane(frame, i, np.uint8) for i in range(3))
        return np.stack([r, g, b], -1) / 255
    # Packed RGB (FFV1 stores RGB as bgr0): a pure repacking.
    return frame.to_ndarray(format="rgb24").astype(np.float64) / 255


cases = []


def decode(name, file, kind, matrix=None, rng=None, bits=8, frames=FRAMES):
    with av.open(file) as container:
        stream = container.streams.video[0]
        images, times, rotation = [], [], 0
        for frame in container.decode(stream):
            if len(times) < frames:
                img = gbr_to_rgb(frame) if kind == "rgb" else yuv_to_rgb(frame, matrix, rng, bits)
                rotation = getattr(frame, "rotation", 0) or 0
                # PyAV gives the stored frame; turn it as a player shows it (rotation: counter-clockwise degrees).
                images.append(np.rot90(img, k=(rotation // 90) % 4))
            times.append(float(frame.time))
        sar = stream.codec_context.sample_aspect_ratio
    # What the reference reads frames with (imageio.v3 → PyAV → rgb24 through PyAV's swscale), first frame.
    with av.open(file) as container:
        first = next(container.decode(video=0))
        np.ascontiguousarray(first.to_ndarray(format="rgb24")).tofile(f"{out}/pyav_rgb24_{name}.u8")
        pix = stream.codec_context.pix_fmt
    stack = np.stack(images).astype(np.float32)
    stack.tofile(f"{out}/oracle_{name}.f32")
    cases.append({
        "name": name, "file": file.split("/")[-1], "kind": kind, "pixFmt": pix, "matrix": matrix, "range": rng, "bits": bits,
        "frames": len(images), "height": stack.shape[1], "width": stack.shape[2],
        "times": [t - times[0] for t in times], "rotation": rotation,
        "sar": [sar.numerator, sar.denominator] if sar else [1, 1],
    })


W, H = 256, 144
original(W, H)
original(1280, 720)
ffv1 = ["-c:v", "ffv1"]
decode("rgb", from_original("rgb.mkv", W, H, "null", [*ffv1, "-pix_fmt", "bgr0"]), "rgb")
for matrix, rng, pix in [("bt709", "tv", "yuv444p"), ("bt601", "pc", "yuv444p"), ("bt709", "tv", "yuv420p"),
                         ("bt601", "tv", "yuv422p"), ("bt709", "tv", "yuv444p10le"), ("bt709", "tv", "yuv420p10le")]:
    tags = ["-colorspace", SPACE_TAG[matrix], "-color_range", rng]
    vf = f"scale=out_color_matrix={matrix}:out_range={rng}:flags=bicubic+accurate_rnd+full_chroma_int,format={pix}"
    bits = 10 if "10" in pix else 8
    decode(f"{matrix}_{rng}_{pix}", from_original(f"{matrix}_{rng}_{pix}.mkv", W, H, vf, ffv1, tags), "yuv", matrix, rng, bits)
# Untagged HD: players (and we) take BT.709.
vf = "scale=out_color_matrix=bt709:out_range=tv:flags=bicubic+accurate_rnd+full_chroma_int,format=yuv420p"
decode("untagged_hd", from_original("untagged_hd.mkv", 1280, 720, vf, ffv1), "yuv", "bt709", "tv")
# Lossy H.264 4:2:0 (both sides decode H.264 bit-exactly; the conversion is what differs).
h264 = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p"]
tags = ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]
decode("h264_bt709", from_original("h264_bt709.mp4", W, H, vf, h264, tags), "yuv", "bt709", "tv")
# Rotation (flag set by stream copy, as ffmpeg 5.1 does it) and non-square pixels.
ffmpeg("-i", f"{out}/h264_bt709.mp4", "-c", "copy", "-metadata:s:v:0", "rotate=90", f"{out}/rotated.mp4")
decode("rotated", f"{out}/rotated.mp4", "yuv", "bt709", "tv")
decode("sar", from_original("sar.mp4", W, H, vf + ",setsar=4/3", h264, tags), "yuv", "bt709", "tv")
# Variable frame rate: 10 fps, then 20 fps.
ffmpeg("-f", "lavfi", "-i", "testsrc2=s=128x72:r=20", "-vf", "trim=end_frame=20,setpts='if(lt(N,10),N*0.1,1+(N-10)*0.05)/TB'",
       "-fps_mode", "vfr", "-video_track_timescale", "1000", *h264, f"{out}/vfr.mp4")
decode("vfr", f"{out}/vfr.mp4", "yuv", "bt601", "tv")
json.dump({"frames": FRAMES, "cases": cases}, open(f"{out}/cases.json", "w"), indent=1)
