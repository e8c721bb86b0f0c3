#!/usr/bin/env python3
"""Render a kustomization the way `kustomize build` does, for the subset of kustomize that k8s/ uses.

    python3 k8s/tools/render.py k8s/overlays/production > rendered.yaml

Why it exists: scripts/validate-deploy.sh must run offline on a machine that may have neither
`kustomize` nor `kubectl`. When `kubectl kustomize` is available the validation script renders with
both and fails if they disagree, so this file stays honest.

Supported (anything else in a kustomization.yaml is rejected with an error, never ignored):
  resources            files (multi-document YAML) and directories holding a kustomization
  namespace            sets metadata.namespace on every namespaced object
  labels               pairs + includeTemplates (adds to pod templates, job templates and
                       volumeClaimTemplates); includeSelectors must be false
  images               name -> newName / newTag / digest in (init)containers of pods, templates
                       and job templates
  patches              strategic-merge patches (matched by kind+name, or by target) and JSON 6902
                       patches (need a target: group, version, kind, name, namespace, labelSelector)
  patchesStrategicMerge, patchesJson6902   the older spellings of the same
  configMapGenerator   files / literals / envs, behavior create; only with
                       disableNameSuffixHash: true (no hash suffixes, so no reference rewriting)
  generatorOptions     labels, annotations, disableNameSuffixHash
Transformers run in kustomize's order: generators, patches, namespace, labels, images.
Strategic merge knows the list merge keys of the built-in kinds it meets here (containers, env,
volumes, volumeMounts, ports, ...); on custom resources lists are replaced, as kustomize does.
"""
from __future__ import annotations

import copy
import os
import re
import sys
from typing import Any

import yaml

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_KEYS = {
    "apiVersion", "kind", "resources", "namespace", "labels", "images", "patches",
    "patchesStrategicMerge", "patchesJson6902", "configMapGenerator", "generatorOptions",
}
CLUSTER_SCOPED_KINDS = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "PersistentVolume", "StorageClass", "PriorityClass", "IngressClass", "RuntimeClass",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
    "ClusterIssuer", "Node", "CSIDriver", "VolumeSnapshotClass",
}
BUILTIN_GROUPS = {
    "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
}
POD_TEMPLATE_KINDS = {"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "ReplicationController"}
# Order in which `kustomize build` (legacy sort) emits kinds; others come between, by kind then name.
ORDER_FIRST = [
    "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
    "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap",
    "Secret", "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume",
    "PersistentVolumeClaim", "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
]
ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]


class RenderError(Exception):
    """A kustomization that this renderer cannot or will not build."""


# --------------------------------------------------------------------------- helpers

