import { describeEventTransportConformance } from '../../testing/index.js';
import { createMemoryBroker, createMemoryTransport, type MemoryBroker } from './index.js';

const brokers = new Map<string, MemoryBroker>();

describeEventTransportConformance('memory', {
  createTransport(namespace) {
    let broker = brokers.get(namespace);
    if (broker === undefined) {
      broker = createMemoryBroker();
      brokers.set(namespace, broker);
    }
    return createMemoryTransport({}, { broker });
  },
  async cleanup(namespace) {
    brokers.get(namespace)?.close();
    brokers.delete(namespace);
  },
});

describeEventTransportConformance('memory (serialize)', {
  createTransport(namespace) {
    let broker = brokers.get(namespace);
    if (broker === undefined) {
      broker = createMemoryBroker({ serialize: true });
      brokers.set(namespace, broker);
    }
    return createMemoryTransport({}, { broker });
  },
  async cleanup(namespace) {
    brokers.get(namespace)?.close();
    brokers.delete(namespace);
  },
});
