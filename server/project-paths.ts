/**
 * Where Crest's files are, the same whether the TypeScript sources run (tests, `tsx`) or the compiled
 * tree in dist/ does (`npm run build`, then `crest start`): dist/ mirrors the source layout one level
 * down (server/x.ts → dist/server/x.js), so everything that finds a file relative to its own module asks
 * here instead of counting `..`s.
 */
import { fileURLToPath } from 'node:url';

/** True in the compiled tree (dist/…/*.js), false when the .ts sources run under a TypeScript loader. */
export const COMPILED = import.meta.url.endsWith('.js');

/** The project folder (package.json, .crest-data, dist/). */
export const PROJECT_ROOT = fileURLToPath(new URL(COMPILED ? '../../' : '../', import.meta.url));

/** The built client (client/build.mjs writes it; npm run build runs that). */
export const CLIENT_DIR = fileURLToPath(new URL(COMPILED ? '../client/' : '../dist/client/', import.meta.url));
