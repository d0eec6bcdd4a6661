/**
 * Metric values as JSON. JSON has no Infinity or NaN: PSNR of identical frames (+Infinity) and metrics that have no
 * pixels to average (NaN, e.g. Flow⁺ with a mask covering everything) become null, each with a note saying why.
 */
export interface MetricsJson {
  readonly metrics: Record<string, number | null>;
  readonly notes: string[];
}

/** A number JSON can hold, or null for ±Infinity / NaN. */
export function jsonNumber(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

export function metricsToJson(metrics: Readonly<Record<string, number | undefined>>): MetricsJson {
  const out: Record<string, number | null> = {};
  const notes: string[] = [];
  for (const [name, value] of Object.entries(metrics)) {
    if (value === undefined) continue;
    out[name] = jsonNumber(value);
    if (value === Infinity) notes.push(`${name} is +Infinity (identical frames, zero error); written as null`);
    else if (value === -Infinity) notes.push(`${name} is -Infinity; written as null`);
    else if (Number.isNaN(value)) notes.push(`${name} is undefined (nothing to average, e.g. a mask covering every pixel); written as null`);
  }
  return { metrics: out, notes };
}
