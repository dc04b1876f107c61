import {defineConfig} from 'vitest/config'

// Tests start real `claude` processes (~250 MB each) and real git; CI has 2 cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // stops the run when dist/ is older than src/ (the CLI tests run the build)
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
})
