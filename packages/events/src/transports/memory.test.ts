import { describeTransportConformance } from '../testing/conformance.js';
import { createMemoryBroker, createMemoryTransport, type MemoryBroker } from './memory.js';

const brokers = new Map<string, MemoryBroker>();

describeTransportConformance('memory', {
  createTransport(namespace) {
    let broker = brokers.get(namespace);
    if (broker === undefined) {
      broker = createMemoryBroker();
      brokers.set(namespace, broker);
    }
    return createMemoryTransport({ broker });
  },
  async cleanup(namespace) {
    brokers.get(namespace)?.close();
    brokers.delete(namespace);
  },
});

describeTransportConformance('memory (serialize)', {
  createTransport(namespace) {
    let broker = brokers.get(namespace);
    if (broker === undefined) {
      broker = createMemoryBroker({ serialize: true });
      brokers.set(namespace, broker);
    }
    return createMemoryTransport({ broker });
  },
  async cleanup(namespace) {
    brokers.get(namespace)?.close();
    brokers.delete(namespace);
  },
});
