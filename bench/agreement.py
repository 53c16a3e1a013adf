#!/usr/bin/env python3
"""bench/agreement.py: do urlcheck and lychee extract the same links from the same documents?

    bench/agreement.py [--tree TREE]                  run both dumps on TREE, then compare
    bench/agreement.py --urlcheck-dump F --lychee-dump G [--tree TREE]
                                                      compare dumps made earlier

urlcheck's dump is `urlcheck --dump --format jsonl TREE` (one object per link occurrence, with
source file, line and column); lychee's is `lychee --dump -v TREE` ("URL (file)" per occurrence,
" [excluded]" after the ones it would not check). lychee's dump has no line numbers, so the
comparison is of (file, url) multisets (and, below them, sets), not of (file, line, url).

Both sides are normalised before comparing: source files relative to TREE; local links (a path
for urlcheck, a file:// URL for lychee) to a path relative to TREE plus the #fragment; http(s)
URLs to a lower-case scheme and host, no default port, "/" for an empty path; percent-encoding
decoded everywhere. Differences left over are grouped by a few heuristics (kind of URL, the
element and attribute the link sits in, near misses such as "the same but for the fragment")
with examples, so that each class can be listed and justified.

Standard library only. Runs the tools (when it runs them) in a network namespace of its own
(`unshare -n`) when that is permitted, so nothing is contacted.

Environment: URLCHECK, LYCHEE (binaries; default: on PATH, or ~/.cargo/bin, or the release
build), LYCHEE_EXTENSIONS (default html,htm,md,markdown).
"""

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_TREE = "/usr/share/doc/python3.11/html"


# ---------------------------------------------------------------------------------------------
# Reading the dumps
# ---------------------------------------------------------------------------------------------
class Occ:
    """One link occurrence as a tool reported it."""

    __slots__ = ("tool", "file", "url", "line", "column", "kind", "excluded", "key", "context")

    def __init__(self, tool, file, url, line=None, column=None, kind=None, excluded=False):
        self.tool, self.file, self.url = tool, file, url
        self.line, self.column, self.kind, self.excluded = line, column, kind, excluded
        self.key = None
        self.context = None


def read_urlcheck(path, cwd):
    out, skipped = [], 0
    with open(path, encoding="utf-8") as f:
        for raw in f:
            raw = raw.strip()
            if not raw:
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError:
                skipped += 1
                continue
            if not isinstance(obj, dict) or "url" not in obj:
                skipped += 1  # a summary line, or something this script does not know
                continue
            src = obj.get("source") or {}
            if isinstance(src, str):  # "file:line:column"
                m = re.match(r"^(.*?):(\d+)(?::(\d+))?$", src)
                src = {"file": m.group(1), "line": int(m.group(2)), "column": int(m.group(3) or 0)} if m else {"file": src}
            file = src.get("file") or src.get("path") or ""
            out.append(Occ("urlcheck", os.path.join(cwd, file), obj["url"], src.get("line"),
                           src.get("column"), obj.get("kind") or obj.get("element")))
    return out, skipped


def read_lychee(path):
    out, skipped = [], 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            raw = raw.rstrip("\n")
            if not raw.strip():
                continue
            excluded = raw.endswith(" [excluded]")
            if excluded:
                raw = raw[: -len(" [excluded]")]
            # "URL (SOURCE)": a URL as lychee prints it has no spaces; the source may.
            url, sep, rest = raw.partition(" (")
            if not sep or not rest.endswith(")"):
                skipped += 1
                continue
            out.append(Occ("lychee", rest[:-1], url, excluded=excluded))
    return out, skipped


# ---------------------------------------------------------------------------------------------
# Normalising
# ---------------------------------------------------------------------------------------------
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
DEFAULT_PORTS = {"http": "80", "https": "443"}


def unq(s):
    return urllib.parse.unquote(s, errors="replace")


def rel_to_tree(path, tree):
    path = os.path.normpath(path)
    try:
        r = os.path.relpath(path, tree)
    except ValueError:
        return path
    return path if r.startswith("..") else r


