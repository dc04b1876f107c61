# makima in a container: `makima daemon` by default (deploy/k8s/ runs it in Kubernetes).
#
#   docker build -t makima:latest .
#   docker run --rm -e MAKIMA_DAEMON_SERVER_APIKEY=... -e CLAUDE_CODE_OAUTH_TOKEN=... \
#     -v makima-home:/var/lib/makima makima:latest
#   docker run --rm -it -v makima-home:/var/lib/makima makima:latest task list --all
#
# Two stages: `build` installs the native modules (better-sqlite3, compiled when no prebuilt binary
# fits; @lydell/node-pty, prebuilt) and builds the CLI bundle,
# then drops the devDependencies; the runtime image gets the result, git and the Claude Code CLI.
# Both stages use the same base image, so the native modules match the runtime's Node and libc.
# Node 24 (LTS): makima supports Node 22, 24 and 26 (package.json engines).

FROM node:24-slim AS build
# node-gyp needs python3, make and a C++ compiler when no prebuilt binary fits.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# npm ci runs package.json's `prepare` (scripts/prepare.mjs), which builds only where src/ is: here
# it finds none yet and leaves the build to `npm run build` below, after the sources.
COPY scripts ./scripts
# Never --omit=optional: the Claude Code devDependency gets its native binary that way (the build
# itself does not need it, but npm ci must see the same tree as CI).
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund

FROM node:24-slim AS runtime
# The newest Claude Code version makima is tested with: package.json's devDependency
# @anthropic-ai/claude-code (test/unit/deploy-manifests.test.ts keeps the two equal).
ARG CLAUDE_CODE_VERSION=2.1.332
# More Debian packages for tasks: bubblewrap for process.bubblewrap.enabled (it needs
# unprivileged user namespaces, which most pods do not allow), openssh-client for ssh remotes.
# Add gh here for the `pr` completion action (it also needs GH_TOKEN in the environment).
ARG EXTRA_PACKAGES="bubblewrap openssh-client"
# git: worktrees, checkpoints, merges. tini: PID 1 that forwards SIGTERM to makima, passes its
# exit code (42 after restartDaemon) through, and reaps the orphans of ended task processes.
RUN apt-get update \
  && apt-get install -y --no-install-recommends git ca-certificates tini ${EXTRA_PACKAGES} \
  && rm -rf /var/lib/apt/lists/*
# Without --omit=optional (the native claude binary is an optional dependency).
RUN npm install -g --no-audit --no-fund "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}" \
  && npm cache clean --force

# The app, owned by root and read-only for the user that runs it.
WORKDIR /opt/makima
COPY --from=build /src/package.json /src/oclif.manifest.json ./
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist ./dist
COPY --from=build /src/node_modules ./node_modules
RUN ln -s /opt/makima/bin/run.js /usr/local/bin/makima

# A non-root user with a fixed uid/gid (deploy/k8s/deployment.yaml's securityContext uses them;
# numeric, so Kubernetes can check runAsNonRoot). MAKIMA_HOME is the one place makima writes:
# the SQLite database, worktrees, cached clones, logs. HOME points there too, so Claude Code's
# ~/.claude (sessions that resumed tasks need, its settings) and git's ~/.gitconfig survive restarts.
RUN groupadd --gid 10001 makima \
  && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/makima --shell /bin/bash makima \
  && mkdir -p /var/lib/makima \
  && chown 10001:10001 /var/lib/makima \
  && chmod 0700 /var/lib/makima
# The daemon serves /healthz, /readyz and /metrics on 9464 (Prometheus' exporter range), on every
# interface of the container: the kubelet's probes and Prometheus reach it there.
ENV MAKIMA_HOME=/var/lib/makima \
  HOME=/var/lib/makima \
  DISABLE_AUTOUPDATER=1 \
  MAKIMA_DAEMON_DAEMON_METRICSPORT=9464 \
  MAKIMA_DAEMON_DAEMON_METRICSHOST=0.0.0.0
EXPOSE 9464
VOLUME ["/var/lib/makima"]
USER 10001:10001
WORKDIR /var/lib/makima

ENTRYPOINT ["/usr/bin/tini", "--", "makima"]
CMD ["daemon"]
