/**
 * How a runtime container's model artifact is fetched before the model
 * server starts, on every target that fetches it itself (Kubernetes pods'
 * init containers, ENS instances): a download into `ARTIFACT_PATH` whose
 * sha256 is then checked against the spec's, from `ARTIFACT_URL` and
 * `ARTIFACT_SHA256` in the fetching container's environment.
 */

/** Where the artifact lands in the fetching container, and where the model server reads it. */
export const ARTIFACT_PATH = "/models/model.onnx";

/** `ossutil cp` of `$ARTIFACT_URL` (an `oss://` URI) through `$OSS_ENDPOINT`, authenticating with `credentials` (ossutil flags). */
export function ossutilCopy(credentials: string): string {
  return `ossutil cp -e "$OSS_ENDPOINT" ${credentials} "$ARTIFACT_URL" ${ARTIFACT_PATH}`;
}

/** `download`, then the sha256 check that fails the fetch on any other file. */
export function downloadAndVerify(download: string): string {
  return `${download} && echo "$ARTIFACT_SHA256  ${ARTIFACT_PATH}" | sha256sum -c -`;
}
