import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { Deployment } from "@pulumi/kubernetes/apps/v1";
import { planUnderMocks, settle } from "../../../providers/plan";

/** A custom resource whose outputs are exactly its inputs' keys. */
class Thing extends pulumi.CustomResource {
  declare readonly spec: pulumi.Output<Record<string, unknown>>;
  declare readonly token: pulumi.Output<string>;
  constructor(name: string, props?: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) {
    super("test:index:Thing", name, { spec: undefined, token: undefined, code: undefined, ...props }, opts);
  }
}

/** A component that registers its child's URN as its output. */
class Group extends pulumi.ComponentResource {
  constructor(name: string, child: (parent: Group) => Thing) {
    super("test:index:Group", name, {}, {});
    this.registerOutputs({ child: child(this).urn });
  }
}

/**
 * A program that uses what crosses the runtime–monitor boundary: nested
 * inputs with unsorted keys, an Output of another resource, a secret, an
 * asset archive, a resource reference, a component's outputs, a resource
 * read by URN, and a resource class that adds aliases to its options.
 */
function program() {
  const base = new Thing("base", { spec: { zeta: 1, alpha: { b: [2, { d: 1, c: null }], a: "x" }, list: ["z", "a"] } });
  let child!: Thing;
  const group = new Group("group", (parent) => {
    child = new Thing(
      "child",
      {
        spec: { fromBase: base.spec.apply((spec) => (spec.alpha as { a: string }).a), baseId: base.id, dependency: base },
        token: pulumi.secret("s3cr3t"),
        code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.handler = 1;") }),
      },
      { parent },
    );
    return child;
  });
  const packaged = new Thing("packaged", {
    code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.x = 2;") }),
  });
  // Read once it is registered, as a program reads a resource another stack created.
  const copy = base.urn.apply((urn) => new Thing("copy", undefined, { urn }).spec);
  const deployment = new Deployment("web", {
    metadata: { name: "web", labels: { tier: "front", app: "web" } },
    spec: { selector: { matchLabels: { app: "web" } }, template: { spec: { containers: [{ name: "web", image: "nginx" }] } } },
  });
  return {
    urns: [base.urn, group.urn, child.urn, deployment.urn, packaged.urn],
    // The archive as the resource's output gives it back: its files' text.
    packaged: (packaged as unknown as { code: pulumi.Output<pulumi.asset.AssetArchive> }).code.apply(async (archive) => {
      const assets = (await archive.assets) as Record<string, pulumi.asset.StringAsset>;
      return Object.fromEntries(await Promise.all(Object.entries(assets).map(async ([path, asset]) => [path, await asset.text])));
    }),
    base: base.spec,
    child: child.spec,
    token: child.token,
    copy,
    deployment: pulumi.all([deployment.metadata, deployment.spec]),
  };
}

/** The program under Pulumi's own mock monitor: every input echoed as the resource's state. */
async function underPulumisMocks() {
  const resources: Array<{ type: string; name: string; inputs: Record<string, unknown> }> = [];
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs }) => {
        resources.push({ type, name, inputs });
        return { id: `${name}-id`, state: inputs };
      },
      call: () => {
        throw new Error("no calls");
      },
    },
    "project",
    "stack",
    false,
  );
  const result = await settle(program());
  // Children of settled outputs register a little later.
  for (let seen = -1; seen !== resources.length;) {
    seen = resources.length;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { result, resources };
}

const byName = <T extends { name: string }>(list: T[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));

