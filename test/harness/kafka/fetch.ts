/**
 * Fetches the Kafka broker's jars into the harness cache (and records its CDS archive) unless they are
 * there already: `node --import tsx test/harness/kafka/fetch.ts`. CI runs it before `npm test`, so no
 * test pays for the download; it prints where the jars are.
 */
import { ensureKafkaLibs, KAFKA_VERSION } from '../kafka.js';

const libs = await ensureKafkaLibs();
const archive = libs.archive === undefined ? 'no CDS archive' : `CDS archive ${libs.archive}`;
console.log(`Kafka ${KAFKA_VERSION} broker jars in ${libs.dir} (${archive})`);
