# The audiolab image: server, clients and the analysis are one image in three roles.
#
# BASE_IMAGE: the official node:24-bookworm-slim by default. Where no registry can be reached
# (CI here), scripts/docker-base.sh builds an equivalent base locally (debootstrap + Node 24) and
# the build passes --build-arg BASE_IMAGE=audiolab/base:bookworm-node24.
ARG BASE_IMAGE=node:24-bookworm-slim
FROM ${BASE_IMAGE}
WORKDIR /app
# The build context carries node_modules when the host installed them (offline builds); otherwise
# the runtime dependencies are installed from the registry here.
COPY . .
RUN node -e 'const v = process.versions.node; if (!v.startsWith("24.")) { console.error("the base image has Node " + v + ", the lab needs Node 24: run bash scripts/setup.sh --docker"); process.exit(1); }' \
 && if [ ! -d node_modules/wav ]; then npm ci --omit=dev --no-audit --no-fund; fi \
 && (id node >/dev/null 2>&1 || useradd --create-home --uid 1000 node) \
 && mkdir -p /runs /tmp/node-compile-cache && chown -R node /runs /tmp/node-compile-cache /app/music
ENV NODE_COMPILE_CACHE=/tmp/node-compile-cache
USER node
ENTRYPOINT ["node", "/app/bin/audiolab.mjs"]
