# The harvest worker image (also runs `dedl-harvest emulator` in the compose `emulator` profile).
# glibc base: Temporal's native core-bridge ships no musl build, so no alpine.
# Build:  docker build -t dedl-harvester:local .    Run: see docker-compose.yml and the README.

FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts skipped: `prepare` would compile before the sources are copied; the build runs below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
# Compile, then prebundle the workflow code so a worker does not run webpack at every start:
# one bundle as is, one with the encrypting failure converter for workers with DEDL_PAYLOAD_KEYS.
RUN npm run build \
  && npx tsx scripts/bundle-workflows.ts dist/workflow-bundle.js \
  && npx tsx scripts/bundle-workflows.ts dist/workflow-bundle-encrypted.js --encrypted-failures

FROM node:24.22.3-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only; no install script is needed by them (the native module is prebuilt).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist ./dist
# Local sinks and the emulator's state live under /data (a named volume in compose).
RUN mkdir -p /data && chown node:node /data
ENV DEDL_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
USER node
CMD ["node", "bin/dedl-harvest.js", "worker"]
