/**
 * Tracing on a deployed target, from two stack settings read once for every
 * provider:
 *
 * - `cloudloom:tracing`, plain: where spans go (`endpoint`, the OTLP/HTTP
 *   traces URL), the share recorded (`sampleRatio`), the `service.namespace`
 *   of every process's spans, and, for Kubernetes, which peers the egress
 *   NetworkPolicy lets pods reach (`collector`);
 * - `cloudloom:tracingHeaders`, a secret: the headers of every export (a
 *   collector's API key), which reach what is deployed only through each
 *   target's secret store, never as a literal in a resource's inputs.
 *
 * What each process is given is the standard OTEL_* variables (TRACING_ENV),
 * which the gateway, pods and serverless functions all read (runtime/telemetry.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { TRACING_ENV } from "../../runtime/contract";
import { TargetConfigError } from "./config-error";

/**
 * Who the Kubernetes pods may reach the collector at, besides its port: the
 * collector's address ranges, or its namespace (and, within it, its pods' labels).
 */
export interface CollectorPeers {
  /** IPv4 or IPv6 CIDRs of the collector (a SaaS endpoint's published ranges, or the in-VPC collector's). */
  cidrs?: string[];
  /** The namespace of an in-cluster collector. */
  namespace?: string;
  /** The collector's pod labels in `namespace`. @default every pod of the namespace */
  podLabels?: Record<string, string>;
}

/** Tracing on a deployed target, read from the stack's settings. */
export interface TracingSettings {
  /** The URL spans are posted to (OTLP/HTTP), e.g. `http://otel-collector.observability:4318/v1/traces`. */
  endpoint: string;
  /** The share of traces recorded, 0 to 1, chosen by trace id. @default 1 */
  sampleRatio: number;
  /** The `service.namespace` of every process's spans. @default the app's name */
  serviceNamespace?: string;
  /** On Kubernetes: the peers the egress NetworkPolicy allows; required there. */
  collector?: CollectorPeers;
  /** The value of OTEL_EXPORTER_OTLP_HEADERS (`name=value`, comma-separated, percent-encoded), a Pulumi secret. */
  headers?: pulumi.Output<string>;
}

/** How the settings are read (the registry's `TargetSettings`). */
export interface TracingSettingsSource {
  get(key: string): string | undefined;
  getSecret(key: string): pulumi.Output<string> | undefined;
  secretKeys(key: string): string[] | undefined;
}

/** A `cloudloom:tracing` or `cloudloom:tracingHeaders` value that cannot be used; the message names the field and the fix. */
export class TracingSettingError extends TargetConfigError {
  constructor(message: string) {
    super(message, "CL_TRACING_SETTING");
    this.name = "TracingSettingError";
  }
}

const EXAMPLE =
  "pulumi config set --path 'cloudloom:tracing.endpoint' http://otel-collector.observability:4318/v1/traces (and optionally tracing.sampleRatio 0.1)";

/** An http(s) URL without credentials (which would sit in plain text in every process's environment). */
const EndpointSchema = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: "is not a URL; give the collector's OTLP/HTTP traces URL" });
    return;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be an http:// or https:// URL (OTLP/HTTP), not ${url.protocol}` });
  else if (url.username || url.password)
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message:
        "must not hold credentials, which every process would carry in plain text; put them in the secret cloudloom:tracingHeaders (pulumi config set --secret --path 'cloudloom:tracingHeaders.authorization' ...)",
    });
  else if (url.hash) ctx.addIssue({ code: z.ZodIssueCode.custom, message: "must not have a #fragment" });
});

/** A ratio, from JSON's number or the string `pulumi config set --path` may store. */
const RatioSchema = z.preprocess(
  (value) => (typeof value === "string" && value.trim() !== "" ? Number(value) : value),
  z
    .number({ invalid_type_error: "must be a number from 0 to 1 (the share of traces recorded)" })
    .min(0, "must be a number from 0 to 1 (the share of traces recorded)")
    .max(1, "must be a number from 0 to 1 (the share of traces recorded)"),
);

/** A CIDR that is not every address: an operator signs off a range, not the internet. */
const CidrSchema = z.string().superRefine((value, ctx) => {
  let prefix: number;
  try {
    prefix = ipaddr.parseCIDR(value)[1];
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${value}" is not a CIDR such as 10.0.5.0/24` });
    return;
  }
  if (prefix === 0) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${value}" is every address; name the collector's own ranges` });
});

/** An RFC 1123 label: a namespace's name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A Kubernetes label key (optional DNS prefix, then a name) and value. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

const CollectorSchema = z
  .object({
    cidrs: z.array(CidrSchema).min(1, "must list at least one CIDR").optional(),
    namespace: z.string().regex(DNS_LABEL, "must be a namespace name such as observability").optional(),
    podLabels: z
      .record(z.string().regex(LABEL_KEY, "must be label keys"), z.string().regex(LABEL_VALUE, "must be label values"))
      .optional(),
  })
  .strict()
  .superRefine((collector, ctx) => {
    if ((collector.cidrs === undefined) === (collector.namespace === undefined))
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: "must name either cidrs (the collector's address ranges) or namespace (an in-cluster collector's), not both",
      });
    if (collector.podLabels !== undefined && collector.namespace === undefined)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["podLabels"], message: "selects pods of collector.namespace, which is not set" });
  });

const TracingSchema = z
  .object({
    endpoint: EndpointSchema,
    sampleRatio: RatioSchema.optional(),
    serviceNamespace: z
      .string()
      .regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, "must be letters, digits, '-', '_' or '.' (63 at most)")
      .optional(),
    collector: CollectorSchema.optional(),
  })
  .strict();

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;

/** The longest header value accepted: a collector's API key or bearer token, not a document. */
export const MAX_TRACING_HEADER_LENGTH = 4096;

