/**
 * esbuild runs over entry modules that exist only in memory (each function's
 * handler wrapped by its platform's adapter, see bundle.ts), which a plugin
 * hands to esbuild. esbuild asks the plugin for every entry over its
 * service's pipe, so a run in the main thread stands still while the thread
 * is busy, and a program builds its resources in one synchronous stretch
 * (1,000 functions: seconds). A large app's run goes to a worker thread
 * instead, whose event loop is free to answer the plugin meanwhile.
 *
 * This module imports only esbuild: the worker loads it, and nothing else.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { build, type BuildOptions } from "esbuild";

/** One esbuild run: its options, and its in-memory entry modules, by path in `namespace`. */
export interface EntryBundleJob {
  /** Options that a worker can receive (no plugins, no functions). */
  options: BuildOptions;
  /** The entries' namespace: `<namespace>:<path>` in `entryPoints` names an entry. */
  namespace: string;
  entries: Record<string, { contents: string; resolveDir: string }>;
}

/** What a worker posts back: each output file's text by path, or why the run failed. */
type WorkerResult = { files: Record<string, string> } | { error: string };

/** The key of a job in a worker's `workerData`. */
const JOB = "cloudloomEntryBundleJob";

/** Runs `job` in this thread; resolves to each output file's text, by path. */
export async function bundleEntries(job: EntryBundleJob): Promise<Record<string, string>> {
  const prefix = `${job.namespace}:`;
  const result = await build({
    ...job.options,
    write: false,
    plugins: [
      {
        name: job.namespace,
        setup(esbuild) {
          esbuild.onResolve({ filter: new RegExp(`^${job.namespace}:`) }, (args) => ({
            path: args.path.slice(prefix.length),
            namespace: job.namespace,
          }));
          esbuild.onLoad({ filter: /.*/, namespace: job.namespace }, (args) => ({ ...job.entries[args.path], loader: "ts" }));
        },
      },
    ],
  });
  return Object.fromEntries(result.outputFiles.map((file) => [file.path, file.text]));
}

/** Runs `job` in a worker thread (see above); rejects with esbuild's message if the run fails. */
export function bundleEntriesInWorker(job: EntryBundleJob): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    // The worker runs this module: compiled by tsx in a checkout, as it is from an installed package.
    // It gets none of the parent's flags (`--import tsx`, profilers).
    const worker = new Worker(__filename, {
      execArgv: __filename.endsWith(".ts") ? ["--require", require.resolve("tsx/cjs")] : [],
      workerData: { [JOB]: job },
    });
    worker.once("message", (result: WorkerResult) => {
      if ("files" in result) resolve(result.files);
      else reject(new Error(result.error));
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the bundling worker exited with code ${code} before it answered`)));
  });
}

// In a bundling worker: run the job, and post its files or why it failed.
if (!isMainThread && parentPort && workerData?.[JOB]) {
  const port = parentPort;
  bundleEntries(workerData[JOB] as EntryBundleJob).then(
    (files) => port.postMessage({ files } satisfies WorkerResult),
    (error: unknown) => port.postMessage({ error: error instanceof Error ? error.message : String(error) } satisfies WorkerResult),
  );
}
