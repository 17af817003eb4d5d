#!/usr/bin/env python3
"""docker_files.py: checks docker/ offline (no Docker engine needed).

    python3 docker_files.py TOPSRC PROXY WORKDIR

Used by docker_files.sh.  Reads docker/compose.yaml (as YAML), the Dockerfile
it builds, the .dockerignore of the build context and the configurations the
image ships and compose mounts, and checks that:

  - every path they name exists: build context and dockerfile, bind-mount
    sources, COPY/ADD sources, and repository paths in their comments;
  - the final stage has a USER that is not root and a HEALTHCHECK (its exec
    form valid JSON);
  - every published port (compose `ports`, `-p` of the `docker run` lines in
    the Dockerfile's comments) is one the configuration behind it listens on
    with an all-addresses bind (0.0.0.0 or [::]): 127.0.0.1 in a container is
    out of reach of -p;
  - a server the mounted configuration names by host name is a compose
    service (Docker's DNS answers for it); one named by IP is a fixed
    address of a service, inside the network's subnet; and no service has a
    fixed address that no server needs;
  - .dockerignore keeps every COPY source and drops .git, build/, the proxy
    binary and tests/ except what is copied;
  - `PROXY -t -c FILE` accepts each of those configurations;
  - the build stage builds: its COPY sources (less what .dockerignore drops)
    in a fresh directory, its `make` RUN lines run there, and the binary's
    shared libraries come from the packages the final stage installs;
  - the HEALTHCHECK command passes against the proxy running the image's
    configuration (its ports moved to free ones) and fails once it stopped.

Prints one line per check and `wrong: ...` per failure; exit 1 on any.
"""
import glob
import ipaddress
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time

try:
    import yaml
except ImportError:
    print("wrong: python3 has no yaml module (Debian: python3-yaml; make deps installs it)")
    sys.exit(1)

TOP, PROXY, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
COMPOSE = os.path.join(TOP, "docker", "compose.yaml")
CONF_IN_IMAGE = "/etc/proxy/proxy.conf"
problems = []


def wrong(msg):
    problems.append(msg)
    print("wrong: " + msg)


def ok(msg):
    print("ok: " + msg)


def rel(path):
    return os.path.relpath(path, TOP)


# ---- repository paths named in comments ------------------------------------
TOP_NAMES = set(os.listdir(TOP)) | {"conf", "docker", "src", "include", "tests"}
PATH_RE = re.compile(r"(?<![\w$/.:@-])((?:\.\.?/)?[A-Za-z_][\w.-]*(?:/[\w.-]+)+)")


