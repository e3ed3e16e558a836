# The cloudloom runtime image: the gateway, model servers and function servers
# all run `cloudloom serve` from it (see providers/kubernetes/README.md).
# An app's image adds its handlers and artifacts under /app:
#   FROM ghcr.io/cloudloom/runtime:0.1.0
#   COPY . /app
FROM node:20-bookworm-slim
# ossutil: model pods on ACK fetch their artifact from OSS with the node's ECS RAM role.
ARG OSSUTIL_VERSION=1.7.19
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl unzip \
 && curl -fsSL -o /tmp/ossutil.zip "https://gosspublic.alicdn.com/ossutil/${OSSUTIL_VERSION}/ossutil-v${OSSUTIL_VERSION}-linux-amd64.zip" \
 && unzip -j /tmp/ossutil.zip '*/ossutil64' -d /tmp && install -m 0755 /tmp/ossutil64 /usr/local/bin/ossutil \
 && rm -f /tmp/ossutil.zip /tmp/ossutil64 && apt-get purge -y curl unzip && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/cloudloom
ENV ONNXRUNTIME_NODE_INSTALL=skip NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY sdk ./sdk
COPY runtime ./runtime
COPY gateway ./gateway
COPY cli ./cli
COPY tsconfig.json ./
USER node
EXPOSE 8080
ENTRYPOINT ["node", "/opt/cloudloom/cli/bin.js"]
CMD ["serve", "--host", "0.0.0.0"]
