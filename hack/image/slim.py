#!/usr/bin/env python3
"""Makes the operator image's root filesystem in the Dockerfile's build stage: only what the operator runs.

    python3 slim.py --venv /opt/venv --rootfs /rootfs --package lifecycle_operator

Run as root by the Python that made the venv, on the base image (Debian's python3 or python:3.11-slim).
No network, no tools beyond the base's own (ldd, ldconfig, chroot). It

1. prunes the venv: the parts of the kubernetes client no import of the operator can reach (its asyncio
   client `kubernetes.aio`, and the generated API and model modules of `kubernetes.client` that nothing
   reachable names), C/Cython sources, type stubs and bytecode (compiled again at the end);
2. copies into --rootfs the venv, the interpreter, its standard library less what a service never runs
   (the test suite, idle, tkinter, ensurepip, lib2to3, distutils, sqlite3, curses, ...), and the shared
   libraries all of that links (by ldd), plus CA certificates, the C.UTF-8 locale, /etc/passwd and
   /etc/group with the runtime user, and /tmp;
3. checks, chrooted into the rootfs as the runtime user: every module of the package and every kept module
   of the pruned zones imports, and the console script answers --version. Any failure fails the build;
4. compiles bytecode for the modules that check loaded, hash-checked (never rewritten: the root is
   read-only at run time); anything else a run imports compiles in memory.

What is reachable comes from the source: a static closure over `import` statements from every module of the
package (imports inside functions count; `if TYPE_CHECKING:` blocks do not), plus the names of a lazily
exporting package (the kubernetes client's `_exports` maps) that any reachable module mentions, as an
identifier or inside a string (response types such as "V1Pod" are strings). A pruned standard-library
module that a reachable module imports fails the build.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import ssl
import subprocess
import sys
import sysconfig
from pathlib import Path

# Zones of the venv whose unreachable modules are removed (dotted prefixes).
PRUNE_ZONES = ("kubernetes.aio", "kubernetes.client.api.", "kubernetes.client.models.")
# Parts of the standard library a service never imports (development tools, GUIs, test suites, databases).
STDLIB_UNUSED = (
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "turtle",
    "lib2to3",
    "ensurepip",
    "venv",
    "pydoc_data",
    "distutils",
    "sqlite3",
    "curses",
    "dbm",
    "_sqlite3",
    "_curses",
    "_curses_panel",
    "_dbm",
    "_gdbm",
    "readline",
    "_tkinter",
    "_testcapi",
    "_testinternalcapi",
    "_testbuffer",
    "_testclinic",
    "_testimportmultiple",
    "_testmultiphase",
    "_ctypes_test",
    "_xxtestfuzz",
    "xxlimited",
    "xxlimited_35",
    "xxsubtype",
    "nis",
    "crypt",
    "_crypt",
    "config-3",  # config-3.X-<triplet>: the static library and Makefile, for building
)
# Files no import reads: extension sources, type stubs.
SOURCE_SUFFIXES = (".c", ".h", ".cpp", ".pyx", ".pxd", ".pxi", ".pyi")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def log(msg: str) -> None:
    print(f"slim: {msg}", file=sys.stderr, flush=True)


def du(path: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


# --- modules and what they import -------------------------------------------------------------------------


def module_map(*tops: Path) -> dict[str, Path]:
    """Dotted module name -> file, for the .py files and extension modules under each top directory."""
    mods: dict[str, Path] = {}
    for top in tops:
        for dirpath, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d != "__pycache__" and "." not in d and "-" not in d]
            rel = Path(dirpath).relative_to(top)
            pkg = ".".join(rel.parts)
            for f in files:
                if f.endswith(".py"):
                    stem = f[:-3]
                elif f.endswith(".so"):
                    stem = f.split(".", 1)[0]
                else:
                    continue
                if stem == "__init__":
                    if pkg:
                        mods.setdefault(pkg, Path(dirpath, f))
                else:
                    mods.setdefault(f"{pkg}.{stem}" if pkg else stem, Path(dirpath, f))
    return mods


def is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


class Scan(ast.NodeVisitor):
    """The imports of one module (absolute names, relative ones resolved) and every word it mentions."""

    def __init__(self, name: str, is_pkg: bool, strings: bool) -> None:
        self.package = name if is_pkg else name.rpartition(".")[0]
        self.strings = strings
        self.imports: set[str] = set()
        self.star: set[str] = set()
        self.words: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.imports.add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - node.level + 1] if node.level > 1 else base
            mod = ".".join(base + ([node.module] if node.module else []))
        else:
            mod = node.module or ""
        self.imports.add(mod)
        for alias in node.names:
            if alias.name == "*":
                self.star.add(mod)
            else:
                self.imports.add(f"{mod}.{alias.name}")
                self.words.add(alias.name)

    def visit_Name(self, node: ast.Name) -> None:
        self.words.add(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.words.add(node.attr)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if self.strings and isinstance(node.value, str):
            self.words.update(WORD.findall(node.value))


def lazy_exports(path: Path, name: str) -> dict[str, str] | None:
    """The `_exports = {"Name": ".module"}` map of a lazily exporting package, as name -> absolute module."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if "_exports" not in text or "__getattr__" not in text:
        return None
    for node in ast.walk(ast.parse(text)):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "_exports" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            out = {}
            for k, v in zip(node.value.keys, node.value.values, strict=True):
                if isinstance(k, ast.Constant) and isinstance(v, ast.Constant) and isinstance(v.value, str):
                    target = v.value
                    out[k.value] = f"{name}{target}" if target.startswith(".") else target
            return out
    return None


