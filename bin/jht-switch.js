#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, so the package works from a plain checkout without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
