"""The systemd files galeratop installs, checked by systemd's own tools: `systemd-analyze verify`
on galeratopd.service and galeratopd.socket (with galeratopd's real path and the project's man
pages, so that ExecStart= and Documentation= are resolved too), systemd-sysusers and systemd-tmpfiles
applied to a throw-away root. Usage: check_systemd_files.py UNIT GALERATOPD SOURCE_DIR"""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REQUIRED = {"Type": "notify", "ExecReload": "/bin/kill -HUP $MAINPID", "User": "galeratop",
            "RuntimeDirectory": "galeratop", "StateDirectory": "galeratop", "NoNewPrivileges": "yes",
            "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
            "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE", "WatchdogSec": "10s"}


def socket_addresses_unknown(socket_unit, config):
    """The socket's ListenStream= lines that no listener of the packaged configuration has: the
    socket would be passed and closed, and the listener bind its own."""
    listeners = set(re.findall(r'^(?:listen|address)\s*=\s*"([^"]+)"', config.read_text(), re.M))
    streams = re.findall(r"^ListenStream=(.*)$", socket_unit.read_text(), re.M)
    return [f"ListenStream={s}" for s in streams if s not in listeners] + ([] if streams else ["no ListenStream="])


def main():
    unit, galeratopd, source = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    failures = []
    text = unit.read_text()
    keys = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    for key, value in REQUIRED.items():
        if keys.get(key) != value:
            failures.append(f"{unit.name}: {key}={keys.get(key)!r}, expected {value!r}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        installed = re.search(r"^ExecStart=(\S+)", text, re.M).group(1)
        (tmp / unit.name).write_text(text.replace(installed, galeratopd))
        socket_unit = source / "agent" / "systemd" / "galeratopd.socket"
        shutil.copy(socket_unit, tmp / socket_unit.name)
        failures += [f"{socket_unit.name}: {line} is not a listener of examples/galeratopd.toml"
                     for line in socket_addresses_unknown(socket_unit, source / "examples" / "galeratopd.toml")]
        for section, page in (("man8", "galeratopd.8"), ("man5", "galeratopd.toml.5"), ("man1", "galeratop.1")):
            (tmp / "man" / section).mkdir(parents=True, exist_ok=True)
            shutil.copy(source / "man" / page, tmp / "man" / section / page)
        r = subprocess.run(["systemd-analyze", "verify", str(tmp / unit.name), str(tmp / socket_unit.name)],
                           capture_output=True, text=True,
                           env={"MANPATH": str(tmp / "man"), "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})
        # It only warns about many mistakes (an unknown Type=, say): any line about our units fails.
        ours = [l for l in (r.stdout + r.stderr).splitlines() if unit.name in l or socket_unit.name in l]
        if r.returncode != 0 or ours:
            failures.append(f"systemd-analyze verify (exit {r.returncode}): " + "\n".join(ours or [r.stderr]))

        root = tmp / "root"
        (root / "etc").mkdir(parents=True)
        for f in ("passwd", "group"):
            shutil.copy(f"/etc/{f}", root / "etc" / f)
        sysusers = source / "agent" / "systemd" / "galeratop.sysusers"
        tmpfiles = source / "agent" / "systemd" / "galeratop.tmpfiles"
        r = subprocess.run(["systemd-sysusers", f"--root={root}", str(sysusers)], capture_output=True, text=True)
        user = [l for l in (root / "etc" / "passwd").read_text().splitlines() if l.startswith("galeratop:")]
        if r.returncode != 0 or not user or not user[0].endswith(":/var/lib/galeratop:/usr/sbin/nologin"):
            failures.append(f"systemd-sysusers: exit {r.returncode}, user {user}: {r.stderr}")
        r = subprocess.run(["systemd-tmpfiles", f"--root={root}", "--create", str(tmpfiles)], capture_output=True,
                           text=True)
        conf = root / "etc" / "galeratop"
        gid = [l.split(":")[2] for l in (root / "etc" / "group").read_text().splitlines()
               if l.startswith("galeratop:")]
        if r.returncode != 0 or not conf.is_dir() or oct(conf.stat().st_mode & 0o777) != "0o750" \
                or [str(conf.stat().st_gid)] != gid:
            failures.append(f"systemd-tmpfiles: exit {r.returncode}: {r.stderr}")
    for f in failures:
        print(f"FAIL {f}")
    if failures:
        sys.exit(1)
    print(f"{unit.name}, sysusers and tmpfiles: verified")


if __name__ == "__main__":
    main()
