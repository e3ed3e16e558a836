/**
 * How a model pod gets its artifact: an init container downloads it into an
 * `emptyDir` and checks its sha256. wget for an HTTPS base URL, the AWS CLI
 * for `s3://` URIs and ossutil for `oss://` URIs (credentials from the
 * node's role in both clouds). It runs as a non-root user with a read-only
 * root filesystem, writing only to that volume and its scratch volume.
 */
import type * as input from "@pulumi/kubernetes/types/input";
import { ARTIFACT_PATH, downloadAndVerify, ossutilCopy } from "../shared/artifact-fetch";
import type { KubernetesContext } from "./context";
import { FETCH_USER, INIT_RESOURCES, restrictedContainer, RUNTIME_USER, type RunAs } from "./security";

const FETCH_IMAGE = "busybox:1.36";
const AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.22.0";

/** Where the init container puts the artifact and the model server reads it. */
export { ARTIFACT_PATH };

/** How the init container downloads an artifact: its image, command and extra variables. */
function artifactDownload(context: KubernetesContext): { image: string; command: string; env: input.core.v1.EnvVar[]; runAs: RunAs } {
  const { artifactUris, ossAccess, runtimeImage } = context.args;
  if (artifactUris && ossAccess)
    return {
      // The runtime image ships ossutil; the node's RAM role may read only this app's artifacts.
      image: runtimeImage,
      command: ossutilCopy('--mode EcsRamRole --ecs-role-name "$OSS_ROLE"'),
      env: [
        { name: "OSS_ENDPOINT", value: ossAccess.endpoint },
        { name: "OSS_ROLE", value: ossAccess.roleName },
      ],
      runAs: RUNTIME_USER,
    };
  if (artifactUris)
    return { image: AWS_CLI_IMAGE, command: `aws s3 cp --only-show-errors "$ARTIFACT_URL" ${ARTIFACT_PATH}`, env: [], runAs: FETCH_USER };
  return { image: FETCH_IMAGE, command: `wget -q -O ${ARTIFACT_PATH} "$ARTIFACT_URL"`, env: [], runAs: FETCH_USER };
}

/** The init container that fetches the artifact of model `key` into the pod's `model` volume and checks its sha256. */
export function fetchArtifact(context: KubernetesContext, key: string): input.core.v1.Container {
  const model = context.spec.models[key];
  const url =
    context.args.artifactUris?.[key] ?? `${context.args.artifactBaseUrl.replace(/\/$/, "")}/${model.name}/${model.version}/model.onnx`;
  const download = artifactDownload(context);
  return restrictedContainer(
    {
      name: "fetch-artifact",
      image: download.image,
      command: ["sh", "-c", downloadAndVerify(download.command)],
      env: [{ name: "ARTIFACT_URL", value: url }, { name: "ARTIFACT_SHA256", value: model.artifact.sha256 }, ...download.env],
      volumeMounts: [{ name: "model", mountPath: "/models" }],
      resources: INIT_RESOURCES,
    },
    download.runAs,
  );
}
