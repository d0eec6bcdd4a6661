/**
 * How a video's pixels become RGB: which YUV matrix and range (from the tags, or what players assume), and the
 * ffmpeg filter that converts them. Measured on ffmpeg 5.1 against lossless RGB originals (1280×720 testsrc2,
 * converted to YUV with tags, tests/oracle/video_decode.py re-checks with an independent decoder):
 *
 * - RGB sources (gbrp, rgb24, pal8…) converted to rgb24 are bit-exact; to rgb48 too.
 * - YUV → rgb24 with the matrix and range given explicitly and swscale's default flags is what
 *   `ffmpeg -pix_fmt rgb24` gives on a tagged file (identical bytes). Mean |error| against the original,
 *   8-bit levels: 4:2:0 0.83 (BT.709) / 0.66 (BT.601), full range 0.75, 4:2:2 0.60, 4:4:4 0.49 (max 2, the
 *   YUV quantization itself). `accurate_rnd+full_chroma_int` (what we used before) is worse at colour edges:
 *   4:2:0 1.53 mean, 172 max (default flags: 37 max); explicit chroma siting (`in_h_chr_pos`) only matters on that
 *   path and made it worse still, so the default flags win and siting tags are not used.
 * - swscale's 16-bit RGB output from YUV tops out at 65283, not 65535 (white of a 10-bit source; grey 254 of an
 *   8-bit one comes out as 253.02 — the 1.13-level error of the old 8-bit reader): deep YUV sources are read as
 *   rgb48 and rescaled by 65535/65283 (`rgb48FullScale`), which leaves < 0.5 of a 16-bit step of gain error.
 */
import type { VideoInfo } from './probe.js';

export type YuvMatrix = 'bt709' | 'bt601' | 'bt2020' | 'smpte240m' | 'fcc';

/** True for pixel formats that are RGB (or palette/grey) already: no matrix involved. */
export function isRgbPixFmt(pixFmt: string): boolean {
  return /^(?:rgb|bgr|gbr|argb|abgr|0rgb|0bgr|pal8|monow|monob|x2rgb|x2bgr)/.test(pixFmt);
}

/**
 * The YUV → RGB matrix: from the `color_space` tag; untagged video (and `unknown`) as players do it: BT.709 from
 * 720 lines (or 1280 columns) up, BT.601 below.
 */
export function yuvMatrix(info: Pick<VideoInfo, 'colour' | 'codedWidth' | 'codedHeight'>): YuvMatrix {
  switch (info.colour.space) {
    case 'bt709':
      return 'bt709';
    case 'smpte170m':
    case 'bt470bg':
      return 'bt601';
    case 'bt2020nc':
    case 'bt2020c':
      return 'bt2020';
    case 'smpte240m':
      return 'smpte240m';
    case 'fcc':
      return 'fcc';
    default:
      return info.codedHeight >= 720 || info.codedWidth >= 1280 ? 'bt709' : 'bt601';
  }
}

/** `pc` (full, 0–255) or `tv` (limited, 16–235): from the tag; JPEG-style pixel formats are full range. */
export function yuvRange(info: Pick<VideoInfo, 'colour' | 'pixFmt'>): 'tv' | 'pc' {
  if (info.colour.range === 'pc' || info.colour.range === 'jpeg') return 'pc';
  if (info.colour.range === 'tv' || info.colour.range === 'mpeg') return 'tv';
  return /^yuvj/.test(info.pixFmt) ? 'pc' : 'tv';
}

/** Whether frames are read at 16 bits (sources above 8 bits) or 8 (the rest, bit-exact to ffmpeg's rgb24). */
export function readsDeep(info: Pick<VideoInfo, 'bitDepth'>): boolean {
  return info.bitDepth > 8;
}

/** The value white has in the rgb48 frames the reader asks for (see the header: 65283 from YUV, else 65535). */
export function rgb48FullScale(info: Pick<VideoInfo, 'pixFmt'>): number {
  return isRgbPixFmt(info.pixFmt) || /^gray/.test(info.pixFmt) ? 65535 : 65283;
}

/** The filter that converts decoded frames (already rotated by ffmpeg) to interleaved RGB at their own size. */
export function toRgbFilter(info: Pick<VideoInfo, 'colour' | 'pixFmt' | 'codedWidth' | 'codedHeight' | 'bitDepth'>): string {
  const format = readsDeep(info) ? 'rgb48le' : 'rgb24';
  if (isRgbPixFmt(info.pixFmt)) return `format=${format}`;
  const range = yuvRange(info);
  if (/^gray|^ya/.test(info.pixFmt)) return `scale=in_range=${range},format=${format}`;
  return `scale=in_color_matrix=${yuvMatrix(info)}:in_range=${range},format=${format}`;
}
