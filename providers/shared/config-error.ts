/** The error every target throws for a stack setting that is missing or wrong. */

/** Thrown for a target with no provider in this version, or a setting a target needs. */
export class TargetConfigError extends Error {
  readonly code = "CL_TARGET_CONFIG";
  constructor(message: string) {
    super(message);
    this.name = "TargetConfigError";
  }
}
