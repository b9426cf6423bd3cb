#!/usr/bin/python3
"""Checks the container and Kubernetes files without a container engine (none runs in CI).

- deploy/kubernetes/*.yaml parse (python3-yaml); the kinds are a ConfigMap, a Deployment, a
  Service and the Kustomization listing them; the Deployment's probes are /readyz (readiness) and
  /healthz (liveness) on the port the config listens on, the Service reaches that port, the
  ConfigMap's config.json is the image's default (packaging/container-config.json) and is mounted
  where --config says, and every ${VAR} of that config is set in the container's env.
- The shipped container config listens beyond loopback, so (as mcp-proxy refuses to start
  otherwise: proxy/app/app.cpp) it has tokens, or says allowUnauthenticated.
- The Dockerfile: every COPY source exists and is not left out by .dockerignore, the build stage
  installs only packages ci/install-deps.sh knows, the runtime stage runs as a non-root user,
  EXPOSEs the config's port, has a HEALTHCHECK on /healthz, installs nodejs and npm, and its
  ENTRYPOINT and CMD run mcp-proxy with the config it copies.
- With --binary: every long option `mcp-proxy --help` prints is in the man page and in
  docs/configuration.md's "Command line" section.

Usage: ci/check-deploy.py [--binary PATH/mcp-proxy] [--self-test]
Exit 0 when everything agrees, 1 with one line per problem.
"""

import copy
import fnmatch
import glob
import json
import os
import re
import shlex
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K8S_DIR = os.path.join(ROOT, "deploy", "kubernetes")
CONTAINER_CONFIG = "packaging/container-config.json"
MAN_PAGE = "packaging/mcp-proxy.1"
API_VERSIONS = {
    "ConfigMap": "v1",
    "Service": "v1",
    "Deployment": "apps/v1",
    "Kustomization": "kustomize.config.k8s.io/v1beta1",
}


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


# --- the files, loaded once -------------------------------------------------------------------


def load_manifests():
    """{relative path: [documents]} for every YAML file under deploy/kubernetes."""
    out = {}
    for path in sorted(glob.glob(os.path.join(K8S_DIR, "*.yaml"))):
        with open(path, encoding="utf-8") as f:
            out[os.path.relpath(path, ROOT)] = [d for d in yaml.safe_load_all(f) if d is not None]
    return out


def parse_dockerfile(text):
    """[(instruction, arguments)] with continuation lines joined and comments dropped."""
    out, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def install_deps_packages(text):
    """The package names in ci/install-deps.sh's packages=(...) and packages+=(...)."""
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    names = set()
    for block in re.findall(r"packages\+?=\(([^)]*)\)", code):
        names.update(block.split())
    return names


# --- the checks: each takes the loaded data and returns a list of problems --------------------


def listen_port(config):
    addr = config.get("mcpProxy", {}).get("addr", "127.0.0.1:9090")
    host, _, port = addr.rpartition(":")
    return host.strip("[]"), int(port)


def check_container_config(config, where):
    problems = []
    host, _ = listen_port(config)
    proxy = config.get("mcpProxy", {})
    options = proxy.get("options", {})
    if host in ("", "127.0.0.1", "::1", "localhost"):
        problems.append(f"{where}: listens on loopback ({host or 'default'}): unreachable in a container")
    has_tokens = bool(options.get("authTokens") or options.get("authTokensFile"))
    if not has_tokens and proxy.get("allowUnauthenticated") is not True:
        problems.append(
            f"{where}: listens beyond loopback with no authTokens and no allowUnauthenticated: "
            "mcp-proxy refuses to start so")
    return problems


def env_references(config):
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", json.dumps(config)))


