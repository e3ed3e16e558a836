/**
 * A planned resource's properties, made when first read. Pulumi gives every
 * custom resource an Output per property its class declares (an FC function
 * declares 42, a Lambda function 40-odd) the moment it is built: four
 * promises, the Output's own chain of promises and a Proxy each, which the
 * garbage collector then has to trace. A program reads few of them. In a
 * plan, a property's Output is made when the program first reads it, from its
 * value if the resource is registered by then and resolved by the runtime
 * when it is: the same value, known-ness, secrecy and dependencies. Nor
 * does the runtime serialize, one await each, the properties a resource was
 * given no value for (its outputs): it leaves them out of what it registers.
 */
import type * as pulumi from "@pulumi/pulumi";

/** How Pulumi's runtime settles one property: value, known, secret, dependencies, or an error. */
type Resolver = (value: unknown, isKnown: boolean, isSecret: boolean, deps?: pulumi.Resource[], error?: Error) => void;

/** Pulumi's property transfer and serialization (runtime/rpc.ts), called by the runtime when it registers a resource. */
const rpc = require("@pulumi/pulumi/runtime/rpc") as {
  transferProperties(onto: pulumi.Resource, label: string, props: Record<string, unknown>): Record<string, Resolver>;
  serializeResourceProperties(label: string, props: Record<string, unknown>, options?: object): Promise<unknown>;
};

/** Pulumi's Output class: the very one the runtime makes a resource's properties with. */
const { Output } = require("@pulumi/pulumi/output") as {
  Output: new (
    resources: pulumi.Resource,
    value: Promise<unknown>,
    isKnown: Promise<boolean>,
    isSecret: Promise<boolean>,
    deps: Promise<pulumi.Resource[]>,
  ) => pulumi.Output<unknown>;
};

/** Whether an error is the runtime's gRPC error, which Pulumi reports once elsewhere and never rejects properties with. */
const { isGrpcError } = require("@pulumi/pulumi/errors") as { isGrpcError(error: Error): boolean };

/** The four promises of one property's Output, once settled. */
type Settled = [value: Promise<unknown>, isKnown: Promise<boolean>, isSecret: Promise<boolean>, deps: Promise<pulumi.Resource[]>];

/** A promise and the functions that settle it. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Sets `key` of `onto` to `value` as the plain, writable property Pulumi's runtime makes. */
function setOwn(onto: object, key: string, value: unknown): void {
  Object.defineProperty(onto, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * Pulumi's `transferProperties`, except that each property's Output is made
 * on first read: returns the resolvers the runtime settles the properties with.
 */
function transferPropertiesOnRead(onto: pulumi.Resource, label: string, props: Record<string, unknown>): Record<string, Resolver> {
  const resolvers: Record<string, Resolver> = {};
  for (const key of Object.keys(props)) {
    // Pulumi handles a resource's ID and URN itself.
    if (key === "id" || key === "urn") continue;
    if (Object.prototype.hasOwnProperty.call(onto, key)) throw new Error(`Property '${key}' is already initialized on target '${label}`);
    let settled: Settled | undefined;
    let settle: Resolver | undefined;
    Object.defineProperty(onto, key, {
      enumerable: true,
      configurable: true,
      get() {
        if (!settled) {
          const [value, isKnown, isSecret, deps] = [
            deferred<unknown>(),
            deferred<boolean>(),
            deferred<boolean>(),
            deferred<pulumi.Resource[]>(),
          ];
          settled = [value.promise, isKnown.promise, isSecret.promise, deps.promise];
          settle = (resolved, known, secret, dependencies = [], error) => {
            if (error) {
              for (const promise of [value, isKnown, isSecret, deps]) promise.reject(error);
              return;
            }
            value.resolve(resolved);
            isKnown.resolve(known);
            isSecret.resolve(secret);
            deps.resolve(dependencies);
          };
        }
        const output = new Output(onto, ...settled);
        setOwn(onto, key, output);
        return output;
      },
      set(value) {
        setOwn(onto, key, value);
      },
    });
    resolvers[key] = (value, isKnown, isSecret, deps = [], error) => {
      if (error && isGrpcError(error)) return;
      if (settle) return settle(value, isKnown, isSecret, deps, error);
      settled = error
        ? [Promise.reject(error), Promise.reject(error), Promise.reject(error), Promise.reject(error)]
        : [Promise.resolve(value), Promise.resolve(isKnown), Promise.resolve(isSecret), Promise.resolve(deps)];
      if (error) for (const promise of settled) promise.catch(() => undefined);
    };
  }
  return resolvers;
}

/** `props` without the properties that have no value. */
function withValues(props: Record<string, unknown>): Record<string, unknown> {
  const given: Record<string, unknown> = {};
  for (const key of Object.keys(props)) if (props[key] !== undefined) given[key] = props[key];
  return given;
}

/**
 * Makes resource properties on first read, and serializes only those with a
 * value, from here on (see above); returns the function that restores Pulumi's own.
 */
export function makePropertiesOnRead(): () => void {
  const { transferProperties, serializeResourceProperties } = rpc;
  rpc.transferProperties = transferPropertiesOnRead;
  // Pulumi leaves a property without a value out of what it registers: the same, without an await each.
  rpc.serializeResourceProperties = (label, props, options) => serializeResourceProperties(label, withValues(props), options);
  return () => {
    rpc.transferProperties = transferProperties;
    rpc.serializeResourceProperties = serializeResourceProperties;
  };
}
