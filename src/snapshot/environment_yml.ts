/**
 * `environment.yml` in conda's format, so conda and other tools read it:
 *
 *   name: demo
 *   channels: [conda-forge]
 *   dependencies:
 *     - python=3.11          the interpreter pin
 *     - libzlib=1.3.1        conda packages as name=version
 *     - pip
 *     - pip:                 Python packages as name==version
 *         - numpy==2.1.0
 *   x-venvoy:                what venvoy needs; conda ignores unknown top-level keys
 *     format: "1"
 *     base_image_pinned: …
 *     as_of: 2024-06-30      with `venvoy init --as-of` (import rebuilds as of it too)
 *
 * R packages live in renv.lock next to it (renv_lock.ts). Parsing also accepts the old
 * venvoy form (top-level `exported:` and `venvoy_version:`) and `conda env export` output
 * (`name=version=build`, `channel::name=version`, `prefix:`).
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, stringify } from "yaml";
import { SnapshotFormatError } from "./errors.ts";
import { UsageError } from "../ui/errors.ts";
import {
  checkCondaChannel,
  checkCondaPackage,
  checkImageRef,
  checkLine,
  checkPythonPackage,
  checkRuntimeVersion,
  checkVenvoyVersion,
  GrammarError,
} from "../util/grammar.ts";
import {
  DEFAULT_CHANNELS,
  emptyState,
  normalizePythonName,
  normalizeState,
  type Pkg,
  type Snapshot,
  type SnapshotMeta,
} from "./model.ts";

export const FORMAT_VERSION = "1";
export const VENVOY_SECTION = "x-venvoy";

/** x-venvoy keys (snake_case like config.yaml) and the meta fields they hold. */
const META_KEYS: [string, keyof SnapshotMeta][] = [
  ["runtime", "runtime"],
  ["python_version", "pythonVersion"],
  ["r_version", "rVersion"],
  ["created", "created"],
  ["engine", "engine"],
  ["base_image", "baseImage"],
  ["base_image_pinned", "baseImagePinned"],
  ["image_id", "imageId"],
  ["venvoy_version", "venvoyVersion"],
  ["package_manager", "packageManager"],
  ["as_of", "asOf"],
];

export function renderEnvironmentYml(snap: Snapshot): string {
  const { meta } = snap;
  const state = normalizeState(snap.state);
  const deps: (string | { pip: string[] })[] = [];
  if (meta.pythonVersion) deps.push(`python=${meta.pythonVersion}`);
  for (const p of state.conda) deps.push(p.version ? `${p.name}=${p.version}` : p.name);
  if (state.python.length > 0) {
    if (!state.conda.some((p) => p.name === "pip")) deps.push("pip");
    deps.push({ pip: state.python.map((p) => (p.version ? `${p.name}==${p.version}` : p.name)) });
  }
  const section: Record<string, string> = { format: FORMAT_VERSION };
  for (const [key, field] of META_KEYS) {
    const v = meta[field];
    if (typeof v === "string" && v !== "") section[key] = v;
  }
  const doc = {
    name: meta.name,
    channels: meta.channels?.length ? meta.channels : DEFAULT_CHANNELS,
    dependencies: deps,
    [VENVOY_SECTION]: section,
  };
  const head = [
    `# venvoy snapshot of '${meta.name}'. conda reads it: conda env create -f <this file>`,
    ...(meta.runtime === "r" || state.r.length > 0
      ? ["# R packages are in the renv.lock file written with it."]
      : []),
  ];
  return head.join("\n") + "\n" + stringify(doc, { lineWidth: 0 });
}

