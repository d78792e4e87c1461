#!/usr/bin/env node
// The CLI is compiled from src/ by `npm ci` (prepare script) into dist/.
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
