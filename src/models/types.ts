/**
 * The network-agnostic interface between the Videoshop pipeline and the three SVD networks.
 * The pipeline only ever talks to these; `models/` provides ONNX Runtime implementations built from
 * diffusers weights, and tests provide analytic stand-ins whose exact answers are known.
 */
import type { Tensor } from '../tensor.js';

/** Inputs of one call of the denoiser network F_θ (diffusers' UNetSpatioTemporalConditionModel). */
export interface DenoiserInput {
  /**
   * [batch, frames, 2·latentChannels, h, w]: the noisy latents already scaled by c_in(σ),
   * concatenated on the channel axis with the conditioning-frame latents (repeated over frames).
   */
  readonly sample: Tensor;
  /** c_noise(σ) = 0.25·ln σ for SVD: one scalar shared by the whole batch. */
  readonly timestep: number;
  /** [batch, 1, embedDim]: the image embedding of the conditioning frame (zeros for the unconditional branch). */
  readonly encoderHiddenStates: Tensor;
  /** [batch, 3]: fps − 1, motion bucket id, noise-augmentation strength. */
  readonly addedTimeIds: Tensor;
}

export interface Denoiser {
  /** Latent channels of x (SVD: 4); the network's input has twice as many (x and the conditioning latents). */
  readonly latentChannels: number;
  /** Frames the network was trained on (SVD: 14, -xt: 25); blocks of a long video use at most this many. */
  readonly numFrames: number;
  /** Returns the raw network output F_θ, [batch, frames, latentChannels, h, w] (v-prediction for SVD). */
  predict(input: DenoiserInput): Promise<Tensor>;
}

/** diffusers' AutoencoderKLTemporalDecoder, seen from the pipeline. */
export interface VideoAutoencoder {
  readonly latentChannels: number;
  /** Pixels per latent along each side (SVD: 8). */
  readonly downscale: number;
  /** Latents are multiplied by this after encoding and divided by it before decoding (SVD: 0.18215). */
  readonly scalingFactor: number;
  /**
   * Encode frames [n, 3, H, W] with values in [-1, 1] to the mode of the latent distribution,
   * [n, latentChannels, H/downscale, W/downscale], NOT multiplied by the scaling factor.
   */
  encode(frames: Tensor): Promise<Tensor>;
  /**
   * Decode latents [n, latentChannels, h, w] (already divided by the scaling factor) of one clip of
   * `numFrames` consecutive frames (n = numFrames) to frames [n, 3, H, W] in roughly [-1, 1].
   */
  decode(latents: Tensor, numFrames: number): Promise<Tensor>;
  /** Frees the encoder's memory until the next `encode` (optional: implementations without sessions skip it). */
  releaseEncoder?(): Promise<void>;
}

/** transformers' CLIPVisionModelWithProjection with SVD's preprocessing, seen from the pipeline. */
export interface ImageEmbedder {
  readonly embedDim: number;
  /** Embed one image [3, H, W] with values in [-1, 1] (any size: the embedder resizes it). Returns [embedDim]. */
  embed(image: Tensor): Promise<Float32Array>;
  /** Frees the network's memory until the next `embed` (optional). */
  release?(): Promise<void>;
}

export interface VideoshopModels {
  readonly denoiser: Denoiser;
  readonly vae: VideoAutoencoder;
  readonly imageEmbedder: ImageEmbedder;
}
