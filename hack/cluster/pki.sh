#!/usr/bin/env bash
# Creates the local cluster's PKI: a CA, the apiserver's serving cert, one client cert per
# component (each with the identity Kubernetes' bootstrap RBAC expects), the service-account
# signing key pair, and the real node's kubelet certs. Each file is made once; an existing
# cluster directory gets only what it lacks. Usage: NODE_IP=... NODE_NAME=... pki.sh <dir>
set -euo pipefail
dir="$1"
mkdir -p "$dir"
cd "$dir"
NODE_IP="${NODE_IP:-10.88.0.1}"
NODE_NAME="${NODE_NAME:-golden-node-0}"

openssl_quiet() { openssl "$@" 2>/dev/null; }
if [[ ! -f ca.crt ]]; then
  openssl_quiet req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=golden-local-ca"
fi
if [[ ! -f sa.pub ]]; then
  openssl_quiet genrsa -out sa.key 2048
  openssl_quiet rsa -in sa.key -pubout -out sa.pub
fi

# signed <name> <subject> <extensions>: a key and a cert signed by the cluster CA, once.
signed() {
  [[ -f "$1.crt" ]] && return
  openssl_quiet req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
  openssl_quiet x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 3650 \
    -extfile <(printf '%b' "$3")
  rm -f "$1.csr"
}
# client <name> <CN> [O]
client() {
  local subj="/CN=$2"
  [[ -n "${3:-}" ]] && subj="/O=$3$subj"
  signed "$1" "$subj" 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment'
}

signed apiserver /CN=kube-apiserver "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,IP:$NODE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment"

client admin golden-admin system:masters
# The aggregation layer: kube-apiserver proxies to aggregated API servers (golden's visibility API)
# with this client certificate, signed by a CA of its own that those servers trust for the
# X-Remote-User/Group headers (kube-system/extension-apiserver-authentication).
if [[ ! -f front-proxy-client.crt ]]; then
  openssl_quiet req -x509 -newkey rsa:2048 -nodes -keyout front-proxy-ca.key -out front-proxy-ca.crt -days 3650 -subj "/CN=golden-local-front-proxy-ca"
  openssl_quiet req -newkey rsa:2048 -nodes -keyout front-proxy-client.key -out front-proxy-client.csr -subj "/CN=front-proxy-client"
  openssl_quiet x509 -req -in front-proxy-client.csr -CA front-proxy-ca.crt -CAkey front-proxy-ca.key -CAcreateserial \
    -out front-proxy-client.crt -days 3650 \
    -extfile <(printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment')
  rm -f front-proxy-client.csr
fi
client kube-controller-manager system:kube-controller-manager
client kube-scheduler system:kube-scheduler
# KWOK plays the kubelet for the fake nodes: it needs nodes, leases and pod status everywhere.
client kwok golden-kwok system:masters

# The real node. The kubelet's client identity is what the Node authorizer and NodeRestriction
# expect; its serving cert is for the node's address (the apiserver verifies it for logs/exec).
client kubelet "system:node:$NODE_NAME" system:nodes
signed kubelet-serving "/O=system:nodes/CN=system:node:$NODE_NAME" "subjectAltName=IP:$NODE_IP,DNS:$NODE_NAME\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment"
# kube-apiserver -> kubelet (logs, exec, port-forward): the kubelet authorizes it by webhook.
client apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
# kube-proxy: the bootstrap ClusterRoleBinding system:node-proxier names the user system:kube-proxy.
client kube-proxy system:kube-proxy