const CONDA_SPEC = /^([A-Za-z0-9_][A-Za-z0-9._+-]*)(?:\s*(==|=)\s*([^=\s]+)(?:=(\S+))?)?$/;
const PIP_SPEC =
  /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(?:(===|==)\s*([^\s;#]+))?\s*(?:;.*)?$/;

/** One `dependencies:` entry: `name`, `name=version`, `name=version=build`, `chan::name=v`. */
export function parseCondaSpec(spec: string): Pkg | null {
  const bare = spec.trim().replace(/^[^:\s]+::/, "");
  const m = CONDA_SPEC.exec(bare);
  if (!m) return null;
  return { name: m[1].toLowerCase(), version: m[3] ?? "" };
}

/** One `pip:` entry: `name==version` (extras and markers are dropped) or a bare name. */
export function parsePipSpec(spec: string): Pkg | null {
  const m = PIP_SPEC.exec(spec.trim());
  if (!m) return null;
  return { name: normalizePythonName(m[1]), version: m[3] ?? "" };
}

export function parseEnvironmentYml(text: string, file: string): Snapshot {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, schema: "failsafe", uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new SnapshotFormatError(
      file,
      e.linePos?.[0].line ?? null,
      `not valid YAML: ${e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`,
    );
  }
  const lineOf = (node: unknown): number | null => {
    const r = (node as Node | null)?.range;
    return r ? lc.linePos(r[0]).line : null;
  };
  const fail = (node: unknown, why: string): never => {
    throw new SnapshotFormatError(file, lineOf(node) ?? 1, why);
  };
  /**
   * Values that reach a build file (the base image, versions, package names) are checked
   * against their grammar here, when the file is read: a refusal is a usage error (exit 2)
   * that names the file and the line.
   */
  const grammar = (node: unknown, check: () => unknown): void => {
    try {
      check();
    } catch (e) {
      if (!(e instanceof GrammarError)) throw e;
      throw new UsageError(`${file}:${lineOf(node) ?? 1}: ${e.message}`, {
        hint: e.hint ?? "this file was crafted or damaged; venvoy will not build from it",
      });
    }
  };
  const root = doc.contents;
  if (!isMap(root)) return fail(root, "expected a mapping with name, channels and dependencies");
  const str = (node: unknown, what: string): string => {
    if (isScalar(node) && typeof node.value === "string") return node.value;
    return fail(node, `${what} must be a single value`);
  };
  const meta: SnapshotMeta = { name: "" };
  const state = emptyState();
  let sawDependencies = false;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    const value = pair.value;
    switch (key) {
      case "name":
        meta.name = str(value, "name");
        break;
      case "channels":
        if (value === null || (isScalar(value) && value.value === "")) break;
        if (!isSeq(value)) fail(value ?? pair.key, "channels must be a list");
        meta.channels = (value as { items: unknown[] }).items.map((n) => {
          const c = str(n, "a channel");
          grammar(n, () => checkCondaChannel(c));
          return c;
        });
        break;
      case "dependencies": {
        sawDependencies = true;
        if (value === null || (isScalar(value) && value.value === "")) break;
        if (!isSeq(value)) fail(value ?? pair.key, "dependencies must be a list");
        parseDependencies(value as { items: unknown[] });
        break;
      }
      // the old venvoy form kept these at the top level
      case "exported":
        meta.created ??= str(value, "exported");
        break;
      case "venvoy_version": {
        const v = str(value, "venvoy_version");
        grammar(value, () => checkVenvoyVersion(v));
        meta.venvoyVersion ??= v;
        break;
      }
      case VENVOY_SECTION: {
        if (!isMap(value)) fail(value ?? pair.key, `${VENVOY_SECTION} must be a mapping`);
        const items = (value as { items: { key: unknown; value: unknown }[] }).items;
        for (const item of items) {
          const k = isScalar(item.key) ? String(item.key.value) : "";
          if (k === "format") {
            const f = str(item.value, "format");
            if (f !== FORMAT_VERSION) {
              fail(item.value, `snapshot format ${f} is newer than this venvoy understands`);
            }
            continue;
          }
          const field = META_KEYS.find(([key]) => key === k)?.[1];
          if (!field) continue; // unknown keys from a newer venvoy are kept out, not fatal
          const v = str(item.value, k);
          grammar(item.value, () => {
            checkLine(`${VENVOY_SECTION}.${k}`, v);
            if (field === "baseImage" || field === "baseImagePinned") {
              checkImageRef(v, { what: `${VENVOY_SECTION}.${k}`, sif: true });
            }
            if (field === "pythonVersion" || field === "rVersion") {
              checkRuntimeVersion(`${VENVOY_SECTION}.${k}`, v);
            }
            if (field === "venvoyVersion") checkVenvoyVersion(v);
          });
          if (field === "runtime" && v !== "python" && v !== "r") {
            fail(item.value, `runtime must be python or r, not '${v}'`);
          }
          if (field === "packageManager" && v !== "pip" && v !== "conda") {
            fail(item.value, `package_manager must be pip or conda, not '${v}'`);
          }
          (meta as unknown as Record<string, string>)[field] = v;
        }
        break;
      }
      default:
        break; // prefix:, variables: and other conda keys
    }
  }
  if (!sawDependencies) fail(root, "no 'dependencies:' list");
  return { meta, state: normalizeState(state) };

  function parseDependencies(seq: { items: unknown[] }) {
    for (const item of seq.items) {
      if (isScalar(item)) {
        const spec = String(item.value);
        const pkg = parseCondaSpec(spec);
        if (!pkg) fail(item, `dependency '${spec}' is not 'name=version'`);
        const p = pkg as Pkg;
        grammar(item, () => {
          if (p.name === "python" && p.version) checkRuntimeVersion("python version", p.version);
          else checkCondaPackage(p.name, p.version);
        });
        if (p.name === "python") {
          if (p.version) meta.pythonVersion = p.version;
          continue;
        }
        if (p.name === "pip" && !p.version) continue; // written so conda installs the pip: list
        state.conda.push(p);
      } else if (isMap(item)) {
        for (const pair of item.items) {
          const k = isScalar(pair.key) ? String(pair.key.value) : "";
          if (k !== "pip") fail(pair.key ?? item, `unknown dependency section '${k}:'`);
          const list = pair.value;
          if (list === null || (isScalar(list) && list.value === "")) continue;
          if (!isSeq(list)) fail(list ?? item, "pip: must be a list");
          for (const entry of (list as { items: unknown[] }).items) {
            const spec = str(entry, "a pip entry");
            const pkg = parsePipSpec(spec);
            if (!pkg) fail(entry, `pip entry '${spec}' is not 'name==version'`);
            grammar(entry, () => checkPythonPackage((pkg as Pkg).name, (pkg as Pkg).version));
            state.python.push(pkg as Pkg);
          }
        }
      } else {
        fail(item, "a dependency must be 'name=version' or a 'pip:' list");
      }
    }
  }
}
