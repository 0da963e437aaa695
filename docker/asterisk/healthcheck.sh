#!/usr/bin/env bash
# Healthy = Asterisk answers on its control socket and the HTTP server (ARI) accepts connections
# on its private address. Missing required modules (modules.conf `require`) stop start-up, so
# they need no check of their own.
set -euo pipefail
asterisk -rx 'core show uptime' | grep -q 'System uptime'
address=${ASTERISK_HTTP_BINDADDR:-$(hostname -i | awk '{print $1}')}
exec 3<>"/dev/tcp/$address/8088"
