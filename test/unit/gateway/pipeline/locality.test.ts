import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { parseSettings } from "../../../../gateway/config";
import { localityResolver } from "../../../../gateway/pipeline/locality";

const req = (url: string, headers: Record<string, string> = {}) => ({ url, headers }) as unknown as IncomingMessage;

describe("client locality", () => {
  const resolve = localityResolver(
    parseSettings({
      locality: {
        cidrs: [
          { cidr: "203.0.113.0/24", locality: "de" },
          { cidr: "2001:db8::/32", locality: "fr" },
        ],
      },
    }).locality,
  );

  it("prefers the trusted edge header", () => {
    assert.equal(resolve(req("/x", { "x-cloudloom-locality": "jp" }), "203.0.113.9"), "jp");
  });

  it("maps the client address through the CIDR table, IPv4, IPv4-mapped and IPv6", () => {
    assert.equal(resolve(req("/x"), "203.0.113.9"), "de");
    assert.equal(resolve(req("/x"), "::ffff:203.0.113.9"), "de");
    assert.equal(resolve(req("/x"), "2001:db8::1"), "fr");
    assert.equal(resolve(req("/x"), "198.51.100.1"), undefined);
  });

  it("falls back to the request's region hint", () => {
    assert.equal(resolve(req("/x?region=de"), "198.51.100.1"), "de");
  });
});
