#!/usr/bin/env python3
"""conf_covers_directives.py SRC_DIR CONF: every directive of the
configuration language (the tables of src/config_directives.c and the
other config_*.c files: { "NAME", min, max, "USAGE", ... }) appears in
CONF, set or commented out: the shipped proxy.conf says "Every directive
appears here", and the package ships no other reference.  A directive
with sub-forms ("tls protocols LO HI | ciphers LIST") is checked per form
("tls protocols", "tls ciphers").  Prints what is missing; exit 1 then."""
import glob
import re
import sys

src, conf = sys.argv[1], sys.argv[2]
entry = re.compile(r'\{\s*"([a-z0-9-]+)",\s*\d+,\s*\d+,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')
forms = set()
for path in glob.glob(f"{src}/config*.c"):
    text = open(path).read()
    for name, usage in entry.findall(text):
        usage = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', usage))
        if name == "pool" or name.startswith("}"):
            continue
        alts = [a.strip() for a in usage.split("|")]
        subs = []
        for a in alts:
            words = a.split()
            if words and words[0] == name:
                words = words[1:]
            # a sub-form: a lowercase keyword after the name (not a value
            # placeholder such as N, PATH, [host ...], auto/off values)
            if words and re.fullmatch(r"[a-z][a-z0-9-]*", words[0]) and len(alts) > 1 and \
                    any(w.isupper() for w in words[1:2]):
                subs.append(words[0])
        if subs:
            forms.update(f"{name} {s}" for s in subs)
        else:
            forms.add(name)
lines = [l.lstrip("# \t") for l in open(conf)]
missing = sorted(f for f in forms if not any(l.startswith(f + " ") or l.strip() == f for l in lines))
for f in missing:
    print(f"{conf}: no line for \"{f}\"")
print(f"{len(forms)} directive forms, {len(missing)} missing")
sys.exit(1 if missing else 0)
