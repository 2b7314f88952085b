"""The Debian package: builds it with CPack from this build tree, checks its dependencies and
files, installs it with dpkg into a throw-away root (its maintainer scripts run against that
root: user galeratop, /etc/galeratop 0750), runs the installed galeratopd --check-config on
the shipped example, checks that this machine's dpkg would accept it (dry run) and that
lintian finds nothing, and purges it.
Usage: check_package.py BUILD_DIR WORK_DIR"""

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

DEPENDS = ["systemd", "libmariadb3", "libsystemd0", "libncursesw6", "libprometheus-cpp-core1.0", "libtomlplusplus3",
           "libfmt9", "libstdc++6", "libssl3"]
FILES = ["./usr/sbin/galeratopd", "./usr/bin/galeratop", "./usr/lib/systemd/system/galeratopd.service",
         "./usr/lib/systemd/system/galeratopd.socket",
         "./usr/lib/sysusers.d/galeratop.conf", "./usr/lib/tmpfiles.d/galeratop.conf", "./etc/galeratop/galeratopd.toml",
         "./usr/share/man/man8/galeratopd.8.gz", "./usr/share/man/man1/galeratop.1.gz",
         "./usr/share/man/man5/galeratopd.toml.5.gz", "./usr/share/galeratop/galeratop.rules.yml",
         "./usr/share/galeratop/galeratop-dashboard.json", "./usr/share/doc/galeratop/examples/ha/keepalived.conf",
         "./usr/share/doc/galeratop/examples/ha/galeratopd.toml", "./usr/share/doc/galeratop/examples/ha/README.md"]


def run(*argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300, **kw)
    if r.returncode != 0:
        sys.exit(f"FAIL {' '.join(map(str, argv))}: exit {r.returncode}\n{r.stdout}{r.stderr}")
    return r.stdout


def main():
    build, work = Path(sys.argv[1]), Path(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    run("cpack", "-G", "DEB", "-B", str(work), cwd=build)
    deb = next(work.glob("galeratop_*.deb"))
    failures = []

    depends = run("dpkg-deb", "--field", str(deb), "Depends")
    names = {d.strip().split()[0] for d in depends.split(",")}
    failures += [f"Depends lacks {d}: {depends}" for d in DEPENDS if d not in names]
    if "libprometheus-cpp-pull1.0" in names:
        failures.append("Depends names prometheus-cpp's pull library, which galeratopd no longer links")
    contents = {line.split()[-1] for line in run("dpkg-deb", "--contents", str(deb)).splitlines()}
    failures += [f"the package lacks {f}" for f in FILES if f not in contents]

    # Debian's own checker. Two tags wait on decisions that are the owners' to make: the licence
    # (debian/copyright) and a release history (changelog).
    r = subprocess.run(["lintian", "--fail-on", "error,warning", "--suppress-tags",
                        "no-copyright-file,no-changelog", str(deb)], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        tags = [l for l in r.stdout.splitlines() if l[:2] in ("E:", "W:")]
        failures.append(f"lintian (exit {r.returncode}): " + ("; ".join(tags) or r.stderr.strip()))

    root = work / "root"
    for d in ("var/lib/dpkg/updates", "var/lib/dpkg/info", "etc"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "var/lib/dpkg/status").touch()
    for f in ("passwd", "group"):
        shutil.copy(f"/etc/{f}", root / "etc" / f)
    # The root has no packages of its own, so dependencies are this machine's concern (checked below).
    dpkg = ["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends", "--log=/dev/null"]
    run(*dpkg, "-i", str(deb))
    user = [l for l in (root / "etc/passwd").read_text().splitlines() if l.startswith("galeratop:")]
    if not user:
        failures.append("postinst did not create user galeratop")
    conf_dir = root / "etc/galeratop"
    if oct(conf_dir.stat().st_mode & 0o777) != "0o750":
        failures.append(f"/etc/galeratop is {oct(conf_dir.stat().st_mode & 0o777)}, not 0750")
    status = run("dpkg", f"--root={root}", "-s", "galeratop")
    if "/etc/galeratop/galeratopd.toml" not in status.split("Conffiles:", 1)[-1]:
        failures.append("/etc/galeratop/galeratopd.toml is not a conffile")
    for page in (p for p in FILES if "/man/" in p and (root / p).exists()):
        with gzip.open(root / page) as text:
            if b"\n.TH " not in b"\n" + text.read():
                failures.append(f"{page} is not a gzipped man page")
    checked = run(str(root / "usr/sbin/galeratopd"), "--check-config", str(conf_dir / "galeratopd.toml"))
    if "is valid" not in checked:
        failures.append(f"the shipped example is not valid: {checked}")
    ha = root / "usr/share/doc/galeratop/examples/ha/galeratopd.toml"
    if ha.exists() and "is valid" not in (checked := run(str(root / "usr/sbin/galeratopd"), "--check-config", str(ha))):
        failures.append(f"the two-agent example is not valid: {checked}")
    # This machine's dpkg, without --root: every dependency resolves (nothing is installed).
    if os.geteuid() == 0:
        run("dpkg", "--dry-run", "-i", str(deb))
    run(*dpkg, "--purge", "galeratop")
    left = [p for p in ("usr/sbin/galeratopd", "etc/galeratop/galeratopd.toml") if (root / p).exists()]
    failures += [f"{p} is left after purge" for p in left]

    for f in failures:
        print(f"FAIL {f}")
    if failures:
        sys.exit(1)
    print(f"{deb.name}: {len(contents)} paths, Depends: {depends.strip()}; installed, example valid, purged")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
