/**
 * The Pod Security Standards' restricted profile, applied to every pod the
 * provider builds: each container runs as a non-root numeric user and group,
 * cannot escalate privileges, drops every capability, uses the runtime's
 * default seccomp profile and has a read-only root filesystem; what it must
 * write goes to `emptyDir` volumes with a size limit. No pod calls the API
 * server, so none mounts a service account token. Pure builders: no Pulumi.
 */
import type * as input from "@pulumi/kubernetes/types/input";

type Container = input.core.v1.Container;
type PodSpec = input.core.v1.PodSpec;

/** The user and group a container runs as. */
export interface RunAs {
  user: number;
  group: number;
}

/** The cloudloom runtime image's `node` user (uid and gid 1000). */
export const RUNTIME_USER: RunAs = { user: 1000, group: 1000 };

/** The redis image's `redis` user (uid and gid 999), which owns its data directory. */
export const REDIS_USER: RunAs = { user: 999, group: 999 };

/**
 * Download helpers (busybox, the AWS CLI) run as an unprivileged user of no
 * image, in the runtime's group so that what they write (the artifact) is the
 * group's, as the pod's fsGroup makes their volumes.
 */
export const FETCH_USER: RunAs = { user: 65532, group: RUNTIME_USER.group };

/**
 * Where a container's scratch space is: an `emptyDir`, since the root
 * filesystem is read-only. Not /tmp itself: TMPDIR (and HOME) point here, so
 * Node, the shell and the AWS CLI write their temporary files to it.
 */
export const SCRATCH_DIR = "/var/tmp/cloudloom";

/** The scratch volume's name and size limit. */
export const SCRATCH_VOLUME = "scratch";
export const SCRATCH_SIZE = "64Mi";

/** The pod's scratch volume. */
export const scratchVolume = (): input.core.v1.Volume => ({ name: SCRATCH_VOLUME, emptyDir: { sizeLimit: SCRATCH_SIZE } });

/** The restricted profile's container fields, for `runAs`. */
export function restrictedSecurityContext(runAs: RunAs): input.core.v1.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: runAs.user,
    runAsGroup: runAs.group,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
    readOnlyRootFilesystem: true,
  };
}

/** A container that writes only to its volumes: the restricted profile, plus (with `scratch`) the scratch mount, TMPDIR and HOME. */
export function restrictedContainer(container: Container, runAs: RunAs, scratch = true): Container {
  if (!scratch) return { ...container, securityContext: restrictedSecurityContext(runAs) };
  return {
    ...container,
    securityContext: restrictedSecurityContext(runAs),
    env: [...((container.env as input.core.v1.EnvVar[] | undefined) ?? []), ...scratchEnv()],
    volumeMounts: [
      ...((container.volumeMounts as input.core.v1.VolumeMount[] | undefined) ?? []),
      { name: SCRATCH_VOLUME, mountPath: SCRATCH_DIR },
    ],
  };
}

/** The variables that send temporary files (and an AWS CLI's cache) to the scratch volume. */
function scratchEnv(): input.core.v1.EnvVar[] {
  return [
    { name: "TMPDIR", value: SCRATCH_DIR },
    { name: "HOME", value: SCRATCH_DIR },
  ];
}

/** The pod fields of the restricted profile: non-root, the runtime's seccomp profile, volumes owned by `runAs`'s group, no token. */
export function restrictedPod(spec: PodSpec, runAs: RunAs): PodSpec {
  return {
    ...spec,
    automountServiceAccountToken: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: runAs.user,
      runAsGroup: runAs.group,
      fsGroup: runAs.group,
      seccompProfile: { type: "RuntimeDefault" },
    },
  };
}

/** Requests and limits of an init container that downloads one file into a volume. */
export const INIT_RESOURCES: input.core.v1.ResourceRequirements = {
  requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "64Mi" },
  limits: { cpu: "1", memory: "256Mi", "ephemeral-storage": SCRATCH_SIZE },
};

/** Ephemeral storage of a container whose only disk writes are its scratch volume (and its logs). */
export const SCRATCH_STORAGE = { requests: { "ephemeral-storage": "64Mi" }, limits: { "ephemeral-storage": "256Mi" } } as const;

/** `resources` with ephemeral-storage requests and limits added. */
export function withEphemeralStorage(
  resources: input.core.v1.ResourceRequirements,
  storage: { requests: Record<string, string>; limits: Record<string, string> } = SCRATCH_STORAGE,
): input.core.v1.ResourceRequirements {
  return {
    requests: { ...(resources.requests as Record<string, string>), ...storage.requests },
    limits: { ...(resources.limits as Record<string, string>), ...storage.limits },
  };
}
