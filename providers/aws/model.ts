/**
 * Models on AWS. A CPU model on SageMaker Serverless in one region: an
 * execution role that may read only its own artifact, the model, a
 * serverless endpoint configuration and the endpoint, scaled by Application
 * Auto Scaling. GPU models run on EKS (cluster-models.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { Target as ScalableTarget } from "@pulumi/aws/appautoscaling";
import { Role, RolePolicy } from "@pulumi/aws/iam";
import { Endpoint, EndpointConfiguration, Model } from "@pulumi/aws/sagemaker";
import { SAGEMAKER_SERVERLESS, toMegabytes, type ModelSpec, type ScalingPolicySpec } from "../../sdk/spec";
import { RUNTIME_ENV } from "../../runtime/contract";
import { tracingEnvironment } from "../shared/tracing";
import { entryLabels } from "../shared/labels";
import { recordEndpoint } from "../shared/endpoints";
import { modelPart, resourceName } from "../shared/naming";
import { placeClusterModels } from "./cluster-models";
import type { CloudWatchSource } from "./alerts";
import { modelsIn, signed, type AwsContext } from "./context";
import type { StoredArtifact } from "./artifacts";
import { trackTarget } from "./autoscaling";
import { assumeRolePolicy, readObjectsPolicy } from "./iam";
import { wavelengthRegions } from "./networks";

/** Serverless memory: the model's declared memory rounded up to the next 1 GB step. */
function serverlessMemory(model: ModelSpec): number {
  const declared = model.memory ? toMegabytes(model.memory) : 2048;
  return Math.min(
    SAGEMAKER_SERVERLESS.memoryMb.max,
    Math.max(
      SAGEMAKER_SERVERLESS.memoryMb.min,
      Math.ceil(declared / SAGEMAKER_SERVERLESS.memoryMb.step) * SAGEMAKER_SERVERLESS.memoryMb.step,
    ),
  );
}

/** The endpoint's one production variant. */
const VARIANT = "main";

/** Inputs of one serverless model in one region. */
export interface SageMakerModelArgs {
  app: string;
  model: ModelSpec;
  scaling?: ScalingPolicySpec;
  artifact: StoredArtifact;
  /** The cloudloom runtime image in ECR. */
  image: pulumi.Input<string>;
  /** More variables of the container (tracing's OTEL_*): plain values only, SageMaker keeps them in the model's configuration. @default {} */
  environment?: Record<string, string>;
}

/** A SageMaker Serverless endpoint, typed `cloudloom:aws:Model`. */
export class SageMakerModel extends pulumi.ComponentResource {
  /** The endpoint's invocation URL (SigV4-signed calls only). */
  readonly url: pulumi.Output<string>;
  /** The endpoint's ARN, for callers' least-privilege policies. */
  readonly arn: pulumi.Output<string>;
  /** Where CloudWatch keeps the endpoint's metrics. */
  readonly metrics: CloudWatchSource;

  constructor(
    name: string,
    args: SageMakerModelArgs,
    opts: pulumi.ComponentResourceOptions & { provider: pulumi.ProviderResource; region: string; specRegion: string },
  ) {
    super("cloudloom:aws:Model", name, {}, opts);
    const child = { parent: this, provider: opts.provider };
    const tags = entryLabels(args.app, "model", args.model.name, { "cloudloom.dev/version": args.model.version });
    const role = new Role(`${name}-role`, { assumeRolePolicy: assumeRolePolicy("sagemaker.amazonaws.com"), tags }, child);
    const read = new RolePolicy(
      `${name}-read`,
      {
        role: role.id,
        policy: args.artifact.prefixArn.apply((arn) => readObjectsPolicy([arn])),
      },
      child,
    );
    const model = new Model(
      name,
      {
        name,
        executionRoleArn: role.arn,
        primaryContainer: {
          image: args.image,
          // The prefix holds model.onnx and spec.json; SageMaker copies it to /opt/ml/model.
          modelDataSource: { s3DataSources: [{ s3Uri: args.artifact.prefixUri, s3DataType: "S3Prefix", compressionType: "None" }] },
          environment: {
            ...args.environment,
            [RUNTIME_ENV.sagemakerModel]: `${args.model.name}@${args.model.version}`,
            [RUNTIME_ENV.region]: opts.specRegion,
          },
        },
        tags,
      },
      { ...child, dependsOn: [read] },
    );
    const maxConcurrency = Math.min(
      SAGEMAKER_SERVERLESS.maxConcurrency,
      Math.max(1, (args.scaling?.maxInstances ?? 1) * (args.scaling?.targetConcurrency ?? 1)),
    );
    const config = new EndpointConfiguration(
      name,
      {
        productionVariants: [
          {
            variantName: VARIANT,
            modelName: model.name,
            serverlessConfig: { memorySizeInMb: serverlessMemory(args.model), maxConcurrency },
          },
        ],
        tags,
      },
      child,
    );
    const endpoint = new Endpoint(name, { name, endpointConfigName: config.name, tags }, child);
    if (args.scaling && !args.scaling.scaleToZero && args.scaling.minInstances > 0) {
      const target = new ScalableTarget(
        `${name}-scaling`,
        {
          serviceNamespace: "sagemaker",
          scalableDimension: "sagemaker:variant:DesiredProvisionedConcurrency",
          resourceId: pulumi.interpolate`endpoint/${endpoint.name}/variant/${VARIANT}`,
          minCapacity: args.scaling.minInstances,
          maxCapacity: maxConcurrency,
          tags,
        },
        child,
      );
      trackTarget(name, target, "SageMakerVariantInvocationsPerInstance", args.scaling.targetConcurrency ?? 1, child);
    }
    this.arn = endpoint.arn;
    this.metrics = { kind: "sagemaker", endpointName: endpoint.name, variant: VARIANT };
    this.url = pulumi.interpolate`https://runtime.sagemaker.${opts.region}.amazonaws.com/endpoints/${endpoint.name}/invocations`;
    this.registerOutputs({ url: this.url, arn: this.arn });
  }
}

/** The models step: CPU models on SageMaker Serverless, GPU models on each region's cluster (cluster-models.ts). */
export function placeModels(context: AwsContext): void {
  const { spec, args, name, parent } = context;
  const zones = new Set(wavelengthRegions(spec));
  for (const [regionName, { provider, awsRegion }] of context.regions) {
    if (zones.has(regionName)) continue;
    for (const key of modelsIn(spec, regionName, false)) {
      const model = spec.models[key];
      const served = new SageMakerModel(
        resourceName(name, modelPart(model.name, model.version), regionName),
        {
          app: spec.app,
          model,
          scaling: model.scaling ? spec.scalingPolicies[model.scaling] : undefined,
          artifact: context.artifacts.get(`${key}/${regionName}`)!,
          image: args.sagemakerImage!,
          // SageMaker can hand a container no secret: with export headers (a collector's key), its models are not traced.
          environment: args.tracing?.headers ? {} : tracingEnvironment(args.tracing, spec.app),
        },
        { parent, provider, region: awsRegion, specRegion: regionName },
      );
      const endpoint = signed(served.url, "sagemaker", awsRegion);
      context.models.set(`${key}/${regionName}`, { endpoint, access: { kind: "sagemaker", arn: served.arn } });
      context.monitored.set(`${key}/${regionName}`, served.metrics);
      recordEndpoint(context.endpoints.models, key, regionName, endpoint);
    }
  }
  for (const region of context.clusters.keys()) placeClusterModels(context, region);
}
