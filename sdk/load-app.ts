/**
 * Finds and loads a user's app module. `examples/support-desk`,
 * `examples/support-desk/app.ts` and a module exporting `app` all work.
 */
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { App } from "./app";

/** A failure to find or load an app, with a fix. */
export class AppLoadError extends Error {
  readonly code = "CL_APP_LOAD";
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = "AppLoadError";
  }
}

function resolveModule(location: string): string {
  const path = resolve(location);
  if (existsSync(path) && statSync(path).isDirectory()) {
    const candidate = ["app.ts", "index.ts"].map((file) => join(path, file)).find(existsSync);
    if (!candidate)
      throw new AppLoadError(
        `${location} has no app.ts or index.ts`,
        "point at the module that declares the app, e.g. examples/support-desk/app.ts",
      );
    return candidate;
  }
  if (!existsSync(path)) throw new AppLoadError(`${location} does not exist`, "check the path; it is resolved from the current directory");
  return path;
}

/** Loads the `App` a module exports as default or as `app`. */
export function loadApp(location: string): App {
  const modulePath = resolveModule(location);
  const exports = require(modulePath) as { default?: unknown; app?: unknown };
  const app = exports.default ?? exports.app;
  if (!(app instanceof App)) {
    throw new AppLoadError(`${modulePath} does not export an App`, "end the module with `export default app;` where app = new App(...)");
  }
  return app;
}
