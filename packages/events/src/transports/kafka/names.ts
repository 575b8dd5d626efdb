/**
 * Where the `kafka` transport keeps what: topic names and consumer group ids, all under one prefix.
 * Event names and topic names share one alphabet (letters, digits, `.`, `_`, `-`), so every kind of
 * topic has its own fixed segment after the prefix; group names have no dots, so a retry topic's name
 * reads back unambiguously.
 */

/** Kafka's longest topic name. */
const MAX_TOPIC = 249;

/** The names of one transport's topics and groups. */
export class KafkaNames {
  constructor(readonly prefix: string) {}

  /** The topic of an event: `<prefix>.events.<event>`. */
  events(event: string): string {
    return this.checked(`${this.prefix}.events.${event}`);
  }

  /** A group's retry topic for one event: `<prefix>.retry.<group>.<event>`. */
  retry(group: string, event: string): string {
    return this.checked(`${this.prefix}.retry.${group}.${event}`);
  }

  /** A group's inbox topic (ids it completed, every event): `<prefix>.inbox.<group>`. */
  inbox(group: string): string {
    return this.checked(`${this.prefix}.inbox.${group}`);
  }

  /** The compacted dead-letter topic, keyed by dead-letter id: `<prefix>.dead-letters`. */
  get deadLetters(): string {
    return `${this.prefix}.dead-letters`;
  }

  /** The Kafka consumer group of one group and event: `<prefix>.<group>.<event>`. */
  groupId(group: string, event: string): string {
    return `${this.prefix}.${group}.${event}`;
  }

  /** The group id of a reader that tails a whole topic (no commits), unique per reader. */
  readerId(what: string, unique: string): string {
    return `${this.prefix}.reader.${what}.${unique}`;
  }

  private checked(topic: string): string {
    if (topic.length > MAX_TOPIC) {
      throw new RangeError(
        `Kafka topic name "${topic.slice(0, 60)}..." is ${topic.length} characters, more than Kafka's ${MAX_TOPIC}: use a shorter prefix or event name`,
      );
    }
    return topic;
  }
}

/** The prefix a transport in app `appName` uses by default: `bp.<app name>`, other characters replaced by `_`. */
export function defaultPrefix(appName: string | undefined): string {
  return appName === undefined ? 'bp' : `bp.${appName.replace(/[^A-Za-z0-9._-]/g, '_')}`.slice(0, 100);
}

/** Record headers the transport writes on retry records. */
export const HEADERS = {
  /** Attempts made before this record (a retry record's, or 0 for a replayed dead letter). */
  attempts: 'bp-attempts',
  /** When the retry is due, in epoch ms. */
  due: 'bp-due',
} as const;
