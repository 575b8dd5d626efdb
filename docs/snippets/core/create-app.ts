import { type AppDefinition, createApp } from '@blueprint/core';

/** Builds the `front` process of a split topology (type-checked only: the topology file is the reader's). */
export async function build(definition: AppDefinition) {
  // #region create
  const app = await createApp(definition, { topology: 'topology/split.json', process: 'front' });
  // #endregion create
  return app;
}
