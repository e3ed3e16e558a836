import assert from "node:assert/strict";
import { sageMakerContainerAnswer } from "../../../runtime/contract";

const envelope = (fields: Record<string, unknown>) => Buffer.from(JSON.stringify(fields));

describe("sageMakerContainerAnswer: the model container's answer inside SageMaker's 424 ModelError", () => {
  it("gives the container's status and body from the envelope", () => {
    const answer = sageMakerContainerAnswer(424, envelope({ OriginalStatusCode: 400, OriginalMessage: '{"error":"bad"}' }));
    assert.deepEqual([answer?.status, answer?.body.toString()], [400, '{"error":"bad"}']);
  });

  it("gives an empty body when the envelope carries no message as a string", () => {
    const answer = sageMakerContainerAnswer(424, envelope({ OriginalStatusCode: 500, OriginalMessage: { nested: true } }));
    assert.deepEqual([answer?.status, answer?.body.length], [500, 0]);
  });

  it("leaves every other answer alone: another status, a body that is not JSON or not the envelope, a status that is no container's error", () => {
    const cases: Array<[number, Buffer]> = [
      [200, envelope({ OriginalStatusCode: 400, OriginalMessage: "x" })],
      [500, envelope({ OriginalStatusCode: 400, OriginalMessage: "x" })],
      [424, Buffer.from("not json")],
      [424, Buffer.from("null")],
      [424, Buffer.from("[]")],
      [424, envelope({ message: "no original status" })],
      [424, envelope({ OriginalStatusCode: "400", OriginalMessage: "x" })],
      [424, envelope({ OriginalStatusCode: 99, OriginalMessage: "x" })],
      // SageMaker wraps only a container's 4xx and 5xx: a success or a bodiless status is no container's error.
      [424, envelope({ OriginalStatusCode: 200, OriginalMessage: "x" })],
      [424, envelope({ OriginalStatusCode: 204, OriginalMessage: "x" })],
      [424, envelope({ OriginalStatusCode: 304, OriginalMessage: "x" })],
      [424, envelope({ OriginalStatusCode: 399, OriginalMessage: "x" })],
      [424, envelope({ OriginalStatusCode: 600, OriginalMessage: "x" })],
      [424, envelope({ OriginalStatusCode: 400.5, OriginalMessage: "x" })],
    ];
    for (const [status, body] of cases) assert.equal(sageMakerContainerAnswer(status, body), undefined, `${status} ${body}`);
  });
});
