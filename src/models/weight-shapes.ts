/** Parameter lists (state-dict names and shapes) of the networks, built per architecture from its config. */
export interface WeightShape {
  name: string;
  shape: number[];
}

/** The building blocks every network's list is made of; unet/ and vae/ extend it with their own blocks. */
export class ShapeList {
  readonly items: WeightShape[] = [];
  add(name: string, shape: number[]): void {
    this.items.push({ name, shape });
  }
  norm(prefix: string, c: number): void {
    this.add(`${prefix}.weight`, [c]);
    this.add(`${prefix}.bias`, [c]);
  }
  conv(prefix: string, cout: number, cin: number, kernel: number[]): void {
    this.add(`${prefix}.weight`, [cout, cin, ...kernel]);
    this.add(`${prefix}.bias`, [cout]);
  }
  linear(prefix: string, cout: number, cin: number, bias = true): void {
    this.add(`${prefix}.weight`, [cout, cin]);
    if (bias) this.add(`${prefix}.bias`, [cout]);
  }
}
