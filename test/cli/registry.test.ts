import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/main.ts';

describe('command registry', () => {
  it('each entry loads the command it names', async () => {
    for (const e of COMMANDS) {
      const cmd = await e.load();
      expect(cmd.name).toBe(e.name);
    }
  });
});
