/**
 * How a gateway container on a cloud starts from its environment: the stack
 * hands it the spec, the endpoints map and its settings as environment
 * variables (and the Redis password as a secret the platform injects), and a
 * small bootstrap writes them to the files `cloudloom serve --spec --endpoints
 * --config` reads, then execs the runtime with `gatewayServeArgs`.
 *
 * These names belong with `runtime/contract.ts`; they live here until the
 * runtime reads them itself (`serve --spec-env/--endpoints-env/--config-env`).
 */
import { gatewayServeArgs, RUNTIME_ENTRYPOINT } from "../../runtime/contract";

/** Environment variables of a gateway container. */
export const GATEWAY_ENV = {
  /** The canonical Spec v1 JSON. */
  spec: "CLOUDLOOM_GATEWAY_SPEC",
  /** The endpoints map JSON (the stack's `endpoints` output). */
  endpoints: "CLOUDLOOM_GATEWAY_ENDPOINTS",
  /** Gateway settings JSON (gateway/config.ts), without secrets. */
  config: "CLOUDLOOM_GATEWAY_CONFIG",
  /** The Redis AUTH token; the bootstrap sets it as the password of `redis.url`. */
  redisAuthToken: "CLOUDLOOM_REDIS_AUTH_TOKEN",
} as const;

/** Where the bootstrap writes spec.json, endpoints.json and config.json (writable by the image's `node` user). */
export const GATEWAY_CONFIG_DIR = "/tmp/cloudloom";

/** Node script that writes the three files from the environment (config.json with mode 0600: it holds the token). */
export function gatewayBootstrapScript(configDir: string): string {
  const env = (key: keyof typeof GATEWAY_ENV) => `e[${JSON.stringify(GATEWAY_ENV[key])}]`;
  return [
    `const fs=require("fs"),e=process.env,d=${JSON.stringify(configDir)};`,
    `fs.mkdirSync(d,{recursive:true,mode:0o700});`,
    `fs.writeFileSync(d+"/spec.json",${env("spec")});`,
    `fs.writeFileSync(d+"/endpoints.json",${env("endpoints")});`,
    `const c=JSON.parse(${env("config")}||"{}");`,
    `if(c.redis&&${env("redisAuthToken")}){const u=new URL(c.redis.url);u.password=encodeURIComponent(${env("redisAuthToken")});c.redis.url=u.href}`,
    `fs.writeFileSync(d+"/config.json",JSON.stringify(c),{mode:0o600});`,
  ].join("");
}

/**
 * The container's entry point and command: `/bin/sh -c` runs the bootstrap
 * with node, then execs the runtime (PID 1, so SIGTERM drains it) with
 * `gatewayServeArgs(configDir)` plus `--config`.
 */
export function gatewayContainerCommand(
  configDir = GATEWAY_CONFIG_DIR,
  exec: readonly string[] = RUNTIME_ENTRYPOINT,
): { entryPoint: string[]; command: string[] } {
  return {
    entryPoint: ["/bin/sh", "-c", `node -e "$0" && exec ${exec.join(" ")} "$@"`, gatewayBootstrapScript(configDir)],
    command: [...gatewayServeArgs(configDir), "--config", `${configDir}/config.json`],
  };
}
