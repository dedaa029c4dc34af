# One image for all four services; pick one with the SERVICE build arg or by overriding CMD.
# Build: docker build -t rag-stream .     Run: docker run -e SERVICE=chunker rag-stream
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Fixes to dependencies, applied by the postinstall script (patch-package) during npm ci.
COPY patches patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.js scripts/
COPY libs libs
COPY services services
COPY tools tools
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HTTP_HOST=0.0.0.0
# V8 heap sized for the 384Mi containers (deploy/node-options, kept equal by a test): without a
# cap V8 grows the heap lazily toward a quarter of the node's memory.
ENV NODE_OPTIONS="--max-old-space-size=160 --max-semi-space-size=8"
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl tini && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
USER node
ENV SERVICE=gateway
# tini forwards SIGTERM so the services shut down gracefully (finish batch, commit, leave group).
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["sh", "-c", "exec node dist/services/${SERVICE}/src/main.js"]
