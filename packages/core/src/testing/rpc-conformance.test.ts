import { createApp } from '../app/create-app.js';
import { conformanceApp, describeRpcConformance } from './index.js';

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

describeRpcConformance('local', localSetup(false), { byReference: true });
describeRpcConformance('local with serialize: true', localSetup(true));
