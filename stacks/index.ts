/**
 * The Pulumi program (`pulumi up` at the repository root). Stack config:
 *   cloudloom:target   kubernetes (aws and alicloud as their providers land)
 *   cloudloom:app      path of the app module, e.g. examples/support-desk
 *   plus the target's own settings (see providers/<target>/README.md).
 * The spec is validated for the target before any resource is created.
 */
import * as pulumi from "@pulumi/pulumi";
import { resolve } from "node:path";
import { loadApp, SpecError } from "../sdk";
import { factoryFor } from "../providers/registry";

const config = new pulumi.Config("cloudloom");
const target = config.require("target");
const app = loadApp(resolve(__dirname, "..", config.require("app")));

const factory = factoryFor(target);
const problems = app.problems({ target });
if (problems.length > 0) throw new SpecError(app.name, problems);

/** Every endpoint the gateway needs; `cloudloom gateway config` turns it into the gateway's endpoints file. */
export const endpoints = factory(app.toDraft(), { get: (key) => config.get(key), getSecret: (key) => config.getSecretObject<string>(key) });