def norm_url(url, tree):
    """(kind, normalised url) of one link as a tool printed it."""
    m = SCHEME.match(url)
    scheme = m.group(1).lower() if m else ""
    if scheme == "file" or not scheme or (len(scheme) == 1 and os.name == "nt"):
        if scheme == "file":
            parts = urllib.parse.urlsplit(url)
            path, query, frag = unq(parts.path), parts.query, parts.fragment
        else:
            path, _, frag = url.partition("#")
            path, _, query = path.partition("?")
            path = unq(path)
        rel = rel_to_tree(path, tree)
        key = rel + ("?" + unq(query) if query else "") + ("#" + unq(frag) if frag else "")
        return ("local", key)
    if scheme in ("http", "https"):
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port if parts.port is not None else None
        netloc = host if port is None or str(port) == DEFAULT_PORTS[scheme] else f"{host}:{port}"
        if parts.username is not None:
            netloc = "@" + netloc
        path = unq(parts.path) or "/"
        key = f"{scheme}://{netloc}{path}"
        if parts.query:
            key += "?" + unq(parts.query)
        if parts.fragment:
            key += "#" + unq(parts.fragment)
        return (scheme, key)
    return (scheme, scheme + ":" + unq(url[len(scheme) + 1:]))


def without_fragment(key):
    return key.partition("#")[0]


# ---------------------------------------------------------------------------------------------
# Where a link sits in its document (for grouping and examples)
# ---------------------------------------------------------------------------------------------
class Docs:
    def __init__(self):
        self.cache = {}

    def text(self, path):
        if path not in self.cache:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    t = f.read()
            except OSError:
                t = ""
            starts = [0]
            for m in re.finditer("\n", t):
                starts.append(m.end())
            self.cache[path] = (t, starts)
        return self.cache[path]

    def offset(self, path, line, column):
        t, starts = self.text(path)
        if not line or line > len(starts):
            return None
        return min(len(t), starts[line - 1] + max(0, (column or 1) - 1))

    def line_of(self, path, pos):
        _, starts = self.text(path)
        lo, hi = 0, len(starts)
        while lo + 1 < hi:
            mid = (lo + hi) // 2
            if starts[mid] <= pos:
                lo = mid
            else:
                hi = mid
        return lo + 1


VERBATIM = ("script", "style", "pre", "code", "textarea")


def context_at(text, pos):
    """'tag@attr' when pos is inside a tag, else 'text' (with the verbatim element it is in)."""
    lt, gt = text.rfind("<", 0, pos), text.rfind(">", 0, pos)
    if text.rfind("<!--", 0, pos) > text.rfind("-->", 0, pos):
        return "comment"
    if lt > gt:
        m = re.match(r"<\s*([A-Za-z][\w:-]*)", text[lt:pos + 1])
        tag = m.group(1).lower() if m else "?"
        a = re.search(r"([\w:-]+)\s*=\s*[\"']?[^\"'=<>]*$", text[lt:pos])
        return f"{tag}@{a.group(1).lower() if a else '?'}"
    low = text[:pos].lower()
    inside = [t for t in VERBATIM if low.rfind("<" + t) > low.rfind("</" + t)]
    return "text in " + "/".join(inside) if inside else "text"


def candidates(o, tree):
    """Strings to look for in o's document when the tool did not say where the link is."""
    kind, key = o.key
    if kind == "local":
        target, _, frag = key.partition("#")
        here = os.path.dirname(rel_to_tree(o.file, tree))
        rel = os.path.relpath(os.path.join(tree, target), os.path.join(tree, here)) if target else ""
        if os.path.normpath(os.path.join(tree, target)) == os.path.normpath(o.file):
            rel_self = ""
        else:
            rel_self = None
        out = []
        if frag:
            out += [rel + "#" + frag, urllib.parse.quote(rel) + "#" + urllib.parse.quote(frag, safe="")]
            if rel_self == "":
                out.append("#" + frag)
        out += [rel, os.path.basename(target)]
        return [c for c in out if c]
    raw = o.url
    out = [raw, raw.rstrip("/"), unq(raw), unq(raw).rstrip("/")]
    if "://" in raw:
        out.append(raw.split("://", 1)[1].rstrip("/"))
    return [c for c in out if c]


