import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSettings } from "../../../../gateway/config";
import { GeoIpDatabaseError, PrefixTable, localityResolver } from "../../../../gateway/routing/client-locality";
import { writeMmdb } from "../../../support/mmdb";

const req = (url: string, headers: Record<string, string> = {}) => ({ url, headers }) as unknown as IncomingMessage;
const dir = mkdtempSync(join(tmpdir(), "cloudloom-geoip-"));
const database = join(dir, "country.mmdb");
writeFileSync(
  database,
  writeMmdb([
    { cidr: "198.51.100.0/24", record: { country: { iso_code: "DE" } } },
    { cidr: "192.0.2.0/24", record: { country: { iso_code: "FR" } } },
  ]),
);

describe("client locality by the network", () => {
  const resolve = localityResolver(
    parseSettings({
      locality: {
        cidrs: [
          { cidr: "203.0.113.0/24", locality: "de" },
          { cidr: "203.0.113.128/25", locality: "berlin" },
          { cidr: "2001:db8::/32", locality: "fr" },
        ],
        geoip: { database },
        home: "central",
      },
    }).locality,
  );

  it("lets the trusted header override every address rule, and says so", () => {
    assert.deepEqual(resolve(req("/x", { "x-cloudloom-locality": "jp" }), "203.0.113.200"), { locality: "jp", by: "header" });
  });

  it("answers the longest matching prefix, whatever the table's order, for IPv4, IPv4-mapped and IPv6", () => {
    assert.deepEqual(resolve(req("/x"), "203.0.113.9"), { locality: "de", by: "prefix" });
    assert.deepEqual(resolve(req("/x"), "203.0.113.200"), { locality: "berlin", by: "prefix" });
    assert.deepEqual(resolve(req("/x"), "::ffff:203.0.113.200"), { locality: "berlin", by: "prefix" });
    assert.deepEqual(resolve(req("/x"), "2001:db8::1"), { locality: "fr", by: "prefix" });
  });

  it("reads a client no prefix matches from the GeoIP database file, lower-cased", () => {
    assert.deepEqual(resolve(req("/x"), "198.51.100.7"), { locality: "de", by: "geoip" });
    assert.deepEqual(resolve(req("/x"), "::ffff:192.0.2.1"), { locality: "fr", by: "geoip" });
  });

  it("falls back to the region hint, then to the gateway's home", () => {
    assert.deepEqual(resolve(req("/x?region=de"), "10.9.9.9"), { locality: "de", by: "hint" });
    assert.deepEqual(resolve(req("/x"), "10.9.9.9"), { locality: "central", by: "home" });
  });

  it("answers no locality at all without a home, and never throws on an address that is not one", () => {
    const bare = localityResolver(parseSettings({ locality: { geoip: { database } } }).locality);
    assert.equal(bare(req("/x"), "10.9.9.9"), undefined);
    assert.equal(bare(req("/x"), "not-an-address"), undefined);
    assert.equal(bare(req("/x"), ""), undefined);
  });

  it("refuses a GeoIP file that is missing or not a MaxMind DB with a typed error naming the setting", () => {
    const garbage = join(dir, "garbage.mmdb");
    writeFileSync(garbage, Buffer.from("definitely not a database"));
    for (const path of [garbage, join(dir, "missing.mmdb")])
      assert.throws(
        () => localityResolver(parseSettings({ locality: { geoip: { database: path } } }).locality),
        (error: unknown) => error instanceof GeoIpDatabaseError && error.code === "GATEWAY_GEOIP_DATABASE" && error.message.includes(path),
      );
  });

  it("refuses a malformed GeoIP field path in the settings", () => {
    assert.throws(() => parseSettings({ locality: { geoip: { database, field: "country..iso" } } }), /locality\.geoip\.field/);
  });

  it("keeps the first locality listed for a range given twice, and a table of 10,000 prefixes answers by length, not by scan order", () => {
    const entries = Array.from({ length: 10_000 }, (_, i) => ({ cidr: `10.${i >> 8}.${i & 255}.0/24`, locality: `cell-${i}` }));
    const table = new PrefixTable([...entries, { cidr: "10.0.0.0/24", locality: "shadowed" }, { cidr: "10.0.0.0/8", locality: "wide" }]);
    assert.equal(table.lookup("10.0.0.1"), "cell-0");
    assert.equal(table.lookup("10.39.15.4"), `cell-${(39 << 8) | 15}`);
    assert.equal(table.lookup("10.200.0.1"), "wide");
    assert.equal(table.lookup("11.0.0.1"), undefined);
  });
});