def group_of(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def version_of(api_version: str) -> str:
    return api_version.split("/")[-1]


def res_id(doc: dict) -> tuple[str, str, str, str]:
    md = doc.get("metadata") or {}
    return (group_of(doc.get("apiVersion", "")), doc.get("kind", ""), md.get("namespace", "") or "", md.get("name", ""))


def load_yaml_docs(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    for d in docs:
        if not isinstance(d, dict):
            raise RenderError(f"{path}: every document must be a mapping")
    return docs


def inside(root: str, path: str) -> str:
    """Kustomize's load restrictor: files a kustomization reads must live under its own folder."""
    full = os.path.realpath(os.path.join(root, path))
    if not (full == os.path.realpath(root) or full.startswith(os.path.realpath(root) + os.sep)):
        raise RenderError(f"{path}: outside the kustomization root {root} (load restrictor)")
    return full


# --------------------------------------------------------------------------- strategic merge

def merge_key(kind_is_builtin: bool, path: tuple[str, ...], field: str) -> str | None:
    if not kind_is_builtin:
        return None
    if field in ("containers", "initContainers", "ephemeralContainers", "env", "volumes",
                 "imagePullSecrets", "volumeClaimTemplates"):
        return "name" if field != "volumeClaimTemplates" else None
    if field == "volumeMounts":
        return "mountPath"
    if field == "ports":
        # Container ports merge on containerPort, Service ports on port.
        return "containerPort" if "containers" in path or "initContainers" in path else "port"
    if field == "hostAliases":
        return "ip"
    if field == "topologySpreadConstraints":
        return "topologyKey"
    return None


def smp(base: Any, patch: Any, builtin: bool, path: tuple[str, ...] = ()) -> Any:
    if isinstance(patch, dict):
        for directive in ("$patch", "$setElementOrder", "$retainKeys", "$deleteFromPrimitiveList"):
            if any(k == directive or k.startswith(directive + "/") for k in patch):
                raise RenderError(f"strategic-merge directive {directive} is not supported (at {'/'.join(path)})")
        if not isinstance(base, dict):
            base = {}
        out = dict(base)
        for k, v in patch.items():
            if v is None:
                out.pop(k, None)
            elif k in out:
                out[k] = smp_field(out[k], v, builtin, path + (k,), k)
            else:
                out[k] = copy.deepcopy(v)
        return out
    return copy.deepcopy(patch)


def smp_field(base: Any, patch: Any, builtin: bool, path: tuple[str, ...], field: str) -> Any:
    if isinstance(patch, list):
        key = merge_key(builtin, path[:-1], field)
        if key is None or not isinstance(base, list):
            return copy.deepcopy(patch)
        out = [copy.deepcopy(x) for x in base]
        for item in patch:
            if not isinstance(item, dict) or key not in item:
                raise RenderError(f"list item under {'/'.join(path)} lacks merge key {key}")
            for i, existing in enumerate(out):
                if isinstance(existing, dict) and existing.get(key) == item[key]:
                    out[i] = smp(existing, item, builtin, path)
                    break
            else:
                out.append(copy.deepcopy(item))
        return out
    return smp(base, patch, builtin, path)


# --------------------------------------------------------------------------- JSON 6902

def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise RenderError(f"JSON pointer must start with '/': {path}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, list):
            cur = cur[int(p)]
        elif isinstance(cur, dict) and p in cur:
            cur = cur[p]
        else:
            raise RenderError(f"JSON 6902 path {path}: {p} does not exist")
    return cur


def json6902(doc: dict, ops: list[dict]) -> dict:
    doc = copy.deepcopy(doc)
    for op in ops:
        kind, path = op.get("op"), op.get("path", "")
        parts = _pointer(path)
        if kind in ("add", "replace", "test"):
            value = copy.deepcopy(op.get("value"))
            parent, last = _parent(doc, parts, path), parts[-1]
            if isinstance(parent, list):
                if kind == "add":
                    parent.insert(len(parent) if last == "-" else int(last), value)
                elif kind == "replace":
                    parent[int(last)] = value
                elif parent[int(last)] != value:
                    raise RenderError(f"JSON 6902 test failed at {path}")
            else:
                if kind == "replace" and last not in parent:
                    raise RenderError(f"JSON 6902 replace: {path} does not exist")
                if kind == "test":
                    if parent.get(last) != value:
                        raise RenderError(f"JSON 6902 test failed at {path}")
                else:
                    parent[last] = value
        elif kind == "remove":
            parent, last = _parent(doc, parts, path), parts[-1]
            if isinstance(parent, list):
                del parent[int(last)]
            elif last in parent:
                del parent[last]
            else:
                raise RenderError(f"JSON 6902 remove: {path} does not exist")
        elif kind in ("move", "copy"):
            src = _pointer(op["from"])
            sparent = _parent(doc, src, op["from"])
            value = sparent[int(src[-1])] if isinstance(sparent, list) else sparent[src[-1]]
            if kind == "move":
                json6902_inplace_remove(sparent, src[-1])
            doc = json6902(doc, [{"op": "add", "path": path, "value": value}])
        else:
            raise RenderError(f"JSON 6902 op {kind!r} is not supported")
    return doc


def json6902_inplace_remove(parent: Any, last: str) -> None:
    if isinstance(parent, list):
        del parent[int(last)]
    else:
        del parent[last]


# --------------------------------------------------------------------------- transformers

def label_selector_matches(selector: str, labels: dict) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif labels.get(term) is None:
            return False
    return True


def target_matches(target: dict, doc: dict) -> bool:
    unknown = set(target) - {"group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"}
    if unknown:
        raise RenderError(f"patch target fields not supported: {sorted(unknown)}")
    api = doc.get("apiVersion", "")
    md = doc.get("metadata") or {}
    if "group" in target and target["group"] != group_of(api):
        return False
    if "version" in target and target["version"] != version_of(api):
        return False
    if "kind" in target and target["kind"] != doc.get("kind"):
        return False
    if "name" in target and not re.fullmatch(target["name"], md.get("name", "")):
        return False
    if "namespace" in target and not re.fullmatch(target["namespace"], md.get("namespace", "") or ""):
        return False
    if "labelSelector" in target and not label_selector_matches(target["labelSelector"], md.get("labels") or {}):
        return False
    if "annotationSelector" in target and not label_selector_matches(target["annotationSelector"], md.get("annotations") or {}):
        return False
    return True


def apply_smp_doc(resources: list[dict], patch: dict, target: dict | None, where: str) -> None:
    if target is None:
        pid = (group_of(patch.get("apiVersion", "")), patch.get("kind"), (patch.get("metadata") or {}).get("name"))
        hits = [i for i, r in enumerate(resources) if (res_id(r)[0], res_id(r)[1], res_id(r)[3]) == pid]
    else:
        hits = [i for i, r in enumerate(resources) if target_matches(target, r)]
    if not hits:
        raise RenderError(f"{where}: patch matches no resource")
    for i in hits:
        r = resources[i]
        p = patch
        if target is not None:
            # A targeted patch keeps the target's identity whatever name the patch carries.
            p = dict(patch)
            p["metadata"] = dict(patch.get("metadata") or {})
            p["metadata"]["name"] = r["metadata"]["name"]
        resources[i] = smp(r, p, group_of(r.get("apiVersion", "")) in BUILTIN_GROUPS)


def apply_patch(root: str, resources: list[dict], entry: dict, where: str) -> None:
    unknown = set(entry) - {"path", "patch", "target", "options"}
    if unknown or entry.get("options"):
        raise RenderError(f"{where}: patch fields not supported: {sorted(unknown | set(entry.get('options') or {}))}")
    if "path" in entry:
        with open(inside(root, entry["path"]), encoding="utf-8") as f:
            text = f.read()
    else:
        text = entry.get("patch", "")
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    target = entry.get("target")
    if len(docs) == 1 and isinstance(docs[0], list):
        if target is None:
            raise RenderError(f"{where}: a JSON 6902 patch needs a target")
        hits = [i for i, r in enumerate(resources) if target_matches(target, r)]
        if not hits:
            raise RenderError(f"{where}: target {target} matches no resource")
        for i in hits:
            resources[i] = json6902(resources[i], docs[0])
        return
    for d in docs:
        if not isinstance(d, dict):
            raise RenderError(f"{where}: a strategic-merge patch must be a mapping")
        apply_smp_doc(resources, d, target, where)


def set_namespace(resources: list[dict], namespace: str) -> None:
    for r in resources:
        if r.get("kind") in CLUSTER_SCOPED_KINDS:
            continue
        r.setdefault("metadata", {})["namespace"] = namespace


def add_labels(resources: list[dict], entries: list[dict]) -> None:
    for entry in entries:
        unknown = set(entry) - {"pairs", "includeSelectors", "includeTemplates"}
        if unknown:
            raise RenderError(f"labels fields not supported: {sorted(unknown)}")
        if entry.get("includeSelectors"):
            raise RenderError("labels.includeSelectors: true is not supported (selectors are immutable; keep them stable)")
        pairs = {str(k): str(v) for k, v in (entry.get("pairs") or {}).items()}
        for r in resources:
            r.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
            if not entry.get("includeTemplates"):
                continue
            spec = r.get("spec") or {}
            if r.get("kind") in POD_TEMPLATE_KINDS and "template" in spec:
                spec["template"].setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
            if r.get("kind") == "StatefulSet":
                for vct in spec.get("volumeClaimTemplates") or []:
                    vct.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
            if r.get("kind") == "CronJob" and "jobTemplate" in spec:
                jt = spec["jobTemplate"]
                jt.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
                jt.setdefault("spec", {}).setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def split_image(image: str) -> tuple[str, str, str]:
    """-> (name, tag, digest); the tag is after the last ':' that follows the last '/'."""
    digest = ""
    if "@" in image:
        image, digest = image.split("@", 1)
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1:], digest
    return image, "", digest


def pod_specs(r: dict) -> list[dict]:
    spec = r.get("spec") or {}
    out = []
    if r.get("kind") == "Pod":
        out.append(spec)
    if "template" in spec and isinstance(spec["template"], dict):
        out.append(spec["template"].get("spec") or {})
    if "jobTemplate" in spec:
        out.append(((spec["jobTemplate"].get("spec") or {}).get("template") or {}).get("spec") or {})
    return out


def set_images(resources: list[dict], images: list[dict]) -> None:
    for img in images:
        unknown = set(img) - {"name", "newName", "newTag", "digest"}
        if unknown:
            raise RenderError(f"images fields not supported: {sorted(unknown)}")
        for r in resources:
            for ps in pod_specs(r):
                for c in (ps.get("containers") or []) + (ps.get("initContainers") or []):
                    name, tag, digest = split_image(c.get("image", ""))
                    if name != img["name"]:
                        continue
                    name = img.get("newName", name)
                    if "digest" in img:
                        c["image"] = f"{name}@{img['digest']}"
                    elif "newTag" in img:
                        c["image"] = f"{name}:{img['newTag']}"
                    else:
                        c["image"] = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def generate_configmaps(root: str, gens: list[dict], options: dict) -> list[dict]:
    out = []
    for g in gens:
        unknown = set(g) - {"name", "namespace", "files", "literals", "envs", "behavior", "options"}
        if unknown:
            raise RenderError(f"configMapGenerator fields not supported: {sorted(unknown)}")
        if g.get("behavior", "create") != "create":
            raise RenderError("configMapGenerator behavior other than create is not supported")
        opts = {**options, **(g.get("options") or {})}
        if not opts.get("disableNameSuffixHash"):
            raise RenderError(f"configMapGenerator {g['name']}: set disableNameSuffixHash: true (hash suffixes are not supported)")
        data: dict[str, str] = {}
        for spec in g.get("files") or []:
            key, _, path = spec.partition("=") if "=" in spec else (os.path.basename(spec), "", spec)
            with open(inside(root, path), encoding="utf-8") as f:
                data[key] = f.read()
        for lit in g.get("literals") or []:
            k, v = lit.split("=", 1)
            data[k] = v.strip('"') if v.startswith('"') and v.endswith('"') else v
        for env in g.get("envs") or []:
            with open(inside(root, env), encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if line and not line.startswith("#"):
                        k, v = line.split("=", 1)
                        data[k] = v
        md: dict[str, Any] = {"name": g["name"]}
        if g.get("namespace"):
            md["namespace"] = g["namespace"]
        if opts.get("labels"):
            md["labels"] = {str(k): str(v) for k, v in opts["labels"].items()}
        if opts.get("annotations"):
            md["annotations"] = {str(k): str(v) for k, v in opts["annotations"].items()}
        out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": data})
    return out


# --------------------------------------------------------------------------- build

def find_kustomization(directory: str) -> str:
    for name in KUSTOMIZATION_FILES:
        p = os.path.join(directory, name)
        if os.path.isfile(p):
            return p
    raise RenderError(f"{directory}: no kustomization.yaml")


def build(directory: str, _stack: tuple[str, ...] = ()) -> list[dict]:
    directory = os.path.realpath(directory)
    if directory in _stack:
        raise RenderError(f"cycle in kustomizations: {' -> '.join(_stack + (directory,))}")
    kpath = find_kustomization(directory)
    with open(kpath, encoding="utf-8") as f:
        k = yaml.safe_load(f) or {}
    unknown = set(k) - SUPPORTED_KEYS
    if unknown:
        raise RenderError(f"{kpath}: fields not supported by this renderer: {sorted(unknown)}")
    if k.get("kind", "Kustomization") != "Kustomization":
        raise RenderError(f"{kpath}: kind {k.get('kind')} is not supported")

    resources: list[dict] = []
    for entry in k.get("resources") or []:
        if re.match(r"^[a-z]+://|^github\.com/", entry):
            raise RenderError(f"{kpath}: remote resource {entry} is not supported")
        full = os.path.realpath(os.path.join(directory, entry))
        if os.path.isdir(full):
            resources.extend(build(full, _stack + (directory,)))
        elif os.path.isfile(full):
            resources.extend(load_yaml_docs(inside(directory, entry)))
        else:
            raise RenderError(f"{kpath}: resource {entry} does not exist")

    resources.extend(generate_configmaps(directory, k.get("configMapGenerator") or [], k.get("generatorOptions") or {}))

    seen: set = set()
    for r in resources:
        rid = res_id(r)
        if rid in seen:
            raise RenderError(f"{kpath}: duplicate resource {rid}")
        seen.add(rid)

    for i, p in enumerate(k.get("patchesStrategicMerge") or []):
        apply_patch(directory, resources, {"path": p} if not p.lstrip().startswith(("apiVersion", "kind")) else {"patch": p},
                    f"{kpath} patchesStrategicMerge[{i}]")
    for i, p in enumerate(k.get("patches") or []):
        apply_patch(directory, resources, p, f"{kpath} patches[{i}]")
    for i, p in enumerate(k.get("patchesJson6902") or []):
        apply_patch(directory, resources, p, f"{kpath} patchesJson6902[{i}]")

    if k.get("namespace"):
        set_namespace(resources, k["namespace"])
    add_labels(resources, k.get("labels") or [])
    set_images(resources, k.get("images") or [])
    return resources


def sort_key(r: dict) -> tuple:
    kind = r.get("kind", "")
    if kind in ORDER_FIRST:
        rank = ORDER_FIRST.index(kind)
    elif kind in ORDER_LAST:
        rank = len(ORDER_FIRST) + 1 + ORDER_LAST.index(kind)
    else:
        rank = len(ORDER_FIRST)
    md = r.get("metadata") or {}
    return (rank, kind, md.get("namespace", "") or "", md.get("name", ""))


def render(directory: str) -> list[dict]:
    return sorted(build(directory), key=sort_key)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} KUSTOMIZATION_DIR", file=sys.stderr)
        return 2
    try:
        docs = render(argv[1])
    except (RenderError, OSError, yaml.YAMLError) as e:
        print(f"render: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(yaml.safe_dump_all(docs, sort_keys=True, default_flow_style=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
