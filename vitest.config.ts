import { defineConfig } from 'vitest/config';

// Two projects (docs/testing.md): `unit` runs in seconds on any laptop (no root, Docker, tshark
// or tcpdump); `system` runs everything real: network namespaces, tcpdump, tshark as the oracle,
// Docker and Compose, Chromium. `npx vitest run --project unit` runs the first alone.
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.system.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'system',
          include: ['test/**/*.system.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
