/**
 * The official CycloneDX schema check, by a real validator: PyPI's cyclonedx-python-lib
 * with its json-validation extra, in a virtual environment made for the test run (once per
 * process). When python3, venv or PyPI is missing, `validator()` says why and tests skip.
 */
import { join } from "node:path";
import { DenoRunner } from "../../../src/process/mod.ts";
import { tempDir } from "../../fakes/tmp.ts";

const runner = new DenoRunner();

const CHECK = `
import json, sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
text = open(sys.argv[1]).read()
version = {"1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6}[json.loads(text)["specVersion"]]
error = JsonStrictValidator(version).validate_str(text)
if error is not None:
    print(error)
    sys.exit(1)
print("valid")
`;

export type Validator = (path: string) => Promise<{ ok: boolean; output: string }>;

let made: Promise<Validator | string> | null = null;

async function make(): Promise<Validator | string> {
  const python = runner.which("python3");
  if (!python) return "python3 is not installed";
  const dir = await tempDir("venvoy-cdx-venv-");
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  });
  const venv = await runner.run({ cmd: [python, "-m", "venv", join(dir, "venv")] });
  if (venv.code !== 0) return `python3 -m venv failed: ${venv.stderr.trim().split("\n").at(-1)}`;
  const py = join(dir, "venv", "bin", "python");
  const pip = await runner.run({
    cmd: [py, "-m", "pip", "install", "-q", "cyclonedx-python-lib[json-validation]"],
    timeoutMs: 300_000,
  });
  if (pip.code !== 0) {
    return `cannot install cyclonedx-python-lib from PyPI: ${pip.stderr.trim().split("\n").at(-1)}`;
  }
  const script = join(dir, "check.py");
  await Deno.writeTextFile(script, CHECK);
  return async (path: string) => {
    const res = await runner.run({ cmd: [py, script, path] });
    return { ok: res.code === 0, output: (res.stdout + res.stderr).trim() };
  };
}

/** The validator, or the reason there is none (printed once by the caller). */
export function validator(): Promise<Validator | string> {
  made ??= make();
  return made;
}
