/**
 * The scheduler config published with stabilityai/stable-video-diffusion-img2vid (scheduler/scheduler_config.json),
 * built in so that schedules can be computed without a downloaded model.
 */
export const SVD_SCHEDULER_CONFIG = {
  _class_name: 'EulerDiscreteScheduler',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  interpolation_type: 'linear',
  num_train_timesteps: 1000,
  prediction_type: 'v_prediction',
  set_alpha_to_one: false,
  sigma_max: 700.0,
  sigma_min: 0.002,
  skip_prk_steps: true,
  steps_offset: 1,
  timestep_spacing: 'leading',
  timestep_type: 'continuous',
  trained_betas: null,
  use_karras_sigmas: true,
} as const;
