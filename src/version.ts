// Neutrino's version: package.json's, read where the code runs from (src/ under tsx, dist/ built).
import { readFileSync } from 'node:fs';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
