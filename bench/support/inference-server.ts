/**
 * Serves the large model twice, batching on and off, in its own process (so
 * that the server and the load generator do not share an event loop), and
 * the batched one again behind a cached route, for the prober. Prints the
 * port on stdout.
 */
import pino from "pino";
import { parseSettings } from "../../gateway/config";
import { LocalTarget } from "../../cli/local-target";
import { App } from "../../sdk";

const [root, sha256] = process.argv.slice(2);
const app = new App("bench", { root });
const central = app.region("central", { kind: "central", placement: {} });
const single = app.scalingPolicy("single", { minInstances: 1, maxInstances: 1, targetConcurrency: 1 });
const signature = {
  inputs: { features: { type: "float32" as const, shape: [-1, 512] } },
  outputs: { probabilities: { type: "float32" as const, shape: [-1, 5] } },
};
const artifact = { path: "large.onnx", sha256 };
const on = app.model("batched", {
  version: "1",
  artifact,
  signature,
  regions: [central],
  scaling: single,
  batching: { maxBatchSize: 64, maxDelay: "2 ms", maxQueue: 4096 },
});
const off = app.model("unbatched", {
  version: "1",
  artifact,
  signature,
  regions: [central],
  scaling: single,
  batching: { maxBatchSize: 1, maxDelay: "1 ms", maxQueue: 4096 },
});
app.route("POST /on", { target: on, auth: "none" });
app.route("POST /off", { target: off, auth: "none" });
app.route("POST /cached", { target: on, auth: "none", cache: { ttl: "1 hour" } });

// The load generator and the prober share one client address: let them hold more than the default 64 requests.
const settings = parseSettings({ limits: { perKeyConcurrency: 1024 } });
const gateway = new LocalTarget({ spec: app.toSpec(), root, settings, logger: pino({ level: "silent" }) });
void gateway.listen(0).then((address) => console.log(address.port));
process.on("SIGTERM", () => void gateway.close().then(() => process.exit(0)));
