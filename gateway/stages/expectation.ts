/**
 * Expectations (RFC 9110 §10.1.1). Node answers `Expect: 100-continue`
 * itself before the gateway sees the request; any other expectation the
 * gateway cannot meet, and says so with its own JSON error (417) rather
 * than Node's bare one, counted and logged like every other answer.
 */
import { ServingError } from "../../runtime/contract";
import type { Stage } from "../exchange";

/** Refuses requests that expect anything but `100-continue`. */
export function expectation(): Stage {
  return {
    run({ req }) {
      const expect = req.headers.expect;
      if (expect !== undefined && expect.trim().toLowerCase() !== "100-continue")
        throw new ServingError("EXPECTATION_FAILED", "the only expectation this gateway meets is 100-continue");
    },
  };
}
