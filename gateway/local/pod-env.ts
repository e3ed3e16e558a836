/**
 * The environment variables a cloudloom pod reads, as one contract that the
 * providers which set them, the policies which check them and the runtime
 * which reads them all import (this module has no dependencies, so planning
 * a stack does not load the runtime).
 */

/** The model version a version-agnostic pod serves (`{version}` in `cloudloom serve`'s arguments). */
export const MODEL_VERSION_VARIABLE = "CLOUDLOOM_MODEL_VERSION";

/** What makes a pod require the gateway's JWT: the public JWKS, the issuer and the pod's audience. */
export const JWT_ENV = { jwks: "CLOUDLOOM_JWT_JWKS", issuer: "CLOUDLOOM_JWT_ISSUER", audience: "CLOUDLOOM_JWT_AUDIENCE" } as const;
