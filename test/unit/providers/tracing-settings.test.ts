import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  collectorPort,
  encodeExportHeaders,
  parseTracingSettings,
  readTracingSettings,
  tracingEnvironment,
  TracingSettingError,
  MAX_TRACING_HEADER_LENGTH,
} from "../../../providers/shared/tracing";

const ENDPOINT = "https://otel.example.com:4318/v1/traces";
const json = (value: unknown) => JSON.stringify(value);

/** Asserts that `run` throws a TracingSettingError (CL_TRACING_SETTING) whose message matches `message`. */
function refuses(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof TracingSettingError, String(error));
    assert.equal(error.code, "CL_TRACING_SETTING");
    assert.match(error.message, message);
    return true;
  });
}

/** The value of a Pulumi output, secret or not. */
const valueOf = <T>(output: pulumi.Output<T>): Promise<T> => new Promise((resolve) => output.apply(resolve));

describe("stack config cloudloom:tracing and cloudloom:tracingHeaders", () => {
  it("is off when neither is set", () => {
    assert.equal(parseTracingSettings(undefined), undefined);
    assert.equal(readTracingSettings({ get: () => undefined, getSecret: () => undefined, secretKeys: () => undefined }), undefined);
    assert.deepEqual(tracingEnvironment(undefined, "support-desk"), {});
  });

  it("reads the endpoint, the ratio (as JSON's number or pulumi's string), the namespace and the collector's peers", () => {
    assert.deepEqual(parseTracingSettings(json({ endpoint: ENDPOINT })), { endpoint: ENDPOINT, sampleRatio: 1 });
    assert.deepEqual(
      parseTracingSettings(
        json({
          endpoint: ENDPOINT,
          sampleRatio: "0.25",
          serviceNamespace: "desk-prod",
          collector: { cidrs: ["10.0.5.0/24", "2001:db8::/48"] },
        }),
      ),
      { endpoint: ENDPOINT, sampleRatio: 0.25, serviceNamespace: "desk-prod", collector: { cidrs: ["10.0.5.0/24", "2001:db8::/48"] } },
    );
    const inCluster = parseTracingSettings(
      json({
        endpoint: "http://otel-collector.observability:4318/v1/traces",
        sampleRatio: 0,
        collector: { namespace: "observability", podLabels: { "app.kubernetes.io/name": "otel-collector" } },
      }),
    );
    assert.deepEqual(inCluster?.collector, { namespace: "observability", podLabels: { "app.kubernetes.io/name": "otel-collector" } });
    assert.equal(inCluster?.sampleRatio, 0);
  });

  it("gives every process the same OTEL_* variables: the traces URL, a parent-based ratio sampler and the service namespace", () => {
    const tracing = parseTracingSettings(json({ endpoint: ENDPOINT, sampleRatio: 0.1 }))!;
    assert.deepEqual(tracingEnvironment(tracing, "support-desk"), {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: ENDPOINT,
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.1",
      OTEL_RESOURCE_ATTRIBUTES: "service.namespace=support-desk",
    });
    assert.equal(
      tracingEnvironment({ ...tracing, serviceNamespace: "desk.prod" }, "support-desk").OTEL_RESOURCE_ATTRIBUTES,
      "service.namespace=desk.prod",
    );
  });

  it("takes the collector's port from the endpoint, else from its scheme", () => {
    assert.equal(collectorPort({ endpoint: ENDPOINT }), 4318);
    assert.equal(collectorPort({ endpoint: "https://api.honeycomb.io/v1/traces" }), 443);
    assert.equal(collectorPort({ endpoint: "http://collector/v1/traces" }), 80);
  });

  it("turns the headers secret into OTEL_EXPORTER_OTLP_HEADERS, percent-encoded and still a Pulumi secret", async () => {
    const values = pulumi.secret(json({ "x-honeycomb-team": "k=1,2 3", authorization: "Bearer abc" }));
    const tracing = parseTracingSettings(json({ endpoint: ENDPOINT }), { names: ["x-honeycomb-team", "authorization"], values })!;
    assert.equal(await pulumi.isSecret(tracing.headers!), true);
    assert.equal(await valueOf(tracing.headers!), "x-honeycomb-team=k%3D1%2C2%203,authorization=Bearer%20abc");
  });

  describe("attacks: malformed values stop the program before any resource, naming the field", () => {
    it("refuses an endpoint that is not an http(s) URL, or that carries credentials or a fragment", () => {
      refuses(() => parseTracingSettings(json({ endpoint: "otel-collector:4318" })), /cloudloom:tracing\.endpoint .*(not a URL|http)/);
      refuses(() => parseTracingSettings(json({ endpoint: "not a url" })), /cloudloom:tracing\.endpoint is not a URL/);
      refuses(() => parseTracingSettings(json({ endpoint: "grpc://collector:4317" })), /http:\/\/ or https:\/\/.*not grpc:/);
      refuses(() => parseTracingSettings(json({ endpoint: "file:///etc/passwd" })), /not file:/);
      refuses(
        () => parseTracingSettings(json({ endpoint: "https://user:key@otel.example.com/v1/traces" })),
        /must not hold credentials.*cloudloom:tracingHeaders/,
      );
      refuses(() => parseTracingSettings(json({ endpoint: `${ENDPOINT}#x` })), /fragment/);
      refuses(() => parseTracingSettings(json({ endpoint: 4318 })), /cloudloom:tracing\.endpoint Expected string/);
      refuses(() => parseTracingSettings(json({ sampleRatio: 0.5 })), /cloudloom:tracing\.endpoint Required/);
    });

    it("refuses a ratio outside 0 to 1 or not a number", () => {
      for (const ratio of [1.5, -0.1, "abc", "NaN", true, null, "Infinity"])
        refuses(
          () => parseTracingSettings(json({ endpoint: ENDPOINT, sampleRatio: ratio })),
          /cloudloom:tracing\.sampleRatio .*from 0 to 1/,
        );
    });

    it("refuses a value that is not an object, unknown fields, and a malformed namespace", () => {
      for (const raw of ["https://otel.example.com", "[1]", "null", "{", json("x")])
        refuses(() => parseTracingSettings(raw), /cloudloom:tracing must be an object with an endpoint/);
      refuses(() => parseTracingSettings(json({ endpoint: ENDPOINT, sampler: "always_on" })), /Unrecognized key.*sampler/);
      refuses(() => parseTracingSettings(json({ endpoint: ENDPOINT, serviceNamespace: "a b" })), /serviceNamespace must be/);
      refuses(() => parseTracingSettings(json({ endpoint: ENDPOINT, serviceNamespace: "x".repeat(64) })), /serviceNamespace must be/);
    });

    it("refuses collector peers an operator could not sign off: every address, both kinds, neither, or bad names", () => {
      const collector = (value: unknown) => () => parseTracingSettings(json({ endpoint: ENDPOINT, collector: value }));
      refuses(collector({ cidrs: ["0.0.0.0/0"] }), /collector\.cidrs\.0 "0\.0\.0\.0\/0" is every address/);
      refuses(collector({ cidrs: ["::/0"] }), /"::\/0" is every address/);
      refuses(collector({ cidrs: ["10.0.0.300/24"] }), /is not a CIDR/);
      refuses(collector({ cidrs: ["10.0.5.0"] }), /is not a CIDR/);
      refuses(collector({ cidrs: [] }), /at least one CIDR/);
      refuses(collector({ cidrs: ["10.0.5.0/24"], namespace: "observability" }), /either cidrs .* or namespace/);
      refuses(collector({}), /either cidrs .* or namespace/);
      refuses(collector({ namespace: "Observability!" }), /namespace name/);
      refuses(collector({ cidrs: ["10.0.5.0/24"], podLabels: { app: "otel" } }), /podLabels selects pods of collector\.namespace/);
      refuses(collector({ namespace: "observability", podLabels: { "bad key!": "x" } }), /label keys/);
    });

    it("refuses headers without an endpoint, malformed names now, and malformed values when they are known, never echoing a value", () => {
      const secret = (value: unknown) => pulumi.secret(json(value));
      refuses(
        () => parseTracingSettings(undefined, { names: ["api-key"], values: secret({ "api-key": "k" }) }),
        /cloudloom:tracingHeaders is set but cloudloom:tracing is not/,
      );
      refuses(
        () => parseTracingSettings(json({ endpoint: ENDPOINT }), { names: ["api key\r\nx-evil"], values: secret({}) }),
        /cloudloom:tracingHeaders\.api key[\s\S]* is not an HTTP header name/,
      );
      refuses(() => parseTracingSettings(json({ endpoint: ENDPOINT }), { names: [], values: secret({}) }), /names no header/);
      for (const value of ["", "   ", 42, null, "x".repeat(MAX_TRACING_HEADER_LENGTH + 1)])
        assert.throws(
          () => encodeExportHeaders(json({ "api-key": value })),
          (error: Error) =>
            error instanceof TracingSettingError &&
            /cloudloom:tracingHeaders\.api-key must be a string of 1 to 4096 characters/.test(error.message) &&
            !(typeof value === "string" && value.trim() !== "" && error.message.includes(value)),
        );
      for (const raw of ["[]", "null", "not json", json("x")])
        refuses(() => encodeExportHeaders(raw), /cloudloom:tracingHeaders must be an object of header name → value/);
      refuses(() => encodeExportHeaders(json({ "a\nb": "v" })), /is not an HTTP header name/);
    });
  });
});
