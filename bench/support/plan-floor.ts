/**
 * Pulumi's own floor under the mock runtime: plans N trivial resources (three
 * small inputs, no dependencies) with the same offline planner, in its own
 * process. Prints `{ ms, cpuMs, resources }`; the plan bench compares each target's
 * plan with the floor for as many resources.
 */
import * as pulumi from "@pulumi/pulumi";
import { planUnderMocks } from "../../providers/plan";

const count = Number(process.argv[2]);

/** The smallest custom resource there is. */
class Thing extends pulumi.CustomResource {
  constructor(name: string) {
    super("floor:index:Thing", name, { name, size: 1 });
  }
}

void (async () => {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { resources } = await planUnderMocks(() => pulumi.all(Array.from({ length: count }, (_, i) => new Thing(`thing-${i}`).urn)));
  const { user, system } = process.cpuUsage(cpu);
  console.log(JSON.stringify({ ms: performance.now() - started, cpuMs: (user + system) / 1000, resources: resources.length }));
})();
