#!/usr/bin/env python3
"""Lists the longest C++ function bodies in the tree (a brace-matching
heuristic, no parser): `scripts/longest_functions.py [N] [DIR...]`.

Used to compare code-health snapshots (issue 16); prints `lines file:line name`.
"""
import os
import re
import sys


def strip(text):
    """Blanks comments, strings and character literals, keeping newlines."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append('\n' * text.count('\n', i, j))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = ')' + (m.group(1) if m else '') + '"'
            j = text.find(end, i)
            j = n if j < 0 else j + len(end)
            out.append('""' + '\n' * text.count('\n', i, j))
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


HEAD = re.compile(r'\)\s*(const|override|noexcept|final|mutable|\s|->\s*[\w:<>,\s*&]+)*$')


def functions(path):
    text = strip(open(path, encoding='utf-8', errors='replace').read())
    stack, results, start = [], [], 0
    for i, c in enumerate(text):
        if c == '{':
            before = text[start:i]
            line = text.count('\n', 0, i) + 1
            kind = 'block'
            if 'func' not in [k for k, _, _ in stack]:
                head = before.strip()
                # A constructor's initializer list: cut back to its ')'.
                init = re.search(r'\)\s*:\s*[\w:]+[({].*$', head, re.S)
                probe = head[:init.start() + 1] if init else head
                if HEAD.search(probe) and not re.match(
                        r'.*\b(if|for|while|switch|catch)\s*\(', probe.split('\n')[-1]):
                    name = re.findall(r'([~\w:]+)\s*\(', probe)
                    kind = 'func:' + (name[0] if name else '?')
            stack.append((kind.split(':')[0], line, kind))
            start = i + 1
        elif c == '}':
            if stack:
                kind, line, full = stack.pop()
                if kind == 'func':
                    end = text.count('\n', 0, i) + 1
                    results.append((end - line + 1, path, line, full[5:]))
            start = i + 1
        elif c == ';':
            start = i + 1
    return results


def main():
    args = sys.argv[1:]
    count = int(args.pop(0)) if args and args[0].isdigit() else 20
    roots = args or ['bufferpool', 'engine', 'io', 'util', 'include', 'tools', 'bench']
    found = []
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for f in files:
                if f.endswith(('.cc', '.h', '.c')):
                    found += functions(os.path.join(dirpath, f))
    found.sort(key=lambda r: -r[0])
    for lines, path, line, name in found[:count]:
        print(f'{lines:4d} {path}:{line} {name}')
    print(f'functions: {len(found)}; over 60 lines: {sum(1 for r in found if r[0] > 60)}')


if __name__ == '__main__':
    main()
