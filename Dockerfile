# The cloudloom runtime image: the gateway, model servers and function servers
# all run `cloudloom serve` from it (see providers/kubernetes/README.md).
# An app's image adds its handlers and artifacts under /app:
#   FROM ghcr.io/cloudloom/runtime:0.1.0
#   COPY . /app
FROM node:20-bookworm-slim
WORKDIR /opt/cloudloom
ENV ONNXRUNTIME_NODE_INSTALL=skip NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY sdk ./sdk
COPY gateway ./gateway
COPY cli ./cli
COPY tsconfig.json ./
USER node
EXPOSE 8080
ENTRYPOINT ["node", "/opt/cloudloom/cli/bin.js"]
CMD ["serve", "--host", "0.0.0.0"]
