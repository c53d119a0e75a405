# Local stand-ins for the public base images of ../../Dockerfile, for machines that cannot pull
# them (built by hack/image/bases.sh from a Debian bookworm rootfs and Node from the npm registry):
#   node-build    ~ node:24-bookworm-slim: Debian minbase + node and npm in /usr/local
#   node-runtime  ~ gcr.io/distroless/nodejs24-debian12:nonroot: FROM scratch with only glibc,
#                 libstdc++/libgcc, CA certificates, tzdata, /etc/passwd with nonroot (65532) and
#                 node at /nodejs/bin/node; no shell, no package manager
# Context: node/bin/node and npm/ (the npm package), unpacked by bases.sh.
ARG DEBIAN_IMAGE

FROM ${DEBIAN_IMAGE} AS node-build
COPY node/bin/node /usr/local/bin/node
COPY npm/ /usr/local/lib/node_modules/npm/
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
CMD ["node"]

FROM ${DEBIAN_IMAGE} AS runtime-files
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY node/bin/node /out/nodejs/bin/node
WORKDIR /out
# The files of the packages node needs (their shared libraries, zoneinfo), not their docs or
# glibc's gconv modules; merged-/usr symlinks as in Debian.
RUN set -eu; mkdir -p usr/lib usr/lib64; ln -s usr/lib lib; ln -s usr/lib64 lib64; \
    for p in libc6 libgcc-s1 libstdc++6 tzdata; do dpkg -L "$p"; done \
      | grep -vE '^/usr/share/(doc|lintian|gcc|gdb)/|/gconv/' \
      | while read -r f; do [ -d "$f" ] && [ ! -L "$f" ] || echo "${f#/}"; done >/tmp/files; \
    tar -C / --no-recursion -cf - -T /tmp/files | tar -C /out -xf -; \
    mkdir -p etc/ssl/certs tmp home/nonroot root; chmod 1777 tmp; chmod 0700 root; \
    chown 65532:65532 home/nonroot; chmod 0700 home/nonroot; \
    cp /etc/ssl/certs/ca-certificates.crt etc/ssl/certs/; cp -L /etc/os-release etc/os-release; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >etc/passwd; \
    printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >etc/group; \
    printf 'passwd: files\ngroup: files\nhosts: files dns\n' >etc/nsswitch.conf; \
    ln -s /usr/share/zoneinfo/Etc/UTC etc/localtime; \
    /out/lib64/ld-linux-x86-64.so.2 --library-path /out/usr/lib/x86_64-linux-gnu /out/nodejs/bin/node --version

FROM scratch AS node-runtime
COPY --from=runtime-files /out/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/nodejs/bin/node"]
