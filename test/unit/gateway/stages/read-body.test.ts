import assert from "node:assert/strict";
import { readBody } from "../../../../gateway/stages/read-body";
import type { ServingError } from "../../../../runtime/contract";
import { exchange, request } from "./exchange-fixture";

const tooLarge = (e: ServingError) => e.code === "PAYLOAD_TOO_LARGE" && e.status === 413;

describe("body stage", () => {
  const stage = readBody(8);

  it("reads a body within the limit, declared or streamed", async () => {
    const declared = exchange(request({ headers: { "content-length": "5" }, chunks: ["hel", "lo"] }));
    await stage.run!(declared);
    assert.equal(declared.body.toString(), "hello");
    const streamed = exchange(request({ headers: { "transfer-encoding": "chunked" }, chunks: ["12345678"] }));
    await stage.run!(streamed);
    assert.equal(streamed.body.toString(), "12345678");
  });

  it("refuses a declared length over the limit before reading anything", () => {
    assert.throws(() => stage.run!(exchange(request({ headers: { "content-length": "9" } }))), tooLarge);
  });

  it("refuses a streamed body once it grows over the limit", async () => {
    const x = exchange(request({ headers: { "transfer-encoding": "chunked" }, chunks: ["12345", "6789"] }));
    await assert.rejects(async () => stage.run!(x), tooLarge);
  });

  it("reads a GET's body too, so none of it is left on the connection unframed", async () => {
    for (const headers of [{ "content-length": "3" }, { "transfer-encoding": "chunked" }] as Array<Record<string, string>>) {
      const get = exchange(request({ method: "GET", headers, chunks: ["abc"] }));
      await stage.run!(get);
      assert.equal(get.body.toString(), "abc");
    }
  });

  it("takes a body the parser already holds whole at once, with no promise, and refuses one over the limit", () => {
    const complete = (chunks: string[]) => {
      const req = request({ headers: { "transfer-encoding": "chunked" }, chunks });
      req.complete = true;
      return exchange(req);
    };
    const whole = complete(["hel", "lo"]);
    assert.equal(stage.run!(whole), undefined);
    assert.equal(whole.body.toString(), "hello");
    assert.throws(() => stage.run!(complete(["12345", "6789"])), tooLarge);
  });

  it("reads nothing without a length or chunked encoding", () => {
    assert.equal(stage.run!(exchange(request({ method: "GET" }))), undefined);
    assert.equal(stage.run!(exchange(request())), undefined);
  });

  it("turns a client that closes mid-body into CLIENT_CLOSED (499, never sent)", async () => {
    const req = request({ headers: { "content-length": "8" } });
    req.push(Buffer.from("1234"));
    const x = exchange(req);
    const reading = stage.run!(x);
    req.destroy();
    await assert.rejects(
      async () => reading,
      (e: ServingError) => e.code === "CLIENT_CLOSED" && e.status === 499,
    );
  });
});
