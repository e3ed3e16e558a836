/** The error every target throws for a stack setting that is missing or wrong. */

/** Thrown for a target with no provider in this version, or a setting a target needs. */
export class TargetConfigError extends Error {
  constructor(
    message: string,
    /** The stable code docs/errors.md explains: `CL_TARGET_CONFIG`, or a setting's own (`CL_TRACING_SETTING`). */
    readonly code: "CL_TARGET_CONFIG" | "CL_TRACING_SETTING" = "CL_TARGET_CONFIG",
  ) {
    super(message);
    this.name = "TargetConfigError";
  }
}
