/**
 * The project root, from this module's own location: config/ in the sources (ts-jest,
 * ts-node) or dist/config/ once compiled. Computed, not searched: importing this module
 * does no I/O.
 */
import * as path from 'node:path';

const parent = path.resolve(__dirname, '..');
export const PROJECT_ROOT = path.basename(parent) === 'dist' ? path.dirname(parent) : parent;
export const ENVIRONMENTS_DIR = path.join(PROJECT_ROOT, 'config', 'environments');
export const DEFAULT_BUNDLE_DIR = path.join(PROJECT_ROOT, 'dist', 'host-bundle');