def locate(o, docs, tree, used):
    """Find o in its document: its own line:column, or the first unused occurrence of a likely
    written form. Sets o.context to (label, line, snippet)."""
    text, _ = docs.text(o.file)
    pos = None
    if o.line:
        pos = docs.offset(o.file, o.line, o.column)
    else:
        for c in candidates(o, tree):
            start = 0
            while True:
                i = text.find(c, start)
                if i < 0:
                    break
                if (o.file, i) not in used:
                    pos = i
                    used.add((o.file, i))
                    break
                start = i + 1
            if pos is not None:
                break
    if pos is None:
        o.context = ("not found in source", None, "")
        return
    line = o.line or docs.line_of(o.file, pos)
    a, b = max(0, pos - 60), min(len(text), pos + 80)
    snippet = re.sub(r"\s+", " ", text[a:b])
    o.context = (context_at(text, pos), line, snippet)


# ---------------------------------------------------------------------------------------------
# Running the dumps, when no files are given
# ---------------------------------------------------------------------------------------------
def find_tool(name, env):
    if os.environ.get(env):
        return os.environ[env]
    p = shutil.which(name) or os.path.expanduser(f"~/.cargo/bin/{name}")
    if os.access(p, os.X_OK):
        return p
    if name == "urlcheck":
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        p = os.path.join(target, "release", "urlcheck")
        if os.access(p, os.X_OK):
            return p
    sys.exit(f"bench/agreement.py: {name} not found (set {env}=path)")


def run_dump(cmd, out):
    wrap = []
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        wrap = ["unshare", "-n"]
    with open(out, "wb") as f:
        subprocess.run(wrap + cmd, stdout=f, stderr=subprocess.DEVNULL, check=False)


