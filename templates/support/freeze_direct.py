# venvoy freeze, inside the environment's image: a wheel for every package that was not
# installed from the index (PEP 610 direct_url.json). Reads the plan venvoy wrote, writes
# wheels into OUT and one JSON result per package. Never installs anything.
#
#   python3 freeze_direct.py PLAN.json OUT RESULT.json
#
# Each plan entry: name, version, dist_info (path in the image), editable, and the origin
# to build from: "src" (a local project or sdist, mounted read-only), or "url" (a VCS or
# remote archive, pip syntax). Without an origin, or when the build fails or builds
# another version, a non-editable package is rebuilt from its installed files (RECORD).
import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

plan_path, out_dir, result_path = sys.argv[1:4]
plan = json.load(open(plan_path))
os.makedirs(out_dir, exist_ok=True)


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_of(directory, name, version):
    for f in sorted(os.listdir(directory)):
        if not f.endswith(".whl"):
            continue
        parts = f[:-4].split("-")
        if len(parts) >= 5 and norm(parts[0]) == norm(name) and parts[1] == version:
            return f
    return None


def pip_wheel(target, work):
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
           "--wheel-dir", work, target]
    for extra in ([], ["--no-build-isolation"]):
        # Without an index, the image's own setuptools/wheel may still build it.
        print("venvoy: " + " ".join(cmd + extra), file=sys.stderr, flush=True)
        if subprocess.call(cmd + extra, stdout=sys.stderr) == 0:
            return True
    return False


def build(entry):
    """pip wheel from the recorded origin; the wheel must be the installed version."""
    work = tempfile.mkdtemp(prefix="venvoy-wheel-")
    try:
        target = entry.get("url")
        if entry.get("src"):
            src = entry["src"]
            if os.path.isdir(src):
                # Built in a copy: the mount is read-only and setuptools writes in-tree.
                copy = os.path.join(work, "src")
                shutil.copytree(src, copy, symlinks=True)
                target = copy
                if entry.get("subdirectory"):
                    target = os.path.join(copy, entry["subdirectory"])
            else:
                target = src
        if not target or not pip_wheel(target, work):
            return None, "the build from its origin failed"
        got = wheel_of(work, entry["name"], entry["version"])
        if not got:
            built = [f for f in os.listdir(work) if f.endswith(".whl")]
            return None, "its origin now builds %s, not version %s" % (
                ", ".join(built) or "nothing", entry["version"])
        shutil.move(os.path.join(work, got), os.path.join(out_dir, got))
        return got, None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def record_hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def reconstruct(entry):
    """A wheel from the installed files RECORD lists (the origin is gone)."""
    dist_info = entry["dist_info"].rstrip("/")
    site = os.path.dirname(dist_info)
    info_name = os.path.basename(dist_info)
    prefix = os.path.normpath(os.path.join(site, "..", "..", ".."))
    try:
        rows = list(csv.reader(open(os.path.join(dist_info, "RECORD"), newline="")))
    except OSError:
        return None, "it has no RECORD of its installed files"
    tag = "py3-none-any"
    try:
        for line in open(os.path.join(dist_info, "WHEEL")):
            if line.startswith("Tag:"):
                tag = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    dist = info_name[: -len(".dist-info")]
    stem = dist.rsplit("-", 1)[0].replace("-", "_")
    data_dir = "%s-%s.data" % (stem, entry["version"])
    skip = {info_name + "/" + f for f in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")}
    members = []
    for row in rows:
        if not row or not row[0]:
            continue
        path = os.path.normpath(os.path.join(site, row[0]))
        if path.endswith(".pyc") or "__pycache__" in path.split(os.sep):
            continue
        rel = os.path.relpath(path, site)
        if not rel.startswith(".."):
            arc = rel.replace(os.sep, "/")
        elif os.path.dirname(path) == os.path.join(prefix, "bin"):
            arc = "%s/scripts/%s" % (data_dir, os.path.basename(path))
        else:
            continue
        if arc in skip:
            continue
        if not os.path.isfile(path):
            return None, "its installed file %s is missing" % path
        members.append((arc, path))
    if not any(a.startswith(info_name + "/METADATA") for a, _ in members):
        return None, "its RECORD does not list its METADATA"
    name = "%s-%s-%s.whl" % (stem, entry["version"], tag)
    tmp = os.path.join(out_dir, "." + name + ".partial")
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for arc, path in sorted(members):
            data = open(path, "rb").read()
            info = zipfile.ZipInfo(arc, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (os.stat(path).st_mode & 0o777 | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
            writer.writerow([arc, record_hash(data), len(data)])
        writer.writerow([info_name + "/RECORD", "", ""])
        info = zipfile.ZipInfo(info_name + "/RECORD", date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o100644 << 16
        z.writestr(info, record.getvalue())
    os.replace(tmp, os.path.join(out_dir, name))
    return name, None


results = []
for entry in plan:
    res = {"name": entry["name"], "version": entry["version"], "wheel": None, "how": None,
           "why": None}
    why = entry.get("gone") or "its origin is gone"
    if entry.get("src") or entry.get("url"):
        wheel, why = build(entry)
        if wheel:
            res.update(wheel=wheel, how="built")
    if not res["wheel"] and entry.get("editable"):
        res["why"] = why
    elif not res["wheel"]:
        wheel, why2 = reconstruct(entry)
        if wheel:
            res.update(wheel=wheel, how="reconstructed", why=why)
        else:
            res["why"] = "%s, and %s" % (why, why2)
    results.append(res)

with open(result_path, "w") as f:
    json.dump(results, f)
