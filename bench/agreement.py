#!/usr/bin/env python3
"""bench/agreement.py: do urlcheck and lychee extract the same links from the same documents?

    bench/agreement.py [--tree TREE]                  run urlcheck and lychee on TREE, compare
    bench/agreement.py --urlcheck-dump F --lychee-json G [--tree TREE]
    bench/agreement.py --urlcheck-dump F --lychee-dump G [--tree TREE]
                                                      compare outputs made earlier

urlcheck's side is `urlcheck --dump --format jsonl --root-dir TREE TREE`: one object per link
occurrence, with file, line and column. lychee's --dump has no line numbers (`lychee --dump -v`
prints "URL (file)"), but the JSON report of `lychee --offline -v --format json` lists every
link it met with line and column (checked local files in success_map and error_map, remote
URLs in excluded_map); that is what this script runs, and then it compares (file, line, url)
multisets and sets, and the columns. Given a `--dump -v` file instead, it compares (file, url).

Both sides are normalised before comparing: source files relative to TREE; local links (a path
for urlcheck, a file:// URL for lychee) to a path relative to TREE plus the #fragment (a ?query
is dropped: it means nothing to a file on disk, and urlcheck drops it too); http(s)
URLs to a lower-case scheme and host, no default port, "/" for an empty path; an empty
fragment ("page#") dropped; percent-encoding decoded everywhere. Differences left over are grouped by a few heuristics (kind of URL, the
element and attribute the link sits in, near misses such as "the same but for the fragment")
with examples, so that each class can be listed and justified.

Standard library only. Runs the tools (when it runs them) in a network namespace of its own
(`unshare -n`) when that is permitted, so nothing is contacted.

Environment: URLCHECK, LYCHEE (binaries; default: on PATH, or ~/.cargo/bin, or the release
build), LYCHEE_EXTENSIONS (default html,htm,md,markdown).
"""

import argparse
import bisect
import collections
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_TREE = "/usr/share/doc/python3.11/html"


# ---------------------------------------------------------------------------------------------
# Reading the dumps
# ---------------------------------------------------------------------------------------------
class Occ:
    """One link occurrence as a tool reported it."""

    __slots__ = ("tool", "file", "url", "line", "column", "kind", "excluded", "key", "mkey", "context")

    def __init__(self, tool, file, url, line=None, column=None, kind=None, excluded=False):
        self.tool, self.file, self.url = tool, file, url
        self.line, self.column, self.kind, self.excluded = line, column, kind, excluded
        self.key = self.mkey = None
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