# ---------------------------------------------------------------------------------------------
# Comparing and reporting
# ---------------------------------------------------------------------------------------------
def classify(o, near):
    kind = o.key[0]
    if kind == "local":
        k = "local#fragment" if "#" in o.key[1] else "local"
    else:
        k = kind or "?"
    label = o.context[0] if o.context else "?"
    extra = []
    if o.excluded:
        extra.append("lychee: [excluded]")
    if near:
        extra.append(near)
    return (k, label, "; ".join(extra))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tree", default=DEFAULT_TREE)
    ap.add_argument("--urlcheck-dump", help="urlcheck --dump --format jsonl output")
    ap.add_argument("--lychee-dump", help="lychee --dump -v output")
    ap.add_argument("--cwd", help="the directory urlcheck's dump was made in (default: this one)")
    ap.add_argument("--examples", type=int, default=3, help="examples per class (default 3)")
    ap.add_argument("--keep", metavar="DIR", help="write the dumps it runs into DIR")
    args = ap.parse_args()

    tree = os.path.realpath(args.tree)
    cwd = os.path.abspath(args.cwd or os.getcwd())
    if not (args.urlcheck_dump and args.lychee_dump):
        d = args.keep or __import__("tempfile").mkdtemp(prefix="urlcheck-agreement.")
        os.makedirs(d, exist_ok=True)
        exts = os.environ.get("LYCHEE_EXTENSIONS", "html,htm,md,markdown")
        if not args.urlcheck_dump:
            args.urlcheck_dump = os.path.join(d, "urlcheck.dump.jsonl")
            run_dump([find_tool("urlcheck", "URLCHECK"), "--dump", "--format", "jsonl", tree], args.urlcheck_dump)
        if not args.lychee_dump:
            args.lychee_dump = os.path.join(d, "lychee.dump.txt")
            run_dump([find_tool("lychee", "LYCHEE"), "--dump", "-v", "--no-progress", "--extensions", exts, tree],
                     args.lychee_dump)
        print(f"dumps in {d}")

    uc, uc_skipped = read_urlcheck(args.urlcheck_dump, cwd)
    ly, ly_skipped = read_lychee(args.lychee_dump)
    for o in uc + ly:
        o.file = os.path.realpath(o.file) if os.path.isabs(o.file) else os.path.realpath(os.path.join(cwd, o.file))
        o.key = norm_url(o.url, tree)

    def mkey(o):
        return (rel_to_tree(o.file, tree), o.key[1])

    cu = collections.Counter(mkey(o) for o in uc)
    cl = collections.Counter(mkey(o) for o in ly)
    both = cu & cl
    only_u = cu - cl
    only_l = cl - cu
    su, sl = set(cu), set(cl)

    print(f"tree: {tree}")
    print(f"urlcheck: {len(uc)} links in {len({o.file for o in uc})} files"
          + (f" ({uc_skipped} lines without a url ignored)" if uc_skipped else ""))
    print(f"lychee:   {len(ly)} links in {len({o.file for o in ly})} files, "
          f"{sum(o.excluded for o in ly)} of them [excluded]"
          + (f" ({ly_skipped} unreadable lines ignored)" if ly_skipped else ""))
    print("lychee's dump names no line numbers: compared are (file, url) multisets, then sets.")
    print()
    w = max(len(str(len(uc))), len(str(len(ly))), 6)
    print(f"{'':26}{'multiset':>{w + 2}}{'set':>{w + 2}}")
    print(f"{'both':26}{sum(both.values()):>{w + 2}}{len(su & sl):>{w + 2}}")
    print(f"{'only urlcheck':26}{sum(only_u.values()):>{w + 2}}{len(su - sl):>{w + 2}}")
    print(f"{'only lychee':26}{sum(only_l.values()):>{w + 2}}{len(sl - su):>{w + 2}}")
    agree = sum(both.values()) / max(1, sum((cu | cl).values()))
    print(f"{'agreement (both / union)':26}{agree:>{w + 2}.1%}")

    # The occurrences left over on each side, as many of each key as the multiset difference says.
    def leftovers(occs, diff):
        need = dict(diff)
        out = []
        for o in occs:
            k = mkey(o)
            if need.get(k, 0) > 0:
                need[k] -= 1
                out.append(o)
        return out

    lu, ll = leftovers(uc, only_u), leftovers(ly, only_l)

    # Near misses: the same (file, url) on the other side but for the fragment, or for a
    # trailing slash / index.html.
    def loose(k):
        f, u = k
        u = without_fragment(u)
        if not SCHEME.match(u):
            u = u.partition("?")[0]
        u = re.sub(r"/index\.html?$", "/", u)
        return (f, u.rstrip("/"))

    other_u = collections.Counter(loose(mkey(o)) for o in ll)
    other_l = collections.Counter(loose(mkey(o)) for o in lu)

    docs, used = Docs(), set()
    # Claim the positions of the links both found first is not possible without lines; lychee's
    # leftovers are located by their most likely written form.
    groups = collections.defaultdict(list)
    for side, occs, other in (("only urlcheck", lu, other_u), ("only lychee", ll, other_l)):
        for o in occs:
            locate(o, docs, tree, used)
            k = loose(mkey(o))
            near = ""
            if other.get(k, 0) > 0:
                other[k] -= 1
                near = "near miss: the other side has it but for the fragment, query or a trailing slash"
            groups[(side,) + classify(o, near)].append(o)

    print()
    print("Differences by class (side, kind of URL, where it sits, notes), largest first")
    for key, occs in sorted(groups.items(), key=lambda kv: (kv[0][0], -len(kv[1]))):
        side, kind, label, extra = key
        print(f"\n  {len(occs):6}  {side:13}  {kind:15} {label}{'  [' + extra + ']' if extra else ''}")
        for o in occs[: args.examples]:
            where = f"{rel_to_tree(o.file, tree)}:{o.context[1] or '?'}"
            if o.line:
                where += f":{o.column}"
            kind_s = f" ({o.kind})" if o.kind else ""
            print(f"          {where}{kind_s}  {o.url}")
            if o.context[2]:
                print(f"            | {o.context[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
