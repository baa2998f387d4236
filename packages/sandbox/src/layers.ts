/**
 * What this machine can enforce, layer by layer, for `faramesh status` and apply: each layer is
 * available or not, with the reason. Nothing is claimed that was not found: the eBPF LSM in
 * particular is reported unavailable unless the kernel lists it among its active LSMs.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { hostArch } from './seccomp/syscalls.js';
import { HELPER_PATH } from './helper.js';

export interface Layer {
  layer: 'namespaces' | 'seccomp' | 'landlock' | 'ebpf-lsm' | 'helper';
  available: boolean;
  detail: string;
}

const executable = (p: string) => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The first executable `name` on PATH. */
export function which(name: string, path = process.env.PATH ?? ''): string | undefined {
  return path
    .split(delimiter)
    .map((dir) => join(dir || '.', name))
    .find(executable);
}

/** `platform`: the host's; a test passes another to check what macOS or Windows would be told. */
export function probeLayers(helper = HELPER_PATH, bwrap = which('bwrap'), platform: NodeJS.Platform = process.platform): Layer[] {
  const layers: Layer[] = [];
  if (platform !== 'linux') {
    for (const layer of ['namespaces', 'seccomp', 'landlock', 'ebpf-lsm'] as const)
      layers.push({ layer, available: false, detail: `not on ${platform}: the OS tier is Linux only` });
    return layers;
  }
  layers.push(
    bwrap && executable(bwrap)
      ? { layer: 'namespaces', available: true, detail: `bubblewrap at ${bwrap}` }
      : { layer: 'namespaces', available: false, detail: `bubblewrap is not installed${bwrap ? ` at ${bwrap}` : ''}` },
  );
  const status = readFileSync('/proc/self/status', 'utf8');
  const arch = hostArch();
  layers.push(
    !/^Seccomp:/m.test(status)
      ? { layer: 'seccomp', available: false, detail: 'the kernel has no seccomp filters (CONFIG_SECCOMP_FILTER)' }
      : !arch
        ? { layer: 'seccomp', available: false, detail: `no syscall table for ${process.arch}` }
        : { layer: 'seccomp', available: true, detail: `BPF filter for ${arch}` },
  );
  if (!existsSync(helper)) {
    layers.push({ layer: 'helper', available: false, detail: `${helper} is not built (run npm run build, with a C compiler)` });
    layers.push({ layer: 'landlock', available: false, detail: 'unknown: the helper that probes it is not built' });
  } else {
    layers.push({ layer: 'helper', available: true, detail: helper });
    const out = spawnSync(helper, ['probe'], { encoding: 'utf8' }).stdout ?? '';
    const m = /^landlock (\d+)(?: (.*))?$/m.exec(out);
    const abi = m ? Number(m[1]) : 0;
    layers.push(
      abi > 0
        ? { layer: 'landlock', available: true, detail: `ABI ${abi}` }
        : { layer: 'landlock', available: false, detail: m?.[2] ?? 'the helper could not probe it' },
    );
  }
  layers.push(ebpfLsm());
  return layers;
}

/** The eBPF LSM is usable only when the kernel runs it (`bpf` in /sys/kernel/security/lsm). */
function ebpfLsm(): Layer {
  let lsms: string;
  try {
    lsms = readFileSync('/sys/kernel/security/lsm', 'utf8').trim();
  } catch (e) {
    return {
      layer: 'ebpf-lsm',
      available: false,
      detail: `cannot read the active LSMs (${(e as NodeJS.ErrnoException).code ?? 'error'}: securityfs not mounted here)`,
    };
  }
  return lsms.split(',').includes('bpf')
    ? { layer: 'ebpf-lsm', available: false, detail: `the kernel runs the bpf LSM (${lsms}), but Faramesh loads no programs into it` }
    : { layer: 'ebpf-lsm', available: false, detail: `the kernel's active LSMs (${lsms}) do not include bpf` };
}
