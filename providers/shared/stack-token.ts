/**
 * Tokens a stack's config may set, each at least 16 characters (what the
 * gateway takes): `cloudloom:demandToken`, `cloudloom:metricsToken`. Absent,
 * each target generates one once per stack and keeps it in its secret store.
 */
import { randomBytes } from "node:crypto";
import { TargetConfigError } from "./config-error";

/** The stack settings that hold a token. */
export type StackTokenSetting = "demandToken" | "metricsToken";

/** Refuses a configured token the gateway would refuse (it takes 16 characters or more). */
export function checkStackToken(setting: StackTokenSetting, value: string): string {
  if (value.trim().length < 16)
    throw new TargetConfigError(
      `stack config cloudloom:${setting} must be at least 16 characters; set it with: pulumi config set --secret cloudloom:${setting} $(openssl rand -hex 24)`,
    );
  return value;
}

/** A new token: 24 random bytes in hex. A target generates it once and keeps it (ignoreChanges on where it holds it). */
export const generatedToken = (): string => randomBytes(24).toString("hex");