def check_manifests(manifests, image_config):
    problems = []
    by_kind = {}
    for path, docs in manifests.items():
        for doc in docs:
            kind = doc.get("kind")
            if kind not in API_VERSIONS:
                problems.append(f"{path}: unexpected kind {kind!r}")
                continue
            if doc.get("apiVersion") != API_VERSIONS[kind]:
                problems.append(f"{path}: {kind} needs apiVersion {API_VERSIONS[kind]}, "
                                f"not {doc.get('apiVersion')!r}")
            if kind != "Kustomization" and not doc.get("metadata", {}).get("name"):
                problems.append(f"{path}: {kind} has no metadata.name")
            by_kind.setdefault(kind, []).append((path, doc))
    for kind in API_VERSIONS:
        if len(by_kind.get(kind, [])) != 1:
            problems.append(f"deploy/kubernetes: expected one {kind}, found {len(by_kind.get(kind, []))}")
    if problems:
        return problems
    (kpath, kust), = by_kind["Kustomization"]
    listed = set(kust.get("resources", []))
    present = {os.path.basename(p) for p in manifests if not p.endswith("kustomization.yaml")}
    for missing in sorted(listed - present):
        problems.append(f"{kpath}: resource {missing} does not exist")
    for unlisted in sorted(present - listed):
        problems.append(f"{kpath}: {unlisted} is not listed in resources")

    (cpath, cm), = by_kind["ConfigMap"]
    try:
        config = json.loads(cm.get("data", {}).get("config.json", ""))
    except ValueError as e:
        return problems + [f"{cpath}: data.config.json is not JSON: {e}"]
    if config != image_config:
        problems.append(f"{cpath}: config.json differs from {CONTAINER_CONFIG} (keep them equal)")
    problems += check_container_config(config, f"{cpath} config.json")
    _, port = listen_port(config)

    (dpath, dep), = by_kind["Deployment"]
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels", {})
    if spec.get("selector", {}).get("matchLabels", {}).items() - labels.items():
        problems.append(f"{dpath}: selector.matchLabels does not match the pod template's labels")
    containers = pod.get("containers", [])
    if len(containers) != 1:
        return problems + [f"{dpath}: expected one container, found {len(containers)}"]
    c = containers[0]
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    if port not in ports.values():
        problems.append(f"{dpath}: no containerPort {port} (the config listens on {port})")

    def port_of(ref):
        return ports.get(ref) if isinstance(ref, str) else ref

    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = c.get(probe, {}).get("httpGet")
        if not get:
            problems.append(f"{dpath}: {probe} has no httpGet")
            continue
        if get.get("path") != path:
            problems.append(f"{dpath}: {probe} checks {get.get('path')!r}, not {path}")
        if port_of(get.get("port")) != port:
            problems.append(f"{dpath}: {probe} port {get.get('port')!r} is not {port}")

    security = {**pod.get("securityContext", {}), **c.get("securityContext", {})}
    if security.get("runAsNonRoot") is not True or security.get("runAsUser", 0) == 0:
        problems.append(f"{dpath}: the container must run as non-root (runAsNonRoot, runAsUser)")

    args = c.get("args", [])
    config_path = args[args.index("--config") + 1] if "--config" in args[:-1] else None
    mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
    cm_name = cm["metadata"]["name"]
    mounted = [mounts.get(v["name"]) for v in pod.get("volumes", [])
               if v.get("configMap", {}).get("name") == cm_name]
    if not mounted or config_path != f"{mounted[0]}/config.json":
        problems.append(f"{dpath}: --config {config_path} is not the ConfigMap {cm_name}'s "
                        f"config.json (mounted at {mounted[0] if mounted else 'nowhere'})")
    for v in pod.get("volumes", []):
        ref = v.get("configMap", {}).get("name")
        if ref and ref != cm_name:
            problems.append(f"{dpath}: volume {v['name']} names ConfigMap {ref}, which is not here")
    env = {e["name"] for e in c.get("env", [])}
    for var in sorted(env_references(config) - env):
        problems.append(f"{dpath}: the config uses ${{{var}}}, which the container's env does not set")

    (spath, svc), = by_kind["Service"]
    if svc["spec"].get("selector", {}).items() - labels.items():
        problems.append(f"{spath}: selector does not match the Deployment's pod labels")
    targets = [port_of(p.get("targetPort", p.get("port"))) for p in svc["spec"].get("ports", [])]
    if port not in targets:
        problems.append(f"{spath}: no port targets {port} (targets: {targets})")
    return problems


