/**
 * How an offline plan's resources cross from Pulumi's runtime to the mock
 * monitor and back: in one process, with no protobuf in between. The runtime
 * encodes every resource's inputs as a protobuf Struct that the mock monitor
 * decodes at once, and the monitor serializes and encodes every resource's
 * state (its inputs, echoed, and the outputs a cloud would compute) for the
 * runtime to decode at once. In a large plan those round trips cost more
 * than Pulumi's own work per resource. A plan keeps the values instead; what
 * the runtime decodes is the same, keys sorted as protobuf sorts them.
 */
import { dirname } from "node:path";
import type * as pulumi from "@pulumi/pulumi";

/** A protobuf Struct, as far as Pulumi's runtime and mock monitor use one. */
interface ProtoStruct {
  toJavaScript(): Record<string, unknown>;
  getFieldsMap(noLazyCreate?: boolean): unknown;
  serializeBinary(): Uint8Array;
}

/** google-protobuf's Struct class: the very one Pulumi's runtime encodes with. */
const Struct = require(
  require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [dirname(require.resolve("@pulumi/pulumi"))] }),
).Struct as { new (): ProtoStruct; fromJavaScript(value: Record<string, unknown>): ProtoStruct };

/** Pulumi's property (de)serialization and its markers of values that are not plain JSON. */
const rpc = require("@pulumi/pulumi/runtime/rpc") as {
  deserializeProperties(struct: ProtoStruct): Record<string, unknown>;
  serializeProperties(label: string, props: Record<string, unknown>): Promise<Record<string, unknown>>;
  specialSigKey: string;
  specialAssetSig: string;
  specialArchiveSig: string;
  unknownValue: string;
};

/** The response the runtime reads a registration's URN, ID and state from. */
const { RegisterResourceResponse } = require("@pulumi/pulumi/proto/resource_pb") as {
  RegisterResourceResponse: new () => { setUrn(urn: string): void; setId(id: string): void; setObject(state: ProtoStruct): void };
};

/** The part of a registration request the plan reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getObject(): ProtoStruct;
  getProvider(): string;
  getCustom(): boolean;
}

/** Pulumi's mock monitor (runtime/mocks.ts), as far as a plan answers registrations itself. */
export interface MockMonitor {
  resources: Map<string, { urn: string; id: string | null; state: unknown }>;
  newUrn(parent: string, type: string, name: string): string;
  registerResource(request: RegisterRequest, callback: (error: unknown, response?: unknown) => void): Promise<void>;
}

/** What a plan answers for one resource: its ID, and the outputs a cloud would compute (its inputs are echoed besides). */
export interface PlannedOutputs {
  id: string;
  computed: Record<string, unknown>;
}

/** The values kept Structs stand for. */
const keptValues = new WeakMap<ProtoStruct, Record<string, unknown>>();

/** A JSON value with every object's keys in sorted order, as a decoded Struct has them. */
function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedCopy);
  if (value === null || typeof value !== "object") return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) copy[key] = sortedCopy((value as Record<string, unknown>)[key]);
  return copy;
}

/**
 * Whether a serialized value holds more than plain JSON (`signatures`
 * undefined), or anything signed but with `signatures`: a secret, asset,
 * archive, resource or output; or an unknown.
 */
function holdsSpecialValues(value: unknown, signatures?: ReadonlySet<string>): boolean {
  if (typeof value === "string") return value === rpc.unknownValue;
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some((item) => holdsSpecialValues(item, signatures));
  const signature = (value as Record<string, unknown>)[rpc.specialSigKey];
  if (signature !== undefined && !signatures?.has(signature as string)) return true;
  return Object.values(value).some((item) => holdsSpecialValues(item, signatures));
}

/** Assets and archives: deserialized and serialized again, they are what they were (secrets and resources are not). */
const ECHOED_AS_THEY_ARE = new Set([rpc.specialAssetSig, rpc.specialArchiveSig]);

/**
 * A Struct that keeps `value` instead of encoding it: it decodes to what a
 * round trip through protobuf gives, and is encoded only if something reads
 * its fields or bytes (a resource read by URN does).
 */
function keptStruct(encode: (value: Record<string, unknown>) => ProtoStruct, value: Record<string, unknown>): ProtoStruct {
  const struct = new Struct();
  let encoded: ProtoStruct | undefined;
  const fields = () => (encoded ??= encode(value));
  struct.toJavaScript = () => sortedCopy(value) as Record<string, unknown>;
  struct.getFieldsMap = (noLazyCreate) => fields().getFieldsMap(noLazyCreate);
  struct.serializeBinary = () => fields().serializeBinary();
  keptValues.set(struct, value);
  return struct;
}

/**
 * Answers `monitor`'s registrations with `planned`, as Pulumi's mock monitor
 * answers them with a mock's `newResource`, except that inputs made only of
 * plain JSON, assets and archives are echoed as the runtime serialized them
 * instead of being deserialized and serialized again.
 */
function answerRegistrations(monitor: MockMonitor, planned: (args: pulumi.runtime.MockResourceArgs) => PlannedOutputs): void {
  monitor.registerResource = async (request, callback) => {
    try {
      const object = request.getObject();
      const kept = keptValues.get(object);
      const plain = kept !== undefined && !holdsSpecialValues(kept);
      const echoed = plain || (kept !== undefined && !holdsSpecialValues(kept, ECHOED_AS_THEY_ARE));
      const inputs = plain ? (sortedCopy(kept) as Record<string, unknown>) : rpc.deserializeProperties(object);
      const type = request.getType();
      const name = request.getName();
      const { id, computed } = planned({ type, name, inputs, provider: request.getProvider(), custom: request.getCustom() });
      const urn = monitor.newUrn(request.getParent(), type, name);
      const state = echoed
        ? { ...kept, ...(await rpc.serializeProperties("", computed)) }
        : await rpc.serializeProperties("", { ...inputs, ...computed });
      monitor.resources.set(urn, { urn, id, state });
      const response = new RegisterResourceResponse();
      response.setUrn(urn);
      response.setId(id);
      response.setObject(Struct.fromJavaScript(state));
      callback(null, response);
    } catch (error) {
      callback(error);
    }
  };
}

/**
 * Keeps resource properties as values from here on (see above), with
 * `monitor` answering registrations with `planned`. Returns the function
 * that restores protobuf encoding.
 */
export function keepPropertiesInProcess(
  monitor: MockMonitor,
  planned: (args: pulumi.runtime.MockResourceArgs) => PlannedOutputs,
): () => void {
  const { fromJavaScript } = Struct;
  Struct.fromJavaScript = (value) => keptStruct(fromJavaScript, value);
  answerRegistrations(monitor, planned);
  return () => {
    Struct.fromJavaScript = fromJavaScript;
  };
}
