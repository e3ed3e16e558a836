import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pulumiProjectOf, stackConfig } from "../../../cli/plan";

describe("stack settings of a user's own Pulumi project", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "cloudloom-stack-"));
    mkdirSync(join(dir, "apps"));
    writeFileSync(join(dir, "Pulumi.yaml"), "name: hello-app\nruntime: nodejs\n");
    writeFileSync(join(dir, "apps", "app.ts"), "export {};\n");
    writeFileSync(
      join(dir, "Pulumi.dev-kubernetes.yaml"),
      [
        "config:",
        "  hello-app:artifactBaseUrl: https://models.example.com",
        "  cloudloom:namespace: hello",
        "  other-project:ignored: x",
        "  hello-app:apiKeys:",
        "    secure: v1:abc",
      ].join("\n"),
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("finds the project above the app and reads its own namespace and cloudloom's, never secrets or other projects", () => {
    assert.deepEqual(pulumiProjectOf(join(dir, "apps", "app.ts")), { dir, name: "hello-app" });
    assert.deepEqual(stackConfig("kubernetes", undefined, join(dir, "apps", "app.ts")), {
      artifactBaseUrl: "https://models.example.com",
      namespace: "hello",
    });
  });

  it("reads nothing for a target without a stack file", () => {
    assert.deepEqual(stackConfig("aws", undefined, join(dir, "apps", "app.ts")), {});
  });
});
