/**
 * Tracing on Kubernetes (stack config `cloudloom:tracing`): every function,
 * model and gateway pod gets the OTEL_* variables, the export headers (a
 * collector's API key) by reference to the Secret `<app>-tracing`, never as
 * a value in a pod spec; network-policy.ts lets exactly those pods reach the
 * collector's port at the peers the setting names.
 */
import * as core from "@pulumi/kubernetes/core/v1";
import type * as input from "@pulumi/kubernetes/types/input";
import { fillInAnnotation } from "../shared/fill-in";
import { entryLabels } from "../shared/labels";
import { resourceName } from "../shared/naming";
import { TracingSettingError, tracingEnvironment, TRACING_HEADERS_ENV, type TracingSettings } from "../shared/tracing";
import type { KubernetesContext } from "./context";

/** The name of the Secret holding the export headers. */
export const tracingSecretName = (app: string): string => resourceName(app, "tracing");

/** The Secret's key holding OTEL_EXPORTER_OTLP_HEADERS's value. */
export const TRACING_HEADERS_KEY = "headers";

/** The container variables of a traced pod of `app`: the plain OTEL_* values, and the headers from the Secret. */
export function tracingEnv(tracing: TracingSettings | undefined, app: string): input.core.v1.EnvVar[] {
  const plain = Object.entries(tracingEnvironment(tracing, app)).map(([name, value]) => ({ name, value }));
  return tracing?.headers
    ? [...plain, { name: TRACING_HEADERS_ENV, valueFrom: { secretKeyRef: { name: tracingSecretName(app), key: TRACING_HEADERS_KEY } } }]
    : plain;
}

/** Refuses, before any resource, tracing that no egress rule could let out of the app's namespace (it denies all egress). */
export function checkTracing(tracing: TracingSettings | undefined): void {
  if (tracing && !tracing.collector)
    throw new TracingSettingError(
      "stack config cloudloom:tracing.collector is required where the app runs pods (Kubernetes; EKS, ACK and Wavelength models): their namespace denies all egress, and they may reach the collector only at the peers you name; " +
        "pulumi config set --path 'cloudloom:tracing.collector.namespace' observability (an in-cluster collector) or --path 'cloudloom:tracing.collector.cidrs[0]' 10.0.5.0/24",
    );
}

/** The Secret `<app>-tracing` holding the export headers, when the stack sets them (the regions step calls this after the namespace). */
export function placeTracingSecret(context: KubernetesContext): void {
  const headers = context.args.tracing?.headers;
  if (!headers) return;
  const app = context.spec.app;
  new core.Secret(
    tracingSecretName(context.name),
    {
      metadata: {
        name: tracingSecretName(app),
        namespace: context.namespace!,
        labels: entryLabels(app, "app", app),
        annotations: fillInAnnotation({
          [TRACING_HEADERS_KEY]: "cloudloom:tracingHeaders (name=value pairs, comma-separated, each percent-encoded)",
        }),
      },
      type: "Opaque",
      // A Pulumi secret: encrypted in the state, referenced by name from every traced pod.
      stringData: { [TRACING_HEADERS_KEY]: headers },
    },
    context.child,
  );
}
