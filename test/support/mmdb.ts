/**
 * Writes a small MaxMind DB (format 2.0) file for tests, so the GeoIP
 * locality path reads a real database through the real reader without the
 * repository shipping a third-party one. IPv6 tree (IPv4 lives at ::/96, as
 * MaxMind's own databases keep it), 24-bit records, string-valued maps only.
 */

type Value = string | number | Value[] | { [key: string]: Value };

/** Encodes one value in the MaxMind DB data section's format. */
function encode(value: Value): Buffer {
  const control = (type: number, size: number, payload: Buffer) => {
    if (size >= 29) throw new Error("test MMDB writer: values under 29 bytes or entries only");
    const head = type <= 7 ? Buffer.from([(type << 5) | size]) : Buffer.from([size, type - 7]);
    return Buffer.concat([head, payload]);
  };
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    return control(2, bytes.length, bytes);
  }
  if (typeof value === "number") {
    // uint16 for metadata numbers under 65,536, uint32 above (node counts).
    if (value < 0x10000) {
      const bytes = Buffer.alloc(2);
      bytes.writeUInt16BE(value);
      return control(5, 2, bytes);
    }
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(value);
    return control(6, 4, bytes);
  }
  if (Array.isArray(value)) return control(11, value.length, Buffer.concat(value.map(encode)));
  const keys = Object.keys(value);
  return control(7, keys.length, Buffer.concat(keys.flatMap((key) => [encode(key), encode(value[key])])));
}

/** The 128 bits of an IPv4 range mapped into IPv6 (`::a.b.c.d`), as an array of 0/1. */
function ipv4Bits(cidr: string): number[] {
  const [address, length] = cidr.split("/");
  const octets = address.split(".").map(Number);
  const bits = new Array<number>(96).fill(0);
  for (const octet of octets) for (let i = 7; i >= 0; i--) bits.push((octet >> i) & 1);
  return bits.slice(0, 96 + Number(length));
}

/** Builds an IPv6-tree MaxMind DB where each IPv4 range maps to its record. */
export function writeMmdb(ranges: Array<{ cidr: string; record: Value }>, databaseType = "cloudloom-test-country"): Buffer {
  const nodes: Array<[number | "empty" | { data: number }, number | "empty" | { data: number }]> = [["empty", "empty"]];
  const data: Buffer[] = [];
  let dataLength = 0;
  for (const { cidr, record } of ranges) {
    const offset = dataLength;
    const encoded = encode(record);
    data.push(encoded);
    dataLength += encoded.length;
    const bits = ipv4Bits(cidr);
    let node = 0;
    bits.forEach((bit, index) => {
      if (index === bits.length - 1) {
        nodes[node][bit] = { data: offset };
        return;
      }
      const next = nodes[node][bit];
      if (typeof next === "number") node = next;
      else {
        nodes.push(["empty", "empty"]);
        nodes[node][bit] = nodes.length - 1;
        node = nodes.length - 1;
      }
    });
  }
  const count = nodes.length;
  const tree = Buffer.alloc(count * 6);
  const recordValue = (r: number | "empty" | { data: number }) => (r === "empty" ? count : typeof r === "number" ? r : count + 16 + r.data);
  nodes.forEach(([left, right], index) => {
    tree.writeUIntBE(recordValue(left), index * 6, 3);
    tree.writeUIntBE(recordValue(right), index * 6 + 3, 3);
  });
  const metadata = encode({
    node_count: count,
    record_size: 24,
    ip_version: 6,
    database_type: databaseType,
    languages: ["en"],
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: 0,
    description: { en: "cloudloom test" },
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...data, Buffer.from("abcdef4d61784d696e642e636f6d", "hex"), metadata]);
}
