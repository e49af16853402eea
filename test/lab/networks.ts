/** Docker networks in the lab tests. */
import { execFileSync } from 'node:child_process';

/** Removes unused networks left on the lab's fixed subnet by earlier runs (any project name). */
export function clearStaleLabNetworks(subnet = '198.18.0.0/24'): void {
  const ids = execFileSync('docker', ['network', 'ls', '-q', '--filter', 'driver=bridge'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  for (const id of ids) {
    const info = JSON.parse(execFileSync('docker', ['network', 'inspect', id], { encoding: 'utf8' }))[0] as { IPAM?: { Config?: Array<{ Subnet?: string }> }; Containers?: object };
    const onLab = (info.IPAM?.Config ?? []).some((c) => c.Subnet === subnet);
    if (onLab && Object.keys(info.Containers ?? {}).length === 0) execFileSync('docker', ['network', 'rm', id], { stdio: 'ignore' });
  }
}
