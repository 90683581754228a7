#!/usr/bin/env python3
"""Writes docs/crds.md, the field reference of the CRDs in crds/, from their OpenAPI schemas.

Run `python3 tools/crd-doc.py > docs/crds.md` after changing a CRD; e2e/smoke checks it is current.
"""
import glob
import os
import sys

import json

import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def walk(prefix, schema, rows):
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        typ = sub.get("type", "")
        if typ == "array" and "items" in sub:
            typ = f"[]{sub['items'].get('type', 'object')}"
        elif typ == "object" and "additionalProperties" in sub:
            typ = "map[string]string"
        limits = []
        for k, label in (("minimum", "min"), ("maximum", "max"), ("minLength", "min length"),
                         ("maxLength", "max length"), ("maxItems", "max items"), ("pattern", "pattern"),
                         ("enum", "one of")):
            if k in sub:
                v = sub[k]
                limits.append(f"{label} `{', '.join(map(str, v)) if isinstance(v, list) else v}`")
        for rule in sub.get("x-kubernetes-validations") or []:
            limits.append(f"rule: {rule.get('message', rule['rule'])}")
        default = sub.get("default")
        desc = " ".join((sub.get("description") or "").split())
        req = name in (schema.get("required") or [])
        rows.append((path, typ, "yes" if req else "",
                     "" if default is None else f"`{json.dumps(default)}`",
                     "; ".join(filter(None, [desc] + limits)).replace("|", "\\|")))
        if sub.get("type") == "object":
            walk(path, sub, rows)
        elif sub.get("type") == "array" and (sub.get("items") or {}).get("properties"):
            walk(path + "[]", sub["items"], rows)


def main():
    out = ["# CRD reference", "",
           "Generated from `crds/` by `tools/crd-doc.py`; `kubectl explain <kind>.<field>` says the same.", ""]
    for f in sorted(glob.glob(os.path.join(ROOT, "crds", "*.yaml"))):
        crd = yaml.safe_load(open(f))
        spec = crd["spec"]
        names = spec["names"]
        for v in spec["versions"]:
            schema = v["schema"]["openAPIV3Schema"]
            out += [f"## {names['kind']} ({spec['group']}/{v['name']}, {spec['scope'].lower()})", "",
                    " ".join((schema.get("description") or "").split()), "",
                    f"Short names: {', '.join(names.get('shortNames', []))}. "
                    f"Columns of `kubectl get {names['plural']}`: "
                    + ", ".join(c["name"] for c in v.get("additionalPrinterColumns", [])
                                if not c.get("priority")) + ".", "",
                    "| field | type | required | default | description |", "|---|---|---|---|---|"]
            rows = []
            for top in ("spec", "status"):
                if top in schema.get("properties", {}):
                    sub = schema["properties"][top]
                    rows.append((top, sub.get("type", ""), "yes" if top in (schema.get("required") or []) else "",
                                 "", " ".join((sub.get("description") or "").split())))
                    walk(top, sub, rows)
            out += [f"| `{p}` | {t} | {r} | {d} | {desc} |" for p, t, r, d, desc in rows]
            out.append("")
    sys.stdout.write("\n".join(out))


main()
