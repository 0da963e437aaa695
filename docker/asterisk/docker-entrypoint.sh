#!/usr/bin/env bash
# Container start: render the configuration from the mounted templates and the environment,
# make sure TLS material exists, then run Asterisk in the foreground as the asterisk user.
set -euo pipefail

config_root=/opt/hotline/config
own_address=$(hostname -i | awk '{print $1}')

# ARI (HTTP) and AMI listen on this container's address on the private Docker network only.
export ASTERISK_HTTP_BINDADDR="${ASTERISK_HTTP_BINDADDR:-$own_address}"
export ASTERISK_AMI_BINDADDR="${ASTERISK_AMI_BINDADDR:-$own_address}"

/usr/local/bin/render-config.sh /etc/asterisk \
  "$config_root/dialplans" "$config_root/sip" "$config_root/asterisk"

# NAT: when phones or carriers reach this node through a public or host address, PJSIP must
# put that address (not the container's) into SIP and SDP.
local_conf=/etc/asterisk/pjsip-local.conf
: >"$local_conf"
if [ -n "${ASTERISK_EXTERNAL_ADDRESS:-}" ]; then
  for transport in transport-udp transport-tcp transport-tls; do
    {
      printf '[%s](+)\n' "$transport"
      printf 'external_media_address=%s\n' "$ASTERISK_EXTERNAL_ADDRESS"
      printf 'external_signaling_address=%s\n' "$ASTERISK_EXTERNAL_ADDRESS"
      for net in ${ASTERISK_LOCAL_NETS//,/ }; do
        printf 'local_net=%s\n' "$net"
      done
      printf '\n'
    } >>"$local_conf"
  done
fi

# TLS transport: use mounted certificates; otherwise a self-signed pair, for development only.
keys=/etc/asterisk/keys
mkdir -p "$keys"
if [ ! -s "$keys/hotline.crt" ] || [ ! -s "$keys/hotline.key" ]; then
  printf 'docker-entrypoint: WARNING no certificate in %s; generating a self-signed one (development only)\n' "$keys" >&2
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 \
    -subj "/CN=${ASTERISK_TLS_COMMON_NAME:-asterisk}" \
    -keyout "$keys/hotline.key" -out "$keys/hotline.crt" 2>/dev/null
fi

chown -R asterisk:asterisk /etc/asterisk /var/lib/asterisk /var/log/asterisk /var/spool/asterisk /var/run/asterisk
chmod 0600 "$keys/hotline.key"

exec /usr/sbin/asterisk -f -U asterisk -G asterisk -vvv "$@"
