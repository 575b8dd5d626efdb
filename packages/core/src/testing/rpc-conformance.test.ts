import { createApp } from '../create-app.js';
import { conformanceApp, rpcConformanceSuite } from './index.js';

function localSetup(serialize: boolean) {
  return async () => {
    const app = await createApp(conformanceApp, {
      topology: {
        app: './conformance.js',
        rpc: { type: 'local', serialize },
        processes: { main: { services: ['conformance'] } },
      },
    });
    await app.start();
    return { client: app.client, close: app.stop };
  };
}

rpcConformanceSuite('local', localSetup(false), { byReference: true });
rpcConformanceSuite('local with serialize: true', localSetup(true));
