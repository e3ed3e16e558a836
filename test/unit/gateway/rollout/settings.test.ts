import assert from "node:assert/strict";
import { withAdminKeyFrom } from "../../../../cli/compose-gateway";
import { parseSettings } from "../../../../gateway/config";

describe("rollout settings and the admin key", () => {
  it("syncs every second with a ten-second lease by default, and refuses a lease shorter than three syncs", () => {
    assert.deepEqual(parseSettings({}).rollouts, { syncIntervalMs: 1_000, leaseMs: 10_000 });
    assert.throws(
      () => parseSettings({ rollouts: { syncIntervalMs: 1_000, leaseMs: 2_000 } }),
      /rollouts\.leaseMs: must be at least 3 × rollouts\.syncIntervalMs \(3000\)/,
    );
  });

  it("takes the admin key from CLOUDLOOM_ADMIN_KEY when the settings have none, never over theirs, and never echoes a short one", () => {
    const fromEnv = withAdminKeyFrom(parseSettings({}), { CLOUDLOOM_ADMIN_KEY: " env-admin-key-0123456789 " });
    assert.equal(fromEnv.adminKey, "env-admin-key-0123456789");
    const fromFile = withAdminKeyFrom(parseSettings({ adminKey: "file-admin-key-0123456789" }), {
      CLOUDLOOM_ADMIN_KEY: "env-admin-key-0123456789",
    });
    assert.equal(fromFile.adminKey, "file-admin-key-0123456789");
    assert.equal(withAdminKeyFrom(parseSettings({}), {}).adminKey, undefined);
    assert.throws(
      () => withAdminKeyFrom(parseSettings({}), { CLOUDLOOM_ADMIN_KEY: "short-secret" }),
      (error: Error) =>
        /CLOUDLOOM_ADMIN_KEY: must be at least 16 characters/.test(error.message) && !error.message.includes("short-secret"),
    );
  });
});