def read_lychee_json(path):
    """`lychee --offline -v --format json`: every link it met, in success_map, error_map,
    timeout_map or excluded_map (-v fills the first and the last), each with line and column."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    out = []
    for m in ("success_map", "error_map", "timeout_map", "excluded_map"):
        for source, bodies in (doc.get(m) or {}).items():
            for b in bodies:
                span = b.get("span") or {}
                out.append(Occ("lychee", source, b["url"], span.get("line"), span.get("column"),
                               excluded=m == "excluded_map"))
    if not doc.get("detailed_stats", True):
        sys.exit("bench/agreement.py: lychee's JSON has no success_map: run it with -v")
    return out, 0


# ---------------------------------------------------------------------------------------------
# Normalising
# ---------------------------------------------------------------------------------------------
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
DEFAULT_PORTS = {"http": "80", "https": "443"}


def unq(s):
    return urllib.parse.unquote(s, errors="replace")


@functools.lru_cache(maxsize=None)
def rel_to_tree(path, tree):
    path = os.path.normpath(path)
    try:
        r = os.path.relpath(path, tree)
    except ValueError:
        return path
    return path if r.startswith("..") else r


def norm_url(url, tree, cwd):
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
        rel = rel_to_tree(os.path.join(cwd, path), tree)
        # A query means nothing to a file on disk: urlcheck drops it, lychee keeps it in the URL.
        key = rel + ("#" + unq(frag) if frag else "")
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
        if parts.fragment:  # an empty one ("page#") is no fragment
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
            self.cache[path] = (t, starts, t.lower())
        return self.cache[path][:2]

    def lower(self, path):
        self.text(path)
        return self.cache[path][2]

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


def context_at(text, low, pos):
    """Where pos is: 'tag@attr' inside a tag (with its rel= when it has one), else 'text'; then
    the verbatim elements around it ('in pre'), which some tools skip. low is text.lower()."""
    if low.rfind("<!--", 0, pos) > low.rfind("-->", 0, pos):
        return "comment"
    lt, gt = text.rfind("<", 0, pos), text.rfind(">", 0, pos)
    if lt > gt:
        m = re.match(r"<\s*([A-Za-z][\w:-]*)", text[lt:pos + 1])
        tag = m.group(1).lower() if m else "?"
        a = re.search(r"([\w:-]+)\s*=\s*[\"']?[^\"'=<>]*$", text[lt:pos])
        label = f"{tag}@{a.group(1).lower() if a else '?'}"
        end = text.find(">", pos)
        rel = re.search(r"\srel\s*=\s*[\"']?([^\"'>]*)", text[lt:end if end > 0 else len(text)], re.I)
        if rel:
            label += f" rel={rel.group(1).strip()}"
    else:
        label, lt = "text", pos
    inside = [t for t in VERBATIM if low.rfind("<" + t, 0, lt) > low.rfind("</" + t, 0, lt)]
    return label + (" in " + "/".join(inside) if inside else "")


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


URL_END = re.compile(r"[^\"'<>\s]*")


class Taken:
    """Places in documents that are spoken for: the spans of urlcheck's matched links, and the
    positions lychee's leftovers were located at."""

    def __init__(self):
        self.spans = collections.defaultdict(list)  # file -> [(start, end)], sorted by seal()
        self.points = set()

    def claim(self, o, docs):
        """o's URL, from urlcheck's line:column up to the closing quote."""
        pos = docs.offset(o.file, o.line, o.column)
        if pos is not None:
            text, _ = docs.text(o.file)
            self.spans[o.file].append((pos, max(pos + 1, URL_END.match(text, pos).end())))

    def seal(self):
        for v in self.spans.values():
            v.sort()
        self.starts = {f: [a for a, _ in v] for f, v in self.spans.items()}

    def __contains__(self, fp):
        f, i = fp
        if fp in self.points:
            return True
        v = self.spans.get(f)
        if not v:
            return False
        k = bisect.bisect_right(self.starts[f], i) - 1
        return k >= 0 and v[k][0] <= i < v[k][1]

    def add(self, fp):
        self.points.add(fp)


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
    o.context = (context_at(text, docs.lower(o.file), pos), line, snippet)


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


def run_dumps(args, tree):
    d = args.keep or tempfile.mkdtemp(prefix="urlcheck-agreement.")
    os.makedirs(d, exist_ok=True)
    exts = os.environ.get("LYCHEE_EXTENSIONS", "html,htm,md,markdown")
    if not args.urlcheck_dump:
        args.urlcheck_dump = os.path.join(d, "urlcheck.dump.jsonl")
        run_dump([find_tool("urlcheck", "URLCHECK"), "--dump", "--format", "jsonl", "--root-dir", tree, tree],
                 args.urlcheck_dump)
    if not (args.lychee_dump or args.lychee_json):
        args.lychee_json = os.path.join(d, "lychee.offline.json")
        run_dump([find_tool("lychee", "LYCHEE"), "--offline", "-v", "--no-progress", "--format", "json",
                  "--extensions", exts, "--root-dir", tree, tree], args.lychee_json)
    print(f"dumps in {d}")