def reachable(mods: dict[str, Path], roots: set[str], stop: set[str]) -> tuple[set[str], dict[str, set[str]]]:
    """The static closure of `roots` (not followed into `stop`), and who imports what."""
    exports: dict[str, dict[str, str]] = {}  # lazy package -> its names -> their modules
    for name, path in mods.items():
        if path.name == "__init__.py" and (m := lazy_exports(path, name)) is not None:
            exports[name] = m
    seen: set[str] = set()
    importers: dict[str, set[str]] = {}
    words: dict[str, set[str]] = {}  # every word of a scanned module -> the modules that mention it
    todo = list(roots)

    def want(mod: str, by: str) -> None:
        parts = mod.split(".")
        for i in range(1, len(parts) + 1):
            m = ".".join(parts[:i])
            if m in mods:
                importers.setdefault(m, set()).add(by)
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
                    # A lazy package just reached: the names mentioned so far that it exports.
                    for word, target in exports.get(m, {}).items():
                        for who in words.get(word, ()):
                            want(target, who)

    for r in roots:
        want(r, "<root>")
    while todo:
        name = todo.pop()
        path = mods[name]
        if path.suffix != ".py" or name.split(".")[0] in stop:
            continue
        scan = Scan(name, path.name == "__init__.py", strings=name not in exports)
        try:
            scan.visit(ast.parse(path.read_bytes()))
        except SyntaxError:
            continue
        for imp in scan.imports:
            want(imp, name)
        for star in scan.star & exports.keys():
            for target in exports[star].values():
                want(target, name)
        for word in scan.words:
            words.setdefault(word, set()).add(name)
            for lazy in exports.keys() & seen:
                if (target := exports[lazy].get(word)) is not None:
                    want(target, name)
    return seen, importers


# --- copying into the rootfs ------------------------------------------------------------------------------