def comment_paths(text, here):
    """(token, resolved path) for each repository path in TEXT's # comments."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s.startswith("#"):
            continue
        for tok in PATH_RE.findall(s):
            tok = tok.rstrip(".,;:)")
            if tok.startswith("./") or tok.startswith("../"):
                out.append((tok, os.path.normpath(os.path.join(here, tok))))
            elif tok.split("/")[0] in TOP_NAMES:
                out.append((tok, os.path.join(TOP, tok)))
    return out


def check_comment_paths(path):
    text = open(path).read()
    n = 0
    for tok, full in comment_paths(text, os.path.dirname(path)):
        n += 1
        if not os.path.exists(full):
            wrong(f"{rel(path)}: a comment names {tok}, which does not exist ({rel(full)})")
    ok(f"{rel(path)}: {n} paths named in comments checked")


# ---- the proxy's configuration ------------------------------------------------
def conf_lines(path):
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line:
            yield line.split()


def split_addr(a):
    """host, port of ADDR:PORT, [V6]:PORT, :PORT or PORT."""
    if ":" not in a:
        return "", a
    host, _, port = a.rpartition(":")
    return host.strip("[]"), port


def all_addresses(host):
    return host in ("", "*", "0.0.0.0", "::")


def conf_info(path):
    """{port: host} of listen and stats, and the server addresses."""
    binds, servers = {}, []
    for w in conf_lines(path):
        if w[0] in ("listen", "stats") and len(w) > 1:
            host, port = split_addr(w[1])
            binds[port] = host
        elif w[0] in ("server", "standby") and len(w) > 2:
            servers.append(split_addr(w[2]))
    return binds, servers


def stats_port(path):
    for w in conf_lines(path):
        if w[0] == "stats" and len(w) > 1:
            return split_addr(w[1])[1]
    return None


def check_conf_t(path, what):
    r = subprocess.run([PROXY, "-t", "-c", path], capture_output=True, text=True)
    if r.returncode != 0:
        wrong(f"{what} {rel(path)} fails proxy -t: {(r.stdout + r.stderr).strip()}")
    else:
        ok(f"{what} {rel(path)} passes proxy -t")


def check_published(conf, port, where):
    binds, _ = conf_info(conf)
    if port not in binds:
        wrong(f"{where} publishes container port {port}, on which {rel(conf)} does not listen"
              f" (it listens on {sorted(binds) or 'nothing'})")
    elif not all_addresses(binds[port]):
        wrong(f"{where} publishes container port {port}, but {rel(conf)} binds it to "
              f"{binds[port]}: inside a container -p cannot reach that; use 0.0.0.0")
    else:
        ok(f"{where}: container port {port} is listened on all addresses by {rel(conf)}")


# ---- .dockerignore ------------------------------------------------------------
def ignore_patterns(context, dockerfile):
    for cand in (dockerfile + ".dockerignore", os.path.join(context, ".dockerignore")):
        if os.path.exists(cand):
            pats = []
            for line in open(cand):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                neg = line.startswith("!")
                pat = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
                pats.append((neg, pat))
            return cand, pats
    return None, []


def pat_regex(pat):
    """A .dockerignore pattern as a regex: * and ? within a name, ** across."""
    rx, i = "", 0
    while i < len(pat):
        if pat.startswith("**/", i):
            rx, i = rx + "(?:.*/)?", i + 3
        elif pat.startswith("**", i):
            rx, i = rx + ".*", i + 2
        elif pat[i] == "*":
            rx, i = rx + "[^/]*", i + 1
        elif pat[i] == "?":
            rx, i = rx + "[^/]", i + 1
        else:
            rx, i = rx + re.escape(pat[i]), i + 1
    return re.compile(rx + "$")


def ignored(pats, path):
    """Docker's rule: the last pattern matching PATH or a parent of it wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    result = False
    for neg, pat in pats:
        rx = pat_regex(pat)
        if any(rx.match(p) for p in prefixes):
            result = not neg
    return result


# ---- the Dockerfile ---------------------------------------------------------------
def dockerfile_instructions(path):
    """(instruction, arguments) of each logical line, comments dropped."""
    out, cur = [], ""
    for line in open(path):
        s = line.rstrip("\n")
        if s.strip().startswith("#") or (not s.strip() and not cur):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        ins, _, args = cur.strip().partition(" ")
        out.append((ins.upper(), args.strip()))
        cur = ""
    return out


def stages(instrs):
    st = []
    for ins, args in instrs:
        if ins == "FROM":
            st.append({"from": args, "instrs": []})
        elif st:
            st[-1]["instrs"].append((ins, args))
    return st


def copy_args(args):
    """flags, sources, dest of COPY/ADD arguments (shell or JSON form)."""
    words = shlex.split(args)
    flags = [w for w in words if w.startswith("--")]
    words = [w for w in words if not w.startswith("--")]
    if args.lstrip().startswith("["):
        words = json.loads(args[args.index("["):])
    return flags, words[:-1], words[-1]


def published_in_docs(path):
    """container ports of -p/--publish in the `docker run` lines of comments."""
    ports, text = [], open(path).read()
    for m in re.finditer(r"docker run[^\n]*(?:\\\n#[^\n]*)*", text):
        for spec in re.findall(r"(?:-p|--publish)[ =](\S+)", m.group(0)):
            ports.append(spec.split("/")[0].split(":")[-1])
    return ports


