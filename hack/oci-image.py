#!/usr/bin/env python3
"""Writes a single-layer OCI image layout tarball without a container engine, for
`ctr images import`: the local node's pause image (hack/build-node.sh) and other small images
made of files on this machine.

  oci-image.py --name localhost/golden-pause:dev --add /path/pause:/pause \
      --entrypoint /pause --user 65535:65535 --out pause.tar

--add HOST:IMAGE copies a file or a directory tree (owned by root, modes kept, symlinks kept).
The tarball is reproducible: fixed mtimes, sorted entries, gzip without a timestamp.
"""
import argparse, gzip, hashlib, io, json, os, tarfile


def layer_tar(adds):
    buf = io.BytesIO()
    seen = set()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def parents(path):
            parts = path.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in seen:
                    seen.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
                    tar.addfile(info)

        def add(host, name):
            name = name.strip("/")
            parents("/" + name)
            st = os.lstat(host)
            info = tar.gettarinfo(host, arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            if info.isreg():
                with open(host, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
            seen.add(name)
            if os.path.isdir(host) and not os.path.islink(host):
                for child in sorted(os.listdir(host)):
                    add(os.path.join(host, child), name + "/" + child)

        for spec in adds:
            host, _, image_path = spec.partition(":")
            add(host, image_path or "/" + os.path.basename(host))
    return buf.getvalue()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True, help="image reference, e.g. localhost/golden-pause:dev")
    p.add_argument("--add", action="append", default=[], help="HOST_PATH:IMAGE_PATH")
    p.add_argument("--entrypoint", action="append", default=[])
    p.add_argument("--cmd", action="append", default=[])
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--user", default="")
    p.add_argument("--workdir", default="")
    p.add_argument("--arch", default="amd64")
    p.add_argument("--out", required=True)
    a = p.parse_args()

    raw = layer_tar(a.add)
    diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
        g.write(raw)
    layer = gz.getvalue()
    config = {
        "architecture": a.arch, "os": "linux",
        "config": {k: v for k, v in {
            "Entrypoint": a.entrypoint or None, "Cmd": a.cmd or None, "Env": a.env or None,
            "User": a.user or None, "WorkingDir": a.workdir or None}.items() if v},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "hack/oci-image.py"}],
    }
    blobs = {}

    def blob(data, media_type):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    config_desc = blob(json.dumps(config, sort_keys=True).encode(), "application/vnd.oci.image.config.v1+json")
    layer_desc = blob(layer, "application/vnd.oci.image.layer.v1.tar+gzip")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": config_desc, "layers": [layer_desc]}
    manifest_desc = blob(json.dumps(manifest, sort_keys=True).encode(), "application/vnd.oci.image.manifest.v1+json")
    # The name goes into manifest.json's RepoTags, the archive layout of `docker save`, which
    # `ctr images import` normalizes the way the kubelet's CRI looks names up (it would take an OCI
    # index's names verbatim).
    manifest_desc["annotations"] = {"org.opencontainers.image.ref.name": a.name.rsplit(":", 1)[-1]}
    manifest_desc["platform"] = {"architecture": a.arch, "os": "linux"}
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [manifest_desc]}

    tmp = a.out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as out:
        def put(name, data):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            out.addfile(info, io.BytesIO(data))
        put("manifest.json", json.dumps([{
            "Config": "blobs/sha256/" + config_desc["digest"].split(":", 1)[1],
            "RepoTags": [a.name],
            "Layers": ["blobs/sha256/" + layer_desc["digest"].split(":", 1)[1]],
        }]).encode())
        for digest, data in sorted(blobs.items()):
            put("blobs/sha256/" + digest.split(":", 1)[1], data)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
