# The cloudloom runtime image: the gateway, model servers and function servers
# all run `cloudloom serve` from it (see providers/kubernetes/README.md).
# Its file layout is IMAGE_LAYOUT in runtime/contract.ts, which
# test/unit/runtime/image-layout.test.ts checks this file against:
#   /opt/cloudloom                          cloudloom (package files, sdk runtime gateway cli); WORKDIR
#   /opt/cloudloom/node_modules             its dependencies, and NODE_PATH
#   /opt/cloudloom/node_modules/cloudloom -> /opt/cloudloom/sdk   what a handler's `import … from "cloudloom"` loads
#   /app                                    the app: handlers and artifacts (--root /app)
# An app's image adds its handlers and artifacts under /app:
#   FROM ghcr.io/cloudloom/runtime:0.1.0
#   COPY . /app
FROM node:20-bookworm-slim
# ossutil: model pods on ACK fetch their artifact from OSS with the node's ECS RAM role.
# CUDA 12 and cuDNN 9 user-space libraries (from NVIDIA's Debian 12 repository): onnxruntime-node's CUDA
# execution provider links them; the node's NVIDIA container toolkit mounts only the driver (libcuda).
ARG OSSUTIL_VERSION=1.7.19
ARG CUDA_PACKAGES="cuda-cudart-12-8 libcublas-12-8 libcufft-12-8 libcurand-12-8 libcudnn9-cuda-12"
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl unzip \
 && curl -fsSL -o /tmp/ossutil.zip "https://gosspublic.alicdn.com/ossutil/${OSSUTIL_VERSION}/ossutil-v${OSSUTIL_VERSION}-linux-amd64.zip" \
 && unzip -j /tmp/ossutil.zip '*/ossutil64' -d /tmp && install -m 0755 /tmp/ossutil64 /usr/local/bin/ossutil \
 && curl -fsSL -o /tmp/cuda-keyring.deb https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/cuda-keyring_1.1-1_all.deb \
 && dpkg -i /tmp/cuda-keyring.deb && apt-get update && apt-get install -y --no-install-recommends ${CUDA_PACKAGES} \
 && rm -f /tmp/ossutil.zip /tmp/ossutil64 /tmp/cuda-keyring.deb && apt-get purge -y curl unzip && rm -rf /var/lib/apt/lists/*
# The NVIDIA container toolkit mounts the driver's compute libraries only when asked for them.
ENV LD_LIBRARY_PATH=/usr/local/cuda-12.8/targets/x86_64-linux/lib NVIDIA_DRIVER_CAPABILITIES=compute,utility
WORKDIR /opt/cloudloom
ENV NODE_ENV=production NODE_PATH=/opt/cloudloom/node_modules
# No .npmrc: the repository's skips onnxruntime-node's download, which the image needs.
COPY package.json package-lock.json tsconfig.json ./
# onnxruntime-node's postinstall downloads its CUDA 12 execution provider (libonnxruntime_providers_cuda.so and
# _shared.so, from NuGet) when ONNXRUNTIME_NODE_INSTALL_CUDA=v12 (ONNXRUNTIME_NODE_INSTALL, or an .npmrc
# onnxruntime-node-install, would win over it, so neither is set). The build fails if they did not arrive.
RUN ONNXRUNTIME_NODE_INSTALL_CUDA=v12 npm ci --omit=dev --no-audit --no-fund \
 && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so \
 && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so
COPY sdk ./sdk
COPY runtime ./runtime
COPY gateway ./gateway
COPY cli ./cli
RUN ln -s /opt/cloudloom/sdk /opt/cloudloom/node_modules/cloudloom && mkdir -p /app
USER node
EXPOSE 8080
ENTRYPOINT ["node", "/opt/cloudloom/cli/bin.js"]
CMD ["serve", "--host", "0.0.0.0"]
