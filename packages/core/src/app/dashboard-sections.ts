/**
 * What plugins show on the development dashboard: each plugin may add named sections (the events plugin
 * adds `events`: dead letters, with `replay` and `discard`; the cache plugin adds `cache`). The admin
 * listener serves them at `GET /dashboard/sections/NAME` and `POST /dashboard/sections/NAME/ACTION`.
 */
import { AppDefinitionError } from '../errors.js';

/** A dashboard section of one process. */
export interface DashboardSection {
  /** JSON-safe data of this process for the section. Keep it small: the dashboard reads it every few seconds. */
  read(): Promise<unknown> | unknown;
  /**
   * Operations the dashboard may run, by name: each takes the request's parsed JSON body, must validate
   * it (a coded error for bad input, changing nothing) and resolves to a JSON-safe answer.
   */
  readonly actions?: Readonly<Record<string, (input: unknown) => Promise<unknown>>>;
}

/** The dashboard sections of a process. */
export interface DashboardSections {
  /** Adds a section under `name` (lowercase letters, digits and dashes). Names are unique per process. */
  add(name: string, section: DashboardSection): void;
  /** The section named `name`, if any. */
  get(name: string): DashboardSection | undefined;
  /** The names of the sections, in the order they were added. */
  names(): string[];
}

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** Creates the dashboard sections of a process. */
export function createDashboardSections(): DashboardSections {
  const sections = new Map<string, DashboardSection>();
  return {
    add(name, section) {
      if (!NAME.test(name)) {
        throw new AppDefinitionError(
          `dashboard section name "${name}" is invalid; use lowercase letters, digits and dashes, e.g. "events"`,
        );
      }
      if (sections.has(name)) throw new AppDefinitionError(`two dashboard sections are named "${name}"`);
      sections.set(name, section);
    },
    get: (name) => sections.get(name),
    names: () => [...sections.keys()],
  };
}
