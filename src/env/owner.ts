/**
 * Whose images are whose. Every image venvoy builds carries `org.venvoy.owner`: a hash of
 * the user's id and the real path of VENVOY_HOME. uninstall and delete remove only images
 * this VENVOY_HOME recorded or labelled, never another user's on a shared Docker daemon,
 * nor those of another VENVOY_HOME of the same user.
 */
import { basename, dirname, join, resolve } from "node:path";
import { sha256Hex } from "../util/hash.ts";
import { OWNER_LABEL } from "../runtime/types.ts";

export { OWNER_LABEL };

/** The real path of `path`, or of its nearest existing ancestor with the rest appended. */
export function realPathLoose(path: string): string {
  const abs = resolve(path);
  try {
    return Deno.realPathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(realPathLoose(parent), basename(abs));
  }
}

/** 24 hex digits of sha256("<uid>\0<realpath of VENVOY_HOME>"). */
export async function ownerKey(
  venvoyHome: string,
  uid: number | null = Deno.uid(),
): Promise<string> {
  const who = uid === null ? (Deno.env.get("USERNAME") ?? "") : String(uid);
  return (await sha256Hex(`${who}\0${realPathLoose(venvoyHome)}`)).slice(0, 24);
}

/** The label set that finds this VENVOY_HOME's images and nothing else. */
export async function ownerLabels(venvoyHome: string): Promise<Record<string, string>> {
  return { "org.venvoy.managed": "true", [OWNER_LABEL]: await ownerKey(venvoyHome) };
}
