/** Building the endpoints map a provider outputs: entry → region → endpoint. */
import type * as pulumi from "@pulumi/pulumi";
import type { Endpoint, QueueEndpoint } from "../../sdk/spec";

/** The endpoints map while a provider builds it. */
export interface EndpointsBuilder<T = pulumi.Input<Endpoint>> {
  functions: Record<string, Record<string, T>>;
  models: Record<string, Record<string, T>>;
  /** By route key: where the backend splits the route's versions itself. */
  canaries?: Record<string, Record<string, T>>;
  /** By asynchronous entry (`asyncEntryKey`): where its queue is. */
  queues?: Record<string, pulumi.Input<QueueEndpoint>>;
}

/** Records where `entry` is served in `region`. */
export function recordEndpoint<T>(target: Record<string, Record<string, T>>, entry: string, region: string, endpoint: T): void {
  (target[entry] ??= {})[region] = endpoint;
}