def free_port():
    """A free loopback port below the ephemeral range (as lib.sh's)."""
    import random
    while True:
        p = random.randrange(20000, 32000)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            s.close()


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def main():
    # ---- compose.yaml
    try:
        compose = yaml.safe_load(open(COMPOSE))
    except (OSError, yaml.YAMLError) as e:
        wrong(f"docker/compose.yaml does not parse as YAML: {e}")
        return
    ok("docker/compose.yaml parses as YAML")
    check_comment_paths(COMPOSE)
    cdir = os.path.dirname(COMPOSE)
    services = compose.get("services") or {}
    if not services:
        wrong("docker/compose.yaml has no services")
    builds, proxy_confs, fixed = [], [], {}
    for name, svc in services.items():
        b = svc.get("build")
        if b is not None:
            b = {"context": b} if isinstance(b, str) else b
            ctx = os.path.normpath(os.path.join(cdir, b.get("context", ".")))
            df = os.path.join(ctx, b.get("dockerfile", "Dockerfile"))
            if not os.path.isdir(ctx):
                wrong(f"service {name}: build context {rel(ctx)} is not a directory")
            elif not os.path.isfile(df):
                wrong(f"service {name}: dockerfile {rel(df)} does not exist")
            else:
                ok(f"service {name}: builds {rel(df)} in context {rel(ctx) or '.'}")
                builds.append((name, ctx, df))
        for v in svc.get("volumes") or []:
            if isinstance(v, str):
                src, _, rest = v.partition(":")
                dst = rest.split(":")[0]
                bind = src.startswith((".", "/", "~"))
            else:
                src, dst, bind = v.get("source", ""), v.get("target", ""), v.get("type") == "bind"
            if not bind:
                continue
            full = os.path.normpath(os.path.join(cdir, os.path.expanduser(src)))
            if not os.path.exists(full):
                wrong(f"service {name}: volume source {src} does not exist ({rel(full)})")
            else:
                ok(f"service {name}: volume source {src} is {rel(full)}")
                if dst == CONF_IN_IMAGE:
                    proxy_confs.append((name, full))
        for f in ([svc["env_file"]] if isinstance(svc.get("env_file"), str) else svc.get("env_file") or []):
            f = f if isinstance(f, str) else f.get("path", "")
            if not os.path.exists(os.path.join(cdir, f)):
                wrong(f"service {name}: env_file {f} does not exist")
        nets = svc.get("networks") or {}
        if isinstance(nets, dict):
            for net, opts in nets.items():
                if isinstance(opts, dict) and opts.get("ipv4_address"):
                    fixed[opts["ipv4_address"]] = (name, net)

    # Servers by name are services; by IP, fixed addresses of services; and
    # fixed addresses only for those.
    server_ips, server_names = set(), set()
    for name, conf in proxy_confs:
        for h, _ in conf_info(conf)[1]:
            try:
                ipaddress.ip_address(h)
                server_ips.add(h)
            except ValueError:
                server_names.add(h)
        for h in sorted(server_ips - set(fixed)):
            wrong(f"{rel(conf)} names server address {h}, which no service of compose.yaml has")
        for h in sorted(server_names - set(services)):
            wrong(f"{rel(conf)} names server host {h}, which is no service of compose.yaml"
                  " (Docker's DNS would not answer for it)")
    ok(f"servers by service name: {sorted(server_names) or 'none'}")
    for ip, (name, net) in sorted(fixed.items()):
        if ip not in server_ips:
            wrong(f"service {name} has the fixed address {ip}, which no mounted configuration"
                  " names as a server: leave it to Docker")
        subnets = [c.get("subnet") for c in
                   (((compose.get("networks") or {}).get(net) or {}).get("ipam") or {}).get("config") or []]
        if not any(s and ipaddress.ip_address(ip) in ipaddress.ip_network(s) for s in subnets):
            wrong(f"service {name}: {ip} is in no subnet of network {net} ({subnets})")
    for net, n in (compose.get("networks") or {}).items():
        cfg = ((n or {}).get("ipam") or {}).get("config") or []
        if cfg and not any(v[1] == net for v in fixed.values()):
            wrong(f"network {net} fixes a subnet that no fixed address needs")
    ok(f"fixed addresses: {sorted(fixed) or 'none'}; server addresses: {sorted(server_ips) or 'none'}")

    # Published ports reach a listener.
    for name, conf in proxy_confs:
        for spec in services[name].get("ports") or []:
            spec = spec if isinstance(spec, str) else str(spec.get("target"))
            check_published(conf, str(spec).split("/")[0].split(":")[-1], f"compose service {name}")
        check_conf_t(conf, f"the configuration compose mounts for {name}")

    # ---- the Dockerfile(s)
    for name, ctx, df in builds:
        check_dockerfile(name, ctx, df)


