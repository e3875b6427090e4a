/**
 * The public key that signs venvoy's releases (Ed25519, SubjectPublicKeyInfo PEM). The same
 * literal is in install.sh and install.ps1; tests/unit/release/key_test.ts holds the three
 * equal. The private key is a CI secret (VENVOY_SIGNING_KEY, .github/workflows/release.yml);
 * docs/install.md, "Signing releases", says how the maintainer makes and rotates it.
 *
 * VENVOY_RELEASE_PUBKEY names a PEM file to trust instead. It exists for tests and for sites
 * that re-sign a mirror with their own key, and it weakens the check to "whoever holds that
 * key": venvoy warns each time it is used. A mirror cannot set it; only someone who already
 * controls the user's environment can, and they can replace venvoy itself.
 */
import { UsageError } from "../ui/errors.ts";
import type { EnvLookup } from "../env/paths.ts";

export const RELEASE_PUBLIC_KEY_PEM = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAtMYAqTdWnYHBRMd42Z3mWMpyIOuJ3F94NMMaWQHnEPw=
-----END PUBLIC KEY-----
`;

export const PUBKEY_OVERRIDE_VAR = "VENVOY_RELEASE_PUBKEY";

export interface ReleaseKey {
  pem: string;
  /** "the built-in release key", or the override file's path. */
  source: string;
  builtIn: boolean;
}

/** The key releases must be signed with: the built-in one, or VENVOY_RELEASE_PUBKEY's file. */
export async function releaseKey(env: EnvLookup): Promise<ReleaseKey> {
  const file = env(PUBKEY_OVERRIDE_VAR)?.trim();
  if (!file) {
    return { pem: RELEASE_PUBLIC_KEY_PEM, source: "the built-in release key", builtIn: true };
  }
  try {
    return { pem: await Deno.readTextFile(file), source: file, builtIn: false };
  } catch (e) {
    throw new UsageError(`${PUBKEY_OVERRIDE_VAR} names ${file}, which cannot be read`, {
      hint: `unset ${PUBKEY_OVERRIDE_VAR} to use the built-in release key`,
      cause: e,
    });
  }
}