class Rootfs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.done: set[str] = set()

    def add(self, path: str, ignore=None) -> None:
        """Copy `path` (file, directory or symlink) and every symlink on its way (/lib64 -> usr/lib64)."""
        path = os.path.normpath(path)
        parts = path.split("/")[1:]
        cur = ""
        for i, comp in enumerate(parts):
            cur = f"{cur}/{comp}"
            if os.path.islink(cur):
                self._copy(cur)
                target = os.readlink(cur)
                rest = "/".join(parts[i + 1 :])
                resolved = os.path.normpath(os.path.join(os.path.dirname(cur), target, rest))
                self.add(resolved, ignore)
                return
        if not os.path.exists(cur):
            raise SystemExit(f"slim: {path} does not exist")
        self._copy(cur, ignore)

    def _copy(self, src: str, ignore=None) -> None:
        if src in self.done:
            return
        self.done.add(src)
        dst = Path(str(self.root) + src)
        dst.parent.mkdir(parents=True, exist_ok=True)
        if os.path.islink(src):
            if not dst.is_symlink():
                os.symlink(os.readlink(src), dst)
        elif os.path.isdir(src):
            shutil.copytree(src, dst, symlinks=True, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)

    def dangling(self) -> list[str]:
        """Symlinks in the rootfs whose targets are not there: the source paths to add."""
        out = []
        for dirpath, dirs, files in os.walk(self.root):
            for f in dirs + files:
                p = Path(dirpath, f)
                if p.is_symlink():
                    src = "/" + str(p.relative_to(self.root))
                    target = os.path.normpath(os.path.join(os.path.dirname(src), os.readlink(p)))
                    if not os.path.lexists(str(self.root) + target) and os.path.lexists(target):
                        out.append(target)
        return out


def elf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def linked_libraries(files: list[Path]) -> set[str]:
    libs: set[str] = set()
    missing = []
    for f in files:
        out = subprocess.run(["ldd", str(f)], capture_output=True, text=True, check=False).stdout
        for raw in out.splitlines():
            line = raw.strip()
            if "=> not found" in line:
                missing.append(f"{f}: {line}")
            elif "=>" in line:
                target = line.split("=>", 1)[1].split("(", 1)[0].strip()
                if target.startswith("/"):
                    libs.add(target)
            elif line.startswith("/"):
                libs.add(line.split("(", 1)[0].strip())
    if missing:
        raise SystemExit("slim: libraries not found:\n  " + "\n  ".join(missing))
    return libs


def find_library(name: str) -> str | None:
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        if line.strip().startswith(name + " ") and "=>" in line:
            return line.split("=>", 1)[1].strip()
    return None


def copyrights(rootfs: Rootfs, paths: list[str]) -> None:
    """The Debian copyright file of each package a copied file comes from (best effort: no dpkg, none)."""
    if not shutil.which("dpkg-query"):
        return
    packages: set[str] = set()
    for p in paths:
        for q in {p, os.path.realpath(p)}:
            r = subprocess.run(["dpkg-query", "-S", q], capture_output=True, text=True, check=False)
            for line in r.stdout.splitlines():
                owners = line.rsplit(": ", 1)[0]
                packages.update(o.strip().split(":")[0] for o in owners.split(","))
    for pkg in sorted(packages):
        c = f"/usr/share/doc/{pkg}/copyright"
        if os.path.exists(c):
            rootfs.add(c)


# --- the steps --------------------------------------------------------------------------------------------


