#!/usr/bin/env bash
# Creates the local cluster's PKI once: a CA, the apiserver's serving cert, one client cert per
# component (each with the identity Kubernetes' bootstrap RBAC expects) and the service-account
# signing key pair. Usage: pki.sh <dir>
set -euo pipefail
dir="$1"
mkdir -p "$dir"
cd "$dir"
[[ -f ca.crt ]] && exit 0

openssl_quiet() { openssl "$@" 2>/dev/null; }
openssl_quiet req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=golden-local-ca"
openssl_quiet genrsa -out sa.key 2048
openssl_quiet rsa -in sa.key -pubout -out sa.pub

# client <name> <CN> [O]
client() {
  local subj="/CN=$2"
  [[ -n "${3:-}" ]] && subj="/O=$3$subj"
  openssl_quiet req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$subj"
  openssl_quiet x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 3650 \
    -extfile <(printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment')
  rm -f "$1.csr"
}

openssl_quiet req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
openssl_quiet x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 \
  -extfile <(printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,IP:%s,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment' "${NODE_IP:-10.88.0.1}")
rm -f apiserver.csr

client admin golden-admin system:masters
# The aggregation layer: kube-apiserver proxies to aggregated API servers (golden's visibility API)
# with this client certificate, signed by a CA of its own that those servers trust for the
# X-Remote-User/Group headers (kube-system/extension-apiserver-authentication).
openssl_quiet req -x509 -newkey rsa:2048 -nodes -keyout front-proxy-ca.key -out front-proxy-ca.crt -days 3650 -subj "/CN=golden-local-front-proxy-ca"
openssl_quiet req -newkey rsa:2048 -nodes -keyout front-proxy-client.key -out front-proxy-client.csr -subj "/CN=front-proxy-client"
openssl_quiet x509 -req -in front-proxy-client.csr -CA front-proxy-ca.crt -CAkey front-proxy-ca.key -CAcreateserial \
  -out front-proxy-client.crt -days 3650 \
  -extfile <(printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment')
rm -f front-proxy-client.csr
client kube-controller-manager system:kube-controller-manager
client kube-scheduler system:kube-scheduler
# KWOK and the local runner play kubelets: they need nodes, leases and pod status everywhere.
client kwok golden-kwok system:masters
client local-runner golden-local-runner system:masters
