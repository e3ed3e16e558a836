/**
 * The endpoints map: where each function and model version is reachable,
 * per region. Stack outputs write it; the gateway reads it; the local target
 * makes its own.
 */
import { z } from "zod";

/** How the gateway must sign requests to an endpoint (AWS SigV4, for IAM-auth Function URLs and SageMaker). */
export interface Sigv4Signing {
  service: string;
  region: string;
}

/** The JWT a backend accepts (Alibaba Cloud FC triggers with JWT auth): RS256, with this issuer and audience. */
export interface JwtAuth {
  issuer: string;
  audience: string;
}

/**
 * One endpoint: a base URL (the gateway appends the internal path), or a URL
 * with options: `exact` sends requests to the URL's own path, `sigv4` signs
 * them, `jwt` carries a short-lived token.
 */
export type Endpoint = string | { url: string; exact?: boolean; sigv4?: Sigv4Signing; jwt?: JwtAuth };

/**
 * Where a deployed asynchronous entry's queue is, for the gateway in front of
 * the stack: `redis`, BullMQ on the gateway's own Redis (Kubernetes); `sqs`,
 * an SQS queue and the DynamoDB table of its invocations (AWS; the endpoints
 * are for tests, and VPC endpoints without private DNS); `fc`, Function
 * Compute's asynchronous invocation of the function (the one in `functions`
 * for the entry's home region), its tasks read from FC's API `api`
 * (`<account>.<region>.fc.aliyuncs.com`; `protocol` http only for a stand-in).
 */
export type QueueEndpoint =
  | { kind: "redis" }
  | { kind: "sqs"; queueUrl: string; region: string; table: string; sqsEndpoint?: string; dynamodbEndpoint?: string }
  | { kind: "fc"; api: string; functionName: string; qualifier: string; protocol?: "https" | "http" };

/** `{ functions: { name: { region: endpoint } }, models: { "name@version": { region: endpoint } } }`. */
export interface EndpointsMap {
  functions: Record<string, Record<string, Endpoint>>;
  models: Record<string, Record<string, Endpoint>>;
  /**
   * By route key (`"POST /v1/rank"`): where the backend itself splits the
   * route's traffic between the model's versions with the route's weights (an
   * FC alias with `additionalVersionWeight`). The gateway sends such a route's
   * calls there, to the model's version-less path, instead of splitting them.
   */
  canaries?: Record<string, Record<string, Endpoint>>;
  /** By asynchronous entry (`function:<name>`, `model:<name@version>`, as `asyncEntryKey` writes them): where its queue is. */
  queues?: Record<string, QueueEndpoint>;
}

/** The URL of an endpoint, whichever form it is written in. */
export function endpointUrl(endpoint: Endpoint): string {
  return typeof endpoint === "string" ? endpoint : endpoint.url;
}

const url = z.string().url();
/** One endpoint: a base URL, or a URL with options (see `Endpoint`). */
export const EndpointSchema = z.union([
  url,
  z
    .object({
      url,
      exact: z.boolean().optional(),
      sigv4: z
        .object({ service: z.string().min(1), region: z.string().min(1) })
        .strict()
        .optional(),
      jwt: z
        .object({ issuer: z.string().min(1), audience: z.string().min(1) })
        .strict()
        .optional(),
    })
    .strict()
    .refine((e) => !(e.sigv4 && e.jwt), "an endpoint takes sigv4 or jwt, not both"),
]);

const endpointsByRegion = z.record(z.string().min(1), z.record(z.string().min(1), EndpointSchema));

/** One asynchronous entry's queue (see `QueueEndpoint`). */
export const QueueEndpointSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("redis") }).strict(),
  z
    .object({
      kind: z.literal("sqs"),
      queueUrl: url,
      region: z.string().min(1),
      table: z.string().min(1),
      sqsEndpoint: url.optional(),
      dynamodbEndpoint: url.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal("fc"),
      api: z.string().min(1),
      functionName: z.string().min(1),
      qualifier: z.string().min(1),
      protocol: z.enum(["https", "http"]).optional(),
    })
    .strict(),
]);

/**
 * The endpoints map file: `{ functions: { name: { region: url } }, models: { "name@version": { region: url } } }`,
 * and `canaries: { "METHOD /path": { region: url } }` where the backend splits a route's model versions itself.
 */
export const EndpointsSchema = z
  .object({
    functions: endpointsByRegion,
    models: endpointsByRegion,
    canaries: endpointsByRegion.optional(),
    queues: z.record(z.string().min(1), QueueEndpointSchema).optional(),
  })
  .strict();