def loose(k):
    """A key with the fragment, a local ?query, a trailing slash or index.html taken off."""
    u = without_fragment(k[-1])
    if not SCHEME.match(u):
        u = u.partition("?")[0]
    u = re.sub(r"/index\.html?$", "/", u)
    return k[:-1] + (u.rstrip("/"),)


def leftovers(occs, diff, other=()):
    """The occurrences left over on a side: as many of each key as the difference says, those
    whose column the other side does not have for that key first (a line with the URL twice,
    href and text, where the other side found only one)."""
    need = dict(diff)
    cols = collections.Counter((o.mkey, o.column) for o in other)
    first, rest = [], []
    for o in occs:
        if need.get(o.mkey, 0) <= 0:
            continue
        if cols.get((o.mkey, o.column), 0) > 0:
            cols[(o.mkey, o.column)] -= 1
            rest.append(o)
        else:
            first.append(o)
    out = []
    for o in first + rest:
        if need[o.mkey] > 0:
            need[o.mkey] -= 1
            out.append(o)
    return out


def print_counts(title, cu, cl):
    both, su, sl = cu & cl, set(cu), set(cl)
    w = max(len(str(sum(cu.values()))), len(str(sum(cl.values()))), 8) + 2
    print(f"{title:34}{'multiset':>{w}}{'set':>{w}}")
    print(f"{'  both':34}{sum(both.values()):>{w}}{len(su & sl):>{w}}")
    print(f"{'  only urlcheck':34}{sum((cu - cl).values()):>{w}}{len(su - sl):>{w}}")
    print(f"{'  only lychee':34}{sum((cl - cu).values()):>{w}}{len(sl - su):>{w}}")
    agree = sum(both.values()) / max(1, sum((cu | cl).values()))
    print(f"{'  agreement (both / union)':34}{agree:>{w}.1%}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", default=DEFAULT_TREE, help=f"the documents' folder (default {DEFAULT_TREE})")
    ap.add_argument("--urlcheck-dump", help="urlcheck --dump --format jsonl output")
    ap.add_argument("--lychee-json", help="lychee --offline -v --format json output (lines and columns)")
    ap.add_argument("--lychee-dump", help="lychee --dump -v output (no lines)")
    ap.add_argument("--cwd", help="the directory urlcheck's dump was made in (default: this one)")
    ap.add_argument("--examples", type=int, default=3, help="examples per class (default 3)")
    ap.add_argument("--keep", metavar="DIR", help="write the dumps it runs into DIR")
    args = ap.parse_args()

    tree = os.path.realpath(args.tree)
    cwd = os.path.abspath(args.cwd or os.getcwd())
    if not args.urlcheck_dump or not (args.lychee_dump or args.lychee_json):
        run_dumps(args, tree)

    uc, uc_skipped = read_urlcheck(args.urlcheck_dump, cwd)
    if args.lychee_json:
        ly, ly_skipped = read_lychee_json(args.lychee_json)
        ly_what = f"lychee --offline -v --format json ({os.path.basename(args.lychee_json)})"
    else:
        ly, ly_skipped = read_lychee(args.lychee_dump)
        ly_what = f"lychee --dump -v ({os.path.basename(args.lychee_dump)})"
    lines = all(o.line for o in uc) and all(o.line for o in ly)
    realpath = functools.lru_cache(maxsize=None)(os.path.realpath)
    for o in uc + ly:
        o.file = realpath(o.file if os.path.isabs(o.file) else os.path.join(cwd, o.file))
        o.key = norm_url(o.url, tree, cwd)
        o.mkey = (rel_to_tree(o.file, tree),) + ((o.line,) if lines else ()) + (o.key[1],)

    print(f"tree: {tree}")
    print(f"urlcheck: {len(uc)} links in {len({o.file for o in uc})} files"
          + (f" ({uc_skipped} lines without a url ignored)" if uc_skipped else ""))
    print(f"lychee:   {len(ly)} links in {len({o.file for o in ly})} files, "
          f"{sum(o.excluded for o in ly)} of them excluded from checking; from {ly_what}"
          + (f" ({ly_skipped} unreadable lines ignored)" if ly_skipped else ""))
    if not lines:
        print("lychee's --dump names no line numbers: compared are (file, url) multisets, then sets.")
    for name, occs in (("urlcheck", uc), ("lychee", ly)):
        n = sum(1 for o in occs if o.key[0] in ("http", "https") and "#" in o.key[1])
        print(f"{name}: {n} http(s) links with a #fragment")
    print()
    cu = collections.Counter(o.mkey for o in uc)
    cl = collections.Counter(o.mkey for o in ly)
    if lines:
        print_counts("(file, line, url)", cu, cl)
        print_counts("(file, url), lines ignored",
                     collections.Counter((k[0], k[2]) for k in cu.elements()),
                     collections.Counter((k[0], k[2]) for k in cl.elements()))
        # Columns of the links matched one to one.
        col_u = {}
        for o in uc:
            if cu[o.mkey] == 1 and cl.get(o.mkey) == 1:
                col_u[o.mkey] = o
        same, differ = 0, []
        for o in ly:
            u = col_u.get(o.mkey)
            if u is not None:
                if u.column == o.column:
                    same += 1
                else:
                    differ.append((u, o))
        print(f"columns of the {same + len(differ)} links matched one to one: {same} equal, {len(differ)} differ")
        for u, o in differ[: args.examples]:
            print(f"    {rel_to_tree(u.file, tree)}:{u.line}  urlcheck column {u.column}, lychee {o.column}  {u.url}")
    else:
        print_counts("(file, url)", cu, cl)

    only_u, only_l = cu - cl, cl - cu
    lu = leftovers(uc, only_u, ly if lines else ())
    ll = leftovers(ly, only_l, uc if lines else ())

    # Near misses: the other side has the link but for the fragment, a trailing slash or
    # index.html; or (with lines) on another line.
    other = {
        "u": collections.Counter(loose(o.mkey) for o in ll),
        "l": collections.Counter(loose(o.mkey) for o in lu),
    }
    other_line = {
        "u": collections.Counter((o.mkey[0], o.mkey[-1]) for o in ll),
        "l": collections.Counter((o.mkey[0], o.mkey[-1]) for o in lu),
    }

    # Without lines, lychee's leftovers are located by their most likely written form, away from
    # the places of urlcheck's links that lychee has too (those are matched, not leftovers).
    docs, used = Docs(), Taken()
    if not lines:
        files_l = {o.file for o in ll}
        for o in uc:
            if o.line and o.file in files_l and cl.get(o.mkey, 0) > 0:
                used.claim(o, docs)
    used.seal()
    groups = collections.defaultdict(list)
    for side, occs, s in (("only urlcheck", lu, "u"), ("only lychee", ll, "l")):
        for o in occs:
            locate(o, docs, tree, used)
            near = ""
            if lines and other_line[s].get((o.mkey[0], o.mkey[-1]), 0) > 0:
                other_line[s][(o.mkey[0], o.mkey[-1])] -= 1
                near = "near miss: the other side has it on another line"
            elif other[s].get(loose(o.mkey), 0) > 0:
                other[s][loose(o.mkey)] -= 1
                near = "near miss: the other side has it but for the fragment, query or a trailing slash"
            groups[(side,) + classify(o, near)].append(o)

    print()
    print("Differences by class (side, kind of URL, where it sits, notes), largest first")
    for key, occs in sorted(groups.items(), key=lambda kv: (kv[0][0], -len(kv[1]))):
        side, kind, label, extra = key
        print(f"\n  {len(occs):6}  {side:13}  {kind:15} {label}{'  [' + extra + ']' if extra else ''}")
        occs.sort(key=lambda o: (rel_to_tree(o.file, tree), o.context[1] or 0, o.column or 0))
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