describe("the offline plan's runtime", () => {
  it("records the same inputs and resolves the same outputs, keys in the same order, as Pulumi's own mock monitor", async () => {
    const expected = await underPulumisMocks();
    const planned = await planUnderMocks(program, { project: "project", stack: "stack" });
    assert.equal(JSON.stringify(planned.result), JSON.stringify(expected.result));
    const recorded = byName(planned.resources).map(({ type, name, inputs }) => ({ type, name, inputs }));
    assert.equal(JSON.stringify(recorded), JSON.stringify(byName(expected.resources)));
    // The assertions above compare what both runs saw; these say it is what the program meant.
    assert.deepEqual(planned.result.base, { alpha: { a: "x", b: [2, { c: null, d: 1 }] }, list: ["z", "a"], zeta: 1 });
    assert.deepEqual(planned.result.child, { baseId: "base-id", dependency: "base-id", fromBase: "x" });
    assert.equal(planned.result.token, "s3cr3t");
    assert.deepEqual(planned.result.packaged, { "index.js": "exports.x = 2;" });
    assert.deepEqual(planned.result.copy, planned.result.base, "a resource read by URN has the state registered for it");
    const child = planned.resources.find((r) => r.name === "child")!;
    assert.ok(pulumi.asset.AssetArchive.isInstance(child.inputs.code));
  });

  it("leaves Pulumi's encoding, properties and resource options as they were, after a plan and after a failed one", async () => {
    const rpc = require("@pulumi/pulumi/runtime/rpc") as Record<string, unknown>;
    const { transferProperties, serializeResourceProperties } = rpc;
    const struct = require("google-protobuf/google/protobuf/struct_pb") as {
      Struct: { fromJavaScript(value: object): { getFieldsMap(): { getLength(): number } } };
    };
    await planUnderMocks(() => new Thing("one").urn);
    await assert.rejects(
      planUnderMocks(() => {
        throw new Error("the program failed");
      }),
      /the program failed/,
    );
    assert.equal(struct.Struct.fromJavaScript({ b: 1, a: 2 }).getFieldsMap().getLength(), 2, "a Struct holds its fields again");
    assert.equal(rpc.transferProperties, transferProperties, "a resource's properties are made at once again");
    assert.equal(rpc.serializeResourceProperties, serializeResourceProperties, "Pulumi serializes every property again");
    const aliases = [{ name: "old" }];
    assert.deepEqual(pulumi.mergeOptions({ aliases }, {}).aliases, aliases, "resource options keep their aliases again");
  });

  it("gives a property first read once its resource is registered the same value, secrecy and resource as one read at once", async () => {
    /** What a program can see of a resource's property. */
    const seen = async (owner: Thing) => {
      const token = owner.token;
      return {
        value: await new Promise((resolve) => token.apply(resolve)),
        secret: await pulumi.isSecret(token),
        ownedBy: [...(token as unknown as { resources(): Set<pulumi.Resource> }).resources()].map((resource) => resource === owner),
      };
    };
    const { result } = await planUnderMocks(() => {
      const early = new Thing("early", { token: pulumi.secret("s3cr3t") });
      const late = new Thing("late", { token: pulumi.secret("s3cr3t") });
      const readAtOnce = seen(early);
      return pulumi.all([early.urn, late.urn]).apply(async () => ({ readAtOnce: await readAtOnce, readLater: await seen(late) }));
    });
    assert.deepEqual(result.readAtOnce, { value: "s3cr3t", secret: true, ownedBy: [true] });
    assert.deepEqual(result.readLater, result.readAtOnce);
  });

  it("waits for a resource whose inputs wait on slow work (a bundle), however long, and for the children of its outputs", async () => {
    const slow = new Promise<string>((resolve) => setTimeout(() => resolve("bundled"), 300));
    const { resources } = await planUnderMocks(() => {
      const packaged = new Thing("packaged-late", { spec: { code: pulumi.output(slow) } });
      // Nothing the program returns depends on it: only the plan's own wait can see it.
      packaged.spec.apply(() => new Thing("made-after"));
      return {};
    });
    const planned = resources.find((resource) => resource.name === "packaged-late");
    assert.deepEqual(planned?.inputs.spec, { code: "bundled" });
    assert.ok(
      resources.some((resource) => resource.name === "made-after"),
      "the child made in its apply is planned too",
    );
  });
});
