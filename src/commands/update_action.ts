/** The work of `venvoy update`, loaded once by its action (src/commands/update.ts). */
import type { CommandContext } from "./context.ts";
import { VenvoyError } from "../ui/errors.ts";
import { info, out, printJson, warn } from "../ui/output.ts";
import { formatBytes } from "../ui/bytes.ts";
import * as r from "../release/mod.ts";
export { makeContext } from "./context.ts";

export interface UpdateDeps {
  /** This venvoy's version. */
  current: string;
  /** The executable to replace; null when running from source. Default: selfPath(). */
  self?: string | null;
  /** The release target to download. Default: this machine's. */
  target?: string;
}

/** The --json shape (snake_case, like every --json; docs/json.md). */
export interface UpdateJson {
  current: string;
  latest: string;
  release_url: string;
  update_available: boolean;
  updated: boolean;
  /** The executable replaced, when updated. */
  path: string | null;
}

export interface UpdateOptions {
  check?: boolean;
  json?: boolean;
  releaseUrl?: string;
  insecureHttp?: boolean;
}

export async function update(
  ctx: CommandContext,
  opts: UpdateOptions,
  deps: UpdateDeps,
): Promise<void> {
  const env = (n: string) => ctx.runner.env(n);
  const base = r.releaseBase(env, { url: opts.releaseUrl, insecureHttp: opts.insecureHttp });
  if (/^http:/i.test(base)) {
    warn(
      `${base} is plain http: anyone on the network sees what is fetched and can hold ` +
        "back updates (the signature still guards the binary)",
    );
  }
  const key = await r.releaseKey(env);
  if (!key.builtIn) {
    warn(
      `trusting the release key in ${key.source} (${r.PUBKEY_OVERRIDE_VAR}) instead of ` +
        "the built-in one: whoever holds its private key can ship this venvoy a binary",
    );
  }
  const current = r.mustParseVersion(deps.current, "this venvoy's version");
  const release = await r.openRelease(base, key);
  const latest = release.version;
  const order = r.compareVersions(latest, current);
  const result = (updated: boolean, path: string | null): UpdateJson => ({
    current: current.text,
    latest: latest.text,
    release_url: base,
    update_available: order > 0,
    updated,
    path,
  });
  if (order <= 0) {
    if (opts.json) return printJson(result(false, null));
    const note = order < 0 ? ` (the release at ${base} is older: ${latest.text})` : "";
    out(`venvoy ${current.text} is up to date${note}`);
    return;
  }
  if (opts.check) {
    if (opts.json) return printJson(result(false, null));
    out(`venvoy ${latest.text} is available (this is ${current.text}); run 'venvoy update'`);
    return;
  }

  const self = deps.self === undefined ? r.selfPath() : deps.self;
  if (!self) {
    throw new VenvoyError("this venvoy runs from its source tree, which has no binary to update", {
      hint: "update the checkout with git, or install a release with install.sh",
    });
  }
  const asset = r.assetName(r.hostTarget(deps.target));
  info(`Downloading ${asset} ${latest.text} from ${base}`);
  const bytes = await r.downloadAsset(release, asset);
  info(`Signature and checksum verified (${formatBytes(bytes.length)}); checking that it runs`);
  const path = await r.replaceExecutable(self, bytes, {
    runner: ctx.runner,
    expectVersion: latest.text,
  });
  if (opts.json) return printJson(result(true, path));
  out(`Updated venvoy ${current.text} -> ${latest.text} (${path})`);
}
