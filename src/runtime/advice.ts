/** How to get a container runtime, per platform; the current platform comes first. */

export interface Advice {
  platform: string;
  steps: string[];
}

export const INSTALL_ADVICE: Record<string, Advice> = {
  debian: {
    platform: "Debian/Ubuntu",
    steps: [
      "sudo apt-get install -y podman        # rootless, no daemon",
      "  or: sudo apt-get install -y docker.io && sudo usermod -aG docker $USER",
    ],
  },
  fedora: {
    platform: "Fedora/RHEL/Rocky",
    steps: [
      "sudo dnf install -y podman",
      "  or for clusters: sudo dnf install -y apptainer (EPEL)",
    ],
  },
  macos: {
    platform: "macOS",
    steps: [
      "brew install podman && podman machine init && podman machine start",
      "  or install Docker Desktop: https://docs.docker.com/desktop/install/mac-install/",
    ],
  },
  windows: {
    platform: "Windows/WSL",
    steps: [
      "install Docker Desktop with the WSL 2 backend, and enable integration for your distro",
      "  or inside WSL: sudo apt-get install -y podman",
    ],
  },
  hpc: {
    platform: "HPC cluster",
    steps: [
      "module avail apptainer   # or: module avail singularity",
      "module load apptainer    # then run venvoy again; ask your admins if none is listed",
    ],
  },
};

/** Which advice entry fits this machine best. */
export function currentPlatformKey(os: string, osRelease = "", hpc = false): string {
  if (hpc) return "hpc";
  if (os === "darwin") return "macos";
  if (os === "windows") return "windows";
  if (/microsoft|wsl/i.test(osRelease)) return "windows";
  if (/fedora|rhel|centos|rocky|alma/i.test(osRelease)) return "fedora";
  return "debian";
}

export function orderedAdvice(first: string): Advice[] {
  const keys = Object.keys(INSTALL_ADVICE);
  return [first, ...keys.filter((k) => k !== first)].map((k) => INSTALL_ADVICE[k]);
}

export function adviceText(first: string): string {
  return orderedAdvice(first)
    .map((a) => `  ${a.platform}:\n${a.steps.map((s) => `    ${s}`).join("\n")}`)
    .join("\n");
}
