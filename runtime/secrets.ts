/** Resolves a function's environment for the local target. */
import type { EnvValue } from "../sdk/spec";
import { RUNTIME_ENV } from "./contract";

/** The variable that holds secret `name` locally: `CLOUDLOOM_SECRET_<NAME>`, upper-cased, dashes as underscores. */
function secretVariable(name: string): string {
  return `${RUNTIME_ENV.secretPrefix}${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** Literal values as they are; secrets from the process environment. Missing secrets are listed, not invented. */
export function resolveEnvironment(
  environment: Record<string, EnvValue>,
  source: NodeJS.ProcessEnv = process.env,
): { env: Record<string, string>; missing: string[] } {
  const env: Record<string, string> = {};
  const missing: string[] = [];
  for (const [key, value] of Object.entries(environment)) {
    if (typeof value === "string") {
      env[key] = value;
      continue;
    }
    const found = source[secretVariable(value.secret)];
    if (found === undefined) missing.push(secretVariable(value.secret));
    else env[key] = found;
  }
  return { env, missing };
}
