// Types of app.mjs, for TypeScript code (tests, editors) that imports it.
import type { AppDefinition } from '@blueprint/core';

export declare const app: AppDefinition;