def dockerignored(path, patterns):
    parts = path.split("/")
    for pattern in patterns:
        p = pattern.rstrip("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatch(prefix, p) for prefix in prefixes):
            return True
        if p.startswith("**/") and any(fnmatch.fnmatch(part, p[3:]) for part in parts):
            return True
    return False


def check_dockerfile(instructions, image_config, known_packages, ignore_patterns, exists):
    problems = []
    where = "Dockerfile"
    stages = []
    for word, args in instructions:
        if word == "FROM":
            stages.append({"from": args.split()[0], "steps": []})
        elif not stages:
            problems.append(f"{where}: {word} before FROM")
        else:
            stages[-1]["steps"].append((word, args))
    if len(stages) < 2:
        return problems + [f"{where}: expected a build stage and a runtime stage, found {len(stages)}"]
    if not stages[0]["from"].startswith("debian:12"):
        problems.append(f"{where}: the build stage is {stages[0]['from']}, not Debian 12")
    if stages[-1]["from"] != "debian:12-slim":
        problems.append(f"{where}: the runtime stage is {stages[-1]['from']}, not debian:12-slim")

    copied = {}
    for stage in stages:
        for word, args in stage["steps"]:
            if word not in ("COPY", "ADD"):
                continue
            words = shlex.split(args)
            if any(w.startswith("--from") for w in words):
                continue
            words = [w for w in words if not w.startswith("--")]
            *sources, dest = words
            for src in sources:
                if not exists(src):
                    problems.append(f"{where}: {word} {src}: no such file in the repository")
                elif dockerignored(src.rstrip("/"), ignore_patterns):
                    problems.append(f"{where}: {word} {src}: left out of the context by .dockerignore")
                copied[dest] = src

    for word, args in stages[0]["steps"]:
        if word == "RUN" and "apt-get install" in args:
            after = args.split("apt-get install", 1)[1].split("&&", 1)[0]
            names = [w for w in after.split() if not w.startswith("-")]
            for name in names:
                if name not in known_packages:
                    problems.append(f"{where}: the build stage installs {name}, which "
                                    "ci/install-deps.sh does not (keep them in step)")

    final = stages[-1]["steps"]
    users = [args for word, args in final if word == "USER"]
    user = users[-1].split(":")[0] if users else "root"
    if user in ("root", "0"):
        problems.append(f"{where}: the runtime stage runs as root (add a USER)")
    _, port = listen_port(image_config)
    exposed = {w.split("/")[0] for word, args in final if word == "EXPOSE" for w in args.split()}
    if str(port) not in exposed:
        problems.append(f"{where}: EXPOSE {sorted(exposed)} lacks {port}, the config's port")
    health = [args for word, args in final if word == "HEALTHCHECK"]
    if not health:
        problems.append(f"{where}: no HEALTHCHECK in the runtime stage")
    else:
        command = json.loads(health[-1][health[-1].index("CMD") + 3:].strip())
        script = copied.get(command[0])
        if not script:
            problems.append(f"{where}: HEALTHCHECK runs {command[0]}, which no COPY puts there")
        elif "/healthz" not in read(script):
            problems.append(f"{where}: HEALTHCHECK's {script} does not ask /healthz")
        if str(port) not in command[1:]:
            problems.append(f"{where}: HEALTHCHECK does not check port {port}")
    entry = [json.loads(args) for word, args in final if word == "ENTRYPOINT"]
    if not entry or "/usr/bin/mcp-proxy" not in entry[-1]:
        problems.append(f"{where}: the ENTRYPOINT does not run /usr/bin/mcp-proxy")
    installs = " ".join(args for word, args in final if word == "RUN" and "apt-get install" in args)
    for needed in ("nodejs", "npm"):  # for npx backends
        if needed not in installs.split():
            problems.append(f"{where}: the runtime stage does not install {needed}")
    cmd = [json.loads(args) for word, args in final if word == "CMD"]
    cmd = cmd[-1] if cmd else []
    config_path = cmd[cmd.index("--config") + 1] if "--config" in cmd[:-1] else None
    if copied.get(config_path) != CONTAINER_CONFIG:
        problems.append(f"{where}: CMD's --config {config_path} is not where {CONTAINER_CONFIG} is copied")
    return problems


def long_options(help_text):
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", help_text))


def check_man_page(help_text, man_text):
    documented = long_options(man_text.replace("\\-", "-"))
    return [f"{MAN_PAGE}: {opt} (in mcp-proxy --help) is not documented"
            for opt in sorted(long_options(help_text) - documented)]


def check_cli_docs(help_text, configuration_md):
    """docs/configuration.md's "Command line" section names every option of --help."""
    section = configuration_md.split("## Command line", 1)[-1].split("\n## ", 1)[0]
    return [f"docs/configuration.md, \"Command line\": {opt} (in mcp-proxy --help) is not there"
            for opt in sorted(long_options(help_text) - long_options(section))]


# --- running ----------------------------------------------------------------------------------


def real_inputs():
    image_config = json.loads(read(CONTAINER_CONFIG))
    ignore = [l.strip() for l in read(".dockerignore").splitlines()
              if l.strip() and not l.startswith("#")]
    return {
        "manifests": load_manifests(),
        "image_config": image_config,
        "dockerfile": parse_dockerfile(read("Dockerfile")),
        "packages": install_deps_packages(read("ci/install-deps.sh")),
        "ignore": ignore,
    }


def exists_in_repo(src):
    return bool(glob.glob(os.path.join(ROOT, src)))


def run_checks(inputs, exists=exists_in_repo):
    problems = check_container_config(inputs["image_config"], CONTAINER_CONFIG)
    problems += check_manifests(inputs["manifests"], inputs["image_config"])
    problems += check_dockerfile(inputs["dockerfile"], inputs["image_config"], inputs["packages"],
                                 inputs["ignore"], exists)
    return problems


def self_test():
    """Each mutation of the real files must be caught: a check that cannot fail checks nothing."""
    base = real_inputs()
    assert run_checks(base) == [], run_checks(base)

    def doc(inputs, kind):
        for docs in inputs["manifests"].values():
            for d in docs:
                if d.get("kind") == kind:
                    return d
        raise AssertionError(kind)

    def container(inputs):
        return doc(inputs, "Deployment")["spec"]["template"]["spec"]["containers"][0]

    def set_cm_config(inputs, change):
        cm = doc(inputs, "ConfigMap")
        cfg = json.loads(cm["data"]["config.json"])
        change(cfg)
        cm["data"]["config.json"] = json.dumps(cfg)

    def replace_step(inputs, word, new_args):
        steps = inputs["dockerfile"]
        last = max(i for i, (w, _) in enumerate(steps) if w == word)
        steps[last] = (word, new_args)

    mutations = {
        "readiness on /healthz": lambda i: container(i)["readinessProbe"]["httpGet"].update(path="/healthz"),
        "liveness on another port": lambda i: container(i)["livenessProbe"]["httpGet"].update(port=8080),
        "containerPort changed": lambda i: container(i)["ports"][0].update(containerPort=8080),
        "service targets another port": lambda i: doc(i, "Service")["spec"]["ports"][0].update(targetPort=81),
        "service selects other pods": lambda i: doc(i, "Service")["spec"].update(selector={"app": "x"}),
        "unknown kind": lambda i: doc(i, "Service").update(kind="Ingress"),
        "wrong apiVersion": lambda i: doc(i, "Deployment").update(apiVersion="v1"),
        "runs as root": lambda i: doc(i, "Deployment")["spec"]["template"]["spec"]["securityContext"].update(runAsUser=0),
        "token env missing": lambda i: container(i).update(env=[]),
        "config path elsewhere": lambda i: container(i).update(args=["--config", "/config.json"]),
        "configmap differs from image": lambda i: set_cm_config(i, lambda c: c["mcpProxy"].update(name="x")),
        "image config without tokens": lambda i: i["image_config"]["mcpProxy"].pop("options"),
        "image config on loopback": lambda i: i["image_config"]["mcpProxy"].update(addr="127.0.0.1:9090"),
        "docker user root": lambda i: replace_step(i, "USER", "root"),
        "docker exposes another port": lambda i: replace_step(i, "EXPOSE", "8080"),
        "healthcheck on another port": lambda i: replace_step(
            i, "HEALTHCHECK", 'CMD ["/usr/local/bin/mcp-proxy-healthcheck", "8080"]'),
        "copy of a missing file": lambda i: i["dockerfile"].insert(-1, ("COPY", "nothing-here.json /x")),
        "copy of an ignored file": lambda i: i["dockerfile"].insert(-1, ("COPY", "tests /x")),
        "unknown build package": lambda i: i["packages"].discard("libspdlog-dev"),
        "entrypoint elsewhere": lambda i: replace_step(i, "ENTRYPOINT", '["/bin/sh"]'),
        "no node in the runtime": lambda i: i["dockerfile"].__setitem__(
            slice(None), [(w, a.replace(" nodejs", "")) for w, a in i["dockerfile"]]),
    }
    failed = []
    for name, mutate in mutations.items():
        inputs = copy.deepcopy(base)
        mutate(inputs)
        if not run_checks(inputs):
            failed.append(name)
    help_text = "  --config TEXT\n  --new-flag   x\n"
    if not check_man_page(help_text, read(MAN_PAGE)) or check_man_page("  --config X\n", read(MAN_PAGE)):
        failed.append("man page check")
    docs = "## Command line\n| `--config FILE` | x |\n## Next\n`--new-flag`\n"
    if not check_cli_docs(help_text, docs) or check_cli_docs("  --config X\n", docs):
        failed.append("configuration.md check")
    if failed:
        print("check-deploy self-test: not caught: " + ", ".join(failed))
        return 1
    print(f"check-deploy self-test: {len(mutations) + 2} mutations caught")
    return 0


def main(argv):
    if "--self-test" in argv:
        return self_test()
    problems = run_checks(real_inputs())
    if "--binary" in argv:
        binary = argv[argv.index("--binary") + 1]
        help_text = subprocess.run([binary, "--help"], capture_output=True, text=True,
                                   timeout=60, check=True).stdout
        problems += check_man_page(help_text, read(MAN_PAGE))
        problems += check_cli_docs(help_text, read("docs/configuration.md"))
    for p in problems:
        print(p)
    if problems:
        return 1
    count = sum(len(d) for d in load_manifests().values())
    print(f"check-deploy: ok ({count} manifests, the Dockerfile, the container config"
          f"{', the options in the man page and the docs' if '--binary' in argv else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