def check_dockerfile(name, ctx, df):
    check_comment_paths(df)
    st = stages(dockerfile_instructions(df))
    if not st:
        wrong(f"{rel(df)} has no FROM")
        return
    final = st[-1]["instrs"]
    ign_file, pats = ignore_patterns(ctx, df)
    if ign_file is None:
        wrong(f"no .dockerignore in the build context {rel(ctx) or '.'}: the whole tree"
              " (.git, build/, tests/) is sent to the builder")
    else:
        ok(f"{rel(ign_file)}: {len(pats)} patterns")

    # COPY sources exist and are not ignored; what the image ships.
    shipped, copied = None, []
    for si, s in enumerate(st):
        for ins, args in s["instrs"]:
            if ins not in ("COPY", "ADD"):
                continue
            flags, srcs, dest = copy_args(args)
            if any(f.startswith("--from") for f in flags):
                continue
            for src in srcs:
                if re.match(r"https?://", src):
                    continue
                hits = glob.glob(os.path.join(ctx, src))
                if not hits:
                    wrong(f"{rel(df)}: {ins} {src}: no such file in the context")
                    continue
                if pats and ignored(pats, os.path.normpath(src)):
                    wrong(f"{rel(df)}: {ins} {src}: dropped by .dockerignore")
                copied.append((si, src, dest))
                if si == len(st) - 1 and dest == CONF_IN_IMAGE:
                    shipped = os.path.join(ctx, src)
    ok(f"{rel(df)}: {len(copied)} COPY/ADD sources exist")

    if pats:
        must_drop = [".git", "build", "proxy"]
        tests_dir = os.path.join(ctx, "tests")
        for root, dirs, files in os.walk(tests_dir):
            for f in files:
                must_drop.append(os.path.relpath(os.path.join(root, f), ctx))
        kept = []
        for p in must_drop:
            copied_here = any(p == os.path.normpath(src) or p.startswith(os.path.normpath(src) + "/")
                              for _, src, _ in copied)
            if not copied_here and not ignored(pats, p):
                kept.append(p)
        if kept:
            wrong(f".dockerignore keeps {len(kept)} paths the Dockerfile does not copy: "
                  + ", ".join(kept[:6]) + (" ..." if len(kept) > 6 else ""))
        else:
            ok(".dockerignore drops .git, build, proxy and every tests/ file not copied")

    # USER and HEALTHCHECK of the final stage.
    users = [a for i, a in final if i == "USER"]
    if not users:
        wrong(f"{rel(df)}: the final stage has no USER: the proxy runs as root")
    elif users[-1].split(":")[0] in ("root", "0"):
        wrong(f"{rel(df)}: USER {users[-1]} is root")
    else:
        ok(f"{rel(df)}: USER {users[-1]}")
    hc = [a for i, a in final if i == "HEALTHCHECK"]
    hc_argv = None
    if not hc or hc[-1].upper() == "NONE":
        wrong(f"{rel(df)}: the final stage has no HEALTHCHECK")
    else:
        opts, cmd = {}, hc[-1]
        while cmd.startswith("--"):
            opt, _, cmd = cmd.partition(" ")
            k, _, v = opt[2:].partition("=")
            opts[k] = v
            cmd = cmd.strip()
        if not cmd.startswith("CMD"):
            wrong(f"{rel(df)}: HEALTHCHECK without CMD: {hc[-1]}")
        else:
            cmd = cmd[3:].strip()
            if cmd.startswith("["):
                try:
                    hc_argv = json.loads(cmd)
                except ValueError as e:
                    wrong(f"{rel(df)}: HEALTHCHECK CMD is not valid JSON ({e}): Docker would run it"
                          " through /bin/sh as text")
            else:
                hc_argv = ["/bin/sh", "-c", cmd]
            if hc_argv:
                ok(f"{rel(df)}: HEALTHCHECK {' '.join(f'--{k}={v}' for k, v in opts.items())}")
                if "/healthz" not in " ".join(hc_argv):
                    wrong(f"{rel(df)}: the HEALTHCHECK does not ask /healthz")
        if hc_argv:
            hc_timeout = float((opts.get("timeout") or "30s").rstrip("s"))

    # The configuration the image ships.
    if shipped is None:
        wrong(f"{rel(df)}: the final stage copies no configuration to {CONF_IN_IMAGE}")
    else:
        check_conf_t(shipped, "the configuration the image ships,")
        exposed = [p.split("/")[0] for i, a in final if i == "EXPOSE" for p in a.split()]
        for p in published_in_docs(df):
            check_published(shipped, p, f"the documented docker run of {rel(df)}")
        for p in exposed:
            if p not in conf_info(shipped)[0]:
                wrong(f"{rel(df)}: EXPOSE {p}, on which {rel(shipped)} does not listen")
    entry = " ".join(a for i, a in final if i in ("ENTRYPOINT", "CMD"))
    if CONF_IN_IMAGE not in entry:
        wrong(f"{rel(df)}: the ENTRYPOINT/CMD does not run {CONF_IN_IMAGE}")

    check_build(df, st, pats, ctx)
    if shipped and hc_argv:
        check_healthcheck(shipped, hc_argv, hc_timeout)


