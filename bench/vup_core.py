#!/usr/bin/env python3
"""The baseline for `deno task bench:vup`: a minimal Python vup-core, the design vup replaces.

It does the same search as `venvoy vup-core` for the benchmarked subcommands (find, ls,
prompt), with the same per-level validation and warnings, and speaks the same interface
(including --with-prompt), so bench/vup.ts can put it behind the same bash function.
Only os and sys are imported: no argparse, so it starts as fast as Python can.
"""
import os
import sys


def tildify(home, p):
    if p == home:
        return "~"
    if p.startswith(home + "/"):
        return "~" + p[len(home):]
    return p


def within(home, p):
    return p == home or p.startswith(home + "/")


def levels(home, start, traverse):
    out = [start]
    while traverse and start != home and start != "/":
        start = os.path.dirname(start)
        out.append(start)
    return out


def resolve(home, cwd, d):
    if d == "~" or d.startswith("~/"):
        d = home + d[1:]
    return os.path.normpath(os.path.join(cwd, d))


def validate(p):
    if not os.path.lexists(p):
        return 1
    if not os.path.isdir(p):
        return 2
    if not os.path.isfile(os.path.join(p, "bin", "activate")):
        return 3
    return 0


def search_levels(home, cwd, start, traverse):
    if start is not None:
        d = resolve(home, cwd, start)
        if not within(home, d) or not os.path.isdir(d):
            sys.stderr.write("vup: error: %s is not a directory within ~\n" % d)
            sys.exit(1)
        return levels(home, d, traverse)
    if not within(home, cwd):
        return [home]
    return levels(home, cwd, traverse)


def prompt_id(home, venv):
    branch = os.path.dirname(os.path.dirname(venv))
    name = os.path.basename(venv)
    return "~/" + name if branch == home else os.path.basename(branch) + "/" + name


def main(argv):
    home = os.path.normpath(os.environ["HOME"])
    cwd = os.environ.get("PWD") or os.getcwd()
    sub, args = argv[0], argv[1:]
    start, traverse, with_prompt, nul, pos = None, True, False, False, []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--start-dir", "-d"):
            start = args[i + 1]
            i += 1
            traverse = traverse and a != "-d"
        elif a == "--no-traverse":
            traverse = False
        elif a == "--with-prompt":
            with_prompt = True
        elif a == "--nul":
            nul = True
        else:
            pos.append(a)
        i += 1
    if sub == "find":
        name = pos[0]
        for branch in search_levels(home, cwd, start, traverse):
            dot = os.path.join(branch, ".venv")
            if not os.path.lexists(dot):
                continue
            if not os.path.isdir(dot):
                sys.stderr.write("vup: warning: %s is not a directory; skipped\n" % tildify(home, dot))
                continue
            venv = os.path.join(dot, name)
            code = validate(venv)
            if code == 1:
                continue
            if code:
                sys.stderr.write("vup: warning: %s is not a venv; skipped\n" % tildify(home, venv))
                continue
            lines = [venv]
            if with_prompt:
                lines += [prompt_id(home, venv), tildify(home, dot) + "/"]
            end = "\0" if nul else "\n"
            sys.stdout.write(end.join(lines) + end)
            return 0
        sys.stderr.write("vup: error: no venv named '%s'\n" % name)
        return 1
    if sub == "ls":
        if pos:
            start = pos[0]
        active = os.environ.get("VIRTUAL_ENV", "")
        rows = []
        for branch in search_levels(home, cwd, start, True):
            dot = os.path.join(branch, ".venv")
            if not os.path.isdir(dot):
                continue
            for name in sorted(os.listdir(dot)):
                venv = os.path.join(dot, name)
                if validate(venv) == 0:
                    rows.append(("*" if venv == active else " ", name, tildify(home, branch)))
        width = max([len(r[1]) for r in rows] or [0])
        sys.stdout.write("".join("%s %s  %s\n" % (m, n.ljust(width), b) for m, n, b in rows))
        return 0
    if sub == "prompt":
        sys.stdout.write(prompt_id(home, os.path.abspath(pos[0])) + "\n")
        return 0
    sys.stderr.write("vup_core.py: only find, ls and prompt are implemented\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