def prune_venv(site: Path, stdlib: list[Path], package: str) -> set[str]:
    before = du(site)
    mods = module_map(site)
    std = module_map(*stdlib)
    roots = {m for m in mods if m == package or m.startswith(package + ".")}
    if not roots:
        raise SystemExit(f"slim: no package {package} in {site}")
    seen, importers = reachable({**std, **mods}, roots, stop=set(STDLIB_UNUSED))

    # A pruned part of the standard library that a reachable module of the venv imports: stop, rather than
    # ship a module that fails on first use. (The standard library's own references to them are the tools
    # that go too: pydoc's help topics, pdb's readline, multiprocessing's test clean-up.)
    unused_std = {m for m in std if m.split(".")[0] in STDLIB_UNUSED}
    needed = sorted(
        f"{m} (imported by {', '.join(sorted(importers[m] & mods.keys())[:3])})"
        for m in seen & unused_std
        if importers.get(m, set()) & mods.keys()
    )
    if needed:
        raise SystemExit(
            "slim: reachable modules import pruned standard-library modules:\n  " + "\n  ".join(needed)
        )

    removed = 0
    for name, path in sorted(mods.items()):
        if not any(name == z or name.startswith(z if z.endswith(".") else z + ".") for z in PRUNE_ZONES):
            continue
        if name in seen or path.name == "__init__.py":
            continue
        path.unlink()
        removed += 1
    # A zone package nothing reaches goes whole (kubernetes.aio).
    for zone in PRUNE_ZONES:
        if (
            not zone.endswith(".")
            and zone not in seen
            and zone.replace(".", "/")
            and (site / zone.replace(".", "/")).is_dir()
        ):
            shutil.rmtree(site / zone.replace(".", "/"))
    for dirpath, dirs, files in os.walk(site, topdown=False):
        for d in dirs:
            if d == "__pycache__":
                shutil.rmtree(Path(dirpath, d))
        for f in files:
            if f.endswith(SOURCE_SUFFIXES):
                Path(dirpath, f).unlink()
    kept = sorted(
        m for m in seen if any(m.startswith(z) for z in PRUNE_ZONES) and m in mods and (mods[m]).exists()
    )
    log(
        f"venv: {len(roots)} modules of {package} reach {len(seen)} modules; removed {removed} unreachable "
        f"modules of {', '.join(z.rstrip('.') for z in PRUNE_ZONES)}; {mb(before)} -> {mb(du(site))}"
    )
    return set(kept)


def stage(venv: Path, root: Path, uid: int, gid: int, user: str) -> list[Path]:
    fs = Rootfs(root)
    stdlib = sorted({Path(sysconfig.get_path("stdlib")), Path(sysconfig.get_path("platstdlib"))})
    dynload = [Path(p) for p in sys.path if p.endswith("lib-dynload")]

    tops = {str(d) for d in stdlib + dynload}

    def ignore_std(directory: str, names: list[str]) -> set[str]:
        out = {n for n in names if n == "__pycache__"}
        if directory in tops:  # the library's own top level: whole modules and packages
            out |= {
                n
                for n in names
                if n in {"site-packages", "dist-packages"} or n.split(".", 1)[0] in STDLIB_UNUSED
            }
        else:  # inside packages: their test suites (ctypes/test, unittest/test, ...)
            out |= {n for n in names if n in {"test", "tests"} and Path(directory, n).is_dir()}
        return out

    fs.add(str(venv))
    fs.add(str(venv / "bin" / "python"))  # the chain to the real interpreter
    for d in stdlib + dynload:
        fs.add(str(d), ignore_std)
    # The loader's configuration (its cache is rebuilt for the rootfs below), resolver order, TLS roots,
    # OpenSSL's configuration, the C.UTF-8 locale, the OS's name.
    for extra in [
        "/etc/ld.so.conf",
        "/etc/ld.so.conf.d",
        "/etc/nsswitch.conf",
        "/etc/os-release",
        "/usr/lib/locale/C.utf8",
    ]:
        if os.path.lexists(extra):
            fs.add(extra)
    paths = ssl.get_default_verify_paths()
    for extra in [paths.openssl_cafile, os.path.join(os.path.dirname(paths.openssl_cafile), "openssl.cnf")]:
        if os.path.exists(extra):
            fs.add(extra)
    while missing := fs.dangling():
        for m in missing:
            fs.add(m)

    binaries = [p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and elf(p)]
    libs = linked_libraries([Path("/" + str(p.relative_to(root))) for p in binaries])
    # glibc loads libgcc_s at run time (thread exit and cancellation unwind through it).
    if (gcc_s := find_library("libgcc_s.so.1")) is not None:
        libs.add(gcc_s)
    for lib in sorted(libs):
        fs.add(lib)
    copyrights(fs, sorted(libs) + [os.path.realpath(sys.executable)] + [str(d) for d in stdlib])

    etc = root / "etc"
    (etc / "passwd").write_text(
        f"root:x:0:0:root:/root:/sbin/nologin\n{user}:x:{uid}:{gid}:{user}:/nonexistent:/sbin/nologin\n"
    )
    (etc / "group").write_text(f"root:x:0:\n{user}:x:{gid}:\n")
    for d in ("tmp", "var/tmp"):
        (root / d).mkdir(parents=True, exist_ok=True)
        os.chmod(root / d, 0o1777)
    subprocess.run(["ldconfig", "-r", str(root)], check=True)
    return [Path(str(d)) for d in stdlib]