/**
 * Parses `cloudloom:tracing` (absent: tracing off) and, with it, the names of
 * `cloudloom:tracingHeaders` and its secret value; throws a TracingSettingError
 * naming the field for anything that cannot be used.
 */
export function parseTracingSettings(
  json: string | undefined,
  headers?: { names: string[]; values: pulumi.Output<string> },
): TracingSettings | undefined {
  if (json === undefined) {
    if (headers)
      throw new TracingSettingError(
        `stack config cloudloom:tracingHeaders is set but cloudloom:tracing is not, so spans go nowhere; set the endpoint: ${EXAMPLE}`,
      );
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    raw = json;
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new TracingSettingError(`stack config cloudloom:tracing must be an object with an endpoint; ${EXAMPLE}`);
  const parsed = TracingSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.length > 0 ? `.${issue.path.join(".")}` : "";
    throw new TracingSettingError(`stack config cloudloom:tracing${field} ${issue.message}; ${EXAMPLE}`);
  }
  const { endpoint, sampleRatio, serviceNamespace, collector } = parsed.data;
  return {
    endpoint,
    sampleRatio: sampleRatio ?? 1,
    ...(serviceNamespace !== undefined ? { serviceNamespace } : {}),
    ...(collector !== undefined ? { collector } : {}),
    ...(headers ? { headers: exportHeaders(headers.names, headers.values) } : {}),
  };
}

const HEADERS_FIX = "pulumi config set --secret --path 'cloudloom:tracingHeaders.<header>' <value>";

/** The header names checked now, the values once known: OTEL_EXPORTER_OTLP_HEADERS's value, a Pulumi secret. */
function exportHeaders(names: string[], json: pulumi.Output<string>): pulumi.Output<string> {
  if (names.length === 0) throw new TracingSettingError(`stack config cloudloom:tracingHeaders names no header; ${HEADERS_FIX}`);
  const wrong = names.find((name) => !HEADER_NAME.test(name));
  if (wrong !== undefined)
    throw new TracingSettingError(
      `stack config cloudloom:tracingHeaders.${wrong} is not an HTTP header name (letters, digits, -); ${HEADERS_FIX}`,
    );
  return pulumi.secret(json.apply(encodeExportHeaders));
}

/**
 * OTEL_EXPORTER_OTLP_HEADERS's value from `cloudloom:tracingHeaders`' JSON:
 * `name=value` pairs, comma-separated, each part percent-encoded (the
 * exporter decodes them, W3C Baggage's format, so any character survives).
 * Throws a TracingSettingError naming the header, never its value.
 */
export function encodeExportHeaders(json: string): string {
  let values: unknown;
  try {
    values = JSON.parse(json);
  } catch {
    values = undefined;
  }
  if (typeof values !== "object" || values === null || Array.isArray(values))
    throw new TracingSettingError(`stack config cloudloom:tracingHeaders must be an object of header name → value; ${HEADERS_FIX}`);
  return Object.entries(values as Record<string, unknown>)
    .map(([name, value]) => {
      if (!HEADER_NAME.test(name))
        throw new TracingSettingError(
          `stack config cloudloom:tracingHeaders.${name} is not an HTTP header name (letters, digits, -); ${HEADERS_FIX}`,
        );
      if (typeof value !== "string" || value.trim() === "" || value.length > MAX_TRACING_HEADER_LENGTH)
        throw new TracingSettingError(
          `stack config cloudloom:tracingHeaders.${name} must be a string of 1 to ${MAX_TRACING_HEADER_LENGTH} characters; ${HEADERS_FIX}`,
        );
      return `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
    })
    .join(",");
}

/** Reads `cloudloom:tracing` and `cloudloom:tracingHeaders` from a stack's settings. */
export function readTracingSettings(settings: TracingSettingsSource): TracingSettings | undefined {
  const names = settings.secretKeys("tracingHeaders");
  const values = settings.getSecret("tracingHeaders");
  return parseTracingSettings(settings.get("tracing"), names && values ? { names, values } : undefined);
}

/**
 * The plain OTEL_* variables of every traced process of `app` (none without
 * tracing): where spans go,
 * the sampler (a process behind the gateway follows the gateway's decision),
 * and the spans' `service.namespace`. The headers are not among them: each
 * target hands OTEL_EXPORTER_OTLP_HEADERS over from its secret store.
 */
export function tracingEnvironment(tracing: TracingSettings | undefined, app: string): Record<string, string> {
  if (!tracing) return {};
  return {
    [TRACING_ENV.tracesEndpoint]: tracing.endpoint,
    [TRACING_ENV.sampler]: "parentbased_traceidratio",
    [TRACING_ENV.samplerArg]: String(tracing.sampleRatio),
    [TRACING_ENV.resourceAttributes]: `service.namespace=${encodeURIComponent(tracing.serviceNamespace ?? app)}`,
  };
}

/** The TCP port spans are posted to: the endpoint's own, else its scheme's. */
export function collectorPort(tracing: Pick<TracingSettings, "endpoint">): number {
  const url = new URL(tracing.endpoint);
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

/** The variable the export headers arrive in, from a target's secret store. */
export const TRACING_HEADERS_ENV = TRACING_ENV.headers;