def check_build(df, st, pats, ctx):
    """The build stage's COPY and make RUN lines in a fresh directory."""
    if len(st) < 2:
        return
    bdir = os.path.join(WORK, "docker-build-context")
    shutil.rmtree(bdir, ignore_errors=True)
    os.makedirs(bdir)
    runs = []
    for ins, args in st[0]["instrs"]:
        if ins in ("COPY", "ADD"):
            flags, srcs, dest = copy_args(args)
            for src in srcs:
                for hit in glob.glob(os.path.join(ctx, src)):
                    rsrc = os.path.relpath(hit, ctx)
                    into = dest.endswith("/") or dest in (".", "./") or len(srcs) > 1
                    target = os.path.join(bdir, dest, os.path.basename(hit)) if into and os.path.isfile(hit) \
                        else os.path.join(bdir, dest)
                    if os.path.isdir(hit):
                        for root, _, files in os.walk(hit):
                            for f in files:
                                fp = os.path.join(root, f)
                                r = os.path.relpath(fp, ctx)
                                if pats and ignored(pats, r):
                                    continue
                                t = os.path.join(target, os.path.relpath(fp, hit))
                                os.makedirs(os.path.dirname(t), exist_ok=True)
                                shutil.copy2(fp, t)
                    elif not (pats and ignored(pats, rsrc)):
                        os.makedirs(os.path.dirname(target), exist_ok=True)
                        shutil.copy2(hit, target)
        elif ins == "RUN" and args.split()[0] == "make":
            runs.append(args)
    if not runs:
        wrong(f"{rel(df)}: the build stage runs no make")
        return
    for cmd in runs:
        t0 = time.time()
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        r = subprocess.run(["sh", "-c", cmd + " -j2"], cwd=bdir, capture_output=True, text=True, env=env)
        if r.returncode != 0:
            wrong(f"{rel(df)}: RUN {cmd} fails with only what the Dockerfile copies:\n"
                  + "\n".join((r.stdout + r.stderr).strip().splitlines()[-15:]))
            return
        ok(f"{rel(df)}: RUN {cmd} builds with only the copied files ({time.time() - t0:.0f} s)")
    binary = os.path.join(bdir, "proxy")
    if not os.access(binary, os.X_OK):
        wrong(f"{rel(df)}: the build stage made no proxy binary")
        return
    # Each shared library of the binary from a package the final stage installs.
    installs = " ".join(a for i, a in st[-1]["instrs"] if i == "RUN")
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for lib in re.findall(r"=> (/\S+)", ldd):
        pkgs = set()
        for cand in {lib, os.path.realpath(lib), "/usr" + lib, "/usr" + os.path.realpath(lib)}:
            r = subprocess.run(["dpkg-query", "-S", cand], capture_output=True, text=True)
            if r.returncode == 0:
                pkgs |= {p.split(":")[0].strip() for p in r.stdout.split(":", 1)[0].split(",")}
        if not pkgs:
            print(f"note: no Debian package owns {lib}; not checked")
        elif pkgs & {"libc6"}:
            continue
        elif not any(re.search(r"\b" + re.escape(p) + r"\b", installs) for p in pkgs):
            wrong(f"{rel(df)}: the proxy needs {lib} ({', '.join(sorted(pkgs))}), "
                  "which the final stage does not install")
        else:
            ok(f"{rel(df)}: {os.path.basename(lib)} comes from {', '.join(sorted(pkgs))}, installed")


