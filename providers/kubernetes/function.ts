/**
 * Functions on Kubernetes: one workload per function per region, running the
 * function's handler in the cloudloom runtime, sized like a Lambda function
 * (CPU grows with memory), calling its models over their in-cluster URLs.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as input from "@pulumi/kubernetes/types/input";
import { calledModelRegion, endpointUrl } from "../../sdk/spec";
import { CONTAINER_PORT, podServeArgs } from "../../runtime/contract";
import { recordEndpoint } from "../shared/endpoints";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import type { KubernetesContext } from "./context";
import { demandReportEnv } from "./demand-reports";
import { gatewayDemand } from "./gateway";
import { containerEnv, functionResources, healthProbes } from "./pod";
import { SPEC_DIR, secretsName, specMount, specVolume } from "./region";
import { restrictedContainer, RUNTIME_USER, withEphemeralStorage } from "./security";
import { queueWorker } from "./queues";
import { placeWorkload } from "./workload";

function functionPodSpec(
  context: KubernetesContext,
  name: string,
  region: string,
  queueEnv: input.core.v1.EnvVar[],
): input.core.v1.PodSpec {
  const fn = context.spec.functions[name];
  const scheduling = context.regions.get(region)!;
  const modelUrls = fn.models.flatMap((key) => {
    // The region the runtime counts the calls toward, too (calledModelRegion).
    const url = context.endpoints.models[key]?.[calledModelRegion(context.spec.models[key], region)];
    return url ? [pulumi.interpolate`${key}=${url.apply(endpointUrl)}`] : [];
  });
  return {
    ...scheduling,
    volumes: [specVolume(context.spec.app)],
    containers: [
      restrictedContainer(
        {
          name: "function",
          image: context.args.functionImage,
          args: podServeArgs({ spec: `${SPEC_DIR}/spec.json`, only: `function:${name}`, region, root: "/app", modelUrls }),
          ports: [{ name: "http", containerPort: CONTAINER_PORT }],
          env: [...containerEnv(fn.environment, secretsName(context.spec.app)), ...queueEnv, ...demandReportEnv(context, name)],
          volumeMounts: [specMount],
          resources: withEphemeralStorage(functionResources(fn.memory)),
          ...healthProbes(),
        },
        RUNTIME_USER,
      ),
    ],
  };
}

/** The functions step: a `cloudloom:kubernetes:Function` workload per function per region. */
export function placeFunctions(context: KubernetesContext): void {
  for (const [fnName, fn] of Object.entries(context.spec.functions)) {
    for (const region of fn.regions) {
      const labels = entryLabels(context.spec.app, "function", fnName, { "cloudloom.dev/region": region });
      const name = resourceName(context.name, "fn", fnName, region);
      // The function's pods in its home region work its queue, when it is asynchronous.
      const worker = queueWorker(context, "function", fnName, region, fn.concurrency);
      const url = placeWorkload(
        context,
        "Function",
        name,
        labels,
        functionPodSpec(context, fnName, region, worker?.env ?? []),
        fn.scaling,
        undefined,
        gatewayDemand(context, "function", fnName, region),
        worker?.queue,
      );
      recordEndpoint(context.endpoints.functions, fnName, region, url);
    }
  }
}
