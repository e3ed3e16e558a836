/** Verifies SigV4 the way AWS does: sign the received request again with the same credentials and compare. */
import type { IncomingMessage } from "node:http";
import aws4 from "aws4";
import type { StubBehaviour } from "./upstream";

/** Fixed test credentials, set in the environment of whatever signs. */
export const TEST_CREDENTIALS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  sessionToken: "session-token-example",
};

/** True when `req` carries a valid signature for `service` in `region` by TEST_CREDENTIALS. */
export function verifySigv4(req: IncomingMessage, body: Buffer | string, service: string, region: string): boolean {
  const check = {
    host: req.headers.host,
    path: req.url,
    method: req.method,
    service,
    region,
    body,
    headers: { "content-type": req.headers["content-type"] as string, "X-Amz-Date": req.headers["x-amz-date"] as string },
  };
  aws4.sign(check, TEST_CREDENTIALS);
  return (
    (check.headers as Record<string, string>).Authorization === req.headers.authorization &&
    req.headers["x-amz-security-token"] === TEST_CREDENTIALS.sessionToken
  );
}

/** Puts TEST_CREDENTIALS in the AWS environment variables; returns a function that restores them. */
export function useTestCredentials(): () => void {
  const keys = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] as const;
  const saved = keys.map((key) => process.env[key]);
  process.env.AWS_ACCESS_KEY_ID = TEST_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = TEST_CREDENTIALS.secretAccessKey;
  process.env.AWS_SESSION_TOKEN = TEST_CREDENTIALS.sessionToken;
  return () =>
    keys.forEach((key, i) => {
      if (saved[i] === undefined) delete process.env[key];
      else process.env[key] = saved[i];
    });
}

/** A StubUpstream behaviour that checks every request's signature, records the verdict and answers `{ valid }`. */
export function sigv4CheckingBehaviour(service: string, region: string, verdicts: boolean[]): StubBehaviour {
  return {
    status: 200,
    headers: {},
    delayMs: 0,
    body: (req, body) => {
      const valid = verifySigv4(req, body, service, region);
      verdicts.push(valid);
      return { valid };
    },
  };
}