def check_healthcheck(shipped, argv, timeout):
    """The HEALTHCHECK against the image's configuration on free ports."""
    binds, _ = conf_info(shipped)
    sport = stats_port(shipped)
    if sport is None:
        wrong(f"{rel(shipped)} has no stats port: the HEALTHCHECK has nothing to ask")
        return
    newport = {p: str(free_port()) for p in binds}
    dead = str(free_port())
    conf = os.path.join(WORK, "image.conf")
    with open(conf, "w") as out:
        for line in open(shipped):
            w = line.split()
            if w and w[0] in ("listen", "stats"):
                line = line.replace(w[1], "127.0.0.1:" + newport[split_addr(w[1])[1]])
            elif w and w[0] in ("server", "standby"):
                line = line.replace(w[2], "127.0.0.1:" + dead)
            elif w and w[0] == "workers":
                line = "workers 1\n"
            out.write(line)
    argv = [a.replace(sport, newport[sport]) for a in argv]
    log = open(os.path.join(WORK, "proxy.log"), "a")
    proc = subprocess.Popen([PROXY, "-c", conf], stdout=log, stderr=log)
    try:
        for _ in range(100):
            if port_open(int(newport[sport])) or proc.poll() is not None:
                break
            time.sleep(0.05)
        if not port_open(int(newport[sport])):
            wrong(f"the proxy did not start with {rel(shipped)} on free ports")
            return
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 5)
        if r.returncode != 0:
            wrong(f"the HEALTHCHECK fails (exit {r.returncode}) against a running proxy: "
                  f"{(r.stdout + r.stderr).strip()}")
        else:
            ok("the HEALTHCHECK passes against the proxy running the image's configuration")
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 5)
    if r.returncode == 0:
        wrong("the HEALTHCHECK passes with the proxy stopped")
    else:
        ok("the HEALTHCHECK fails once the proxy stopped")


main()
if problems:
    print(f"{len(problems)} problems")
    sys.exit(1)