def chroot(root: Path, *argv: str, user: str | None = None, stdin: str | None = None) -> str:
    """Runs argv inside the rootfs (as `user`, uid:gid), with the image's environment; returns its stdout."""
    cmd = (
        [shutil.which("chroot") or "/usr/sbin/chroot"]
        + ([f"--userspec={user}"] if user else [])
        + [str(root), *argv]
    )
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(cmd, check=True, env=env, input=stdin, stdout=subprocess.PIPE, text=True).stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--venv", type=Path, required=True)
    ap.add_argument("--rootfs", type=Path, required=True)
    ap.add_argument("--package", required=True)
    ap.add_argument("--script", required=True, help="the console script to check with --version")
    ap.add_argument("--uid", type=int, default=65532)
    ap.add_argument("--gid", type=int, default=65532)
    ap.add_argument("--user", default="nonroot")
    a = ap.parse_args()

    venv = a.venv.resolve()
    site = Path(venv, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}", "site-packages")
    stdlib_dirs = [Path(sysconfig.get_path("stdlib"))] + [
        Path(p) for p in sys.path if p.endswith("lib-dynload")
    ]
    kept = prune_venv(site, stdlib_dirs, a.package)

    if a.rootfs.exists():
        shutil.rmtree(a.rootfs)
    a.rootfs.mkdir(parents=True)
    stage(venv, a.rootfs, a.uid, a.gid, a.user)

    # The proof: as the runtime user, every module of the package and every kept module of the pruned
    # zones imports (from source: nothing is compiled yet), and the console script runs.
    check = (
        "import importlib, os, pkgutil, sys\n"
        f"pkg = importlib.import_module({a.package!r})\n"
        "names = [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.')]\n"
        f"names += {sorted(kept)!r}\n"
        "for n in names: importlib.import_module(n)\n"
        "print(f'slim: imported {len(names) + 1} modules as uid {os.getuid()}', file=sys.stderr)\n"
        "print('\\n'.join(sorted({m.__file__ for m in list(sys.modules.values())\n"
        "                          if (getattr(m, '__file__', None) or '').endswith('.py')})))\n"
    )
    loaded = chroot(a.rootfs, f"{venv}/bin/python", "-c", check, user=f"{a.uid}:{a.gid}").split()
    # Bytecode for what that loaded (the rest compiles in memory if ever imported), checked by hash rather
    # than by mtime: nothing can rewrite it on a read-only root.
    compile_ = (
        "import py_compile, sys\n"
        "for f in sys.stdin.read().split():\n"
        "    mode = py_compile.PycInvalidationMode.UNCHECKED_HASH\n"
        "    py_compile.compile(f, doraise=True, invalidation_mode=mode)\n"
    )
    chroot(a.rootfs, f"{venv}/bin/python", "-c", compile_, stdin="\n".join(loaded))
    chroot(a.rootfs, f"{venv}/bin/{a.script}", "--version", user=f"{a.uid}:{a.gid}")
    log(f"compiled {len(loaded)} modules the check loaded")
    log(f"rootfs: {mb(du(a.rootfs))} (venv {mb(du(venv))})")


if __name__ == "__main__":
    main()
