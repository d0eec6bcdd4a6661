/**
 * A minimal Matroska stream of raw rgb24 frames, each with its own timestamp, for piping into ffmpeg.
 *
 * Why: ffmpeg's rawvideo input can only number frames at a constant rate. To write a variable-frame-rate video
 * with every frame at its source timestamp, frames go to ffmpeg as `V_UNCOMPRESSED` Matroska blocks (ffmpeg reads
 * the fourcc `RGB\x18` as rgb24, `RGB0` as rgb48le) with microsecond timestamps (TimestampScale 1000 ns) and a BlockDuration each,
 * one frame per cluster so the 16-bit relative block timestamp is always 0. The segment's size is left unknown,
 * as live streams do, so nothing has to be patched afterwards.
 */

/** EBML variable-length size (1–8 bytes). */
function vint(n: number): Buffer {
  for (let len = 1; len <= 8; len++) {
    if (n < 2 ** (7 * len) - 1) {
      const out = Buffer.alloc(len);
      let v = n;
      for (let i = len - 1; i >= 0; i--) {
        out[i] = v % 256;
        v = Math.floor(v / 256);
      }
      out[0] |= 1 << (8 - len);
      return out;
    }
  }
  throw new RangeError(`EBML size ${n} too large`);
}

function id(value: number): Buffer {
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from(bytes);
}

function element(elementId: number, payload: Buffer): Buffer {
  return Buffer.concat([id(elementId), vint(payload.length), payload]);
}

function uint(elementId: number, value: number): Buffer {
  const bytes: number[] = [];
  let v = Math.round(value);
  do {
    bytes.unshift(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  return element(elementId, Buffer.from(bytes));
}

function text(elementId: number, value: string): Buffer {
  return element(elementId, Buffer.from(value, 'utf8'));
}

/** Unknown-size marker for the Segment (8-byte vint with every value bit set). */
const UNKNOWN_SIZE = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** EBML header + Segment start + Info + Tracks for one rgb24 (or, depth 16, rgb48le) video track of width×height. */
export function mkvHeader(width: number, height: number, depth: 8 | 16 = 8): Buffer {
  const ebml = element(0x1a45dfa3, Buffer.concat([
    uint(0x4286, 1), uint(0x42f7, 1), uint(0x42f2, 4), uint(0x42f3, 8),
    text(0x4282, 'matroska'), uint(0x4287, 4), uint(0x4285, 2),
  ]));
  const info = element(0x1549a966, Buffer.concat([uint(0x2ad7b1, 1000), text(0x4d80, 'videoshop'), text(0x5741, 'videoshop')]));
  const colourSpace = element(0x2eb524, Buffer.from([0x52, 0x47, 0x42, depth === 16 ? 48 : 24]));
  const video = element(0xe0, Buffer.concat([uint(0xb0, width), uint(0xba, height), colourSpace]));
  const track = element(0xae, Buffer.concat([
    uint(0xd7, 1), uint(0x73c5, 1), uint(0x83, 1), text(0x86, 'V_UNCOMPRESSED'), uint(0x9c, 0), video,
  ]));
  const tracks = element(0x1654ae6b, track);
  return Buffer.concat([ebml, id(0x18538067), UNKNOWN_SIZE, info, tracks]);
}

/** One cluster holding one frame at `timeUs` lasting `durationUs` (microseconds). */
export function mkvFrame(rgb: Uint8Array, timeUs: number, durationUs: number): Buffer[] {
  // Block: track number 1 (vint 0x81), relative timestamp 0 (int16), flags 0.
  const blockHead = Buffer.from([0x81, 0x00, 0x00, 0x00]);
  const block = Buffer.concat([id(0xa1), vint(blockHead.length + rgb.length), blockHead]);
  const duration = uint(0x9b, Math.max(1, durationUs));
  const groupSize = block.length + rgb.length + duration.length;
  const group = Buffer.concat([id(0xa0), vint(groupSize)]);
  const timestamp = uint(0xe7, timeUs);
  const clusterHead = Buffer.concat([id(0x1f43b675), vint(timestamp.length + group.length + groupSize)]);
  return [Buffer.concat([clusterHead, timestamp, group, block]), Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), duration];
}
