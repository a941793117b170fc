#!/usr/bin/env node
// Launcher for the TypeScript CLI (bin/cli.ts), run through tsx, a devDependency of this repository.
import { tsImport } from 'tsx/esm/api';

await tsImport('./cli.ts', import.meta.url);
