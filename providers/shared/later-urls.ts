/**
 * URLs a later step creates (each region's gateway, in the gateway step)
 * handed to an earlier step (the cluster models' autoscalers, in the models
 * step) as outputs that resolve once the later step placed them. Every region
 * named here must be resolved, or the deployment waits for it forever: the
 * regions come from the same pure function of the spec and stack config that
 * the later step places from.
 */
import * as pulumi from "@pulumi/pulumi";

/** One deferred URL per region. */
export class LaterUrls {
  private readonly urls = new Map<string, ReturnType<typeof pulumi.deferredOutput<string>>>();

  constructor(regions: readonly string[]) {
    for (const region of regions) this.urls.set(region, pulumi.deferredOutput<string>());
  }

  /** Every region's URL, in the order of the regions given. */
  all(): pulumi.Output<string>[] {
    return [...this.urls.values()].map(([url]) => url);
  }

  /** `region`'s URL, or undefined when `region` is not named here. */
  of(region: string): pulumi.Output<string> | undefined {
    return this.urls.get(region)?.[0];
  }

  /** Resolves `region`'s URL (a region not named here is ignored). */
  resolve(region: string, url: pulumi.Output<string>): void {
    this.urls.get(region)?.[1](url);
  }
}
